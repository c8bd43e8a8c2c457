//! The people who work for a customer (contract section 6): with or without a portal login,
//! their roles and permissions, their lifecycle (deactivate, reactivate, delete), passwords set
//! by an admin or chosen through an e-mailed link, and ownership. Rows of the shared `users`
//! table (see [`crate::accounts`]); who may do what is decided in [`crate::policy`], every other
//! rule about people in [`rules`].

pub mod access;
pub mod dto;
pub mod handlers;
pub mod impersonate;
pub mod import;
pub mod lifecycle;
pub mod mfa;
pub mod models;
pub mod queries;
pub mod review;
pub mod rules;
pub mod upsert;
pub mod views;
