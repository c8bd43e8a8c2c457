//! Building [`UserView`]s: a view needs the customer's default address (for users without
//! their own) and the person's groups, loaded for a whole page at once.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::dto::UserView;
use super::queries;
use crate::accounts::UserRow;

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

/// The view of one user.
pub fn one(conn: &mut PgConnection, row: &UserRow) -> QueryResult<UserView> {
    Ok(Views::load(conn, std::slice::from_ref(row))?.of(row))
}
