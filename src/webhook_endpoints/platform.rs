//! `/v1/webhooks[...]`: the platform's webhook endpoints, which hear every customer's events
//! (platform admins only). The same implementation as a customer's ([`super::handlers`]).

use actix_web::{HttpResponse, delete, get, patch, post, web};

use super::dto::{
    CreateWebhook, DeliveryFilters, PatchWebhook, WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret,
};
use super::handlers::{create, deliveries, list, read, remove, retry, rotate, test, update};
use crate::accounts::Actor;
use crate::db::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, NoBody, Query};
use crate::idempotency::{Idempotent, KeyHeader, Recorded};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::state::AppState;
use crate::write::{Deleted, Tagged};

/// List platform webhooks
///
/// Endpoints of no customer, which hear every customer's events. Oldest first. Platform admins
/// only. Secrets are never shown.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listPlatformWebhooks",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of webhook endpoints.", body = List<WebhookEndpoint>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/webhooks")]
pub async fn list_platform_webhooks(
    state: web::Data<AppState>,
    actor: Actor,
    page: Page,
) -> Result<web::Json<List<WebhookEndpoint>>, AppError> {
    list(&state, actor, None, page).await
}

/// Create a platform webhook
///
/// Every customer's events of `event_types` (omitted: every type) are POSTed to `url`, signed
/// as Standard Webhooks 1.0. `url` must be `https` and resolve to public addresses only (422
/// naming `url` otherwise). The answer holds `secret` (`whsec_...`), shown this once: verify
/// `webhook-signature` with it.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "createPlatformWebhook",
    security(("bearer" = [])),
    params(KeyHeader),
    request_body(content = CreateWebhook, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the secret is shown only now.", body = WebhookEndpointWithSecret,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/webhooks")]
pub async fn create_platform_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    Idempotent(key, Json(body)): Idempotent<Json<CreateWebhook>>,
) -> Result<Recorded, AppError> {
    create(&state, actor, None, key, body).await
}

/// Get a platform webhook
///
/// Never its secret.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "getPlatformWebhook",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The webhook endpoint.", body = WebhookEndpoint, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/webhooks/{webhook_id}")]
pub async fn get_platform_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<WebhookEndpointId>,
) -> Result<Tagged<WebhookEndpoint>, AppError> {
    read(&state, actor, None, id.into_inner()).await
}

/// Update, disable or enable a platform webhook
///
/// JSON merge-patch of `url` (checked as at creation), `event_types` (`null`: every type) and
/// `status`: `disabled` stops deliveries (reason `manual`); `active` enables it again, whatever
/// disabled it, with its count of failed deliveries reset. Honours `If-Match`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "patchPlatformWebhook",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchWebhook, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated webhook endpoint.", body = WebhookEndpoint, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[patch("/v1/webhooks/{webhook_id}")]
pub async fn patch_platform_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<WebhookEndpointId>,
    if_match: IfMatch,
    Json(patch): Json<PatchWebhook>,
) -> Result<Tagged<WebhookEndpoint>, AppError> {
    update(&state, actor, None, id.into_inner(), if_match, patch).await
}

/// Delete a platform webhook
///
/// Nothing more is sent to it; its delivery log goes with it. Honours `If-Match`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "deletePlatformWebhook",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/webhooks/{webhook_id}")]
pub async fn delete_platform_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<WebhookEndpointId>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    remove(&state, actor, None, id.into_inner(), if_match).await
}

/// Rotate a platform webhook's secret
///
/// A new `secret`, shown this once. For 24 hours the old one signs too (a second `v1,`
/// signature in `webhook-signature`; see `previous_secret_expires_at`), so receivers can switch
/// without missing an event; a second rotation within them drops the oldest. Honours
/// `If-Match`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotatePlatformWebhookSecret",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 200, description = "The webhook endpoint with its new secret.",
            body = WebhookEndpointWithSecret, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/webhooks/{webhook_id}/secret")]
pub async fn rotate_platform_webhook_secret(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<WebhookEndpointId>,
    if_match: IfMatch,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    rotate(&state, actor, None, id.into_inner(), if_match).await
}

/// List a platform webhook's deliveries
///
/// Newest first: each event sent (or to be sent) to the endpoint, with its status, attempts,
/// the receiver's last answer and the next attempt.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listPlatformWebhookDeliveries",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path), DeliveryFilters, PageParams),
    responses(
        (status = 200, description = "A page of deliveries.", body = List<WebhookDelivery>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/webhooks/{webhook_id}/deliveries")]
pub async fn list_platform_webhook_deliveries(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<WebhookEndpointId>,
    Query(filters): Query<DeliveryFilters>,
    page: Page,
) -> Result<web::Json<List<WebhookDelivery>>, AppError> {
    deliveries(&state, actor, None, id.into_inner(), filters, page).await
}

/// Retry a delivery of a platform webhook
///
/// Whatever its status, it is sent again now, with a fresh schedule of attempts (`attempts`
/// back to 0) and the same `webhook-id`. 409 (`webhook-disabled`) while the endpoint is
/// disabled.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "retryPlatformWebhookDelivery",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued: pending and due now.", body = WebhookDelivery),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")]
pub async fn retry_platform_webhook_delivery(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(WebhookEndpointId, WebhookDeliveryId)>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    retry(&state, actor, None, path.into_inner()).await
}

/// Send a test event to a platform webhook
///
/// A `webhook.test` event (`data`: `{webhook_id}`) to this endpoint only, now, whatever it
/// listens to; follow it in the delivery log. 409 (`webhook-disabled`) while the endpoint is
/// disabled.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "testPlatformWebhook",
    security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued: the test event's delivery.", body = WebhookDelivery),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/webhooks/{webhook_id}/test")]
pub async fn test_platform_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<WebhookEndpointId>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    test(&state, actor, None, id.into_inner()).await
}
