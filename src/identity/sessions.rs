//! Sessions (one per sign-in) and their rotating refresh tokens.
//!
//! A refresh token is exchanged exactly once; presenting a used one again means it was copied,
//! so the whole session is revoked (RFC 6819 5.2.2.3, "refresh token rotation"). Tokens are
//! 256-bit random values, stored only as SHA-256 hashes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::dsl::now as db_now;
use diesel::prelude::*;
use uuid::Uuid;

use diesel::sql_types as sql;

use crate::accounts::{Amr, CustomerGate, UserRow, queries as accounts};
use crate::config::SessionLifetimes;
use crate::db::ids::{CustomerId, SessionId, UserId};
use crate::db::schema::{customers, refresh_tokens, sessions, users};
use crate::origin::Origin;
use crate::secrets::{hash_secret, new_secret};

/// Prefix that makes a leaked refresh token recognizable to secret scanners.
const PREFIX: &str = "dgr_";

crate::text_enum! {
    /// Why a session ended, as recorded on it (`sessions.revoked_reason`, which a CHECK keeps
    /// to these values).
    pub enum EndReason {
        /// The person signed out.
        Logout = "logout",
        /// A used refresh token was presented again: it was copied.
        RefreshTokenReuse = "refresh_token_reuse",
        /// The password was changed or reset.
        PasswordChanged = "password_changed",
        /// At a refresh, the person could no longer sign in.
        AccountUnavailable = "account_unavailable",
        /// What the person may do or see changed (role, permissions, groups, status, login).
        AccessChanged = "access_changed",
        /// The customer was suspended or its portal switched off.
        CustomerClosed = "customer_suspended_or_portal_disabled",
        /// The session reached its maximum age.
        MaxAge = "max_age_reached",
        /// The session was not used for `SESSION_IDLE_TIMEOUT`.
        IdleTimeout = "idle_timeout",
        /// The person, or an admin, ended it from the session list.
        Ended = "ended",
        /// MFA was switched off or reset.
        MfaChanged = "mfa_changed",
    }
}

/// The reasons by the names the call sites use (`sessions::reason::ACCESS_CHANGED`).
pub mod reason {
    use super::EndReason;

    pub const LOGOUT: EndReason = EndReason::Logout;
    pub const REUSE: EndReason = EndReason::RefreshTokenReuse;
    pub const PASSWORD_CHANGED: EndReason = EndReason::PasswordChanged;
    pub const ACCOUNT_UNAVAILABLE: EndReason = EndReason::AccountUnavailable;
    pub const ACCESS_CHANGED: EndReason = EndReason::AccessChanged;
    pub const CUSTOMER_CLOSED: EndReason = EndReason::CustomerClosed;
    pub const MAX_AGE: EndReason = EndReason::MaxAge;
    pub const IDLE: EndReason = EndReason::IdleTimeout;
    pub const ENDED: EndReason = EndReason::Ended;
    pub const MFA_CHANGED: EndReason = EndReason::MfaChanged;
}

pub struct Issued {
    pub session_id: SessionId,
    pub refresh_token: String,
    /// How the person signed in (the access token's `amr`).
    pub amr: Vec<Amr>,
}

