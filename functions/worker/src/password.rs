//! Password hashing with PBKDF2-SHA256 through the runtime's WebCrypto,
//! which is native: 100,000 iterations (the runtime's ceiling) cost a few
//! milliseconds instead of most of the CPU limit in pure-Rust wasm.

use crate::runtime::crypto;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::{Error, Result};

pub const ITERATIONS: u32 = 100_000;

fn js_err(what: &str) -> impl Fn(JsValue) -> Error + '_ {
    move |e| Error::RustError(format!("WebCrypto {what} failed: {e:?}"))
}

/// PBKDF2-SHA256(password, salt, iterations) → 32 bytes.
pub async fn derive(password: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>> {
    let subtle = crypto()
        .ok_or_else(|| Error::RustError("no WebCrypto in this runtime".into()))?
        .subtle();
    let key_data = Uint8Array::from(password.as_bytes());
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let key = JsFuture::from(
        subtle
            .import_key_with_str("raw", &key_data, "PBKDF2", false, &usages)
            .map_err(js_err("importKey"))?,
    )
    .await
    .map_err(js_err("importKey"))?;
    let params = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&params, &JsValue::from_str(k), v);
    set("name", &"PBKDF2".into()).map_err(js_err("params"))?;
    set("hash", &"SHA-256".into()).map_err(js_err("params"))?;
    set("salt", &Uint8Array::from(salt).into()).map_err(js_err("params"))?;
    set("iterations", &JsValue::from(iterations)).map_err(js_err("params"))?;
    let key: web_sys::CryptoKey = wasm_bindgen::JsCast::unchecked_into(key);
    let bits = JsFuture::from(
        subtle
            .derive_bits_with_object(&params, &key, 256)
            .map_err(js_err("deriveBits"))?,
    )
    .await
    .map_err(js_err("deriveBits"))?;
    Ok(Uint8Array::new(&bits).to_vec())
}

/// Checks `password` against a stored hash in constant time.
pub async fn matches(
    password: &str,
    salt: &[u8],
    iterations: u32,
    expected: &[u8],
) -> Result<bool> {
    let got = derive(password, salt, iterations).await?;
    Ok(switchboard_core::verify::constant_time_eq(&got, expected))
}
