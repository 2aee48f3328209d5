//! The integration-test harness: starts the real worker on local workerd
//! (`wrangler dev`) with a fresh state folder, and gives tests an HTTP
//! client, a WebSocket client, platform signers and a fake platform server.
//!
//! Every server is stopped by its process group when its [`Server`] is
//! dropped, which also happens when a test fails (panics unwind).

pub mod api;
pub mod fake_platform;
pub mod fake_translate;
pub mod server;
pub mod sign;
pub mod ws;

pub use api::Api;
pub use fake_platform::{multipart_parts, FakePlatform, FormPart, Recorded};
pub use fake_translate::FakeTranslate;
pub use server::{Server, ServerOptions};
pub use ws::Live;
