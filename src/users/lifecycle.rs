//! A user's lifecycle beyond its fields: deactivate, reactivate and delete; passwords set by
//! staff or an admin, or chosen through an e-mailed reset link; and ownership transfer.

use actix_web::{HttpResponse, delete, post, web};
use diesel::PgConnection;

use super::dto::{SetPassword, TransferOwnership, UserView};
use super::models::{User, UserChanges};
use super::queries;
use super::rules::{self, AccessChange};
use crate::accounts::{AccountStatus, Actor, mails, queries as accounts};
use crate::audit::{self, Author, Event, Visibility};
use crate::db::ids::{CustomerId, UserId};
use crate::db::{self, types::Email};
use crate::error::{AppError, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::{Json, NoBody};
use crate::mail::throttle;
use crate::openapi::sets;
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Deleted, Tagged, Viewed};

/// `before` in status `to` (as it was when it is there already); an invited person's status is
/// its invitation's.
fn move_status(conn: &mut PgConnection, before: User, to: AccountStatus) -> Result<User, AppError> {
    rules::require_joined(&before.row)?;
    if before.row.status == to {
        return Ok(before);
    }
    let row = queries::update(conn, before.id(), &UserChanges { status: Some(to), ..Default::default() })?;
    let after = User { row, groups: before.groups.clone() };
    rules::track_access(conn, &before, &after)?;
    Ok(after)
}

/// Moves a user between `active` and `deactivated`; a no-op (and no event) when it is there
/// already.
async fn set_status(
    state: &AppState,
    actor: Actor,
    (customer_id, user_id): (CustomerId, UserId),
    to: AccountStatus,
) -> Result<Tagged<UserView>, AppError> {
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    rules::not_self(&actor, user_id, "You cannot deactivate or reactivate yourself.")?;
    let action = match to {
        AccountStatus::Deactivated => audit::Action::UserDeactivated,
        _ => audit::Action::UserReactivated,
    };
    let lock = rules::locking(&actor, customer_id, user_id);
    let change = move |conn: &mut _, before| move_status(conn, before, to);
    // Not conditional: the status is the whole change, and doing it twice changes nothing.
    write::update(state, &actor, action, IfMatch::default(), lock, change).await
}

/// Deactivate a user
///
/// The user keeps its data and history but cannot sign in; its sessions and open password
/// links end at once. Listed under `status=deactivated`. Deactivating a deactivated user
/// changes nothing. An invited user is a 409 (revoke the invitation).
/// For a caller limited to groups, a user outside them (also in another group, or with data
/// scope `all`) is a 404, exactly like a missing one.
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
    path: web::Path<(CustomerId, UserId)>,
    _body: NoBody,
) -> Result<Tagged<UserView>, AppError> {
    set_status(&state, actor, path.into_inner(), AccountStatus::Deactivated).await
}

/// Reactivate a user
///
/// A deactivated user becomes active again (it signs in with its old password, if it has
/// one). Reactivating an active user changes nothing.
/// For a caller limited to groups, a user outside them (also in another group, or with data
/// scope `all`) is a 404, exactly like a missing one.
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
    path: web::Path<(CustomerId, UserId)>,
    _body: NoBody,
) -> Result<Tagged<UserView>, AppError> {
    set_status(&state, actor, path.into_inner(), AccountStatus::Active).await
}

/// Delete a user
///
/// Removes the user: gone from every list, its sessions end, its e-mail address is free again;
/// the audit log keeps what happened. An admin cannot delete the owner (403); nobody can delete
/// themselves (409). Honours `If-Match`.
/// For a caller limited to groups, a user outside them (also in another group, or with data
/// scope `all`) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "deleteUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[delete("/v1/customers/{customer_id}/users/{user_id}")]
pub async fn delete_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    rules::not_self(&actor, user_id, "You cannot delete yourself.")?;
    let lock = rules::locking(&actor, customer_id, user_id);
    let remove = move |conn: &mut _, _: User| {
        rules::access_changed(conn, user_id, AccessChange::Closed)?;
        queries::delete(conn, customer_id, user_id)
    };
    write::delete(&state, &actor, audit::Action::UserDeleted, if_match, lock, remove).await
}

/// A password event names the user (as hidden as the user) but records no value.
fn password_event(action: audit::Action, user: &User) -> Event {
    Event {
        action,
        target_type: audit::Target::User,
        target_id: user.row.id,
        customer_id: user.row.customer_id,
        changes: serde_json::json!({}),
        visibility: Visibility::person(user.row.data_scope, &user.groups),
        data: None,
        before: None,
    }
}

