//! API client views and request bodies.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::models::{ApiClient, TokenRow};
use crate::audit::{Target, Visibility};
use crate::error::AppError;
use crate::identity::clients::ClientStatus;
use crate::permissions::{DataScope, Permission};
use crate::validation::not_blank;
use crate::write::{Plain, Tracked, Viewed};

/// An API client: machine credentials acting with exactly its scopes and groups.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d80", "client_id": "dgc_Yk3n0Qw8Rr2mZt1VbQ9x",
    "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "name": "ERP provisioning",
    "scopes": ["users.manage"], "data_scope": "all", "group_ids": [], "status": "active",
    "created_by": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "previous_secret_valid_until": null,
    "last_used_at": "2026-11-23T09:30:00Z", "created_at": "2026-11-01T08:00:00Z",
    "updated_at": "2026-11-01T08:00:00Z"
}))]
pub struct ApiClientView {
    pub id: Uuid,
    /// The public id: `client_id` at `/v1/oauth/token`.
    pub client_id: String,
    /// The client's customer; null for a platform client.
    pub customer_id: Option<Uuid>,
    pub name: String,
    /// The permissions it acts with; never more than its creator held.
    pub scopes: Vec<Permission>,
    /// What of its customer's data it sees, with the same meaning as a person's: `all`
    /// (always for a platform client), or `groups`: its groups' and untagged data only.
    pub data_scope: DataScope,
    /// The groups whose data it sees when `data_scope` is `groups`; possibly empty (untagged
    /// data only); always empty for `all`.
    pub group_ids: Vec<Uuid>,
    pub status: ClientStatus,
    /// Who created it (a person or another client).
    pub created_by: Option<Uuid>,
    /// Until when the secret before the last rotation still works; null: it does not.
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    /// Its last authenticated use, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&ApiClient> for ApiClientView {
    fn from(client: &ApiClient) -> Self {
        let row = &client.row;
        Self {
            id: row.id.into(),
            client_id: row.client_id.clone(),
            customer_id: row.customer_id,
            name: row.name.clone(),
            scopes: row.scopes.iter().flatten().copied().collect(),
            data_scope: row.data_scope,
            group_ids: client.groups.clone(),
            status: row.status,
            created_by: row.created_by,
            previous_secret_valid_until: row.previous_secret_valid_until,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl Tracked for ApiClientView {
    const TARGET: Target = Target::ApiClient;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, self.customer_id)
    }

    fn location(&self) -> String {
        match self.customer_id {
            Some(customer_id) => format!("/v1/customers/{customer_id}/api-clients/{}", self.id),
            None => format!("/v1/api-clients/{}", self.id),
        }
    }

    /// As visible as a person with its groups: its scopes show what it may do in them.
    fn visibility(&self) -> Visibility {
        Visibility::person(self.data_scope, &self.group_ids)
    }

    /// Without `last_used_at`: the client being used changes nothing an edit could overwrite.
    fn etag(&self) -> String {
        let mut shown = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = shown.as_object_mut() {
            fields.remove("last_used_at");
        }
        crate::etag::of_view(&shown)
    }
}

impl Plain for ApiClient {
    type View = ApiClientView;
}

/// A client with its secret, shown once: at creation and after a rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d80", "client_id": "dgc_Yk3n0Qw8Rr2mZt1VbQ9x",
    "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "name": "ERP provisioning",
    "scopes": ["users.manage"], "data_scope": "all", "group_ids": [], "status": "active",
    "created_by": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50", "previous_secret_valid_until": null,
    "last_used_at": null, "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-01T08:00:00Z",
    "client_secret": "dgcs_3q2-7wE0m2x9Q4b8Yz6T1k5JvN0pL7cR4sU8aHdFgWo"
}))]
pub struct ApiClientWithSecret {
    pub id: Uuid,
    pub client_id: String,
    pub customer_id: Option<Uuid>,
    pub name: String,
    pub scopes: Vec<Permission>,
    pub data_scope: DataScope,
    pub group_ids: Vec<Uuid>,
    pub status: ClientStatus,
    pub created_by: Option<Uuid>,
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `dgcs_` and 256 random bits (base64url): store it like a password; it is never shown
    /// again, only its SHA-256 hash is kept. `null` in a replay of the creation
    /// (`Idempotency-Key`), which has no secret to show: rotate it (`POST .../secret`).
    pub client_secret: Option<String>,
}

