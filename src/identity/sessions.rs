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

use crate::accounts::{Amr, UserRow};
use crate::config::SessionLifetimes;
use crate::db::ids::{CustomerId, SessionId, UserId};
use crate::db::schema::{refresh_tokens, sessions, users};
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

/// Issues a refresh token for `session_id`, valid `refresh_token_ttl` from `now` but never past
/// the session's `max_age` from `started_at`.
fn add_refresh_token(
    conn: &mut PgConnection,
    session_id: SessionId,
    lifetimes: &SessionLifetimes,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<String> {
    let (token, hash) = new_secret(PREFIX)?;
    let expires_at = (now + span(lifetimes.refresh_token_ttl)).min(started_at + span(lifetimes.max_age));
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(token)
}

fn span(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Starts a session for `user_id` at `now` (its maximum age counts from there), signed in with
/// `amr`, and issues its first refresh token.
pub fn start(
    conn: &mut PgConnection,
    user_id: impl Into<UserId>,
    origin: &Origin,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
    amr: Vec<Amr>,
) -> QueryResult<Issued> {
    let user_id = user_id.into();
    conn.transaction(|conn| {
        let session_id = SessionId::new();
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(session_id),
                sessions::user_id.eq(user_id),
                sessions::client_addr.eq(&origin.client_addr),
                sessions::user_agent.eq(&origin.user_agent),
                sessions::created_at.eq(now),
                sessions::last_used_at.eq(now),
                sessions::amr.eq(&amr),
            ))
            .execute(conn)?;
        let refresh_token = add_refresh_token(conn, session_id, lifetimes, now, now)?;
        Ok(Issued { session_id, refresh_token, amr })
    })
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

/// Exchanges a refresh token for a new one in the same session, at `now`. `may_continue`
/// decides whether the person may still sign in (status, login, customer rules). A session
/// older than its maximum age, or unused for the idle timeout, ends here.
pub fn rotate(
    conn: &mut PgConnection,
    presented: &str,
    lifetimes: &SessionLifetimes,
    now: DateTime<Utc>,
    may_continue: impl Fn(&mut PgConnection, &UserRow, DateTime<Utc>) -> QueryResult<bool>,
) -> QueryResult<Rotation> {
    let hash = hash_secret(presented);
    conn.transaction(|conn| {
        let found = refresh_tokens::table
            .inner_join(sessions::table)
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select((
                refresh_tokens::id,
                refresh_tokens::expires_at,
                refresh_tokens::used_at,
                sessions::id,
                sessions::created_at,
                sessions::revoked_at,
                sessions::user_id,
                sessions::last_used_at,
                sessions::amr,
            ))
            .for_update()
            .first::<(
                Uuid,
                DateTime<Utc>,
                Option<DateTime<Utc>>,
                SessionId,
                DateTime<Utc>,
                Option<DateTime<Utc>>,
                UserId,
                DateTime<Utc>,
                Vec<Amr>,
            )>(conn)
            .optional()?;
        let Some((
            token_id,
            expires_at,
            used_at,
            session_id,
            started_at,
            revoked_at,
            user_id,
            last_used_at,
            amr,
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
        let account = users::table.find(user_id).select(UserRow::as_select()).first(conn)?;
        if !may_continue(conn, &account, now)? {
            revoke(conn, session_id, EndReason::AccountUnavailable)?;
            return Ok(Rotation::Invalid);
        }
        diesel::update(refresh_tokens::table.find(token_id))
            .set(refresh_tokens::used_at.eq(db_now))
            .execute(conn)?;
        diesel::update(sessions::table.find(session_id)).set(sessions::last_used_at.eq(now)).execute(conn)?;
        let refresh_token = add_refresh_token(conn, session_id, lifetimes, started_at, now)?;
        Ok(Rotation::Rotated {
            account: Box::new(account),
            issued: Issued { session_id, refresh_token, amr },
        })
    })
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

/// Ends every live session of a customer's users (the customer was suspended or its portal
/// switched off), so switching it back on does not revive old sign-ins.
pub fn end_all_for_customer(
    conn: &mut PgConnection,
    customer_id: impl Into<CustomerId>,
    why: EndReason,
) -> QueryResult<usize> {
    let people = users::table.filter(users::customer_id.eq(customer_id.into())).select(users::id);
    diesel::update(
        sessions::table.filter(sessions::user_id.eq_any(people)).filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::revoked_at.eq(db_now), sessions::revoked_reason.eq(why)))
    .execute(conn)
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
    use crate::accounts::CustomerStatus;
    use crate::db::schema::customers;
    use diesel::dsl::sql;
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    // Only a `groups`-scoped customer user has memberships; CASE skips the lookup for the rest.
    let groups = sql::<Array<SqlUuid>>(
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
        Option<(CustomerStatus, bool, String, String)>,
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
            (customers::status, customers::portal_enabled, customers::name, customers::code).nullable(),
            groups,
        ))
        .first::<Found>(conn)
        .optional()?;
    let Some((account, last_used_at, expires_at, amr, impersonator, customer, groups)) = found else {
        return Ok(None);
    };
    let gate = customer.as_ref().map(|(status, portal_enabled, ..)| (*status, *portal_enabled));
    let customer = customer.map(|(_, _, name, code)| crate::accounts::CustomerLabel { name, code });
    if expires_at.is_some_and(|end| end <= now) {
        return Ok(None);
    }
    if last_used_at + span(lifetimes.idle_timeout) <= now {
        revoke(conn, session_id, EndReason::IdleTimeout)?;
        return Ok(None);
    }
    super::expiry::note_if_expired(conn, &account, now)?;
    if !crate::accounts::queries::gate_open(&account, now, gate) {
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

/// Ends every live session of `user_id` except `keep` (the caller's own, for "sign out
/// everywhere else"), and says which ended.
pub fn end_all_but(
    conn: &mut PgConnection,
    user_id: UserId,
    keep: Option<SessionId>,
    why: EndReason,
) -> QueryResult<Vec<SessionId>> {
    // No session has the nil id: "keep none" is "keep the nil one".
    let keep = keep.map_or(Uuid::nil(), Uuid::from);
    let ended = diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(SessionId::from(keep))),
    )
    .set((sessions::revoked_at.eq(db_now), sessions::revoked_reason.eq(why)))
    .returning(sessions::id)
    .get_results(conn)?;
    Ok(ended)
}
