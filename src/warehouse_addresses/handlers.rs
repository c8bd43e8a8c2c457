//! `/v1/customers/{customer_id}/warehouse-addresses[/{address_id}]`.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use diesel::Connection;
use uuid::Uuid;

use super::dto::{AddressView, CreateAddress, PatchAddress};
use super::models::{AddressChanges, AddressRow, NewAddress};
use super::queries;
use crate::accounts::Actor;
use crate::audit::{self, Author, Event, Visibility};
use crate::customers::queries as customers;
use crate::db;
use crate::error::{AppError, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::openapi::sets;
use crate::pagination::{List, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::validation::trimmed;

fn view(mut response: HttpResponseBuilder, row: &AddressRow) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of(row.updated_at))).json(AddressView::from(row))
}

/// An address of a group the caller is not in is a 404, like another customer's.
fn visible(actor: &Actor, row: &AddressRow) -> Result<(), AppError> {
    if policy::sees_group(actor, row.group_id) { Ok(()) } else { Err(AppError::NotFound) }
}

/// A group-limited caller must tag addresses with one of its own groups: another group's would
/// be out of its reach, and none would show the address to every group.
fn check_group(actor: &Actor, group: Option<Uuid>) -> Result<(), AppError> {
    if policy::covers(actor, &group.into_iter().collect::<Vec<_>>()) {
        Ok(())
    } else {
        Err(AppError::field(
            "group_id",
            FieldCode::NotAllowed,
            "you must tag addresses with one of your own groups",
        ))
    }
}

/// List warehouse addresses
///
/// Every user of the customer can list them (to pick one); oldest first.
#[utoipa::path(
    tag = "warehouse-addresses",
    operation_id = "listWarehouseAddresses",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of addresses.", body = List<AddressView>),
        sets::SignedIn, sets::Query, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/warehouse-addresses")]
pub async fn list_addresses(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let page = page.page()?;
    let groups = policy::group_scope(&actor);
    let rows = db::run(&state.pool, move |conn| {
        customers::find(conn, customer_id)?;
        queries::list(conn, customer_id, groups.as_deref(), page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from_rows(rows, page, |row| row.id, |row| AddressView::from(&row))))
}

/// Add a warehouse address
///
/// The customer's first address becomes its default; `is_default: true` makes the new one the
/// default and unsets the old one in the same transaction. Staff, or customer users with
/// `addresses.manage`.
#[utoipa::path(
    tag = "warehouse-addresses",
    operation_id = "createWarehouseAddress",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
    request_body(content = CreateAddress, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = AddressView, headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/customers/{customer_id}/warehouse-addresses")]
pub async fn create_address(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<Uuid>,
    Json(body): Json<CreateAddress>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageAddresses, customer_id)?;
    check_group(&actor, body.group_id)?;
    let author = Author::from(&actor);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            customers::lock(conn, customer_id)?;
            let first = !queries::any(conn, customer_id)?;
            let make_default = first || body.is_default == Some(true);
            if make_default {
                queries::clear_default(conn, customer_id)?;
                customers::touch(conn, customer_id)?;
            }
            let new = NewAddress {
                customer_id,
                id: Uuid::now_v7(),
                label: body.label.trim().to_owned(),
                line1: body.line1.trim().to_owned(),
                line2: trimmed(body.line2),
                city: body.city.trim().to_owned(),
                region: trimmed(body.region),
                postal_code: trimmed(body.postal_code),
                country: body.country,
                contact_name: trimmed(body.contact_name),
                phone: body.phone,
                group_id: body.group_id,
                is_default: make_default,
            };
            let row = queries::insert(conn, &new)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::AddressCreated,
                    target_type: audit::Target::WarehouseAddress,
                    target_id: row.id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(None, Some(&AddressView::from(&row))),
                    visibility: Visibility::tag(row.group_id),
                },
            )?;
            Ok::<_, AppError>(row)
        })
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((
        header::LOCATION,
        format!("/v1/customers/{customer_id}/warehouse-addresses/{}", row.id),
    ));
    Ok(view(response, &row))
}

