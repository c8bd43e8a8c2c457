//! The short-lived, single-use tokens of the sign-in steps between a correct password and a
//! token pair: a second factor (`mfa`), a password change (`password_change`), an MFA enrolment
//! (`mfa_enrolment`). Each remembers what the person has proven so far (`amr`). Stored only as
//! SHA-256 hashes, like every other token.

use chrono::{DateTime, Utc};
use diesel::dsl::now as db_now;
use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::Amr;
use crate::db::schema::{sign_in_challenges, users};
use crate::secrets::{hash_secret, new_secret};

/// Prefix that makes a leaked step token recognizable to secret scanners.
pub const PREFIX: &str = "dgs_";

/// How long a step token works (the issue's `expires_in: 300`).
pub const TTL_SECONDS: i64 = 300;

crate::text_enum! {
    /// What a step token lets its holder do next.
    pub enum Purpose {
        /// Present a TOTP or recovery code (`POST /v1/auth/login/mfa`).
        Mfa = "mfa",
        /// Set a new password (`POST /v1/auth/password/change`).
        PasswordChange = "password_change",
        /// Enrol in MFA (`POST /v1/me/mfa/totp`, then `.../confirm`).
        MfaEnrolment = "mfa_enrolment",
    }
}

/// A live step token.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sign_in_challenges, check_for_backend(diesel::pg::Pg))]
pub struct Challenge {
    pub id: Uuid,
    pub user_id: Uuid,
    pub purpose: Purpose,
    pub amr: Vec<Amr>,
}

/// Issues a step token for `user_id`, valid [`TTL_SECONDS`] from `now`.
pub fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    purpose: Purpose,
    amr: &[Amr],
    now: DateTime<Utc>,
) -> QueryResult<String> {
    let (token, hash) = new_secret(PREFIX)?;
    diesel::insert_into(sign_in_challenges::table)
        .values((
            sign_in_challenges::id.eq(Uuid::now_v7()),
            sign_in_challenges::user_id.eq(user_id),
            sign_in_challenges::token_hash.eq(hash),
            sign_in_challenges::purpose.eq(purpose),
            sign_in_challenges::amr.eq(amr),
            sign_in_challenges::created_at.eq(now),
            sign_in_challenges::expires_at.eq(now + chrono::Duration::seconds(TTL_SECONDS)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The live (unused, unexpired at `now`) step token `presented` for `purpose`, locked until
/// the transaction ends so two requests cannot both use it. A token of another purpose is no
/// token here.
pub fn find(
    conn: &mut PgConnection,
    presented: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> QueryResult<Option<Challenge>> {
    if !presented.starts_with(PREFIX) {
        return Ok(None);
    }
    sign_in_challenges::table
        .filter(sign_in_challenges::token_hash.eq(hash_secret(presented)))
        .filter(sign_in_challenges::purpose.eq(purpose))
        .filter(sign_in_challenges::used_at.is_null())
        .filter(sign_in_challenges::expires_at.gt(now))
        .select(Challenge::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Marks a step token used: it never works again.
pub fn consume(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(sign_in_challenges::table.find(id))
        .set(sign_in_challenges::used_at.eq(db_now))
        .execute(conn)
        .map(drop)
}

/// Ends every live step token of a person (MFA reset, password reset, deactivation).
pub fn end_all_for_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        sign_in_challenges::table
            .filter(sign_in_challenges::user_id.eq(user_id))
            .filter(sign_in_challenges::used_at.is_null()),
    )
    .set(sign_in_challenges::used_at.eq(db_now))
    .execute(conn)
}

/// Ends the open sign-in steps of every person of `customer_id`: no sign-in begun before
/// completes after.
pub fn end_all_for_customer(conn: &mut PgConnection, customer_id: Uuid) -> QueryResult<usize> {
    let people = users::table.filter(users::customer_id.eq(customer_id)).select(users::id);
    diesel::update(
        sign_in_challenges::table
            .filter(sign_in_challenges::user_id.eq_any(people))
            .filter(sign_in_challenges::used_at.is_null()),
    )
    .set(sign_in_challenges::used_at.eq(db_now))
    .execute(conn)
}

/// Deletes step tokens that expired before `before` (the pruner).
pub fn purge(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(sign_in_challenges::table.filter(sign_in_challenges::expires_at.lt(before))).execute(conn)
}
