//! `/v1/customers/{customer_id}/cost-centers[/{cost_center_id}]`.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use diesel::Connection;
use uuid::Uuid;

use super::dto::{CostCenterFilters, CostCenterView, CreateCostCenter, PatchCostCenter};
use super::models::{CostCenterChanges, CostCenterRow, NewCostCenter};
use super::queries;
use crate::accounts::Actor;
use crate::audit::{self, Author, Event};
use crate::db;
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::openapi::sets;
use crate::pagination::{List, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;

fn view(mut response: HttpResponseBuilder, row: &CostCenterRow) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of(row.updated_at))).json(CostCenterView::from(row))
}

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
    customer_id: web::Path<Uuid>,
    filters: web::Query<CostCenterFilters>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let page = page.page()?;
    validator::Validate::validate(&*filters)?;
    let filters = filters.into_inner();
    let rows = db::run(&state.pool, move |conn| {
        queries::customer_exists(conn, customer_id)?;
        queries::list(conn, customer_id, &filters, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from_rows(rows, page, |row| row.id, |row| CostCenterView::from(&row))))
}

/// Create a cost center
///
/// `code` is unique within the customer regardless of case (409 when taken). Staff, or
/// customer users with `cost_centers.manage`.
#[utoipa::path(
    tag = "cost-centers",
    operation_id = "createCostCenter",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
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
    customer_id: web::Path<Uuid>,
    Json(body): Json<CreateCostCenter>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageCostCenters, customer_id)?;
    let author = Author::from(&actor);
    let new = NewCostCenter {
        customer_id,
        id: Uuid::now_v7(),
        code: body.code,
        name: body.name.trim().to_owned(),
        active: body.active.unwrap_or(true),
    };
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            queries::hold_customer(conn, customer_id)?;
            let row = queries::insert(conn, &new)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::CostCenterCreated,
                    target_type: audit::Target::CostCenter,
                    target_id: row.id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(None, Some(&CostCenterView::from(&row))),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(row)
        })
    })
    .await?;
    let mut response = HttpResponse::Created();
    response
        .insert_header((header::LOCATION, format!("/v1/customers/{customer_id}/cost-centers/{}", row.id)));
    Ok(view(response, &row))
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
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, cost_center_id) = path.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let row = db::run(&state.pool, move |conn| queries::find(conn, customer_id, cost_center_id)).await?;
    Ok(view(HttpResponse::Ok(), &row))
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
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    Json(patch): Json<PatchCostCenter>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, cost_center_id) = path.into_inner();
    policy::require(&actor, Action::ManageCostCenters, customer_id)?;
    let author = Author::from(&actor);
    let changes = CostCenterChanges {
        code: patch.code,
        name: patch.name.map(|name| name.trim().to_owned()),
        active: patch.active,
    };
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, cost_center_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            let after = queries::update(conn, customer_id, cost_center_id, &changes)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::CostCenterUpdated,
                    target_type: audit::Target::CostCenter,
                    target_id: cost_center_id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(
                        Some(&CostCenterView::from(&before)),
                        Some(&CostCenterView::from(&after)),
                    ),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(after)
        })
    })
    .await?;
    Ok(view(HttpResponse::Ok(), &row))
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
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (customer_id, cost_center_id) = path.into_inner();
    policy::require(&actor, Action::ManageCostCenters, customer_id)?;
    let author = Author::from(&actor);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, cost_center_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            queries::delete(conn, customer_id, cost_center_id)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::CostCenterDeleted,
                    target_type: audit::Target::CostCenter,
                    target_id: cost_center_id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(Some(&CostCenterView::from(&before)), None),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
