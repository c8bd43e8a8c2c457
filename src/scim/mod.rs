//! SCIM 2.0 (RFC 7643/7644) for identity providers such as Entra ID and Okta.
//!
//! The first four modules are the pure core: no I/O, no database, no HTTP. They say what
//! dockgate publishes and stores (`schema`), how a client's body becomes that stored form
//! (`schema::sanitize`), what a list filter means (`filter`) and how a PATCH changes a stored
//! representation (`patch`). Everything a client sends passes through them first, so they are
//! lenient where real clients deviate from the RFC and strict where a wrong value would be stored.

pub mod errors;
pub mod filter;
pub mod patch;
pub mod schema;

// The service: who may call (`auth`, `limits`), SCIM's error shape (`response`), the storage
// of Users and Groups (`users`, `groups`), listing (`query`), and the handlers.
pub mod auth;
pub mod discovery;
pub mod docs;
pub mod group_handlers;
pub mod groups;
pub mod limits;
pub mod query;
pub mod request;
pub mod response;
pub mod user_handlers;
pub mod users;

#[cfg(test)]
mod tests;
