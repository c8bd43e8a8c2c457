//! `/v1/customers/{customer_id}/users[/{user_id}]` and `GET /v1/users`.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{CreateUser, CustomerRole, PatchUser, UserFilters, UserView};
use super::models::{NewUser, UserChanges};
use super::views::{self, Views};
use super::{queries, rules};
use crate::accounts::{AccountStatus, UserRow, mails, queries as accounts};
use crate::accounts::{Actor, password_tokens};
use crate::audit::{self, Author, Event, Visibility};
use crate::customers::queries as customers;
use crate::db::{self, types::Email};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::identity::{passwords, sessions};
use crate::openapi::sets;
use crate::pagination::{List, PageParams};
use crate::permissions::{Kind, Role};
use crate::policy::{self, Action};
use crate::state::AppState;

pub(super) fn respond(mut response: HttpResponseBuilder, user: UserView) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of(user.updated_at))).json(user)
}

/// A group-limited person may only hand out its own groups, and never "no group" (see
/// [`policy::covers`]).
fn check_assignable(actor: &Actor, group_ids: &[Uuid]) -> Result<(), AppError> {
    if policy::covers(actor, group_ids) {
        Ok(())
    } else {
        Err(AppError::field(
            "group_ids",
            FieldCode::NotAllowed,
            "you are limited to groups, so you may only assign some of your own groups",
        ))
    }
}

/// 422 unless every id names a group of `customer_id`; then makes them the user's groups.
pub(super) fn set_groups(
    conn: &mut PgConnection,
    customer_id: Uuid,
    user_id: Uuid,
    group_ids: &[Uuid],
) -> Result<(), AppError> {
    let mut wanted = group_ids.to_vec();
    wanted.sort();
    wanted.dedup();
    if !crate::groups::queries::unknown(conn, customer_id, &wanted)?.is_empty() {
        return Err(AppError::field(
            "group_ids",
            FieldCode::Unknown,
            "names groups that are not this customer's",
        ));
    }
    crate::groups::queries::set_memberships(conn, customer_id, user_id, &wanted)?;
    Ok(())
}

pub(super) fn event(action: audit::Action, before: Option<&UserView>, after: Option<&UserView>) -> Event {
    let any = after.or(before);
    let visibility = [before, after]
        .into_iter()
        .flatten()
        .map(|view| Visibility::person(&view.group_ids))
        .reduce(Visibility::join)
        .unwrap_or(Visibility::Unlimited);
    Event {
        action,
        target_type: audit::Target::User,
        target_id: any.map(|v| v.id).unwrap_or_default(),
        customer_id: any.map(|v| v.customer_id),
        changes: audit::changes(before, after),
        visibility,
    }
}

/// 404 unless `user` is within `actor`'s visibility ([`policy::covers`]): every handler that
/// acts on or shows one user checks here, so a person of another group, or one who sees all,
/// is exactly as absent to a group-limited admin as a missing one. Returns the user's groups.
pub(super) fn require_visible_user(
    conn: &mut PgConnection,
    actor: &Actor,
    user: &UserRow,
) -> Result<Vec<Uuid>, AppError> {
    let groups = crate::accounts::queries::groups_of(conn, user)?;
    policy::require_covers(actor, &groups)?;
    Ok(groups)
}

/// The user as read before a write's slow part (hashing a password); the write re-checks
/// under its lock.
pub(super) async fn find_visible_user(
    pool: &db::DbPool,
    actor: &Actor,
    customer_id: Uuid,
    user_id: Uuid,
) -> Result<UserRow, AppError> {
    let actor = actor.clone();
    db::run(pool, move |conn| {
        let row = queries::find(conn, customer_id, user_id)?;
        require_visible_user(conn, &actor, &row)?;
        Ok::<_, AppError>(row)
    })
    .await
}

/// Acting on the owner needs [`Action::ManageOwner`] (an admin never may).
pub(super) fn require_for_target(actor: &Actor, target: &UserRow, customer_id: Uuid) -> Result<(), AppError> {
    if target.role == Role::Owner {
        policy::require(actor, Action::ManageOwner, customer_id)?;
    }
    Ok(())
}

fn email(value: &str) -> Result<Email, AppError> {
    Email::parse(value).ok_or_else(|| AppError::field("email", FieldCode::Email, "must be an e-mail address"))
}

async fn hash(
    hasher: &crate::identity::hasher::Hasher,
    password: Option<String>,
    email: Option<&str>,
) -> Result<Option<String>, AppError> {
    let Some(password) = password else { return Ok(None) };
    passwords::check_policy(&password, email, "password").map_err(|e| AppError::Validation(vec![e]))?;
    hasher.hash(password).await.map(Some)
}

const LOGINS_CLOSED: &str =
    "The customer is suspended or its portal is switched off, so its users cannot have a login.";

