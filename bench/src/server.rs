//! Starting a worker server (Switchboard or the floor) on 127.0.0.1, in its
//! own process group, and reading that group's CPU time and memory from
//! /proc. Every server is killed by its process group on drop, on panic, and
//! on Ctrl-C.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};
use switchboard_tests::server::{
    free_port, repo_root, serve, wrangler, TempDir, TEST_SECRETS_KEY, TEST_SESSION_SECRET,
};

/// Process groups to kill if the bench is interrupted.
static GROUPS: [AtomicI32; 4] = [
    AtomicI32::new(0),
    AtomicI32::new(0),
    AtomicI32::new(0),
    AtomicI32::new(0),
];

fn kill_registered() {
    for g in &GROUPS {
        let pgid = g.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: kill(2) is async-signal-safe; a negative pid names the group.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

extern "C" fn on_signal(_sig: libc::c_int) {
    kill_registered();
    // SAFETY: _exit(2) is async-signal-safe.
    unsafe { libc::_exit(130) }
}

/// Exits with `code` after killing every server still running:
/// `std::process::exit` skips the `Drop` that would, and a failed check
/// must not leave workerd processes behind.
pub fn exit(code: i32) -> ! {
    kill_registered();
    std::process::exit(code)
}

/// Ctrl-C or SIGTERM kills every server this bench started.
pub fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installing a handler that only calls async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

fn register(pgid: i32) {
    for g in &GROUPS {
        if g.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

fn unregister(pgid: i32) {
    for g in &GROUPS {
        let _ = g.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// A running worker server and its workerd.
pub struct Proc {
    pub base: String,
    pub port: u16,
    pub pgid: i32,
    /// From spawning the process to the first 200 on /healthz.
    pub cold_start: Duration,
    child: Option<Child>,
    state: TempDir,
    /// How it was started, to start it again on the same state and port.
    name: &'static str,
    config: PathBuf,
    extra: Vec<String>,
}

/// The worker's built shim; the bench never builds the worker itself unless asked.
pub fn switchboard_built() -> bool {
    repo_root()
        .join("functions/worker/build/worker/shim.mjs")
        .exists()
}

pub fn floor_dir() -> PathBuf {
    repo_root().join("bench/floor")
}

impl Proc {
    /// Switchboard from the repository root, with a fresh state folder and
    /// its D1 migrations applied.
    pub fn switchboard() -> Proc {
        let root = repo_root();
        let state = TempDir::new("bench-switchboard");
        let out = wrangler()
            .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
            .arg(state.path())
            .stdin(Stdio::null())
            .output()
            .expect("running wrangler d1 migrations apply (run scripts/setup.sh or npm ci)");
        assert!(
            out.status.success(),
            "applying D1 migrations failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let var = format!("SESSION_SECRET:{TEST_SESSION_SECRET}");
        let key = format!("SECRETS_KEY:{TEST_SECRETS_KEY}");
        Proc::spawn(
            "switchboard",
            &root.join("wrangler.toml"),
            state,
            // DEBUG_COUNTERS: `/healthz` reports the wasm memory (soak).
            &["--var", &var, "--var", &key, "--var", "DEBUG_COUNTERS:1"],
        )
    }

    /// The JavaScript floor from `bench/floor`, with its own state folder.
    pub fn floor() -> Proc {
        Proc::spawn(
            "floor",
            &floor_dir().join("wrangler.toml"),
            TempDir::new("bench-floor"),
            &[],
        )
    }

    /// Both sides run under the same server (`scripts/serve.mjs`: wrangler's
    /// dev server with the devtools inspector off, which would otherwise
    /// trace every subrequest and bill it to the side that makes them).
    fn spawn(name: &'static str, config: &Path, state: TempDir, extra: &[&str]) -> Proc {
        Proc::spawn_on(name, config, state, extra, free_port())
    }

    /// SIGKILL to the whole group (no shutdown, no flushing), then the same
    /// server again on the same state folder and port.
    pub fn kill_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(self.pgid);
            let _ = child.wait();
            unregister(self.pgid);
        }
        std::thread::sleep(Duration::from_millis(300));
        let state = std::mem::replace(&mut self.state, TempDir::new("bench-moved"));
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let fresh = Proc::spawn_on(self.name, &self.config.clone(), state, &extra, self.port);
        *self = fresh;
    }

    fn spawn_on(
        name: &'static str,
        config: &Path,
        state: TempDir,
        extra: &[&str],
        port: u16,
    ) -> Proc {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(state.path().join("wrangler.log"))
            .expect("creating the server log");
        let mut cmd = serve(config, port, state.path());
        cmd.args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0);
        let started = Instant::now();
        let mut child = cmd.spawn().expect("starting node scripts/serve.mjs");
        let pgid = child.id() as i32;
        register(pgid);
        let base = format!("http://127.0.0.1:{port}");
        let url = format!("{base}/healthz");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(2))
            .build();
        let deadline = started + Duration::from_secs(90);
        loop {
            if let Ok(r) = agent.get(&url).call() {
                if r.status() == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log =
                    std::fs::read_to_string(state.path().join("wrangler.log")).unwrap_or_default();
                unregister(pgid);
                panic!("{name}: the worker server exited with {status}; log:\n{log}");
            }
            if Instant::now() > deadline {
                kill_group(pgid);
                unregister(pgid);
                panic!("{name}: no answer on {url} within 90 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Proc {
            base,
            port,
            pgid,
            cold_start: started.elapsed(),
            child: Some(child),
            state,
            name,
            config: config.to_path_buf(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// utime + stime of every process in the group, in seconds.
    pub fn cpu_secs(&self) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        group_processes(self.pgid)
            .iter()
            .map(|p| (p.utime + p.stime) as f64 / tck)
            .sum()
    }

    /// utime + stime of the group's workerd processes only, in seconds
    /// (the rest is wrangler's node process, the local dev proxy).
    pub fn workerd_cpu_secs(&self) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        group_processes(self.pgid)
            .iter()
            .filter(|p| p.comm.contains("workerd"))
            .map(|p| (p.utime + p.stime) as f64 / tck)
            .sum()
    }

    /// Resident memory of the group's workerd processes, in MiB.
    pub fn workerd_rss_mib(&self) -> f64 {
        self.workerd_processes().iter().map(|p| p.rss).sum()
    }

    /// Each workerd process of the server. `wrangler dev` runs two: the
    /// runtime, which holds one SQLite file per Durable Object it has in
    /// memory (plus a few of its own), and its local proxy, which holds none.
    pub fn workerd_processes(&self) -> Vec<Workerd> {
        group_processes(self.pgid)
            .iter()
            .filter(|p| p.comm.contains("workerd"))
            .map(|p| Workerd::read(p.pid))
            .collect()
    }
}

/// One workerd process's resident memory (MiB) and the SQLite files it
/// holds open.
#[derive(Clone, Copy, Default, Debug)]
pub struct Workerd {
    pub pid: i32,
    pub rss: f64,
    /// Private memory: the heap, tcmalloc's pages, V8's. What a leak grows.
    pub anon: f64,
    /// Pages of mapped files (SQLite maps its databases' WAL index, and
    /// the binary itself), which the kernel reclaims under pressure.
    pub file: f64,
    pub sqlite_files: usize,
}

impl Workerd {
    fn read(pid: i32) -> Workerd {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let mib = |key: &str| status_kib(&status, key) as f64 / 1024.0;
        Workerd {
            pid,
            rss: mib("VmRSS:"),
            anon: mib("RssAnon:"),
            file: mib("RssFile:") + mib("RssShmem:"),
            sqlite_files: open_sqlite_files(pid),
        }
    }
}

/// What workerd's allocator (Google's tcmalloc, linked in) says of its
/// heap, in MiB: its stats page, read with gdb, which calls tcmalloc's
/// `MallocExtension` in the stopped process (about 3 s, so only at idle
/// points).
#[derive(Clone, Copy, Debug)]
pub struct Allocator {
    /// Bytes the program holds: what a leak grows.
    pub in_use: f64,
    /// Freed memory tcmalloc keeps for reuse, still resident (its page
    /// heap and its caches): workerd never runs tcmalloc's background
    /// release, so what is freed stays in RSS until something reuses it.
    pub free: f64,
    /// tcmalloc's own bookkeeping.
    pub metadata: f64,
}

/// [`Allocator`] of the process `pid`; when `release`, every free page is
/// handed to the kernel first (so RSS then shows what is kept). `None`
/// when gdb cannot call into the process; why is said once on stderr, so
/// a table without the tcmalloc figures is never a silent gap.
pub fn allocator(pid: i32, release: bool) -> Option<Allocator> {
    static TOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let read = read_allocator(pid, release);
    if let Err(why) = &read {
        if !TOLD.swap(true, std::sync::atomic::Ordering::Relaxed) {
            eprintln!("  tcmalloc figures left out: {why}");
        }
    }
    read.ok()
}

fn read_allocator(pid: i32, release: bool) -> Result<Allocator, String> {
    let dir = std::env::temp_dir();
    let stats = dir.join(format!("switchboard-bench-tcmalloc-{pid}.txt"));
    let script = dir.join(format!("switchboard-bench-tcmalloc-{pid}.gdb"));
    // GetStats fills a std::string (libc++: a zeroed one is empty; when
    // long, its size is at +8 and its data pointer at +16).
    let text = format!(
        "set pagination off\n{}set $s = (char*)calloc(1, 64)\n\
         call (void)MallocExtension_Internal_GetStats($s)\n\
         set $fd = (int)open(\"{}\", 577, 420)\n\
         call (long)write($fd, *(char**)($s+16), *(unsigned long*)($s+8))\n\
         call (int)close($fd)\ndetach\n",
        if release {
            "call (void)MallocExtension_Internal_ReleaseMemoryToSystem(~0UL)\n"
        } else {
            ""
        },
        stats.display()
    );
    std::fs::write(&script, text).map_err(|e| format!("writing {}: {e}", script.display()))?;
    let ran = Command::new("gdb")
        .args(["-p", &pid.to_string(), "-batch", "-x"])
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let _ = std::fs::remove_file(&script);
    let page = std::fs::read_to_string(&stats);
    let _ = std::fs::remove_file(&stats);
    let ran = ran.map_err(|e| {
        format!("gdb did not start ({e}); install it (Debian: apt-get install gdb)")
    })?;
    let page = page.map_err(|_| {
        // gdb's own complaint, e.g. a kernel that refuses the register
        // writes a call into the process needs.
        let err = String::from_utf8_lossy(&ran.stderr);
        let why = err
            .lines()
            .rfind(|l| l.contains("rror") || l.contains("ouldn't"))
            .unwrap_or("no stats page written");
        format!(
            "gdb could not call tcmalloc in workerd {pid}: {}",
            why.trim()
        )
    })?;
    // "MALLOC: +      3784704 (    3.6 MiB) Bytes in page heap freelist"
    let bytes = |label: &str| -> f64 {
        page.lines()
            .filter(|l| l.starts_with("MALLOC:") && l.contains(label))
            .filter_map(|l| {
                l.trim_start_matches("MALLOC:")
                    .trim_start_matches([' ', '+', '='])
                    .split_whitespace()
                    .next()?
                    .parse::<f64>()
                    .ok()
            })
            .sum::<f64>()
            / 1_048_576.0
    };
    let in_use = bytes("Bytes in use by application");
    if in_use <= 0.0 {
        return Err(format!(
            "workerd {pid}'s tcmalloc stats page has no in-use line"
        ));
    }
    Ok(Allocator {
        in_use,
        free: bytes("freelist"),
        metadata: bytes("Bytes in malloc metadata"),
    })
}

/// Of [`Proc::workerd_processes`], the runtime: the process holding the
/// most SQLite files (at idle it still holds a few of its own, the proxy
/// none); on a tie, the larger.
pub fn runtime_of(processes: &[Workerd]) -> Option<Workerd> {
    processes.iter().copied().max_by(|a, b| {
        a.sqlite_files
            .cmp(&b.sqlite_files)
            .then(a.rss.total_cmp(&b.rss))
    })
}

fn open_sqlite_files(pid: i32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|target| target.extension().is_some_and(|e| e == "sqlite"))
        .count()
}

fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(self.pgid);
            let _ = child.wait();
            unregister(self.pgid);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

struct ProcStat {
    pid: i32,
    comm: String,
    utime: u64,
    stime: u64,
}

fn group_processes(pgid: i32) -> Vec<ProcStat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ... utime(14) stime(15)
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat.get(open + 1..close).unwrap_or_default().to_string();
        let rest: Vec<&str> = stat
            .get(close + 1..)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let field = |i: usize| rest.get(i).and_then(|s| s.parse::<u64>().ok());
        if field(2) != Some(pgid as u64) {
            continue;
        }
        out.push(ProcStat {
            pid,
            comm,
            utime: field(11).unwrap_or(0),
            stime: field(12).unwrap_or(0),
        });
    }
    out
}

/// A `kB` field of `/proc/{pid}/status`, 0 when absent.
fn status_kib(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
