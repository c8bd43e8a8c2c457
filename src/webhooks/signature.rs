//! Standard Webhooks 1.0 signatures: `v1,` and the base64 of HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64-decoded secret (its `whsec_`
//! prefix removed). While a rotated-out secret still signs, the header carries both signatures,
//! separated by one space; a receiver accepts the message when any of them verifies.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a signing secret as shown to its owner.
pub const PREFIX: &str = "whsec_";

/// A stored secret that is not `whsec_` + base64 (never written by dockgate; a hand-edited row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the endpoint's signing secret is not base64")]
pub struct BadSecret;

/// The HMAC key of `secret`: the base64 after `whsec_` (the prefix is optional, as in the
/// reference implementations).
pub fn key(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret.strip_prefix(PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).map_err(|_| BadSecret)
}

/// The signature of one message with one secret: `v1,<base64>`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Result<String, BadSecret> {
    let key = key(secret)?;
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: the current secret's signature, then the previous secret's
/// while it is still live.
pub fn header(
    secret: &str,
    previous: Option<&str>,
    msg_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, BadSecret> {
    let mut value = sign(secret, msg_id, timestamp, body)?;
    if let Some(previous) = previous {
        value.push(' ');
        value.push_str(&sign(previous, msg_id, timestamp, body)?);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector published with the specification (and tested by the Svix libraries).
    #[test]
    fn the_published_test_vector_is_reproduced() {
        assert_eq!(
            sign(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned())
        );
    }

    /// The vector of the reference Rust library (standard-webhooks, libraries/rust).
    #[test]
    fn the_reference_library_vector_is_reproduced() {
        assert_eq!(
            sign(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1_649_367_553,
                r#"{"email":"test@example.com","username":"test_user"}"#
            ),
            Ok("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=".to_owned())
        );
    }

    #[test]
    fn two_live_secrets_give_two_space_separated_signatures_current_first() {
        let (current, old) =
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
        let both = header(current, Some(old), "msg_1", 1, "{}").unwrap();
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts, [sign(current, "msg_1", 1, "{}").unwrap(), sign(old, "msg_1", 1, "{}").unwrap()]);
        assert_eq!(header(current, None, "msg_1", 1, "{}").unwrap(), parts[0]);
    }

    #[test]
    fn the_prefix_is_optional_and_a_secret_must_be_base64() {
        assert_eq!(key("whsec_AAEC"), Ok(vec![0, 1, 2]));
        assert_eq!(key("AAEC"), Ok(vec![0, 1, 2]));
        assert_eq!(key("whsec_not base64!"), Err(BadSecret));
    }
}
