//! `/v1/customers/{customer_id}/users[/{user_id}]` (listing, adding, reading) and
//! `GET /v1/users`. Changes are in [`super::patch`], [`super::lifecycle`], [`super::passwords`]
//! and [`super::owner`].

use actix_web::{get, post, web};

use super::dto::{CreateUser, CustomerRole, UserFilters, UserView};
use super::models::{NewUser, User};
use super::queries;
use super::rules;
use super::views::Views;
use crate::accounts::{Actor, mails};
use crate::audit;
use crate::config::Config;
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::{self, types::Email};
use crate::error::AppError;
use crate::extract::{Json, Query};
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
    customer_id: web::Path<CustomerId>,
    Query(filters): Query<UserFilters>,
    page: Page,
) -> Result<web::Json<List<UserView>>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let within = policy::group_scope(&actor);
    let (rows, views) = db::run(&state.pool, move |conn| {
        queries::customer_name(conn, customer_id)?;
        let rows = queries::list(conn, customer_id, within.as_deref(), &filters, page)?;
        Views::load(conn, &rows).map(|views| (rows, views))
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |row| row.id, |row| views.of(&row))))
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
    let (rows, views) = db::run(&state.pool, move |conn| {
        let rows = queries::find_across(conn, &scope, &filters, page)?;
        Views::load(conn, &rows).map(|views| (rows, views))
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |row| row.id, |row| views.of(&row))))
}

/// A user to add, checked as far as it can be without the database.
struct Addition {
    new: NewUser,
    group_ids: Vec<uuid::Uuid>,
    send_mail: bool,
    within: Option<Vec<uuid::Uuid>>,
}

/// Checks what the body asks for against the rules of section 6 and the caller's rights, and
/// hashes the password, if one is given.
async fn validate(
    state: &AppState,
    actor: &Actor,
    customer_id: CustomerId,
    body: CreateUser,
) -> Result<Addition, AppError> {
    let role = Role::from(body.role.unwrap_or(CustomerRole::User));
    rules::require_owner_rights(actor, role, customer_id)?;
    let email = body.email.as_deref().map(rules::email).transpose()?;
    let login_enabled = body.login_enabled.unwrap_or(email.is_some());
    let send_mail = body.send_mail.unwrap_or(false);
    rules::check_login(login_enabled, email.is_some(), body.password.is_some(), send_mail)?;
    let permissions = rules::grants(role, body.permissions.as_deref(), None)?;
    let group_ids = rules::groups_for(actor, body.group_ids)?;
    let password_hash = match body.password {
        Some(password) => {
            Some(rules::hash_password(&state.hasher, password, email.as_ref().map(Email::as_str)).await?)
        }
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
        ..NewUser::new(customer_id, body.name.trim().to_owned(), role, permissions)
    };
    Ok(Addition { new, group_ids, send_mail, within: policy::group_scope(actor) })
}

/// Inserts the person with its groups, and queues its welcome mail when asked to.
fn insert(conn: &mut diesel::PgConnection, config: &Config, addition: Addition) -> Result<User, AppError> {
    let Addition { new, group_ids, send_mail, within } = addition;
    let customer_id = new.customer_id.unwrap_or_default();
    let customer_name = queries::hold_customer(conn, customer_id)?;
    if new.login_enabled {
        rules::require_logins_open(conn, customer_id)?;
    }
    rules::check_references(
        conn,
        customer_id,
        within.as_deref(),
        new.warehouse_address_id,
        new.cost_center_id,
    )?;
    let row = queries::insert(conn, &new)?;
    let groups = rules::set_groups(conn, customer_id, UserId::from(row.id), &group_ids)?;
    if send_mail {
        mails::send_welcome(conn, config, &row, Some(customer_name))?;
    }
    Ok(User { row, groups })
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
    customer_id: web::Path<CustomerId>,
    Json(body): Json<CreateUser>,
) -> Result<Tagged<UserView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let addition = validate(&state, &actor, customer_id, body).await?;
    let config = state.config.clone();
    write::create(&state, &actor, audit::Action::UserCreated, move |conn| insert(conn, &config, addition))
        .await
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
    Ok(Tagged::read(view))
}
