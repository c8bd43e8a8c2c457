//! Sign-in hardening (issue 16): multi-factor sign-in, sessions people can see and end and
//! accounts valid until a date, and support access (impersonation, temporary passwords, the
//! access review).

mod mfa;
mod mfa_admin;
mod sessions;
mod support;
mod valid_until;
