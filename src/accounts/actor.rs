//! The signed-in caller as the policy, the audit log and the handlers see it: plain data (the
//! extractor that builds it from a bearer token is [`crate::identity::actor`]).

use uuid::Uuid;

use super::UserRow;
use crate::db::ids::SessionId;
use crate::permissions::{Kind, Role};

#[derive(Debug, Clone)]
pub struct Actor {
    pub session_id: SessionId,
    pub account: UserRow,
    /// The groups of a customer user; empty: in no group, so it sees all of its customer's
    /// data (and staff see everything).
    pub groups: Vec<Uuid>,
    /// Where the request came from, for the audit log.
    pub request_id: Option<String>,
    pub client_addr: String,
}

impl Actor {
    pub fn id(&self) -> Uuid {
        self.account.id
    }

    pub fn kind(&self) -> Kind {
        self.account.kind
    }

    pub fn role(&self) -> Role {
        self.account.role
    }
}
