//! Customer-user views and request bodies (contract section 6).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::accounts::{AccountStatus, UserRow};
use crate::permissions::{DataScope, Permission, Role};
use crate::text_enum;
use crate::validation::{not_blank, validate_email, validate_phone};

text_enum! {
    /// The role of a customer user.
    pub enum CustomerRole {
        Owner = "owner",
        Admin = "admin",
        User = "user",
    }
}

impl From<CustomerRole> for Role {
    fn from(role: CustomerRole) -> Self {
        match role {
            CustomerRole::Owner => Role::Owner,
            CustomerRole::Admin => Role::Admin,
            CustomerRole::User => Role::User,
        }
    }
}

impl From<Role> for CustomerRole {
    /// A customer user's row holds one of the three (the database checks kind and role
    /// together); a staff role, which no customer user has, reads as the least of them.
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => CustomerRole::Owner,
            Role::Admin => CustomerRole::Admin,
            Role::User | Role::PlatformAdmin | Role::Dispatcher => CustomerRole::User,
        }
    }
}

/// A person who works for a customer, with or without a portal login.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "name": "Jana Berg", "phone": "+49 40 123456", "email": "jana.berg@acme.example", "login_enabled": true,
    "password_set": true, "status": "active", "role": "user",
    "permissions": ["orders.create", "orders.view", "pod.download", "tracking.view"],
    "data_scope": "groups", "group_ids": ["01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70"],
    "warehouse_address_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31", "cost_center_id": null,
    "external_id": "ERP-10042", "mfa_enabled": true, "password_change_required": false,
    "valid_until": null, "last_login_at": "2026-11-23T09:30:00Z",
    "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-20T14:12:00Z"
}))]
pub struct UserView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    /// The login of a user with login; optional for users without.
    pub email: Option<String>,
    /// Whether the person may sign in to the customer portal at all.
    pub login_enabled: bool,
    /// False while a user with login has not chosen a password yet (the welcome link is open).
    pub password_set: bool,
    pub status: AccountStatus,
    pub role: CustomerRole,
    /// Effective permissions: the role's whole set for owners and admins, the grants for users.
    pub permissions: Vec<Permission>,
    /// What of its customer's data the user sees: `all` (in no group; its tokens say
    /// `groups: ["*"]`), or `groups`: the data of its `group_ids` and untagged data.
    pub data_scope: DataScope,
    /// The groups whose data the user sees when `data_scope` is `groups` — possibly none (its
    /// tokens say `groups: []`: untagged data only); always empty for `all`.
    pub group_ids: Vec<Uuid>,
    /// The user's warehouse address; the customer's default when none was chosen or the chosen
    /// one was deleted.
    pub warehouse_address_id: Option<Uuid>,
    pub cost_center_id: Option<Uuid>,
    /// The ERP's key for this person, unique within the customer.
    pub external_id: Option<String>,
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

