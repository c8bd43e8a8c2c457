//! API clients as callers: their credentials (the secret presented at `/v1/oauth/token`, the
//! long-lived `dgt_` tokens) and what a request authenticated by one may do. The resource that
//! manages clients is [`crate::api_clients`]; this is what the extractor and the token endpoint
//! need, below it.
//!
//! Revocation is immediate: every request re-reads the client (and its customer), so a revoked
//! client or a deleted token stops working at once, whatever its access token says.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::accounts::{ClientCaller, CustomerStatus};
use crate::db::schema::{api_client_tokens, api_clients, customers};
use crate::permissions::{DataScope, Permission};
use crate::secrets::hash_secret;

/// Prefix of a client's public id.
pub const CLIENT_ID_PREFIX: &str = "dgc_";
/// Prefix of a client secret.
pub const SECRET_PREFIX: &str = "dgcs_";
/// Prefix of a long-lived client token.
pub const TOKEN_PREFIX: &str = "dgt_";

crate::text_enum! {
    /// Whether a client may still authenticate.
    pub enum ClientStatus as "ApiClientStatus" {
        Active = "active",
        Revoked = "revoked",
    }
}

/// What authenticating a client needs of its row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_clients, check_for_backend(diesel::pg::Pg))]
pub struct Credential {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<Option<Permission>>,
    pub status: ClientStatus,
    pub secret_hash: Vec<u8>,
    pub previous_secret_hash: Option<Vec<u8>>,
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub data_scope: DataScope,
}

impl Credential {
    pub fn scopes(&self) -> Vec<Permission> {
        self.scopes.iter().flatten().copied().collect()
    }

    /// Whether `secret` is the client's secret (or its previous one, within the overlap).
    /// Both hashes are always compared, in constant time, so the answer costs the same
    /// whichever matches or none.
    pub fn secret_matches(&self, secret: &str, now: DateTime<Utc>) -> bool {
        secret_matches(Some(self), secret, now)
    }
}

/// A stand-in compared against when no client has the presented id, so an unknown client and
/// a wrong secret cost the same.
const NO_SECRET: [u8; 32] = [0; 32];

/// Whether `secret` belongs to `client`; with no client, the same work and `false`.
pub fn secret_matches(client: Option<&Credential>, secret: &str, now: DateTime<Utc>) -> bool {
    let presented = hash_secret(secret);
    let current = client.map_or(&NO_SECRET[..], |c| c.secret_hash.as_slice());
    let previous = client
        .and_then(|c| c.previous_secret_hash.as_deref().filter(|_| c.previous_secret_valid_until > Some(now)))
        .unwrap_or(&NO_SECRET[..]);
    let current_ok = presented.ct_eq(current);
    let previous_ok = presented.ct_eq(previous);
    client.is_some() && bool::from(current_ok | previous_ok)
}

/// The client with the public id `client_id`, whatever its status.
pub fn by_client_id(conn: &mut PgConnection, client_id: &str) -> QueryResult<Option<Credential>> {
    api_clients::table
        .filter(api_clients::client_id.eq(client_id))
        .select(Credential::as_select())
        .first(conn)
        .optional()
}

/// What deciding whether a client may act needs beside its row, read with it in one statement:
/// its customer's status (`None`: a platform client, or a customer that is gone), its groups
/// (looked up only for a `groups`-scoped client) and when it was last used.
pub struct Standing {
    pub customer_status: Option<CustomerStatus>,
    pub groups: Vec<Uuid>,
    pub last_used_at: Option<DateTime<Utc>>,
}

type StandingSql = (
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Array<diesel::sql_types::Uuid>,
    diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
);

/// The columns of [`Standing`], for a query joining `api_clients` with `customers` (left).
fn standing_columns() -> crate::db::fixed::Fixed<StandingSql> {
    crate::db::fixed::fixed::<StandingSql>(
        "customers.status, CASE WHEN api_clients.data_scope = 'groups' THEN ARRAY(SELECT g.group_id \
         FROM api_client_groups g WHERE g.api_client_id = api_clients.id ORDER BY g.group_id) \
         ELSE '{}'::uuid[] END, api_clients.last_used_at",
    )
}

