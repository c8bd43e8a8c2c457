//! Customer views and request bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::models::{Customer, CustomerChanges, CustomerStatus, NewCustomer};
use crate::audit::Target;
use crate::db::ids::CustomerId;
use crate::db::types::Email;
use crate::validation::{not_blank, validate_code, validate_email, validate_phone};
use crate::write::{Plain, Tracked};

/// A customer account of the operator.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "name": "Acme Logistics", "code": "C-10042",
    "contact_email": "ops@acme.example", "phone": "+49 30 1234567", "status": "active",
    "portal_enabled": true, "self_signup_enabled": false, "mfa_required": false,
    "default_warehouse_address_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31",
    "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-23T09:30:00Z"
}))]
pub struct CustomerView {
    pub id: Uuid,
    pub name: String,
    /// Unique (case-insensitive), e.g. the ERP customer number.
    pub code: String,
    pub contact_email: Option<String>,
    pub phone: Option<String>,
    pub status: CustomerStatus,
    /// Feature flag: off means no customer-user logins.
    pub portal_enabled: bool,
    pub self_signup_enabled: bool,
    /// Every person of the customer must sign in with a second factor (TOTP); someone without
    /// MFA is asked to enrol after the correct password. Staff and the owner change it.
    pub mfa_required: bool,
    /// Read-only: always the customer's default warehouse address (null while it has none).
    pub default_warehouse_address_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Customer> for CustomerView {
    fn from(customer: &Customer) -> Self {
        let row = &customer.row;
        Self {
            id: row.id.into(),
            name: row.name.clone(),
            code: row.code.clone(),
            contact_email: row.contact_email.as_ref().map(ToString::to_string),
            phone: row.phone.clone(),
            status: row.status,
            portal_enabled: row.portal_enabled,
            self_signup_enabled: row.self_signup_enabled,
            mfa_required: row.mfa_required,
            default_warehouse_address_id: customer.default_warehouse_address_id.map(Into::into),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Tracked for CustomerView {
    const TARGET: Target = Target::Customer;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.id))
    }

    fn location(&self) -> String {
        format!("/v1/customers/{}", self.id)
    }
}

impl Plain for Customer {
    type View = CustomerView;
}

/// Addresses come already validated; this only normalizes.
fn email(raw: String) -> Option<Email> {
    Email::parse(&raw)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Logistics", "code": "C-10042", "contact_email": "ops@acme.example", "phone": "+49 30 1234567"}))]
pub struct CreateCustomer {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Letters, digits and `. _ - /`, 1 to 64 characters; unique regardless of case.
    #[validate(custom(function = "validate_code"))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
    pub code: String,
    #[validate(custom(function = "validate_email"))]
    #[schema(format = Email, max_length = 254)]
    pub contact_email: Option<String>,
    #[validate(custom(function = "validate_phone"))]
    #[schema(pattern = r"^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$")]
    pub phone: Option<String>,
    /// Default `active`.
    pub status: Option<CustomerStatus>,
    /// Default true.
    pub portal_enabled: Option<bool>,
    /// Default false.
    pub self_signup_enabled: Option<bool>,
}

impl CreateCustomer {
    /// The row to insert: a new id, the name trimmed, active with the portal on and self
    /// sign-up off unless said.
    pub fn into_new(self) -> NewCustomer {
        NewCustomer {
            id: CustomerId::new(),
            name: self.name.trim().to_owned(),
            code: self.code,
            contact_email: self.contact_email.and_then(email),
            phone: self.phone,
            status: self.status.unwrap_or(CustomerStatus::Active),
            portal_enabled: self.portal_enabled.unwrap_or(true),
            self_signup_enabled: self.self_signup_enabled.unwrap_or(false),
        }
    }
}

/// A JSON merge-patch. A customer's own owner and admins may change only `name`,
/// `contact_email` and `phone`; the rest is for staff.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Logistics GmbH", "phone": null}))]
pub struct PatchCustomer {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub name: Option<String>,
    #[validate(custom(function = "validate_code"))]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
    )]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(custom(function = "validate_email"))]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub contact_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(custom(function = "validate_phone"))]
    #[schema(value_type = Option<String>, pattern = r"^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$")]
    pub phone: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub status: Option<CustomerStatus>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub portal_enabled: Option<bool>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub self_signup_enabled: Option<bool>,
    /// Staff and the customer's owner only (an admin gets 403). Turning it on needs
    /// `MFA_ENCRYPTION_KEY` on the server (409 otherwise).
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub mfa_required: Option<bool>,
}

impl PatchCustomer {
    /// Whether the patch touches fields only staff may change.
    pub fn touches_settings(&self) -> bool {
        self.code.is_some()
            || self.status.is_some()
            || self.portal_enabled.is_some()
            || self.self_signup_enabled.is_some()
    }
}

impl From<PatchCustomer> for CustomerChanges {
    fn from(patch: PatchCustomer) -> Self {
        Self {
            name: patch.name.map(|name| name.trim().to_owned()),
            code: patch.code,
            contact_email: patch.contact_email.map(|e| e.and_then(email)),
            phone: patch.phone,
            status: patch.status,
            portal_enabled: patch.portal_enabled,
            self_signup_enabled: patch.self_signup_enabled,
            mfa_required: patch.mfa_required,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct CustomerFilters {
    /// Substring of the name, code or contact e-mail (case-insensitive); empty: no filter.
    #[param(max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub q: Option<String>,
    pub status: Option<CustomerStatus>,
}
