//! Queries on `invitations`. Every query of the customer-facing endpoints is bounded by
//! `customer_id`; the public ones find an invitation by the hash of its token only.

use chrono::{DateTime, Utc};
use diesel::dsl::cardinality;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{InvitationRow, InvitationStatus};
use crate::accounts::UserRow;
use crate::db::ids::{CustomerId, InvitationId};
use crate::db::schema::{invitations, users};
use crate::db::types::Email;
use crate::pagination::Page;

pub fn insert(conn: &mut PgConnection, new: &InvitationRow) -> QueryResult<InvitationRow> {
    diesel::insert_into(invitations::table)
        .values(new)
        .returning(InvitationRow::as_returning())
        .get_result(conn)
}

/// Many [`insert`]s in one statement (none for none); the rows in no particular order.
pub fn insert_all(conn: &mut PgConnection, new: &[InvitationRow]) -> QueryResult<Vec<InvitationRow>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    diesel::insert_into(invitations::table)
        .values(new)
        .returning(InvitationRow::as_returning())
        .get_results(conn)
}

/// The accounts (of any customer, and staff) whose login is one of `emails`: who holds an
/// address decides whether it can be invited.
pub fn accounts_of(conn: &mut PgConnection, emails: &[Email]) -> QueryResult<Vec<UserRow>> {
    users::table.filter(users::email.eq_any(emails)).select(UserRow::as_select()).load(conn)
}

pub fn find(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: InvitationId,
) -> QueryResult<InvitationRow> {
    invitations::table.find((customer_id, id)).select(InvitationRow::as_select()).first(conn)
}

/// Locks the invitation for the rest of the transaction.
pub fn lock(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: InvitationId,
) -> QueryResult<InvitationRow> {
    invitations::table.find((customer_id, id)).select(InvitationRow::as_select()).for_update().first(conn)
}

/// A customer's invitations in `status` (as clients see it at `now`), keyset-paginated by id;
/// `within` a group limit, only those it covers: with groups, all among `within`.
pub fn list(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    within: Option<&[Uuid]>,
    status: Option<InvitationStatus>,
    now: DateTime<Utc>,
    page: Page,
) -> QueryResult<Vec<InvitationRow>> {
    let mut query = invitations::table
        .filter(invitations::customer_id.eq(customer_id))
        .select(InvitationRow::as_select())
        .into_boxed();
    if let Some(groups) = within {
        let groups: Vec<Option<Uuid>> = groups.iter().copied().map(Some).collect();
        query = query.filter(
            cardinality(invitations::group_ids).gt(0).and(invitations::group_ids.is_contained_by(groups)),
        );
    }
    let pending = InvitationStatus::Pending;
    query = match status {
        None => query,
        Some(InvitationStatus::Pending) => query
            .filter(invitations::status.eq(pending))
            .filter(invitations::user_id.is_not_null())
            .filter(invitations::expires_at.gt(now)),
        Some(InvitationStatus::Expired) => query
            .filter(invitations::status.eq(pending))
            .filter(invitations::user_id.is_not_null())
            .filter(invitations::expires_at.le(now)),
        // A pending invitation whose user was removed reads as revoked (see `status_at`).
        Some(InvitationStatus::Revoked) => query.filter(
            invitations::status
                .eq(InvitationStatus::Revoked)
                .or(invitations::status.eq(pending).and(invitations::user_id.is_null())),
        ),
        Some(InvitationStatus::Accepted) => query.filter(invitations::status.eq(InvitationStatus::Accepted)),
    };
    if let Some(after) = page.after {
        query = query.filter(invitations::id.gt(InvitationId::from(after)));
    }
    query.order(invitations::id.asc()).limit(page.fetch()).load(conn)
}

/// Those of `emails` with a live invitation (pending, unexpired, its user still there) with
/// any customer, as the invitations spell them.
pub fn live_for_emails(
    conn: &mut PgConnection,
    emails: &[Email],
    now: DateTime<Utc>,
) -> QueryResult<Vec<Email>> {
    invitations::table
        .filter(invitations::email.eq_any(emails))
        .filter(invitations::status.eq(InvitationStatus::Pending))
        .filter(invitations::user_id.is_not_null())
        .filter(invitations::expires_at.gt(now))
        .select(invitations::email)
        .distinct()
        .load(conn)
}

/// Whether another invitation of the same user is newer than `invitation` (a re-invitation
/// replaced it, so it cannot be resent).
pub fn superseded(conn: &mut PgConnection, invitation: &InvitationRow) -> QueryResult<bool> {
    let Some(user_id) = invitation.user_id else { return Ok(true) };
    diesel::select(diesel::dsl::exists(
        invitations::table
            .filter(invitations::customer_id.eq(invitation.customer_id))
            .filter(invitations::user_id.eq(user_id))
            .filter(invitations::id.gt(invitation.id)),
    ))
    .get_result(conn)
}

/// The invitation a presented token belongs to, whatever its state.
pub fn by_token(conn: &mut PgConnection, token_hash: &[u8]) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// Marks the invitation of a live token accepted and returns it; `None` if the token is
/// unknown, not pending, expired at `now` or its user gone. One conditional UPDATE: of two
/// concurrent accepts exactly one gets the row back.
pub fn consume(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<InvitationRow>> {
    diesel::update(
        invitations::table
            .filter(invitations::token_hash.eq(token_hash))
            .filter(invitations::status.eq(InvitationStatus::Pending))
            .filter(invitations::user_id.is_not_null())
            .filter(invitations::expires_at.gt(now)),
    )
    .set((invitations::status.eq(InvitationStatus::Accepted), invitations::updated_at.eq(diesel::dsl::now)))
    .returning(InvitationRow::as_returning())
    .get_result(conn)
    .optional()
}

/// A new link: the token hash is replaced in place (the old link dies), valid until
/// `expires_at`, counted as sent once more.
pub fn renew(
    conn: &mut PgConnection,
    invitation: &InvitationRow,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<InvitationRow> {
    diesel::update(invitations::table.find((invitation.customer_id, invitation.id)))
        .set((
            invitations::token_hash.eq(token_hash),
            invitations::expires_at.eq(expires_at),
            invitations::send_count.eq(invitations::send_count + 1),
            invitations::last_sent_at.eq(now),
            invitations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(InvitationRow::as_returning())
        .get_result(conn)
}

/// Marks the invitation revoked; its token no longer finds a live invitation.
pub fn revoke(conn: &mut PgConnection, invitation: &InvitationRow) -> QueryResult<InvitationRow> {
    diesel::update(invitations::table.find((invitation.customer_id, invitation.id)))
        .set((
            invitations::status.eq(InvitationStatus::Revoked),
            invitations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(InvitationRow::as_returning())
        .get_result(conn)
}
