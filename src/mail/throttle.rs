//! At most one mail of a kind per recipient per minute, for the mails a caller can trigger again
//! and again (an invitation's resend, an admin's reset link, forgot password, sign-up). The
//! record outlives the links it throttles: issuing a new link replaces the old one, but not the
//! time the last one was sent.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Citext, Double, Text, Timestamptz};

use crate::db::types::Email;
use crate::text_enum;

text_enum! {
    /// What kind of mail is throttled.
    pub enum Kind {
        Invitation = "invitation",
        PasswordReset = "password_reset",
        SignupVerification = "signup_verification",
    }
}

/// How often one recipient may get a mail of one kind.
pub const EVERY: Duration = Duration::from_secs(60);

/// Records that a mail of `kind` goes to `recipient` now, unless one went less than [`EVERY`]
/// ago: then the seconds until the next may go. One statement, so of two concurrent callers
/// exactly one gets through; call it in the transaction that queues the mail.
pub fn admit(
    conn: &mut PgConnection,
    recipient: &Email,
    kind: Kind,
    now: DateTime<Utc>,
) -> QueryResult<Result<(), u64>> {
    let written = diesel::sql_query(
        "INSERT INTO mail_throttle (recipient, kind, last_sent_at) VALUES ($1, $2, $3)
         ON CONFLICT (recipient, kind) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at
             WHERE mail_throttle.last_sent_at <= EXCLUDED.last_sent_at - make_interval(secs => $4)",
    )
    .bind::<Citext, _>(recipient)
    .bind::<Text, _>(kind.as_str())
    .bind::<Timestamptz, _>(now)
    .bind::<Double, _>(EVERY.as_secs_f64())
    .execute(conn)?;
    if written == 1 {
        return Ok(Ok(()));
    }
    let last: DateTime<Utc> = crate::db::schema::mail_throttle::table
        .find((recipient, kind.as_str()))
        .select(crate::db::schema::mail_throttle::last_sent_at)
        .first(conn)?;
    let wait = (last + chrono::Duration::from_std(EVERY).unwrap_or_default() - now).num_seconds();
    Ok(Err(wait.max(1).unsigned_abs()))
}

/// Records a mail of `kind` to `recipient` now, whether or not one went recently (a first
/// invitation: the request itself decided it goes).
pub fn record(conn: &mut PgConnection, recipient: &Email, kind: Kind, now: DateTime<Utc>) -> QueryResult<()> {
    record_all(conn, std::slice::from_ref(recipient), kind, now)
}

/// [`record`] for many recipients (distinct addresses) in one statement; none for none.
pub fn record_all(
    conn: &mut PgConnection,
    recipients: &[Email],
    kind: Kind,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    if recipients.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO mail_throttle (recipient, kind, last_sent_at) SELECT r, $2, $3 FROM unnest($1) AS r
         ON CONFLICT (recipient, kind) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at",
    )
    .bind::<diesel::sql_types::Array<Citext>, _>(recipients.to_vec())
    .bind::<Text, _>(kind.as_str())
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .map(drop)
}

/// Forgets records that no longer throttle anything; run periodically by every instance.
pub fn prune(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    use crate::db::schema::mail_throttle as t;
    let cutoff = now - chrono::Duration::from_std(EVERY).unwrap_or_default();
    diesel::delete(t::table.filter(t::last_sent_at.lt(cutoff))).execute(conn)
}
