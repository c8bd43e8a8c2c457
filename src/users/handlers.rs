//! `/v1/customers/{customer_id}/users[/{user_id}]` and `GET /v1/users`: listing, adding,
//! reading and changing users, each change in named steps (for a patch: [`validate_patch`]
//! without the database, [`plan_patch`] against the locked user, [`apply_patch`]). Status,
//! deletion, passwords and ownership are in [`super::lifecycle`].

use actix_web::{get, patch, post, web};
use diesel::PgConnection;
use uuid::Uuid;

use super::dto::{CreateUser, PatchUser, UserFilters, UserView};
use super::models::{Access, AccessRequest, NewUser, User, UserChanges};
use super::views;
use super::{queries, rules};
use crate::accounts::{Actor, mails};
use crate::audit;
use crate::config::Config;
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::{self, types::Email};
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Query};
use crate::idempotency::{Idempotent, KeyHeader};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Tagged};

/// List a customer's users
///
/// Filters combine; `q` matches a substring of the name or e-mail. Staff, or the customer's
/// owner and admins (`users.manage`). A caller limited to groups lists only the people within
/// them: data scope `groups` and in no other group (someone who sees `all` is not listed to
/// it; someone in no group at all, who sees untagged data only, is).
#[utoipa::path(
    tag = "users",
    operation_id = "listUsers",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), UserFilters, PageParams),
    responses(
        (status = 200, description = "A page of users.", body = List<UserView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Query(filters): Query<UserFilters>,
    page: Page,
) -> Result<web::Json<List<UserView>>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let within = policy::group_scope(&actor);
    let rows = db::run(&state.pool, move |conn| {
        let rows = queries::list(conn, customer_id, within.as_deref(), &filters, page)?;
        // A user row means its customer exists (the foreign key); only an empty page asks.
        if rows.is_empty() {
            queries::customer_name(conn, customer_id)?;
        }
        Ok::<_, AppError>(rows)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |(row, ..)| row.id, views::listed)))
}

/// Find users across customers
///
/// Staff only: customer users of every customer the caller may see, by a substring of the
/// name or e-mail (`q`), status and role.
#[utoipa::path(
    tag = "users",
    operation_id = "findUsers",
    security(("bearer" = [])),
    params(UserFilters, PageParams),
    responses(
        (status = 200, description = "A page of users.", body = List<UserView>),
        sets::SignedIn, sets::Query, sets::Forbidden,
    )
)]
#[get("/v1/users")]
pub async fn find_users(
    state: web::Data<AppState>,
    actor: Actor,
    Query(filters): Query<UserFilters>,
    page: Page,
) -> Result<web::Json<List<UserView>>, AppError> {
    policy::require_global(&actor, Action::FindUsers)?;
    let scope = policy::scope(&actor);
    let rows = db::run(&state.pool, move |conn| queries::find_across(conn, &scope, &filters, page)).await?;
    Ok(web::Json(List::from_rows(rows, page, |(row, ..)| row.id, views::listed)))
}

/// A user to add, checked as far as it can be without the database.
struct Addition {
    new: NewUser,
    access: Access,
    send_mail: bool,
    within: Option<Vec<Uuid>>,
}

/// Checks what the body asks for against the rules of section 6 and the caller's rights, and
/// hashes the password, if one is given.
async fn check_addition(
    state: &AppState,
    actor: &Actor,
    customer_id: CustomerId,
    body: CreateUser,
) -> Result<Addition, AppError> {
    let asked = AccessRequest { data_scope: body.data_scope, group_ids: body.group_ids };
    let grant = rules::grant(actor, customer_id, body.role, body.permissions.as_deref(), asked)?;
    let email = body.email.as_deref().map(rules::email).transpose()?;
    let login_enabled = body.login_enabled.unwrap_or(email.is_some());
    let send_mail = body.send_mail.unwrap_or(false);
    rules::check_login(login_enabled, email.is_some(), body.password.is_some(), send_mail)?;
    let login = email.as_ref().map(Email::as_str);
    let temporary = body.password.is_some()
        && body.temporary.unwrap_or(state.config.sign_in.operator_passwords_temporary);
    let password_hash = match body.password {
        Some(password) => Some(rules::hash_password(&state.hasher, password, login).await?),
        None => None,
    };
    let new = NewUser {
        email,
        phone: body.phone,
        password_hash,
        login_enabled,
        warehouse_address_id: body.warehouse_address_id.map(AddressId::from),
        cost_center_id: body.cost_center_id.map(CostCenterId::from),
        external_id: body.external_id.map(|id| id.trim().to_owned()),
        valid_until: body.valid_until,
        // Stored with the row: no second statement to mark it.
        password_change_required: temporary,
        ..NewUser::new(
            customer_id,
            body.name.trim().to_owned(),
            grant.role,
            grant.permissions,
            grant.data_scope,
        )
    };
    let access = Access { data_scope: grant.data_scope, group_ids: grant.group_ids };
    Ok(Addition { new, access, send_mail, within: policy::group_scope(actor) })
}