/// How long a session may go unused before it has to be refreshed to stay alive: the
/// `last_used_at` stamp is written at most this often, not on every request.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// A new refresh token for a session started at `started_at`, issued at `now`: the token, its
/// hash (what is stored) and its end, `refresh_token_ttl` from `now` but never past the
/// session's `max_age` from `started_at`.
fn new_refresh_token(
    lifetimes: &SessionLifetimes,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<(String, Vec<u8>, DateTime<Utc>)> {
    let (token, hash) = new_secret(PREFIX)?;
    let expires_at = (now + span(lifetimes.refresh_token_ttl)).min(started_at + span(lifetimes.max_age));
    Ok((token, hash, expires_at))
}

fn span(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Starts a session for `user_id` at `now` (its maximum age counts from there), signed in with
/// `amr`, issues its first refresh token and records the sign-in (`users.last_login_at`): one
/// statement, so all of it or none.
pub fn start(
    conn: &mut PgConnection,
    user_id: impl Into<UserId>,
    origin: &Origin,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
    amr: Vec<Amr>,
) -> QueryResult<Issued> {
    let user_id = Uuid::from(user_id.into());
    let session_id = SessionId::new();
    let (refresh_token, hash, expires_at) = new_refresh_token(lifetimes, now, now)?;
    // The refresh token's foreign key is checked at the end of the statement, when the
    // session's row is there.
    diesel::sql_query(
        "WITH started AS (
             INSERT INTO sessions (id, user_id, client_addr, user_agent, created_at, last_used_at, amr)
             VALUES ($1, $2, $3, $4, $5, $5, $6)
         ), signed_in AS (
             UPDATE users SET last_login_at = now() WHERE id = $2
         )
         INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at) VALUES ($7, $1, $8, $9)",
    )
    .bind::<sql::Uuid, _>(Uuid::from(session_id))
    .bind::<sql::Uuid, _>(user_id)
    .bind::<sql::Nullable<sql::Text>, _>(&origin.client_addr)
    .bind::<sql::Nullable<sql::Text>, _>(&origin.user_agent)
    .bind::<sql::Timestamptz, _>(now)
    .bind::<sql::Array<sql::Text>, _>(&amr)
    .bind::<sql::Uuid, _>(Uuid::now_v7())
    .bind::<sql::Bytea, _>(hash)
    .bind::<sql::Timestamptz, _>(expires_at)
    .execute(conn)?;
    Ok(Issued { session_id, refresh_token, amr })
}

