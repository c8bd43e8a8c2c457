//! Invitation request bodies and views (contract section 7).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::models::{Invitation, InvitationRow, InvitationStatus};
use crate::audit::{Target, Visibility};
use crate::error::AppError;
use crate::permissions::{self, DataScope, Permission};
use crate::text_enum;
use crate::users::dto::{CustomerRole, UserView};
use crate::validation::not_blank;
use crate::write::{Tracked, Viewed};

text_enum! {
    /// What happened to one address of a bulk invitation.
    pub enum Outcome {
        Invited = "invited",
        Skipped = "skipped",
    }
}

text_enum! {
    /// Why an address was skipped (nothing was created or sent for it).
    pub enum SkipReason {
        /// Not an e-mail address.
        InvalidEmail = "invalid_email",
        /// A person of this customer (active or deactivated) already has this address.
        AlreadyAUser = "already_a_user",
        /// A pending invitation of this customer that has not expired exists for the address.
        AlreadyInvited = "already_invited",
        /// The address cannot be invited: a disposable (throw-away) mail service, or an address
        /// that is not available to this customer. Deliberately one reason, so an invitation
        /// does not tell whether the address is registered anywhere else.
        NotInvitable = "not_invitable",
        /// The address came earlier in the same request (compared case-insensitively).
        DuplicateInRequest = "duplicate_in_request",
    }
}

/// Invite up to 100 people at once; everything but `emails` applies to each of them, with the
/// rules of user creation.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "emails": ["jana.berg@acme.example", "piet@acme.example"],
    "role": "user",
    "permissions": ["orders.view", "orders.create", "tracking.view"],
    "group_ids": ["01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70"],
    "warehouse_address_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31"
}))]
pub struct CreateInvitations {
    /// 1 to 100 addresses; each gets a result, in this order.
    #[validate(length(min = 1, max = 100, message = "must hold 1 to 100 addresses"))]
    #[schema(min_items = 1, max_items = 100)]
    pub emails: Vec<String>,
    /// Default `user`. Only staff and the owner may invite an `owner` (one per customer).
    pub role: Option<CustomerRole>,
    /// For `user`: the grants, from the user-grantable set (default `orders.view`,
    /// `tracking.view`, `pod.download`). For `owner`/`admin`: omit it.
    #[validate(length(max = 50, message = "at most 50 permissions"))]
    #[schema(max_items = 50)]
    pub permissions: Option<Vec<Permission>>,
    /// Groups of the customer. A group-limited inviter's people join its groups unless it names
    /// some of them.
    #[validate(length(max = 100, message = "at most 100 groups"))]
    #[schema(max_items = 100)]
    pub group_ids: Option<Vec<Uuid>>,
    /// What the invited people will see. Omitted: `groups` when they join groups (or the
    /// inviter is limited to groups), else `all`. `groups` without `group_ids`: untagged data
    /// only. `all` with `group_ids`, or from a group-limited inviter, is a 422 on `data_scope`.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub data_scope: Option<DataScope>,
    /// One of the customer's warehouse addresses; default: the customer's default address.
    pub warehouse_address_id: Option<Uuid>,
    /// One of the customer's active cost centers.
    pub cost_center_id: Option<Uuid>,
}

/// An invitation: the invited user (`status: invited` until accepted) and its e-mailed link.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d90", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "user_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "email": "jana.berg@acme.example", "role": "user",
    "permissions": ["orders.create", "orders.view", "tracking.view"],
    "data_scope": "groups", "group_ids": ["01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70"],
    "warehouse_address_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31", "cost_center_id": null,
    "status": "pending", "expires_at": "2026-11-30T09:30:00Z",
    "invited_by": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d40", "send_count": 1,
    "last_sent_at": "2026-11-23T09:30:00Z", "created_at": "2026-11-23T09:30:00Z"
}))]
pub struct InvitationView {
    pub id: Uuid,
    pub customer_id: Uuid,
    /// The invited user; null once it was removed (revoked invitation).
    pub user_id: Option<Uuid>,
    pub email: String,
    pub role: CustomerRole,
    /// Effective permissions the user will have: the role's set for owners and admins.
    pub permissions: Vec<Permission>,
    /// What the invited person will see (and sees once it accepted): `all`, or `groups`.
    pub data_scope: DataScope,
    /// Its groups when `data_scope` is `groups`, possibly none (untagged data only).
    pub group_ids: Vec<Uuid>,
    pub warehouse_address_id: Option<Uuid>,
    pub cost_center_id: Option<Uuid>,
    pub status: InvitationStatus,
    /// When the current link stops working (7 days after it was last sent).
    pub expires_at: DateTime<Utc>,
    /// The person who sent the invitation (null if that person was removed since).
    pub invited_by: Option<Uuid>,
    /// How many times the link was mailed (1 + resends).
    pub send_count: i32,
    pub last_sent_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl InvitationView {
    pub fn new(row: &InvitationRow, now: DateTime<Utc>) -> Self {
        let terms = &row.terms;
        Self {
            id: row.id.into(),
            customer_id: row.customer_id.into(),
            user_id: row.user_id.map(Into::into),
            email: row.email.to_string(),
            role: terms.role.into(),
            permissions: permissions::effective(terms.role, &terms.granted_permissions()),
            data_scope: terms.data_scope,
            group_ids: terms.groups(),
            warehouse_address_id: terms.warehouse_address_id.map(Into::into),
            cost_center_id: terms.cost_center_id.map(Into::into),
            status: row.status_at(now),
            expires_at: row.expires_at,
            invited_by: row.invited_by.map(Into::into),
            send_count: row.send_count,
            last_sent_at: row.last_sent_at,
            created_at: row.created_at,
        }
    }
}

impl Tracked for InvitationView {
    const TARGET: Target = Target::Invitation;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.customer_id))
    }

    fn location(&self) -> String {
        format!("/v1/customers/{}/invitations/{}", self.customer_id, self.id)
    }

    /// As hidden as the invited person (an invitation's groups never change).
    fn visibility(&self) -> Visibility {
        Visibility::person(self.data_scope, &self.group_ids)
    }
}

