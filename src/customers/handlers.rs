//! `/v1/customers` and `/v1/customers/{customer_id}`.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use diesel::Connection;
use uuid::Uuid;

use super::dto::{CreateCustomer, CustomerFilters, CustomerView, PatchCustomer};
use super::models::{Customer, CustomerChanges, CustomerStatus, NewCustomer};
use super::queries;
use crate::accounts::Actor;
use crate::audit::{self, Author, Event};
use crate::db::{self, types::Email};
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::identity::sessions;
use crate::openapi::sets;
use crate::pagination::{List, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;

fn view(mut response: HttpResponseBuilder, customer: &Customer) -> HttpResponse {
    response
        .insert_header((header::ETAG, etag::of(customer.row.updated_at)))
        .json(CustomerView::from(customer))
}

/// Addresses come already validated; this only normalizes.
fn email(raw: String) -> Option<Email> {
    Email::parse(&raw)
}

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
    filters: web::Query<CustomerFilters>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let scope = policy::scope(&actor);
    let page = page.page()?;
    validator::Validate::validate(&*filters)?;
    let filters = filters.into_inner();
    let customers = db::run(&state.pool, move |conn| queries::list(conn, &scope, &filters, page)).await?;
    Ok(HttpResponse::Ok().json(List::from_rows(customers, page, |c| c.row.id, |c| CustomerView::from(&c))))
}

/// Create a customer
///
/// Platform admins and dispatchers without a customer scope. `code` is unique regardless of
/// case (409 when taken).
#[utoipa::path(
    tag = "customers",
    operation_id = "createCustomer",
    security(("bearer" = [])),
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
    Json(body): Json<CreateCustomer>,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::CreateCustomer)?;
    let author = Author::from(&actor);
    let new = NewCustomer {
        id: Uuid::now_v7(),
        name: body.name.trim().to_owned(),
        code: body.code,
        contact_email: body.contact_email.and_then(email),
        phone: body.phone,
        status: body.status.unwrap_or(CustomerStatus::Active),
        portal_enabled: body.portal_enabled.unwrap_or(true),
        self_signup_enabled: body.self_signup_enabled.unwrap_or(false),
    };
    let customer = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let customer = queries::insert(conn, &new)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::CustomerCreated,
                    target_type: audit::Target::Customer,
                    target_id: customer.row.id,
                    customer_id: Some(customer.row.id),
                    changes: audit::changes(None, Some(&CustomerView::from(&customer))),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(customer)
        })
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/customers/{}", customer.row.id)));
    Ok(view(response, &customer))
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
    customer_id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let customer = db::run(&state.pool, move |conn| queries::find(conn, customer_id)).await?;
    Ok(view(HttpResponse::Ok(), &customer))
}

/// Update a customer
///
/// JSON merge-patch. Staff may change every field; the customer's own owner and admins only
/// `name`, `contact_email` and `phone` (403 otherwise). Honours `If-Match`.
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
    customer_id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<PatchCustomer>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    let action =
        if patch.touches_settings() { Action::ManageCustomer } else { Action::UpdateCustomerProfile };
    policy::require(&actor, action, customer_id)?;
    let author = Author::from(&actor);
    let changes = CustomerChanges {
        name: patch.name.map(|n| n.trim().to_owned()),
        code: patch.code,
        contact_email: patch.contact_email.map(|e| e.and_then(email)),
        phone: patch.phone,
        status: patch.status,
        portal_enabled: patch.portal_enabled,
        self_signup_enabled: patch.self_signup_enabled,
    };
    let customer = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id)?;
            if_match.check(&etag::of(before.row.updated_at))?;
            let after = queries::update(conn, customer_id, &changes)?;
            let was_open = before.row.status == CustomerStatus::Active && before.row.portal_enabled;
            let is_open = after.row.status == CustomerStatus::Active && after.row.portal_enabled;
            if was_open && !is_open {
                sessions::end_all_for_customer(conn, customer_id, sessions::reason::CUSTOMER_CLOSED)?;
            }
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::CustomerUpdated,
                    target_type: audit::Target::Customer,
                    target_id: customer_id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(
                        Some(&CustomerView::from(&before)),
                        Some(&CustomerView::from(&after)),
                    ),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(after)
        })
    })
    .await?;
    Ok(view(HttpResponse::Ok(), &customer))
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
    customer_id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageCustomer, customer_id)?;
    let author = Author::from(&actor);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id)?;
            if_match.check(&etag::of(before.row.updated_at))?;
            queries::delete(conn, customer_id)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::CustomerDeleted,
                    target_type: audit::Target::Customer,
                    target_id: customer_id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(Some(&CustomerView::from(&before)), None),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
