//! Lifecycle webhooks (issue 15): what happened to a customer's people, invitations, groups and
//! account, POSTed to the endpoints that asked, signed as Standard Webhooks 1.0.
//!
//! [`emit`] writes the event and one delivery per listening endpoint in the caller's
//! transaction (an outbox, like mail): an event exists exactly when its change commits. The
//! worker in every instance delivers due deliveries and retries with backoff. [`target`] decides
//! where a webhook may go (SSRF); [`signature`] signs; [`sender`] makes one attempt;
//! [`schedule`] says when the next is; [`deliveries`] claims and records; [`worker`] runs the loop.

pub mod deliveries;
mod notify;
pub mod schedule;
pub mod sender;
pub mod signature;
pub mod target;
pub mod worker;

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::{webhook_deliveries, webhook_events};
use crate::text_enum;

text_enum! {
    /// Every event a webhook can hear: `<resource>.<what happened>`. The catalog
    /// (`GET /v1/webhook-event-types`) describes each ([`EventType::description`]).
    pub enum EventType as "WebhookEventType" {
        UserCreated = "user.created",
        UserUpdated = "user.updated",
        UserDeactivated = "user.deactivated",
        UserReactivated = "user.reactivated",
        UserDeleted = "user.deleted",
        UserAccessChanged = "user.access_changed",
        InvitationCreated = "invitation.created",
        InvitationAccepted = "invitation.accepted",
        InvitationRevoked = "invitation.revoked",
        GroupCreated = "group.created",
        GroupUpdated = "group.updated",
        GroupDeleted = "group.deleted",
        GroupMembersChanged = "group.members_changed",
        CustomerUpdated = "customer.updated",
        CustomerSuspended = "customer.suspended",
        ApiClientRevoked = "api_client.revoked",
        WebhookTest = "webhook.test",
    }
}

impl EventType {
    /// What the event means and what its `data` is, for the catalog and the OpenAPI document.
    pub fn description(self) -> &'static str {
        match self {
            Self::UserCreated => {
                "A person was added to the customer (by an admin, an invitation accepted, a self sign-up, an import or SCIM). `data` is the user."
            }
            Self::UserUpdated => {
                "A person's profile or account changed (any field). `data` is the user after the change."
            }
            Self::UserDeactivated => {
                "A person was deactivated: their sessions ended and they can no longer sign in. `data` is the user."
            }
            Self::UserReactivated => "A deactivated person was reactivated. `data` is the user.",
            Self::UserDeleted => "A person was deleted. `data` is the user as it was.",
            Self::UserAccessChanged => {
                "A person's role, permissions, groups or data scope changed: besides `user.updated` when the person was edited, alone when a group's membership or removal changed their groups. `data` is the user after the change."
            }
            Self::InvitationCreated => {
                "Someone was invited to the customer's portal. `data` is the invitation (never its link or token)."
            }
            Self::InvitationAccepted => {
                "An invitation was accepted (a `user.created` follows for the new person). `data` is the invitation."
            }
            Self::InvitationRevoked => {
                "An invitation was revoked before it was accepted. `data` is the invitation."
            }
            Self::GroupCreated => "A group was created. `data` is the group.",
            Self::GroupUpdated => {
                "A group's name or description changed. `data` is the group after the change."
            }
            Self::GroupDeleted => "A group was deleted. `data` is the group as it was.",
            Self::GroupMembersChanged => {
                "People joined or left a group. `data` is `{group_id, customer_id, added_user_ids, removed_user_ids}`."
            }
            Self::CustomerUpdated => {
                "The customer's account changed. `data` is the customer after the change."
            }
            Self::CustomerSuspended => {
                "The customer was suspended (sent besides `customer.updated`): none of its people can sign in. `data` is the customer."
            }
            Self::ApiClientRevoked => {
                "An API client was revoked: its tokens stopped working at once. `data` is the client (never a secret)."
            }
            Self::WebhookTest => {
                "Sent by `POST .../webhooks/{webhook_id}/test`, to this endpoint only. `data` is `{webhook_id}`."
            }
        }
    }
}

/// Largest body sent; `data` bigger than this is replaced by a stub naming the resource
/// ([`body`]).
pub const MAX_PAYLOAD: usize = 20 * 1024;

/// The body of an event, as Standard Webhooks payloads are shaped.
#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    event_type: EventType,
    timestamp: String,
    data: &'a Value,
}

/// The exact bytes sent for an event: serialized once here, stored, signed and sent as they are.
/// A `data` that would make the body larger than [`MAX_PAYLOAD`] is replaced by
/// `{"id", "customer_id", "truncated": true}` (the receiver reads the resource from the API).
pub fn body(event_type: EventType, at: DateTime<Utc>, data: &Value) -> Result<String, serde_json::Error> {
    let timestamp = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let full = serde_json::to_string(&Payload { event_type, timestamp: timestamp.clone(), data })?;
    if full.len() <= MAX_PAYLOAD {
        return Ok(full);
    }
    let stub = serde_json::json!({
        "id": data.get("id"),
        "customer_id": data.get("customer_id"),
        "truncated": true,
    });
    serde_json::to_string(&Payload { event_type, timestamp, data: &stub })
}

/// Records `event_type` about `customer_id`'s resource (`data`: its public view, never a secret,
/// hash or token) for every active endpoint listening: the customer's own and the platform's.
/// Call inside the transaction of the change. Writes nothing when nobody listens. One statement.
pub fn emit(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    event_type: EventType,
    data: &Value,
) -> QueryResult<()> {
    emit_all(conn, &[(customer_id, event_type, data)])
}

