//! Switchboard's pure core.
//!
//! Everything here runs natively and in wasm, and knows nothing of Workers:
//! the message model, the verifiers that turn raw webhook bytes into a
//! [`verify::Verified`] body, one module per channel that normalizes a verified
//! body into [`inbound::InboundEvent`]s and builds outbound requests, session
//! tokens, and the wire protocol every client speaks.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod attachments;
pub mod channels;
pub mod ids;
pub mod inbound;
pub mod model;
pub mod outbound;
pub mod report;
pub mod sealing;
pub mod search;
pub mod ticket;
pub mod token;
pub mod transcript;
pub mod translation;
pub mod verify;
pub mod wire;
