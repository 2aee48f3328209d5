//! Every channel through the running worker: inbound kinds, receipts,
//! routing and outbound, with the fake platform checking each request.

mod api;
mod instagram;
mod messenger;
mod telegram;
mod whatsapp;
