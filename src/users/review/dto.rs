//! The access review's views.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts::AccountStatus;
use crate::identity::clients::ClientStatus;
use crate::permissions::{DataScope, Permission, Role};
use crate::text_enum;

text_enum! {
    /// What a reviewer should look at: the closed set of a review's flags.
    pub enum AccessFlag {
        /// Holds `pricing.view`: sees the customer's prices.
        HoldsPricingView = "holds_pricing_view",
        /// Holds `payments.manage`: moves the customer's money.
        HoldsPaymentsManage = "holds_payments_manage",
        /// Holds `users.manage`: decides who else gets access.
        HoldsUsersManage = "holds_users_manage",
        /// A person with a login that has not signed in for 90 days, or a client not used for
        /// 90 days; one that never did counts once it is 90 days old.
        NoSignIn90Days = "no_sign_in_90_days",
        /// A person whose password is older than `ACCESS_REVIEW_PASSWORD_MAX_AGE` (365 days by
        /// default), counted from its last change, or from the person's creation when no
        /// change was recorded.
        PasswordOlderThanMaxAge = "password_older_than_max_age",
        /// A person with a login and without MFA.
        NoMfa = "no_mfa",
    }
}

/// One of the customer's people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewedPerson {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    pub login_enabled: bool,
    /// Effective permissions (the role's, or a user's grants).
    pub permissions: Vec<Permission>,
    pub data_scope: DataScope,
    pub group_ids: Vec<Uuid>,
    pub mfa_enabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub flags: Vec<AccessFlag>,
}

/// One of the customer's API clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewedApiClient {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub status: ClientStatus,
    /// Its scopes: the permissions it acts with.
    pub permissions: Vec<Permission>,
    pub data_scope: DataScope,
    pub group_ids: Vec<Uuid>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub flags: Vec<AccessFlag>,
}

/// Everyone with access to a customer's data, at `generated_at`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "generated_at": "2026-12-01T09:00:00Z",
    "reviewed_at": "2026-09-01T08:12:00Z",
    "reviewed_by": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d60",
    "people": [{
        "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "name": "Jana Berg",
        "email": "jana.berg@acme.example", "role": "user", "status": "active",
        "login_enabled": true, "permissions": ["orders.view", "pricing.view"],
        "data_scope": "all", "group_ids": [], "mfa_enabled": false,
        "last_login_at": "2026-11-30T07:45:00Z", "password_changed_at": "2025-10-02T10:00:00Z",
        "valid_until": null, "created_at": "2025-10-02T10:00:00Z",
        "flags": ["holds_pricing_view", "password_older_than_max_age", "no_mfa"]
    }],
    "api_clients": [{
        "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70", "client_id": "dgc_4f9a2b", "name": "ERP sync",
        "status": "active", "permissions": ["orders.view"], "data_scope": "all", "group_ids": [],
        "last_used_at": null, "created_at": "2026-11-01T10:00:00Z", "flags": []
    }]
}))]
pub struct AccessReview {
    pub customer_id: Uuid,
    pub generated_at: DateTime<Utc>,
    /// When the review was last recorded as done, if ever.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Who recorded it (a staff member or one of the customer's people).
    pub reviewed_by: Option<Uuid>,
    pub people: Vec<ReviewedPerson>,
    pub api_clients: Vec<ReviewedApiClient>,
}

/// The review as recorded.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "reviewed_at": "2026-12-01T09:05:00Z",
    "reviewed_by": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d60"
}))]
pub struct Reviewed {
    pub reviewed_at: DateTime<Utc>,
    pub reviewed_by: Uuid,
}
