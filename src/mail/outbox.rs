//! The mail outbox's sending side: claiming due mail, and recording each attempt's outcome, on
//! the shared outbox mechanism ([`crate::db::outbox`]: claim under a lease, outcomes written only
//! while the row is still the claim's, schedules on the database clock).

use std::time::Duration;

use diesel::dsl::now;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::db::outbox::{self, Queue, from_now};
use crate::db::schema::mail_outbox;
use crate::still_claimed;

/// A claimed mail: what the worker needs to send it and record the outcome.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox, check_for_backend(diesel::pg::Pg))]
pub struct Claimed {
    pub id: Uuid,
    pub template: String,
    pub recipient: String,
    pub payload: Value,
    /// Including this attempt.
    pub attempts: i32,
}

/// Claims up to `limit` due mails for `lease`; returns them with this attempt counted.
pub fn claim(
    conn: &mut PgConnection,
    limit: i64,
    lease: Duration,
    offset: chrono::Duration,
) -> QueryResult<Vec<Claimed>> {
    outbox::claim(conn, Queue::Mail, limit, lease, offset, |conn, claims| {
        let ids: Vec<Uuid> = claims.iter().map(|claim| claim.id).collect();
        mail_outbox::table
            .filter(mail_outbox::id.eq_any(&ids))
            .order(mail_outbox::next_attempt_at.asc())
            .select(Claimed::as_select())
            .load(conn)
    })
}

/// Delivered: the payload (which may hold a link's token) is no longer needed.
pub fn mark_sent(conn: &mut PgConnection, mail: &Claimed) -> QueryResult<usize> {
    diesel::update(still_claimed!(mail_outbox, mail))
        .set((
            mail_outbox::status.eq("sent"),
            mail_outbox::sent_at.eq(now),
            mail_outbox::payload.eq(serde_json::json!({})),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Try again after `wait` (on the database clock plus the service clock's `offset`).
pub fn retry_later(
    conn: &mut PgConnection,
    mail: &Claimed,
    wait: Duration,
    offset: chrono::Duration,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(still_claimed!(mail_outbox, mail))
        .set((mail_outbox::next_attempt_at.eq(from_now(wait, offset)), mail_outbox::last_error.eq(error)))
        .execute(conn)
}

/// Given up: kept as a record with the last error, without its payload.
pub fn mark_failed(conn: &mut PgConnection, mail: &Claimed, error: &str) -> QueryResult<usize> {
    diesel::update(still_claimed!(mail_outbox, mail))
        .set((
            mail_outbox::status.eq("failed"),
            mail_outbox::payload.eq(serde_json::json!({})),
            mail_outbox::last_error.eq(error),
        ))
        .execute(conn)
}

/// Mails waiting to be sent and mails given up, for the metrics (partial indexes: cheap).
pub fn depth(conn: &mut PgConnection) -> QueryResult<(i64, i64)> {
    outbox::depth(conn, Queue::Mail)
}
