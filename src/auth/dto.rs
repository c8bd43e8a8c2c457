//! Request and response bodies of the sign-in endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"email": "dispatch@example.com", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 320, message = "must be 1 to 320 characters"))]
    #[schema(min_length = 1, max_length = 320)]
    pub email: String,
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"refresh_token": "dgr_q0H4Jx7pW0bq3vXJ2l2x3mC9o1nYyU0Q2xY6t8e0aZs"}))]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

/// A token pair. Store the refresh token like a password; it is shown once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6Ik56Ykxz...",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "dgr_q0H4Jx7pW0bq3vXJ2l2x3mC9o1nYyU0Q2xY6t8e0aZs"
}))]
pub struct TokenResponse {
    /// An EdDSA-signed JWT; send it as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: exchange it at `/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"email": "jana.berg@acme.example"}))]
pub struct ForgotPassword {
    /// The login's e-mail address. Any value gets the same 202.
    #[validate(length(min = 1, max = 320, message = "must be 1 to 320 characters"))]
    #[schema(min_length = 1, max_length = 320)]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[schema(example = json!({"token": "dgp_3J0x8K2mVnq4T1pW9bC6eYr5uZa7sLd0fGh2jKl4mNo", "password": "a brand new passphrase"}))]
pub struct ResetPassword {
    /// The `token` of the e-mailed link (`{PORTAL_URL}/password-reset?token=...`).
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// 12 to 128 characters, not the e-mail address, not a common password.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}
