//! Rows of `invitations`. Never serialized: the token hash stays here; clients get
//! [`super::dto::InvitationView`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::ids::{AddressId, CostCenterId, CustomerId, InvitationId, UserId};
use crate::db::schema::invitations;
use crate::db::types::Email;
use crate::permissions::{DataScope, Permission, Role};
use crate::text_enum;
use crate::users::models::Access;
use crate::users::models::{NewUser, UserChanges};

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

/// What an invitation gives the invited person: what every invitation of one request shares.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations, check_for_backend(diesel::pg::Pg))]
pub struct Terms {
    pub role: Role,
    pub permissions: Vec<Option<Permission>>,
    pub group_ids: Vec<Option<Uuid>>,
    pub warehouse_address_id: Option<AddressId>,
    pub cost_center_id: Option<CostCenterId>,
    /// What the invited person will see: `all` (in no group) or `groups` (its `group_ids`,
    /// possibly none).
    pub data_scope: DataScope,
}

impl Terms {
    /// The groups the invited person joins (none for `all`; possibly none for `groups`).
    pub fn groups(&self) -> Vec<Uuid> {
        self.group_ids.iter().flatten().copied().collect()
    }

    /// The data scope and groups the invited person gets.
    pub fn access(&self) -> Access {
        Access { data_scope: self.data_scope, group_ids: self.groups() }
    }

    pub fn granted_permissions(&self) -> Vec<Permission> {
        self.permissions.iter().flatten().copied().collect()
    }

    /// The invited user of `email`: `invited`, with a login but no password, named by its
    /// address until it chooses a name when accepting.
    pub fn new_user(&self, customer_id: CustomerId, email: &Email) -> NewUser {
        NewUser {
            email: Some(email.clone()),
            status: crate::accounts::AccountStatus::Invited,
            login_enabled: true,
            warehouse_address_id: self.warehouse_address_id,
            cost_center_id: self.cost_center_id,
            ..NewUser::new(
                customer_id,
                email.to_string(),
                self.role,
                self.granted_permissions(),
                self.data_scope,
            )
        }
    }

    /// An invited user brought in line with these terms (an expired invitation renewed).
    pub fn user_changes(&self) -> UserChanges {
        UserChanges {
            role: Some(self.role),
            permissions: Some(self.permissions.clone()),
            warehouse_address_id: Some(self.warehouse_address_id),
            cost_center_id: Some(self.cost_center_id),
            ..UserChanges::default()
        }
    }
}

/// An invitation as stored; inserted whole.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations, check_for_backend(diesel::pg::Pg))]
pub struct InvitationRow {
    pub customer_id: CustomerId,
    pub id: InvitationId,
    pub user_id: Option<UserId>,
    pub email: Email,
    #[diesel(embed)]
    pub terms: Terms,
    /// Stored: `pending`, `accepted` or `revoked` (never `expired`; see [`Self::status_at`]).
    pub status: InvitationStatus,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub invited_by: Option<UserId>,
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
}

/// An invitation as a client sees it at `now` (its status depends on the time).
#[derive(Debug, Clone)]
pub struct Invitation {
    pub row: InvitationRow,
    pub now: DateTime<Utc>,
}
