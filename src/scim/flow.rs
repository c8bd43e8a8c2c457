//! The one flow of every SCIM resource type: authenticate and authorize ([`auth::caller`]) ->
//! read the request -> read or one write through the house's write path (lock, `If-Match`,
//! change, audit, ETag) -> answer as `application/scim+json`. What differs between Users and
//! Groups is what a [`Kind`] says; their handlers only name the route and forward here.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::{PgConnection, QueryResult};
use serde_json::Value;
use uuid::Uuid;

use super::auth::{self, Caller};
use super::errors::ScimInputError;
use super::filter::Cond;
use super::query::{self, ListParams};
use super::request::{self, input};
use super::resource::{Represented, Resource};
use super::response::ScimError;
use super::schema::sanitize;
use crate::accounts::Actor;
use crate::audit::Action;
use crate::db::{self, ids::CustomerId};
use crate::error::AppError;
use crate::etag::IfMatch;
use crate::state::AppState;
use crate::write::{self, Removed, Tracked, Viewed};

/// A SCIM resource type: its row (with what its representation needs) and the parts of the
/// flow that are its own.
pub trait Kind: Viewed<View = Resource<Self>> + Represented + Clone + Send + 'static {
    type Id: From<Uuid> + Into<Uuid> + Copy + Send + 'static;
    /// The attributes a filter may name.
    type Attr: Send + 'static;
    const CREATED: Action;
    const DELETED: Action;

    fn parse_filter(raw: &str) -> Result<Cond<Self::Attr>, ScimInputError>;
    /// Whether the filter can be asked of the database (before any query runs).
    fn check_filter(cond: &Cond<Self::Attr>) -> Result<(), ScimInputError>;
    /// The audit action of a change of `before` to `desired`.
    fn update_action(before: &Self, desired: &Self::Desired) -> Action;

    /// How many of the customer's resources match `cond`.
    fn count(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        cond: Option<&Cond<Self::Attr>>,
    ) -> Result<i64, AppError>;
    /// The matching resources ordered by id, from an offset, at most a limit of them.
    fn rows(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        cond: Option<&Cond<Self::Attr>>,
        offset_limit: (i64, i64),
        base: &str,
    ) -> Result<Vec<Self>, AppError>;

    /// A page of the customer's resources matching `cond` (ordered by id, `start` 1-based),
    /// and how many match in all.
    fn page(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        cond: Option<&Cond<Self::Attr>>,
        (start, count): (i64, i64),
        base: &str,
    ) -> Result<(i64, Vec<Self>), AppError> {
        let total = Self::count(conn, customer_id, cond)?;
        if count == 0 {
            return Ok((total, Vec::new()));
        }
        Ok((total, Self::rows(conn, customer_id, cond, (start - 1, count), base)?))
    }
    fn find(conn: &mut PgConnection, customer_id: CustomerId, id: Self::Id, base: &str) -> QueryResult<Self>;
    /// The row locked for the rest of the transaction, if `actor` may act on it.
    fn lock(
        conn: &mut PgConnection,
        actor: &Actor,
        customer_id: CustomerId,
        id: Self::Id,
        base: &str,
    ) -> Result<Self, AppError>;
    fn insert(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        desired: Self::Desired,
        base: &str,
    ) -> Result<Self, AppError>;
    fn replace(conn: &mut PgConnection, before: Self, desired: Self::Desired) -> Result<Self, AppError>;
    /// Removes it, saying what went with it that its view does not show.
    fn remove(conn: &mut PgConnection, customer_id: CustomerId, id: Self::Id) -> Result<Removed, AppError>;
}

fn respond<K: Kind>(status: StatusCode, view: &Resource<K>, params: &ListParams) -> HttpResponse {
    let etag = view.etag();
    let location = (status == StatusCode::CREATED).then_some(view.location.as_str());
    request::answer(status, &etag, location, &query::project(view.full(), params))
}

/// How many resources match `params`, and the page of them it asks for, projected.
pub async fn search<K: Kind>(
    state: &AppState,
    caller: &Caller,
    params: ListParams,
) -> Result<(i64, Vec<Value>), ScimError> {
    let cond = params.filter.as_deref().map(K::parse_filter).transpose()?;
    if let Some(cond) = &cond {
        K::check_filter(cond)?;
    }
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let (start, count) = (params.start_index, params.count);
    let (total, found) =
        db::run(&state.pool, move |conn| K::page(conn, customer_id, cond.as_ref(), (start, count), &base))
            .await?;
    let resources =
        found.iter().map(|r| Value::Object(query::project(r.resource().full(), &params))).collect();
    Ok((total, resources))
}

/// A list (`GET` with the parameters in the query).
pub async fn list<K: Kind>(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let params = ListParams::from_query(req.query_string())?;
    let start = params.start_index;
    let (total, resources) = search::<K>(&state, &caller, params).await?;
    Ok(request::list(total, start, resources))
}

/// Who calls, and the list parameters of a `SearchRequest` (RFC 7644 §3.4.3) body.
pub async fn searching(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    payload: web::Payload,
) -> Result<(Caller, ListParams), ScimError> {
    let caller = auth::caller(req, state).await?;
    let params = ListParams::from_search(&request::json_body(req, payload).await?)?;
    Ok((caller, params))
}

