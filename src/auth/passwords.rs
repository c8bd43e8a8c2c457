//! Passwords: the policy of contract section 3 and Argon2id hashing.
//!
//! Hashing and verifying cost tens of milliseconds of CPU and 19 MiB of memory: request handlers
//! go through the bounded pool of [`super::hasher`] instead; these synchronous functions are for
//! the CLI (`create-admin`) and tests.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::error::FieldError;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect()
});

/// A hash of a random password, verified against when the account does not exist (or has no
/// password) so that every failed sign-in costs the same time.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).ok()?;
    hash(&base64_url(&random)).ok()
});

/// Checks a new password against the policy; `field` names it in the error.
pub fn check_policy(password: &str, email: Option<&str>, field: &str) -> Result<(), FieldError> {
    let length = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&length) {
        return Err(FieldError::new(field, "length", format!("must be {MIN_LEN} to {MAX_LEN} characters")));
    }
    if email.is_some_and(|email| email.trim().eq_ignore_ascii_case(password.trim())) {
        return Err(FieldError::new(field, "equals_email", "must not be the e-mail address"));
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(FieldError::new(field, "common_password", "is too common; choose another"));
    }
    Ok(())
}

/// Argon2id with the crate's defaults (m=19 MiB, t=2, p=1, the OWASP baseline) and a fresh salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Argon2::default().hash_password(password.as_bytes()).map(|hash| hash.to_string())
}

/// Verifies `password` against `stored`, or against the dummy hash when there is none; returns
/// true only for a real match. The work done is the same either way.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let target = stored.or(DUMMY_HASH.as_deref());
    let Some(Ok(parsed)) = target.map(PasswordHash::new) else { return false };
    let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    matches && stored.is_some()
}

/// Loads the common-password list ahead of the first password change. (The hashing pool makes
/// its own dummy hash when it starts.)
pub fn warm_up() {
    LazyLock::force(&COMMON);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_long_common_and_email() {
        assert_eq!(check_policy("short", None, "password").map_err(|e| e.code), Err("length".into()));
        assert_eq!(
            check_policy(&"x".repeat(129), None, "password").map_err(|e| e.code),
            Err("length".into())
        );
        assert_eq!(
            check_policy("Password1234", None, "password").map_err(|e| e.code),
            Err("common_password".into())
        );
        assert_eq!(
            check_policy("Ann@Example.com", Some("ann@example.com"), "password").map_err(|e| e.code),
            Err("equals_email".into())
        );
        assert!(check_policy("correct horse battery staple", Some("ann@example.com"), "password").is_ok());
    }

    #[test]
    fn the_common_list_is_loaded() {
        assert!(COMMON.len() >= 10_000);
    }

    /// Unknown accounts are verified against the dummy hash: same algorithm and parameters as a
    /// real hash, so the same work (timing belongs in benchmarks, not in tests).
    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let real = hash("correct horse battery staple").unwrap_or_else(|e| panic!("{e}"));
        let dummy = DUMMY_HASH.as_deref().unwrap_or_else(|| panic!("no dummy hash"));
        let (real, dummy) = (
            PasswordHash::new(&real).unwrap_or_else(|e| panic!("{e}")),
            PasswordHash::new(dummy).unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(real.algorithm, dummy.algorithm);
        assert_eq!(real.version, dummy.version);
        assert_eq!(real.params, dummy.params);
    }

    #[test]
    fn hashes_verify_and_the_dummy_never_matches() {
        let stored = hash("correct horse battery staple").unwrap_or_else(|e| panic!("{e}"));
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(Some(&stored), "correct horse battery staple"));
        assert!(!verify(Some(&stored), "wrong horse battery staple"));
        assert!(!verify(None, "correct horse battery staple"));
    }
}