impl UserView {
    /// `default_address` is the customer's default warehouse address, shown for users that
    /// have none of their own.
    pub fn new(row: &UserRow, default_address: Option<Uuid>, group_ids: Vec<Uuid>) -> Self {
        Self {
            id: row.id,
            customer_id: row.customer_id.unwrap_or_default(),
            name: row.name.clone(),
            phone: row.phone.clone(),
            email: row.email.as_ref().map(ToString::to_string),
            login_enabled: row.login_enabled,
            password_set: row.password_hash.is_some(),
            status: row.status,
            role: row.role.into(),
            permissions: row.effective_permissions(),
            data_scope: row.data_scope,
            group_ids,
            warehouse_address_id: row.warehouse_address_id.or(default_address),
            cost_center_id: row.cost_center_id,
            external_id: row.external_id.clone(),
            mfa_enabled: row.mfa_enabled(),
            password_change_required: row.password_change_required,
            valid_until: row.valid_until,
            last_login_at: row.last_login_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new user. Without login only `name` is needed. With login (`login_enabled`, the default
/// when an `email` is given) the e-mail must be free service-wide and either a `password` or
/// `send_mail: true` is needed.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Jana Berg", "email": "jana.berg@acme.example", "role": "user",
    "permissions": ["orders.view", "orders.create", "tracking.view"], "external_id": "ERP-10042", "send_mail": true
}))]
pub struct CreateUser {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[validate(custom(function = "validate_phone"))]
    #[schema(pattern = r"^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$")]
    pub phone: Option<String>,
    #[validate(custom(function = "validate_email"))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// Default: true when `email` is given, false otherwise. A user without login is a contact
    /// that can never sign in.
    pub login_enabled: Option<bool>,
    /// Default `user`. Only staff and the owner may create an `owner` (one per customer).
    pub role: Option<CustomerRole>,
    /// For `user`: the grants, from the user-grantable set (default `orders.view`,
    /// `tracking.view`, `pod.download`). For `owner`/`admin`: omit it (or send the role's set).
    #[validate(length(max = 50, message = "at most 50 permissions"))]
    #[schema(max_items = 50)]
    pub permissions: Option<Vec<Permission>>,
    /// Groups of the customer; the user then sees only their data (and untagged data). A caller
    /// limited to groups gives some of its own (all of them when omitted).
    #[validate(length(max = 100, message = "at most 100 groups"))]
    #[schema(max_items = 100)]
    pub group_ids: Option<Vec<Uuid>>,
    /// Omitted: `groups` when `group_ids` names groups (or the caller is limited to groups),
    /// else `all` (no group, all of the customer's data). `groups` without `group_ids`:
    /// untagged data only. `all` with `group_ids`, or from a caller limited to groups, is a 422
    /// on `data_scope`.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub data_scope: Option<DataScope>,
    /// One of the customer's warehouse addresses; default: the customer's default address.
    pub warehouse_address_id: Option<Uuid>,
    /// One of the customer's active cost centers.
    pub cost_center_id: Option<Uuid>,
    #[validate(
        length(min = 1, max = 255, message = "must be 1 to 255 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub external_id: Option<String>,
    /// Users with login only: 12 to 128 characters, not the e-mail address, not common or
    /// easy to guess. Never e-mailed.
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
    /// Users with login only: e-mail a welcome naming the login and the portal address, with a
    /// link (valid 7 days) to choose a password when none was given.
    pub send_mail: Option<bool>,
}

/// A JSON merge-patch: absent fields stay, `null` clears a nullable one. Enabling login needs
/// an e-mail and a `password` or `send_mail: true`. Use `POST .../deactivate` and the owner
/// transfer for status and ownership. Changing the role, disabling login or setting a password
/// ends the user's sessions.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "user", "permissions": ["orders.view", "tracking.view", "reports.view"], "cost_center_id": null}))]
pub struct PatchUser {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(custom(function = "validate_phone"))]
    #[schema(value_type = Option<String>, pattern = r"^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$")]
    pub phone: Option<Option<String>>,
    /// `null` removes it (only from a user without login).
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(custom(function = "validate_email"))]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub login_enabled: Option<bool>,
    /// `admin` or `user`; ownership moves with `POST /v1/customers/{customer_id}/owner`.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub role: Option<CustomerRole>,
    #[validate(length(max = 50, message = "at most 50 permissions"))]
    #[schema(nullable = false, max_items = 50)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub permissions: Option<Vec<Permission>>,
    /// Replaces the user's groups. Joining groups makes an `all` user `groups`; `[]` leaves
    /// the data scope as it is (a `groups` user then sees untagged data only): leaving groups
    /// never widens. A change ends the user's sessions (its tokens carry its groups).
    #[validate(length(max = 100, message = "at most 100 groups"))]
    #[schema(nullable = false, max_items = 100)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub group_ids: Option<Vec<Uuid>>,
    /// `all` widens the user to all of the customer's data and takes it out of every group
    /// (with `group_ids` other than `[]`: 422); audited as `access.widened`. Only a caller who
    /// sees all data may (422 otherwise). `groups` narrows an `all` user to the `group_ids`
    /// given, else to none. A change ends the user's sessions.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub data_scope: Option<DataScope>,
    /// `null`: follow the customer's default address.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub warehouse_address_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub cost_center_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(
        length(min = 1, max = 255, message = "must be 1 to 255 characters"),
        custom(function = "not_blank")
    )]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = r"\S")]
    pub external_id: Option<Option<String>>,
    /// Sets the password (users with login only); ends the user's sessions.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(nullable = false, min_length = 12, max_length = 128)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub password: Option<String>,
    /// After this the person cannot sign in and its sessions end at their next request; `null`
    /// removes the end. A time already past locks the person out at once.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
    /// With `login_enabled: true`: e-mail the welcome (and a set-password link when the user
    /// has no password).
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub send_mail: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct UserFilters {
    pub status: Option<AccountStatus>,
    /// Only members of this group.
    pub group_id: Option<Uuid>,
    pub role: Option<CustomerRole>,
    /// Substring of the name or e-mail (case-insensitive); empty: no filter.
    #[param(max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub q: Option<String>,
    /// Only people whose `valid_until` is before this time (including those already past).
    pub expiring_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "a long temporary passphrase", "temporary": true}))]
