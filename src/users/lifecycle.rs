//! A user's lifecycle beyond CRUD: deactivate/reactivate, passwords set by staff or an admin or
//! chosen through an e-mailed link, and ownership transfer.

use actix_web::{HttpResponse, post, web};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{SetPassword, TransferOwnership, UserView};
use super::handlers::{event, find_visible_user, require_for_target, require_visible_user, respond};
use super::models::UserChanges;
use super::queries;
use super::views;
use crate::accounts::{AccountStatus, UserRow, mails, queries as accounts};
use crate::accounts::{Actor, password_tokens};
use crate::audit::{self, Author, Event, Visibility};
use crate::db;
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::extract::{Json, NoBody};
use crate::identity::{passwords, sessions};
use crate::mail::throttle;
use crate::openapi::sets;
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;

/// Moves a user between `active` and `deactivated`; a no-op when it is there already.
async fn set_status(
    state: &AppState,
    actor: Actor,
    customer_id: Uuid,
    user_id: Uuid,
    to: AccountStatus,
) -> Result<HttpResponse, AppError> {
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    if user_id == actor.id() {
        return Err(AppError::Conflict(
            ConflictKind::OwnAccount,
            "You cannot deactivate or reactivate yourself.".into(),
        ));
    }
    let author = Author::from(&actor);
    let user = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, user_id)?;
            require_visible_user(conn, &actor, &before)?;
            require_for_target(&actor, &before, customer_id)?;
            let before_view = views::one(conn, &before)?;
            if before.status == AccountStatus::Invited {
                return Err(AppError::Conflict(
                    ConflictKind::UserState,
                    "The user has not accepted its invitation yet; revoke the invitation instead.".into(),
                ));
            }
            if before.status == to {
                return Ok(before_view);
            }
            let after =
                queries::update(conn, user_id, &UserChanges { status: Some(to), ..Default::default() })?;
            let after_view = views::one(conn, &after)?;
            let action = if to == AccountStatus::Deactivated {
                sessions::end_all_for_user(conn, user_id, sessions::reason::ACCESS_CHANGED)?;
                password_tokens::revoke_all(conn, user_id)?;
                audit::Action::UserDeactivated
            } else {
                audit::Action::UserReactivated
            };
            audit::record(conn, &author, event(action, Some(&before_view), Some(&after_view)))?;
            Ok::<_, AppError>(after_view)
        })
    })
    .await?;
    Ok(respond(HttpResponse::Ok(), user))
}

/// Deactivate a user
///
/// The user keeps its data and history but cannot sign in; its sessions and open password
/// links end at once. Listed under `status=deactivated`. Deactivating a deactivated user
/// changes nothing. An invited user is a 409 (revoke the invitation).
/// For a caller limited to groups, a user outside them (also in another group, or in no group
/// and so seeing everything) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "deactivateUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The deactivated user.", body = UserView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/users/{user_id}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    set_status(&state, actor, customer_id, user_id, AccountStatus::Deactivated).await
}

