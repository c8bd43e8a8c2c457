//! Changes to a staff row (the row itself is [`crate::accounts::UserRow`]).

use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::AccountStatus;
use crate::db::schema::users;
use crate::db::types::Email;
use crate::permissions::Role;

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct StaffChanges {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub role: Option<Role>,
    pub customer_ids: Option<Vec<Option<Uuid>>>,
    pub status: Option<AccountStatus>,
}
