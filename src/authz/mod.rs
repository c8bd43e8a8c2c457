//! `POST /v1/authz/check`: the policy, asked by other services.

pub mod handlers;
pub mod queries;
