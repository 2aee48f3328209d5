//! The few things the runtime gives us: the clock and randomness.

use wasm_bindgen::JsCast;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// The runtime's WebCrypto object.
pub fn crypto() -> Option<web_sys::Crypto> {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"crypto".into())
        .ok()
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok())
}

/// `N` bytes from the runtime's CSPRNG.
pub fn random_bytes<const N: usize>() -> worker::Result<[u8; N]> {
    let mut buf = [0u8; N];
    let crypto =
        crypto().ok_or_else(|| worker::Error::RustError("no crypto in this runtime".into()))?;
    crypto
        .get_random_values_with_u8_array(&mut buf)
        .map_err(|_| worker::Error::RustError("crypto.getRandomValues failed".into()))?;
    Ok(buf)
}

/// A new random id with `prefix` (`ws_`, `ag_`, `in_`…).
pub fn new_id(prefix: &str) -> worker::Result<String> {
    Ok(switchboard_core::ids::from_random(
        prefix,
        &random_bytes::<16>()?,
    ))
}
