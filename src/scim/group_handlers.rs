//! `/scim/v2/Groups`: list and search, get, create, replace, PATCH, delete, and the search
//! across Users and Groups. Each route is the one SCIM flow ([`flow`]) for [`ScimGroup`], whose
//! `Kind` is in [`super::groups`]. Members are users of the client's customer; ids of anyone
//! else (another customer's people, unknown ids, ids that are not ids) are ignored, never
//! linked and never an error.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};

use super::filter;
use super::flow::{self, Change};
use super::groups::ScimGroup;
use super::query::ListParams;
use super::request;
use super::response::ScimError;
use super::users::ScimUser;
use crate::state::AppState;

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
    flow::list::<ScimGroup>(req, state).await
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
    flow::search_request::<ScimGroup>(req, state, payload).await
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
    let (caller, params) = flow::searching(&req, &state, payload).await?;
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
    let user_total =
        if for_users { flow::search::<ScimUser>(&state, &caller, count_only.clone()).await?.0 } else { 0 };
    let group_total =
        if for_groups { flow::search::<ScimGroup>(&state, &caller, count_only).await?.0 } else { 0 };
    let (start, count) = (params.start_index, params.count);
    let mut resources = Vec::new();
    if for_users && start <= user_total && count > 0 {
        let page = ListParams { count: count.min(user_total - start + 1), ..params.clone() };
        resources.extend(flow::search::<ScimUser>(&state, &caller, page).await?.1);
    }
    let left = count - resources.len() as i64;
    if for_groups && left > 0 && start + count > user_total + 1 {
        let group_start = (start - user_total).max(1);
        let page = ListParams { start_index: group_start, count: left, ..params.clone() };
        resources.extend(flow::search::<ScimGroup>(&state, &caller, page).await?.1);
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
    flow::get::<ScimGroup>(req, state, path).await
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
    flow::create::<ScimGroup>(req, state, payload).await
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
    flow::change::<ScimGroup>(Change::Replace, req, state, path, payload).await
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
    flow::change::<ScimGroup>(Change::Patch, req, state, path, payload).await
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
    flow::delete::<ScimGroup>(req, state, path).await
}
