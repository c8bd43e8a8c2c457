//! Request and response bodies of the sign-in endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "dgr_q0H4Jx7pW0bq3vXJ2l2x3mC9o1nYyU0Q2xY6t8e0aZs"}))]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "jana.berg@acme.example"}))]
pub struct ForgotPassword {
    /// The login's e-mail address. Any value gets the same 202.
    #[validate(length(min = 1, max = 320, message = "must be 1 to 320 characters"))]
    #[schema(min_length = 1, max_length = 320)]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "dgp_3J0x8K2mVnq4T1pW9bC6eYr5uZa7sLd0fGh2jKl4mNo", "password": "a brand new passphrase"}))]
pub struct ResetPassword {
    /// The `token` of the e-mailed link (`{PORTAL_URL}/password-reset?token=...`).
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// 12 to 128 characters, not the e-mail address, not common or easy to guess.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "jana.berg@acme.example", "name": "Jana Berg", "password": "correct horse battery staple"}))]
pub struct SignupRequest {
    /// The address to sign up with: it must be the `contact_email` of a customer that allows
    /// self sign-up for a link to be mailed. Any well-formed value gets the same 202.
    #[validate(custom(function = "crate::validation::validate_email"))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "crate::validation::not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// 12 to 128 characters, not the e-mail address, not common or easy to guess. Stored only as an
    /// Argon2id hash; it becomes the password of the new user once the link is followed.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "dgs_Vx2m9Q4aT7bK1pW3cY8eR5uZ0sLd6fGh2jKl4mNoPq8"}))]
pub struct VerifySignup {
    /// The `token` of the e-mailed link (`{PORTAL_URL}/signup/verify?token=...`).
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
}

/// The user a verified sign-up created, and a token pair for its first session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": {
        "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d10", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d00",
        "name": "Jana Berg", "phone": null, "email": "jana.berg@acme.example", "login_enabled": true,
        "password_set": true, "status": "active", "role": "owner",
        "permissions": ["addresses.manage", "cost_centers.manage", "messages.view_body", "orders.create", "orders.view",
            "payments.manage", "pod.download", "pricing.view", "reports.view", "scheduling.book", "tracking.view", "users.manage"],
        "data_scope": "all", "group_ids": [], "warehouse_address_id": null, "cost_center_id": null, "external_id": null,
        "mfa_enabled": false, "password_change_required": false, "valid_until": null,
        "last_login_at": null, "created_at": "2026-11-23T09:30:00Z", "updated_at": "2026-11-23T09:30:00Z"
    },
    "tokens": {
        "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6Ik56Ykxz...",
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_token": "dgr_q0H4Jx7pW0bq3vXJ2l2x3mC9o1nYyU0Q2xY6t8e0aZs"
    }
}))]
pub struct SignupResult {
    pub user: crate::users::dto::UserView,
    /// The token pair, or the step that is left (an MFA enrolment the customer requires).
    pub tokens: crate::identity::steps::SignInResponse,
}

/// The first own password of someone whose password was set by someone else.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password_change_token": "dgs_Zr8...", "new_password": "my own long passphrase"}))]
pub struct ChangeTemporaryPassword {
    /// From the sign-in answer `{"password_change_required": true, ...}`; single use.
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub password_change_token: String,
    /// 12 to 128 characters, not the e-mail address, not common or easy to guess, and not the
    /// password that was set for you.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}
