//! A user's lifecycle: deactivate, reactivate, delete.

use actix_web::{delete, post, web};

use super::dto::UserView;
use super::models::{User, UserChanges};
use super::queries;
use super::rules::{self, AccessChange};
use crate::accounts::{AccountStatus, Actor};
use crate::audit;
use crate::db::ids::{CustomerId, UserId};
use crate::error::{AppError, ConflictKind};
use crate::etag::{self, IfMatch};
use crate::extract::NoBody;
use crate::openapi::sets;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Deleted, Tagged};

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
    let locker = actor.clone();
    let lock = move |conn: &mut _| rules::lock_for(conn, &locker, customer_id, user_id);
    let change = move |conn: &mut _, before: User| {
        if before.row.status == AccountStatus::Invited {
            return Err(AppError::Conflict(
                ConflictKind::UserState,
                "The user has not accepted its invitation yet; revoke the invitation instead.".into(),
            ));
        }
        if before.row.status == to {
            return Ok(before);
        }
        let row =
            queries::update(conn, before.id(), &UserChanges { status: Some(to), ..Default::default() })?;
        let after = User { row, groups: before.groups.clone() };
        rules::track_access(conn, &before, &after)?;
        Ok(after)
    };
    // Not conditional: the status is the whole change, and doing it twice changes nothing.
    write::update(state, &actor, action, IfMatch::default(), lock, change).await
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
    path: web::Path<(CustomerId, UserId)>,
    _body: NoBody,
) -> Result<Tagged<UserView>, AppError> {
    set_status(&state, actor, path.into_inner(), AccountStatus::Deactivated).await
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
/// For a caller limited to groups, a user outside them (also in another group, or in no group
/// and so seeing everything) is a 404, exactly like a missing one.
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
    let locker = actor.clone();
    let lock = move |conn: &mut _| rules::lock_for(conn, &locker, customer_id, user_id);
    let remove = move |conn: &mut _, _: User| {
        rules::access_changed(conn, user_id, AccessChange::Closed)?;
        queries::delete(conn, customer_id, user_id)
    };
    write::delete(&state, &actor, audit::Action::UserDeleted, if_match, lock, remove).await
}
