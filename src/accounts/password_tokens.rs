//! Single-use links that let a person choose a password: a reset (forgot password, or an
//! admin's "send a reset link") and the first password of someone created with `send_mail`.
//! 256-bit random tokens, stored only as SHA-256 hashes; issuing a new one kills the older
//! ones of that person, so only the latest link works.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::dsl::now as db_now;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::password_tokens;
use crate::secrets::{hash_secret, new_secret};
use crate::text_enum;

/// Prefix that makes a leaked link token recognizable to secret scanners.
const PREFIX: &str = "dgp_";

text_enum! {
    /// Why a link was issued.
    pub enum Purpose {
        PasswordReset = "password_reset",
        SetPassword = "set_password",
    }
}

/// Issues a link token for `user_id`, valid for `ttl` from `now`; older unused tokens of the
/// person die.
pub fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    purpose: Purpose,
    ttl: Duration,
    now: DateTime<Utc>,
) -> QueryResult<String> {
    revoke_all(conn, user_id)?;
    let (token, hash) = new_secret(PREFIX)?;
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::hours(1));
    diesel::insert_into(password_tokens::table)
        .values((
            password_tokens::id.eq(Uuid::now_v7()),
            password_tokens::user_id.eq(user_id),
            password_tokens::purpose.eq(purpose),
            password_tokens::token_hash.eq(hash),
            password_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The person a token live at `now` (unused, unexpired) belongs to, without using it up.
pub fn peek(conn: &mut PgConnection, presented: &str, now: DateTime<Utc>) -> QueryResult<Option<Uuid>> {
    password_tokens::table
        .filter(live(presented, now))
        .select(password_tokens::user_id)
        .first(conn)
        .optional()
}

/// Uses a token live at `now` up and returns its person; `None` if it is unknown, used or
/// expired. One conditional UPDATE: of two concurrent uses of a token exactly one gets the row
/// back.
pub fn consume(conn: &mut PgConnection, presented: &str, now: DateTime<Utc>) -> QueryResult<Option<Uuid>> {
    diesel::update(password_tokens::table.filter(live(presented, now)))
        .set(password_tokens::used_at.eq(db_now))
        .returning(password_tokens::user_id)
        .get_result(conn)
        .optional()
}

/// Kills every unused token of a person (password set another way, login disabled, ...).
pub fn revoke_all(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
    diesel::delete(
        password_tokens::table
            .filter(password_tokens::user_id.eq(user_id))
            .filter(password_tokens::used_at.is_null()),
    )
    .execute(conn)
}

/// The token `presented`, if unused and unexpired at `now`.
fn live(
    presented: &str,
    now: DateTime<Utc>,
) -> Box<dyn BoxableExpression<password_tokens::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>> {
    Box::new(
        password_tokens::token_hash
            .eq(hash_secret(presented))
            .and(password_tokens::used_at.is_null())
            .and(password_tokens::expires_at.gt(now)),
    )
}
