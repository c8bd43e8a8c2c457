//! Groups (contract sections 2 and 9): sub-accounts of one customer that segregate its data. A
//! person in groups X and Y sees only data tagged X or Y (and untagged data). Whether someone
//! sees all of its customer's data is its explicit data scope (`all`, in no group), never the
//! absence of groups: a `groups` person in no group sees untagged data only. Memberships are set
//! through the users' `group_ids` ([`crate::users::rules::set_access`] and
//! [`crate::users::rules::join_groups`]); who sees what is decided in [`crate::policy`].

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;
pub mod rules;
