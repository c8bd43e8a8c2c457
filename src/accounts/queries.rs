//! Queries on the `users` table shared by every kind of person.

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{NewAccount, ProfileChanges, UserRow};
use crate::db::schema::users;
use crate::db::types::Email;

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<UserRow> {
    users::table.find(id).select(UserRow::as_select()).first(conn)
}

pub fn find_by_email(conn: &mut PgConnection, email: &Email) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()
}

pub fn insert(conn: &mut PgConnection, account: &NewAccount) -> QueryResult<UserRow> {
    diesel::insert_into(users::table).values(account).returning(UserRow::as_returning()).get_result(conn)
}

pub fn update_profile(conn: &mut PgConnection, id: Uuid, changes: &ProfileChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(Utc::now())))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

pub fn set_password_hash(conn: &mut PgConnection, id: Uuid, hash: &str) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(Utc::now())))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

pub fn record_sign_in(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::last_login_at.eq(Utc::now())).execute(conn).map(drop)
}
