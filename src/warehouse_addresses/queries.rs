//! Queries on `warehouse_addresses`; every one is keyed by `customer_id` first.

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{AddressChanges, AddressRow, NewAddress};
use crate::db::schema::warehouse_addresses as wa;
use crate::pagination::Page;

/// A page of the customer's addresses; with `groups`, only untagged ones and those of the groups.
pub fn list(
    conn: &mut PgConnection,
    customer_id: Uuid,
    groups: Option<&[Uuid]>,
    page: Page,
) -> QueryResult<Vec<AddressRow>> {
    let mut query =
        wa::table.filter(wa::customer_id.eq(customer_id)).select(AddressRow::as_select()).into_boxed();
    if let Some(groups) = groups {
        query = query.filter(wa::group_id.is_null().or(wa::group_id.eq_any(groups.to_vec())));
    }
    if let Some(after) = page.after {
        query = query.filter(wa::id.gt(after));
    }
    query.order(wa::id.asc()).limit(page.fetch()).load(conn)
}

pub fn find(conn: &mut PgConnection, customer_id: Uuid, id: Uuid) -> QueryResult<AddressRow> {
    wa::table.find((customer_id, id)).select(AddressRow::as_select()).first(conn)
}

pub fn lock(conn: &mut PgConnection, customer_id: Uuid, id: Uuid) -> QueryResult<AddressRow> {
    wa::table.find((customer_id, id)).select(AddressRow::as_select()).for_update().first(conn)
}

pub fn any(conn: &mut PgConnection, customer_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(wa::table.filter(wa::customer_id.eq(customer_id)))).get_result(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewAddress) -> QueryResult<AddressRow> {
    diesel::insert_into(wa::table).values(new).returning(AddressRow::as_returning()).get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    customer_id: Uuid,
    id: Uuid,
    changes: &AddressChanges,
) -> QueryResult<AddressRow> {
    diesel::update(wa::table.find((customer_id, id)))
        .set((changes, wa::updated_at.eq(Utc::now())))
        .returning(AddressRow::as_returning())
        .get_result(conn)
}

/// Unsets the current default (before another takes its place: the unique index checks each
/// statement).
pub fn clear_default(conn: &mut PgConnection, customer_id: Uuid) -> QueryResult<usize> {
    diesel::update(wa::table.filter(wa::customer_id.eq(customer_id)).filter(wa::is_default))
        .set((wa::is_default.eq(false), wa::updated_at.eq(Utc::now())))
        .execute(conn)
}

/// Makes the oldest remaining address the default; returns it, or `None` if none is left.
pub fn promote_oldest(conn: &mut PgConnection, customer_id: Uuid) -> QueryResult<Option<Uuid>> {
    let oldest = wa::table
        .filter(wa::customer_id.eq(customer_id))
        .order(wa::id.asc())
        .select(wa::id)
        .first::<Uuid>(conn)
        .optional()?;
    if let Some(id) = oldest {
        diesel::update(wa::table.find((customer_id, id)))
            .set((wa::is_default.eq(true), wa::updated_at.eq(Utc::now())))
            .execute(conn)?;
    }
    Ok(oldest)
}

pub fn delete(conn: &mut PgConnection, customer_id: Uuid, id: Uuid) -> QueryResult<usize> {
    diesel::delete(wa::table.find((customer_id, id))).execute(conn)
}
