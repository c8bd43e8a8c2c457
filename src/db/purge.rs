//! Deleting old rows in batches: one statement per batch, so that no statement holds many
//! locks or runs long, however far behind the pruner is.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};

/// How many rows one purge statement deletes.
pub const BATCH: i64 = 1000;

/// Runs `delete` (a `DELETE` whose `$1` is `cutoff` and whose `$2` is the batch size, for its
/// `LIMIT`) until a batch comes back short; returns how many rows went.
pub fn in_batches(
    conn: &mut PgConnection,
    delete: &'static str,
    cutoff: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut purged = 0;
    loop {
        let deleted = diesel::sql_query(delete)
            .bind::<Timestamptz, _>(cutoff)
            .bind::<BigInt, _>(BATCH)
            .execute(conn)?;
        purged += deleted;
        if deleted < BATCH as usize {
            return Ok(purged);
        }
    }
}
