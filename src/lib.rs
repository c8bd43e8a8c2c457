//! dockgate: the customer-access service of a dispatch platform.
//!
//! Customers, their users, groups and permissions, and the JWTs the rest of the platform trusts.
//! The binary (`src/main.rs`) is a thin command line over [`cli`].

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod cli;
pub mod clock;
pub mod config;
pub mod cost_centers;
pub mod customers;
pub mod db;
pub mod error;
pub mod etag;
pub mod extract;
pub mod groups;
pub mod health;
pub mod invitations;
pub mod mail;
pub mod me;
pub mod openapi;
pub mod pagination;
pub mod permissions;
pub mod policy;
pub mod response_headers;
pub mod staff;
pub mod startup;
pub mod telemetry;
pub mod users;
pub mod validation;
pub mod warehouse_addresses;

pub use config::Config;
pub use error::AppError;
pub use startup::Application;
