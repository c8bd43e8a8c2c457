//! Rows of the `users` table. Never serialized to a client: views live with their resources.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::users;
use crate::db::types::Email;
use crate::permissions::{ALL, DataScope, Kind, Permission, Role};
use crate::text_enum;

text_enum! {
    /// Whether a person can act: invited (not yet accepted), active, or deactivated.
    pub enum AccountStatus {
        Invited = "invited",
        Active = "active",
        Deactivated = "deactivated",
    }
}

text_enum! {
    /// Whether a customer's people can work: a suspended customer has no working logins. Here,
    /// with the people, because whether someone may sign in depends on it.
    pub enum CustomerStatus {
        Active = "active",
        Suspended = "suspended",
    }
}

/// What of a customer decides whether its people may sign in and how: read with the person
/// (a join) where a sign-in or a refresh needs it, so that costs no statement of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable)]
pub struct CustomerGate {
    pub status: CustomerStatus,
    pub portal_enabled: bool,
    /// Its people must have MFA (`customers.mfa_required`).
    pub mfa_required: bool,
}

impl CustomerGate {
    /// Whether the customer's users can have working logins: active and with the portal on.
    pub fn allows_logins(&self) -> bool {
        self.status == CustomerStatus::Active && self.portal_enabled
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    pub id: Uuid,
    pub kind: Kind,
    pub customer_id: Option<Uuid>,
    pub email: Option<Email>,
    pub name: String,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    pub login_enabled: bool,
    pub customer_ids: Vec<Option<Uuid>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub permissions: Vec<Option<Permission>>,
    pub warehouse_address_id: Option<Uuid>,
    pub cost_center_id: Option<Uuid>,
    pub external_id: Option<String>,
    /// What of its customer's data the person sees (staff: always `all`); its groups are
    /// `group_members` rows, only ever of a `groups`-scoped person.
    pub data_scope: DataScope,
    /// MFA (TOTP) is on since then; the sealed secret is read only where codes are checked.
    pub mfa_enabled_at: Option<DateTime<Utc>>,
    /// The password was set by someone else: sign-in ends in a password change.
    pub password_change_required: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    /// After this the account cannot sign in (seasonal staff).
    pub valid_until: Option<DateTime<Utc>>,
    /// When a use after `valid_until` was first refused (and audited).
    pub expired_at: Option<DateTime<Utc>>,
}

impl UserRow {
    /// The permissions granted to a `user` (the role decides for everyone else).
    pub fn granted_permissions(&self) -> Vec<Permission> {
        self.permissions.iter().flatten().copied().collect()
    }

    /// What this person may do: the one computation behind tokens, `/v1/me` and the policy.
    pub fn effective_permissions(&self) -> Vec<Permission> {
        crate::permissions::effective(self.role, &self.granted_permissions())
    }

    /// Whether this person may sign in at all (the password is checked separately).
    pub fn may_sign_in(&self, now: DateTime<Utc>) -> bool {
        self.status == AccountStatus::Active
            && self.login_enabled
            && self.password_hash.is_some()
            && !self.is_expired(now)
    }

    /// Whether the account's `valid_until` has passed at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_some_and(|until| until <= now)
    }

    pub fn mfa_enabled(&self) -> bool {
        self.mfa_enabled_at.is_some()
    }

    /// A dispatcher's customer scope; empty means every customer.
    pub fn customer_scope(&self) -> Vec<Uuid> {
        self.customer_ids.iter().flatten().copied().collect()
    }

    /// The `customer_ids` access fact: staff only, `["*"]` for every customer.
    pub fn customer_ids_claim(&self) -> Option<Vec<String>> {
        (self.kind == Kind::Staff).then(|| {
            let scope = self.customer_scope();
            if scope.is_empty() { vec![ALL.to_owned()] } else { scope.iter().map(Uuid::to_string).collect() }
        })
    }

    /// The `groups` access fact of a person or client of data scope `scope` in `groups`:
    /// `["*"]` (all of the customer's data; staff and platform clients too) for `all`, else the
    /// group ids — possibly `[]`, which means "no group's data" (untagged data only), never
    /// "everything".
    pub fn groups_claim(scope: DataScope, groups: &[Uuid]) -> Vec<String> {
        match scope {
            DataScope::All => vec![ALL.to_owned()],
            DataScope::Groups => groups.iter().map(Uuid::to_string).collect(),
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewAccount {
    pub id: Uuid,
    pub kind: Kind,
    pub customer_id: Option<Uuid>,
    pub email: Option<Email>,
    pub name: String,
    pub phone: Option<String>,
    pub password_hash: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    pub login_enabled: bool,
    pub customer_ids: Vec<Option<Uuid>>,
    pub permissions: Vec<Option<Permission>>,
    /// Staff always see `all` (a CHECK constraint says so too).
    pub data_scope: DataScope,
    pub valid_until: Option<DateTime<Utc>>,
}
