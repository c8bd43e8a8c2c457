//! New customer-user rows and changes to them (the row itself is [`crate::accounts::UserRow`]),
//! and [`User`], the row with the groups its view and its visibility depend on.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::{AccountStatus, UserRow};
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::schema::users;
use crate::db::types::Email;
use crate::permissions::{DataScope, Kind, Permission, Role};

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
    pub warehouse_address_id: Option<Option<AddressId>>,
    pub cost_center_id: Option<Option<CostCenterId>>,
    pub external_id: Option<Option<String>>,
    pub password_hash: Option<Option<String>>,
    pub status: Option<AccountStatus>,
    /// Set only through `rules::set_access` and its siblings, which keep the
    /// memberships in line.
    pub data_scope: Option<DataScope>,
    pub valid_until: Option<Option<DateTime<Utc>>>,
    /// Cleared whenever `valid_until` is set, so a new end is audited again when it passes.
    pub expired_at: Option<Option<DateTime<Utc>>>,
}

/// A new customer user; start from [`NewUser::new`] and set what differs.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: UserId,
    pub kind: Kind,
    pub customer_id: Option<CustomerId>,
    pub email: Option<Email>,
    pub name: String,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    pub login_enabled: bool,
    pub permissions: Vec<Option<Permission>>,
    /// `None` follows the customer's default address (the view fills it in).
    pub warehouse_address_id: Option<AddressId>,
    pub cost_center_id: Option<CostCenterId>,
    pub external_id: Option<String>,
    /// Decided by `rules::access_for`; its groups are set after the insert.
    pub data_scope: DataScope,
    pub valid_until: Option<DateTime<Utc>>,
    /// A password someone else gave: the first sign-in ends in a password change.
    pub password_change_required: bool,
}

impl NewUser {
    /// An active person of `customer_id` with `role`, the grants `permissions` and the data
    /// scope `data_scope`, without login, contact details, address, cost center or groups.
    pub fn new(
        customer_id: CustomerId,
        name: String,
        role: Role,
        permissions: Vec<Permission>,
        data_scope: DataScope,
    ) -> Self {
        Self {
            id: UserId::new(),
            kind: Kind::CustomerUser,
            customer_id: Some(customer_id),
            email: None,
            name,
            phone: None,
            password_hash: None,
            role,
            status: AccountStatus::Active,
            login_enabled: false,
            permissions: permissions.into_iter().map(Some).collect(),
            warehouse_address_id: None,
            cost_center_id: None,
            external_id: None,
            data_scope,
            valid_until: None,
            password_change_required: false,
        }
    }
}

/// What a body asks of someone's data scope: its `data_scope` and `group_ids`, each optional.
#[derive(Debug, Clone, Default)]
pub struct AccessRequest {
    pub data_scope: Option<DataScope>,
    pub group_ids: Option<Vec<Uuid>>,
}

/// A data scope with its groups, keeping the invariant: `all` has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub data_scope: DataScope,
    /// Sorted, without duplicates; empty for `all`.
    pub group_ids: Vec<Uuid>,
}

impl Access {
    /// `all`: every group's data, in no group.
    pub fn all() -> Self {
        Self { data_scope: DataScope::All, group_ids: Vec::new() }
    }

    /// `groups` with `group_ids` (possibly none: untagged data only).
    pub fn groups(group_ids: Vec<Uuid>) -> Self {
        let mut group_ids = group_ids;
        group_ids.sort();
        group_ids.dedup();
        Self { data_scope: DataScope::Groups, group_ids }
    }
}

/// A customer user as the write path handles it: the row and its groups (sorted), which its
/// view shows and on which who may see it depends.
#[derive(Debug, Clone)]
pub struct User {
    pub row: UserRow,
    pub groups: Vec<Uuid>,
}

impl User {
    /// `row` with its groups.
    pub fn load(conn: &mut PgConnection, row: UserRow) -> QueryResult<Self> {
        Ok(Self { groups: crate::accounts::queries::groups_of(conn, &row)?, row })
    }

    pub fn id(&self) -> UserId {
        self.row.id.into()
    }

    /// Its data scope and groups.
    pub fn access(&self) -> Access {
        Access { data_scope: self.row.data_scope, group_ids: self.groups.clone() }
    }

    pub fn customer_id(&self) -> CustomerId {
        self.row.customer_id.unwrap_or_default().into()
    }
}
