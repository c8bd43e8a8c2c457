//! Customers: the operator's customer accounts (contract section 4).

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;
