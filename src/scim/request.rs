//! What every SCIM handler reads the same way: a JSON body (`application/scim+json` or
//! `application/json`), a path id (not a UUID: 404, never 400), the conditional headers, and
//! the answers it gives (a resource with its ETag, a list, 304).

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::errors::ScimType;
use super::response::{self, ScimError};
use super::schema::LIST_RESPONSE;
use crate::error::AppError;
use crate::etag::IfMatch;

/// The body as JSON: 413 past the house's limit, 415 when it is not JSON, 400 when it is
/// broken or holds a NUL (which PostgreSQL cannot store).
pub async fn json_body(req: &HttpRequest, payload: web::Payload) -> Result<Value, ScimError> {
    let mut payload = payload.into_inner();
    let bytes = crate::extract::read(req, &mut payload).await?;
    if !crate::extract::is_json(req) {
        return Err(ScimError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "The body must be JSON (Content-Type: application/scim+json or application/json).",
        ));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some(ScimType::InvalidSyntax),
            format!("The body is not valid JSON: {e}"),
        )
    })?;
    if holds_nul(&value) {
        return Err(ScimError::invalid_value("Text must not contain NUL characters."));
    }
    let syntax =
        |detail: &str| ScimError::new(StatusCode::BAD_REQUEST, Some(ScimType::InvalidSyntax), detail);
    let Value::Object(body) = &value else { return Err(syntax("The body must be a JSON object.")) };
    // Unknown schema URNs are ignored, but `schemas` itself must be what RFC 7643 §3 says.
    if let Some(schemas) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")).map(|(_, v)| v)
        && !schemas.as_array().is_some_and(|urns| urns.iter().all(Value::is_string))
    {
        return Err(syntax("schemas must be a list of schema URNs."));
    }
    Ok(value)
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// A path id: a UUID, or the resource does not exist.
pub fn id<T: From<Uuid>>(raw: &str) -> Result<T, ScimError> {
    Uuid::parse_str(raw.trim()).map(T::from).map_err(|_| ScimError::not_found())
}

pub async fn if_match(req: &HttpRequest) -> Result<IfMatch, ScimError> {
    IfMatch::extract(req).await.map_err(ScimError::from)
}

/// 304 when `If-None-Match` names the current ETag (or is `*`).
pub fn not_modified(req: &HttpRequest, etag: &str) -> Option<HttpResponse> {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let weak = |tag: &str| tag.strip_prefix("W/").unwrap_or(tag).to_owned();
    let current = weak(etag);
    values
        .iter()
        .any(|tag| *tag == "*" || weak(tag) == current)
        .then(|| HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish())
}

/// A resource: 200 (or 201 with `Location`) with its ETag.
pub fn answer(
    status: StatusCode,
    etag: &str,
    location: Option<&str>,
    body: &Map<String, Value>,
) -> HttpResponse {
    response::resource(status, Some(etag), location, body)
}

/// A `ListResponse` (RFC 7644 §3.4.2): `Resources` always present, empty for `count=0`.
pub fn list(total: i64, start_index: i64, resources: Vec<Value>) -> HttpResponse {
    let body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    response::resource(StatusCode::OK, None, None, &body)
}

/// A PUT body's `id` may be there when it is the path's; another is a 400.
pub fn check_body_id(body: &Value, id: Uuid) -> Result<(), ScimError> {
    match body.get("id").and_then(Value::as_str) {
        Some(given) if Uuid::parse_str(given).ok() != Some(id) => Err(ScimError::new(
            StatusCode::BAD_REQUEST,
            Some(ScimType::Mutability),
            "id is the resource's own and cannot be changed.",
        )),
        _ => Ok(()),
    }
}

/// A change that ran into the client's input only under the lock (a PATCH re-applied to a
/// resource that changed meanwhile).
pub fn input(error: super::errors::ScimInputError) -> AppError {
    AppError::BadRequest(error.detail)
}
