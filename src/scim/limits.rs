//! SCIM's own request limit per API client, counted in PostgreSQL so every instance enforces
//! the same one: a directory's full sync (or a conformance run, about 1,000 requests in a few
//! seconds) stays well under it, a runaway connector does not. Fixed one-minute windows: one
//! upsert per request, no read-modify-write race.

use diesel::prelude::*;
use diesel::sql_types::{Double, Integer};
use uuid::Uuid;

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    requests: i32,
    #[diesel(sql_type = Double)]
    wait: f64,
}

/// Counts one request of `client_id`; `Some(seconds)` to wait when it is beyond `per_minute`.
pub fn count(conn: &mut PgConnection, client_id: Uuid, per_minute: u32) -> QueryResult<Option<u64>> {
    let counted: Counted = diesel::sql_query(
        "INSERT INTO scim_request_counts (api_client_id, window_start, requests)
         VALUES ($1, date_trunc('minute', now()), 1)
         ON CONFLICT (api_client_id, window_start)
             DO UPDATE SET requests = scim_request_counts.requests + 1
         RETURNING requests,
             EXTRACT(EPOCH FROM date_trunc('minute', now()) + interval '1 minute' - now())::float8 AS wait",
    )
    .bind::<diesel::sql_types::Uuid, _>(client_id)
    .get_result(conn)?;
    let limit = i32::try_from(per_minute).unwrap_or(i32::MAX);
    Ok((counted.requests > limit).then(|| counted.wait.ceil().max(1.0) as u64))
}

/// Deletes the counts of windows that are over; run periodically by every instance.
pub fn prune(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM scim_request_counts WHERE window_start < now() - interval '2 minutes'")
        .execute(conn)
}
