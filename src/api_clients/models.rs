//! Rows of `api_clients`, `api_client_groups` and `api_client_tokens`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::ids::{ApiClientId, ApiClientTokenId};
use crate::db::schema::{api_client_tokens, api_clients};
use crate::identity::clients::ClientStatus;
use crate::permissions::{DataScope, Permission};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_clients, check_for_backend(diesel::pg::Pg))]
pub struct ApiClientRow {
    pub customer_id: Option<Uuid>,
    pub id: ApiClientId,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<Option<Permission>>,
    pub status: ClientStatus,
    pub created_by: Option<Uuid>,
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub data_scope: DataScope,
}

/// A client with the groups it is limited to: what its view shows.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub row: ApiClientRow,
    pub groups: Vec<Uuid>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_clients)]
pub struct NewApiClient {
    pub customer_id: Option<Uuid>,
    pub id: ApiClientId,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<Option<Permission>>,
    pub status: ClientStatus,
    pub created_by: Option<Uuid>,
    pub secret_hash: Vec<u8>,
    /// Decided by [`super::rules::access_for`]; its groups are set after the insert.
    pub data_scope: DataScope,
}

/// A merge-patch of the client's own columns (its groups are set separately).
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = api_clients)]
pub struct ApiClientChanges {
    pub name: Option<String>,
    pub scopes: Option<Vec<Option<Permission>>>,
    pub status: Option<ClientStatus>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_client_tokens, check_for_backend(diesel::pg::Pg))]
pub struct TokenRow {
    pub customer_id: Option<Uuid>,
    pub id: ApiClientTokenId,
    pub api_client_id: ApiClientId,
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_client_tokens)]
pub struct NewToken {
    pub customer_id: Option<Uuid>,
    pub id: ApiClientTokenId,
    pub api_client_id: ApiClientId,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub expires_at: Option<DateTime<Utc>>,
}
