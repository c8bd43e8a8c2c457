//! The token endpoint's request, answer and errors, in RFC 6749's shapes.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::identity::tokens::TokenType;

crate::text_enum! {
    /// The only grant the endpoint takes.
    pub enum GrantType {
        ClientCredentials = "client_credentials",
    }
}

/// The form (`application/x-www-form-urlencoded`) of a token request. Authenticate the client
/// either with HTTP Basic (`client_id` and `client_secret`, each form-urlencoded, joined by
/// `:`, base64: RFC 6749 section 2.3.1) or with the two form fields, never both.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "grant_type": "client_credentials", "scope": "users.manage",
    "client_id": "dgc_Yk3n0Qw8Rr2mZt1VbQ9x", "client_secret": "dgcs_3q2-7wE0m2x9Q4b8Yz6T1k5JvN0pL7cR4sU8aHdFgWo"
}))]
pub struct TokenRequest {
    pub grant_type: GrantType,
    /// Space-separated permissions, a subset of the client's scopes; omitted: all of them.
    #[schema(nullable = false, pattern = r"^[a-z_.]+( [a-z_.]+)*$")]
    pub scope: Option<String>,
    /// When not authenticating with HTTP Basic.
    #[schema(nullable = false, pattern = r"^dgc_[A-Za-z0-9_-]+$")]
    pub client_id: Option<String>,
    /// When not authenticating with HTTP Basic.
    #[schema(nullable = false, pattern = r"^dgcs_[A-Za-z0-9_-]+$")]
    pub client_secret: Option<String>,
}

/// An access token for an API client; there is no refresh token: ask again.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFZERTQSIsImtpZCI6Ik56Ykxz...",
    "token_type": "Bearer", "expires_in": 900, "scope": "users.manage"
}))]
pub struct ClientTokenResponse {
    /// An EdDSA-signed JWT with `typ: at+jwt` (RFC 9068); send it as `Authorization: Bearer`.
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

crate::text_enum! {
    /// The error codes of RFC 6749 section 5.2, and the two of section 4.1.2.1 for a server
    /// that cannot answer now.
    pub enum OAuthErrorCode {
        /// Malformed: not a form, a parameter missing or repeated, both ways of client
        /// authentication at once.
        InvalidRequest = "invalid_request",
        /// Unknown client, wrong secret, revoked client, or no client authentication (401).
        InvalidClient = "invalid_client",
        /// A grant type other than `client_credentials`.
        UnsupportedGrantType = "unsupported_grant_type",
        /// A scope the client does not have, or not a permission at all.
        InvalidScope = "invalid_scope",
        /// The client may not get tokens now: its customer is suspended.
        UnauthorizedClient = "unauthorized_client",
        /// Too many failed attempts (429 with `Retry-After`), or the database is unreachable
        /// (503).
        TemporarilyUnavailable = "temporarily_unavailable",
        /// Something went wrong on dockgate's side.
        ServerError = "server_error",
    }
}

/// An error of the token endpoint (RFC 6749 section 5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "Client authentication failed."}))]
pub struct OAuthError {
    pub error: OAuthErrorCode,
    /// For the developer, not for end users.
    pub error_description: String,
    #[serde(skip)]
    pub status: u16,
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl OAuthError {
    pub fn new(error: OAuthErrorCode, description: impl Into<String>) -> Self {
        let status = match error {
            OAuthErrorCode::InvalidClient => 401,
            OAuthErrorCode::TemporarilyUnavailable => 503,
            OAuthErrorCode::ServerError => 500,
            _ => 400,
        };
        Self { error, error_description: description.into(), status, retry_after_secs: None }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    /// The one answer to every failed client authentication.
    pub fn invalid_client() -> Self {
        Self::new(OAuthErrorCode::InvalidClient, "Client authentication failed.")
    }

    pub fn too_many(retry_after_secs: u64) -> Self {
        Self {
            status: 429,
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(OAuthErrorCode::TemporarilyUnavailable, "Too many failed attempts; retry later.")
        }
    }
}

/// Every answer of the endpoint carries these (RFC 6749 section 5.1).
pub fn no_store(response: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"))
}

impl From<OAuthError> for HttpResponse {
    fn from(error: OAuthError) -> Self {
        let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = HttpResponse::build(status);
        no_store(&mut response);
        if error.error == OAuthErrorCode::InvalidClient {
            response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="dockgate""#));
        }
        if let Some(seconds) = error.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        let mut response = response.json(error);
        response.extensions_mut().insert(crate::error::OwnErrorFormat);
        response
    }
}

impl From<crate::error::AppError> for OAuthError {
    fn from(error: crate::error::AppError) -> Self {
        use crate::error::AppError;
        match error {
            AppError::RateLimited { retry_after_secs } => Self::too_many(retry_after_secs),
            AppError::Unavailable(cause) => {
                tracing::warn!(%cause, "token endpoint: database unavailable");
                Self::new(OAuthErrorCode::TemporarilyUnavailable, "The service is unavailable; retry later.")
            }
            other => {
                tracing::error!(error = %other, "token endpoint failed");
                Self::new(OAuthErrorCode::ServerError, "Something went wrong on our side.")
            }
        }
    }
}