/// Starts a support session: `impersonator` (a staff member) acts as `user_id` until
/// `expires_at`, for `reason`. The person proved nothing, so `amr` is empty, and there is no
/// refresh token: when it ends, it ends.
pub fn start_support(
    conn: &mut PgConnection,
    user_id: impl Into<UserId>,
    impersonator: Uuid,
    reason: &str,
    origin: &Origin,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<SessionId> {
    let session_id = SessionId::new();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(session_id),
            sessions::user_id.eq(user_id.into()),
            sessions::client_addr.eq(&origin.client_addr),
            sessions::user_agent.eq(&origin.user_agent),
            sessions::created_at.eq(now),
            sessions::last_used_at.eq(now),
            sessions::amr.eq(Vec::<Amr>::new()),
            sessions::impersonator_id.eq(impersonator),
            sessions::impersonation_reason.eq(reason),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(session_id)
}

pub enum Rotation {
    Rotated {
        account: Box<UserRow>,
        issued: Issued,
    },
    /// Unknown, expired or revoked token, or a person who may no longer sign in.
    Invalid,
    /// A used token was presented again; the session has been revoked.
    Reused,
}

/// The counts of a rotation's one write: whether the presented token was still unused when it
/// was claimed, and whether its successor was issued (the session still live).
#[derive(QueryableByName)]
struct Rotated {
    #[diesel(sql_type = sql::BigInt)]
    claimed: i64,
    #[diesel(sql_type = sql::BigInt)]
    issued: i64,
}

/// Exchanges a refresh token for a new one in the same session, at `now`. The person must still
/// be able to sign in (status, login, valid_until, the customer's gate); a session older than its
/// maximum age, or unused for the idle timeout, ends here.
///
/// Two statements, no transaction: the token, its session, the person and the customer's gate
/// are read together, unlocked; the write then claims the token only if it is still unused
/// (`used_at IS NULL`, re-checked on the newest row under its lock), so of two requests with
/// the same token at once exactly one rotates and the other is a reuse that ends the session,
/// as if it had come second.
pub fn rotate(
    conn: &mut PgConnection,
    presented: &str,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
) -> QueryResult<Rotation> {
    let hash = hash_secret(presented);
    let found = refresh_tokens::table
        .inner_join(sessions::table.inner_join(users::table.left_join(customers::table)))
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select((
            (refresh_tokens::id, refresh_tokens::expires_at, refresh_tokens::used_at),
            (sessions::id, sessions::created_at, sessions::revoked_at, sessions::last_used_at, sessions::amr),
            UserRow::as_select(),
            accounts::gate_columns().nullable(),
        ))
        .first::<(
            (Uuid, DateTime<Utc>, Option<DateTime<Utc>>),
            (SessionId, DateTime<Utc>, Option<DateTime<Utc>>, DateTime<Utc>, Vec<Amr>),
            UserRow,
            Option<CustomerGate>,
        )>(conn)
        .optional()?;
    let Some((
        (token_id, expires_at, used_at),
        (session_id, started_at, revoked_at, last_used_at, amr),
        account,
        gate,
    )) = found
    else {
        return Ok(Rotation::Invalid);
    };
    if revoked_at.is_some() {
        return Ok(Rotation::Invalid);
    }
    if used_at.is_some() {
        revoke(conn, session_id, EndReason::RefreshTokenReuse)?;
        return Ok(Rotation::Reused);
    }
    if started_at + span(lifetimes.max_age) <= now {
        revoke(conn, session_id, EndReason::MaxAge)?;
        return Ok(Rotation::Invalid);
    }
    if last_used_at + span(lifetimes.idle_timeout) <= now {
        revoke(conn, session_id, EndReason::IdleTimeout)?;
        return Ok(Rotation::Invalid);
    }
    if expires_at <= now {
        return Ok(Rotation::Invalid);
    }
    if !accounts::may_sign_in_through(&account, gate.as_ref(), now) {
        // Recording a lapsed `valid_until` and ending the session are one change.
        conn.transaction(|conn| {
            super::expiry::record_if_expired(conn, &account, now)?;
            revoke(conn, session_id, EndReason::AccountUnavailable)
        })?;
        return Ok(Rotation::Invalid);
    }
    let (refresh_token, new_hash, new_expires_at) = new_refresh_token(lifetimes, started_at, now)?;
    let rotated: Rotated = diesel::sql_query(
        "WITH claimed AS (
             UPDATE refresh_tokens SET used_at = now() WHERE id = $1 AND used_at IS NULL
             RETURNING session_id
         ), touched AS (
             UPDATE sessions SET last_used_at = $2
             WHERE id = (SELECT session_id FROM claimed) AND revoked_at IS NULL
             RETURNING id
         ), issued AS (
             INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at)
             SELECT $3, id, $4, $5 FROM touched
             RETURNING id
         )
         SELECT (SELECT count(*) FROM claimed) AS claimed, (SELECT count(*) FROM issued) AS issued",
    )
    .bind::<sql::Uuid, _>(token_id)
    .bind::<sql::Timestamptz, _>(now)
    .bind::<sql::Uuid, _>(Uuid::now_v7())
    .bind::<sql::Bytea, _>(new_hash)
    .bind::<sql::Timestamptz, _>(new_expires_at)
    .get_result(conn)?;
    match rotated {
        Rotated { claimed: 0, .. } => {
            // Another request used the token between the read and the claim.
            revoke(conn, session_id, EndReason::RefreshTokenReuse)?;
            Ok(Rotation::Reused)
        }
        // The session ended meanwhile.
        Rotated { issued: 0, .. } => Ok(Rotation::Invalid),
        _ => Ok(Rotation::Rotated {
            account: Box::new(account),
            issued: Issued { session_id, refresh_token, amr },
        }),
    }
}

/// Ends one session (if still live).
pub fn revoke(conn: &mut PgConnection, session_id: SessionId, why: EndReason) -> QueryResult<usize> {
    diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(db_now), sessions::revoked_reason.eq(why)))
        .execute(conn)
}

