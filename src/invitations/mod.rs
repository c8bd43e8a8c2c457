//! Invitations (contract section 7): a customer's owner, admins or the operator's staff invite
//! people by e-mail. Each invitation creates the person as an `invited` user and mails a
//! single-use link valid 7 days; following it (`POST /v1/invitations/accept`) makes the user
//! `active` with the name and password it chose. `expired` is never stored: a pending
//! invitation whose `expires_at` has passed (on [`crate::clock::Clock`]) is expired.

pub mod dto;
pub mod handlers;
pub mod invite;
pub mod models;
pub mod public;
pub mod queries;

/// How long an invitation link works.
pub const VALIDITY: chrono::Duration = chrono::Duration::days(7);

/// Prefix that makes a leaked invitation token recognizable to secret scanners.
pub const TOKEN_PREFIX: &str = "dgi_";
