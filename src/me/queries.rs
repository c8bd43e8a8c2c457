//! Queries on the caller's own row of `users`.

use diesel::prelude::*;

use super::models::ProfileChanges;
use crate::accounts::UserRow;
use crate::db::ids::UserId;
use crate::db::schema::users;

/// Locks the person's row for the rest of the transaction (the If-Match check and the change).
pub fn lock(conn: &mut PgConnection, id: UserId) -> QueryResult<UserRow> {
    users::table.find(id).select(UserRow::as_select()).for_update().first(conn)
}

pub fn update_profile(conn: &mut PgConnection, id: UserId, changes: &ProfileChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

/// The name and code of the customer a customer user works for (all `GET /v1/me` shows of it).
pub fn customer_of(conn: &mut PgConnection, customer_id: uuid::Uuid) -> QueryResult<(String, String)> {
    use crate::db::schema::customers;
    customers::table.find(customer_id).select((customers::name, customers::code)).first(conn)
}
