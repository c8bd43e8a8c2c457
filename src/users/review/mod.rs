//! The access review of a customer (`GET /v1/customers/{customer_id}/access-review`): every
//! person and API client with what it may do and see, with flags for what a reviewer should
//! look at, as JSON or CSV; and `.../access-review/reviewed`, which records who reviewed when.

pub mod dto;
pub mod handlers;
pub mod queries;
