//! Rows of `webhook_endpoints` and `webhook_deliveries`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::db::schema::{webhook_deliveries, webhook_endpoints};
use crate::webhooks::EventType;

crate::text_enum! {
    /// Whether an endpoint is sent events.
    pub enum EndpointStatus as "WebhookStatus" {
        Active = "active",
        Disabled = "disabled",
    }
}

crate::text_enum! {
    /// Why an endpoint is disabled.
    pub enum DisabledReason as "WebhookDisabledReason" {
        /// Someone set `status: disabled`.
        Manual = "manual",
        /// The receiver answered 410 Gone.
        Gone = "gone",
        /// `WEBHOOK_DISABLE_AFTER` deliveries in a row failed.
        Failing = "failing",
    }
}

crate::text_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus as "WebhookDeliveryStatus" {
        /// Not delivered yet; the next attempt is at `next_attempt_at`.
        Pending = "pending",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Given up: every attempt failed, the receiver answered 410, or the endpoint was disabled.
        Failed = "failed",
    }
}

/// An endpoint without its secrets (which only signing reads).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::pg::Pg))]
pub struct EndpointRow {
    pub id: WebhookEndpointId,
    pub customer_id: Option<Uuid>,
    pub url: String,
    pub event_types: Option<Vec<Option<EventType>>>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<DisabledReason>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint {
    pub id: WebhookEndpointId,
    pub customer_id: Option<Uuid>,
    pub url: String,
    pub event_types: Option<Vec<Option<EventType>>>,
    pub secret: String,
    pub created_by: Option<Uuid>,
}

/// A change of an endpoint's own columns; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    /// `Some(None)`: every event type.
    pub event_types: Option<Option<Vec<Option<EventType>>>>,
    pub status: Option<EndpointStatus>,
    pub disabled_reason: Option<Option<DisabledReason>>,
    pub consecutive_failures: Option<i32>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct DeliveryRow {
    pub id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: Uuid,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_response_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A delivery with the type of its event.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub row: DeliveryRow,
    pub event_type: EventType,
}
