//! One test binary for the whole API, driven over HTTP against a real PostgreSQL.

// Tests may panic on the unexpected: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod api_clients;
mod audit;
mod browser;
mod cli;
mod cors;
mod cost_centers;
mod customers;
mod data_scope;
mod distribution;
mod errors;
mod failover;
mod floors;
mod group_limits;
mod group_matrix;
mod groups;
mod hardening;
mod hashing;
mod house_b1;
mod house_b2;
mod house_b3;
mod idempotency;
mod import;
mod invitations;
mod jwt;
mod login;
mod mail;
mod me;
mod migrations;
mod openapi;
mod operations;
mod outage;
mod recovery;
mod scim;
mod scim_idp;
mod serving;
mod signup;
mod staff;
mod statements;
mod tenant_isolation;
mod upsert;
mod users;
mod warehouse_addresses;
mod webhooks;