/// A `SearchRequest` (RFC 7644 §3.4.3): the list with its parameters in the body.
pub async fn search_request<K: Kind>(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let (caller, params) = searching(&req, &state, payload).await?;
    let start = params.start_index;
    let (total, resources) = search::<K>(&state, &caller, params).await?;
    Ok(request::list(total, start, resources))
}

async fn read<K: Kind>(state: &AppState, caller: &Caller, id: K::Id) -> Result<K, ScimError> {
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    Ok(db::run(&state.pool, move |conn| K::find(conn, customer_id, id, &base)).await?)
}

/// One resource; 304 when `If-None-Match` names its ETag.
pub async fn get<K: Kind>(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let id: K::Id = request::id(&path)?;
    let params = ListParams::from_query(req.query_string())?;
    let view = read::<K>(&state, &caller, id).await?.resource();
    if let Some(not_modified) = request::not_modified(&req, &view.etag()) {
        return Ok(not_modified);
    }
    Ok(respond(StatusCode::OK, &view, &params))
}

/// 201 with `Location`, through the write path's one create.
pub async fn create<K: Kind>(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let body = request::json_body(&req, payload).await?;
    let desired = K::Desired::try_from(sanitize(K::KIND, &body)?)?;
    let (customer_id, base) = (caller.customer_id, caller.base.clone());
    let insert = move |conn: &mut PgConnection| K::insert(conn, customer_id, desired, &base);
    let view = write::create_view(&state, &caller.actor, K::CREATED, insert).await?;
    Ok(respond(StatusCode::CREATED, &view, &ListParams::default()))
}

fn locking<K: Kind>(
    caller: &Caller,
    id: K::Id,
) -> impl FnOnce(&mut PgConnection) -> Result<K, AppError> + Send + 'static {
    let (actor, customer_id, base) = (caller.actor.clone(), caller.customer_id, caller.base.clone());
    move |conn| K::lock(conn, &actor, customer_id, id, &base)
}

/// Who calls, the resource the path names, and the version the client expects (`If-Match`).
async fn addressed<K: Kind>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    path: &str,
) -> Result<(Caller, K::Id, IfMatch), ScimError> {
    let caller = auth::caller(req, state).await?;
    let id = request::id(path)?;
    let if_match = request::if_match(req).await?;
    Ok((caller, id, if_match))
}

/// The write of a `PUT` or `PATCH`: `desired` says what the client asks of the resource, first
/// of it as read (a 400 before any write, and which audit action it is), then again of it
/// locked, as the write path changes it.
async fn update<K, D>(
    state: &AppState,
    (caller, id, if_match): (Caller, K::Id, IfMatch),
    desired: D,
) -> Result<HttpResponse, ScimError>
where
    K: Kind,
    D: Fn(&K) -> Result<K::Desired, ScimInputError> + Send + 'static,
{
    let before = read::<K>(state, &caller, id).await?;
    let action = K::update_action(&before, &desired(&before)?);
    let change = move |conn: &mut PgConnection, before: K| {
        let wanted = desired(&before).map_err(input)?;
        K::replace(conn, before, wanted)
    };
    let tagged =
        write::update(state, &caller.actor, action, if_match, locking::<K>(&caller, id), change).await?;
    let view = tagged.view().ok_or_else(|| ScimError::from(AppError::internal("no view")))?;
    Ok(respond(StatusCode::OK, view, &ListParams::default()))
}

/// What a body of a write to a resource is.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// A full representation (`PUT`): an `id` in it must be the path's.
    Replace,
    /// A `PatchOp` (RFC 7644 §3.5.2), checked against the resource as read, applied again to
    /// it under the lock.
    Patch,
}

/// The operations applied to the resource's writable representation, as the desired state.
fn patched<K: Kind>(row: &K, ops: &[super::patch::Operation]) -> Result<K::Desired, ScimInputError> {
    let mut rep = row.writable()?;
    super::patch::apply(K::KIND, &mut rep, ops)?;
    K::Desired::try_from(sanitize(K::KIND, &Value::Object(rep))?)
}

/// A `PUT` or `PATCH`: 200 with the whole resource.
pub async fn change<K: Kind>(
    how: Change,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ScimError> {
    let target = addressed::<K>(&req, &state, &path).await?;
    let body = request::json_body(&req, payload).await?;
    match how {
        Change::Replace => {
            request::check_body_id(&body, target.1.into())?;
            let desired = K::Desired::try_from(sanitize(K::KIND, &body)?)?;
            update(&state, target, move |_: &K| Ok(desired.clone())).await
        }
        Change::Patch => {
            let ops = super::patch::parse(&body)?;
            update(&state, target, move |row: &K| patched(row, &ops)).await
        }
    }
}

/// 204, then 404.
pub async fn delete<K: Kind>(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let (caller, id, if_match) = addressed::<K>(&req, &state, &path).await?;
    let customer_id = caller.customer_id;
    let remove = move |conn: &mut PgConnection, _: K| K::remove(conn, customer_id, id);
    write::delete(&state, &caller.actor, K::DELETED, if_match, locking::<K>(&caller, id), remove).await?;
    Ok(HttpResponse::NoContent().finish())
}
