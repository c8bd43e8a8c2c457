//! `/v1/customers/{customer_id}/webhooks[...]`: a customer's webhook endpoints, for staff who
//! see the customer and its people with `users.manage` and the data scope `all`.

use actix_web::{HttpResponse, delete, get, patch, post, web};

use super::dto::{
    CreateWebhook, DeliveryFilters, PatchWebhook, WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret,
};
use super::handlers::{create, deliveries, list, read, remove, retry, rotate, test, update};
use crate::accounts::Actor;
use crate::db::ids::{CustomerId, WebhookDeliveryId, WebhookEndpointId};
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::extract::{Json, NoBody, Query};
use crate::idempotency::{Idempotent, KeyHeader, Recorded};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::state::AppState;
use crate::write::{Deleted, Tagged};

/// List a customer's webhooks
///
/// Oldest first. Staff, or customer users with `users.manage` and the data scope `all` (an
/// endpoint hears about every group's people: 403 for a caller limited to groups). Secrets are
/// never shown.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhooks",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of webhook endpoints.", body = List<WebhookEndpoint>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    page: Page,
) -> Result<web::Json<List<WebhookEndpoint>>, AppError> {
    list(&state, actor, Some(customer_id.into_inner()), page).await
}

/// Create a webhook
///
/// The customer's events of `event_types` (omitted: every type) are POSTed to `url`, signed
/// as Standard Webhooks 1.0. `url` must be `https` and resolve to public addresses only (422
/// naming `url` otherwise). The answer holds `secret` (`whsec_...`), shown this once: verify
/// `webhook-signature` with it.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "createWebhook",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateWebhook, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the secret is shown only now.", body = WebhookEndpointWithSecret,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/customers/{customer_id}/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateWebhook>>,
) -> Result<Recorded, AppError> {
    create(&state, actor, Some(customer_id.into_inner()), key, body).await
}

/// Get a webhook
///
/// Never its secret.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "getWebhook",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("webhook_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The webhook endpoint.", body = WebhookEndpoint, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/webhooks/{webhook_id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, WebhookEndpointId)>,
) -> Result<Tagged<WebhookEndpoint>, AppError> {
    let (customer_id, id) = path.into_inner();
    read(&state, actor, Some(customer_id), id).await
}

/// Update, disable or enable a webhook
///
/// JSON merge-patch of `url` (checked as at creation), `event_types` (`null`: every type) and
/// `status`: `disabled` stops deliveries (reason `manual`); `active` enables it again, whatever
/// disabled it, with its count of failed deliveries reset. Honours `If-Match`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "patchWebhook",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("webhook_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchWebhook, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated webhook endpoint.", body = WebhookEndpoint, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[patch("/v1/customers/{customer_id}/webhooks/{webhook_id}")]
pub async fn patch_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, WebhookEndpointId)>,
    if_match: IfMatch,
    Json(patch): Json<PatchWebhook>,
) -> Result<Tagged<WebhookEndpoint>, AppError> {
    let (customer_id, id) = path.into_inner();
    update(&state, actor, Some(customer_id), id, if_match, patch).await
}

/// Delete a webhook
///
/// Nothing more is sent to it; its delivery log goes with it. Honours `If-Match`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "deleteWebhook",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("webhook_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, WebhookEndpointId)>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let (customer_id, id) = path.into_inner();
    remove(&state, actor, Some(customer_id), id, if_match).await
}

/// Rotate a webhook's secret
///
/// A new `secret`, shown this once. For 24 hours the old one signs too (a second `v1,`
/// signature in `webhook-signature`; see `previous_secret_expires_at`), so receivers can switch
/// without missing an event; a second rotation within them drops the oldest. Honours
/// `If-Match`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotateWebhookSecret",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("webhook_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 200, description = "The webhook endpoint with its new secret.",
            body = WebhookEndpointWithSecret, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/customers/{customer_id}/webhooks/{webhook_id}/secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, WebhookEndpointId)>,
    if_match: IfMatch,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, id) = path.into_inner();
    rotate(&state, actor, Some(customer_id), id, if_match).await
}

/// List a webhook's deliveries
///
/// Newest first: each event sent (or to be sent) to the endpoint, with its status, attempts,
/// the receiver's last answer and the next attempt.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhookDeliveries",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("webhook_id" = Uuid, Path), DeliveryFilters, PageParams),
    responses(
        (status = 200, description = "A page of deliveries.", body = List<WebhookDelivery>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, WebhookEndpointId)>,
    Query(filters): Query<DeliveryFilters>,
    page: Page,
) -> Result<web::Json<List<WebhookDelivery>>, AppError> {
    let (customer_id, id) = path.into_inner();
    deliveries(&state, actor, Some(customer_id), id, filters, page).await
}

/// Retry a delivery
///
/// Whatever its status, it is sent again now, with a fresh schedule of attempts (`attempts`
/// back to 0) and the same `webhook-id`. 409 (`webhook-disabled`) while the endpoint is
/// disabled.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "retryWebhookDelivery",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("webhook_id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued: pending and due now.", body = WebhookDelivery),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, WebhookEndpointId, WebhookDeliveryId)>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, id, delivery) = path.into_inner();
    retry(&state, actor, Some(customer_id), (id, delivery)).await
}

/// Send a test event
///
/// A `webhook.test` event (`data`: `{webhook_id}`) to this endpoint only, now, whatever it
/// listens to; follow it in the delivery log. 409 (`webhook-disabled`) while the endpoint is
/// disabled.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "testWebhook",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("webhook_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued: the test event's delivery.", body = WebhookDelivery),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/webhooks/{webhook_id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, WebhookEndpointId)>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, id) = path.into_inner();
    test(&state, actor, Some(customer_id), id).await
}
