//! `POST /v1/auth/password/change`: the sign-in step of someone whose password was set by
//! someone else (staff or an admin, `temporary`): it chooses its own before it gets a session.

use actix_web::{HttpRequest, HttpResponse, post, web};
use diesel::prelude::*;

use super::dto::ChangeTemporaryPassword;
use super::recovery::password_event;
use crate::accounts::{UserRow, password_tokens, queries as accounts};
use crate::audit::{self, Author};
use crate::config::Config;
use crate::db::{self, types::Email};
use crate::error::{AppError, FieldCode};
use crate::extract::Json;
use crate::identity::challenges::{self, Challenge, Purpose};
use crate::identity::passwords;
use crate::identity::sessions::{self, EndReason};
use crate::identity::steps::{self, Proceed, SignInResponse};
use crate::openapi::sets;
use crate::origin::Origin;
use crate::state::AppState;

const BAD_STEP_TOKEN: AppError =
    AppError::Unauthorized("The sign-in step token is invalid, expired or already used.");

/// The person a live password-change token belongs to, while it may sign in.
fn holder(conn: &mut PgConnection, config: &Config, token: &str) -> Result<(Challenge, UserRow), AppError> {
    let now = config.clock.now();
    let challenge = challenges::find(conn, token, Purpose::PasswordChange, now)?.ok_or(BAD_STEP_TOKEN)?;
    let account = accounts::find(conn, challenge.user_id)?;
    if !accounts::may_sign_in(conn, &account, now)? {
        return Err(BAD_STEP_TOKEN);
    }
    Ok((challenge, account))
}

/// Uses the token up, sets the password (no longer temporary), ends every other session and
/// open password link, audits, and moves the sign-in on with what the person had proven.
fn change(
    conn: &mut PgConnection,
    config: &Config,
    token: &str,
    user_id: uuid::Uuid,
    hash: &str,
    origin: &Origin,
) -> Result<(UserRow, Proceed), AppError> {
    let (challenge, _) = holder(conn, config, token)?;
    // The password checked against the person the token named when the request started.
    if challenge.user_id != user_id {
        return Err(BAD_STEP_TOKEN);
    }
    challenges::consume(conn, challenge.id)?;
    let account = accounts::set_password_hash(conn, user_id, hash)?;
    sessions::end_all_for_user(conn, user_id, EndReason::PasswordChanged)?;
    password_tokens::revoke_all(conn, user_id)?;
    let event = password_event(conn, &account, audit::Action::MePasswordChanged)?;
    audit::record(conn, &Author::person(origin, &account), event)?;
    let proceed = steps::proceed(conn, config, &account, challenge.amr, origin)?;
    Ok((account, proceed))
}

/// Replace a temporary password
///
/// The sign-in step after `{"password_change_required": true, "password_change_token": ...}`:
/// the person's password was set by someone else and it chooses its own (policy: 12 to 128
/// characters, not the e-mail, not common or easy to guess, not the one it was given: 422 on
/// `new_password`). Every other session of the person ends. Answers like `POST /v1/auth/login`:
/// the token pair, or the step that is still left (an MFA enrolment where MFA is required). A
/// wrong, expired or used token is a 401.
#[utoipa::path(
    tag = "auth",
    operation_id = "changeTemporaryPassword",
    request_body(content = ChangeTemporaryPassword, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in, or a step is left.", body = SignInResponse),
        sets::Body, sets::Served, sets::Credentials,
    )
)]
#[post("/v1/auth/password/change")]
pub async fn change_temporary_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<ChangeTemporaryPassword>,
) -> Result<HttpResponse, AppError> {
    // A place for the hashing first: a full queue is a 503 before the token is looked at.
    let slot = state.hasher.admit()?;
    let origin = Origin::of(&req);
    let (config, token) = (state.config.clone(), body.password_change_token.clone());
    let (_, account) = db::run(&state.pool, move |conn| holder(conn, &config, &token)).await?;
    let email = account.email.as_ref().map(Email::as_str);
    passwords::check_policy(&body.new_password, email, "new_password")
        .map_err(|e| AppError::Validation(vec![e]))?;
    if slot.verify(account.password_hash.clone(), body.new_password.clone()).await? {
        return Err(AppError::field(
            "new_password",
            FieldCode::NotAllowed,
            "must differ from the password you were given",
        ));
    }
    let hash = slot.hash(body.new_password).await?;
    let (config, token, user_id) = (state.config.clone(), body.password_change_token, account.id);
    let (account, proceed) =
        db::transaction(&state.pool, move |conn| change(conn, &config, &token, user_id, &hash, &origin))
            .await?;
    tracing::info!(user_id = %account.id, "temporary password replaced");
    SignInResponse::respond(&state, &account, proceed).await
}
