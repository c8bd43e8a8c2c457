//! Queries on `cost_centers`; every one is keyed by `customer_id` first, so another customer's
//! cost center is simply not found.

use diesel::prelude::*;

use super::dto::CostCenterFilters;
use super::models::{CostCenterChanges, CostCenterRow, NewCostCenter};
use crate::db::ids::{CostCenterId, CustomerId};
use crate::db::schema::cost_centers as cc;
use crate::pagination::Page;

pub fn list(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    filters: &CostCenterFilters,
    page: Page,
) -> QueryResult<Vec<CostCenterRow>> {
    let mut query =
        cc::table.filter(cc::customer_id.eq(customer_id)).select(CostCenterRow::as_select()).into_boxed();
    if let Some(active) = filters.active {
        query = query.filter(cc::active.eq(active));
    }
    if let Some(q) = filters.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = crate::db::contains_pattern(q);
        // `code` is citext, whose LIKE already ignores case.
        query = query.filter(cc::code.like(pattern.clone()).or(cc::name.ilike(pattern)));
    }
    if let Some(after) = page.after {
        query = query.filter(cc::id.gt(CostCenterId::from(after)));
    }
    query.order(cc::id.asc()).limit(page.fetch()).load(conn)
}

pub fn find(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: CostCenterId,
) -> QueryResult<CostCenterRow> {
    cc::table.find((customer_id, id)).select(CostCenterRow::as_select()).first(conn)
}

/// Locks the cost center for the rest of the transaction (the If-Match check and the change).
pub fn lock(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: CostCenterId,
) -> QueryResult<CostCenterRow> {
    cc::table.find((customer_id, id)).select(CostCenterRow::as_select()).for_update().first(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewCostCenter) -> QueryResult<CostCenterRow> {
    diesel::insert_into(cc::table).values(new).returning(CostCenterRow::as_returning()).get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: CostCenterId,
    changes: &CostCenterChanges,
) -> QueryResult<CostCenterRow> {
    diesel::update(cc::table.find((customer_id, id)))
        .set((changes, cc::updated_at.eq(diesel::dsl::now)))
        .returning(CostCenterRow::as_returning())
        .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, customer_id: CustomerId, id: CostCenterId) -> QueryResult<()> {
    diesel::delete(cc::table.find((customer_id, id))).execute(conn).map(drop)
}
