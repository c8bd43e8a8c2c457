//! Single-use links that let a person choose a password: a reset (forgot password, or an
//! admin's "send a reset link") and the first password of someone created with `send_mail`.
//! 256-bit random tokens, stored only as SHA-256 hashes; issuing a new one kills the older
//! ones of that person, so only the latest link works.

use std::time::Duration;

use chrono::Utc;
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

/// Issues a link token for `user_id`, valid for `ttl`; older unused tokens of the person die.
pub fn issue(conn: &mut PgConnection, user_id: Uuid, purpose: Purpose, ttl: Duration) -> QueryResult<String> {
    revoke_all(conn, user_id)?;
    let (token, hash) = new_secret(PREFIX)?;
    let expires_at =
        Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::hours(1));
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

/// The person a live (unused, unexpired) token belongs to, without using it up.
pub fn peek(conn: &mut PgConnection, presented: &str) -> QueryResult<Option<Uuid>> {
    live(presented).select(password_tokens::user_id).first(conn).optional()
}

/// Uses a live token up and returns its person; `None` if it is unknown, used or expired.
/// One conditional UPDATE: of two concurrent uses of a token exactly one gets the row back.
pub fn consume(conn: &mut PgConnection, presented: &str) -> QueryResult<Option<Uuid>> {
    diesel::update(
        password_tokens::table
            .filter(password_tokens::token_hash.eq(hash_secret(presented)))
            .filter(password_tokens::used_at.is_null())
            .filter(password_tokens::expires_at.gt(Utc::now())),
    )
    .set(password_tokens::used_at.eq(Utc::now()))
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

fn live(presented: &str) -> password_tokens::BoxedQuery<'static, diesel::pg::Pg> {
    password_tokens::table
        .filter(password_tokens::token_hash.eq(hash_secret(presented)))
        .filter(password_tokens::used_at.is_null())
        .filter(password_tokens::expires_at.gt(Utc::now()))
        .into_boxed()
}