/// Inserts the person with its groups, and queues its welcome mail when asked to.
fn insert_addition(
    conn: &mut PgConnection,
    config: &Config,
    addition: Addition,
) -> Result<views::WithDefault, AppError> {
    let Addition { new, access, send_mail, within } = addition;
    let customer_id = new.customer_id.unwrap_or_default();
    let references = (new.warehouse_address_id, new.cost_center_id);
    let groups = match access.data_scope {
        crate::permissions::DataScope::All => Vec::new(),
        crate::permissions::DataScope::Groups => access.group_ids.clone(),
    };
    let admitted =
        rules::admit(conn, customer_id, new.login_enabled, within.as_deref(), references, &groups)?;
    let row = queries::insert(conn, &new)?;
    let groups = rules::set_access_of(conn, customer_id, &[UserId::from(row.id)], &[], &access)?;
    if send_mail {
        mails::send_welcome(conn, config, &row, Some(admitted.customer_name))?;
    }
    Ok(views::WithDefault { user: User { row, groups }, default_address: admitted.default_address })
}

/// Add a user
///
/// Without login (`login_enabled: false`) only a name is needed: a contact that can never sign
/// in. With login: an e-mail free across the service (409 otherwise) and a `password` or
/// `send_mail: true` (a welcome mail with a 7-day link to choose a password). 409 when the
/// customer is suspended or its portal is off. Only staff and the owner may create an owner
/// (403), and a customer has at most one (409). Without `group_ids` the user sees `all` of the
/// customer's data; with groups its data scope is `groups` (`data_scope` may say so
/// explicitly; `all` with groups is a 422). A caller limited to groups gives the user some of
/// its own groups (all of them by default; `[]` with `data_scope: "groups"`: untagged data
/// only), never `all` (422), and another group's warehouse address is a 422 like an unknown one.
#[utoipa::path(
    tag = "users",
    operation_id = "createUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateUser, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = UserView, headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateUser>>,
) -> Result<Tagged<UserView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let addition = check_addition(&state, &actor, customer_id, body).await?;
    let config = state.config.clone();
    write::create_once(&state, &actor, key, audit::Action::UserCreated, move |conn| {
        insert_addition(conn, &config, addition)
    })
    .await
}

/// Get a user
///
/// For a caller limited to groups, a user outside them (also in another group, or with data
/// scope `all`) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "getUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The user.", body = UserView, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/users/{user_id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
) -> Result<Tagged<UserView>, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let view = db::run(&state.pool, move |conn| {
        let row = queries::find(conn, customer_id, user_id)?;
        let user = rules::require_visible(conn, &actor, row)?;
        write::Viewed::view(&user, conn)
    })
    .await?;
    Ok(Tagged::ok(view))
}

/// The patch, checked as far as it can be without the user.
struct PatchRequest {
    patch: PatchUser,
    /// The new e-mail address: absent, cleared (`Some(None)`) or set.
    email: Option<Option<Email>>,
    password_hash: Option<String>,
    /// The caller's group limit: addresses of other groups are not its to hand out.
    within: Option<Vec<Uuid>>,
    /// The caller: which data scopes and groups it may give.
    actor: Actor,
}

