//! SCIM 2.0 (RFC 7643/7644) for identity providers such as Entra ID and Okta.
//!
//! The first four modules are the pure core: no I/O, no database, no HTTP. They say what
//! dockgate publishes and stores (`schema`), how a client's body becomes that stored form
//! (`schema::sanitize`), what a list filter means (`filter`) and how a PATCH changes a stored
//! representation (`patch`). Everything a client sends passes through them first, so they are
//! lenient where real clients deviate from the RFC and strict where a wrong value would be stored.
//!
//! Decisions a reader would otherwise have to reconstruct:
//! - Unknown attributes, unknown schema URNs and server-owned keys (`schemas`, `id`, `meta`) are
//!   ignored in bodies and in PATCH, read-only ones (`groups`, a manager's `displayName`) and the
//!   write-only `password` too: a `mutability` error for them would break Okta, which sends a
//!   group's `id` in a path-less replace and a password on create. Syntactically invalid PATCH
//!   paths are `invalidPath`.
//! - Filters: `eq ne co sw ew pr`, `and or not`, parentheses, on the attributes of
//!   [`filter::UserAttr`] and [`filter::GroupAttr`]; `gt ge lt le`, other attributes and other
//!   value filters are `invalidFilter` rather than a silently wrong answer. Entra ID's
//!   `emails[type eq "work"].value eq "x"` (outside RFC 7644's grammar) is read as
//!   `emails[type eq "work" and value eq "x"]`.
//! - PATCH value filters: `eq` on `type`, `value` or `primary`, joined by `and`. A filter that
//!   matches nothing: `remove` does nothing, `add`/`replace` create the element the filter
//!   describes (Entra ID adds a work e-mail with `emails[type eq "work"].value`).

pub mod errors;
pub mod filter;
pub mod patch;
pub mod schema;

// The service: who may call (`auth`, `limits`), SCIM's error shape (`response`), the storage
// of Users and Groups (`users`, `groups`) and the one shape they are answered in (`resource`),
// listing (`query`), the one flow of their handlers (`flow`), and the handlers.
pub mod auth;
pub mod discovery;
pub mod docs;
pub mod flow;
pub mod group_handlers;
pub mod groups;
pub mod limits;
pub mod query;
pub mod request;
pub mod resource;
pub mod response;
pub mod user_handlers;
pub mod users;

#[cfg(test)]
mod tests;
