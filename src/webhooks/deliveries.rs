//! The deliveries table's sending side, on the shared outbox mechanism ([`crate::db::outbox`]):
//! claiming due deliveries with their endpoint and event, and recording each attempt's outcome
//! only while the row is still the claim's. Every time written here is on the service clock
//! (the database's `now()` plus the clock's offset), the clock the schedule is kept on.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Interval, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::notify;
use crate::db::outbox::{self, Queue, from_now, short};
use crate::db::schema::{webhook_deliveries, webhook_endpoints};
use crate::still_claimed;

/// A claimed delivery with what its attempt needs.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Including this attempt.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub attempts: i32,
    #[diesel(sql_type = SqlUuid)]
    pub endpoint_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub customer_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Bool)]
    pub endpoint_active: bool,
    #[diesel(sql_type = Text)]
    pub secret: String,
    /// The rotated-out secret, only while it still signs.
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_secret: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
}

impl Due {
    /// The `webhook-id`: the event's, the same at every endpoint and on every retry.
    pub fn msg_id(&self) -> String {
        message_id(self.event_id)
    }
}

/// `msg_<event id, simple form>`.
pub fn message_id(event_id: Uuid) -> String {
    format!("msg_{}", event_id.simple())
}

/// Claims up to `limit` due deliveries for `lease`.
pub fn claim(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
    offset: chrono::Duration,
) -> QueryResult<Vec<Due>> {
    outbox::claim(conn, Queue::Webhooks, limit, lease, offset, |conn, claims| {
        let ids: Vec<Uuid> = claims.iter().map(|claim| claim.id).collect();
        diesel::sql_query(
            "SELECT d.id, d.attempts, d.endpoint_id, e.customer_id, e.url,
                    e.status = 'active' AS endpoint_active, e.secret,
                    CASE WHEN e.previous_secret_expires_at > now() + $2 THEN e.previous_secret END
                        AS previous_secret,
                    ev.id AS event_id, ev.event_type, ev.payload
             FROM webhook_deliveries d
             JOIN webhook_endpoints e ON e.id = d.endpoint_id
             JOIN webhook_events ev ON ev.id = d.event_id
             WHERE d.id = ANY ($1)
             ORDER BY d.next_attempt_at",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Interval, _>(outbox::interval(Duration::ZERO, offset))
        .load(conn)
    })
}

/// 2xx: delivered; the endpoint's run of failures ends.
pub fn delivered(
    conn: &mut PgConnection,
    due: &Due,
    status: i32,
    offset: chrono::Duration,
) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let at = from_now(Duration::ZERO, offset).nullable();
        let done = diesel::update(still_claimed!(webhook_deliveries, due))
            .set((
                webhook_deliveries::status.eq("delivered"),
                webhook_deliveries::delivered_at.eq(at),
                webhook_deliveries::last_attempt_at.eq(at),
                webhook_deliveries::last_response_status.eq(status),
                webhook_deliveries::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
        if done == 1 {
            diesel::update(webhook_endpoints::table.find(due.endpoint_id))
                .filter(webhook_endpoints::consecutive_failures.ne(0))
                .set(webhook_endpoints::consecutive_failures.eq(0))
                .execute(conn)?;
        }
        Ok(done)
    })
}

/// Another attempt after `wait`.
pub fn retry_later(
    conn: &mut PgConnection,
    due: &Due,
    wait: Duration,
    offset: chrono::Duration,
    status: Option<i32>,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(still_claimed!(webhook_deliveries, due))
        .set((
            webhook_deliveries::next_attempt_at.eq(from_now(wait, offset)),
            webhook_deliveries::last_attempt_at.eq(from_now(Duration::ZERO, offset).nullable()),
            webhook_deliveries::last_response_status.eq(status),
            webhook_deliveries::last_error.eq(short(error)),
        ))
        .execute(conn)
}

