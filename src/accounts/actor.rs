//! The caller as the policy, the audit log and the handlers see it: plain data (the extractor
//! that builds it from a bearer token is [`crate::identity::actor`]). A caller is a person with
//! a session, or an API client (with a client-credentials access token or a long-lived token);
//! the policy reads both through the same accessors, so a client is decided by exactly the
//! rules of a person with its permissions and groups.

use uuid::Uuid;

use super::UserRow;
use crate::db::ids::SessionId;
use crate::error::AppError;
use crate::permissions::{DataScope, Kind, Permission, Role};

/// An API client as a caller: what its row said when the request was authenticated.
#[derive(Debug, Clone)]
pub struct ClientCaller {
    /// The client's row id (the `sub` of its tokens, the `actor_id` of its audit events).
    pub id: Uuid,
    /// The public `dgc_...` id.
    pub client_id: String,
    pub name: String,
    /// The client's customer; `None` for a platform client.
    pub customer_id: Option<Uuid>,
    /// The permissions it acts with: its scopes, or the subset its access token was issued for.
    pub permissions: Vec<Permission>,
}

crate::text_enum! {
    /// How a person proved who they are in a session (RFC 8176 `amr` values), as the access
    /// token's `amr` claim says.
    pub enum Amr {
        /// A password.
        Pwd = "pwd",
        /// A one-time code: TOTP or a recovery code.
        Otp = "otp",
    }
}

/// The name and code of a customer user's customer.
#[derive(Debug, Clone)]
pub struct CustomerLabel {
    pub name: String,
    pub code: String,
}

/// Who is calling.
#[derive(Debug, Clone)]
// One actor per request, moved and cloned a handful of times: boxing the row would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Principal {
    /// A person signed in with a session. `impersonator` is the staff member acting as the
    /// person in a support session (the token's `act.sub`).
    Person {
        session_id: SessionId,
        account: UserRow,
        amr: Vec<Amr>,
        impersonator: Option<Uuid>,
        /// A customer user's customer as the request found it (read with the session, so
        /// `GET /v1/me` needs no statement of its own); `None` for staff.
        customer: Option<CustomerLabel>,
    },
    /// An API client.
    Client(ClientCaller),
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    /// What of its customer's data the caller sees: `all` (staff and platform clients always),
    /// or only its `groups`' and untagged data.
    pub data_scope: DataScope,
    /// The groups of a `groups`-scoped customer user or client, possibly none (then it sees
    /// untagged data only); always empty for `all`.
    pub groups: Vec<Uuid>,
    /// Where the request came from, for the audit log.
    pub request_id: Option<String>,
    pub client_addr: String,
}

const PEOPLE_ONLY: &str = "Only a signed-in person can do this; API clients cannot.";

impl Actor {
    /// The person's or the client's id.
    pub fn id(&self) -> Uuid {
        match &self.principal {
            Principal::Person { account, .. } => account.id,
            Principal::Client(client) => client.id,
        }
    }

    /// Whose rules apply: a platform client is treated as staff, a customer's client as a
    /// customer user.
    pub fn kind(&self) -> Kind {
        match &self.principal {
            Principal::Person { account, .. } => account.kind,
            Principal::Client(ClientCaller { customer_id: None, .. }) => Kind::Staff,
            Principal::Client(_) => Kind::CustomerUser,
        }
    }

    /// A person's role; `None` for a client, which acts by its permissions alone (no role's
    /// privileges, such as an owner's or a platform admin's).
    pub fn role(&self) -> Option<Role> {
        self.person().map(|account| account.role)
    }

    /// The customer a customer user or client belongs to.
    pub fn customer_id(&self) -> Option<Uuid> {
        match &self.principal {
            Principal::Person { account, .. } => account.customer_id,
            Principal::Client(client) => client.customer_id,
        }
    }

    /// The caller's effective permissions: a person's role set or grants, a client's scopes.
    pub fn permissions(&self) -> Vec<Permission> {
        match &self.principal {
            Principal::Person { account, .. } => account.effective_permissions(),
            Principal::Client(client) => client.permissions.clone(),
        }
    }

    /// The customers a dispatcher is limited to (empty: all); always empty for others.
    pub fn customer_scope(&self) -> Vec<Uuid> {
        self.person().map(UserRow::customer_scope).unwrap_or_default()
    }

    /// The name to show for the caller (in mails it causes, for example).
    pub fn name(&self) -> &str {
        match &self.principal {
            Principal::Person { account, .. } => &account.name,
            Principal::Client(client) => &client.name,
        }
    }

    /// The signed-in person, if the caller is one.
    pub fn person(&self) -> Option<&UserRow> {
        match &self.principal {
            Principal::Person { account, .. } => Some(account),
            Principal::Client(_) => None,
        }
    }

    /// The session of a signed-in person, if the caller is one.
    pub fn session_id(&self) -> Option<SessionId> {
        match &self.principal {
            Principal::Person { session_id, .. } => Some(*session_id),
            Principal::Client(_) => None,
        }
    }

    /// The staff member acting as this person in a support session.
    pub fn impersonator(&self) -> Option<Uuid> {
        match &self.principal {
            Principal::Person { impersonator, .. } => *impersonator,
            Principal::Client(_) => None,
        }
    }

    /// Whether the person proved a second factor in this session.
    pub fn used_mfa(&self) -> bool {
        matches!(&self.principal, Principal::Person { amr, .. } if amr.contains(&Amr::Otp))
    }

    /// The API client, if the caller is one.
    pub fn client(&self) -> Option<&ClientCaller> {
        match &self.principal {
            Principal::Client(client) => Some(client),
            Principal::Person { .. } => None,
        }
    }

    /// The signed-in person, or 403 for an API client: for what only makes sense for a person
    /// (its profile, its password, its sessions).
    pub fn require_person(&self) -> Result<&UserRow, AppError> {
        self.person().ok_or_else(|| AppError::Forbidden(PEOPLE_ONLY.into()))
    }

    /// [`Self::require_person`], taking the row.
    pub fn into_person(self) -> Result<UserRow, AppError> {
        self.into_person_and_customer().map(|(account, _)| account)
    }

    /// [`Self::into_person`], with the customer's name and code for a customer user.
    pub fn into_person_and_customer(self) -> Result<(UserRow, Option<CustomerLabel>), AppError> {
        match self.principal {
            Principal::Person { account, customer, .. } => Ok((account, customer)),
            Principal::Client(_) => Err(AppError::Forbidden(PEOPLE_ONLY.into())),
        }
    }
}
