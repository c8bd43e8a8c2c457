//! Queries on staff rows of `users`.

use diesel::prelude::*;

use super::dto::StaffFilters;
use super::models::{Staff, StaffChanges};
use crate::accounts::{AccountStatus, UserRow};
use crate::db::ids::{CustomerId, UserId};
use crate::db::schema::{customers, users};
use crate::pagination::Page;
use crate::permissions::{Kind, Role};

pub fn list(conn: &mut PgConnection, filters: &StaffFilters, page: Page) -> QueryResult<Vec<UserRow>> {
    let mut query =
        users::table.filter(users::kind.eq(Kind::Staff)).select(UserRow::as_select()).into_boxed();
    if let Some(role) = filters.role {
        query = query.filter(users::role.eq(Role::from(role)));
    }
    if let Some(status) = filters.status {
        query = query.filter(users::status.eq(AccountStatus::from(status)));
    }
    if let Some(q) = filters.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // citext: LIKE on the e-mail is case-insensitive already.
        let pattern = crate::db::contains_pattern(q);
        query = query.filter(users::name.ilike(pattern.clone()).or(users::email.like(pattern)));
    }
    if let Some(after) = page.after {
        query = query.filter(users::id.gt(UserId::from(after)));
    }
    query.order(users::id.asc()).limit(page.fetch()).load(conn)
}

pub fn find(conn: &mut PgConnection, id: UserId) -> QueryResult<Staff> {
    users::table
        .find(id)
        .filter(users::kind.eq(Kind::Staff))
        .select(UserRow::as_select())
        .first(conn)
        .map(Staff)
}

/// Locks the staff row for the rest of the transaction (the If-Match check and the change).
pub fn lock(conn: &mut PgConnection, id: UserId) -> QueryResult<Staff> {
    users::table
        .find(id)
        .filter(users::kind.eq(Kind::Staff))
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
        .map(Staff)
}

pub fn update(conn: &mut PgConnection, id: UserId, changes: &StaffChanges) -> QueryResult<Staff> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .map(Staff)
}

pub fn delete(conn: &mut PgConnection, id: UserId) -> QueryResult<usize> {
    diesel::delete(users::table.find(id).filter(users::kind.eq(Kind::Staff))).execute(conn)
}

/// The ids among `ids` that name no customer.
pub fn unknown_customers(conn: &mut PgConnection, ids: &[CustomerId]) -> QueryResult<Vec<CustomerId>> {
    let known: Vec<CustomerId> =
        customers::table.filter(customers::id.eq_any(ids)).select(customers::id).load(conn)?;
    Ok(ids.iter().copied().filter(|id| !known.contains(id)).collect())
}
