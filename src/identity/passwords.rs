//! Passwords: the policy of contract section 3 (with zxcvbn's strength estimate) and Argon2id
//! hashing.
//!
//! Hashing and verifying cost tens of milliseconds of CPU and 19 MiB of memory: request handlers
//! go through the bounded pool of [`super::hasher`] instead; these synchronous functions are for
//! the CLI (`create-admin`) and tests.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::error::{FieldCode, FieldError};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect()
});

/// Words of dockgate's context, tried first by the estimator: `data/context-words.txt`.
static CONTEXT_WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/context-words.txt")
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
        return Err(FieldError::new(
            field,
            FieldCode::Length,
            format!("must be {MIN_LEN} to {MAX_LEN} characters"),
        ));
    }
    if email.is_some_and(|email| email.trim().eq_ignore_ascii_case(password.trim())) {
        return Err(FieldError::new(field, FieldCode::EqualsEmail, "must not be the e-mail address"));
    }
    if password.trim().is_empty() {
        return Err(FieldError::new(field, FieldCode::Blank, "must not be only spaces"));
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(FieldError::new(field, FieldCode::CommonPassword, "is too common; choose another"));
    }
    if too_easy_to_guess(password, email) {
        return Err(FieldError::new(
            field,
            FieldCode::TooWeak,
            "is too easy to guess (a repeated character, a sequence, a keyboard row, a common word with \
             small changes); a few unrelated words make a good passphrase",
        ));
    }
    Ok(())
}

/// The lowest zxcvbn score accepted: 3, "safely unguessable" (about 10^8 guesses or more), which
/// every passphrase of a few unrelated words reaches and `aaaaaaaaaaaa`, `123456789012` or
/// `qwertyuiopas` do not.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// How much of a password the estimator reads: its cost grows fast with length (about 0.7 ms
/// for 32 characters in a release build, 20 ms for 128), and a password whose first 32
/// characters are strong is strong.
const ESTIMATED_PREFIX: usize = 32;

/// zxcvbn's estimate (dictionaries, repeats, sequences, keyboard patterns, dates, l33t), with
/// the context words, the e-mail address and its local part as words an attacker would try
/// first.
fn too_easy_to_guess(password: &str, email: Option<&str>) -> bool {
    let prefix: String = password.chars().take(ESTIMATED_PREFIX).collect();
    let mut inputs: Vec<&str> = CONTEXT_WORDS.clone();
    if let Some(email) = email {
        inputs.push(email);
        inputs.extend(email.split('@').next());
    }
    zxcvbn::zxcvbn(&prefix, &inputs).score() < MIN_SCORE
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
    LazyLock::force(&CONTEXT_WORDS);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_words_make_a_password_easy_to_guess() {
        // Strong enough when "dockgate" is just letters, too weak once it is a known word.
        let candidate = "Dockgate2026!";
        assert!(zxcvbn::zxcvbn(candidate, &[]).score() >= MIN_SCORE, "strong without the list");
        assert!(too_easy_to_guess(candidate, None));
        assert!(!too_easy_to_guess("correct horse battery staple", None));
    }

    #[test]
    fn policy_rejects_short_long_common_and_email() {
        assert_eq!(check_policy("short", None, "password").map_err(|e| e.code), Err(FieldCode::Length));
        assert_eq!(
            check_policy(&"x".repeat(129), None, "password").map_err(|e| e.code),
            Err(FieldCode::Length)
        );
        assert_eq!(
            check_policy("Password1234", None, "password").map_err(|e| e.code),
            Err(FieldCode::CommonPassword)
        );
        assert_eq!(
            check_policy("Ann@Example.com", Some("ann@example.com"), "password").map_err(|e| e.code),
            Err(FieldCode::EqualsEmail)
        );
        assert!(check_policy("correct horse battery staple", Some("ann@example.com"), "password").is_ok());
    }

    #[test]
    fn trivial_twelve_character_passwords_are_refused() {
        assert_eq!(
            check_policy(&" ".repeat(12), None, "password").map_err(|e| e.code),
            Err(FieldCode::Blank)
        );
        for trivial in ["aaaaaaaaaaaa", "123456789012", "abcdefghijkl", "qwertyuiopas", "abababababab"] {
            assert_eq!(
                check_policy(trivial, None, "password").map_err(|e| e.code),
                Err(FieldCode::TooWeak),
                "{trivial}"
            );
        }
        assert_eq!(
            check_policy("annberg@example.com1", Some("annberg@example.com"), "password").map_err(|e| e.code),
            Err(FieldCode::TooWeak),
            "the address is the first thing an attacker tries"
        );
        assert!(check_policy("annberg@example.com1", None, "password").is_ok(), "strong without it");
        for strong in ["a long admin passphrase", "piet picks a long passphrase", "victim passphrase 1"] {
            assert!(check_policy(strong, None, "password").is_ok(), "{strong}");
        }
    }

    #[test]
    fn the_common_list_is_loaded() {
        assert!(COMMON.len() >= 10_000);
    }

    /// Unknown accounts are verified against the dummy hash: same algorithm and parameters as a
    /// real hash, so the same work (timing belongs in benchmarks, not in tests).
    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let real = hash("correct horse battery staple").unwrap();
        let dummy = DUMMY_HASH.as_deref().expect("no dummy hash");
        let (real, dummy) = (PasswordHash::new(&real).unwrap(), PasswordHash::new(dummy).unwrap());
        assert_eq!(real.algorithm, dummy.algorithm);
        assert_eq!(real.version, dummy.version);
        assert_eq!(real.params, dummy.params);
    }

    #[test]
    fn hashes_verify_and_the_dummy_never_matches() {
        let stored = hash("correct horse battery staple").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(Some(&stored), "correct horse battery staple"));
        assert!(!verify(Some(&stored), "wrong horse battery staple"));
        assert!(!verify(None, "correct horse battery staple"));
    }
}
