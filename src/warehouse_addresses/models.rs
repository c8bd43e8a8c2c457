//! Rows of `warehouse_addresses`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{AddressId, CustomerId, GroupId};
use crate::db::schema::warehouse_addresses;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = warehouse_addresses, check_for_backend(diesel::pg::Pg))]
pub struct AddressRow {
    pub customer_id: CustomerId,
    pub id: AddressId,
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub group_id: Option<GroupId>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = warehouse_addresses)]
pub struct NewAddress {
    pub customer_id: CustomerId,
    pub id: AddressId,
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub group_id: Option<GroupId>,
    pub is_default: bool,
}

/// A merge-patch of an address; the default flag is handled by the default rules.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = warehouse_addresses)]
pub struct AddressChanges {
    pub label: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<Option<String>>,
    pub city: Option<String>,
    pub region: Option<Option<String>>,
    pub postal_code: Option<Option<String>>,
    pub country: Option<String>,
    pub contact_name: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub group_id: Option<Option<GroupId>>,
    pub is_default: Option<bool>,
}
