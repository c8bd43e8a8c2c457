//! Rows of the `customers` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{AddressId, CustomerId};
use crate::db::schema::customers;
use crate::db::types::Email;

pub use crate::accounts::CustomerStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub struct CustomerRow {
    pub id: CustomerId,
    pub name: String,
    pub code: String,
    pub contact_email: Option<Email>,
    pub phone: Option<String>,
    pub status: CustomerStatus,
    pub portal_enabled: bool,
    pub self_signup_enabled: bool,
    pub mfa_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CustomerRow {
    /// Whether the customer's people may have working logins (the rule
    /// [`crate::accounts::queries::customer_allows_logins`] asks the database).
    pub fn allows_logins(&self) -> bool {
        self.status == CustomerStatus::Active && self.portal_enabled
    }
}

/// A customer with the id of its default warehouse address, which the address rules maintain.
#[derive(Debug, Clone)]
pub struct Customer {
    pub row: CustomerRow,
    pub default_warehouse_address_id: Option<AddressId>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = customers)]
pub struct NewCustomer {
    pub id: CustomerId,
    pub name: String,
    pub code: String,
    pub contact_email: Option<Email>,
    pub phone: Option<String>,
    pub status: CustomerStatus,
    pub portal_enabled: bool,
    pub self_signup_enabled: bool,
}

/// A merge-patch: `None` leaves a field, `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = customers)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub code: Option<String>,
    pub contact_email: Option<Option<Email>>,
    pub phone: Option<Option<String>>,
    pub status: Option<CustomerStatus>,
    pub portal_enabled: Option<bool>,
    pub self_signup_enabled: Option<bool>,
    pub mfa_required: Option<bool>,
}
