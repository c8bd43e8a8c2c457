//! Failed sign-in limits, counted in PostgreSQL so every instance enforces the same ones:
//! per account from one client address, per account from anywhere (high enough that an attacker
//! elsewhere cannot cheaply lock a person out), and per client address.
//!
//! An attempt is counted *before* its secret is verified: [`reserve`] takes the account's and the
//! client's advisory locks, counts, and inserts the attempt in one statement (one transaction),
//! so however many requests arrive at once on however many instances, at most the configured
//! number of guesses per window is ever evaluated. A success [`release`]s its reservation; a failure leaves it as
//! the counted failure.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Citext, Double, Integer, Nullable, Text};

use crate::config::LoginLimits;
use crate::db::schema::login_failures;
use crate::db::types::Email;
use crate::error::AppError;

#[derive(QueryableByName)]
struct Reservation {
    #[diesel(sql_type = Nullable<BigInt>)]
    reserved: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    retry_after_secs: Option<f64>,
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

/// Advisory-lock namespaces (the first key of `pg_advisory_xact_lock(int, int)`), passed to
/// `reserve_login_attempt` so they stay the ones instances of the previous release take.
const ACCOUNT_LOCK: i32 = 0x6467_6c61; // "dgla"
const CLIENT_LOCK: i32 = 0x6467_6c63; // "dglc"

/// Counts and reserves one attempt for `email` from `client_addr`, atomically with every other
/// instance, in one statement: the database function `reserve_login_attempt` takes the account's
/// lock, then the client's (always in that order, and nothing else is locked meanwhile, so two
/// attempts cannot deadlock), then counts with a snapshot taken after the locks, then inserts.
/// (Why a function and not one plain statement: see its migration.)
pub fn reserve(
    conn: &mut PgConnection,
    limits: &LoginLimits,
    email: &Email,
    client_addr: &str,
) -> QueryResult<Attempt> {
    let reservation: Reservation = diesel::sql_query(
        "SELECT reserved, retry_after_secs FROM reserve_login_attempt($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind::<Citext, _>(email)
    .bind::<Text, _>(client_addr)
    .bind::<Double, _>(limits.window.as_secs_f64())
    .bind::<Integer, _>(ACCOUNT_LOCK)
    .bind::<Integer, _>(CLIENT_LOCK)
    .bind::<BigInt, _>(limits.per_account_and_client)
    .bind::<BigInt, _>(limits.per_account)
    .bind::<BigInt, _>(limits.per_client)
    .get_result(conn)?;
    Ok(match reservation {
        Reservation { reserved: Some(id), .. } => Attempt::Reserved(id),
        Reservation { reserved: None, retry_after_secs } => {
            Attempt::Blocked { retry_after_secs: retry_after_secs.unwrap_or(1.0).max(1.0) as u64 }
        }
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
