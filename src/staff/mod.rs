//! The operator's staff: platform admins and dispatchers (contract section 9). Platform admins
//! only. Staff are rows of the shared `users` table (see [`crate::accounts`]).

pub mod credentials;
pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;
