//! `/scim/v2/Groups`: list and search, get, create, replace, PATCH, delete. Members are users
//! of the client's customer; ids of anyone else (another customer's people, unknown ids, ids
//! that are not ids) are ignored, never linked and never an error.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::Value;

use super::auth::{self, Caller};
use super::errors::ScimInputError;
use super::groups::{self, Desired, GroupResource, ScimGroup};
use super::query::{self, ListParams};
use super::request::{self, input};
use super::response::ScimError;
use super::schema::{ResourceKind, sanitize};
use super::{filter, patch as scim_patch};
use crate::audit::{self, Author};
use crate::db::{self, ids::GroupId};
use crate::error::AppError;
use crate::state::AppState;
use crate::write::{self, Removed, Tracked};

/// The list parameters of RFC 7644 §3.4.2 on Groups (others are ignored).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case)]
pub struct ScimGroupListParams {
    /// A filter (RFC 7644 §3.4.2.2) on `id`, `displayName`, `externalId`, `members.value`:
    /// `eq`, `ne`, `co`, `sw`, `ew`, `pr`, `and`, `or`, `not`, parentheses. Anything else is a
    /// 400 `invalidFilter`.
    #[param(example = "displayName eq \"Depot North\"")]
    filter: Option<String>,
    /// The 1-based index of the first result (below 1 counts as 1).
    #[param(example = 1)]
    startIndex: Option<i64>,
    /// How many results at most (capped at 200); `0` gives only `totalResults`.
    #[param(example = 100)]
    count: Option<i64>,
    /// Only these attributes (and `id`, `schemas`, `meta`), comma-separated.
    #[param(example = "displayName")]
    attributes: Option<String>,
    /// All but these attributes, comma-separated (`members` for large groups).
    #[param(example = "members")]
    excludedAttributes: Option<String>,
}

fn respond(status: StatusCode, view: &GroupResource, params: &ListParams) -> HttpResponse {
    let etag = view.etag();
    let location = (status == StatusCode::CREATED).then_some(view.location.as_str());
    request::answer(status, &etag, location, &query::project(view.full(), params))
}

pub async fn search(
    state: &AppState,
    caller: &Caller,
    params: ListParams,
) -> Result<(i64, Vec<Value>), ScimError> {
    let cond = params.filter.as_deref().map(filter::parse_groups).transpose()?;
    if let Some(cond) = &cond {
        query::groups_condition(cond)?;
    }
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let (start, count) = (params.start_index, params.count);
    let (total, found) =
        db::run(&state.pool, move |conn| groups::page(conn, customer_id, cond.as_ref(), start, count, &base))
            .await?;
    let resources =
        found.iter().map(|g| Value::Object(query::project(g.resource().full(), &params))).collect();
    Ok((total, resources))
}

/// SCIM: list groups
///
/// The client's customer's groups, with their members. Ordered by id.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimListGroups",
    security(("bearer" = [])),
    params(ScimGroupListParams)
)]
#[get("/scim/v2/Groups")]
pub async fn list_groups(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let params = ListParams::from_query(req.query_string())?;
    let start = params.start_index;
    let (total, resources) = search(&state, &caller, params).await?;
    Ok(request::list(total, start, resources))
}

/// SCIM: search groups
///
/// `POST /Groups/.search` with a `SearchRequest` (RFC 7644 §3.4.3).
#[utoipa::path(tag = "SCIM", operation_id = "scimSearchGroups", security(("bearer" = [])))]
#[post("/scim/v2/Groups/.search")]
pub async fn search_groups(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let params = ListParams::from_search(&request::json_body(&req, payload).await?)?;
    let start = params.start_index;
    let (total, resources) = search(&state, &caller, params).await?;
    Ok(request::list(total, start, resources))
}

/// SCIM: search everything
///
/// `POST /.search` (RFC 7644 §3.4.3): Users, then Groups. A filter applies to the resource
/// types whose attributes it names (`userName` only to Users, `members.value` only to Groups,
/// `id`, `externalId` and `displayName` to both).
#[utoipa::path(tag = "SCIM", operation_id = "scimSearch", security(("bearer" = [])))]
#[post("/scim/v2/.search")]
pub async fn search_all(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let params = ListParams::from_search(&request::json_body(&req, payload).await?)?;
    let (for_users, for_groups) = match params.filter.as_deref() {
        None => (true, true),
        Some(raw) => {
            let (users, groups) = (filter::parse_users(raw), filter::parse_groups(raw));
            if let (Err(error), Err(_)) = (&users, &groups) {
                return Err(error.clone().into());
            }
            (users.is_ok(), groups.is_ok())
        }
    };
    // Counted first, then the page taken across both: Users' results come first.
    let count_only = ListParams { count: 0, ..params.clone() };
    let user_total = if for_users {
        super::user_handlers::search(&state, &caller, count_only.clone()).await?.0
    } else {
        0
    };
    let group_total = if for_groups { search(&state, &caller, count_only).await?.0 } else { 0 };
    let (start, count) = (params.start_index, params.count);
    let mut resources = Vec::new();
    if for_users && start <= user_total && count > 0 {
        let page = ListParams { count: count.min(user_total - start + 1), ..params.clone() };
        resources.extend(super::user_handlers::search(&state, &caller, page).await?.1);
    }
    let left = count - resources.len() as i64;
    if for_groups && left > 0 && start + count > user_total + 1 {
        let group_start = (start - user_total).max(1);
        let page = ListParams { start_index: group_start, count: left, ..params.clone() };
        resources.extend(search(&state, &caller, page).await?.1);
    }
    Ok(request::list(user_total + group_total, start, resources))
}

