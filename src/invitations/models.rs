//! Rows of `invitations`. Never serialized: the token hash stays here; clients get
//! [`super::dto::InvitationView`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::invitations;
use crate::db::types::Email;
use crate::permissions::{Permission, Role};
use crate::text_enum;

text_enum! {
    /// `pending` until accepted or revoked; `expired` is a pending invitation whose link is
    /// past `expires_at` (computed, never stored).
    pub enum InvitationStatus {
        Pending = "pending",
        Accepted = "accepted",
        Revoked = "revoked",
        Expired = "expired",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations, check_for_backend(diesel::pg::Pg))]
pub struct InvitationRow {
    pub customer_id: Uuid,
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub email: Email,
    pub role: Role,
    pub permissions: Vec<Option<Permission>>,
    pub group_ids: Vec<Option<Uuid>>,
    pub warehouse_address_id: Option<Uuid>,
    pub cost_center_id: Option<Uuid>,
    /// Stored: `pending`, `accepted` or `revoked` (never `expired`; see [`Self::status_at`]).
    pub status: InvitationStatus,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub invited_by: Option<Uuid>,
    pub send_count: i32,
    pub last_sent_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InvitationRow {
    /// The status a client sees at `now`: a pending invitation past its expiry is `expired`;
    /// one whose invited user was deleted (through the users API) can never be accepted, so it
    /// reads `revoked`.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        match self.status {
            InvitationStatus::Pending if self.user_id.is_none() => InvitationStatus::Revoked,
            InvitationStatus::Pending if self.expires_at <= now => InvitationStatus::Expired,
            other => other,
        }
    }

    pub fn granted_permissions(&self) -> Vec<Permission> {
        self.permissions.iter().flatten().copied().collect()
    }

    /// The groups the invited person joins (none: it will see all of the customer's data).
    pub fn groups(&self) -> Vec<Uuid> {
        self.group_ids.iter().flatten().copied().collect()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation {
    pub customer_id: Uuid,
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub email: Email,
    pub role: Role,
    pub permissions: Vec<Option<Permission>>,
    pub group_ids: Vec<Option<Uuid>>,
    pub warehouse_address_id: Option<Uuid>,
    pub cost_center_id: Option<Uuid>,
    pub status: InvitationStatus,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub invited_by: Option<Uuid>,
    pub send_count: i32,
    pub last_sent_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