pub struct SetPassword {
    /// 12 to 128 characters, not the e-mail address, not common or easy to guess.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    /// The person must replace it at its next sign-in (`password_change_required`). Default
    /// from the server's `OPERATOR_PASSWORDS_TEMPORARY` (itself default `false`).
    pub temporary: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"user_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50"}))]
pub struct TransferOwnership {
    /// An active user with a login of the same customer; the current owner becomes an `admin`.
    pub user_id: Uuid,
}

text_enum! {
    /// How an import treats people the customer has already.
    pub enum ImportMode {
        /// Every row is a new person; a taken e-mail or external id fails the row (409).
        Create = "create",
        /// A row replaces the person with its `external_id`, else with its `email`, as
        /// `PUT .../users/by-external-id/{external_id}` does; rows naming nobody create.
        Upsert = "upsert",
    }
}

text_enum! {
    /// What happened to one row of an import.
    pub enum ImportOutcome {
        Created = "created",
        Updated = "updated",
        /// The person was exactly as the row says: nothing written, no audit event.
        Unchanged = "unchanged",
        /// Nothing was written for the row; `errors` says why.
        Failed = "failed",
    }
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check every row as a real run would (database constraints included) and write nothing:
    /// no person, no audit event, no mail. The report says what a real run would do.
    #[param(example = false)]
    pub dry_run: Option<bool>,
    /// Default `create`.
    #[param(example = "upsert")]
    pub mode: Option<ImportMode>,
}

