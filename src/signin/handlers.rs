//! `/v1/auth/*` and the JWKS.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::{PgConnection, QueryResult};

use super::dto::{LoginRequest, RefreshRequest};
use crate::accounts::{Amr, CustomerGate, UserRow, queries as accounts};
use crate::db::{self, types::Email};
use crate::error::AppError;
use crate::extract::Json;
use crate::identity::keys::Jwks;
use crate::identity::rate_limit;
use crate::identity::sessions::{self, Issued, Rotation};
use crate::identity::steps::{self, SignInResponse};
use crate::identity::tokens::{self, TokenResponse};
use crate::openapi::sets;
use crate::origin::{Origin, client_addr};
use crate::state::AppState;

/// The one answer to every failed sign-in, whatever the cause.
pub const BAD_CREDENTIALS: AppError = AppError::Unauthorized("The e-mail address or password is wrong.");
const BAD_REFRESH: AppError =
    AppError::Unauthorized("The refresh token is invalid, expired or already used.");

/// Signs and returns a token pair for a fresh or rotated session.
async fn token_pair(state: &AppState, account: &UserRow, issued: Issued) -> Result<HttpResponse, AppError> {
    let tokens = tokens::issue_pair(state, account, issued).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(tokens))
}

/// Sign in
///
/// Exchanges an e-mail address and password for an access token and a refresh token — or, when
/// a step is left, for the token of that step: a second factor (`mfa_required`), a password
/// change (`password_change_required`) or an MFA enrolment (`mfa_enrolment_required`). A wrong
/// e-mail, a wrong password and an account that may not sign in all get the same 401, in the
/// same time. Failures are limited per account and client address, per account, and per client
/// address (429 with `Retry-After`).
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in, or a step is left.", body = SignInResponse),
        sets::Body, sets::Served, sets::Credentials, sets::Limited,
    )
)]
#[post("/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    // A place for the verification first: a burst beyond the hashing queue is turned away
    // before it costs a query or counts as an attempt.
    let slot = state.hasher.admit()?;
    let email = Email::lookup(&body.email);
    let origin = Origin::of(&req);
    let client = client_addr(&req);
    let (limits, now) = (state.config.login_limits, state.config.clock.now());

    let (lookup_email, lookup_client) = (email.clone(), client.clone());
    let (reserved, account) = db::run(&state.pool, move |conn| -> Result<_, AppError> {
        let reserved = rate_limit::reserve(conn, &limits, &lookup_email, &lookup_client)?.admitted()?;
        Ok((reserved, signing_in(conn, &lookup_email, now)?))
    })
    .await?;

    // Verify even when there is no account or it may not sign in, so every failure costs the
    // same Argon2 time.
    let stored = account.as_ref().and_then(|found| found.account.password_hash.clone());
    let matches = slot.verify(stored, body.password).await?;

    match account {
        Some(SigningIn { account, gate, may_sign_in: true }) if matches => {
            let (config, signing_in) = (state.config.clone(), account.clone());
            let proceed = db::transaction(&state.pool, move |conn| {
                let proceed = steps::proceed_through(
                    conn,
                    &config,
                    &signing_in,
                    gate.as_ref(),
                    vec![Amr::Pwd],
                    &origin,
                )?;
                rate_limit::release(conn, reserved, &email, &client)?;
                Ok(proceed)
            })
            .await?;
            tracing::info!(user_id = %account.id, "password accepted");
            SignInResponse::respond(&state, &account, proceed).await
        }
        // The reserved attempt stays: it is the counted failure.
        _ => Err(BAD_CREDENTIALS),
    }
}

/// The account an address names, with its customer's gate, and whether it may sign in now.
struct SigningIn {
    account: UserRow,
    gate: Option<CustomerGate>,
    may_sign_in: bool,
}

/// One statement (the account joined with its customer), unless a lapsed `valid_until` is to
/// be recorded.
fn signing_in(
    conn: &mut PgConnection,
    email: &Email,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<Option<SigningIn>> {
    let Some((account, gate)) = accounts::find_signing_in(conn, email)? else { return Ok(None) };
    let may_sign_in = crate::identity::expiry::may_sign_in_through(conn, &account, gate.as_ref(), now)?;
    Ok(Some(SigningIn { account, gate, may_sign_in }))
}

/// Refresh the token pair
///
/// Exchanges a refresh token for a new pair. Each refresh token works once: presenting a used
/// one again revokes the whole session (it was copied), and the caller must sign in again.
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh",
    request_body(content = RefreshRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is now used.", body = TokenResponse),
        sets::Body, sets::Served, sets::Credentials,
    )
)]
#[post("/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let (lifetimes, now) = (state.config.sessions, state.config.clock.now());
    let rotation =
        db::run(&state.pool, move |conn| sessions::rotate(conn, &body.refresh_token, &lifetimes, now))
            .await?;
    match rotation {
        Rotation::Rotated { account, issued } => token_pair(&state, &account, issued).await,
        Rotation::Reused => {
            tracing::warn!("a used refresh token was presented again; its session is revoked");
            Err(BAD_REFRESH)
        }
        Rotation::Invalid => Err(BAD_REFRESH),
    }
}

/// Sign out
///
/// Ends the session the refresh token belongs to: its refresh tokens stop working, and so do
/// its access tokens inside dockgate. Answers 204 for unknown tokens too.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    request_body(content = RefreshRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "The session is over."),
        sets::Body, sets::Served,
    )
)]
#[post("/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    db::run(&state.pool, move |conn| sessions::end_by_refresh_token(conn, &body.refresh_token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Public signing keys (JWKS)
///
/// The Ed25519 keys access tokens are signed with (RFC 7517 / RFC 8037). Pick the key by the
/// token's `kid`; refetch this document when a token names a `kid` you do not have.
#[utoipa::path(
    tag = "auth",
    operation_id = "jwks",
    responses(
        (status = 200, description = "The key set.", body = Jwks),
        sets::Served,
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let jwks = state.keys.jwks().await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=60")).json(jwks))
}
