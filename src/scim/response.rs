//! The one SCIM error type and the one place that renders it (RFC 7644 §3.12), like the token
//! endpoint keeps RFC 6749's shape: every answer under `/scim/v2` that is an error carries
//! `{"schemas": [Error], "status": "<code>", "scimType"?, "detail"}` as
//! `application/scim+json`, whether a handler, an extractor, the router or the framework made
//! it ([`normalize`] turns the others into this shape). Causes of 500s and 503s are logged,
//! never sent.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Value, json};

use super::errors::{ScimInputError, ScimType};
use super::schema::ERROR_SCHEMA;
use crate::error::{AppError, ConflictKind, OwnErrorFormat};

/// The media type of every SCIM answer (RFC 7644 §8.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// Where SCIM lives; every path below it answers in SCIM's shapes.
pub const BASE_PATH: &str = "/scim/v2";

/// A SCIM error: its status, `scimType` and detail, and the headers it needs.
#[derive(Debug, Clone)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<ScimType>,
    pub detail: String,
    headers: Vec<(header::HeaderName, String)>,
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl ScimError {
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into(), headers: Vec::new() }
    }

    fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, None, "The resource does not exist.")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, None, detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(ScimType::InvalidValue), detail)
    }

    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some(ScimType::Uniqueness), detail)
    }

    pub fn too_many(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            format!("Too many SCIM requests from this client; retry in {retry_after_secs} seconds."),
        )
        .with_header(header::RETRY_AFTER, retry_after_secs.to_string())
    }

    /// The body (RFC 7644 §3.12: `status` is a string).
    pub fn body(&self) -> Value {
        body(self.status, self.scim_type, &self.detail)
    }
}

fn body(status: StatusCode, scim_type: Option<ScimType>, detail: &str) -> Value {
    let mut body = json!({
        "schemas": [ERROR_SCHEMA],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let Some(scim_type) = scim_type {
        body["scimType"] = json!(scim_type.as_str());
    }
    body
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.as_str()));
        }
        let mut response = response.content_type(SCIM_JSON).body(self.body().to_string());
        response.extensions_mut().insert(OwnErrorFormat);
        response
    }
}

impl From<ScimInputError> for ScimError {
    fn from(error: ScimInputError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(error.scim_type), error.detail)
    }
}

/// The house's errors in SCIM's terms: the same statuses where SCIM has them, 400
/// `invalidValue` for a field that failed validation (SCIM has no 422), 409 `uniqueness` for a
/// value another resource holds (named without saying whose).
impl From<AppError> for ScimError {
    fn from(error: AppError) -> Self {
        let status = error.status();
        match error {
            AppError::BadRequest(detail) => Self::new(status, Some(ScimType::InvalidSyntax), detail),
            AppError::Unauthorized(detail) => {
                Self::new(status, None, detail).with_header(header::WWW_AUTHENTICATE, "Bearer")
            }
            AppError::Forbidden(detail) => Self::new(status, None, detail),
            AppError::NotFound => Self::not_found(),
            AppError::MethodNotAllowed { allow } => {
                Self::new(status, None, format!("This path supports only {allow}."))
                    .with_header(header::ALLOW, allow)
            }
            AppError::Conflict(kind, detail) => match kind {
                ConflictKind::EmailTaken
                | ConflictKind::CodeTaken
                | ConflictKind::ExternalIdTaken
                | ConflictKind::NameTaken
                | ConflictKind::Conflict => Self::uniqueness(detail),
                _ => Self::new(status, None, detail),
            },
            AppError::Validation(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| {
                        if e.field.is_empty() {
                            e.message.clone()
                        } else {
                            format!("{}: {}", e.field, e.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                Self::invalid_value(detail)
            }
            AppError::RateLimited { retry_after_secs } => Self::too_many(retry_after_secs),
            AppError::Unavailable(cause) => {
                tracing::warn!(%cause, "SCIM: database unavailable");
                Self::new(status, None, "The service cannot reach its database; try again shortly.")
                    .with_header(header::RETRY_AFTER, crate::error::UNAVAILABLE_RETRY_AFTER_SECS.to_string())
            }
            AppError::Overloaded { retry_after_secs } => {
                Self::new(status, None, "The service is overloaded; try again shortly.")
                    .with_header(header::RETRY_AFTER, retry_after_secs.to_string())
            }
            AppError::Internal(cause) => {
                tracing::error!(%cause, "SCIM request failed");
                Self::new(status, None, "Something went wrong on our side; it has been logged.")
            }
            other => {
                let detail = other.problem().detail;
                Self::new(status, None, detail)
            }
        }
    }
}

/// A SCIM resource or list answered as `application/scim+json`, with its `ETag` and, when
/// created, `201` and `Location`.
pub fn resource<T: Serialize>(
    status: StatusCode,
    etag: Option<&str>,
    location: Option<&str>,
    body: &T,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if let Some(etag) = etag {
        response.insert_header((header::ETAG, etag));
    }
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    match serde_json::to_string(body) {
        Ok(text) => response.content_type(SCIM_JSON).body(text),
        Err(error) => ScimError::from(AppError::internal(error)).error_response(),
    }
}

/// Every error response under [`BASE_PATH`] that is not one of ours already (the router's 404
/// and 405, a body the framework refused, a problem an extractor answered) becomes a SCIM
/// error with the same status and headers, keeping the problem's `detail` when it had one.
/// Registered after [`crate::error::normalize`], so it sees problem details, never actix's
/// bare answers.
pub fn normalize<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let ours = res.response().extensions().get::<OwnErrorFormat>().is_some()
        || res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(SCIM_JSON.as_bytes()));
    if ours || !res.request().path().starts_with(BASE_PATH) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let status = res.status();
        let (req, old) = res.into_parts();
        let mut response = HttpResponse::build(status);
        for (name, value) in old.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.append_header((name.clone(), value.clone()));
            }
        }
        let bytes = actix_web::body::to_bytes(old.into_body()).await.unwrap_or_default();
        let detail = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|problem| problem.get("detail").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
        let scim_type = (status == StatusCode::BAD_REQUEST).then_some(ScimType::InvalidSyntax);
        let mut response =
            response.content_type(SCIM_JSON).body(body(status, scim_type, &detail).to_string());
        response.extensions_mut().insert(OwnErrorFormat);
        let shaped: ServiceResponse<EitherBody<B>> =
            ServiceResponse::new(req, response).map_into_right_body();
        Ok(shaped)
    })))
}
