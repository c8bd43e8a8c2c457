//! One test binary for the whole API, driven over HTTP against a real PostgreSQL.

mod helpers;

mod cli;
mod errors;
mod jwt;
mod login;
mod me;
mod migrations;
mod openapi;
mod operations;
