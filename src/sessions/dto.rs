//! The session view.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts::Amr;
use crate::db::ids::SessionId;
use crate::identity::sessions::SessionRow;

/// A live session: one sign-in (or a support session), with where it came from and when it
/// was last used.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0190b7a8-0c1e-7d3a-9a55-3f2b1c4d5e6f",
    "created_at": "2026-11-30T08:12:00Z",
    "last_used_at": "2026-11-30T09:40:00Z",
    "client_addr": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "current": true,
    "amr": ["pwd", "otp"],
    "impersonated_by": null,
    "impersonation_reason": null,
    "expires_at": null
}))]
pub struct SessionView {
    #[schema(value_type = Uuid)]
    pub id: SessionId,
    /// When the person signed in.
    pub created_at: DateTime<Utc>,
    /// The last request or refresh in it (to the minute).
    pub last_used_at: DateTime<Utc>,
    /// The client address at sign-in.
    pub client_addr: Option<String>,
    /// The `User-Agent` at sign-in.
    pub user_agent: Option<String>,
    /// Whether this is the session of the request asking.
    pub current: bool,
    /// How the person proved who they are (RFC 8176): `pwd`, `otp`; empty for a support session.
    #[schema(value_type = Vec<String>, example = json!(["pwd"]))]
    pub amr: Vec<Amr>,
    /// The staff member acting as the person in a support session, else null.
    pub impersonated_by: Option<Uuid>,
    /// Why the support session was opened, else null.
    pub impersonation_reason: Option<String>,
    /// The hard end of a support session, else null (a sign-in ends by the lifetimes).
    pub expires_at: Option<DateTime<Utc>>,
}

impl SessionView {
    /// The view of `row` for a caller whose own session is `current`.
    pub fn of(row: SessionRow, current: Option<SessionId>) -> Self {
        Self {
            current: current == Some(row.id),
            id: row.id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            client_addr: row.client_addr,
            user_agent: row.user_agent,
            amr: row.amr,
            impersonated_by: row.impersonator_id,
            impersonation_reason: row.impersonation_reason,
            expires_at: row.expires_at,
        }
    }
}