/// Ends the session a refresh token belongs to (logout). Unknown tokens are ignored.
pub fn end_by_refresh_token(conn: &mut PgConnection, presented: &str) -> QueryResult<()> {
    let hash = hash_secret(presented);
    let session = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(refresh_tokens::session_id)
        .first::<SessionId>(conn)
        .optional()?;
    if let Some(session_id) = session {
        revoke(conn, session_id, EndReason::Logout)?;
    }
    Ok(())
}

/// Ends every live session of a person (password change, deactivation, role change, ...).
pub fn end_all_for_user(
    conn: &mut PgConnection,
    user_id: impl Into<UserId>,
    why: EndReason,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table.filter(sessions::user_id.eq(user_id.into())).filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::revoked_at.eq(db_now), sessions::revoked_reason.eq(why)))
    .execute(conn)
}

/// Ends every live session of a customer's users but `keep` (the caller's own, when it asked;
/// `None` when the customer was suspended or its portal switched off, so switching it back on
/// does not revive old sign-ins).
pub fn end_all_for_customer(
    conn: &mut PgConnection,
    customer_id: impl Into<CustomerId>,
    keep: Option<SessionId>,
    why: EndReason,
) -> QueryResult<usize> {
    let people = users::table.filter(users::customer_id.eq(customer_id.into())).select(users::id);
    let keep = kept(keep);
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq_any(people))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep)),
    )
    .set((sessions::revoked_at.eq(db_now), sessions::revoked_reason.eq(why)))
    .execute(conn)
}

