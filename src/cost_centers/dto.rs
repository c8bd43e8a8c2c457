//! Cost center views and request bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::models::{CostCenterChanges, CostCenterRow, NewCostCenter};
use crate::audit::Target;
use crate::db::ids::{CostCenterId, CustomerId};
use crate::validation::{not_blank, validate_code};
use crate::write::{Plain, Tracked};

/// A cost center of a customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d40", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "code": "CC-4711", "name": "Outbound logistics", "active": true,
    "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-23T09:30:00Z"
}))]
pub struct CostCenterView {
    pub id: Uuid,
    pub customer_id: Uuid,
    /// Unique within the customer (case-insensitive), e.g. the ERP cost center number.
    pub code: String,
    pub name: String,
    /// Inactive cost centers stay on record but should not be chosen for new orders.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&CostCenterRow> for CostCenterView {
    fn from(row: &CostCenterRow) -> Self {
        Self {
            id: row.id.into(),
            customer_id: row.customer_id.into(),
            code: row.code.clone(),
            name: row.name.clone(),
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Tracked for CostCenterView {
    const TARGET: Target = Target::CostCenter;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.customer_id))
    }

    fn location(&self) -> String {
        format!("/v1/customers/{}/cost-centers/{}", self.customer_id, self.id)
    }
}

impl Plain for CostCenterRow {
    type View = CostCenterView;
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "CC-4711", "name": "Outbound logistics"}))]
pub struct CreateCostCenter {
    /// Letters, digits and `. _ - /`, 1 to 64 characters; unique within the customer regardless
    /// of case.
    #[validate(custom(function = "validate_code"))]
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
    pub code: String,
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Default true.
    pub active: Option<bool>,
}

impl CreateCostCenter {
    /// The row to insert for `customer_id`: a new id, the name trimmed, active unless said.
    pub fn into_new(self, customer_id: CustomerId) -> NewCostCenter {
        NewCostCenter {
            customer_id,
            id: CostCenterId::new(),
            code: self.code,
            name: self.name.trim().to_owned(),
            active: self.active.unwrap_or(true),
        }
    }
}

/// A JSON merge-patch; every field is optional.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Outbound logistics (North)", "active": false}))]
pub struct PatchCostCenter {
    #[validate(custom(function = "validate_code"))]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
    )]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub code: Option<String>,
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub active: Option<bool>,
}

impl From<PatchCostCenter> for CostCenterChanges {
    fn from(patch: PatchCostCenter) -> Self {
        Self { code: patch.code, name: patch.name.map(|name| name.trim().to_owned()), active: patch.active }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct CostCenterFilters {
    /// Only active (`true`) or only inactive (`false`) cost centers; omit for both.
    #[param(example = true)]
    pub active: Option<bool>,
    /// Substring of the code or name (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub q: Option<String>,
}