/// Get a warehouse address
#[utoipa::path(
    tag = "warehouse-addresses",
    operation_id = "getWarehouseAddress",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("address_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The address.", body = AddressView, headers(("ETag" = String))),
        sets::SignedIn, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/warehouse-addresses/{address_id}")]
pub async fn get_address(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, address_id) = path.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let row = db::run(&state.pool, move |conn| queries::find(conn, customer_id, address_id)).await?;
    visible(&actor, &row)?;
    Ok(view(HttpResponse::Ok(), &row))
}

/// Update a warehouse address
///
/// JSON merge-patch. `is_default: true` makes it the default and unsets the old one
/// atomically; `is_default: false` on the current default is a 422. Honours `If-Match`.
#[utoipa::path(
    tag = "warehouse-addresses",
    operation_id = "patchWarehouseAddress",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("address_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchAddress, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated address.", body = AddressView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[patch("/v1/customers/{customer_id}/warehouse-addresses/{address_id}")]
pub async fn patch_address(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    Json(patch): Json<PatchAddress>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, address_id) = path.into_inner();
    policy::require(&actor, Action::ManageAddresses, customer_id)?;
    let author = Author::from(&actor);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            customers::lock(conn, customer_id)?;
            let before = queries::lock(conn, customer_id, address_id)?;
            visible(&actor, &before)?;
            if let Some(group) = patch.group_id {
                check_group(&actor, group)?;
            }
            if_match.check(&etag::of(before.updated_at))?;
            let becomes_default = match (patch.is_default, before.is_default) {
                (Some(false), true) => {
                    return Err(AppError::field(
                        "is_default",
                        FieldCode::DefaultRequired,
                        "the default address cannot be unset; make another address the default instead",
                    ));
                }
                (Some(true), false) => true,
                _ => false,
            };
            if becomes_default {
                queries::clear_default(conn, customer_id)?;
                customers::touch(conn, customer_id)?;
            }
            let changes = AddressChanges {
                label: patch.label.map(|v| v.trim().to_owned()),
                line1: patch.line1.map(|v| v.trim().to_owned()),
                line2: patch.line2.map(trimmed),
                city: patch.city.map(|v| v.trim().to_owned()),
                region: patch.region.map(trimmed),
                postal_code: patch.postal_code.map(trimmed),
                country: patch.country,
                contact_name: patch.contact_name.map(trimmed),
                phone: patch.phone,
                group_id: patch.group_id,
                is_default: becomes_default.then_some(true),
            };
            let after = queries::update(conn, customer_id, address_id, &changes)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::AddressUpdated,
                    target_type: audit::Target::WarehouseAddress,
                    target_id: address_id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(
                        Some(&AddressView::from(&before)),
                        Some(&AddressView::from(&after)),
                    ),
                    visibility: Visibility::tag(before.group_id).join(Visibility::tag(after.group_id)),
                },
            )?;
            Ok::<_, AppError>(after)
        })
    })
    .await?;
    Ok(view(HttpResponse::Ok(), &row))
}

/// Delete a warehouse address
///
/// Deleting the default makes the oldest remaining address the default (or leaves none when
/// it was the last). Honours `If-Match`.
#[utoipa::path(
    tag = "warehouse-addresses",
    operation_id = "deleteWarehouseAddress",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("address_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/warehouse-addresses/{address_id}")]
pub async fn delete_address(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (customer_id, address_id) = path.into_inner();
    policy::require(&actor, Action::ManageAddresses, customer_id)?;
    let author = Author::from(&actor);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            customers::lock(conn, customer_id)?;
            let before = queries::lock(conn, customer_id, address_id)?;
            visible(&actor, &before)?;
            if_match.check(&etag::of(before.updated_at))?;
            queries::delete(conn, customer_id, address_id)?;
            if before.is_default {
                queries::promote_oldest(conn, customer_id)?;
                customers::touch(conn, customer_id)?;
            }
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::AddressDeleted,
                    target_type: audit::Target::WarehouseAddress,
                    target_id: address_id,
                    customer_id: Some(customer_id),
                    changes: audit::changes(Some(&AddressView::from(&before)), None),
                    visibility: Visibility::tag(before.group_id),
                },
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