/// One row of an import: the fields of a new user (`POST .../users`) but `password`, which an
/// import does not take (people with login get `send_mail: true` and choose their own, or keep
/// the one they have). In CSV, a header row names the columns; empty cells are absent fields,
/// `permissions` and `group_ids` are `;`-separated lists, booleans `true` or `false`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Jana Berg", "email": "jana.berg@acme.example", "role": "user",
    "permissions": ["orders.view", "orders.create"], "external_id": "ERP-10042", "send_mail": true
}))]
pub struct ImportRow {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[validate(custom(function = "validate_phone"))]
    #[schema(pattern = r"^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$")]
    pub phone: Option<String>,
    #[validate(custom(function = "validate_email"))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// Default: true when `email` is given.
    pub login_enabled: Option<bool>,
    /// Default `user`.
    pub role: Option<CustomerRole>,
    #[validate(length(max = 50, message = "at most 50 permissions"))]
    #[schema(max_items = 50)]
    pub permissions: Option<Vec<Permission>>,
    #[validate(length(max = 100, message = "at most 100 groups"))]
    #[schema(max_items = 100)]
    pub group_ids: Option<Vec<Uuid>>,
    /// As for a single user; in `upsert` mode a row without it never widens the person it
    /// replaces (its groups' `[]` keeps `groups`).
    pub data_scope: Option<DataScope>,
    pub warehouse_address_id: Option<Uuid>,
    pub cost_center_id: Option<Uuid>,
    /// The ERP's key; in `upsert` mode the row's person is found by it first.
    #[validate(
        length(min = 1, max = 255, message = "must be 1 to 255 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    pub external_id: Option<String>,
    /// E-mail the welcome with a link to choose a password (new people, or login turned on).
    pub send_mail: Option<bool>,
}

impl From<ImportRow> for CreateUser {
    fn from(row: ImportRow) -> Self {
        Self {
            valid_until: None,
            name: row.name,
            phone: row.phone,
            email: row.email,
            login_enabled: row.login_enabled,
            role: row.role,
            permissions: row.permissions,
            group_ids: row.group_ids,
            data_scope: row.data_scope,
            warehouse_address_id: row.warehouse_address_id,
            cost_center_id: row.cost_center_id,
            external_id: row.external_id,
            password: None,
            temporary: None,
            send_mail: row.send_mail,
        }
    }
}

/// Why a row failed: one problem of the kind a single request would have got, or one field of
/// a validation failure.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "status": 409, "type": "urn:dockgate:problem:email-taken", "field": "email", "code": null,
    "message": "Row 3 has this e-mail address already."
}))]
pub struct ImportError {
    /// The status a single request would have been answered with.
    pub status: u16,
    #[serde(rename = "type")]
    #[schema(schema_with = crate::error::problem_types)]
    pub problem_type: String,
    /// The field (the CSV column) at fault, if one is.
    pub field: Option<String>,
    /// For a validation failure, why the field failed.
    pub code: Option<crate::error::FieldCode>,
    pub message: String,
}

/// The result of one row, in the order of the file.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "row": 1, "external_id": "ERP-10042", "email": "jana.berg@acme.example", "outcome": "created",
    "user_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "errors": null
}))]
pub struct ImportRowResult {
    /// 1 for the first row (in CSV the first line after the header).
    pub row: u32,
    /// As the row gave it.
    pub external_id: Option<String>,
    /// As the row gave it.
    pub email: Option<String>,
    pub outcome: ImportOutcome,
    /// The person created, changed or left as it was; `null` when the row failed, and in a
    /// dry run for a row that would create one (nobody was created to name).
    pub user_id: Option<Uuid>,
    /// `null` unless the row failed.
    pub errors: Option<Vec<ImportError>>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportSummary {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub failed: u32,
}

/// What an import did (or, in a dry run, would do), row by row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub summary: ImportSummary,
    pub rows: Vec<ImportRowResult>,
}

/// Why a staff member acts as this person: 1 to 500 characters once trimmed, kept in the
/// audit log the customer's admins read.
fn impersonation_reason(reason: &str) -> Result<(), validator::ValidationError> {
    let length = reason.trim().chars().count();
    if (1..=500).contains(&length) {
        Ok(())
    } else {
        let mut error = validator::ValidationError::new("length");
        error.message = Some("must be 1 to 500 characters (trimmed)".into());
        Err(error)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Ticket 4711: the user cannot see the orders of cost center CC-12."}))]
pub struct Impersonate {
    /// Why: 1 to 500 characters, trimmed. The customer's admins read it in the audit log.
    #[validate(custom(function = "impersonation_reason"))]
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

/// The access token of a support session. There is no refresh token: the session ends at
/// `expires_in` seconds, at most 15 minutes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6Ik56Ykxz...",
    "token_type": "Bearer",
    "expires_in": 900
}))]
pub struct ImpersonationToken {
    /// An EdDSA-signed JWT whose `sub` is the user and whose `act.sub` is the staff member.
    pub access_token: String,
    pub token_type: crate::identity::tokens::TokenType,
    /// Seconds until the token and its session end.
    pub expires_in: u64,
}
