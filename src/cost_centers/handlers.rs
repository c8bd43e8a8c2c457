//! `/v1/customers/{customer_id}/cost-centers[/{cost_center_id}]`: the resource a newcomer copies.
//! Each handler is extract -> authorize -> one call: a read through `db::run`, a change through
//! the write path (`write::create`, `update`, `delete`), which locks, checks `If-Match`, audits
//! and answers with the view and its ETag.

use actix_web::{delete, get, patch, post, web};

use super::dto::{CostCenterFilters, CostCenterView, CreateCostCenter, PatchCostCenter};
use super::models::CostCenterChanges;
use super::queries;
use crate::accounts::Actor;
use crate::audit;
use crate::customers::queries as customers;
use crate::db::{self, ids::CostCenterId, ids::CustomerId};
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Query};
use crate::idempotency::{Idempotent, KeyHeader};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Deleted, Tagged};

/// List cost centers
///
/// Every user of the customer can list them (to pick one); oldest first. `active` and `q`
/// (a substring of the code or name, case-insensitive) narrow the list.
#[utoipa::path(
    tag = "cost-centers",
    operation_id = "listCostCenters",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), CostCenterFilters, PageParams),
    responses(
        (status = 200, description = "A page of cost centers.", body = List<CostCenterView>),
        sets::SignedIn, sets::Query, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/cost-centers")]
pub async fn list_cost_centers(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Query(filters): Query<CostCenterFilters>,
    page: Page,
) -> Result<web::Json<List<CostCenterView>>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let rows = db::run(&state.pool, move |conn| {
        customers::exists(conn, customer_id)?;
        queries::list(conn, customer_id, &filters, page)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |row| row.id.into(), |row| CostCenterView::from(&row))))
}

/// Create a cost center
///
/// `code` is unique within the customer regardless of case (409 when taken). Staff, or
/// customer users with `cost_centers.manage`.
#[utoipa::path(
    tag = "cost-centers",
    operation_id = "createCostCenter",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateCostCenter, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = CostCenterView,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/cost-centers")]
pub async fn create_cost_center(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateCostCenter>>,
) -> Result<Tagged<CostCenterView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageCostCenters, customer_id)?;
    let new = body.into_new(customer_id);
    write::create_once(&state, &actor, key, audit::Action::CostCenterCreated, move |conn| {
        customers::hold(conn, customer_id)?;
        queries::insert(conn, &new)
    })
    .await
}

/// Get a cost center
///
/// Every user of the customer can read its cost centers.
#[utoipa::path(
    tag = "cost-centers",
    operation_id = "getCostCenter",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("cost_center_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The cost center.", body = CostCenterView, headers(("ETag" = String))),
        sets::SignedIn, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/cost-centers/{cost_center_id}")]
pub async fn get_cost_center(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, CostCenterId)>,
) -> Result<Tagged<CostCenterView>, AppError> {
    let (customer_id, id) = path.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let row = db::run(&state.pool, move |conn| queries::find(conn, customer_id, id)).await?;
    Ok(Tagged::ok(CostCenterView::from(&row)))
}

/// Update a cost center
///
/// JSON merge-patch of `code`, `name` and `active`. A code another cost center of the customer
/// has is a 409. Honours `If-Match`.
#[utoipa::path(
    tag = "cost-centers",
    operation_id = "patchCostCenter",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("cost_center_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchCostCenter, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated cost center.", body = CostCenterView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[patch("/v1/customers/{customer_id}/cost-centers/{cost_center_id}")]
pub async fn patch_cost_center(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, CostCenterId)>,
    if_match: IfMatch,
    Json(patch): Json<PatchCostCenter>,
) -> Result<Tagged<CostCenterView>, AppError> {
    let (customer_id, id) = path.into_inner();
    policy::require(&actor, Action::ManageCostCenters, customer_id)?;
    let changes = CostCenterChanges::from(patch);
    let lock = move |conn: &mut _| queries::lock(conn, customer_id, id);
    let change = move |conn: &mut _, _| queries::update(conn, customer_id, id, &changes);
    write::update(&state, &actor, audit::Action::CostCenterUpdated, if_match, lock, change).await
}

/// Delete a cost center
///
/// Honours `If-Match`.
#[utoipa::path(
    tag = "cost-centers",
    operation_id = "deleteCostCenter",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("cost_center_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/cost-centers/{cost_center_id}")]
pub async fn delete_cost_center(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, CostCenterId)>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let (customer_id, id) = path.into_inner();
    policy::require(&actor, Action::ManageCostCenters, customer_id)?;
    let lock = move |conn: &mut _| queries::lock(conn, customer_id, id);
    let remove = move |conn: &mut _, _| queries::delete(conn, customer_id, id);
    write::delete(&state, &actor, audit::Action::CostCenterDeleted, if_match, lock, remove).await
}