/// Set a user's password
///
/// Staff or an admin sets the password directly (policy: 12 to 128 characters, not the
/// e-mail, not common or easy to guess). The user's sessions and open password links end.
/// `temporary` (default `OPERATOR_PASSWORDS_TEMPORARY`) makes the user replace it at its next
/// sign-in (`password_change_required`, `POST /v1/auth/password/change`). Never in a support
/// session (403). Only for
/// users with login (409); for your own password use `POST /v1/me/password` (409).
/// For a caller limited to groups, a user outside them (also in another group, or with data
/// scope `all`) is a 404, exactly like a missing one.
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
    policy::refuse_impersonated(&actor)?;
    rules::not_self(&actor, user_id, "Change your own password with POST /v1/me/password.")?;
    // Read before the (slow) hashing, which needs the login.
    let target = rules::read_for(&state.pool, &actor, (customer_id, user_id)).await?;
    rules::require_login(&target.row)?;
    let login = target.row.email.as_ref().map(Email::as_str);
    let hash = rules::hash_password(&state.hasher, body.password, login).await?;
    let temporary = body.temporary.unwrap_or(state.config.sign_in.operator_passwords_temporary);
    let author = Author::from(&actor);
    db::transaction(&state.pool, move |conn| {
        let user = rules::lock_for(conn, &actor, customer_id, user_id)?;
        rules::require_login(&user.row)?;
        accounts::set_given_password(conn, user_id.into(), &hash, temporary)?;
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
/// For a caller limited to groups, a user outside them (also in another group, or with data
/// scope `all`) is a 404, exactly like a missing one.
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

/// The person to become owner, locked: someone of the customer the caller covers (anyone else
/// is answered exactly like no one, a 422 on `user_id`), active and with a login (409).
fn new_owner(
    conn: &mut PgConnection,
    actor: &Actor,
    customer_id: CustomerId,
    user_id: UserId,
) -> Result<User, AppError> {
    let unknown = || AppError::field("user_id", FieldCode::Unknown, "names no user of this customer");
    let row = queries::lock(conn, customer_id, user_id).map_err(|e| match e {
        diesel::result::Error::NotFound => unknown(),
        other => other.into(),
    })?;
    let user = rules::require_visible(conn, actor, row).map_err(|e| match e {
        AppError::NotFound => unknown(),
        other => other,
    })?;
    rules::require_may_own(&user.row)?;
    Ok(user)
}

/// Gives `user` the role `role` (with the role's permissions); its sessions end, so its tokens
/// carry the new role.
fn change_role(conn: &mut PgConnection, user: User, role: Role) -> Result<User, AppError> {
    let changes = UserChanges { role: Some(role), permissions: Some(vec![]), ..Default::default() };
    let after = User { row: queries::update(conn, user.id(), &changes)?, groups: user.groups.clone() };
    rules::track_access(conn, &user, &after)?;
    Ok(after)
}

/// The event is about the customer, and about two people: as hidden as the more hidden of them.
fn transferred(customer_id: CustomerId, previous: Option<&User>, owner: &User) -> Event {
    let previous_visibility =
        previous.map_or(Visibility::Everyone, |p| Visibility::person(p.row.data_scope, &p.groups));
    Event {
        action: audit::Action::CustomerOwnerTransferred,
        target_type: audit::Target::Customer,
        target_id: customer_id.into(),
        customer_id: Some(customer_id.into()),
        changes: serde_json::json!({
            "owner": {"from": previous.map(|p| p.row.id), "to": owner.row.id}
        }),
        visibility: previous_visibility.join(Visibility::person(owner.row.data_scope, &owner.groups)),
        data: None,
        before: None,
    }
}

/// Transfer ownership
///
/// Makes an active user with a login of the customer its owner; the previous owner (if any) becomes an
/// `admin`. Both people's sessions end, so their tokens carry the new roles. Staff or the
/// current owner only (403), never in a support session (403). Transferring to the owner changes nothing. For an owner limited
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
    customer_id: web::Path<CustomerId>,
    Json(body): Json<TransferOwnership>,
) -> Result<Tagged<UserView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageOwner, customer_id)?;
    policy::refuse_impersonated(&actor)?;
    let author = Author::from(&actor);
    let view = db::transaction(&state.pool, move |conn| {
        // The customer row serializes transfers of one customer.
        queries::lock_customer(conn, customer_id)?;
        let target = new_owner(conn, &actor, customer_id, body.user_id.into())?;
        if target.row.role == Role::Owner {
            return target.view(conn);
        }
        // Both role changes are the people's updates to webhooks; the log has them as one event.
        let mut updates = Vec::new();
        let previous = match queries::lock_owner(conn, customer_id)? {
            Some(row) => {
                let previous = User::load(conn, row)?;
                let before = previous.view(conn)?;
                let after = change_role(conn, previous, Role::Admin)?;
                updates.push((before, after.view(conn)?));
                Some(after)
            }
            None => None,
        };
        let before = target.view(conn)?;
        let owner = change_role(conn, target, Role::Owner)?;
        updates.push((before, owner.view(conn)?));
        audit::record(conn, &author, transferred(customer_id, previous.as_ref(), &owner))?;
        for (before, after) in &updates {
            audit::announce(conn, &write::event(audit::Action::UserUpdated, Some(before), Some(after)))?;
        }
        owner.view(conn)
    })
    .await?;
    Ok(Tagged::ok(view))
}
