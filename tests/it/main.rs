//! Integration tests: each starts the real worker on local workerd with a
//! fresh state folder (see `switchboard_tests::Server`) and drives it over
//! HTTP and WebSocket, as a platform, an agent and a stranger would.

mod accounts;
mod attachments;
mod backup;
mod canned;
mod channels;
mod client_id;
mod common;
mod export;
mod health;
mod inbox_setup;
mod labels;
mod methods;
mod outbound;
mod realtime;
mod refusals;
mod reports;
mod restart;
mod secrets;
mod settings;
mod slice;
mod tenancy;
mod tickets;
mod tools;
mod translation;
mod upgrade;
mod webhooks;
mod widget;
mod widget_settings;
mod widget_visitors;
