//! Password recovery (contract section 8): "forgot password" mails a single-use link, and the
//! link's token sets a new password and ends every session.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::dto::{ForgotPassword, ResetPassword};
use crate::accounts::password_tokens;
use crate::accounts::{AccountStatus, UserRow, mails, queries as accounts};
use crate::audit::{self, Author, Event};
use crate::config::Config;
use crate::db::{self, DbPool, types::Email};
use crate::error::{AppError, FieldCode};
use crate::extract::Json;
use crate::identity::passwords;
use crate::identity::sessions::{self, EndReason};
use crate::mail::throttle;
use crate::openapi::sets;
use crate::origin::Origin;
use crate::state::AppState;

const INVALID_LINK: &str = "the link is invalid, expired or already used; ask for a new one";

/// Whether a reset link may be mailed: an active person with login whose customer (if any)
/// lets its users sign in. A missing password does not matter (a lost welcome link).
fn may_recover(conn: &mut PgConnection, account: &UserRow) -> QueryResult<bool> {
    if account.status != AccountStatus::Active || !account.login_enabled || account.email.is_none() {
        return Ok(false);
    }
    match account.customer_id {
        Some(customer_id) => accounts::customer_allows_logins(conn, customer_id),
        None => Ok(true),
    }
}

/// How the audit log names the person: a customer user or a staff member.
fn target_type(account: &UserRow) -> audit::Target {
    if account.customer_id.is_some() { audit::Target::User } else { audit::Target::Staff }
}

/// The audit event of something done to `account`'s password, as visible as the person.
pub(super) fn password_event(
    conn: &mut PgConnection,
    account: &UserRow,
    action: audit::Action,
) -> QueryResult<Event> {
    Ok(Event {
        action,
        target_type: target_type(account),
        target_id: account.id,
        customer_id: account.customer_id,
        changes: serde_json::json!({}),
        visibility: audit::Visibility::person(account.data_scope, &accounts::groups_of(conn, account)?),
        data: None,
        before: None,
    })
}

/// Looks the address up and queues a link when it belongs to someone who may recover; call in a
/// transaction.
fn request_link(
    conn: &mut PgConnection,
    config: &Config,
    email: &Email,
    author: &Author,
) -> Result<(), AppError> {
    let Some(account) = accounts::find_by_email(conn, email)? else { return Ok(()) };
    if !may_recover(conn, &account)? {
        return Ok(());
    }
    let Some(recipient) = account.email.clone() else { return Ok(()) };
    // At most one link a minute per person, shared with the admin's "send a reset link":
    // beyond it the request is dropped as silently as one for an unknown address.
    if throttle::admit(conn, &recipient, throttle::Kind::PasswordReset, config.clock.now())?.is_err() {
        return Ok(());
    }
    mails::send_password_reset(conn, config, &account)?;
    let event = password_event(conn, &account, audit::Action::UserPasswordResetRequested)?;
    audit::record(conn, author, event)?;
    Ok(())
}

/// Forgot password
///
/// Always 202, whether or not the address belongs to anyone, and the answer does not wait for
/// the lookup, so neither the status nor the time tells. When the address belongs to an active
/// person with login, a single-use link (`{PORTAL_URL}/password-reset?token=...`, valid 1 hour
/// by default) is e-mailed; at most one per minute per person.
#[utoipa::path(
    tag = "auth",
    operation_id = "forgotPassword",
    request_body(content = ForgotPassword, content_type = "application/json"),
    responses(
        (status = 202, description = "If the address can sign in, a link is on its way."),
        sets::Body,
    )
)]
#[post("/v1/auth/password/forgot")]
pub async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<ForgotPassword>,
) -> HttpResponse {
    let email = Email::lookup(&body.email);
    let author = Author::anonymous(&Origin::of(&req));
    let (pool, config): (DbPool, Config) = (state.pool.clone(), state.config.clone());
    tokio::spawn(async move {
        let work = db::transaction(&pool, move |conn| request_link(conn, &config, &email, &author));
        if let Err(error) = work.await {
            tracing::warn!(%error, "could not handle a forgotten-password request");
        }
    });
    HttpResponse::Accepted().finish()
}

/// Reset the password
///
/// Sets a new password with the token of an e-mailed link (forgot password, an admin's reset
/// link, or the set-password link of a welcome mail). A token works once and expires; every
/// session of the person ends. An invalid, used or expired token is a 422 on `token`.
#[utoipa::path(
    tag = "auth",
    operation_id = "resetPassword",
    request_body(content = ResetPassword, content_type = "application/json"),
    responses(
        (status = 204, description = "The password is set; sign in with it."),
        sets::Body, sets::Served,
    )
)]
#[post("/v1/auth/password/reset")]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<ResetPassword>,
) -> Result<HttpResponse, AppError> {
    let (token, now) = (body.token.clone(), state.config.clock.now());
    let account = db::run(&state.pool, move |conn| linked_account(conn, &token, now))
        .await?
        .filter(|a| a.status == AccountStatus::Active && a.login_enabled)
        .ok_or_else(invalid_link)?;
    let email = account.email.as_ref().map(ToString::to_string);
    passwords::check_policy(&body.password, email.as_deref(), "password")
        .map_err(|e| AppError::Validation(vec![e]))?;
    let hash = state.hasher.hash(body.password).await?;
    let author = Author::person(&Origin::of(&req), &account);
    let (token, now) = (body.token, state.config.clock.now());
    db::transaction(&state.pool, move |conn| set_password(conn, &token, now, &account, &hash, &author))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn invalid_link() -> AppError {
    AppError::field("token", FieldCode::Invalid, INVALID_LINK)
}

/// The person whose link `token` is, while the link is live at `now`.
fn linked_account(conn: &mut PgConnection, token: &str, now: DateTime<Utc>) -> QueryResult<Option<UserRow>> {
    let Some(user_id) = password_tokens::peek(conn, token, now)? else { return Ok(None) };
    accounts::find(conn, user_id).map(Some)
}

/// Uses the link up and sets the password; every session and other link of the person ends.
/// Call in a transaction: the link is used up under its row lock, so of two concurrent resets
/// exactly one succeeds.
fn set_password(
    conn: &mut PgConnection,
    token: &str,
    now: DateTime<Utc>,
    account: &UserRow,
    hash: &str,
    author: &Author,
) -> Result<(), AppError> {
    if password_tokens::consume(conn, token, now)? != Some(account.id) {
        return Err(invalid_link());
    }
    accounts::set_password_hash(conn, account.id, hash)?;
    sessions::end_all_for_user(conn, account.id, EndReason::PasswordChanged)?;
    password_tokens::revoke_all(conn, account.id)?;
    let event = password_event(conn, account, audit::Action::UserPasswordReset)?;
    audit::record(conn, author, event)?;
    Ok(())
}
