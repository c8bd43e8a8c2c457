//! The outbox mechanism shared by mail and webhooks: a table of rows that wait for an attempt
//! (`status = 'pending'`, `attempts`, `next_attempt_at`), claimed by the workers of every instance.
//!
//! A claim takes due rows with `FOR UPDATE SKIP LOCKED`, counts the attempt and moves
//! `next_attempt_at` a lease ahead, in one short transaction. Once it commits, the rows are no
//! longer due for any worker until the lease ends, so the attempt is made outside any transaction
//! and still by one worker only. Each outcome is written only if the row is still this claim's
//! ([`still_claimed!`]: same attempt count, still pending), so a worker that overran its lease
//! cannot overwrite a newer attempt's outcome.
//!
//! Schedules are kept on the database's clock (every instance agrees on it) plus the service
//! clock's offset ([`crate::clock::Clock::offset`]), so a test that moves the clock makes rows due.

use std::future::Future;
use std::time::Duration;

use diesel::dsl::{self, AsExprOf, now};
use diesel::pg::data_types::PgInterval;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Interval, Uuid as SqlUuid};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use uuid::Uuid;

use crate::error::AppError;

/// Longest error text kept with an outbox row.
pub const ERROR_LEN: usize = 300;

/// `error`, cut to [`ERROR_LEN`] characters (and `...`) for the row's `last_error`.
pub fn short(error: &str) -> String {
    match error.char_indices().nth(ERROR_LEN) {
        Some((cut, _)) => format!("{}...", &error[..cut]),
        None => error.to_owned(),
    }
}

/// The outbox tables (a closed set: the table name is written into SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Mail,
    Webhooks,
}

impl Queue {
    fn table(self) -> &'static str {
        match self {
            Self::Mail => "mail_outbox",
            Self::Webhooks => "webhook_deliveries",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Webhooks => "webhook",
        }
    }
}

/// One claimed row: its id and its attempt count including this attempt, which is what
/// [`still_claimed!`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Claim {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claims up to `limit` rows of `queue` due on the database clock plus `offset`, for `lease`, and
/// reads what the attempts need with `load` in the same transaction (so it sees the claimed rows
/// with this attempt counted).
pub fn claim<T>(
    conn: &mut PgConnection,
    queue: Queue,
    limit: i64,
    lease: Duration,
    offset: chrono::Duration,
    load: impl FnOnce(&mut PgConnection, &[Claim]) -> QueryResult<Vec<T>>,
) -> QueryResult<Vec<T>> {
    let table = queue.table();
    let sql = format!(
        "WITH due AS (
             SELECT id FROM {table}
             WHERE status = 'pending' AND next_attempt_at <= now() + $1
             ORDER BY next_attempt_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED
         )
         UPDATE {table} AS t SET attempts = t.attempts + 1, next_attempt_at = now() + $3
         FROM due WHERE t.id = due.id
         RETURNING t.id, t.attempts"
    );
    conn.transaction(|conn| {
        let claims: Vec<Claim> = diesel::sql_query(sql)
            .bind::<Interval, _>(interval(Duration::ZERO, offset))
            .bind::<BigInt, _>(limit)
            .bind::<Interval, _>(interval(lease, offset))
            .load(conn)?;
        if claims.is_empty() { Ok(Vec::new()) } else { load(conn, &claims) }
    })
}

/// `wait` plus `offset` (negative offsets count as none), as a PostgreSQL interval.
pub fn interval(wait: Duration, offset: chrono::Duration) -> PgInterval {
    let wait = i64::try_from(wait.as_micros()).unwrap_or(i64::MAX);
    let offset = offset.num_microseconds().unwrap_or(i64::MAX).max(0);
    PgInterval::from_microseconds(wait.saturating_add(offset))
}

pub type FromNow = dsl::Add<AsExprOf<now, diesel::sql_types::Timestamptz>, PgInterval>;

/// The database's clock plus the service clock's `offset` plus `wait`: when a row is due next.
pub fn from_now(wait: Duration, offset: chrono::Duration) -> FromNow {
    now.into_sql::<diesel::sql_types::Timestamptz>() + interval(wait, offset)
}

/// The rows of `$table` (a schema module) that are still the claim `$claim` (anything with `id`
/// and `attempts`): nobody has claimed them since, and no outcome was recorded.
#[macro_export]
macro_rules! still_claimed {
    ($table:ident, $claim:expr) => {
        $table::table
            .filter($table::id.eq($claim.id))
            .filter($table::attempts.eq($claim.attempts))
            .filter($table::status.eq("pending"))
    };
}

/// Rows waiting for an attempt and rows given up, for the metrics. Both counts read a partial
/// index, so they stay cheap however many finished rows the table keeps.
pub fn depth(conn: &mut PgConnection, queue: Queue) -> QueryResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let table = queue.table();
    let mut count = |status: &str| {
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table} WHERE status = '{status}'"))
            .get_result::<Count>(conn)
            .map(|c| c.n)
    };
    Ok((count("pending")?, count("failed")?))
}

/// The worker loop of every instance: every `interval` (and at once after a full batch) `round`
/// claims and works one batch and says how many rows it claimed, until `stop` turns true. A batch
/// being worked is finished first.
pub async fn poll<F, Fut>(
    queue: Queue,
    interval: Duration,
    batch: usize,
    mut stop: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, AppError>>,
{
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        while !*stop.borrow() {
            match round().await {
                Ok(claimed) if claimed >= batch => continue,
                Ok(_) => break,
                Err(error) => {
                    let queue = queue.name();
                    tracing::warn!(%error, queue, "outbox worker cannot claim; trying again at the next poll");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_errors_are_short() {
        assert_eq!(short("refused"), "refused");
        assert_eq!(short(&"é".repeat(1000)).chars().count(), ERROR_LEN + 3);
    }
}
