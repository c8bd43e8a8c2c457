//! Random single-use secrets (refresh tokens, link tokens) and the hashes stored for them: 256
//! random bits behind a prefix that makes a leaked one recognizable to secret scanners; only the
//! SHA-256 hash is ever stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A random token and the hash stored for it.
pub fn new_secret(prefix: &str) -> Result<(String, Vec<u8>), diesel::result::Error> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random)
        .map_err(|e| diesel::result::Error::QueryBuilderError(format!("no randomness: {e}").into()))?;
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random));
    let hash = hash_secret(&token);
    Ok((token, hash))
}

pub fn hash_secret(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
