//! `/v1/customers/{customer_id}/groups[/{group_id}[/members]]`. Each handler is extract ->
//! authorize -> one call: a read through `db::run`, a change through the write path.

use actix_web::{delete, get, patch, post, web};

use super::dto::{CreateGroup, DeleteGroupParams, GroupView, PatchGroup, SeenGroup};
use super::models::GroupChanges;
use super::{queries, rules};
use crate::accounts::Actor;
use crate::audit;
use crate::customers::queries as customers;
use crate::db::{self, ids::CustomerId, ids::GroupId};
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Query};
use crate::idempotency::{Idempotent, KeyHeader};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::users::dto::UserView;
use crate::users::views::Views;
use crate::write::{self, Deleted, Tagged, Viewed};

/// List a customer's groups
///
/// A caller limited to groups lists only its own groups, and their `member_count` counts only
/// the people within its groups (those its members list shows).
#[utoipa::path(
    tag = "groups",
    operation_id = "listGroups",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of groups, oldest first.", body = List<GroupView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/groups")]
pub async fn list_groups(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    page: Page,
) -> Result<web::Json<List<GroupView>>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageGroups, customer_id)?;
    let within = policy::group_scope(&actor);
    let (rows, counts) = db::run(&state.pool, move |conn| -> Result<_, AppError> {
        customers::find(conn, customer_id)?;
        let rows = queries::list(conn, customer_id, within.as_deref(), page)?;
        let ids: Vec<GroupId> = rows.iter().map(|row| row.id).collect();
        let counts = queries::member_counts(conn, customer_id, &ids, within.as_deref())?;
        Ok((rows, counts))
    })
    .await?;
    let count = |row: &super::models::GroupRow| counts.get(&row.id).copied().unwrap_or(0);
    Ok(web::Json(List::from_rows(rows, page, |row| row.id.into(), |row| GroupView::new(&row, count(&row)))))
}

/// Create a group
///
/// Name unique within the customer regardless of case (409). People join with `group_ids` on
/// the user; warehouse addresses are tagged with `group_id`. A person limited to groups cannot
/// create groups (403): a new group would be outside the groups it is limited to.
#[utoipa::path(
    tag = "groups",
    operation_id = "createGroup",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateGroup, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = GroupView, headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/groups")]
pub async fn create_group(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateGroup>>,
) -> Result<Tagged<GroupView>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require_group_creation(&actor, customer_id)?;
    let new = body.into_new(customer_id);
    write::create_once(&state, &actor, key, audit::Action::GroupCreated, move |conn| -> Result<_, AppError> {
        customers::find(conn, customer_id)?;
        let row = queries::insert(conn, &new)?;
        Ok(SeenGroup { row, within: None })
    })
    .await
}

/// Get a group
///
/// For a caller limited to groups, any group but its own is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "groups",
    operation_id = "getGroup",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("group_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The group.", body = GroupView, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/groups/{group_id}")]
pub async fn get_group(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, GroupId)>,
) -> Result<Tagged<GroupView>, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group(&actor, customer_id, group_id)?;
    let within = policy::group_scope(&actor);
    let view = db::run(&state.pool, move |conn| {
        SeenGroup { row: queries::find(conn, customer_id, group_id)?, within }.view(conn)
    })
    .await?;
    Ok(Tagged::ok(view))
}

/// Update a group
///
/// JSON merge-patch of `name` and `description`. Honours `If-Match`.
/// For a caller limited to groups, any group but its own is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "groups",
    operation_id = "patchGroup",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("group_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchGroup, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated group.", body = GroupView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[patch("/v1/customers/{customer_id}/groups/{group_id}")]
pub async fn patch_group(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, GroupId)>,
    if_match: IfMatch,
    Json(patch): Json<PatchGroup>,
) -> Result<Tagged<GroupView>, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group(&actor, customer_id, group_id)?;
    let within = policy::group_scope(&actor);
    let changes = GroupChanges::from(patch);
    let lock =
        move |conn: &mut _| queries::lock(conn, customer_id, group_id).map(|row| SeenGroup { row, within });
    let change = move |conn: &mut _, before: SeenGroup| {
        queries::update(conn, customer_id, group_id, &changes)
            .map(|row| SeenGroup { row, within: before.within })
    };
    write::update(&state, &actor, audit::Action::GroupUpdated, if_match, lock, change).await
}

/// Delete a group
///
/// Removes the group and every membership in it. Its members keep data scope `groups` and see
/// less (a member left in no group sees untagged data only; nobody is widened), so the
/// request must say it means it: send `If-Match` with the group's ETag, or `?confirm=true`
/// (428 otherwise). A group that still tags warehouse addresses is a 409 (untag them first),
/// and so is one an API client is limited to. The members' sessions end (their tokens name the
/// group). The audit log records the group and its former members. A person limited to groups
/// cannot delete a group it belongs to (403), and any other group is a 404 to it.
#[utoipa::path(
    tag = "groups",
    operation_id = "deleteGroup",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("group_id" = Uuid, Path), DeleteGroupParams, etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting, sets::Confirmed,
    )
)]
#[delete("/v1/customers/{customer_id}/groups/{group_id}")]
pub async fn delete_group(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, GroupId)>,
    Query(params): Query<DeleteGroupParams>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group_deletion(&actor, customer_id, group_id)?;
    let confirmed = if_match.is_present() || params.confirm == Some(true);
    let within = policy::group_scope(&actor);
    // A missing group is a 404 before an unconfirmed request is a 428.
    let lock = move |conn: &mut _| -> Result<_, AppError> {
        let row = queries::lock(conn, customer_id, group_id)?;
        if !confirmed {
            return Err(AppError::PreconditionRequired(
                "Deleting a group takes its data away from its members; send If-Match with the \
                 group's ETag, or ?confirm=true."
                    .into(),
            ));
        }
        Ok(SeenGroup { row, within })
    };
    let remove = move |conn: &mut _, _| rules::remove(conn, customer_id, group_id);
    write::delete(&state, &actor, audit::Action::GroupDeleted, if_match, lock, remove).await
}

/// List a group's members
///
/// For a caller limited to groups, any group but its own is a 404, exactly like a missing one. It lists only the
/// members within its groups (someone also in another group, or in no group, is left out).
#[utoipa::path(
    tag = "groups",
    operation_id = "listGroupMembers",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("group_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of the group's members.", body = List<UserView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/groups/{group_id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, GroupId)>,
    page: Page,
) -> Result<web::Json<List<UserView>>, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group(&actor, customer_id, group_id)?;
    let within = policy::group_scope(&actor);
    let (rows, views) = db::run(&state.pool, move |conn| -> Result<_, AppError> {
        queries::find(conn, customer_id, group_id)?;
        let rows = queries::members(conn, customer_id, group_id, within.as_deref(), page)?;
        let views = Views::load(conn, &rows)?;
        Ok((rows, views))
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |row| row.id, |row| views.of(&row))))
}