/// Deletes refresh tokens that ended before `before`, in batches; returns how many went. An
/// ended token is refused whatever happens to its row, and every refresh adds one, so without
/// this the table grows by about a hundred rows a day for each portal left open.
pub fn purge_refresh_tokens(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    crate::db::purge::in_batches(
        conn,
        "DELETE FROM refresh_tokens WHERE id IN
             (SELECT id FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
        before,
    )
}

/// A live session as the request extractor sees it.
pub struct Live {
    pub account: UserRow,
    pub amr: Vec<Amr>,
    pub impersonator: Option<uuid::Uuid>,
    /// A customer user's customer (`None` for staff).
    pub customer: Option<crate::accounts::CustomerLabel>,
}

/// The person behind a live session at `now`, if the session is live — not ended, younger than
/// its maximum age, used within the idle timeout, before its hard end (a support session) — and
/// the person may still sign in (its customer's gate included), with its groups: everything an
/// authenticated request needs, in one statement. Keeps `last_used_at` fresh to the minute (a
/// second statement at most once a minute); a session found idle is ended.
pub fn live_account(
    conn: &mut PgConnection,
    session_id: SessionId,
    user_id: UserId,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
) -> QueryResult<Option<(Live, Vec<Uuid>)>> {
    use crate::accounts::{CustomerGate, CustomerStatus};
    use crate::db::schema::customers;
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    // Only a `groups`-scoped customer user has memberships; CASE skips the lookup for the rest.
    let groups = crate::db::fixed::fixed::<Array<SqlUuid>>(
        "CASE WHEN users.data_scope = 'groups' THEN ARRAY(SELECT m.group_id FROM group_members m \
         WHERE m.customer_id = users.customer_id AND m.user_id = users.id ORDER BY m.group_id) \
         ELSE '{}'::uuid[] END",
    );
    type Found = (
        UserRow,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Vec<Amr>,
        Option<Uuid>,
        Option<(CustomerStatus, bool, bool, String, String)>,
        Vec<Uuid>,
    );
    let found = sessions::table
        .inner_join(users::table.left_join(customers::table))
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::created_at.gt(now - span(lifetimes.max_age)))
        .select((
            UserRow::as_select(),
            sessions::last_used_at,
            sessions::expires_at,
            sessions::amr,
            sessions::impersonator_id,
            (
                customers::status,
                customers::portal_enabled,
                customers::mfa_required,
                customers::name,
                customers::code,
            )
                .nullable(),
            groups,
        ))
        .first::<Found>(conn)
        .optional()?;
    let Some((account, last_used_at, expires_at, amr, impersonator, customer, groups)) = found else {
        return Ok(None);
    };
    let gate = customer.as_ref().map(|(status, portal_enabled, mfa_required, ..)| CustomerGate {
        status: *status,
        portal_enabled: *portal_enabled,
        mfa_required: *mfa_required,
    });
    let customer = customer.map(|(.., name, code)| crate::accounts::CustomerLabel { name, code });
    if expires_at.is_some_and(|end| end <= now) {
        return Ok(None);
    }
    if last_used_at + span(lifetimes.idle_timeout) <= now {
        revoke(conn, session_id, EndReason::IdleTimeout)?;
        return Ok(None);
    }
    if !super::expiry::may_sign_in_through(conn, &account, gate.as_ref(), now)? {
        return Ok(None);
    }
    // A support session lives only as long as its staff member could sign in: deactivating
    // or deleting the staff member ends what it started too. Rare, so a statement of its own.
    if let Some(staff_id) = impersonator {
        let staff = users::table.find(staff_id).select(UserRow::as_select()).first(conn).optional()?;
        if !staff.is_some_and(|staff| staff.may_sign_in(now)) {
            revoke(conn, session_id, EndReason::AccessChanged)?;
            return Ok(None);
        }
    }
    if last_used_at + TOUCH_EVERY <= now {
        diesel::update(sessions::table.find(session_id).filter(sessions::last_used_at.lt(now)))
            .set(sessions::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some((Live { account, amr, impersonator, customer }, groups)))
}

/// A session as its list shows it (`GET .../sessions`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub amr: Vec<Amr>,
    pub impersonator_id: Option<Uuid>,
    pub impersonation_reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The live sessions of `user_id` at `now`, by the rules of [`live_account`] (not ended, younger
/// than the maximum age, used within the idle timeout, before a support session's hard end).
fn live_of(
    user_id: UserId,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
) -> sessions::BoxedQuery<'static, diesel::pg::Pg> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::created_at.gt(now - span(lifetimes.max_age)))
        .filter(sessions::last_used_at.gt(now - span(lifetimes.idle_timeout)))
        .filter(sessions::expires_at.is_null().or(sessions::expires_at.gt(now)))
        .into_boxed()
}

/// One page of the live sessions of `user_id`, newest first (ids are time-ordered, so the page's
/// cursor is the last id shown).
pub fn list_live(
    conn: &mut PgConnection,
    user_id: UserId,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
    page: crate::pagination::Page,
) -> QueryResult<Vec<SessionRow>> {
    let mut query = live_of(user_id, lifetimes, now);
    if let Some(after) = page.after {
        query = query.filter(sessions::id.lt(SessionId::from(after)));
    }
    query.order(sessions::id.desc()).limit(page.fetch()).select(SessionRow::as_select()).load(conn)
}

/// The live session `session_id` of `user_id`, if there is one: another person's session is as
/// absent as a missing one.
pub fn find_live(
    conn: &mut PgConnection,
    user_id: UserId,
    session_id: SessionId,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
) -> QueryResult<Option<SessionRow>> {
    live_of(user_id, lifetimes, now)
        .filter(sessions::id.eq(session_id))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// The session to spare in an `id <> $keep` filter: no session has the nil id, so "keep none"
/// is "keep the nil one".
fn kept(keep: Option<SessionId>) -> SessionId {
    keep.unwrap_or_else(|| SessionId::from(Uuid::nil()))
}

/// Ends every live session of `user_id` except `keep` (the caller's own, for "sign out
/// everywhere else"), and says which ended.
pub fn end_all_but(
    conn: &mut PgConnection,
    user_id: UserId,
    keep: Option<SessionId>,
    why: EndReason,
) -> QueryResult<Vec<SessionId>> {
    let keep = kept(keep);
    let ended = diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep)),
    )
    .set((sessions::revoked_at.eq(db_now), sessions::revoked_reason.eq(why)))
    .returning(sessions::id)
    .get_results(conn)?;
    Ok(ended)
}