/// List a customer's users
///
/// Filters combine; `q` matches a substring of the name or e-mail. Staff, or the customer's
/// owner and admins (`users.manage`). A caller limited to groups lists only the people within
/// them: in at least one of its groups and in no other (someone in no group sees everything,
/// so is not listed to it).
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
    customer_id: web::Path<Uuid>,
    filters: web::Query<UserFilters>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let page = page.page()?;
    validator::Validate::validate(&*filters)?;
    let filters = filters.into_inner();
    let within = policy::group_scope(&actor);
    let (rows, views) = db::run(&state.pool, move |conn| {
        customers::find(conn, customer_id)?;
        let rows = queries::list(conn, customer_id, within.as_deref(), &filters, page)?;
        let views = Views::load(conn, &rows)?;
        Ok::<_, AppError>((rows, views))
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from_rows(rows, page, |row| row.id, |row| views.of(&row))))
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
    filters: web::Query<UserFilters>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::FindUsers)?;
    let page = page.page()?;
    validator::Validate::validate(&*filters)?;
    let filters = filters.into_inner();
    let scope = policy::scope(&actor);
    let (rows, views) = db::run(&state.pool, move |conn| {
        let rows = queries::find_across(conn, &scope, &filters, page)?;
        let views = Views::load(conn, &rows)?;
        Ok::<_, AppError>((rows, views))
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from_rows(rows, page, |row| row.id, |row| views.of(&row))))
}

/// Add a user
///
/// Without login (`login_enabled: false`) only a name is needed: a contact that can never sign
/// in. With login: an e-mail free across the service (409 otherwise) and a `password` or
/// `send_mail: true` (a welcome mail with a 7-day link to choose a password). 409 when the
/// customer is suspended or its portal is off. Only staff and the owner may create an owner
/// (403), and a customer has at most one (409). A caller limited to groups gives the user some
/// of its own groups (all of them by default; none or another group's is a 422), and another
/// group's warehouse address is a 422 like an unknown one.
#[utoipa::path(
    tag = "users",
    operation_id = "createUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
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
    customer_id: web::Path<Uuid>,
    Json(body): Json<CreateUser>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let role = Role::from(body.role.unwrap_or(CustomerRole::User));
    if role == Role::Owner {
        policy::require(&actor, Action::ManageOwner, customer_id)?;
    }
    let email = body.email.as_deref().map(email).transpose()?;
    let login_enabled = body.login_enabled.unwrap_or(email.is_some());
    let send_mail = body.send_mail.unwrap_or(false);
    rules::check_login(login_enabled, email.is_some(), body.password.is_some(), send_mail)?;
    let permissions = rules::grants(role, body.permissions.as_deref(), None)?;
    let password_hash = hash(&state.hasher, body.password, email.as_ref().map(Email::as_str)).await?;
    let author = Author::from(&actor);
    let config = state.config.clone();
    let new = NewUser {
        id: Uuid::now_v7(),
        kind: Kind::CustomerUser,
        customer_id: Some(customer_id),
        email,
        name: body.name.trim().to_owned(),
        phone: body.phone,
        password_hash,
        role,
        status: AccountStatus::Active,
        login_enabled,
        permissions: permissions.into_iter().map(Some).collect(),
        warehouse_address_id: body.warehouse_address_id,
        cost_center_id: body.cost_center_id,
        external_id: body.external_id.map(|id| id.trim().to_owned()),
    };
    // A group-limited admin's people join its groups unless it names some of them.
    let group_ids = match (body.group_ids, policy::group_scope(&actor)) {
        (Some(ids), _) => ids,
        (None, Some(own)) => own,
        (None, None) => Vec::new(),
    };
    check_assignable(&actor, &group_ids)?;
    let within = policy::group_scope(&actor);
    let user = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let customer = customers::find(conn, customer_id)?;
            if new.login_enabled && !accounts::customer_allows_logins(conn, customer_id)? {
                return Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()));
            }
            rules::check_references(
                conn,
                customer_id,
                within.as_deref(),
                new.warehouse_address_id,
                new.cost_center_id,
            )?;
            // No address stored means "follow the customer's default" (the view fills it in).
            let row: UserRow = diesel::insert_into(crate::db::schema::users::table)
                .values(&new)
                .returning(UserRow::as_returning())
                .get_result(conn)?;
            set_groups(conn, customer_id, row.id, &group_ids)?;
            if send_mail {
                mails::send_welcome(conn, &config, &row, Some(customer.row.name.clone()))?;
            }
            let user = views::one(conn, &row)?;
            audit::record(conn, &author, event(audit::Action::UserCreated, None, Some(&user)))?;
            Ok::<_, AppError>(user)
        })
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/customers/{customer_id}/users/{}", user.id)));
    Ok(respond(response, user))
}

