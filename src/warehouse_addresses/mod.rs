//! A customer's warehouse addresses (contract section 5) and the default-address rules: the
//! first address is the default, exactly one is the default while there are any (a partial
//! unique index enforces it), switching is atomic, and deleting the default promotes another.
//! Every change to a customer's addresses locks the customer row first, so concurrent switches
//! queue up instead of racing.

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;
