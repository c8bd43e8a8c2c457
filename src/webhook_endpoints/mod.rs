//! Webhook endpoints: where a customer's lifecycle events (or, for the platform's endpoints at
//! `/v1/webhooks`, every customer's) are POSTed, their signing secret, their delivery log with
//! retry and test, and the event catalog (`/v1/webhook-event-types`). What is sent, and how it is
//! delivered, is [`crate::webhooks`].

pub mod customer;
pub mod docs;
pub mod dto;
pub mod handlers;
pub mod models;
pub mod platform;
pub mod queries;
pub mod rules;
