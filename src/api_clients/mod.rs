//! API clients: machine credentials of a customer (`/v1/customers/{customer_id}/api-clients`)
//! or of the platform (`/v1/api-clients`), their secret rotation and their long-lived tokens.
//! How a client authenticates is [`crate::identity::clients`] and [`crate::oauth`].

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;
pub mod rules;
