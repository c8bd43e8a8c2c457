//! `POST /v1/auth/login/mfa`: the second step of a sign-in with MFA.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::accounts::{Amr, queries as accounts};
use crate::db::{self, types::Email};
use crate::error::{AppError, FieldCode};
use crate::extract::Json;
use crate::identity::challenges::{self, Purpose};
use crate::identity::mfa::{self, BAD_CODE, BAD_STEP_TOKEN};
use crate::identity::rate_limit;
use crate::identity::steps::{self, SignInResponse};
use crate::openapi::sets;
use crate::origin::{Origin, client_addr};
use crate::state::AppState;

/// The step token of the sign-in and exactly one of a TOTP code and a recovery code.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mfa_token": "dgs_Wq3N0x8K2mVnq4T1pW9bC6eYr5uZa7sLd0fGh2jKl4m", "code": "492039"}))]
pub struct LoginMfaRequest {
    /// The `mfa_token` of the `mfa_required` answer of `POST /v1/auth/login`.
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    #[schema(min_length = 1, max_length = 512)]
    pub mfa_token: String,
    /// The six digits the authenticator app shows now.
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    #[schema(min_length = 1, max_length = 64)]
    pub code: Option<String>,
    /// One of the recovery codes (`xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`); each works once.
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    #[schema(min_length = 1, max_length = 64)]
    pub recovery_code: Option<String>,
}

/// Sign in with a second factor
///
/// Takes the `mfa_token` a sign-in answered with `mfa_required`, and a code of the
/// authenticator app (`code`; each works once, ±30 s of clock drift) or a recovery code
/// (`recovery_code`; each works once) — exactly one of them. Answers like `POST /v1/auth/login`:
/// usually the token pair (with `amr: ["pwd", "otp"]`), or a step still left (a password
/// change). A wrong code is a 401 and counts as a failed sign-in (429 beyond the limits); the
/// `mfa_token` keeps working for another try until it expires or is used.
#[utoipa::path(
    tag = "auth",
    operation_id = "loginMfa",
    request_body(content = LoginMfaRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in, or a step is left.", body = SignInResponse),
        sets::Body, sets::Served, sets::Credentials, sets::Limited,
    )
)]
#[post("/v1/auth/login/mfa")]
pub async fn login_mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<LoginMfaRequest>,
) -> Result<HttpResponse, AppError> {
    if body.code.is_some() == body.recovery_code.is_some() {
        return Err(AppError::field(
            "code",
            FieldCode::Required,
            "give exactly one of code and recovery_code",
        ));
    }
    let origin = Origin::of(&req);
    let client = client_addr(&req);
    let (limits, now, config) = (state.config.login_limits, state.config.clock.now(), state.config.clone());

    let token = body.mfa_token.clone();
    let account = db::run(&state.pool, move |conn| -> Result<_, AppError> {
        let Some(challenge) = challenges::find(conn, &token, Purpose::Mfa, now)? else { return Ok(None) };
        Ok(Some(accounts::find(conn, challenge.user_id)?))
    })
    .await?
    .ok_or(BAD_STEP_TOKEN)?;

    // Counted before the code is checked, like a password: guesses stay within the limits
    // however many arrive at once.
    let email = account.email.clone().unwrap_or_else(|| Email::lookup(""));
    let (check_email, check_client) = (email.clone(), client.clone());
    let reserved = db::run(&state.pool, move |conn| {
        rate_limit::reserve(conn, &limits, &check_email, &check_client)?.admitted()
    })
    .await?;

    let signing_in = account.clone();
    let proceed = db::transaction(&state.pool, move |conn| {
        // Again, locked: two requests cannot both use it.
        let challenge = challenges::find(conn, &body.mfa_token, Purpose::Mfa, now)?.ok_or(BAD_STEP_TOKEN)?;
        if !accounts::may_sign_in(conn, &signing_in, now)? {
            return Err(BAD_STEP_TOKEN);
        }
        let accepted = match (&body.code, &body.recovery_code) {
            (Some(code), None) => mfa::verify(conn, &config, &signing_in, code, now)?.is_some(),
            (None, Some(recovery)) => mfa::use_recovery_code(conn, signing_in.id, recovery)?,
            _ => false,
        };
        // Nothing is written for a wrong code; the reservation (already committed) is the
        // counted failure, and the step token stays usable.
        if !accepted {
            return Err(BAD_CODE);
        }
        challenges::consume(conn, challenge.id)?;
        rate_limit::release(conn, reserved, &email, &client)?;
        let mut amr = challenge.amr;
        if !amr.contains(&Amr::Otp) {
            amr.push(Amr::Otp);
        }
        Ok(steps::proceed(conn, &config, &signing_in, amr, &origin)?)
    })
    .await?;
    tracing::info!(user_id = %account.id, "second factor accepted");
    SignInResponse::respond(&state, &account, proceed).await
}
