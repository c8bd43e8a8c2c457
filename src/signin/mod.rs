//! Signing in and out (`/v1/auth/*`): sign-in, refresh, sign-out and the public keys; password
//! recovery; self sign-up. The machinery they use — sessions, tokens, keys, passwords, limits —
//! is [`crate::identity`].

pub mod dto;
pub mod handlers;
pub mod mfa;
pub mod password_change;
pub mod recovery;
pub mod signup;
