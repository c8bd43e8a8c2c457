//! Staff views and request bodies.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::models::Staff;
use crate::accounts::{AccountStatus, NewAccount, UserRow};
use crate::audit::Target;
use crate::db::types::Email;
use crate::error::AppError;
use crate::permissions::{Kind, Role};
use crate::text_enum;
use crate::validation::{not_blank, validate_email};
use crate::write::{Tracked, Viewed};

text_enum! {
    /// A staff role.
    pub enum StaffRole {
        PlatformAdmin = "platform_admin",
        Dispatcher = "dispatcher",
    }
}

text_enum! {
    /// Whether a staff member can sign in.
    pub enum StaffStatus {
        Active = "active",
        Deactivated = "deactivated",
    }
}

impl From<StaffRole> for Role {
    fn from(role: StaffRole) -> Self {
        match role {
            StaffRole::PlatformAdmin => Role::PlatformAdmin,
            StaffRole::Dispatcher => Role::Dispatcher,
        }
    }
}

impl From<StaffStatus> for AccountStatus {
    fn from(status: StaffStatus) -> Self {
        match status {
            StaffStatus::Active => AccountStatus::Active,
            StaffStatus::Deactivated => AccountStatus::Deactivated,
        }
    }
}

impl StaffRole {
    /// The staff role `role` is; `None` for a customer user's (both sets spell a role alike).
    pub fn of(role: Role) -> Option<Self> {
        role.as_str().parse().ok()
    }
}

impl StaffStatus {
    /// The staff status `status` is; `None` for `invited`, which only customer users are.
    pub fn of(status: AccountStatus) -> Option<Self> {
        status.as_str().parse().ok()
    }
}

/// A member of the operator's staff.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d10", "name": "Dana Dispatcher", "email": "dana@operator.example",
    "role": "dispatcher", "customer_ids": ["01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30"], "status": "active",
    "mfa_enabled": false, "password_change_required": false, "valid_until": null, "last_login_at": null,
    "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-01T08:00:00Z"
}))]
pub struct StaffView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: StaffRole,
    /// A dispatcher's customers; empty means all customers.
    pub customer_ids: Vec<Uuid>,
    pub status: StaffStatus,
    /// Whether the person signs in with a second factor (TOTP).
    pub mfa_enabled: bool,
    /// The password was set by someone else: the next sign-in ends in a password change.
    pub password_change_required: bool,
    /// After this the person cannot sign in; null: no end.
    pub valid_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `users` that is not a staff member's (a role or status only customer users have)
/// does not read as one, like a column that does not parse: a 500, never a wrong answer.
impl TryFrom<&UserRow> for StaffView {
    type Error = diesel::result::Error;

    fn try_from(row: &UserRow) -> Result<Self, Self::Error> {
        let not_staff =
            || diesel::result::Error::DeserializationError(format!("user {} is not staff", row.id).into());
        Ok(Self {
            id: row.id,
            name: row.name.clone(),
            email: row.email.as_ref().map(ToString::to_string).unwrap_or_default(),
            role: StaffRole::of(row.role).ok_or_else(not_staff)?,
            customer_ids: row.customer_scope(),
            status: StaffStatus::of(row.status).ok_or_else(not_staff)?,
            mfa_enabled: row.mfa_enabled(),
            password_change_required: row.password_change_required,
            valid_until: row.valid_until,
            last_login_at: row.last_login_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Tracked for StaffView {
    const TARGET: Target = Target::Staff;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, None)
    }

    fn location(&self) -> String {
        format!("/v1/staff/{}", self.id)
    }
}

impl Viewed for Staff {
    type View = StaffView;

    fn view(&self, _: &mut PgConnection) -> Result<StaffView, AppError> {
        Ok(StaffView::try_from(&self.0)?)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Dana Dispatcher", "email": "dana@operator.example", "role": "dispatcher", "customer_ids": [], "password": "a long dispatcher passphrase"}))]
pub struct CreateStaff {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[validate(custom(function = "validate_email"))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    pub role: StaffRole,
    /// Dispatchers only: the customers they may act on; empty or absent means all.
    #[validate(length(max = 1000, message = "at most 1000 customers"))]
    #[schema(max_items = 1000)]
    pub customer_ids: Option<Vec<Uuid>>,
    /// 12 to 128 characters, not the e-mail address, not common or easy to guess. Either this or
    /// `send_mail: true`.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: Option<String>,
    /// With `password`: the person must replace it at its first sign-in
    /// (`password_change_required`). Default from the server's `OPERATOR_PASSWORDS_TEMPORARY`
    /// (itself default `false`).
    pub temporary: Option<bool>,
    /// After this the person cannot sign in and its sessions end (seasonal staff); absent: no
    /// end.
    pub valid_until: Option<DateTime<Utc>>,
    /// E-mail a welcome naming the login and the admin portal, with a link (valid 7 days) to
    /// choose a password when none was given. A password is never e-mailed.
    pub send_mail: Option<bool>,
}

impl CreateStaff {
    /// The account to insert: active, with a login, the name trimmed.
    pub fn into_account(self, email: Email, password_hash: Option<String>) -> NewAccount {
        NewAccount {
            id: Uuid::now_v7(),
            kind: Kind::Staff,
            customer_id: None,
            email: Some(email),
            name: self.name.trim().to_owned(),
            phone: None,
            password_hash,
            role: Role::from(self.role),
            status: AccountStatus::Active,
            login_enabled: true,
            customer_ids: self.customer_ids.unwrap_or_default().into_iter().map(Some).collect(),
            permissions: Vec::new(),
            data_scope: crate::permissions::DataScope::All,
            valid_until: self.valid_until,
        }
    }
}

/// A JSON merge-patch. Deactivating, changing the role or the customer scope ends the
/// person's sessions. You cannot deactivate, demote or delete yourself.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "deactivated"}))]
pub struct PatchStaff {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub name: Option<String>,
    #[validate(custom(function = "validate_email"))]
    #[schema(nullable = false, format = Email, max_length = 254)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub email: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub role: Option<StaffRole>,
    #[validate(length(max = 1000, message = "at most 1000 customers"))]
    #[schema(nullable = false, max_items = 1000)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub customer_ids: Option<Vec<Uuid>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub status: Option<StaffStatus>,
    /// After this the person cannot sign in and its sessions end at their next request; `null`
    /// removes the end.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct StaffFilters {
    pub role: Option<StaffRole>,
    pub status: Option<StaffStatus>,
    /// Substring of the name or e-mail (case-insensitive); empty: no filter.
    #[param(max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub q: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_staff_roles_and_statuses_read_as_staff_ones() {
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::of(Role::from(*role)), Some(*role));
        }
        for role in [Role::Owner, Role::Admin, Role::User] {
            assert_eq!(StaffRole::of(role), None);
        }
        for status in StaffStatus::ALL {
            assert_eq!(StaffStatus::of(AccountStatus::from(*status)), Some(*status));
        }
        assert_eq!(StaffStatus::of(AccountStatus::Invited), None);
    }
}
