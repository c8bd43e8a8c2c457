//! `/scim/v2/Users`: list and search, get, create, replace, PATCH, delete. Each handler reads
//! as authenticate and authorize ([`auth::caller`]) -> read the request -> one write through
//! the house's write path (lock, `If-Match`, change, audit, ETag).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use serde_json::Value;

use super::auth::{self, Caller};
use super::errors::ScimInputError;
use super::query::{self, ListParams};
use super::request::{self, input};
use super::response::ScimError;
use super::schema::{ResourceKind, sanitize};
use super::users::{self, Desired, ScimUser, UserResource};
use super::{filter, patch as scim_patch};
use crate::accounts::AccountStatus;
use crate::audit::{self, Author};
use crate::db::{self, ids::UserId};
use crate::state::AppState;
use crate::users::rules::{self, AccessChange};
use crate::write;

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

/// The user's `user.*` action for a change to `desired`.
fn action_for(before: &ScimUser, desired: &Desired) -> audit::Action {
    match (before.row.status, desired.active) {
        (AccountStatus::Active, false) => audit::Action::UserDeactivated,
        (AccountStatus::Deactivated, true) => audit::Action::UserReactivated,
        _ => audit::Action::UserUpdated,
    }
}

fn respond(status: StatusCode, view: &UserResource, params: &ListParams) -> HttpResponse {
    use crate::write::Tracked;
    let etag = view.etag();
    let location = (status == StatusCode::CREATED).then_some(view.location.as_str());
    request::answer(status, &etag, location, &query::project(view.full(), params))
}

pub async fn search(
    state: &AppState,
    caller: &Caller,
    params: ListParams,
) -> Result<(i64, Vec<Value>), ScimError> {
    let cond = params.filter.as_deref().map(filter::parse_users).transpose()?;
    if let Some(cond) = &cond {
        query::users_condition(cond)?;
    }
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let (start, count) = (params.start_index, params.count);
    let (total, found) =
        db::run(&state.pool, move |conn| users::page(conn, customer_id, cond.as_ref(), start, count, &base))
            .await?;
    let resources =
        found.iter().map(|u| Value::Object(query::project(u.resource().full(), &params))).collect();
    Ok((total, resources))
}

/// SCIM: list users
///
/// Every person of the client's customer, also those an admin created by hand (their
/// `userName` is their e-mail, else their external id, else their id). Ordered by id.
#[utoipa::path(tag = "SCIM", operation_id = "scimListUsers", security(("bearer" = [])), params(ScimListParams))]
#[get("/scim/v2/Users")]
pub async fn list_users(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let params = ListParams::from_query(req.query_string())?;
    let start = params.start_index;
    let (total, resources) = search(&state, &caller, params).await?;
    Ok(request::list(total, start, resources))
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
    let caller = auth::caller(&req, &state).await?;
    let params = ListParams::from_search(&request::json_body(&req, payload).await?)?;
    let start = params.start_index;
    let (total, resources) = search(&state, &caller, params).await?;
    Ok(request::list(total, start, resources))
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
    let caller = auth::caller(&req, &state).await?;
    let id: UserId = request::id(&path)?;
    let params = ListParams::from_query(req.query_string())?;
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let user = db::run(&state.pool, move |conn| users::find(conn, customer_id, id, &base)).await?;
    let view = user.resource();
    use crate::write::Tracked;
    if let Some(not_modified) = request::not_modified(&req, &view.etag()) {
        return Ok(not_modified);
    }
    Ok(respond(StatusCode::OK, &view, &params))
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
    let caller = auth::caller(&req, &state).await?;
    let body = request::json_body(&req, payload).await?;
    let desired = Desired::from_representation(sanitize(ResourceKind::User, &body)?)?;
    let author = Author::from(&caller.actor);
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let view = db::transaction(&state.pool, move |conn| {
        let user = users::insert(conn, customer_id, desired, &base)?;
        let view = user.resource();
        audit::record(conn, &author, write::event(audit::Action::UserCreated, None, Some(&view)))?;
        Ok(view)
    })
    .await?;
    Ok(respond(StatusCode::CREATED, &view, &ListParams::default()))
}

/// Reads the person before a change (to tell a deactivation from an update, and to check a
/// PATCH against it before the write applies it again under the lock).
async fn read(state: &AppState, caller: &Caller, id: UserId) -> Result<ScimUser, ScimError> {
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    Ok(db::run(&state.pool, move |conn| users::find(conn, customer_id, id, &base)).await?)
}

/// The person locked, if the caller may act on it (the owner only for staff and the owner:
/// never a directory).
fn locking(
    caller: &Caller,
    id: UserId,
) -> impl FnOnce(&mut diesel::PgConnection) -> Result<ScimUser, crate::error::AppError> + Send + 'static {
    let (actor, customer_id, base) = (caller.actor.clone(), caller.customer_id, caller.base.clone());
    move |conn| {
        let user = users::lock(conn, customer_id, id, &base)?;
        rules::require_may_act(conn, &actor, user.row.clone())?;
        Ok(user)
    }
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
    let caller = auth::caller(&req, &state).await?;
    let id: UserId = request::id(&path)?;
    let if_match = request::if_match(&req).await?;
    let body = request::json_body(&req, payload).await?;
    request::check_body_id(&body, id.into())?;
    let desired = Desired::from_representation(sanitize(ResourceKind::User, &body)?)?;
    let before = read(&state, &caller, id).await?;
    let action = action_for(&before, &desired);
    let change = move |conn: &mut _, before| users::replace(conn, before, desired);
    let tagged = write::update(&state, &caller.actor, action, if_match, locking(&caller, id), change).await?;
    let view = tagged.view().ok_or_else(|| ScimError::from(crate::error::AppError::internal("no view")))?;
    Ok(respond(StatusCode::OK, view, &ListParams::default()))
}

/// The operations applied to `user`'s writable representation, as the desired state.
fn patched(user: &ScimUser, ops: &[scim_patch::Operation]) -> Result<Desired, ScimInputError> {
    let mut rep = user.writable()?;
    scim_patch::apply(ResourceKind::User, &mut rep, ops)?;
    Desired::from_representation(sanitize(ResourceKind::User, &Value::Object(rep))?)
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
    let caller = auth::caller(&req, &state).await?;
    let id: UserId = request::id(&path)?;
    let if_match = request::if_match(&req).await?;
    let ops = scim_patch::parse(&request::json_body(&req, payload).await?)?;
    let before = read(&state, &caller, id).await?;
    let action = action_for(&before, &patched(&before, &ops)?);
    let change = move |conn: &mut _, before: ScimUser| {
        let desired = patched(&before, &ops).map_err(input)?;
        users::replace(conn, before, desired)
    };
    let tagged = write::update(&state, &caller.actor, action, if_match, locking(&caller, id), change).await?;
    let view = tagged.view().ok_or_else(|| ScimError::from(crate::error::AppError::internal("no view")))?;
    Ok(respond(StatusCode::OK, view, &ListParams::default()))
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
    let caller = auth::caller(&req, &state).await?;
    let id: UserId = request::id(&path)?;
    let if_match = request::if_match(&req).await?;
    let customer_id = caller.customer_id;
    let remove = move |conn: &mut diesel::PgConnection, _: ScimUser| -> Result<(), crate::error::AppError> {
        rules::access_changed(conn, id, AccessChange::Closed)?;
        Ok(crate::users::queries::delete(conn, customer_id, id)?)
    };
    write::delete(&state, &caller.actor, audit::Action::UserDeleted, if_match, locking(&caller, id), remove)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
