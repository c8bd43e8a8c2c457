//! `/v1/customers/{customer_id}/groups[/{group_id}[/members]]`.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use diesel::Connection;
use uuid::Uuid;

use super::dto::{CreateGroup, DeleteGroupParams, GroupView, PatchGroup};
use super::models::{GroupChanges, GroupRow, NewGroup};
use super::queries;
use crate::accounts::Actor;
use crate::audit::{self, Author, Event, Visibility};
use crate::customers::queries as customers;
use crate::db;
use crate::error::{AppError, ConflictKind};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::openapi::sets;
use crate::pagination::{List, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::users::dto::UserView;
use crate::users::views::Views;
use crate::validation::trimmed;

fn view(mut response: HttpResponseBuilder, row: &GroupRow, members: i64) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of(row.updated_at))).json(GroupView::new(row, members))
}

fn event(action: audit::Action, before: Option<&GroupView>, after: Option<&GroupView>) -> Event {
    let any = after.or(before);
    Event {
        action,
        target_type: audit::Target::Group,
        target_id: any.map(|v| v.id).unwrap_or_default(),
        customer_id: any.map(|v| v.customer_id),
        changes: audit::changes(before, after),
        visibility: Visibility::tag(any.map(|v| v.id)),
    }
}

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
    customer_id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageGroups, customer_id)?;
    let page = page.page()?;
    let within = policy::group_scope(&actor);
    let (rows, counts) = db::run(&state.pool, move |conn| {
        customers::find(conn, customer_id)?;
        let rows = queries::list(conn, customer_id, within.as_deref(), page)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let counts = queries::member_counts(conn, customer_id, &ids, within.as_deref())?;
        Ok::<_, AppError>((rows, counts))
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from_rows(
        rows,
        page,
        |row| row.id,
        |row| GroupView::new(&row, counts.get(&row.id).copied().unwrap_or(0)),
    )))
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
    params(("customer_id" = Uuid, Path)),
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
    customer_id: web::Path<Uuid>,
    Json(body): Json<CreateGroup>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require_group_creation(&actor, customer_id)?;
    let author = Author::from(&actor);
    let new = NewGroup {
        customer_id,
        id: Uuid::now_v7(),
        name: body.name.trim().to_owned(),
        description: trimmed(body.description),
    };
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            customers::find(conn, customer_id)?;
            let row = queries::insert(conn, &new)?;
            audit::record(
                conn,
                &author,
                event(audit::Action::GroupCreated, None, Some(&GroupView::new(&row, 0))),
            )?;
            Ok::<_, AppError>(row)
        })
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/customers/{customer_id}/groups/{}", row.id)));
    Ok(view(response, &row, 0))
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
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group(&actor, customer_id, group_id)?;
    let within = policy::group_scope(&actor);
    let (row, members) = db::run(&state.pool, move |conn| {
        let row = queries::find(conn, customer_id, group_id)?;
        let members = queries::member_counts(conn, customer_id, &[group_id], within.as_deref())?;
        let members = members.get(&group_id).copied();
        Ok::<_, AppError>((row, members.unwrap_or(0)))
    })
    .await?;
    Ok(view(HttpResponse::Ok(), &row, members))
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
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    Json(patch): Json<PatchGroup>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group(&actor, customer_id, group_id)?;
    let author = Author::from(&actor);
    let within = policy::group_scope(&actor);
    let changes = GroupChanges {
        name: patch.name.map(|n| n.trim().to_owned()),
        description: patch.description.map(trimmed),
    };
    let (row, members) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, group_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            let members = queries::member_counts(conn, customer_id, &[group_id], within.as_deref())?;
            let members = members.get(&group_id).copied().unwrap_or(0);
            let after = queries::update(conn, customer_id, group_id, &changes)?;
            audit::record(
                conn,
                &author,
                event(
                    audit::Action::GroupUpdated,
                    Some(&GroupView::new(&before, members)),
                    Some(&GroupView::new(&after, members)),
                ),
            )?;
            Ok::<_, AppError>((after, members))
        })
    })
    .await?;
    Ok(view(HttpResponse::Ok(), &row, members))
}

/// Delete a group
///
/// Removes the group and every membership in it. **Members left in no group then see all of
/// their customer's data**, so the request must say it means it: send `If-Match` with the
/// group's ETag, or `?confirm=true` (428 otherwise). A group that still tags warehouse
/// addresses is a 409 (untag them first, so they are not suddenly visible to everyone). The
/// audit log records the group and its former members. A person limited to groups cannot
/// delete a group it belongs to (403: it and the group's other members would see more), and
/// any other group is a 404 to it.
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
    path: web::Path<(Uuid, Uuid)>,
    params: web::Query<DeleteGroupParams>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group_deletion(&actor, customer_id, group_id)?;
    let confirmed = if_match.is_present() || params.confirm == Some(true);
    let author = Author::from(&actor);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, customer_id, group_id)?;
            if !confirmed {
                return Err(AppError::PreconditionRequired(
                    "Deleting a group lets its members see all of the customer's data; send If-Match \
                     with the group's ETag, or ?confirm=true."
                        .into(),
                ));
            }
            if_match.check(&etag::of(before.updated_at))?;
            let tagged = queries::tagged_addresses(conn, customer_id, group_id)?;
            if tagged > 0 {
                return Err(AppError::Conflict(
                    ConflictKind::StillReferenced,
                    format!("The group still tags {tagged} warehouse address(es); untag them first."),
                ));
            }
            let page = crate::pagination::Page { limit: 100_000, after: None };
            let members: Vec<Uuid> =
                queries::members(conn, customer_id, group_id, None, page)?.iter().map(|u| u.id).collect();
            queries::delete(conn, customer_id, group_id)?;
            let mut record = event(
                audit::Action::GroupDeleted,
                Some(&GroupView::new(&before, members.len() as i64)),
                None,
            );
            record.changes["members"] = serde_json::json!({ "from": members });
            audit::record(conn, &author, record)?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
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
    path: web::Path<(Uuid, Uuid)>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, group_id) = path.into_inner();
    policy::require_group(&actor, customer_id, group_id)?;
    let page = page.page()?;
    let within = policy::group_scope(&actor);
    let (rows, views) = db::run(&state.pool, move |conn| {
        queries::find(conn, customer_id, group_id)?;
        let rows = queries::members(conn, customer_id, group_id, within.as_deref(), page)?;
        let views = Views::load(conn, &rows)?;
        Ok::<_, AppError>((rows, views))
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from_rows(rows, page, |row| row.id, |row| views.of(&row))))
}
