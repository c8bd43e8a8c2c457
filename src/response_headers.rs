//! Headers every response carries: `X-Content-Type-Options: nosniff`, and, unless the handler
//! chose a caching policy of its own (the JWKS may be cached for a minute), `Cache-Control:
//! no-store` with `Pragma: no-cache` (RFC 6749 §5.1 for token responses; HTTP/1.0 caches read
//! only `Pragma`). Nearly every answer holds personal data or a credential, so not storing it
//! is the default rather than something each handler must remember.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let not_stored = headers.get(header::CACHE_CONTROL).is_some_and(|v| v.as_bytes() == b"no-store");
    if not_stored && !headers.contains_key(header::PRAGMA) {
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    Ok(response)
}
