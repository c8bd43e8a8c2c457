//! `/scim/v2/Users`: list and search, get, create, replace, PATCH, delete. Each route is the
//! one SCIM flow ([`flow`]) for [`ScimUser`]; what is the users' own in it (their audit actions,
//! who may act on a person, how one is removed) is their `Kind` in [`super::users::queries`].

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};

use super::flow::{self, Change};
use super::response::ScimError;
use super::users::ScimUser;
use crate::state::AppState;

/// The list parameters of RFC 7644 §3.4.2 on Users (others, such as Entra's
/// `aadOptscim062020`, are ignored).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case)]
pub struct ScimListParams {
    /// A filter (RFC 7644 §3.4.2.2) on `id`, `userName`, `externalId`, `emails.value`,
    /// `emails[type eq "work"].value`, `active`, `displayName`: `eq`, `ne`, `co`, `sw`, `ew`,
    /// `pr`, `and`, `or`, `not`, parentheses. Anything else is a 400 `invalidFilter`.
    #[param(example = "userName eq \"jana.berg@acme.example\"")]
    filter: Option<String>,
    /// The 1-based index of the first result (below 1 counts as 1).
    #[param(example = 1)]
    startIndex: Option<i64>,
    /// How many results at most (capped at 200); `0` gives only `totalResults`.
    #[param(example = 100)]
    count: Option<i64>,
    /// Only these attributes (and `id`, `schemas`, `meta`), comma-separated.
    #[param(example = "userName,emails")]
    attributes: Option<String>,
    /// All but these attributes, comma-separated.
    #[param(example = "groups")]
    excludedAttributes: Option<String>,
}

/// SCIM: list users
///
/// Every person of the client's customer, also those an admin created by hand (their
/// `userName` is their e-mail, else their external id, else their id). Ordered by id.
#[utoipa::path(tag = "SCIM", operation_id = "scimListUsers", security(("bearer" = [])), params(ScimListParams))]
#[get("/scim/v2/Users")]
pub async fn list_users(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimError> {
    flow::list::<ScimUser>(req, state).await
}

/// SCIM: search users
///
/// `POST /Users/.search` with a `SearchRequest` (RFC 7644 §3.4.3): the list with its
/// parameters in the body.
#[utoipa::path(tag = "SCIM", operation_id = "scimSearchUsers", security(("bearer" = [])))]
#[post("/scim/v2/Users/.search")]
pub async fn search_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    flow::search_request::<ScimUser>(req, state, payload).await
}

/// SCIM: get a user
///
/// An id that is not a UUID, or not of a person of the client's customer, is a 404.
/// `If-None-Match` with the current ETag is a 304.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimGetUser",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50")),
)]
#[get("/scim/v2/Users/{id}")]
pub async fn get_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    flow::get::<ScimUser>(req, state, path).await
}

/// SCIM: create a user
///
/// 201 with `Location`. The person gets role `user` with the default permissions and sees only
/// the data of its groups (none yet: only untagged data) until the directory puts it in groups
/// or an admin widens it; a login when it has a login e-mail (the primary e-mail, else the
/// `work` one, else `userName` when it is an e-mail), but no password and no mail: it chooses a
/// password with "forgot password". A `password` in the body is accepted and ignored. A
/// `userName` of another person of the customer, or an e-mail address used anywhere in the
/// service, is a 409 `uniqueness`.
#[utoipa::path(tag = "SCIM", operation_id = "scimCreateUser", security(("bearer" = [])))]
#[post("/scim/v2/Users")]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    flow::create::<ScimUser>(req, state, payload).await
}

/// SCIM: replace a user
///
/// A full representation: attributes left out are cleared (`active` left out means active).
/// An `id` in the body must be the path's. Honours `If-Match`. `active: false` deactivates:
/// the person's sessions end at once.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimReplaceUser",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50")),
)]
#[put("/scim/v2/Users/{id}")]
pub async fn replace_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    flow::change::<ScimUser>(Change::Replace, req, state, path, payload).await
}

/// SCIM: change a user
///
/// A `PatchOp` (RFC 7644 §3.5.2): `add`, `replace`, `remove` in any case, with or without
/// `path`, value filters (`emails[type eq "work"].value`), dotted and extension-URN keys in a
/// path-less value. Answers 200 with the whole resource. Honours `If-Match`.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimPatchUser",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50")),
)]
#[patch("/scim/v2/Users/{id}")]
pub async fn patch_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    flow::change::<ScimUser>(Change::Patch, req, state, path, payload).await
}

/// SCIM: delete a user
///
/// Removes the person like the REST API's DELETE: its sessions end, it leaves its groups, its
/// e-mail address is free again; the audit log keeps what happened. 204, then 404. Honours
/// `If-Match`.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimDeleteUser",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id.", example = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50")),
)]
#[delete("/scim/v2/Users/{id}")]
pub async fn delete_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    flow::delete::<ScimUser>(req, state, path).await
}