/// SCIM: get a group
///
/// An id that is not a UUID, or not of a group of the client's customer, is a 404.
/// `If-None-Match` with the current ETag is a 304.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimGetGroup",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The group's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70")),
)]
#[get("/scim/v2/Groups/{id}")]
pub async fn get_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let id: GroupId = request::id(&path)?;
    let params = ListParams::from_query(req.query_string())?;
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let group = db::run(&state.pool, move |conn| groups::find(conn, customer_id, id, &base)).await?;
    let view = group.resource();
    if let Some(not_modified) = request::not_modified(&req, &view.etag()) {
        return Ok(not_modified);
    }
    Ok(respond(StatusCode::OK, &view, &params))
}

/// SCIM: create a group
///
/// 201 with `Location`. A `displayName` (or `externalId`) another group of the customer has is
/// a 409 `uniqueness`. Members that are not users of the customer are ignored; a person who
/// joins sees only its groups' data from then on (someone who saw everything is narrowed).
#[utoipa::path(tag = "SCIM", operation_id = "scimCreateGroup", security(("bearer" = [])))]
#[post("/scim/v2/Groups")]
pub async fn create_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let body = request::json_body(&req, payload).await?;
    let desired = Desired::from_representation(sanitize(ResourceKind::Group, &body)?)?;
    let author = Author::from(&caller.actor);
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let view = db::transaction(&state.pool, move |conn| {
        let group = groups::insert(conn, customer_id, desired, &base)?;
        let view = group.resource();
        audit::record(conn, &author, write::event(audit::Action::GroupCreated, None, Some(&view)))?;
        Ok(view)
    })
    .await?;
    Ok(respond(StatusCode::CREATED, &view, &ListParams::default()))
}

fn locking(
    caller: &Caller,
    id: GroupId,
) -> impl FnOnce(&mut diesel::PgConnection) -> Result<ScimGroup, AppError> + Send + 'static {
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    move |conn| Ok(groups::lock(conn, customer_id, id, &base)?)
}

/// SCIM: replace a group
///
/// A full representation: its members become exactly those given (of the customer's users).
/// Honours `If-Match`.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimReplaceGroup",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The group's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70")),
)]
#[put("/scim/v2/Groups/{id}")]
pub async fn replace_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let id: GroupId = request::id(&path)?;
    let if_match = request::if_match(&req).await?;
    let body = request::json_body(&req, payload).await?;
    request::check_body_id(&body, id.into())?;
    let desired = Desired::from_representation(sanitize(ResourceKind::Group, &body)?)?;
    let change = move |conn: &mut _, before| groups::replace(conn, before, desired);
    let tagged = write::update(
        &state,
        &caller.actor,
        audit::Action::GroupUpdated,
        if_match,
        locking(&caller, id),
        change,
    )
    .await?;
    let view = tagged.view().ok_or_else(|| ScimError::from(AppError::internal("no view")))?;
    Ok(respond(StatusCode::OK, view, &ListParams::default()))
}

fn patched(group: &ScimGroup, ops: &[scim_patch::Operation]) -> Result<Desired, ScimInputError> {
    let mut rep = group.writable()?;
    scim_patch::apply(ResourceKind::Group, &mut rep, ops)?;
    Desired::from_representation(sanitize(ResourceKind::Group, &Value::Object(rep))?)
}

/// SCIM: change a group
///
/// A `PatchOp`: members added (`add` `members`), removed (`remove` with
/// `members[value eq "..."]`, Entra's `remove` of `members` with a value list, or all of them
/// without a value), replaced; `displayName` and `externalId` replaced. Answers 200 with the
/// whole group. Honours `If-Match`.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimPatchGroup",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The group's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70")),
)]
#[patch("/scim/v2/Groups/{id}")]
pub async fn patch_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let id: GroupId = request::id(&path)?;
    let if_match = request::if_match(&req).await?;
    let ops = scim_patch::parse(&request::json_body(&req, payload).await?)?;
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let before = db::run(&state.pool, move |conn| groups::find(conn, customer_id, id, &base)).await?;
    patched(&before, &ops)?;
    let change = move |conn: &mut _, before: ScimGroup| {
        let desired = patched(&before, &ops).map_err(input)?;
        groups::replace(conn, before, desired)
    };
    let tagged = write::update(
        &state,
        &caller.actor,
        audit::Action::GroupUpdated,
        if_match,
        locking(&caller, id),
        change,
    )
    .await?;
    let view = tagged.view().ok_or_else(|| ScimError::from(AppError::internal("no view")))?;
    Ok(respond(StatusCode::OK, view, &ListParams::default()))
}

/// SCIM: delete a group
///
/// Removes the group and its memberships; its members keep seeing only their (remaining)
/// groups' data, never more, and their sessions end. A group that still tags warehouse
/// addresses is a 409 (untag them in dockgate first). 204, then 404. Honours `If-Match`.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimDeleteGroup",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The group's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70")),
)]
#[delete("/scim/v2/Groups/{id}")]
pub async fn delete_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let id: GroupId = request::id(&path)?;
    let if_match = request::if_match(&req).await?;
    let customer_id = caller.customer_id;
    let remove = move |conn: &mut diesel::PgConnection, _: ScimGroup| -> Result<Removed, AppError> {
        let members = groups::delete(conn, customer_id, id)?;
        Ok(Removed::default().with("members", serde_json::json!(members)))
    };
    write::delete(&state, &caller.actor, audit::Action::GroupDeleted, if_match, locking(&caller, id), remove)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
