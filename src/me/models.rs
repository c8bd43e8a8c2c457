//! The signed-in person as `/v1/me` shows it, and the change it may make to itself.

use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::UserRow;
use crate::db::schema::users;

/// A person's row with the groups it is in (those of the request's [`crate::accounts::Actor`]):
/// what [`super::dto::MeView`] is made of, besides the customer it reads.
#[derive(Debug, Clone)]
pub struct Me {
    pub row: UserRow,
    pub groups: Vec<Uuid>,
}

/// A merge-patch of the fields a person may change about themselves.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the phone number.
    pub phone: Option<Option<String>>,
}
