//! Access tokens: EdDSA JWTs with the access facts other services need (documented in the
//! README). Verification accepts only EdDSA with a published `kid`, our issuer and audience, and
//! an unexpired `exp`; everything else is the same 401.
//!
//! Two kinds, told apart by the header's `typ` and never confused: a person's token (`JWT`,
//! [`AccessClaims`]) and an API client's (`at+jwt` per RFC 9068, [`ClientClaims`]). Each verifier
//! checks its own `typ` explicitly, so neither is accepted where the other is expected.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::keys::{KeyStore, LEEWAY};
use super::sessions::Issued;
use crate::accounts::{Amr, UserRow};
use crate::db::{self, ids::SessionId};
use crate::error::AppError;
use crate::permissions::{Kind, Permission, Role};
use crate::state::AppState;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "iss": "dockgate", "aud": "dispatch-platform", "sub": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50",
    "exp": 1790000900, "iat": 1790000000, "jti": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d11",
    "sid": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d12", "kind": "customer_user", "role": "user",
    "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "permissions": ["orders.view", "tracking.view", "pod.download"], "groups": ["*"],
    "amr": ["pwd", "otp"]
}))]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The person's id.
    pub sub: Uuid,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The session (sign-in) this token belongs to.
    pub sid: Uuid,
    pub kind: Kind,
    pub role: Role,
    /// The customer of a customer user; null for staff.
    pub customer_id: Option<Uuid>,
    /// Staff only: the customers the person may act on, or `["*"]` for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ids: Option<Vec<String>>,
    /// Effective permissions.
    pub permissions: Vec<Permission>,
    /// `["*"]`: all of its customer's data (data scope `all`; staff always). Otherwise the ids of
    /// the groups whose data the person sees besides untagged data — possibly `[]`: no group's
    /// data, untagged data only. Never read an empty list as "all".
    pub groups: Vec<String>,
    /// How the person signed in (RFC 8176): `["pwd"]`, or `["pwd", "otp"]` after a second
    /// factor. A service that demands MFA checks for `otp`.
    pub amr: Vec<Amr>,
    /// A support session (RFC 8693 section 4.1): the staff member acting as `sub`. Absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActClaim>,
}

/// The `act` claim: who acts on the subject's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActClaim {
    /// The staff member's id.
    pub sub: Uuid,
}

impl AccessClaims {
    /// The claims of a token issued at `now` (the service's clock) that lives `ttl`.
    ///
    /// Taking the time from the clock, not the system, is safe: verifiers (dockgate's own and
    /// other services') accept a token by its `exp` against their own clock, with leeway. In
    /// production the clock is the system's; a clock a test moved forward only issues tokens
    /// that live longer by the system's reckoning, never ones that are born expired.
    #[allow(clippy::too_many_arguments)]
    pub fn for_account(
        account: &UserRow,
        groups: &[Uuid],
        session_id: SessionId,
        amr: &[Amr],
        issuer: &str,
        audience: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Self {
        let issued_at = now.timestamp();
        Self {
            iss: issuer.to_owned(),
            aud: audience.to_owned(),
            sub: account.id,
            exp: issued_at + i64::try_from(ttl.as_secs()).unwrap_or(900),
            iat: issued_at,
            jti: Uuid::now_v7(),
            sid: session_id.into(),
            kind: account.kind,
            role: account.role,
            customer_id: account.customer_id,
            customer_ids: account.customer_ids_claim(),
            permissions: account.effective_permissions(),
            groups: UserRow::groups_claim(account.data_scope, groups),
            amr: amr.to_vec(),
            act: None,
        }
    }
}

/// The `typ` of a person's access token.
pub const PERSON_TYP: &str = "JWT";
/// The `typ` of an API client's access token (RFC 9068 section 2.1).
pub const CLIENT_TYP: &str = "at+jwt";

pub async fn sign(keys: &KeyStore, claims: &AccessClaims) -> Result<String, AppError> {
    sign_as(keys, PERSON_TYP, claims).await
}

/// Signs an API client's access token (`typ: at+jwt`).
pub async fn sign_client(keys: &KeyStore, claims: &ClientClaims) -> Result<String, AppError> {
    sign_as(keys, CLIENT_TYP, claims).await
}

async fn sign_as(keys: &KeyStore, typ: &str, claims: &impl Serialize) -> Result<String, AppError> {
    let (kid, key) = keys.signing_key().await?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &key)
        .map_err(|e| AppError::internal(format!("cannot sign token: {e}")))
}

