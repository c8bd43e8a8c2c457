//! Rows of the `cost_centers` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{CostCenterId, CustomerId};
use crate::db::schema::cost_centers;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cost_centers, check_for_backend(diesel::pg::Pg))]
pub struct CostCenterRow {
    pub customer_id: CustomerId,
    pub id: CostCenterId,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = cost_centers)]
pub struct NewCostCenter {
    pub customer_id: CustomerId,
    pub id: CostCenterId,
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// A merge-patch: `None` leaves a field unchanged.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = cost_centers)]
pub struct CostCenterChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
}