/// Get a user
///
/// For a caller limited to groups, a user outside them (also in another group, or in no group
/// and so seeing everything) is a 404, exactly like a missing one.
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
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let user = db::run(&state.pool, move |conn| {
        let row = queries::find(conn, customer_id, user_id)?;
        require_visible_user(conn, &actor, &row)?;
        Ok::<_, AppError>(views::one(conn, &row)?)
    })
    .await?;
    Ok(respond(HttpResponse::Ok(), user))
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
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    Json(patch): Json<PatchUser>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    if patch.role == Some(CustomerRole::Owner) {
        return Err(AppError::field(
            "role",
            FieldCode::UseOwnerTransfer,
            "make someone owner with POST /v1/customers/{customer_id}/owner",
        ));
    }
    if let Some(group_ids) = &patch.group_ids {
        check_assignable(&actor, group_ids)?;
    }
    let is_self = user_id == actor.id();
    if is_self && (patch.role.is_some() || patch.login_enabled == Some(false)) {
        return Err(AppError::Conflict(
            ConflictKind::OwnAccount,
            "You cannot change your own role or turn off your own login.".into(),
        ));
    }
    let new_email = match &patch.email {
        Some(Some(value)) => Some(Some(email(value)?)),
        Some(None) => Some(None),
        None => None,
    };
    // The password policy needs the final e-mail; read it first (the write re-checks under lock).
    let current = find_visible_user(&state.pool, &actor, customer_id, user_id).await?;
    require_for_target(&actor, &current, customer_id)?;
    let final_email = match &new_email {
        Some(value) => value.clone(),
        None => current.email.clone(),
    };
    let password_hash =
        hash(&state.hasher, patch.password.clone(), final_email.as_ref().map(Email::as_str)).await?;
    let author = Author::from(&actor);
    let within = policy::group_scope(&actor);
    let config = state.config.clone();
    let user = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, user_id)?;
            require_visible_user(conn, &actor, &before)?;
            require_for_target(&actor, &before, customer_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            let before_view = views::one(conn, &before)?;
            if patch.role.is_some() && before.role == Role::Owner {
                return Err(AppError::Conflict(
                    ConflictKind::OwnerRole,
                    "The owner keeps its role; transfer ownership to someone else first.".into(),
                ));
            }
            let role = patch.role.map_or(before.role, Role::from);
            let current_grants = (before.role == Role::User).then(|| before.granted_permissions());
            let permissions = rules::grants(role, patch.permissions.as_deref(), current_grants.as_deref())?;
            let login_enabled = patch.login_enabled.unwrap_or(before.login_enabled);
            let has_email = match &new_email {
                Some(value) => value.is_some(),
                None => before.email.is_some(),
            };
            let send_mail = patch.send_mail.unwrap_or(false);
            let keeps_password = login_enabled && before.password_hash.is_some();
            rules::check_login(
                login_enabled,
                has_email,
                password_hash.is_some() || keeps_password,
                send_mail,
            )?;
            let opening_login = login_enabled && !before.login_enabled;
            if opening_login && !accounts::customer_allows_logins(conn, customer_id)? {
                return Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()));
            }
            let address = patch.warehouse_address_id.flatten();
            let cost_center = patch.cost_center_id.flatten();
            rules::check_references(conn, customer_id, within.as_deref(), address, cost_center)?;
            let login_closed = !login_enabled && before.login_enabled;
            let changes = UserChanges {
                name: patch.name.map(|n| n.trim().to_owned()),
                phone: patch.phone,
                email: new_email,
                login_enabled: patch.login_enabled,
                role: Some(role),
                permissions: Some(permissions.into_iter().map(Some).collect()),
                warehouse_address_id: patch.warehouse_address_id,
                cost_center_id: patch.cost_center_id,
                external_id: patch.external_id.map(|id| id.map(|id| id.trim().to_owned())),
                // A user without login keeps no password.
                password_hash: if login_closed { Some(None) } else { password_hash.map(Some) },
                status: None,
            };
            let after = queries::update(conn, user_id, &changes)?;
            if let Some(group_ids) = &patch.group_ids {
                set_groups(conn, customer_id, user_id, group_ids)?;
            }
            let after_view = views::one(conn, &after)?;
            let password_changed = after.password_hash != before.password_hash;
            let groups_changed = after_view.group_ids != before_view.group_ids;
            if after.role != before.role
                || login_closed
                || password_changed
                || groups_changed
                || after.email != before.email
            {
                sessions::end_all_for_user(conn, user_id, sessions::reason::ACCESS_CHANGED)?;
            }
            if login_closed || password_changed {
                password_tokens::revoke_all(conn, user_id)?;
            }
            if send_mail {
                let customer = customers::find(conn, customer_id)?;
                mails::send_welcome(conn, &config, &after, Some(customer.row.name))?;
            }
            audit::record(
                conn,
                &author,
                event(audit::Action::UserUpdated, Some(&before_view), Some(&after_view)),
            )?;
            Ok::<_, AppError>(after_view)
        })
    })
    .await?;
    Ok(respond(HttpResponse::Ok(), user))
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
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    if user_id == actor.id() {
        return Err(AppError::Conflict(ConflictKind::OwnAccount, "You cannot delete yourself.".into()));
    }
    let author = Author::from(&actor);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, user_id)?;
            require_visible_user(conn, &actor, &before)?;
            require_for_target(&actor, &before, customer_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            let before_view = views::one(conn, &before)?;
            // Sessions, refresh tokens, password links and memberships go with the row.
            queries::delete(conn, customer_id, user_id)?;
            audit::record(conn, &author, event(audit::Action::UserDeleted, Some(&before_view), None))?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