/// Marks the claimed delivery failed after an attempt; `true` when it was still the claim's.
fn fail(
    conn: &mut PgConnection,
    due: &Due,
    offset: chrono::Duration,
    status: Option<i32>,
    error: &str,
) -> QueryResult<bool> {
    diesel::update(still_claimed!(webhook_deliveries, due))
        .set((
            webhook_deliveries::status.eq("failed"),
            webhook_deliveries::last_attempt_at.eq(from_now(Duration::ZERO, offset).nullable()),
            webhook_deliveries::last_response_status.eq(status),
            webhook_deliveries::last_error.eq(short(error)),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// 410: the receiver wants no more; the delivery fails and the endpoint is disabled (`gone`).
pub fn gone(conn: &mut PgConnection, due: &Due, offset: chrono::Duration) -> QueryResult<usize> {
    conn.transaction(|conn| {
        if !fail(conn, due, offset, Some(410), "the receiver answered 410 Gone: endpoint disabled")? {
            return Ok(0);
        }
        disable(conn, due.endpoint_id, "gone")?;
        Ok(1)
    })
}

/// The last attempt failed: the delivery fails, the endpoint's run of failures grows, and at
/// `disable_after` the endpoint is disabled (`failing`) and its people are told by mail.
pub fn give_up(
    conn: &mut PgConnection,
    due: &Due,
    offset: chrono::Duration,
    status: Option<i32>,
    error: &str,
    disable_after: i32,
) -> QueryResult<usize> {
    conn.transaction(|conn| {
        if !fail(conn, due, offset, status, error)? {
            return Ok(0);
        }
        let failures: i32 = diesel::update(webhook_endpoints::table.find(due.endpoint_id))
            .set(webhook_endpoints::consecutive_failures.eq(webhook_endpoints::consecutive_failures + 1))
            .returning(webhook_endpoints::consecutive_failures)
            .get_result(conn)?;
        if failures >= disable_after && disable(conn, due.endpoint_id, "failing")? {
            notify::disabled(conn, due.customer_id, &due.url, failures)?;
        }
        Ok(1)
    })
}

/// The endpoint was disabled since the delivery was queued: it fails without a request (the
/// claim's attempt is not counted) and without counting against the endpoint.
pub fn endpoint_disabled(conn: &mut PgConnection, due: &Due) -> QueryResult<usize> {
    diesel::update(still_claimed!(webhook_deliveries, due))
        .set((
            webhook_deliveries::status.eq("failed"),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts - 1),
            webhook_deliveries::last_error.eq("endpoint disabled"),
        ))
        .execute(conn)
}

/// Disables an active endpoint for `reason`; `true` when it was active.
fn disable(conn: &mut PgConnection, endpoint_id: Uuid, reason: &str) -> QueryResult<bool> {
    diesel::update(webhook_endpoints::table.find(endpoint_id))
        .filter(webhook_endpoints::status.eq("active"))
        .set((
            webhook_endpoints::status.eq("disabled"),
            webhook_endpoints::disabled_reason.eq(reason),
            webhook_endpoints::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Makes a delivery of `endpoint_id` pending and due now with a fresh schedule (`attempts` 0),
/// whatever its state: the retry of the delivery log. Returns the rows changed (0: no such
/// delivery of that endpoint). A claim in flight for it then records nothing.
pub fn make_due(
    conn: &mut PgConnection,
    endpoint_id: Uuid,
    delivery_id: Uuid,
    offset: chrono::Duration,
) -> QueryResult<usize> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(from_now(Duration::ZERO, offset)),
        webhook_deliveries::delivered_at.eq(None::<chrono::DateTime<chrono::Utc>>),
    ))
    .execute(conn)
}

/// Deletes the events created before `now - retention` (with their deliveries) of which no
/// delivery waits for an attempt any more, a batch per statement; returns how many went. The
/// delivery log keeps `WEBHOOK_LOG_RETENTION` of history, and the tables do not grow forever.
pub fn purge(
    conn: &mut PgConnection,
    now: chrono::DateTime<chrono::Utc>,
    retention: Duration,
) -> QueryResult<usize> {
    let cutoff = now - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    crate::db::purge::in_batches(
        conn,
        "DELETE FROM webhook_events WHERE id IN (
             SELECT e.id FROM webhook_events e
             WHERE e.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                               WHERE d.event_id = e.id AND d.status = 'pending')
             LIMIT $2)",
        cutoff,
    )
}

/// Deliveries waiting for an attempt and deliveries given up, for the metrics (partial indexes).
pub fn depth(conn: &mut PgConnection) -> QueryResult<(i64, i64)> {
    outbox::depth(conn, Queue::Webhooks)
}
