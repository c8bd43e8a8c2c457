//! `GET /v1/audit-events`: reading the audit log within the caller's scope and groups (the log
//! itself is written by [`crate::audit`]).

pub mod dto;
pub mod handlers;
pub mod queries;
