//! Queries on the `users` table shared by every kind of person.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{CustomerGate, NewAccount, UserRow};
use crate::db::schema::{customers, group_members, users};
use crate::db::types::Email;
use crate::permissions::DataScope;

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<UserRow> {
    users::table.find(id).select(UserRow::as_select()).first(conn)
}

pub fn find_by_email(conn: &mut PgConnection, email: &Email) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()
}

/// The account an address names, with its customer's gate (`None` for staff, or a customer
/// that is gone): what a sign-in decides on, in one statement.
pub fn find_signing_in(
    conn: &mut PgConnection,
    email: &Email,
) -> QueryResult<Option<(UserRow, Option<CustomerGate>)>> {
    users::table
        .left_join(customers::table)
        .filter(users::email.eq(email))
        .select((UserRow::as_select(), gate_columns().nullable()))
        .first(conn)
        .optional()
}

/// The columns of a [`CustomerGate`], for a query that joins `customers`.
pub fn gate_columns() -> (customers::status, customers::portal_enabled, customers::mfa_required) {
    (customers::status, customers::portal_enabled, customers::mfa_required)
}

pub fn insert(conn: &mut PgConnection, account: &NewAccount) -> QueryResult<UserRow> {
    diesel::insert_into(users::table).values(account).returning(UserRow::as_returning()).get_result(conn)
}

/// A password the person chose themselves (its own change, a reset link): no longer one set by
/// someone else. `password_changed_at` is stamped by the database on every new hash.
pub fn set_password_hash(conn: &mut PgConnection, id: Uuid, hash: &str) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_change_required.eq(false),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

/// A password someone else set for the person (staff or an admin): `temporary` makes its next
/// sign-in end in a password change.
pub fn set_given_password(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
    temporary: bool,
) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_change_required.eq(temporary),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

/// Marks the person's password as set by someone else (a temporary one given at creation).
pub fn require_password_change(conn: &mut PgConnection, id: Uuid) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set(users::password_change_required.eq(true))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

/// Why MFA is in use anywhere (a customer requires it, someone has it on), for the start-up
/// check that the key is there; `None` when it is not.
pub fn mfa_in_use(conn: &mut PgConnection) -> QueryResult<Option<&'static str>> {
    let required = diesel::select(diesel::dsl::exists(customers::table.filter(customers::mfa_required)))
        .get_result::<bool>(conn)?;
    if required {
        return Ok(Some("a customer requires MFA (mfa_required)"));
    }
    let enabled =
        diesel::select(diesel::dsl::exists(users::table.filter(users::mfa_enabled_at.is_not_null())))
            .get_result::<bool>(conn)?;
    Ok(enabled.then_some("people have MFA on"))
}

/// Whether `account` may sign in now: its own state (see [`UserRow::may_sign_in`]) and, for a
/// customer user, its customer's — a suspended customer or one whose portal is switched off has
/// no working logins (contract section 2). Login, refresh and every authenticated request ask.
pub fn may_sign_in(conn: &mut PgConnection, account: &UserRow, now: DateTime<Utc>) -> QueryResult<bool> {
    if !account.may_sign_in(now) {
        return Ok(false);
    }
    match account.customer_id {
        None => Ok(true),
        Some(customer_id) => customer_allows_logins(conn, customer_id),
    }
}

/// [`may_sign_in`] with the customer's gate already read (`None`: staff, or no such customer).
pub fn may_sign_in_through(account: &UserRow, gate: Option<&CustomerGate>, now: DateTime<Utc>) -> bool {
    account.may_sign_in(now)
        && match account.customer_id {
            None => true,
            Some(_) => gate.is_some_and(CustomerGate::allows_logins),
        }
}

/// Whether a customer's users can have working logins: active and with the portal enabled.
pub fn customer_allows_logins(conn: &mut PgConnection, customer_id: Uuid) -> QueryResult<bool> {
    Ok(customer_gate(conn, customer_id)?.is_some_and(|gate| gate.allows_logins()))
}

/// A customer's gate, if the customer exists.
pub fn customer_gate(conn: &mut PgConnection, customer_id: Uuid) -> QueryResult<Option<CustomerGate>> {
    customers::table.find(customer_id).select(gate_columns()).first(conn).optional()
}

/// The memberships of one person (only a `groups`-scoped person has any; it may have none).
pub fn groups_of_user(conn: &mut PgConnection, customer_id: Uuid, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    group_members::table
        .filter(group_members::customer_id.eq(customer_id))
        .filter(group_members::user_id.eq(user_id))
        .order(group_members::group_id.asc())
        .select(group_members::group_id)
        .load(conn)
}

/// The groups of a person: a `groups`-scoped customer user's memberships; none for staff and
/// for anyone who sees `all` (who is in no group, so the query is skipped).
pub fn groups_of(conn: &mut PgConnection, account: &UserRow) -> QueryResult<Vec<Uuid>> {
    match (account.customer_id, account.data_scope) {
        (Some(customer_id), DataScope::Groups) => groups_of_user(conn, customer_id, account.id),
        _ => Ok(Vec::new()),
    }
}

/// Switches the person's MFA off entirely (an admin's reset): the secret, an unconfirmed
/// enrolment, the last accepted step and every recovery code go. The person enrols anew, and
/// must at its next sign-in when MFA is required of it.
pub fn clear_mfa(conn: &mut PgConnection, id: Uuid) -> QueryResult<UserRow> {
    use crate::db::schema::mfa_recovery_codes;
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(id))).execute(conn)?;
    diesel::update(users::table.find(id))
        .set((
            users::mfa_secret.eq(None::<Vec<u8>>),
            users::mfa_pending_secret.eq(None::<Vec<u8>>),
            users::mfa_enabled_at.eq(None::<DateTime<Utc>>),
            users::mfa_last_step.eq(None::<i64>),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
}
