//! ETags for single resources and the `If-Match` precondition on PATCH and DELETE.
//!
//! A resource's ETag is derived from its `updated_at` (microseconds), which every change moves.
//! The handler reads `If-Match` with [`IfMatch`]; the query compares it inside the transaction
//! that changes the row (after `SELECT ... FOR UPDATE`), so no concurrent change slips between
//! the check and the write.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use std::future::{Ready, ready};

use crate::error::AppError;

/// The strong ETag of a resource last changed at `updated_at`, quoted as in the header.
pub fn of(updated_at: DateTime<Utc>) -> String {
    format!("\"{:x}\"", updated_at.timestamp_micros())
}

/// The strong ETag of a view: a hash of exactly what the client reads, so it changes with every
/// field shown (also derived ones, such as a default address that moved) and with nothing else.
pub fn of_view<T: serde::Serialize>(view: &T) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(view).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The `If-Match` header of a request: absent, `*`, or a list of entity tags.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    /// No `If-Match`: for removals that take none (revoking a token, which has no ETag).
    pub fn none() -> Self {
        Self(None)
    }

    /// Fails with 412 unless the header is absent, `*`, or names `current` (strong comparison:
    /// weak tags never match).
    /// Whether the request carried an `If-Match` at all.
    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }

    pub fn check(&self, current: &str) -> Result<(), AppError> {
        match &self.0 {
            None => Ok(()),
            Some(tags) if tags.iter().any(|tag| tag == "*" || tag == current) => Ok(()),
            Some(_) => Err(AppError::PreconditionFailed),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let values: Vec<String> = req
            .headers()
            .get_all(header::IF_MATCH)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|tag| tag.trim().to_owned())
            .filter(|tag| !tag.is_empty())
            .collect();
        let well_formed = |tag: &String| {
            let opaque = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*" || (opaque.len() >= 2 && opaque.starts_with('"') && opaque.ends_with('"'))
        };
        if req.headers().contains_key(header::IF_MATCH)
            && (values.is_empty() || !values.iter().all(well_formed))
        {
            return ready(Err(AppError::BadRequest("If-Match must be `*` or a list of entity tags.".into())));
        }
        ready(Ok(IfMatch((!values.is_empty()).then_some(values))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_strongly() {
        let current = "\"5f\"";
        assert!(IfMatch(None).check(current).is_ok());
        assert!(IfMatch(Some(vec!["*".into()])).check(current).is_ok());
        assert!(IfMatch(Some(vec!["\"1\"".into(), current.into()])).check(current).is_ok());
        assert!(IfMatch(Some(vec!["W/\"5f\"".into()])).check(current).is_err());
        assert!(IfMatch(Some(vec![])).check(current).is_err());
    }
}

/// The `If-Match` request header as documented on every PATCH and DELETE.
#[derive(utoipa::IntoParams)]
#[into_params(names("If-Match"), parameter_in = Header)]
pub struct IfMatchHeader(
    /// The ETag you read (or `*`); the change is refused with 412 if the resource changed since.
    #[param(nullable = false, pattern = r#"^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$"#)]
    pub Option<String>,
);
