//! `/v1/customers/{customer_id}/warehouse-addresses[/{address_id}]`.

use actix_web::{delete, get, patch, post, web};
use diesel::PgConnection;
use uuid::Uuid;

use super::dto::{AddressView, CreateAddress, PatchAddress};
use super::models::{AddressChanges, AddressRow};
use super::queries;
use crate::accounts::Actor;
use crate::audit::{self, Author};
use crate::customers::queries as customers;
use crate::db::{self, ids::AddressId, ids::CustomerId, ids::GroupId};
use crate::error::{AppError, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::idempotency::{Idempotent, KeyHeader};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Deleted, Tagged};

/// An address of a group the caller is not in is a 404, like another customer's.
fn visible(actor: &Actor, row: &AddressRow) -> Result<(), AppError> {
    if policy::sees_group(actor, row.group_id.map(Into::into)) { Ok(()) } else { Err(AppError::NotFound) }
}

/// A group-limited caller must tag addresses with one of its own groups: another group's would
/// be out of its reach, and none would show the address to every group.
fn check_group(actor: &Actor, group: Option<Uuid>) -> Result<(), AppError> {
    let allowed = match policy::group_scope(actor) {
        None => true,
        Some(own) => group.is_some_and(|group| own.contains(&group)),
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::field(
            "group_id",
            FieldCode::NotAllowed,
            "you must tag addresses with one of your own groups",
        ))
    }
}

/// Locks the customer (every change to its addresses queues behind it, so concurrent default
/// switches cannot race), then the address, which must be one the caller sees.
fn lock_visible(
    conn: &mut PgConnection,
    actor: &Actor,
    customer_id: CustomerId,
    address_id: AddressId,
) -> Result<AddressRow, AppError> {
    customers::lock(conn, customer_id)?;
    let row = queries::lock(conn, customer_id, address_id)?;
    visible(actor, &row)?;
    Ok(row)
}

/// What a patch does to the default flag: `true` on another address makes it the default;
/// `false` on the default is refused, as a customer with addresses always has one.
fn default_change(requested: Option<bool>, before: &AddressRow) -> Result<Option<bool>, AppError> {
    match (requested, before.is_default) {
        (Some(false), true) => Err(AppError::field(
            "is_default",
            FieldCode::DefaultRequired,
            "the default address cannot be unset; make another address the default instead",
        )),
        (Some(true), false) => Ok(Some(true)),
        _ => Ok(None),
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
    customer_id: web::Path<CustomerId>,
    page: Page,
) -> Result<web::Json<List<AddressView>>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let groups: Option<Vec<GroupId>> =
        policy::group_scope(&actor).map(|groups| groups.into_iter().map(GroupId::from).collect());
    let rows = db::run(&state.pool, move |conn| {
        let rows = queries::list(conn, customer_id, groups.as_deref(), page)?;
        // An address row means its customer exists (the foreign key); only an empty page asks.
        if rows.is_empty() {
            customers::exists(conn, customer_id)?;
        }
        Ok::<_, AppError>(rows)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |row| row.id.into(), |row| AddressView::from(&row))))
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
    params(("customer_id" = Uuid, Path), KeyHeader),
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
    customer_id: web::Path<CustomerId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateAddress>>,
) -> Result<Tagged<AddressView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageAddresses, customer_id)?;
    check_group(&actor, body.group_id)?;
    let new = body.into_new(customer_id);
    write::create_once(&state, &actor, key, audit::Action::AddressCreated, move |conn| {
        customers::lock(conn, customer_id)?;
        queries::insert_keeping_one_default(conn, new)
    })
    .await
}

/// Get a warehouse address
///
/// Every user of the customer can read its addresses, except one tagged with a group the
/// caller is not in (a 404, like another customer's).
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
    path: web::Path<(CustomerId, AddressId)>,
) -> Result<Tagged<AddressView>, AppError> {
    let (customer_id, address_id) = path.into_inner();
    policy::require(&actor, Action::ReadCustomer, customer_id)?;
    let row = db::run(&state.pool, move |conn| queries::find(conn, customer_id, address_id)).await?;
    visible(&actor, &row)?;
    Ok(Tagged::ok(AddressView::from(&row)))
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
    path: web::Path<(CustomerId, AddressId)>,
    if_match: IfMatch,
    Json(patch): Json<PatchAddress>,
) -> Result<Tagged<AddressView>, AppError> {
    let (customer_id, address_id) = path.into_inner();
    policy::require(&actor, Action::ManageAddresses, customer_id)?;
    let author = Author::from(&actor);
    let mut changes = AddressChanges::from(patch);
    let new_group = changes.group_id;
    let lock = move |conn: &mut PgConnection| -> Result<AddressRow, AppError> {
        let before = lock_visible(conn, &actor, customer_id, address_id)?;
        if let Some(group) = new_group {
            check_group(&actor, group.map(Into::into))?;
        }
        Ok(before)
    };
    let change = move |conn: &mut PgConnection, before: AddressRow| -> Result<AddressRow, AppError> {
        changes.is_default = default_change(changes.is_default, &before)?;
        Ok(queries::update_keeping_one_default(conn, &before, &changes)?)
    };
    write::update(&state, author, audit::Action::AddressUpdated, if_match, lock, change).await
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
    path: web::Path<(CustomerId, AddressId)>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let (customer_id, address_id) = path.into_inner();
    policy::require(&actor, Action::ManageAddresses, customer_id)?;
    let author = Author::from(&actor);
    let lock = move |conn: &mut _| lock_visible(conn, &actor, customer_id, address_id);
    let remove = move |conn: &mut _, before: AddressRow| queries::delete_promoting(conn, &before);
    write::delete(&state, author, audit::Action::AddressDeleted, if_match, lock, remove).await
}
