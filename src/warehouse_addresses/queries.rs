//! Queries on `warehouse_addresses`; every one is keyed by `customer_id` first. The default
//! rules ([`insert_keeping_one_default`], [`update_keeping_one_default`], [`delete_promoting`])
//! expect the customer row locked by the caller's transaction.

use diesel::prelude::*;

use super::models::{AddressChanges, AddressRow, NewAddress};
use crate::customers::queries as customers;
use crate::db::ids::{AddressId, CustomerId, GroupId};
use crate::db::schema::warehouse_addresses as wa;
use crate::pagination::Page;

/// A page of the customer's addresses; with `groups`, only untagged ones and those of the groups.
pub fn list(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    groups: Option<&[GroupId]>,
    page: Page,
) -> QueryResult<Vec<AddressRow>> {
    let mut query =
        wa::table.filter(wa::customer_id.eq(customer_id)).select(AddressRow::as_select()).into_boxed();
    if let Some(groups) = groups {
        query = query.filter(wa::group_id.is_null().or(wa::group_id.eq_any(groups.to_vec())));
    }
    if let Some(after) = page.after {
        query = query.filter(wa::id.gt(AddressId::from(after)));
    }
    query.order(wa::id.asc()).limit(page.fetch()).load(conn)
}

pub fn find(conn: &mut PgConnection, customer_id: CustomerId, id: AddressId) -> QueryResult<AddressRow> {
    wa::table.find((customer_id, id)).select(AddressRow::as_select()).first(conn)
}

pub fn lock(conn: &mut PgConnection, customer_id: CustomerId, id: AddressId) -> QueryResult<AddressRow> {
    wa::table.find((customer_id, id)).select(AddressRow::as_select()).for_update().first(conn)
}

fn any(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(wa::table.filter(wa::customer_id.eq(customer_id)))).get_result(conn)
}

/// Inserts `new`: the customer's first address is its default whatever was asked, and a new
/// default takes the place of the old one.
pub fn insert_keeping_one_default(conn: &mut PgConnection, mut new: NewAddress) -> QueryResult<AddressRow> {
    new.is_default = new.is_default || !any(conn, new.customer_id)?;
    if new.is_default {
        clear_default(conn, new.customer_id)?;
        customers::touch(conn, new.customer_id)?;
    }
    diesel::insert_into(wa::table).values(&new).returning(AddressRow::as_returning()).get_result(conn)
}

/// Applies `changes`; `is_default: Some(true)` on another address than the default makes this
/// one the default, the old one unset first.
pub fn update_keeping_one_default(
    conn: &mut PgConnection,
    before: &AddressRow,
    changes: &AddressChanges,
) -> QueryResult<AddressRow> {
    if changes.is_default == Some(true) && !before.is_default {
        clear_default(conn, before.customer_id)?;
        customers::touch(conn, before.customer_id)?;
    }
    diesel::update(wa::table.find((before.customer_id, before.id)))
        .set((changes, wa::updated_at.eq(diesel::dsl::now)))
        .returning(AddressRow::as_returning())
        .get_result(conn)
}

/// Deletes `address`; when it was the default, the oldest remaining address takes over (none
/// when it was the last).
pub fn delete_promoting(conn: &mut PgConnection, address: &AddressRow) -> QueryResult<()> {
    diesel::delete(wa::table.find((address.customer_id, address.id))).execute(conn)?;
    if address.is_default {
        promote_oldest(conn, address.customer_id)?;
        customers::touch(conn, address.customer_id)?;
    }
    Ok(())
}

/// Unsets the current default (before another takes its place: the unique index checks each
/// statement).
fn clear_default(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<usize> {
    diesel::update(wa::table.filter(wa::customer_id.eq(customer_id)).filter(wa::is_default))
        .set((wa::is_default.eq(false), wa::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
}

/// Makes the oldest remaining address the default; returns it, or `None` if none is left.
fn promote_oldest(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<Option<AddressId>> {
    let oldest = wa::table
        .filter(wa::customer_id.eq(customer_id))
        .order(wa::id.asc())
        .select(wa::id)
        .first::<AddressId>(conn)
        .optional()?;
    if let Some(id) = oldest {
        diesel::update(wa::table.find((customer_id, id)))
            .set((wa::is_default.eq(true), wa::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
    }
    Ok(oldest)
}