/// [`emit`] for many events at once, in order: one statement whatever their number, none for
/// no events.
pub fn emit_all(conn: &mut PgConnection, events: &[(Option<Uuid>, EventType, &Value)]) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let emission = Emission::of(events)?;
    let sql = format!("WITH {} SELECT 1", Emission::ctes(1));
    emission.bind(diesel::sql_query(sql).into_boxed()).execute(conn).map(drop)
}

/// Webhook events about to be written as part of a larger statement (the audit log writes its
/// events and their webhooks in one): the SQL of [`Emission::ctes`] and its four parameters.
pub struct Emission {
    ids: Vec<Uuid>,
    customer_ids: Vec<Option<Uuid>>,
    event_types: Vec<String>,
    payloads: Vec<String>,
}

/// A raw statement parameters are bound to one after the other.
pub type Statement<'a> =
    diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery>;

impl Emission {
    /// The events (whose endpoint, what, its data), each with its body serialized now.
    pub fn of(events: &[(Option<Uuid>, EventType, &Value)]) -> QueryResult<Self> {
        let now = Utc::now();
        let mut emission =
            Self { ids: Vec::new(), customer_ids: Vec::new(), event_types: Vec::new(), payloads: Vec::new() };
        for (customer_id, event_type, data) in events {
            let payload = body(*event_type, now, data)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            emission.ids.push(Uuid::now_v7());
            emission.customer_ids.push(*customer_id);
            emission.event_types.push(event_type.as_str().to_owned());
            emission.payloads.push(payload);
        }
        Ok(emission)
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Common table expressions that write the events and one delivery per active endpoint
    /// listening (the customer's own and the platform's); an event nobody hears is not written.
    /// Its parameters are `$first` to `$first + 3`, bound by [`Emission::bind`].
    pub fn ctes(first: usize) -> String {
        let (ids, customers, types, payloads) = (first, first + 1, first + 2, first + 3);
        format!(
            "hook AS (
                 SELECT * FROM unnest(${ids}::uuid[], ${customers}::uuid[], ${types}::text[], ${payloads}::text[])
                     AS h (id, customer_id, event_type, payload)
             ), listening AS (
                 SELECT hook.id AS event_id, e.id AS endpoint_id FROM hook JOIN webhook_endpoints e
                     ON e.status = 'active'
                    AND (e.customer_id = hook.customer_id OR e.customer_id IS NULL)
                    AND (e.event_types IS NULL OR hook.event_type = ANY (e.event_types))
             ), event AS (
                 INSERT INTO webhook_events (id, customer_id, event_type, payload)
                 SELECT id, customer_id, event_type, payload FROM hook
                 WHERE id IN (SELECT event_id FROM listening)
                 ORDER BY id
                 RETURNING id
             ), delivery AS (
                 INSERT INTO webhook_deliveries (id, endpoint_id, event_id)
                 SELECT gen_random_uuid(), listening.endpoint_id, event.id
                 FROM listening JOIN event ON event.id = listening.event_id
             )"
        )
    }

    /// Binds the four parameters of [`Emission::ctes`], next after what `query` has bound.
    pub fn bind(self, query: Statement<'_>) -> Statement<'_> {
        query
            .bind::<diesel::sql_types::Array<SqlUuid>, _>(self.ids)
            .bind::<diesel::sql_types::Array<Nullable<SqlUuid>>, _>(self.customer_ids)
            .bind::<diesel::sql_types::Array<Text>, _>(self.event_types)
            .bind::<diesel::sql_types::Array<Text>, _>(self.payloads)
    }
}

/// Records `event_type` for one endpoint only, whatever it listens to (the `webhook.test` event);
/// returns the delivery's id. Call inside a transaction.
pub fn emit_to(
    conn: &mut PgConnection,
    endpoint_id: Uuid,
    customer_id: Option<Uuid>,
    event_type: EventType,
    data: &Value,
) -> QueryResult<Uuid> {
    let payload = body(event_type, Utc::now(), data)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let (event_id, delivery_id) = (Uuid::now_v7(), Uuid::now_v7());
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::id.eq(event_id),
            webhook_events::customer_id.eq(customer_id),
            webhook_events::event_type.eq(event_type.as_str()),
            webhook_events::payload.eq(payload),
        ))
        .execute(conn)?;
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(delivery_id),
            webhook_deliveries::endpoint_id.eq(endpoint_id),
            webhook_deliveries::event_id.eq(event_id),
        ))
        .execute(conn)?;
    Ok(delivery_id)
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks 1.0).
pub fn new_secret() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)?;
    Ok(format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_whsec_and_32_random_bytes() {
        use base64::Engine;
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        let key =
            base64::engine::general_purpose::STANDARD.decode(a.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
    }

    #[test]
    fn every_event_type_is_described() {
        for event_type in EventType::ALL {
            assert!(event_type.description().ends_with('.'), "{}", event_type.as_str());
        }
    }

    #[test]
    fn a_body_is_type_timestamp_and_data_and_never_over_the_limit() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let data = serde_json::json!({"id": "u1", "name": "Ada"});
        assert_eq!(
            body(EventType::UserCreated, at, &data).unwrap(),
            r#"{"type":"user.created","timestamp":"2026-12-01T10:00:00.000Z","data":{"id":"u1","name":"Ada"}}"#
        );
        let huge = serde_json::json!({"id": "u1", "customer_id": "c1", "notes": "x".repeat(30_000)});
        let stub = body(EventType::UserUpdated, at, &huge).unwrap();
        assert!(stub.len() < MAX_PAYLOAD);
        assert!(stub.contains(r#""truncated":true"#) && stub.contains(r#""id":"u1""#));
    }
}
