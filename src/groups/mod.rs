//! Groups (contract sections 2 and 9): sub-accounts of one customer that segregate its data. A
//! person in groups X and Y sees only data tagged X or Y (and untagged data); **a person in no
//! group sees all of its customer's data**. Memberships are set through the users' `group_ids`;
//! who sees what is decided in [`crate::policy`] from the caller's groups.

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;
