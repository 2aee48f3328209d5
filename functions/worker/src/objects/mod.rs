//! The two Durable Objects and how the worker talks to them.
//!
//! The worker calls an object with an internal request on a fixed path
//! (`/ingest`, `/messages`, …). Identity travels in `x-sb-*` headers that
//! only the worker sets: every client header of that name is dropped on the
//! way in, and objects are not reachable from outside.

pub mod conversation;
pub mod internal;
pub mod reports;
pub mod schema;
pub mod sockets;
pub mod sql;
pub mod workspace;

use crate::http::{ApiError, ApiResult};
use internal::{read_rpc_answer, IngestResult};
use switchboard_core::ids::conversation_object_name;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

pub const HEADER_WORKSPACE: &str = "x-sb-workspace";
pub const HEADER_AGENT: &str = "x-sb-agent";
/// Set (to the conversation id) when a visitor, not an agent, is calling.
pub const HEADER_VISITOR: &str = "x-sb-visitor";

pub fn conversation_stub(env: &Env, workspace_id: &str, conversation_id: &str) -> ApiResult<Stub> {
    let ns = env.durable_object("CONVERSATIONS").map_err(|e| {
        ApiError::internal("binding CONVERSATIONS is missing (check wrangler.toml)", e)
    })?;
    Ok(ns.get_by_name(&conversation_object_name(workspace_id, conversation_id))?)
}

pub fn workspace_stub(env: &Env, workspace_id: &str) -> ApiResult<Stub> {
    let ns = env.durable_object("WORKSPACES").map_err(|e| {
        ApiError::internal("binding WORKSPACES is missing (check wrangler.toml)", e)
    })?;
    Ok(ns.get_by_name(workspace_id)?)
}

