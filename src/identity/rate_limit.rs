//! Failed sign-in limits, counted in PostgreSQL so every instance enforces the same ones:
//! per account from one client address, per account from anywhere (high enough that an attacker
//! elsewhere cannot cheaply lock a person out), and per client address.
//!
//! An attempt is counted *before* its secret is verified: [`reserve`] takes the account's and the
//! client's advisory locks, counts, and inserts the attempt in one transaction, so however many
//! requests arrive at once on however many instances, at most the configured number of guesses
//! per window is ever evaluated. A success [`release`]s its reservation; a failure leaves it as
//! the counted failure.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Citext, Double, Integer, Text};

use crate::config::LoginLimits;
use crate::db::schema::login_failures;
use crate::db::types::Email;
use crate::error::AppError;

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    account_and_client: i64,
    #[diesel(sql_type = BigInt)]
    account: i64,
    #[diesel(sql_type = BigInt)]
    client: i64,
    #[diesel(sql_type = Double)]
    account_and_client_wait: f64,
    #[diesel(sql_type = Double)]
    account_wait: f64,
    #[diesel(sql_type = Double)]
    client_wait: f64,
}

/// `Some(seconds)` to wait when a limit is reached, else `None`. The wait is until the oldest
/// counted failure leaves the window (blocked attempts are not counted, so that frees a slot).
fn blocked_for(
    conn: &mut PgConnection,
    limits: &LoginLimits,
    email: &Email,
    client_addr: &str,
) -> QueryResult<Option<u64>> {
    let counts: Counts = diesel::sql_query(
        "WITH recent AS (
             SELECT email = $1 AS same_account, client_addr = $2 AS same_client, failed_at
             FROM login_failures
             WHERE failed_at > now() - make_interval(secs => $3) AND (email = $1 OR client_addr = $2)
         )
         SELECT
             count(*) FILTER (WHERE same_account AND same_client) AS account_and_client,
             count(*) FILTER (WHERE same_account) AS account,
             count(*) FILTER (WHERE same_client) AS client,
             COALESCE(EXTRACT(EPOCH FROM min(failed_at) FILTER (WHERE same_account AND same_client)
                 + make_interval(secs => $3) - now()), 0)::float8 AS account_and_client_wait,
             COALESCE(EXTRACT(EPOCH FROM min(failed_at) FILTER (WHERE same_account)
                 + make_interval(secs => $3) - now()), 0)::float8 AS account_wait,
             COALESCE(EXTRACT(EPOCH FROM min(failed_at) FILTER (WHERE same_client)
                 + make_interval(secs => $3) - now()), 0)::float8 AS client_wait
         FROM recent",
    )
    .bind::<Citext, _>(email)
    .bind::<Text, _>(client_addr)
    .bind::<Double, _>(limits.window.as_secs_f64())
    .get_result(conn)?;
    let waits = [
        (counts.account_and_client >= limits.per_account_and_client, counts.account_and_client_wait),
        (counts.account >= limits.per_account, counts.account_wait),
        (counts.client >= limits.per_client, counts.client_wait),
    ];
    Ok(waits.iter().filter(|(exceeded, _)| *exceeded).map(|(_, wait)| wait.ceil().max(1.0) as u64).max())
}

/// A counted attempt whose secret may now be verified, or how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt is counted as a failure until [`release`]d; the id of its row.
    Reserved(i64),
    Blocked {
        retry_after_secs: u64,
    },
}

impl Attempt {
    /// The reservation, or the 429 to answer.
    pub fn admitted(self) -> Result<i64, AppError> {
        match self {
            Self::Reserved(id) => Ok(id),
            Self::Blocked { retry_after_secs } => Err(AppError::RateLimited { retry_after_secs }),
        }
    }
}

/// Advisory-lock namespaces (the first key of `pg_advisory_xact_lock(int, int)`).
const ACCOUNT_LOCK: i32 = 0x6467_6c61; // "dgla"
const CLIENT_LOCK: i32 = 0x6467_6c63; // "dglc"

/// Counts and reserves one attempt for `email` from `client_addr`, atomically with every other
/// instance: the account's lock, then the client's (always in that order, and nothing else is
/// locked meanwhile, so two attempts cannot deadlock), then the count, then the insert.
pub fn reserve(
    conn: &mut PgConnection,
    limits: &LoginLimits,
    email: &Email,
    client_addr: &str,
) -> QueryResult<Attempt> {
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext(lower($2)))")
            .bind::<Integer, _>(ACCOUNT_LOCK)
            .bind::<Text, _>(email.as_str())
            .execute(conn)?;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<Integer, _>(CLIENT_LOCK)
            .bind::<Text, _>(client_addr)
            .execute(conn)?;
        if let Some(retry_after_secs) = blocked_for(conn, limits, email, client_addr)? {
            return Ok(Attempt::Blocked { retry_after_secs });
        }
        diesel::insert_into(login_failures::table)
            .values((login_failures::email.eq(email), login_failures::client_addr.eq(client_addr)))
            .returning(login_failures::id)
            .get_result(conn)
            .map(Attempt::Reserved)
    })
}

/// The attempt `reserved` succeeded (or was never evaluated): it no longer counts, and neither
/// do the account's earlier failures from the same address.
pub fn release(conn: &mut PgConnection, reserved: i64, email: &Email, client_addr: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table.filter(
            login_failures::id
                .eq(reserved)
                .or(login_failures::email.eq(email).and(login_failures::client_addr.eq(client_addr))),
        ),
    )
    .execute(conn)
    .map(drop)
}

/// Deletes failures older than `max_age_secs`; run periodically by every instance.
pub fn prune(conn: &mut PgConnection, max_age_secs: f64) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM login_failures WHERE failed_at < now() - make_interval(secs => $1)")
        .bind::<Double, _>(max_age_secs)
        .execute(conn)
}
