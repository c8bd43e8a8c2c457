//! The view of the signed-in person and the bodies that change it.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::models::{Me, ProfileChanges};
use crate::accounts::{AccountStatus, UserRow};
use crate::audit::{Target, Visibility};
use crate::error::AppError;
use crate::permissions::{DataScope, Kind, Permission, Role};
use crate::validation::{not_blank, validate_phone};
use crate::write::{Tracked, Viewed};

/// The signed-in person: who it is and what it may do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d10", "kind": "staff", "name": "Dana Dispatcher",
    "email": "dana@operator.example", "phone": "+49 30 1234567", "role": "dispatcher", "status": "active",
    "customer_id": null, "customer": null, "customer_ids": ["01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30"],
    "permissions": ["orders.view", "orders.create", "tracking.view", "pod.download", "scheduling.book",
        "reports.view", "messages.view_body", "addresses.manage", "cost_centers.manage", "users.manage",
        "pricing.view", "payments.manage"],
    "data_scope": "all", "groups": ["*"], "last_login_at": "2026-11-23T09:30:00Z",
    "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-23T09:30:00Z"
}))]
pub struct MeView {
    pub id: Uuid,
    pub kind: Kind,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    /// The customer of a customer user; null for staff.
    pub customer_id: Option<Uuid>,
    /// The customer's name and code, for the portal's header; null for staff.
    pub customer: Option<MeCustomer>,
    /// Staff: the customers this person may act on, or `["*"]` for all; null for customer users.
    pub customer_ids: Option<Vec<String>>,
    /// Effective permissions.
    pub permissions: Vec<Permission>,
    /// What of its customer's data this person sees: `all` (staff always), or `groups`.
    pub data_scope: DataScope,
    /// The token's `groups` claim: `["*"]` for `all` (every group's data of its customer;
    /// staff: of every customer they see), else the ids of the groups whose data this person
    /// sees — possibly `[]`, which means no group's data: untagged data only.
    pub groups: Vec<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The groups behind `groups`, for the audit log's visibility; not shown.
    #[serde(skip)]
    pub group_ids: Vec<Uuid>,
}

impl MeView {
    pub fn new(row: &UserRow, groups: &[Uuid], customer: Option<MeCustomer>) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            name: row.name.clone(),
            email: row.email.as_ref().map(ToString::to_string),
            phone: row.phone.clone(),
            role: row.role,
            status: row.status,
            customer_id: row.customer_id,
            customer,
            customer_ids: row.customer_ids_claim(),
            permissions: row.effective_permissions(),
            data_scope: row.data_scope,
            groups: UserRow::groups_claim(row.data_scope, groups),
            last_login_at: row.last_login_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            group_ids: groups.to_vec(),
        }
    }
}

impl Tracked for MeView {
    /// Staff and customer users alike: the log names the person as a user.
    const TARGET: Target = Target::User;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, self.customer_id)
    }

    fn location(&self) -> String {
        "/v1/me".into()
    }

    /// About the caller itself: as visible as the caller.
    fn visibility(&self) -> Visibility {
        Visibility::person(self.data_scope, &self.group_ids)
    }
}

impl Viewed for Me {
    type View = MeView;

    /// Reads the customer's name and code for a customer user.
    fn view(&self, conn: &mut PgConnection) -> Result<MeView, AppError> {
        let customer = match self.row.customer_id {
            Some(customer_id) => {
                let (name, code) = super::queries::customer_of(conn, customer_id)?;
                Some(MeCustomer { id: customer_id, name, code })
            }
            None => None,
        };
        Ok(MeView::new(&self.row, &self.groups, customer))
    }

    /// A customer user's webhooks show it as `/v1/customers/{id}/users/{id}` does; staff has none.
    fn data(&self, conn: &mut PgConnection, _: &MeView) -> Result<Option<serde_json::Value>, AppError> {
        match self.row.customer_id {
            Some(_) => Ok(serde_json::to_value(crate::users::views::one(conn, &self.row)?).ok()),
            None => Ok(None),
        }
    }
}

/// The customer a customer user works for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeCustomer {
    pub id: Uuid,
    pub name: String,
    pub code: String,
}

/// A JSON merge-patch of the caller's own profile: absent fields stay, `phone: null` clears it.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Dana Dispatcher", "phone": "+49 30 1234567"}))]
pub struct MePatch {
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
}

impl From<MePatch> for ProfileChanges {
    fn from(patch: MePatch) -> Self {
        Self { name: patch.name.map(|name| name.trim().to_owned()), phone: patch.phone }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery staple", "new_password": "a brand new passphrase"}))]
pub struct ChangePassword {
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// 12 to 128 characters, not the e-mail address, not common or easy to guess.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}
