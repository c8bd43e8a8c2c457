//! The people who sign in — staff and customer users share one table, so an e-mail address is
//! unique across both kinds and sessions, rate limits and tokens have one kind of subject. The
//! resources that manage them (`staff`, customer `users`) build on these rows and queries.

pub mod actor;
pub mod mails;
pub mod models;
pub mod password_tokens;
pub mod queries;

pub use actor::{Actor, Amr, ClientCaller, CustomerLabel, Principal};
pub use models::{AccountStatus, CustomerGate, CustomerStatus, NewAccount, UserRow};
