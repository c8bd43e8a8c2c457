//! Building [`UserView`]s: a view needs the customer's default address (for users without
//! their own) and the person's groups, loaded for a whole page at once; and what the write
//! path needs to audit and answer with a user.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::dto::UserView;
use super::models::User;
use super::queries;
use crate::accounts::UserRow;
use crate::audit::{Target, Visibility};
use crate::error::AppError;
use crate::write::{Tracked, Viewed};

pub struct Views {
    defaults: HashMap<Uuid, Uuid>,
    groups: HashMap<Uuid, Vec<Uuid>>,
}

impl Views {
    /// What the views of `rows` need, in two queries whatever the page size.
    pub fn load(conn: &mut PgConnection, rows: &[UserRow]) -> QueryResult<Self> {
        let mut customers: Vec<Uuid> = rows.iter().filter_map(|r| r.customer_id).collect();
        customers.sort();
        customers.dedup();
        let users: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        Ok(Self {
            defaults: queries::default_addresses(conn, &customers)?,
            groups: crate::groups::queries::of_users(conn, &customers, &users)?,
        })
    }

    pub fn of(&self, row: &UserRow) -> UserView {
        let default = row.customer_id.and_then(|c| self.defaults.get(&c).copied());
        UserView::new(row, default, self.groups.get(&row.id).cloned().unwrap_or_default())
    }
}

/// The view of a user as a list query read it ([`queries::Listed`]).
pub fn listed((row, default_address, groups): queries::Listed) -> UserView {
    UserView::new(&row, default_address, groups)
}

/// A user with its customer's default address already read (by the check that admitted it, or
/// once for an import's batch), so its view needs no query of its own.
pub struct WithDefault {
    pub user: User,
    pub default_address: Option<Uuid>,
}

impl Viewed for WithDefault {
    type View = UserView;

    fn view(&self, _: &mut PgConnection) -> Result<UserView, AppError> {
        Ok(UserView::new(&self.user.row, self.default_address, self.user.groups.clone()))
    }
}

/// The view of one user.
pub fn one(conn: &mut PgConnection, row: &UserRow) -> QueryResult<UserView> {
    Ok(Views::load(conn, std::slice::from_ref(row))?.of(row))
}

impl Tracked for UserView {
    const TARGET: Target = Target::User;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.customer_id))
    }

    fn location(&self) -> String {
        format!("/v1/customers/{}/users/{}", self.customer_id, self.id)
    }

    /// As hidden as the person: only readers who cover its groups see what happened to it.
    fn visibility(&self) -> Visibility {
        Visibility::person(self.data_scope, &self.group_ids)
    }

    /// Without `last_login_at`: the person signing in changes nothing an edit could overwrite,
    /// so an admin's edit begun before it still applies.
    fn etag(&self) -> String {
        let mut shown = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = shown.as_object_mut() {
            fields.remove("last_login_at");
        }
        crate::etag::of_view(&shown)
    }
}

impl Viewed for User {
    type View = UserView;

    fn view(&self, conn: &mut PgConnection) -> Result<UserView, AppError> {
        let default = queries::default_address(conn, self.customer_id())?;
        Ok(UserView::new(&self.row, default, self.groups.clone()))
    }
}