/// Reactivate a user
///
/// A deactivated user becomes active again (it signs in with its old password, if it has
/// one). Reactivating an active user changes nothing.
/// For a caller limited to groups, a user outside them (also in another group, or in no group
/// and so seeing everything) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "reactivateUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The active user.", body = UserView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/users/{user_id}/reactivate")]
pub async fn reactivate_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    set_status(&state, actor, customer_id, user_id, AccountStatus::Active).await
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
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<SetPassword>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    if user_id == actor.id() {
        return Err(AppError::Conflict(
            ConflictKind::OwnAccount,
            "Change your own password with POST /v1/me/password.".into(),
        ));
    }
    let target = find_visible_user(&state.pool, &actor, customer_id, user_id).await?;
    require_for_target(&actor, &target, customer_id)?;
    require_login(&target)?;
    let email = target.email.as_ref().map(ToString::to_string);
    passwords::check_policy(&body.password, email.as_deref(), "password")
        .map_err(|e| AppError::Validation(vec![e]))?;
    let hash = state.hasher.hash(body.password).await?;
    let author = Author::from(&actor);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, user_id)?;
            let groups = require_visible_user(conn, &actor, &before)?;
            require_for_target(&actor, &before, customer_id)?;
            require_login(&before)?;
            let changes = UserChanges { password_hash: Some(Some(hash)), ..Default::default() };
            queries::update(conn, user_id, &changes)?;
            sessions::end_all_for_user(conn, user_id, sessions::reason::PASSWORD_CHANGED)?;
            password_tokens::revoke_all(conn, user_id)?;
            audit::record(conn, &author, password_event(audit::Action::UserPasswordSet, &before, &groups))?;
            Ok::<_, AppError>(())
        })
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
    path: web::Path<(Uuid, Uuid)>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let author = Author::from(&actor);
    let config = state.config.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let target = queries::lock(conn, customer_id, user_id)?;
            let groups = require_visible_user(conn, &actor, &target)?;
            require_for_target(&actor, &target, customer_id)?;
            require_login(&target)?;
            if target.status != AccountStatus::Active {
                return Err(AppError::Conflict(
                    ConflictKind::UserState,
                    "Only an active user can be sent a reset link.".into(),
                ));
            }
            if !accounts::customer_allows_logins(conn, customer_id)? {
                return Err(AppError::Conflict(
                    ConflictKind::LoginsClosed,
                    "The customer is suspended or its portal is switched off; its users cannot sign in."
                        .into(),
                ));
            }
            if let Some(email) = &target.email
                && let Err(retry_after_secs) =
                    throttle::admit(conn, email, throttle::Kind::PasswordReset, config.clock.now())?
            {
                return Err(AppError::RateLimited { retry_after_secs });
            }
            mails::send_password_reset(conn, &config, &target)?;
            audit::record(
                conn,
                &author,
                password_event(audit::Action::UserPasswordResetSent, &target, &groups),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

fn require_login(user: &UserRow) -> Result<(), AppError> {
    if user.login_enabled && user.email.is_some() {
        Ok(())
    } else {
        Err(AppError::Conflict(ConflictKind::UserState, "The user has no login; enable it first.".into()))
    }
}

/// A password event names the user (in `groups`) but records no value.
fn password_event(action: audit::Action, user: &UserRow, groups: &[Uuid]) -> Event {
    Event {
        action,
        target_type: audit::Target::User,
        target_id: user.id,
        customer_id: user.customer_id,
        changes: serde_json::json!({}),
        visibility: Visibility::person(groups),
    }
}

/// Transfer ownership
///
/// Makes an active user with a login of the customer its owner; the previous owner (if any) becomes an
/// `admin`. Both people's sessions end, so their tokens carry the new roles. Staff or the
/// current owner only (403). Transferring to the owner changes nothing. For an owner limited
/// to groups, a `user_id` outside them is a 422 exactly like an unknown one.
#[utoipa::path(
    tag = "users",
    operation_id = "transferOwnership",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
    request_body(content = TransferOwnership, content_type = "application/json"),
    responses(
        (status = 200, description = "The new owner.", body = UserView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/owner")]
pub async fn transfer_ownership(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<Uuid>,
    Json(body): Json<TransferOwnership>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageOwner, customer_id)?;
    let author = Author::from(&actor);
    let user = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // The customer row serializes transfers of one customer.
            crate::customers::queries::lock(conn, customer_id)?;
            // Someone outside the caller's groups is answered exactly like no one.
            let unknown = || AppError::field("user_id", FieldCode::Unknown, "names no user of this customer");
            let target = queries::lock(conn, customer_id, body.user_id).map_err(|e| match e {
                diesel::result::Error::NotFound => unknown(),
                other => other.into(),
            })?;
            let target_groups = require_visible_user(conn, &actor, &target).map_err(|e| match e {
                AppError::NotFound => unknown(),
                other => other,
            })?;
            if target.role == Role::Owner {
                return Ok(views::one(conn, &target)?);
            }
            if target.status != AccountStatus::Active || !target.login_enabled {
                return Err(AppError::Conflict(
                    ConflictKind::UserState,
                    "Only an active user with a login can become the owner.".into(),
                ));
            }
            let previous = queries::lock_owner(conn, customer_id)?;
            if let Some(previous) = &previous {
                let demoted =
                    UserChanges { role: Some(Role::Admin), permissions: Some(vec![]), ..Default::default() };
                queries::update(conn, previous.id, &demoted)?;
                sessions::end_all_for_user(conn, previous.id, sessions::reason::ACCESS_CHANGED)?;
            }
            let promoted =
                UserChanges { role: Some(Role::Owner), permissions: Some(vec![]), ..Default::default() };
            let after = queries::update(conn, target.id, &promoted)?;
            sessions::end_all_for_user(conn, target.id, sessions::reason::ACCESS_CHANGED)?;
            let previous_groups = match &previous {
                Some(previous) => Some(crate::accounts::queries::groups_of(conn, previous)?),
                None => None,
            };
            // About two people: as hidden as the more hidden of them.
            let visibility = previous_groups
                .map_or(Visibility::Everyone, |groups| Visibility::person(&groups))
                .join(Visibility::person(&target_groups));
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::CustomerOwnerTransferred,
                    target_type: audit::Target::Customer,
                    target_id: customer_id,
                    customer_id: Some(customer_id),
                    changes: serde_json::json!({
                        "owner": {"from": previous.as_ref().map(|p| p.id), "to": after.id}
                    }),
                    visibility,
                },
            )?;
            Ok::<_, AppError>(views::one(conn, &after)?)
        })
    })
    .await?;
    Ok(respond(HttpResponse::Ok(), user))
}