impl Viewed for Invitation {
    type View = InvitationView;

    fn view(&self, _: &mut diesel::PgConnection) -> Result<InvitationView, AppError> {
        Ok(InvitationView::new(&self.row, self.now))
    }
}

/// The result for one address of a bulk invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteResult {
    /// The address as given.
    pub email: String,
    pub outcome: Outcome,
    /// Why it was skipped (null when invited).
    pub reason: Option<SkipReason>,
    /// The new invitation (null when skipped).
    pub invitation: Option<InvitationView>,
}

impl InviteResult {
    pub fn invited(email: String, invitation: InvitationView) -> Self {
        Self { email, outcome: Outcome::Invited, reason: None, invitation: Some(invitation) }
    }

    pub fn skipped(email: String, reason: SkipReason) -> Self {
        Self { email, outcome: Outcome::Skipped, reason: Some(reason), invitation: None }
    }
}

/// One result per address, in the order of the request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"results": [
    {"email": "jana.berg@acme.example", "outcome": "invited", "reason": null, "invitation": {
        "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d90", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
        "user_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "email": "jana.berg@acme.example", "role": "user",
        "permissions": ["orders.view", "pod.download", "tracking.view"], "data_scope": "all", "group_ids": [],
        "warehouse_address_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31", "cost_center_id": null,
        "status": "pending", "expires_at": "2026-11-30T09:30:00Z",
        "invited_by": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d40", "send_count": 1,
        "last_sent_at": "2026-11-23T09:30:00Z", "created_at": "2026-11-23T09:30:00Z"}},
    {"email": "JANA.BERG@acme.example", "outcome": "skipped", "reason": "duplicate_in_request", "invitation": null},
    {"email": "someone@mailinator.com", "outcome": "skipped", "reason": "not_invitable", "invitation": null}
]}))]
pub struct InviteResults {
    pub results: Vec<InviteResult>,
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct InvitationFilters {
    /// Only invitations in this status (`expired`: pending, past `expires_at`).
    pub status: Option<InvitationStatus>,
}

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// The `token` of the e-mailed link (`{PORTAL_URL}/invitations/accept?token=...`).
    #[param(min_length = 1, max_length = 512)]
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    pub token: String,
}

/// What the portal shows on the accept page.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"email": "jana.berg@acme.example", "customer_name": "Acme Logistics", "expires_at": "2026-11-30T09:30:00Z"}))]
pub struct InvitationLookup {
    /// The invited address: the login once accepted.
    pub email: String,
    pub customer_name: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "dgi_3J0x8K2mVnq4T1pW9bC6eYr5uZa7sLd0fGh2jKl4mNo", "name": "Jana Berg", "password": "correct horse battery staple"}))]
pub struct AcceptInvitation {
    /// The `token` of the e-mailed link.
    #[validate(length(min = 1, max = 512, message = "must be 1 to 512 characters"))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// The name the person goes by.
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// 12 to 128 characters, not the e-mail address, not common or easy to guess.
    #[validate(length(min = 12, max = 128, message = "must be 12 to 128 characters"))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

/// The user the accepted invitation activated, and a token pair for its first session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "user": {
        "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
        "name": "Jana Berg", "phone": null, "email": "jana.berg@acme.example", "login_enabled": true,
        "password_set": true, "status": "active", "role": "user",
        "permissions": ["orders.view", "pod.download", "tracking.view"],
        "data_scope": "all", "group_ids": [], "warehouse_address_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31",
        "cost_center_id": null, "external_id": null, "mfa_enabled": false, "password_change_required": false, "valid_until": null,
        "last_login_at": "2026-11-24T10:00:00Z",
        "created_at": "2026-11-23T09:30:00Z", "updated_at": "2026-11-24T10:00:00Z"
    },
    "tokens": {
        "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6Ik56Ykxz...",
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_token": "dgr_q0H4Jx7pW0bq3vXJ2l2x3mC9o1nYyU0Q2xY6t8e0aZs"
    }
}))]
pub struct AcceptedInvitation {
    pub user: UserView,
    /// The token pair, or the step that is left (an MFA enrolment the customer requires).
    pub tokens: crate::identity::steps::SignInResponse,
}
