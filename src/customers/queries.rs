//! Queries on `customers`. The default warehouse address is read from the addresses table
//! (its partial unique index is the one source of truth), not stored twice.
//!
//! [`find`] and [`lock`], which resources not yet on typed ids call too, take
//! `impl Into<CustomerId>` so those callers keep compiling while they move over; the rest take
//! a [`CustomerId`].

use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::dto::CustomerFilters;
use super::models::{Customer, CustomerChanges, CustomerRow, NewCustomer};
use crate::db::ids::{AddressId, CustomerId};
use crate::db::schema::{customers, warehouse_addresses};
use crate::pagination::Page;
use crate::policy::Scope;

fn with_defaults(conn: &mut PgConnection, rows: Vec<CustomerRow>) -> QueryResult<Vec<Customer>> {
    let ids: Vec<CustomerId> = rows.iter().map(|row| row.id).collect();
    let defaults: HashMap<CustomerId, AddressId> = warehouse_addresses::table
        .filter(warehouse_addresses::customer_id.eq_any(&ids))
        .filter(warehouse_addresses::is_default)
        .select((warehouse_addresses::customer_id, warehouse_addresses::id))
        .load::<(CustomerId, AddressId)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| Customer { default_warehouse_address_id: defaults.get(&row.id).copied(), row })
        .collect())
}

fn one(conn: &mut PgConnection, row: CustomerRow) -> QueryResult<Customer> {
    with_defaults(conn, vec![row])?.pop().ok_or(diesel::result::Error::NotFound)
}

/// `NotFound` unless the customer exists, so an unknown customer is a 404 rather than an empty
/// list.
pub fn exists(conn: &mut PgConnection, id: CustomerId) -> QueryResult<()> {
    customers::table.find(id).select(customers::id).first::<CustomerId>(conn).map(drop)
}

/// Like [`exists`], and keeps the customer from being deleted until the transaction ends, so an
/// insert of something of the customer that follows cannot fail on the foreign key (a 500).
/// `FOR KEY SHARE` does not block changes to the customer's other columns.
pub fn hold(conn: &mut PgConnection, id: CustomerId) -> QueryResult<()> {
    customers::table.find(id).select(customers::id).for_key_share().first::<CustomerId>(conn).map(drop)
}

pub fn find(conn: &mut PgConnection, id: impl Into<CustomerId>) -> QueryResult<Customer> {
    let row = customers::table.find(id.into()).select(CustomerRow::as_select()).first(conn)?;
    one(conn, row)
}

/// Locks the customer row for the rest of the transaction (changes to it or its addresses).
pub fn lock(conn: &mut PgConnection, id: impl Into<CustomerId>) -> QueryResult<Customer> {
    let row = customers::table.find(id.into()).select(CustomerRow::as_select()).for_update().first(conn)?;
    one(conn, row)
}

pub fn list(
    conn: &mut PgConnection,
    scope: &Scope,
    filters: &CustomerFilters,
    page: Page,
) -> QueryResult<Vec<Customer>> {
    let mut query = customers::table.select(CustomerRow::as_select()).into_boxed();
    if let Scope::Only(ids) = scope {
        query = query.filter(customers::id.eq_any(ids.clone()));
    }
    if let Some(status) = filters.status {
        query = query.filter(customers::status.eq(status));
    }
    if let Some(q) = filters.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // The same expression as the trigram index `customers_search`.
        query = query.filter(
            sql::<Bool>("(customers.name || ' ' || customers.code::text || ' ' || coalesce(customers.contact_email::text, '')) ILIKE ")
                .bind::<Text, _>(crate::db::contains_pattern(q)),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(customers::id.gt(CustomerId::from(after)));
    }
    let rows = query.order(customers::id.asc()).limit(page.fetch()).load(conn)?;
    with_defaults(conn, rows)
}

pub fn insert(conn: &mut PgConnection, new: &NewCustomer) -> QueryResult<Customer> {
    let row = diesel::insert_into(customers::table)
        .values(new)
        .returning(CustomerRow::as_returning())
        .get_result(conn)?;
    Ok(Customer { row, default_warehouse_address_id: None })
}

pub fn update(conn: &mut PgConnection, id: CustomerId, changes: &CustomerChanges) -> QueryResult<Customer> {
    let row = diesel::update(customers::table.find(id))
        .set((changes, customers::updated_at.eq(diesel::dsl::now)))
        .returning(CustomerRow::as_returning())
        .get_result(conn)?;
    one(conn, row)
}

/// Marks the customer changed (its default address moved), so its `updated_at` moves too.
pub fn touch(conn: &mut PgConnection, id: CustomerId) -> QueryResult<()> {
    diesel::update(customers::table.find(id))
        .set(customers::updated_at.eq(diesel::dsl::now))
        .execute(conn)
        .map(drop)
}

pub fn delete(conn: &mut PgConnection, id: CustomerId) -> QueryResult<()> {
    diesel::delete(customers::table.find(id)).execute(conn).map(drop)
}