/// An internal request to an object: `path` (with its query), a JSON body
/// for POSTs, and the identity headers.
pub fn internal_request(
    method: Method,
    path_and_query: &str,
    body: Option<String>,
    identity: &[(&str, &str)],
) -> ApiResult<Request> {
    let headers = Headers::new();
    for (k, v) in identity {
        headers.set(k, v)?;
    }
    if body.is_some() {
        headers.set("content-type", "application/json")?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(body.map(Into::into));
    Ok(Request::new_with_init(
        &format!("https://object{path_and_query}"),
        &init,
    )?)
}

/// Forwards a client's request (a WebSocket upgrade) to an object, keeping
/// its headers but replacing any `x-sb-*` with the worker's own.
pub fn forward_request(
    req: &Request,
    path_and_query: &str,
    identity: &[(&str, &str)],
) -> ApiResult<Request> {
    let headers = Headers::new();
    for (k, v) in req.headers().entries() {
        if !k.starts_with("x-sb-") {
            headers.set(&k, &v)?;
        }
    }
    for (k, v) in identity {
        headers.set(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(headers);
    Ok(Request::new_with_init(
        &format!("https://object{path_and_query}"),
        &init,
    )?)
}

/// A lean object call, for an object of the version before RPC (`/ingest`,
/// `/index`): `POST path` with `body` as text and no headers, straight
/// through the runtime's `Request` and the stub's `fetch` (no
/// `worker::Request`/`worker::Response` around them, which read the
/// method, URL, headers and cf of each back across the boundary). The
/// answer is the runtime's `Response`: read its status and headers; its
/// body only if the route has one.
async fn fetch_lean(
    object: &worker::worker_sys::DurableObject,
    path: &str,
    body: &str,
) -> ApiResult<web_sys::Response> {
    use wasm_bindgen::{JsCast, JsValue};
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let req = web_sys::Request::new_with_str_and_init(&format!("https://object{path}"), &init)
        .map_err(|e| ApiError::internal("building an object call", format!("{e:?}")))?;
    let promise = object
        .fetch_with_request(&req)
        .map_err(|e| ApiError::internal("calling a Durable Object", format!("{e:?}")))?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| ApiError::internal("calling a Durable Object", format!("{e:?}")))?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| ApiError::internal("calling a Durable Object", "not a Response"))
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A conversation object's stub seen through JS RPC: the methods of
    /// `ConversationObject` in `functions/worker/shim.mjs`.
    #[wasm_bindgen(extends = js_sys::Object)]
    type ConversationRpc;

    /// `ingest(body)`: resolves to `IngestResult::to_rpc_answer`'s string.
    #[wasm_bindgen(method, catch)]
    fn ingest(
        this: &ConversationRpc,
        body: &str,
    ) -> std::result::Result<js_sys::Promise, wasm_bindgen::JsValue>;

    /// A workspace object's stub seen through JS RPC: the methods of
    /// `WorkspaceObject` in `functions/worker/shim.mjs`.
    #[wasm_bindgen(extends = js_sys::Object)]
    type WorkspaceRpc;

    /// `index(body)`: resolves to `WorkspaceObject::index_rpc`'s string.
    #[wasm_bindgen(method, catch)]
    fn index(
        this: &WorkspaceRpc,
        body: &str,
    ) -> std::result::Result<js_sys::Promise, wasm_bindgen::JsValue>;
}

/// Awaits an RPC call's answer string; `Ok(None)` when workerd refused the
/// call because the object runs the version before RPC (see [`refuses_rpc`]).
async fn await_rpc(
    called: std::result::Result<js_sys::Promise, wasm_bindgen::JsValue>,
    what: &'static str,
) -> ApiResult<Option<String>> {
    let answer = match called {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(answer) => match answer.as_string() {
            Some(text) => Ok(Some(text)),
            None => Err(ApiError::internal(
                what,
                format!("not an answer: {answer:?}"),
            )),
        },
        Err(e) if refuses_rpc(&e) => Ok(None),
        Err(e) => Err(ApiError::internal(what, format!("{e:?}"))),
    }
}

/// The hot path's ingest: `body` (an `IngestRequest` as JSON) to the
/// conversation object's JS RPC method `ingest` (no `Request`, no
/// `Response`, no routing). `Err`: the call failed; `Ok(Err)`: the object
/// refused (its status and reason).
///
/// During a deploy this worker can reach an object still running the
/// version before RPC, which workerd refuses to call ("does not support
/// RPC"); that one gets the same body through its fetch route `POST
/// /ingest`. Sending it again is safe: an ingest stores each event once
/// (by its platform id or client id), and the refused call stored nothing.
pub async fn ingest(
    stub: Stub,
    body: &str,
) -> ApiResult<std::result::Result<IngestResult, ApiError>> {
    use wasm_bindgen::JsCast;
    let object: ConversationRpc = stub.into_rpc();
    let what = "calling a conversation object's ingest";
    let Some(answer) = await_rpc(object.ingest(body), what).await? else {
        return ingest_by_fetch(object.unchecked_ref(), body).await;
    };
    IngestResult::from_rpc_answer(&answer).ok_or_else(|| {
        ApiError::internal(
            "reading a conversation object's ingest answer",
            format!("not an answer: {answer:?}"),
        )
    })
}

/// A conversation's index update (`body`, an `IndexUpdate` as JSON) to its
/// workspace object's JS RPC method `index`; an object of the version
/// before RPC (during a deploy) gets it through `POST /index`. Sending it
/// again is safe: a repeated update changes nothing. `Err` when the call
/// failed or the object refused; the alarm tries again.
pub async fn index(stub: Stub, body: &str) -> ApiResult<()> {
    use wasm_bindgen::JsCast;
    let object: WorkspaceRpc = stub.into_rpc();
    let what = "calling the workspace index";
    let Some(answer) = await_rpc(object.index(body), what).await? else {
        let resp = fetch_lean(object.unchecked_ref(), "/index", body).await?;
        return match resp.status() {
            200 => Ok(()),
            status => Err(ApiError::new(
                status,
                "the workspace index refused the update",
            )),
        };
    };
    match read_rpc_answer(&answer) {
        Some(Ok(_)) => Ok(()),
        Some(Err(refused)) => Err(refused),
        None => Err(ApiError::internal(
            "reading the workspace index's answer",
            format!("not an answer: {answer:?}"),
        )),
    }
}

/// workerd's refusal of an RPC call to an object whose class has no such
/// method: one not declared `extends DurableObject` (the version before
/// `shim.mjs`), or one without `ingest`.
fn refuses_rpc(error: &wasm_bindgen::JsValue) -> bool {
    use wasm_bindgen::JsCast;
    error.dyn_ref::<js_sys::Error>().is_some_and(|e| {
        let message = String::from(e.message());
        message.contains("does not support RPC")
            || message.contains("does not implement the method")
    })
}

/// `POST /ingest` on an object of the version before RPC: the counts in
/// its answer's [`IngestResult::HEADER`]; a refusal's `{"error"}` reason.
async fn ingest_by_fetch(
    object: &worker::worker_sys::DurableObject,
    body: &str,
) -> ApiResult<std::result::Result<IngestResult, ApiError>> {
    let resp = fetch_lean(object, "/ingest", body).await?;
    let status = resp.status();
    if status == 200 {
        let counts = resp.headers().get(IngestResult::HEADER).ok().flatten();
        return counts
            .as_deref()
            .and_then(IngestResult::from_header)
            .map(Ok)
            .ok_or_else(|| {
                ApiError::internal("reading an ingest answer", "no counts in its header")
            });
    }
    let text = match resp.text() {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string()),
        Err(_) => None,
    };
    let reason = text
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(String::from))
        .unwrap_or_else(|| format!("the object answered {status}"));
    Ok(Err(ApiError::new(status, reason)))
}

/// Calls an object and hands back its answer as is.
pub async fn call(stub: &Stub, req: Request) -> ApiResult<Response> {
    stub.fetch_with_request(req)
        .await
        .map_err(|e| ApiError::internal("calling a Durable Object", e))
}
