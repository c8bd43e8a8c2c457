//! `/v1/customers` and `/v1/customers/{customer_id}`.

use actix_web::{delete, get, patch, post, web};
use diesel::PgConnection;

use super::dto::{CreateCustomer, CustomerFilters, CustomerView, PatchCustomer};
use super::models::{Customer, CustomerChanges};
use super::queries;
use crate::accounts::Actor;
use crate::audit;
use crate::db::{self, ids::CustomerId};
use crate::error::{AppError, ConflictKind};
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Query};
use crate::idempotency::{Idempotent, KeyHeader};
use crate::identity::sessions;
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Deleted, Tagged};

/// List customers
///
/// Customers the caller can see, oldest first: all of them for platform admins and unscoped
/// dispatchers, the scoped ones for a scoped dispatcher, its own for a customer user.
#[utoipa::path(
    tag = "customers",
    operation_id = "listCustomers",
    security(("bearer" = [])),
    params(CustomerFilters, PageParams),
    responses(
        (status = 200, description = "A page of customers.", body = List<CustomerView>),
        sets::SignedIn, sets::Query,
    )
)]
#[get("/v1/customers")]
pub async fn list_customers(
    state: web::Data<AppState>,
    actor: Actor,
    Query(filters): Query<CustomerFilters>,
    page: Page,
) -> Result<web::Json<List<CustomerView>>, AppError> {
    let scope = policy::scope(&actor);
    let customers = db::run(&state.pool, move |conn| queries::list(conn, &scope, &filters, page)).await?;
    Ok(web::Json(List::from_rows(customers, page, |c| c.row.id.into(), |c| CustomerView::from(&c))))
}

/// Create a customer
///
/// Platform admins and dispatchers without a customer scope. `code` is unique regardless of
/// case (409 when taken).
#[utoipa::path(
    tag = "customers",
    operation_id = "createCustomer",
    security(("bearer" = [])),
    params(KeyHeader),
    request_body(content = CreateCustomer, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = CustomerView,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Conflicting,
    )
)]
#[post("/v1/customers")]
pub async fn create_customer(
    state: web::Data<AppState>,
    actor: Actor,
    Idempotent(key, Json(body)): Idempotent<Json<CreateCustomer>>,
) -> Result<Tagged<CustomerView>, AppError> {
    policy::require_global(&actor, Action::CreateCustomer)?;
    let new = body.into_new();
    write::create_once(&state, &actor, key, audit::Action::CustomerCreated, move |conn| {
        queries::insert(conn, &new)
    })
    .await
}

/// Get a customer
///
/// Every customer user can read its own customer.
#[utoipa::path(
    tag = "customers",
    operation_id = "getCustomer",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The customer.", body = CustomerView, headers(("ETag" = String))),
        sets::SignedIn, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}")]
pub async fn get_customer(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
) -> Result<Tagged<CustomerView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let customer = db::run(&state.pool, move |conn| queries::find(conn, customer_id)).await?;
    Ok(Tagged::ok(CustomerView::from(&customer)))
}

/// Update a customer
///
/// JSON merge-patch. Staff may change every field; the customer's own owner and admins only
/// `name`, `contact_email` and `phone` (403 otherwise) — and the owner `mfa_required` too (an
/// admin gets 403). Turning `mfa_required` on is a 409 while the server has no
/// `MFA_ENCRYPTION_KEY`. Honours `If-Match`.
#[utoipa::path(
    tag = "customers",
    operation_id = "patchCustomer",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchCustomer, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated customer.", body = CustomerView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[patch("/v1/customers/{customer_id}")]
pub async fn patch_customer(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    if_match: IfMatch,
    Json(patch): Json<PatchCustomer>,
) -> Result<Tagged<CustomerView>, AppError> {
    let customer_id = customer_id.into_inner();
    let action =
        if patch.touches_settings() { Action::ManageCustomer } else { Action::UpdateCustomerProfile };
    policy::require(&actor, action, customer_id)?;
    if let Some(required) = patch.mfa_required {
        policy::require(&actor, Action::RequireMfa, customer_id)?;
        // Without the key nobody could enrol: everyone would be locked out at the next sign-in.
        if required && state.config.sign_in.mfa_encryption_key.is_none() {
            return Err(AppError::Conflict(
                ConflictKind::Conflict,
                "MFA cannot be required: the server has no MFA_ENCRYPTION_KEY to protect TOTP secrets."
                    .into(),
            ));
        }
    }
    let changes = CustomerChanges::from(patch);
    let lock = move |conn: &mut _| queries::lock(conn, customer_id);
    let change = move |conn: &mut _, before| update_closing_logins(conn, &before, &changes);
    write::update(&state, &actor, audit::Action::CustomerUpdated, if_match, lock, change).await
}

/// Applies `changes`; a customer that stops allowing logins (suspended, or its portal switched
/// off) ends its people's sessions in the same transaction, so no token outlives the change.
fn update_closing_logins(
    conn: &mut PgConnection,
    before: &Customer,
    changes: &CustomerChanges,
) -> diesel::QueryResult<Customer> {
    let after = queries::update(conn, before.row.id, changes)?;
    if before.row.allows_logins() && !after.row.allows_logins() {
        sessions::end_all_for_customer(conn, after.row.id, None, sessions::reason::CUSTOMER_CLOSED)?;
    }
    Ok(after)
}

/// Delete a customer
///
/// Staff only. Removes its warehouse addresses and cost centers with it; a customer that still
/// has users is a 409 (remove the users first). Honours `If-Match`.
#[utoipa::path(
    tag = "customers",
    operation_id = "deleteCustomer",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[delete("/v1/customers/{customer_id}")]
pub async fn delete_customer(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageCustomer, customer_id)?;
    let lock = move |conn: &mut _| queries::lock(conn, customer_id);
    let remove = move |conn: &mut _, _| queries::delete(conn, customer_id);
    write::delete(&state, &actor, audit::Action::CustomerDeleted, if_match, lock, remove).await
}
