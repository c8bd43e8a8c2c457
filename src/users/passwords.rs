//! Passwords of a customer's users, set by staff or an admin, or chosen by the user through an
//! e-mailed reset link.

use actix_web::{HttpResponse, post, web};

use super::dto::SetPassword;
use super::models::{User, UserChanges};
use super::queries;
use super::rules::{self, AccessChange};
use crate::accounts::{Actor, mails};
use crate::audit::{self, Author, Event, Visibility};
use crate::db::ids::{CustomerId, UserId};
use crate::db::{self, types::Email};
use crate::error::AppError;
use crate::extract::{Json, NoBody};
use crate::mail::throttle;
use crate::openapi::sets;
use crate::policy::{self, Action};
use crate::state::AppState;

/// A password event names the user (as hidden as the user) but records no value.
fn password_event(action: audit::Action, user: &User) -> Event {
    Event {
        action,
        target_type: audit::Target::User,
        target_id: user.row.id,
        customer_id: user.row.customer_id,
        changes: serde_json::json!({}),
        visibility: Visibility::person(&user.groups),
    }
}

/// Set a user's password
///
/// Staff or an admin sets the password directly (policy: 12 to 128 characters, not the
/// e-mail, not common or easy to guess). The user's sessions and open password links end. Only for
/// users with login (409); for your own password use `POST /v1/me/password` (409).
/// For a caller limited to groups, a user outside them (also in another group, or in no group
/// and so seeing everything) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "setUserPassword",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    request_body(content = SetPassword, content_type = "application/json"),
    responses(
        (status = 204, description = "The password is set."),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/users/{user_id}/password")]
pub async fn set_password(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
    Json(body): Json<SetPassword>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    rules::not_self(&actor, user_id, "Change your own password with POST /v1/me/password.")?;
    // Read before the (slow) hashing, which needs the login; the write re-checks under the lock.
    let reader = actor.clone();
    let target =
        db::run(&state.pool, move |conn| rules::find_for(conn, &reader, customer_id, user_id)).await?;
    rules::require_login(&target.row)?;
    let login = target.row.email.as_ref().map(Email::as_str);
    let hash = rules::hash_password(&state.hasher, body.password, login).await?;
    let author = Author::from(&actor);
    db::transaction(&state.pool, move |conn| {
        let user = rules::lock_for(conn, &actor, customer_id, user_id)?;
        rules::require_login(&user.row)?;
        queries::update(
            conn,
            user_id,
            &UserChanges { password_hash: Some(Some(hash)), ..Default::default() },
        )?;
        rules::access_changed(conn, user_id, AccessChange::Password)?;
        audit::record(conn, &author, password_event(audit::Action::UserPasswordSet, &user))?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a password-reset link
///
/// E-mails the user a single-use link (`{PORTAL_URL}/password-reset?token=...`, valid 1 hour
/// by default) to choose a new password with `POST /v1/auth/password/reset`; older links die.
/// The current password keeps working until then. Only for active users with login (409). At
/// most one reset mail a minute goes to one person, whoever asks (429 with `Retry-After`).
/// For a caller limited to groups, a user outside them (also in another group, or in no group
/// and so seeing everything) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "sendUserPasswordReset",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 202, description = "The link is on its way."),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting, sets::Limited,
    )
)]
#[post("/v1/customers/{customer_id}/users/{user_id}/password-reset")]
pub async fn send_password_reset(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let author = Author::from(&actor);
    let config = state.config.clone();
    db::transaction(&state.pool, move |conn| {
        let user = rules::lock_for(conn, &actor, customer_id, user_id)?;
        rules::require_login(&user.row)?;
        rules::require_active(&user.row, "Only an active user can be sent a reset link.")?;
        rules::require_logins_open(conn, customer_id)?;
        if let Some(email) = &user.row.email
            && let Err(retry_after_secs) =
                throttle::admit(conn, email, throttle::Kind::PasswordReset, config.clock.now())?
        {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        mails::send_password_reset(conn, &config, &user.row)?;
        audit::record(conn, &author, password_event(audit::Action::UserPasswordResetSent, &user))?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}
