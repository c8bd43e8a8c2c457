//! `PATCH /v1/customers/{customer_id}/users/{user_id}`, in named steps: [`validate`] what the
//! body asks without the database, [`plan`] the change against the locked user, [`apply`] it.

use actix_web::{patch, web};
use uuid::Uuid;

use super::dto::{CustomerRole, PatchUser, UserView};
use super::models::{User, UserChanges};
use super::{queries, rules};
use crate::accounts::{Actor, mails};
use crate::audit;
use crate::config::Config;
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::{self, types::Email};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::openapi::sets;
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Tagged};

/// The patch, checked as far as it can be without the user.
struct Request {
    patch: PatchUser,
    /// The new e-mail address: absent, cleared (`Some(None)`) or set.
    email: Option<Option<Email>>,
    password_hash: Option<String>,
    /// The caller's group limit: addresses of other groups are not its to hand out.
    within: Option<Vec<Uuid>>,
}

/// The change to make.
struct Plan {
    changes: UserChanges,
    group_ids: Option<Vec<Uuid>>,
    send_mail: bool,
}

/// What the body asks, checked against the caller: nobody becomes owner here, a group-limited
/// caller hands out only its groups, and nobody changes its own role or closes its own login.
fn validate(
    actor: &Actor,
    user_id: UserId,
    patch: PatchUser,
) -> Result<(PatchUser, Option<Option<Email>>), AppError> {
    if patch.role == Some(CustomerRole::Owner) {
        return Err(AppError::field(
            "role",
            FieldCode::UseOwnerTransfer,
            "make someone owner with POST /v1/customers/{customer_id}/owner",
        ));
    }
    if let Some(group_ids) = &patch.group_ids {
        rules::check_assignable(actor, group_ids)?;
    }
    if patch.role.is_some() || patch.login_enabled == Some(false) {
        rules::not_self(actor, user_id, "You cannot change your own role or turn off your own login.")?;
    }
    let email =
        patch.email.as_ref().map(|value| value.as_deref().map(rules::email).transpose()).transpose()?;
    Ok((patch, email))
}

/// The hash of a new password, checked against the e-mail address the user will have; read
/// before the (slow) hashing, and re-checked under the lock by the write.
async fn new_password_hash(
    state: &AppState,
    actor: &Actor,
    (customer_id, user_id): (CustomerId, UserId),
    password: Option<String>,
    email: &Option<Option<Email>>,
) -> Result<Option<String>, AppError> {
    let Some(password) = password else { return Ok(None) };
    let reader = actor.clone();
    let current =
        db::run(&state.pool, move |conn| rules::find_for(conn, &reader, customer_id, user_id)).await?;
    let login = email.clone().unwrap_or(current.row.email);
    rules::hash_password(&state.hasher, password, login.as_ref().map(Email::as_str)).await.map(Some)
}

/// The changes the request makes to `before`, once they pass the rules of section 6.
fn plan(conn: &mut diesel::PgConnection, before: &User, request: Request) -> Result<Plan, AppError> {
    let Request { patch, email, password_hash, within } = request;
    let was = &before.row;
    if patch.role.is_some() && was.role == Role::Owner {
        return Err(AppError::Conflict(
            ConflictKind::OwnerRole,
            "The owner keeps its role; transfer ownership to someone else first.".into(),
        ));
    }
    let role = patch.role.map_or(was.role, Role::from);
    let current_grants = (was.role == Role::User).then(|| was.granted_permissions());
    let permissions = rules::grants(role, patch.permissions.as_deref(), current_grants.as_deref())?;
    let login_enabled = patch.login_enabled.unwrap_or(was.login_enabled);
    let has_email = email.as_ref().map_or(was.email.is_some(), Option::is_some);
    let send_mail = patch.send_mail.unwrap_or(false);
    let keeps_password = login_enabled && was.password_hash.is_some();
    rules::check_login(login_enabled, has_email, password_hash.is_some() || keeps_password, send_mail)?;
    if login_enabled && !was.login_enabled {
        rules::require_logins_open(conn, before.customer_id())?;
    }
    let address = patch.warehouse_address_id.map(|id| id.map(AddressId::from));
    let cost_center = patch.cost_center_id.map(|id| id.map(CostCenterId::from));
    rules::check_references(
        conn,
        before.customer_id(),
        within.as_deref(),
        address.flatten(),
        cost_center.flatten(),
    )?;
    // A user without login keeps no password.
    let login_closed = !login_enabled && was.login_enabled;
    let changes = UserChanges {
        name: patch.name.map(|name| name.trim().to_owned()),
        phone: patch.phone,
        email,
        login_enabled: patch.login_enabled,
        role: Some(role),
        permissions: Some(permissions.into_iter().map(Some).collect()),
        warehouse_address_id: address,
        cost_center_id: cost_center,
        external_id: patch.external_id.map(|id| id.map(|id| id.trim().to_owned())),
        password_hash: if login_closed { Some(None) } else { password_hash.map(Some) },
        status: None,
    };
    Ok(Plan { changes, group_ids: patch.group_ids, send_mail })
}

/// Makes the change; the user's sessions end if its access changed, and the welcome mail goes
/// when asked for.
fn apply(
    conn: &mut diesel::PgConnection,
    config: &Config,
    before: User,
    plan: Plan,
) -> Result<User, AppError> {
    let (customer_id, user_id) = (before.customer_id(), before.id());
    let row = queries::update(conn, user_id, &plan.changes)?;
    let groups = match &plan.group_ids {
        Some(group_ids) => rules::set_groups(conn, customer_id, user_id, group_ids)?,
        None => before.groups.clone(),
    };
    let after = User { row, groups };
    rules::track_access(conn, &before, &after)?;
    if plan.send_mail {
        let customer_name = queries::customer_name(conn, customer_id)?;
        mails::send_welcome(conn, config, &after.row, Some(customer_name))?;
    }
    Ok(after)
}

/// Update a user
///
/// JSON merge-patch. Enabling login needs an e-mail and a `password` or `send_mail: true`
/// (409 while the customer is suspended or its portal is off). Changing the role, turning login
/// off or setting a password ends the user's sessions. An admin cannot change the owner (403);
/// ownership moves with `POST /v1/customers/{customer_id}/owner`. You cannot change your own
/// role or turn off your own login (409). Honours `If-Match`.
/// For a caller limited to groups, a user outside them (also in another group, or in no group
/// and so seeing everything) is a 404, exactly like a missing one. Its new
/// `group_ids` must be some of the caller's own (422).
#[utoipa::path(
    tag = "users",
    operation_id = "patchUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchUser, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated user.", body = UserView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[patch("/v1/customers/{customer_id}/users/{user_id}")]
pub async fn patch_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
    if_match: IfMatch,
    Json(patch): Json<PatchUser>,
) -> Result<Tagged<UserView>, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let (mut patch, email) = validate(&actor, user_id, patch)?;
    let password_hash =
        new_password_hash(&state, &actor, (customer_id, user_id), patch.password.take(), &email).await?;
    let request = Request { patch, email, password_hash, within: policy::group_scope(&actor) };
    let (locker, config) = (actor.clone(), state.config.clone());
    let lock = move |conn: &mut _| rules::lock_for(conn, &locker, customer_id, user_id);
    let change = move |conn: &mut _, before: User| {
        let plan = plan(conn, &before, request)?;
        apply(conn, &config, before, plan)
    };
    write::update(&state, &actor, audit::Action::UserUpdated, if_match, lock, change).await
}
