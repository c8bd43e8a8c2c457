//! Group views and request bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::models::GroupRow;
use crate::validation::not_blank;

/// A sub-account of a customer. Its members see only data tagged with their groups (and
/// untagged data); a person in no group sees all of its customer's data.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "name": "Depot North", "description": "Everything shipped from the Hamburg depot", "member_count": 12,
    "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-01T08:00:00Z"
}))]
pub struct GroupView {
    pub id: Uuid,
    pub customer_id: Uuid,
    /// Unique within the customer regardless of case.
    pub name: String,
    pub description: Option<String>,
    pub member_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl GroupView {
    pub fn new(row: &GroupRow, member_count: i64) -> Self {
        Self {
            id: row.id,
            customer_id: row.customer_id,
            name: row.name.clone(),
            description: row.description.clone(),
            member_count,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Depot North", "description": "Everything shipped from the Hamburg depot"}))]
pub struct CreateGroup {
    #[validate(
        length(min = 1, max = 100, message = "must be 1 to 100 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    #[validate(length(max = 500, message = "must be at most 500 characters"))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// A JSON merge-patch; `description: null` clears it.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Depot North (Hamburg)"}))]
pub struct PatchGroup {
    #[validate(
        length(min = 1, max = 100, message = "must be 1 to 100 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 100, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[validate(length(max = 500, message = "must be at most 500 characters"))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteGroupParams {
    /// `true` confirms the deletion when no `If-Match` is sent.
    pub confirm: Option<bool>,
}
