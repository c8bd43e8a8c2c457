//! The outbox table's sending side: claiming due mail, and recording each attempt's outcome.
//!
//! A claim takes due rows with `FOR UPDATE SKIP LOCKED`, counts the attempt and moves
//! `next_attempt_at` a lease ahead, in one short transaction. Once it commits, the rows are no
//! longer due for any worker until the lease ends, so the mail is sent outside any transaction and
//! still by one worker only. Each outcome is written only if the row is still this claim's (same
//! attempt count, still pending), so a worker that overran its lease cannot overwrite a newer one.

use std::time::Duration;

use diesel::dsl::{self, AsExprOf, now};
use diesel::pg::data_types::PgInterval;
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::mail_outbox;

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
pub fn claim(conn: &mut PgConnection, limit: i64, lease: Duration) -> QueryResult<Vec<Claimed>> {
    conn.transaction(|conn| {
        let due: Vec<Claimed> = mail_outbox::table
            .filter(mail_outbox::status.eq("pending"))
            .filter(mail_outbox::next_attempt_at.le(now))
            .order(mail_outbox::next_attempt_at.asc())
            .limit(limit)
            .for_update()
            .skip_locked()
            .select(Claimed::as_select())
            .load(conn)?;
        if due.is_empty() {
            return Ok(due);
        }
        let ids: Vec<Uuid> = due.iter().map(|row| row.id).collect();
        diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
            .set((
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
                mail_outbox::next_attempt_at.eq(from_now(lease)),
            ))
            .execute(conn)?;
        Ok(due.into_iter().map(|row| Claimed { attempts: row.attempts + 1, ..row }).collect())
    })
}

type FromNow = dsl::Add<AsExprOf<now, Timestamptz>, PgInterval>;

/// The database's clock plus `wait`: every instance schedules on the same clock.
fn from_now(wait: Duration) -> FromNow {
    let micros = i64::try_from(wait.as_micros()).unwrap_or(i64::MAX);
    now.into_sql::<Timestamptz>() + PgInterval::from_microseconds(micros)
}

/// The row of this claim, if nobody has claimed it since.
macro_rules! still_claimed {
    ($mail:expr) => {
        mail_outbox::table
            .filter(mail_outbox::id.eq($mail.id))
            .filter(mail_outbox::attempts.eq($mail.attempts))
            .filter(mail_outbox::status.eq("pending"))
    };
}

/// Delivered: the payload (which may hold a link's token) is no longer needed.
pub fn mark_sent(conn: &mut PgConnection, mail: &Claimed) -> QueryResult<usize> {
    diesel::update(still_claimed!(mail))
        .set((
            mail_outbox::status.eq("sent"),
            mail_outbox::sent_at.eq(now),
            mail_outbox::payload.eq(serde_json::json!({})),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Try again after `wait`.
pub fn retry_later(
    conn: &mut PgConnection,
    mail: &Claimed,
    wait: Duration,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(still_claimed!(mail))
        .set((mail_outbox::next_attempt_at.eq(from_now(wait)), mail_outbox::last_error.eq(error)))
        .execute(conn)
}

/// Given up: kept as a record with the last error, without its payload.
pub fn mark_failed(conn: &mut PgConnection, mail: &Claimed, error: &str) -> QueryResult<usize> {
    diesel::update(still_claimed!(mail))
        .set((
            mail_outbox::status.eq("failed"),
            mail_outbox::payload.eq(serde_json::json!({})),
            mail_outbox::last_error.eq(error),
        ))
        .execute(conn)
}

/// Mails waiting to be sent and mails given up, for the metrics. Both counts read a partial
/// index, so they stay cheap however many sent mails the table keeps.
pub fn depth(conn: &mut PgConnection) -> QueryResult<(i64, i64)> {
    let count = |conn: &mut PgConnection, status: &str| {
        mail_outbox::table.filter(mail_outbox::status.eq(status)).count().get_result::<i64>(conn)
    };
    Ok((count(conn, "pending")?, count(conn, "failed")?))
}
