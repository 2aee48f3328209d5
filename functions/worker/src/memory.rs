//! The isolate's wasm memory, reported by `/healthz` under `DEBUG_COUNTERS`
//! (the soak bench samples it beside workerd's RSS). The linear memory only
//! grows: it is the high-water mark of everything Rust ever held at once.
//! The live heap is what Rust holds now. A live heap that comes back down
//! after a load, under a linear memory that stops growing from one round
//! to the next, is memory reused, not leaked; what RSS holds beyond the
//! linear memory is V8's heap, SQLite's caches and workerd itself.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator (dlmalloc on wasm32), counting the bytes it has
/// handed out and not had back: one add or subtract per call. In the
/// CPU profile it has no samples of its own (it is inlined), and all of
/// dlmalloc's `malloc` and `free` are 1.7% of busy time
/// (`docs/BENCHMARKS.md`, "Entry, headers and the index's statements").
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to `System` with the caller's arguments as they
// are; the counter does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes Rust holds now.
pub fn live_heap_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// How many JS values Rust holds through wasm-bindgen's table: a
/// `JsValue` that is never dropped keeps its object alive in V8's heap,
/// which neither of the figures above would show.
pub fn js_refs_live() -> u32 {
    #[cfg(target_arch = "wasm32")]
    {
        wasm_bindgen::externref_heap_live_count()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// The size of the wasm linear memory, in bytes.
pub fn linear_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}