impl ApiClientWithSecret {
    pub fn new(view: ApiClientView, client_secret: Option<String>) -> Self {
        let ApiClientView {
            id,
            client_id,
            customer_id,
            name,
            scopes,
            data_scope,
            group_ids,
            status,
            created_by,
            previous_secret_valid_until,
            last_used_at,
            created_at,
            updated_at,
        } = view;
        Self {
            id,
            client_id,
            customer_id,
            name,
            scopes,
            data_scope,
            group_ids,
            status,
            created_by,
            previous_secret_valid_until,
            last_used_at,
            created_at,
            updated_at,
            client_secret,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ERP provisioning", "scopes": ["users.manage"]}))]
pub struct CreateApiClient {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Permissions of the catalog, each one the creator holds itself (422 naming `scopes[i]`
    /// otherwise).
    pub scopes: Vec<Permission>,
    /// The groups whose data it sees (of the client's customer); omitted: the creator's own
    /// when it is limited to groups, else none. Not for platform clients.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub group_ids: Option<Vec<Uuid>>,
    /// Omitted: `groups` when it gets groups (or its creator is limited to groups), else
    /// `all`. `groups` with no `group_ids`: untagged data only. `all` with `group_ids` is a
    /// 422 on `data_scope`, and only a creator who sees all data may give `all` (422).
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub data_scope: Option<DataScope>,
}

/// A JSON merge-patch; every field is optional. `status: revoked` revokes for good: the client
/// and every token of it stop working at once.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ERP provisioning (SAP)", "scopes": ["users.manage", "orders.view"]}))]
pub struct PatchApiClient {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub scopes: Option<Vec<Permission>>,
    /// Its groups become exactly these; joining a group makes an `all` client `groups`, and
    /// `[]` keeps `groups` (untagged data only): leaving groups never widens.
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub group_ids: Option<Vec<Uuid>>,
    /// `all` widens (its groups go; audited as `access.widened`); `groups` narrows an `all`
    /// client (to the `group_ids` given, else none).
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub data_scope: Option<DataScope>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "crate::extract::not_null")]
    pub status: Option<ClientStatus>,
}

/// A long-lived token of an API client (never its value, which is shown once).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d90", "api_client_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d80",
    "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "name": "Entra ID SCIM connector",
    "expires_at": null, "last_used_at": "2026-11-23T09:30:00Z", "created_at": "2026-11-01T08:00:00Z"
}))]
pub struct ApiClientTokenView {
    pub id: Uuid,
    pub api_client_id: Uuid,
    /// The client's customer; null for a platform client.
    pub customer_id: Option<Uuid>,
    pub name: String,
    /// When it stops working; null: never (until revoked).
    pub expires_at: Option<DateTime<Utc>>,
    /// Its last use, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&TokenRow> for ApiClientTokenView {
    fn from(row: &TokenRow) -> Self {
        Self {
            id: row.id.into(),
            api_client_id: row.api_client_id.into(),
            customer_id: row.customer_id,
            name: row.name.clone(),
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
        }
    }
}

/// A token with the client's data scope and groups, which decide who may see events about it.
pub struct Token {
    pub row: TokenRow,
    pub data_scope: DataScope,
    pub groups: Vec<Uuid>,
}

impl Viewed for Token {
    type View = TokenEventView;

    fn view(&self, _: &mut PgConnection) -> Result<TokenEventView, AppError> {
        Ok(TokenEventView {
            token: ApiClientTokenView::from(&self.row),
            data_scope: self.data_scope,
            groups: self.groups.clone(),
        })
    }
}

/// What the write path audits and answers for a token: its view, as visible as its client.
#[derive(Debug, Clone, Serialize)]
pub struct TokenEventView {
    #[serde(flatten)]
    pub token: ApiClientTokenView,
    #[serde(skip)]
    pub data_scope: DataScope,
    #[serde(skip)]
    pub groups: Vec<Uuid>,
}

impl Tracked for TokenEventView {
    const TARGET: Target = Target::ApiClientToken;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.token.id, self.token.customer_id)
    }

    fn location(&self) -> String {
        let (client, id) = (self.token.api_client_id, self.token.id);
        match self.token.customer_id {
            Some(customer_id) => format!("/v1/customers/{customer_id}/api-clients/{client}/tokens/{id}"),
            None => format!("/v1/api-clients/{client}/tokens/{id}"),
        }
    }

    fn visibility(&self) -> Visibility {
        Visibility::person(self.data_scope, &self.groups)
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Entra ID SCIM connector", "expires_at": "2027-12-01T00:00:00Z"}))]
pub struct CreateApiClientToken {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "not_blank")
    )]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// When it stops working (in the future); omitted or null: never, until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new long-lived token with its value, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d90", "api_client_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d80",
    "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "name": "Entra ID SCIM connector",
    "expires_at": null, "last_used_at": null, "created_at": "2026-11-01T08:00:00Z",
    "token": "dgt_TTZCxKYIG2XgafHCT5tbLMMM8Nqo5pxMS4CSz11R458"
}))]
pub struct ApiClientTokenWithValue {
    pub id: Uuid,
    pub api_client_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// `dgt_` and 256 random bits: send it as `Authorization: Bearer <token>`. Only its SHA-256
    /// hash is kept. `null` in a replay of the creation (`Idempotency-Key`), which has no token
    /// to show: revoke this one and create another.
    pub token: Option<String>,
}

impl ApiClientTokenWithValue {
    pub fn new(view: ApiClientTokenView, token: Option<String>) -> Self {
        let ApiClientTokenView { id, api_client_id, customer_id, name, expires_at, last_used_at, created_at } =
            view;
        Self { id, api_client_id, customer_id, name, expires_at, last_used_at, created_at, token }
    }
}