const INVALID: AppError = AppError::Unauthorized("The access token is missing, invalid or expired.");

/// The `typ` of a token's header, unverified: which verifier to hand it to. `None` when the
/// token is no JWT at all.
pub fn typ_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok().map(|header| header.typ.unwrap_or_default())
}

/// Verifies a person's token: `typ: JWT`, signature, algorithm, `kid`, issuer, audience and
/// expiry.
pub async fn verify(
    keys: &KeyStore,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<AccessClaims, AppError> {
    verify_as(keys, PERSON_TYP, token, issuer, audience).await
}

/// Verifies an API client's token: `typ: at+jwt`, and everything [`verify`] checks.
pub async fn verify_client(
    keys: &KeyStore,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<ClientClaims, AppError> {
    verify_as(keys, CLIENT_TYP, token, issuer, audience).await
}

async fn verify_as<C: serde::de::DeserializeOwned>(
    keys: &KeyStore,
    typ: &str,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<C, AppError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
    // Compared exactly (RFC 8725 section 3.11): a token of the other kind is no token here.
    if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(typ) {
        return Err(INVALID);
    }
    let kid = header.kid.ok_or(INVALID)?;
    let key = keys.decoding_key(&kid).await?.ok_or(INVALID)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY.as_secs();
    jsonwebtoken::decode::<C>(token, &key, &validation).map(|data| data.claims).map_err(|_| INVALID)
}

crate::text_enum! {
    /// What kind of subject a client-credentials token is for: always an API client.
    pub enum ClientKind {
        ApiClient = "api_client",
    }
}

/// The claims of an API client's access token (RFC 9068, plus dockgate's access facts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "iss": "dockgate", "aud": "dispatch-platform", "sub": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d80",
    "client_id": "dgc_Yk3n0Qw8Rr2mZt1V", "exp": 1790000900, "iat": 1790000000,
    "jti": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d81", "scope": "orders.view users.manage",
    "kind": "api_client", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "permissions": ["orders.view", "users.manage"], "groups": ["*"]
}))]
pub struct ClientClaims {
    pub iss: String,
    pub aud: String,
    /// The client's id (its row, as `actor_id` in the audit log).
    pub sub: Uuid,
    /// The public `dgc_...` id.
    pub client_id: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The granted scopes, space-separated (RFC 6749 section 3.3).
    pub scope: String,
    pub kind: ClientKind,
    /// The client's customer; absent for a platform client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
    /// The permissions the token carries: the granted scopes.
    pub permissions: Vec<Permission>,
    /// `["*"]`: all of its customer's data (data scope `all`; platform clients always).
    /// Otherwise the ids of the groups whose data the client sees besides untagged data —
    /// possibly `[]`: no group's data, untagged data only. Never read an empty list as "all".
    pub groups: Vec<String>,
}

crate::text_enum! {
    /// How the access token is sent: always as a bearer token.
    pub enum TokenType {
        Bearer = "Bearer",
    }
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
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: exchange it at `/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
}

/// The token pair of a fresh or rotated session: a signed access token and the refresh token.
pub async fn issue_pair(
    state: &AppState,
    account: &UserRow,
    issued: Issued,
) -> Result<TokenResponse, AppError> {
    let config = &state.config;
    // Only a groups-scoped customer user has any: no trip to the blocking pool for the others.
    let groups =
        if account.customer_id.is_some() && account.data_scope == crate::permissions::DataScope::Groups {
            let account = account.clone();
            db::run(&state.pool, move |conn| crate::accounts::queries::groups_of(conn, &account)).await?
        } else {
            Vec::new()
        };
    let claims = AccessClaims::for_account(
        account,
        &groups,
        issued.session_id,
        &issued.amr,
        &config.jwt_issuer,
        &config.jwt_audience,
        config.access_token_ttl,
        config.clock.now(),
    );
    let access_token = sign(&state.keys, &claims).await?;
    Ok(TokenResponse {
        access_token,
        token_type: TokenType::Bearer,
        expires_in: config.access_token_ttl.as_secs(),
        refresh_token: issued.refresh_token,
    })
}
