//! Request-body parsing in one place: content type (415), size (413), JSON syntax (400), shape
//! and validation (422 with the field that failed).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use validator::Validate;

use crate::error::{AppError, FieldCode, FieldError};
use crate::validation;

/// The largest request body accepted (contract section 11).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body, parsed and validated. Accepts `application/json` and any `+json` type
/// (`application/merge-patch+json` for PATCH).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let body = read(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(not_json());
            }
            let value: T = parse(&body.await?)?;
            value.validate()?;
            Ok(Json(value))
        })
    }
}

/// Query parameters, parsed (400 when malformed) and validated (422 naming the parameter).
/// Unknown parameters are ignored.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Validate> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = actix_web::web::Query::<T>::from_query(req.query_string())
            .map_err(|e| AppError::BadRequest(e.to_string()))
            .and_then(|query| {
                query.validate()?;
                Ok(Query(query.into_inner()))
            });
        std::future::ready(query)
    }
}

/// The body of an action that takes none (`.../deactivate`, `.../resend`): nothing, or an empty
/// JSON object. Anything else gets the answers of every other body — 413 past the limit, 415
/// for a body that is not JSON, 400 for broken JSON, 422 naming an unknown field — so no body
/// is accepted and ignored.
#[derive(Debug)]
pub struct NoBody;

/// The only body [`NoBody`] takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

impl FromRequest for NoBody {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let body = read(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.is_empty() {
                return Ok(NoBody);
            }
            if !content_type_ok {
                return Err(not_json());
            }
            parse::<Empty>(&body).map(|_| NoBody)
        })
    }
}

/// Reads the whole body, refusing it (413) once it passes [`MAX_BODY_BYTES`], whether the
/// length was declared or not (chunked).
pub fn read(req: &HttpRequest, payload: &mut Payload) -> LocalBoxFuture<'static, Result<BytesMut, AppError>> {
    read_at_most(req, payload, MAX_BODY_BYTES)
}

/// [`read`] with a limit of its own, for the one route that takes more than
/// [`MAX_BODY_BYTES`] (a bulk import): the global limit is this extractor's, not a server
/// setting, so a route raises it by reading its body with this.
pub fn read_at_most(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> LocalBoxFuture<'static, Result<BytesMut, AppError>> {
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if declared_length.is_some_and(|length| length > limit) {
            return Err(too_large(limit));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| AppError::BadRequest(format!("The body could not be read: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
}

fn not_json() -> AppError {
    AppError::UnsupportedMediaType("The body must be JSON (Content-Type: application/json).".into())
}

fn too_large(limit: usize) -> AppError {
    AppError::PayloadTooLarge(format!("The body must be at most {limit} bytes."))
}

/// Whether the request says its body is JSON (`application/json` or any `+json` type).
pub fn is_json(req: &HttpRequest) -> bool {
    let Some(Ok(content_type)) = req.headers().get(header::CONTENT_TYPE).map(|v| v.to_str()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// JSON syntax errors are 400; a well-formed body of the wrong shape is a 422 naming the field.
/// Bodies are objects, and no string may hold a control character (see
/// [`control_character_in`]).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("The body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(AppError::field("", FieldCode::Type, "the body must be a JSON object"));
    }
    from_value(value)
}

/// One object of a body (the body itself, or a row of a bulk import) as `T`, with the answers
/// of [`parse`]: a control character or a field of the wrong shape is a 422 naming the field
/// (relative to the object), an unknown field too.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    if !value.is_object() {
        return Err(AppError::field("", FieldCode::Type, "must be a JSON object"));
    }
    if let Some((field, message)) = control_character_in(&value, "", String::new()) {
        return Err(AppError::field(&field, FieldCode::ControlCharacter, message));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let at = if path == "." { String::new() } else { path };
        let message = data_error_message(error.inner());
        // Bodies are closed (`deny_unknown_fields`): a misspelt field is named, never ignored.
        if let Some(unknown) = unknown_field(&message) {
            // serde_path_to_error's path already ends with the unknown name.
            let field = if at.is_empty() { unknown.to_owned() } else { at };
            return AppError::field(&field, FieldCode::UnknownField, "is not a field of this request");
        }
        if message == NULL_REFUSED {
            return AppError::field(
                &at,
                FieldCode::NotNullable,
                "must not be null; omit the field to leave it unchanged",
            );
        }
        AppError::Validation(vec![FieldError::new(at, FieldCode::Invalid, message)])
    })
}

/// The name in serde's "unknown field `name`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.find('`').map(|end| &rest[..end])
}

/// The path of the first string (or key) holding a control character, and what the field
/// allows. Every text is a single line (a CR/LF in a name would end up in a mail header),
/// except the multi-line fields of [`validation::MULTI_LINE_FIELDS`], which may hold line
/// breaks and tabs; PostgreSQL cannot store NUL anywhere.
fn control_character_in(
    value: &serde_json::Value,
    key: &str,
    path: String,
) -> Option<(String, &'static str)> {
    use serde_json::Value;
    match value {
        Value::String(s) => validation::control_character(key, s).map(|message| (path, message)),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| control_character_in(v, key, format!("{path}[{i}]")))
        }
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let field = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            match validation::control_character("", k) {
                Some(message) => Some((field, message)),
                None => control_character_in(v, k, field),
            }
        }),
        _ => None,
    }
}

/// serde's message without its "at line 1 column 9" suffix, which means nothing in a field error.
fn data_error_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// For merge-patch fields that cannot be cleared: absent -> `None` (unchanged), a value ->
/// `Some(v)`, and `null` a 422 naming the field (code `not_nullable`) rather than "unchanged".
/// Use with `#[serde(default, deserialize_with = "crate::extract::not_null")]` and
/// `#[schema(nullable = false)]`.
pub fn not_null<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    let value = Option::<T>::deserialize(deserializer)?;
    value.map(Some).ok_or_else(|| serde::de::Error::custom(NULL_REFUSED))
}

/// The message [`not_null`] fails with, recognized by [`parse`].
const NULL_REFUSED: &str = "null is not allowed here";

/// For merge-patch fields: absent -> `None`, `null` -> `Some(None)`, a value -> `Some(Some(v))`.
/// Use with `#[serde(default, deserialize_with = "crate::extract::double_option")]`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
