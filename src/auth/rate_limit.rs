//! Failed sign-in limits, counted in PostgreSQL so every instance enforces the same ones:
//! per account from one client address, per account from anywhere (high enough that an attacker
//! elsewhere cannot cheaply lock a person out), and per client address.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Citext, Double, Text};

use crate::config::LoginLimits;
use crate::db::schema::login_failures;
use crate::db::types::Email;

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
pub fn blocked_for(
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

pub fn record_failure(conn: &mut PgConnection, email: &Email, client_addr: &str) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((login_failures::email.eq(email), login_failures::client_addr.eq(client_addr)))
        .execute(conn)
        .map(drop)
}

/// A successful sign-in clears that account's failures from that address.
pub fn forget_failures(conn: &mut PgConnection, email: &Email, client_addr: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::email.eq(email))
            .filter(login_failures::client_addr.eq(client_addr)),
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