/// The change to make.
struct PatchPlan {
    changes: UserChanges,
    /// The new data scope and groups, when they change.
    access: Option<Access>,
    send_mail: bool,
    /// Who asks: a widening is audited on its own.
    author: audit::Author,
}

/// What the body asks, checked against the caller: nobody becomes owner here, a group-limited
/// caller hands out only its groups, and nobody changes its own role or closes its own login.
fn validate_patch(
    actor: &Actor,
    user_id: UserId,
    patch: PatchUser,
) -> Result<(PatchUser, Option<Option<Email>>), AppError> {
    rules::not_made_owner(patch.role)?;
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
    let current = rules::read_for(&state.pool, actor, (customer_id, user_id)).await?;
    let login = email.clone().unwrap_or(current.row.email);
    rules::hash_password(&state.hasher, password, login.as_ref().map(Email::as_str)).await.map(Some)
}

/// The changes the request makes to `before`, once they pass the rules of section 6.
fn plan_patch(conn: &mut PgConnection, before: &User, request: PatchRequest) -> Result<PatchPlan, AppError> {
    let PatchRequest { patch, email, password_hash, within, actor } = request;
    let was = &before.row;
    rules::owner_keeps_role(was.role, patch.role)?;
    let role = patch.role.map_or(was.role, Role::from);
    let current_grants = (was.role == Role::User).then(|| was.granted_permissions());
    let permissions = rules::grants(role, patch.permissions.as_deref(), current_grants.as_deref())?;
    let login_enabled = patch.login_enabled.unwrap_or(was.login_enabled);
    let has_email = email.as_ref().map_or(was.email.is_some(), Option::is_some);
    let send_mail = patch.send_mail.unwrap_or(false);
    // Someone who has a login keeps its way to a password: the one it has, or the link it was
    // sent or can ask for ("forgot password"), as a directory-provisioned person does.
    let keeps_password = login_enabled && (was.password_hash.is_some() || was.login_enabled);
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
        data_scope: None,
        valid_until: patch.valid_until,
        expired_at: patch.valid_until.map(|_| None),
    };
    let current = before.access();
    let asked = AccessRequest { data_scope: patch.data_scope, group_ids: patch.group_ids };
    let access = rules::access_after(&actor, &current, asked)?;
    Ok(PatchPlan { changes, access, send_mail, author: audit::Author::from(&actor) })
}

/// Makes the change; the user's sessions end if its access changed, and the welcome mail goes
/// when asked for.
fn apply_patch(
    conn: &mut PgConnection,
    config: &Config,
    before: User,
    plan: PatchPlan,
) -> Result<User, AppError> {
    let (customer_id, user_id) = (before.customer_id(), before.id());
    let groups = match &plan.access {
        Some(access) => rules::set_access(conn, customer_id, user_id, access)?,
        None => before.groups.clone(),
    };
    // After the scope, so the row read back has it.
    let row = queries::update(conn, user_id, &plan.changes)?;
    let after = User { row, groups };
    rules::track_access(conn, &before, &after)?;
    rules::record_widening(conn, &plan.author, &before, &after)?;
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
/// `group_ids` naming groups makes an `all` user `groups`; `[]` keeps the data scope (leaving
/// groups never widens); only `data_scope: "all"` widens, audited as `access.widened`. A change
/// of either ends the user's sessions.
/// For a caller limited to groups, a user outside them (also in another group, or with data
/// scope `all`) is a 404, exactly like a missing one. Its new `group_ids` must be some of the
/// caller's own, and it cannot give `all` (422).
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
    let (mut patch, email) = validate_patch(&actor, user_id, patch)?;
    let password_hash =
        new_password_hash(&state, &actor, (customer_id, user_id), patch.password.take(), &email).await?;
    let within = policy::group_scope(&actor);
    let request = PatchRequest { patch, email, password_hash, within, actor: actor.clone() };
    let (lock, config) = (rules::locking(&actor, customer_id, user_id), state.config.clone());
    let change = move |conn: &mut _, before: User| {
        let plan = plan_patch(conn, &before, request)?;
        apply_patch(conn, &config, before, plan)
    };
    write::update(&state, &actor, audit::Action::UserUpdated, if_match, lock, change).await
}
