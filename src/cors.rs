//! CORS for the portals: pages on the origins of `CORS_ALLOWED_ORIGINS` may call the API from a
//! browser; with the variable unset nothing here runs and no `Access-Control-*` header is ever
//! sent. Built on actix-cors (origin check, preflight, exposed headers); [`narrow`] makes each
//! preflight name the methods of the path it asks about.
//!
//! Credentials are bearer tokens in `Authorization`, never cookies, so no
//! `Access-Control-Allow-Credentials` is sent and no origin is ever `*`.

use actix_cors::Cors;
use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web;

use crate::routes::KnownRoutes;

/// What a page may send besides the simple headers: the token, JSON, the conditional-request
/// and idempotency headers, and its own request id.
const REQUEST_HEADERS: [&str; 5] =
    ["authorization", "content-type", "if-match", "idempotency-key", "x-request-id"];

/// What a page may read of a response besides the simple headers: the ETag to send back, where
/// a created resource is, whether an answer is a replay for its Idempotency-Key, how long to
/// wait after a 409 (key in flight), 429 or 503, and the request id to quote.
const EXPOSED_HEADERS: [&str; 5] = ["etag", "idempotent-replayed", "location", "retry-after", "x-request-id"];

/// How long a browser may reuse a preflight answer (Chromium caps it at 2 hours).
const MAX_AGE_SECS: usize = 3600;

/// The CORS middleware for `origins` (exact origins, checked by the configuration).
pub fn middleware(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers(REQUEST_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(MAX_AGE_SECS)
}

/// Runs outside the CORS middleware: a preflight answer lists the methods the path has (not
/// every method of the API); a preflight for a path that does not exist or a method the path
/// does not have, and any answer to an origin not on the list, carry no CORS header, so the
/// browser refuses them.
pub async fn narrow(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let asked = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let methods = req
        .app_data::<web::Data<KnownRoutes>>()
        .and_then(|routes| routes.methods_of(req.path()).map(str::to_owned));
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let allowed_origin = headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    let has_method = |methods: &str, asked: &str| methods.split(", ").any(|m| m.eq_ignore_ascii_case(asked));
    let answered = match (preflight, methods, asked) {
        (false, _, _) => allowed_origin,
        (true, Some(methods), Some(asked)) if allowed_origin && has_method(&methods, &asked) => {
            if let Ok(value) = header::HeaderValue::from_str(&methods) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
            }
            true
        }
        (true, _, _) => false,
    };
    // actix-cors exposes headers even to an origin it did not allow; a refused origin, path or
    // method gets no CORS header at all.
    if !answered {
        let cors: Vec<header::HeaderName> =
            headers.keys().filter(|name| name.as_str().starts_with("access-control-")).cloned().collect();
        for name in cors {
            headers.remove(name);
        }
    }
    Ok(response)
}
