//! `/v1/me`: the signed-in person reads and edits itself and changes its password.

pub mod dto;
pub mod handlers;
pub mod mfa;
pub mod models;
pub mod queries;
