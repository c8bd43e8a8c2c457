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
use crate::db::schema::{api_client_groups, api_client_tokens, api_clients, customers};
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

/// The client with the row id `id`, whatever its status.
pub fn by_id(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Credential>> {
    api_clients::table.find(id).select(Credential::as_select()).first(conn).optional()
}

/// The groups of a client (only a `groups`-scoped client has any; it may have none).
pub fn groups_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<Uuid>> {
    api_client_groups::table
        .filter(api_client_groups::api_client_id.eq(id))
        .order(api_client_groups::group_id.asc())
        .select(api_client_groups::group_id)
        .load(conn)
}

/// Whether the client's customer takes requests (a platform client has none and always does).
/// Unlike a person's sign-in, a switched-off portal does not matter: clients do not use it.
pub fn customer_open(conn: &mut PgConnection, customer_id: Option<Uuid>) -> QueryResult<bool> {
    let Some(customer_id) = customer_id else { return Ok(true) };
    let status = customers::table
        .find(customer_id)
        .select(customers::status)
        .first::<CustomerStatus>(conn)
        .optional()?;
    Ok(status == Some(CustomerStatus::Active))
}

/// Records that the client was used, at most once a minute: the row is written only when its
/// last use is older, so a busy client does not turn every request into a write.
pub fn touch(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    let a_minute_ago = now - chrono::Duration::minutes(1);
    diesel::update(
        api_clients::table
            .find(id)
            .filter(api_clients::last_used_at.is_null().or(api_clients::last_used_at.lt(a_minute_ago))),
    )
    .set(api_clients::last_used_at.eq(now))
    .execute(conn)
    .map(drop)
}

/// The caller a request authenticated as `client` is: active, its customer open, acting with
/// `permissions` (what its token was issued for) cut down to its scopes as they are now, and
/// its data scope and groups as they are now. `None` when the client may not act.
pub fn caller(
    conn: &mut PgConnection,
    client: Credential,
    permissions: Option<&[Permission]>,
    now: DateTime<Utc>,
) -> QueryResult<Option<(ClientCaller, DataScope, Vec<Uuid>)>> {
    if client.status != ClientStatus::Active || !customer_open(conn, client.customer_id)? {
        return Ok(None);
    }
    let scopes = client.scopes();
    let permissions = match permissions {
        Some(granted) => scopes.iter().copied().filter(|p| granted.contains(p)).collect(),
        None => scopes,
    };
    // Only a `groups`-scoped client has groups; an `all` one skips the query.
    let groups = match client.data_scope {
        DataScope::All => Vec::new(),
        DataScope::Groups => groups_of(conn, client.id)?,
    };
    touch(conn, client.id, now)?;
    let caller = ClientCaller {
        id: client.id,
        client_id: client.client_id,
        name: client.name,
        customer_id: client.customer_id,
        permissions,
    };
    Ok(Some((caller, client.data_scope, groups)))
}

/// The client of the long-lived token `token`, if the token is live (not revoked, not
/// expired); its last use is recorded like the client's.
pub fn by_token(conn: &mut PgConnection, token: &str, now: DateTime<Utc>) -> QueryResult<Option<Credential>> {
    let hash = hash_secret(token);
    let found: Option<(Uuid, Credential)> = api_client_tokens::table
        .inner_join(api_clients::table)
        .filter(api_client_tokens::token_hash.eq(&hash))
        .filter(api_client_tokens::revoked.eq(false))
        .filter(api_client_tokens::expires_at.is_null().or(api_client_tokens::expires_at.gt(now)))
        .select((api_client_tokens::id, Credential::as_select()))
        .first(conn)
        .optional()?;
    let Some((token_id, client)) = found else { return Ok(None) };
    let a_minute_ago = now - chrono::Duration::minutes(1);
    diesel::update(api_client_tokens::table.find(token_id).filter(
        api_client_tokens::last_used_at.is_null().or(api_client_tokens::last_used_at.lt(a_minute_ago)),
    ))
    .set(api_client_tokens::last_used_at.eq(now))
    .execute(conn)?;
    Ok(Some(client))
}
