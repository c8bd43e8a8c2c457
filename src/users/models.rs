//! Changes to a customer-user row (the row itself is [`crate::accounts::UserRow`]).

use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::AccountStatus;
use crate::db::schema::users;
use crate::db::types::Email;
use crate::permissions::{Permission, Role};

/// `None` leaves a column alone; `Some(None)` clears a nullable one.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<Email>>,
    pub login_enabled: Option<bool>,
    pub role: Option<Role>,
    pub permissions: Option<Vec<Option<Permission>>>,
    pub warehouse_address_id: Option<Option<Uuid>>,
    pub cost_center_id: Option<Option<Uuid>>,
    pub external_id: Option<Option<String>>,
    pub password_hash: Option<Option<String>>,
    pub status: Option<AccountStatus>,
}

/// A new customer user.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: Uuid,
    pub kind: crate::permissions::Kind,
    pub customer_id: Option<Uuid>,
    pub email: Option<Email>,
    pub name: String,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    pub login_enabled: bool,
    pub permissions: Vec<Option<Permission>>,
    pub warehouse_address_id: Option<Uuid>,
    pub cost_center_id: Option<Uuid>,
    pub external_id: Option<String>,
}
