//! Group views and request bodies.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::models::{GroupChanges, GroupRow, NewGroup};
use super::queries;
use crate::audit::{Target, Visibility};
use crate::db::ids::{CustomerId, GroupId};
use crate::error::AppError;
use crate::validation::{not_blank, trimmed};
use crate::write::{Tracked, Viewed};

/// A sub-account of a customer. Its members see only data tagged with their groups (and
/// untagged data); a person of data scope `all` is in no group and sees all of its customer's
/// data; a `groups` person in no group sees untagged data only.
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
            id: row.id.into(),
            customer_id: row.customer_id.into(),
            name: row.name.clone(),
            description: row.description.clone(),
            member_count,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Tracked for GroupView {
    const TARGET: Target = Target::Group;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.customer_id))
    }

    fn location(&self) -> String {
        format!("/v1/customers/{}/groups/{}", self.customer_id, self.id)
    }

    /// Events about a group are its members' to read, like the data tagged with it.
    fn visibility(&self) -> Visibility {
        Visibility::tag(Some(self.id))
    }
}

/// A group as one caller sees it: `within` the caller's group limit (see
/// [`crate::policy::group_scope`]), `member_count` counts only the people its members list
/// shows, so the view (and its ETag) is the same on every read and write of that caller.
pub struct SeenGroup {
    pub row: GroupRow,
    pub within: Option<Vec<Uuid>>,
}

impl Viewed for SeenGroup {
    type View = GroupView;

    fn view(&self, conn: &mut PgConnection) -> Result<GroupView, AppError> {
        let (customer_id, id) = (self.row.customer_id, self.row.id);
        let counts = queries::member_counts(conn, customer_id, &[id], self.within.as_deref())?;
        Ok(GroupView::new(&self.row, counts.get(&id).copied().unwrap_or(0)))
    }

    /// Webhooks hear the group whole: every member counted, whoever changed it.
    fn data(&self, conn: &mut PgConnection, view: &GroupView) -> Result<Option<serde_json::Value>, AppError> {
        let whole = match self.within {
            None => return Ok(serde_json::to_value(view).ok()),
            Some(_) => SeenGroup { row: self.row.clone(), within: None }.view(conn)?,
        };
        Ok(serde_json::to_value(whole).ok())
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

impl CreateGroup {
    /// The row to insert for `customer_id`: a new id, the text trimmed (a blank description is
    /// none).
    pub fn into_new(self, customer_id: CustomerId) -> NewGroup {
        NewGroup {
            customer_id,
            id: GroupId::new(),
            name: self.name.trim().to_owned(),
            description: trimmed(self.description),
        }
    }
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

impl From<PatchGroup> for GroupChanges {
    fn from(patch: PatchGroup) -> Self {
        Self {
            name: patch.name.map(|name| name.trim().to_owned()),
            description: patch.description.map(trimmed),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct DeleteGroupParams {
    /// `true` confirms the deletion when no `If-Match` is sent.
    pub confirm: Option<bool>,
}
