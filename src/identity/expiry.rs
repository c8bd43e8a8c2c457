//! Accounts valid until a date (seasonal staff): the first use refused after `valid_until`
//! (a sign-in, a refresh, a request with a live session) is recorded once — `users.expired_at`
//! and the audit event `user.expired`; its sessions already stop at their next use. Later
//! refusals record nothing; a new `valid_until` clears `expired_at`, so its end is recorded in turn.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::accounts::{CustomerGate, UserRow, queries as accounts};
use crate::audit::{self, Author, Event};
use crate::db::schema::users;
use crate::origin::Origin;
use crate::permissions::{DataScope, Kind};

/// [`accounts::may_sign_in`], recording an account's expiry the first time it refuses for it.
pub fn may_sign_in(conn: &mut PgConnection, account: &UserRow, now: DateTime<Utc>) -> QueryResult<bool> {
    record_if_expired(conn, account, now)?;
    accounts::may_sign_in(conn, account, now)
}

/// [`may_sign_in`] with the customer's gate read with the account: no statement unless the
/// expiry is to be recorded.
pub fn may_sign_in_through(
    conn: &mut PgConnection,
    account: &UserRow,
    gate: Option<&CustomerGate>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    record_if_expired(conn, account, now)?;
    Ok(accounts::may_sign_in_through(account, gate, now))
}

/// Records the account's expiry if `valid_until` has passed at `now` and it is not recorded yet
/// (no statement otherwise).
pub fn record_if_expired(conn: &mut PgConnection, account: &UserRow, now: DateTime<Utc>) -> QueryResult<()> {
    if account.is_expired(now) && account.expired_at.is_none() {
        note(conn, account, now)?;
    }
    Ok(())
}

fn note(conn: &mut PgConnection, account: &UserRow, now: DateTime<Utc>) -> QueryResult<()> {
    // Only the request that sets `expired_at` records: concurrent refusals race for one row.
    let first = diesel::update(users::table.find(account.id).filter(users::expired_at.is_null()))
        .set(users::expired_at.eq(now))
        .execute(conn)?;
    if first == 0 {
        return Ok(());
    }
    let groups = match (account.customer_id, account.data_scope) {
        (Some(customer_id), DataScope::Groups) => accounts::groups_of_user(conn, customer_id, account.id)?,
        _ => Vec::new(),
    };
    let event = Event {
        action: audit::Action::UserExpired,
        target_type: if account.kind == Kind::Staff { audit::Target::Staff } else { audit::Target::User },
        target_id: account.id,
        customer_id: account.customer_id,
        changes: serde_json::json!({"expired_at": {"from": null, "to": now}}),
        visibility: audit::Visibility::person(account.data_scope, &groups),
        data: None,
        before: None,
    };
    audit::record(conn, &Author::anonymous(&Origin::default()), event)
}
