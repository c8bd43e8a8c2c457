//! Rows of `groups`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{CustomerId, GroupId};
use crate::db::schema::groups;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = groups, check_for_backend(diesel::pg::Pg))]
pub struct GroupRow {
    pub customer_id: CustomerId,
    pub id: GroupId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = groups)]
pub struct NewGroup {
    pub customer_id: CustomerId,
    pub id: GroupId,
    pub name: String,
    pub description: Option<String>,
}

/// A merge-patch: `None` leaves a field unchanged, `Some(None)` clears the description.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = groups)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
}
