//! Webhook endpoint and delivery views, request bodies, the event catalog.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::models::{Delivery, DeliveryStatus, DisabledReason, EndpointRow, EndpointStatus};
use crate::audit::Target;
use crate::webhooks::EventType;
use crate::write::{Plain, Tracked};

/// Where events are POSTed. Never its secret, which is shown only when created or rotated.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4da0", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "url": "https://erp.example.com/hooks/dockgate", "event_types": ["user.created", "user.deactivated"],
    "status": "active", "disabled_reason": null, "previous_secret_expires_at": null,
    "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-01T08:00:00Z"
}))]
pub struct WebhookEndpoint {
    pub id: Uuid,
    /// The customer whose events it hears; null for a platform endpoint, which hears every
    /// customer's.
    pub customer_id: Option<Uuid>,
    /// Where events are POSTed (`https`).
    pub url: String,
    /// The event types it hears; null: every type, including types added later.
    pub event_types: Option<Vec<EventType>>,
    pub status: EndpointStatus,
    /// Why it is disabled; null while active.
    pub disabled_reason: Option<DisabledReason>,
    /// Until when the secret before the last rotation still signs (a second signature in
    /// `webhook-signature`); null: only the current one signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&EndpointRow> for WebhookEndpoint {
    fn from(row: &EndpointRow) -> Self {
        Self {
            id: row.id.into(),
            customer_id: row.customer_id,
            url: row.url.clone(),
            event_types: row.event_types.as_ref().map(|types| types.iter().flatten().copied().collect()),
            status: row.status,
            disabled_reason: row.disabled_reason,
            // Once it has expired the old secret signs nothing: the row may still hold it until
            // the next rotation, the view says what a receiver sees.
            previous_secret_expires_at: row.previous_secret_expires_at.filter(|at| *at > Utc::now()),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Tracked for WebhookEndpoint {
    const TARGET: Target = Target::Webhook;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, self.customer_id)
    }

    fn location(&self) -> String {
        match self.customer_id {
            Some(customer_id) => format!("/v1/customers/{customer_id}/webhooks/{}", self.id),
            None => format!("/v1/webhooks/{}", self.id),
        }
    }
}

impl Plain for EndpointRow {
    type View = WebhookEndpoint;
}

/// An endpoint with its signing secret, shown once: at creation and after a rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4da0", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "url": "https://erp.example.com/hooks/dockgate", "event_types": null, "status": "active",
    "disabled_reason": null, "previous_secret_expires_at": null,
    "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-01T08:00:00Z",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw1N0tBJVNpq8="
}))]
pub struct WebhookEndpointWithSecret {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    pub url: String,
    pub event_types: Option<Vec<EventType>>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<DisabledReason>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signing secret, `whsec_` and the base64 of 32 random bytes (Standard Webhooks 1.0):
    /// verify `webhook-signature` with it. Never shown again. `null` in a replay of the
    /// creation (`Idempotency-Key`), which has no secret to show: rotate it
    /// (`POST .../secret`).
    pub secret: Option<String>,
}

impl WebhookEndpointWithSecret {
    pub fn new(view: WebhookEndpoint, secret: Option<String>) -> Self {
        let WebhookEndpoint {
            id,
            customer_id,
            url,
            event_types,
            status,
            disabled_reason,
            previous_secret_expires_at,
            created_at,
            updated_at,
        } = view;
        Self {
            id,
            customer_id,
            url,
            event_types,
            status,
            disabled_reason,
            previous_secret_expires_at,
            created_at,
            updated_at,
            secret,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://erp.example.com/hooks/dockgate", "event_types": ["user.created", "user.deactivated"]}))]
pub struct CreateWebhook {
    /// An `https` URL whose host resolves to public addresses only (no loopback, private,
    /// link-local or CGNAT address); 422 naming `url` otherwise.
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// The event types it hears, at least one; omitted or null: every type, including types
    /// added later.
    #[schema(min_items = 1)]
    pub event_types: Option<Vec<EventType>>,
}

/// A JSON merge-patch; every field is optional.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_types": null, "status": "active"}))]
pub struct PatchWebhook {
    /// A new URL, checked as at creation.
    #[schema(nullable = false, min_length = 1, max_length = 2000)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub url: Option<String>,
    /// The event types it hears (at least one); `null`: every type.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<Vec<EventType>>, min_items = 1)]
    pub event_types: Option<Option<Vec<EventType>>>,
    /// `disabled` stops deliveries (reason `manual`); `active` enables it again (whatever
    /// disabled it) and starts its count of failed deliveries afresh.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub status: Option<EndpointStatus>,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4db0", "webhook_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4da0",
    "message_id": "msg_01936f0e7c1a7d2b9a513f1f2b7c4dc0", "event_type": "user.created", "status": "pending",
    "attempts": 2, "next_attempt_at": "2026-12-01T08:05:05Z", "last_attempt_at": "2026-12-01T08:00:05Z",
    "last_response_status": 503, "last_error": "the receiver answered 503",
    "delivered_at": null, "created_at": "2026-12-01T08:00:00Z"
}))]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The `webhook-id` header of the message: the same at every endpoint and on every retry
    /// (drop duplicates by it).
    pub message_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    /// Attempts made so far (a retry starts again from 0).
    pub attempts: i32,
    /// When the next attempt is due; null unless `pending`.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status at the last attempt; null when it gave none (refused,
    /// timed out) or before the first attempt.
    pub last_response_status: Option<i32>,
    /// What went wrong at the last attempt, in a few words (never the receiver's body).
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&Delivery> for WebhookDelivery {
    fn from(delivery: &Delivery) -> Self {
        let row = &delivery.row;
        Self {
            id: row.id.into(),
            webhook_id: row.endpoint_id.into(),
            message_id: format!("msg_{}", row.event_id.simple()),
            event_type: delivery.event_type,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: (row.status == DeliveryStatus::Pending).then_some(row.next_attempt_at),
            last_attempt_at: row.last_attempt_at,
            last_response_status: row.last_response_status,
            last_error: row.last_error.clone(),
            delivered_at: row.delivered_at,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilters {
    /// Only deliveries with this status.
    pub status: Option<DeliveryStatus>,
}

/// One type of the event catalog.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "user.created", "description": "A person was added to the customer. `data` is the user."}))]
pub struct WebhookEventTypeView {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it is sent and what its `data` is.
    pub description: String,
}

/// The event catalog: every type an endpoint can hear.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventTypes {
    pub items: Vec<WebhookEventTypeView>,
}

impl WebhookEventTypes {
    pub fn all() -> Self {
        let items = EventType::ALL
            .iter()
            .map(|t| WebhookEventTypeView { event_type: *t, description: t.description().to_owned() })
            .collect();
        Self { items }
    }
}

/// The body of every event POSTed to an endpoint (see the document's `webhooks` for each type's
/// `data`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "user.deactivated", "timestamp": "2026-12-01T08:00:00.000Z",
    "data": {"id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "status": "inactive"}
}))]
pub struct WebhookPayload {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the change happened (RFC 3339, milliseconds, UTC).
    pub timestamp: DateTime<Utc>,
    /// The resource's public view after the change (before it, for a deletion); never a
    /// secret, hash or link token. Larger than 20 kB: `{id, customer_id, truncated: true}`
    /// (read the resource from the API).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}
