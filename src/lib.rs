//! dockgate: the customer-access service of a dispatch platform.
//!
//! Customers, their users, groups and permissions, and the JWTs the rest of the platform trusts.
//! The binary (`src/main.rs`) is a thin command line over [`cli`].
//!
//! The modules are floors; a module imports only from its own floor or the ones below (see
//! ARCHITECTURE.md; `tests/api/floors.rs` keeps it so).

// 6  command line
pub mod cli;

// 5  http: every route, the OpenAPI document, the server
pub mod cors;
pub mod routes;
pub mod startup;

// 4  resources
pub mod api_clients;
pub mod audit_events;
pub mod authz;
pub mod cost_centers;
pub mod customers;
pub mod groups;
pub mod health;
pub mod invitations;
pub mod me;
pub mod oauth;
pub mod permission_catalog;
pub mod scim;
pub mod sessions;
pub mod signin;
pub mod staff;
pub mod users;
pub mod warehouse_addresses;
pub mod webhook_endpoints;

// 3  identity and state
pub mod idempotency;
pub mod identity;
pub mod state;
pub mod write;

// 2  domain
pub mod accounts;
pub mod audit;
pub mod mail;
pub mod permissions;
pub mod policy;
pub mod webhooks;

// 1  foundation
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod etag;
pub mod extract;
pub mod openapi;
pub mod origin;
pub mod pagination;
pub mod response_headers;
pub mod secrets;
pub mod telemetry;
pub mod validation;

pub use config::Config;
pub use error::AppError;
pub use startup::Application;
