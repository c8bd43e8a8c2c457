//! Who is calling: the [`crate::accounts::Actor`] extractor, access tokens and their signing
//! keys, sessions and refresh tokens, passwords and their bounded hashing pool, and the
//! sign-in limits. Resources build on it; it knows no route.

pub mod actor;
pub mod challenges;
pub mod clients;
pub mod expiry;
pub mod hasher;
pub mod keys;
pub mod mfa;
pub mod passwords;
pub mod rate_limit;
pub mod sessions;
pub mod steps;
pub mod tokens;
