//! A staff row (one of [`crate::accounts::UserRow`]) and the changes to one.

use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::{AccountStatus, UserRow};
use crate::db::schema::users;
use crate::db::types::Email;
use crate::permissions::Role;

/// A row of `users` read as a staff member (the queries of this module read only those), so
/// the write path shows it as a [`super::dto::StaffView`].
#[derive(Debug, Clone)]
pub struct Staff(pub UserRow);

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct StaffChanges {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub role: Option<Role>,
    pub customer_ids: Option<Vec<Option<Uuid>>>,
    pub status: Option<AccountStatus>,
    pub valid_until: Option<Option<chrono::DateTime<chrono::Utc>>>,
    /// Cleared whenever `valid_until` is set, so a new end is audited again when it passes.
    pub expired_at: Option<Option<chrono::DateTime<chrono::Utc>>>,
}
