//! Cost centers: a customer's cost centers, each with a code unique within the customer
//! (contract section 5).

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;
