//! `POST /v1/customers/{customer_id}/owner`: ownership moves from one person to another.

use actix_web::{post, web};
use diesel::PgConnection;

use super::dto::{TransferOwnership, UserView};
use super::models::{User, UserChanges};
use super::{queries, rules};
use crate::accounts::{AccountStatus, Actor};
use crate::audit::{self, Author, Event, Visibility};
use crate::db::{self, ids::CustomerId, ids::UserId};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::extract::Json;
use crate::openapi::sets;
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{Tagged, Viewed};

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
    let eligible = user.row.status == AccountStatus::Active && user.row.login_enabled;
    if user.row.role != Role::Owner && !eligible {
        return Err(AppError::Conflict(
            ConflictKind::UserState,
            "Only an active user with a login can become the owner.".into(),
        ));
    }
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
    let previous_visibility = previous.map_or(Visibility::Everyone, |p| Visibility::person(&p.groups));
    Event {
        action: audit::Action::CustomerOwnerTransferred,
        target_type: audit::Target::Customer,
        target_id: customer_id.into(),
        customer_id: Some(customer_id.into()),
        changes: serde_json::json!({
            "owner": {"from": previous.map(|p| p.row.id), "to": owner.row.id}
        }),
        visibility: previous_visibility.join(Visibility::person(&owner.groups)),
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
    customer_id: web::Path<CustomerId>,
    Json(body): Json<TransferOwnership>,
) -> Result<Tagged<UserView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageOwner, customer_id)?;
    let author = Author::from(&actor);
    let view = db::transaction(&state.pool, move |conn| {
        // The customer row serializes transfers of one customer.
        queries::lock_customer(conn, customer_id)?;
        let target = new_owner(conn, &actor, customer_id, body.user_id.into())?;
        if target.row.role == Role::Owner {
            return target.view(conn);
        }
        let previous = match queries::lock_owner(conn, customer_id)? {
            Some(row) => {
                let previous = User::load(conn, row)?;
                Some(change_role(conn, previous, Role::Admin)?)
            }
            None => None,
        };
        let owner = change_role(conn, target, Role::Owner)?;
        audit::record(conn, &author, transferred(customer_id, previous.as_ref(), &owner))?;
        owner.view(conn)
    })
    .await?;
    Ok(Tagged::read(view))
}
