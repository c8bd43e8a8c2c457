//! Warehouse address views and request bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::models::{AddressChanges, AddressRow, NewAddress};
use crate::audit::{Target, Visibility};
use crate::db::ids::{AddressId, CustomerId};
use crate::validation::{country_schema, not_blank, trimmed, validate_country, validate_phone};
use crate::write::{Plain, Tracked};

/// A warehouse address of a customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "label": "Main warehouse", "line1": "Hafenstraße 12", "line2": "Tor 3", "city": "Hamburg",
    "region": null, "postal_code": "20457", "country": "DE", "contact_name": "Jana Berg",
    "phone": "+49 40 123456", "group_id": null, "is_default": true,
    "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-01T08:00:00Z"
}))]
pub struct AddressView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// The same codes a create or change takes.
    #[schema(schema_with = country_schema)]
    pub country: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    /// The group whose members see this address (with everyone of data scope `all`); null:
    /// everyone of the customer.
    pub group_id: Option<Uuid>,
    /// Exactly one address of a customer is the default.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&AddressRow> for AddressView {
    fn from(row: &AddressRow) -> Self {
        Self {
            id: row.id.into(),
            customer_id: row.customer_id.into(),
            label: row.label.clone(),
            line1: row.line1.clone(),
            line2: row.line2.clone(),
            city: row.city.clone(),
            region: row.region.clone(),
            postal_code: row.postal_code.clone(),
            country: row.country.clone(),
            contact_name: row.contact_name.clone(),
            phone: row.phone.clone(),
            group_id: row.group_id.map(Into::into),
            is_default: row.is_default,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Tracked for AddressView {
    const TARGET: Target = Target::WarehouseAddress;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.customer_id))
    }

    fn location(&self) -> String {
        format!("/v1/customers/{}/warehouse-addresses/{}", self.customer_id, self.id)
    }

    /// An address tagged with a group is as hidden as the group's data.
    fn visibility(&self) -> Visibility {
        Visibility::tag(self.group_id)
    }
}

impl Plain for AddressRow {
    type View = AddressView;
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Main warehouse", "line1": "Hafenstraße 12", "city": "Hamburg", "postal_code": "20457", "country": "DE"}))]
pub struct CreateAddress {
    #[validate(
        length(min = 1, max = 100, message = "must be 1 to 100 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub label: String,
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub line1: String,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    #[validate(
        length(min = 1, max = 100, message = "must be 1 to 100 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub city: String,
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    #[schema(max_length = 100)]
    pub region: Option<String>,
    #[validate(length(max = 20, message = "must be at most 20 characters"))]
    #[schema(max_length = 20)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[validate(custom(function = "validate_country"))]
    #[schema(schema_with = country_schema)]
    pub country: String,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub contact_name: Option<String>,
    #[validate(custom(function = "validate_phone"))]
    #[schema(pattern = r"^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$")]
    pub phone: Option<String>,
    /// `true` makes this the default (the old default stops being one). The first address of a
    /// customer is the default whatever this says.
    pub is_default: Option<bool>,
    /// A group of the customer: only its members (and people of data scope `all`) see the address.
    /// Absent: everyone of the customer sees it.
    pub group_id: Option<Uuid>,
}

impl CreateAddress {
    /// The row to insert for `customer_id`: a new id, texts trimmed, the default only when
    /// asked (the default rules also make a customer's first address its default).
    pub fn into_new(self, customer_id: CustomerId) -> NewAddress {
        NewAddress {
            customer_id,
            id: AddressId::new(),
            label: self.label.trim().to_owned(),
            line1: self.line1.trim().to_owned(),
            line2: trimmed(self.line2),
            city: self.city.trim().to_owned(),
            region: trimmed(self.region),
            postal_code: trimmed(self.postal_code),
            country: self.country,
            contact_name: trimmed(self.contact_name),
            phone: self.phone,
            group_id: self.group_id.map(Into::into),
            is_default: self.is_default == Some(true),
        }
    }
}

/// A JSON merge-patch. `is_default: true` makes this the default; `false` on the current
/// default is a 422 (make another address the default instead).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"is_default": true}))]
pub struct PatchAddress {
    #[validate(
        length(min = 1, max = 100, message = "must be 1 to 100 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 100, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub label: Option<String>,
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub line1: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub line2: Option<Option<String>>,
    #[validate(
        length(min = 1, max = 100, message = "must be 1 to 100 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 100, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(length(max = 20, message = "must be at most 20 characters"))]
    #[schema(value_type = Option<String>, max_length = 20)]
    pub postal_code: Option<Option<String>>,
    #[validate(custom(function = "validate_country"))]
    #[schema(nullable = false, schema_with = country_schema)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(custom(function = "validate_phone"))]
    #[schema(value_type = Option<String>, pattern = r"^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$")]
    pub phone: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub is_default: Option<bool>,
    /// `null`: everyone of the customer sees the address.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub group_id: Option<Option<Uuid>>,
}

/// The changes as asked; `is_default` is still the request's, which the default rules judge
/// against the address as it is.
impl From<PatchAddress> for AddressChanges {
    fn from(patch: PatchAddress) -> Self {
        Self {
            label: patch.label.map(|v| v.trim().to_owned()),
            line1: patch.line1.map(|v| v.trim().to_owned()),
            line2: patch.line2.map(trimmed),
            city: patch.city.map(|v| v.trim().to_owned()),
            region: patch.region.map(trimmed),
            postal_code: patch.postal_code.map(trimmed),
            country: patch.country,
            contact_name: patch.contact_name.map(trimmed),
            phone: patch.phone,
            group_id: patch.group_id.map(|group| group.map(Into::into)),
            is_default: patch.is_default,
        }
    }
}