/// The client with the row id `id`, whatever its status, and its standing.
pub fn by_id(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<(Credential, Standing)>> {
    api_clients::table
        .left_join(customers::table)
        .filter(api_clients::id.eq(id))
        .select((Credential::as_select(), standing_columns()))
        .first::<(Credential, (Option<CustomerStatus>, Vec<Uuid>, Option<DateTime<Utc>>))>(conn)
        .optional()
        .map(|found| found.map(|(client, standing)| (client, Standing::from(standing))))
}

/// The standing of the client `id` (the token endpoint has its row already).
pub fn standing(conn: &mut PgConnection, id: Uuid) -> QueryResult<Standing> {
    api_clients::table
        .left_join(customers::table)
        .filter(api_clients::id.eq(id))
        .select(standing_columns())
        .first::<(Option<CustomerStatus>, Vec<Uuid>, Option<DateTime<Utc>>)>(conn)
        .map(Standing::from)
}

impl From<(Option<CustomerStatus>, Vec<Uuid>, Option<DateTime<Utc>>)> for Standing {
    fn from(
        (customer_status, groups, last_used_at): (Option<CustomerStatus>, Vec<Uuid>, Option<DateTime<Utc>>),
    ) -> Self {
        Self { customer_status, groups, last_used_at }
    }
}

/// Whether a use at `now` after one at `last` should be recorded: at most once a minute, so a
/// busy client does not turn every request into a write.
fn stale(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| last < now - chrono::Duration::minutes(1))
}

/// The caller a request authenticated as `client` is: active, its customer open (a platform
/// client has none and always is; unlike a person's sign-in, a switched-off portal does not
/// matter: clients do not use it), acting with `permissions` (what its token was issued for)
/// cut down to its scopes as they are now, and its data scope and groups as they are now.
/// `None` when the client may not act. Records the use, at most once a minute.
pub fn caller(
    conn: &mut PgConnection,
    client: Credential,
    standing: Standing,
    permissions: Option<&[Permission]>,
    now: DateTime<Utc>,
) -> QueryResult<Option<(ClientCaller, DataScope, Vec<Uuid>)>> {
    let customer_open =
        client.customer_id.is_none() || standing.customer_status == Some(CustomerStatus::Active);
    if client.status != ClientStatus::Active || !customer_open {
        return Ok(None);
    }
    let scopes = client.scopes();
    let permissions = match permissions {
        Some(granted) => scopes.iter().copied().filter(|p| granted.contains(p)).collect(),
        None => scopes,
    };
    if stale(standing.last_used_at, now) {
        diesel::update(api_clients::table.find(client.id))
            .set(api_clients::last_used_at.eq(now))
            .execute(conn)?;
    }
    let caller = ClientCaller {
        id: client.id,
        client_id: client.client_id,
        name: client.name,
        customer_id: client.customer_id,
        permissions,
    };
    Ok(Some((caller, client.data_scope, standing.groups)))
}

/// The client of the long-lived token `token`, if the token is live (not revoked, not
/// expired), with its standing; the token's last use is recorded like the client's.
pub fn by_token(
    conn: &mut PgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<(Credential, Standing)>> {
    let hash = hash_secret(token);
    type Found =
        (Uuid, Option<DateTime<Utc>>, Credential, (Option<CustomerStatus>, Vec<Uuid>, Option<DateTime<Utc>>));
    let found: Option<Found> = api_client_tokens::table
        .inner_join(api_clients::table.left_join(customers::table))
        .filter(api_client_tokens::token_hash.eq(&hash))
        .filter(api_client_tokens::revoked.eq(false))
        .filter(api_client_tokens::expires_at.is_null().or(api_client_tokens::expires_at.gt(now)))
        .select((
            api_client_tokens::id,
            api_client_tokens::last_used_at,
            Credential::as_select(),
            standing_columns(),
        ))
        .first(conn)
        .optional()?;
    let Some((token_id, token_used_at, client, standing)) = found else { return Ok(None) };
    if stale(token_used_at, now) {
        diesel::update(api_client_tokens::table.find(token_id))
            .set(api_client_tokens::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some((client, Standing::from(standing))))
}
