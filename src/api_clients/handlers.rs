//! `/v1/customers/{customer_id}/api-clients[...]` (staff, or `users.manage`) and the platform's
//! `/v1/api-clients[...]` (platform admins). Both kinds share one implementation: each pair of
//! handlers authorizes for its owner (a customer, or the platform) and calls it.
//!
//! A client is as visible as a person with its groups: for a caller limited to groups, a
//! client it does not cover ([`policy::covers`]) is a 404 like a missing one.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::dto::{
    ApiClientTokenView, ApiClientTokenWithValue, ApiClientView, ApiClientWithSecret, CreateApiClient,
    CreateApiClientToken, PatchApiClient, Token,
};
use super::models::{ApiClient, ApiClientChanges, NewApiClient, NewToken};
use super::{queries, rules};
use crate::accounts::Actor;
use crate::audit;
use crate::customers::queries as customers;
use crate::db::ids::{ApiClientId, ApiClientTokenId, CustomerId};
use crate::db::{self};
use crate::error::{AppError, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::{Json, NoBody};
use crate::idempotency::{Idempotent, Key, KeyHeader, Recorded};
use crate::identity::clients::{self, ClientStatus};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action};
use crate::secrets::new_secret;
use crate::state::AppState;
use crate::users::models::{Access, AccessRequest};
use crate::write::{self, Deleted, Tagged, Tracked};

/// 404 unless the caller may manage `owner`'s clients (a customer it sees), 403 unless it may
/// act there.
fn authorize(actor: &Actor, owner: Option<CustomerId>) -> Result<(), AppError> {
    match owner {
        Some(customer_id) => policy::require(actor, Action::ManageApiClients, customer_id),
        None => policy::require_global(actor, Action::ManagePlatformClients),
    }
}

fn uuid_of(owner: Option<CustomerId>) -> Option<Uuid> {
    owner.map(Uuid::from)
}

/// The client, locked, if the caller covers it.
fn lock_visible(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    owner: Option<CustomerId>,
    id: ApiClientId,
) -> Result<ApiClient, AppError> {
    let client = queries::lock(conn, uuid_of(owner), id)?;
    policy::require_covers(actor, client.row.data_scope, &client.groups)?;
    Ok(client)
}

async fn list(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    page: Page,
) -> Result<web::Json<List<ApiClientView>>, AppError> {
    authorize(&actor, owner)?;
    let rows = db::run(&state.pool, move |conn| {
        if let Some(customer_id) = owner {
            customers::exists(conn, customer_id)?;
        }
        queries::list(conn, uuid_of(owner), page, |client| {
            policy::covers(&actor, client.row.data_scope, &client.groups)
        })
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |c| c.row.id.into(), |c| ApiClientView::from(&c))))
}

async fn create(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    key: Key,
    body: CreateApiClient,
) -> Result<Recorded, AppError> {
    authorize(&actor, owner)?;
    rules::check_scopes(&actor, &body.scopes)?;
    let asked = AccessRequest { data_scope: body.data_scope, group_ids: body.group_ids };
    let access = rules::access_for(&actor, uuid_of(owner), asked)?;
    let (secret, secret_hash) = new_secret(clients::SECRET_PREFIX)?;
    // The public id is random too (it need not be secret, but must not be guessable from the
    // order clients were made in); its hash is not needed.
    let (client_id, _) = new_secret(clients::CLIENT_ID_PREFIX)?;
    let new = NewApiClient {
        customer_id: uuid_of(owner),
        id: ApiClientId::new(),
        client_id,
        name: body.name.trim().to_owned(),
        scopes: rules::stored(&body.scopes),
        status: ClientStatus::Active,
        created_by: Some(actor.id()),
        secret_hash,
        data_scope: access.data_scope,
    };
    let action = audit::Action::ApiClientCreated;
    let shown = ApiClientWithSecret::new;
    write::create_revealing(
        state,
        &actor,
        key,
        action,
        secret,
        move |conn| {
            if let Some(customer_id) = owner {
                customers::hold(conn, customer_id)?;
                crate::users::rules::check_groups(conn, customer_id, &access.group_ids)?;
            }
            let mut row = queries::insert(conn, &new)?;
            let groups = match owner {
                Some(customer_id) => {
                    let groups = queries::set_access(conn, customer_id.into(), row.id, &access)?;
                    row.data_scope = access.data_scope;
                    groups
                }
                None => Vec::new(),
            };
            Ok::<_, AppError>(ApiClient { row, groups })
        },
        shown,
    )
    .await
}

async fn read(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: ApiClientId,
) -> Result<Tagged<ApiClientView>, AppError> {
    authorize(&actor, owner)?;
    let client = db::run(&state.pool, move |conn| queries::find(conn, uuid_of(owner), id)).await?;
    policy::require_covers(&actor, client.row.data_scope, &client.groups)?;
    Ok(Tagged::ok(ApiClientView::from(&client)))
}

async fn update(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: ApiClientId,
    if_match: IfMatch,
    patch: PatchApiClient,
) -> Result<Tagged<ApiClientView>, AppError> {
    authorize(&actor, owner)?;
    if let Some(scopes) = &patch.scopes {
        rules::check_scopes(&actor, scopes)?;
    }
    let asked = AccessRequest { data_scope: patch.data_scope, group_ids: patch.group_ids };
    let asks_access = asked.data_scope.is_some() || asked.group_ids.is_some();
    let revoking = patch.status == Some(ClientStatus::Revoked);
    let changes = ApiClientChanges {
        name: patch.name.map(|name| name.trim().to_owned()),
        scopes: patch.scopes.as_deref().map(rules::stored),
        status: None,
    };
    let asked_status = patch.status;
    let action = if revoking { audit::Action::ApiClientRevoked } else { audit::Action::ApiClientUpdated };
    let lock_actor = actor.clone();
    let lock_actor_change = actor.clone();
    let lock = move |conn: &mut _| lock_visible(conn, &lock_actor, owner, id);
    let change = move |conn: &mut diesel::PgConnection, before: ApiClient| {
        if before.row.status == ClientStatus::Revoked {
            // Asking a revoked client to be revoked again changes nothing; anything else is
            // refused, since revocation is final.
            let only_revoke = asked_status == Some(ClientStatus::Revoked)
                && changes.name.is_none()
                && changes.scopes.is_none()
                && !asks_access;
            if only_revoke {
                return Ok(before);
            }
            rules::require_active(before.row.status)?;
        }
        let current = Access { data_scope: before.row.data_scope, group_ids: before.groups.clone() };
        let after = rules::access_after(&lock_actor_change, uuid_of(owner), &current, asked)?;
        let mut row = queries::update(conn, id, &changes)?;
        let groups = match (after, owner) {
            (Some(after), Some(customer_id)) => {
                crate::users::rules::check_groups(conn, customer_id, &after.group_ids)?;
                let groups = queries::set_access(conn, customer_id.into(), id, &after)?;
                row.data_scope = after.data_scope;
                groups
            }
            _ => before.groups.clone(),
        };
        if asked_status == Some(ClientStatus::Revoked) {
            row = queries::revoke(conn, id)?;
        }
        let widened = audit::widened(
            audit::Target::ApiClient,
            id.into(),
            row.customer_id,
            (before.row.data_scope, &before.groups),
            (row.data_scope, &groups),
        );
        if let Some(event) = widened {
            audit::record(conn, &audit::Author::from(&lock_actor_change), event)?;
        }
        Ok::<_, AppError>(ApiClient { row, groups })
    };
    write::update(state, &actor, action, if_match, lock, change).await
}

async fn remove(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: ApiClientId,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    authorize(&actor, owner)?;
    let lock_actor = actor.clone();
    let lock = move |conn: &mut _| lock_visible(conn, &lock_actor, owner, id);
    let remove = move |conn: &mut _, _| queries::delete(conn, id);
    write::delete(state, &actor, audit::Action::ApiClientDeleted, if_match, lock, remove).await
}

async fn rotate(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: ApiClientId,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    authorize(&actor, owner)?;
    let (secret, secret_hash) = new_secret(clients::SECRET_PREFIX)?;
    let overlap = state.config.api_client_secret_overlap;
    let previous_valid_until = (!overlap.is_zero())
        .then(|| chrono::Duration::from_std(overlap).ok())
        .flatten()
        .map(|overlap| state.config.clock.now() + overlap);
    let lock_actor = actor.clone();
    let lock = move |conn: &mut _| lock_visible(conn, &lock_actor, owner, id);
    let change = move |conn: &mut diesel::PgConnection, before: ApiClient| {
        rules::require_active(before.row.status)?;
        let row = queries::rotate_secret(conn, id, &secret_hash, previous_valid_until)?;
        Ok::<_, AppError>(ApiClient { row, groups: before.groups })
    };
    let tagged =
        write::update(state, &actor, audit::Action::ApiClientSecretRotated, if_match, lock, change).await?;
    let view = tagged.view().ok_or_else(|| AppError::internal("an update answers with its view"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, view.etag()))
        .json(ApiClientWithSecret::new(view.clone(), Some(secret))))
}

async fn list_tokens(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: ApiClientId,
    page: Page,
) -> Result<web::Json<List<ApiClientTokenView>>, AppError> {
    authorize(&actor, owner)?;
    let rows = db::run(&state.pool, move |conn| {
        let client = queries::find(conn, uuid_of(owner), id)?;
        policy::require_covers(&actor, client.row.data_scope, &client.groups)?;
        Ok::<_, AppError>(queries::tokens(conn, id, page)?)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |t| t.id.into(), |t| ApiClientTokenView::from(&t))))
}

async fn create_token(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: ApiClientId,
    key: Key,
    body: CreateApiClientToken,
) -> Result<Recorded, AppError> {
    authorize(&actor, owner)?;
    if body.expires_at.is_some_and(|at| at <= state.config.clock.now()) {
        return Err(AppError::field("expires_at", FieldCode::Invalid, "must be in the future"));
    }
    let (token, token_hash) = new_secret(clients::TOKEN_PREFIX)?;
    let name = body.name.trim().to_owned();
    let expires_at = body.expires_at;
    let lock_actor = actor.clone();
    let action = audit::Action::ApiClientTokenCreated;
    let shown = |view: super::dto::TokenEventView, token| ApiClientTokenWithValue::new(view.token, token);
    write::create_revealing(
        state,
        &actor,
        key,
        action,
        token,
        move |conn| {
            let client = lock_visible(conn, &lock_actor, owner, id)?;
            rules::require_active(client.row.status)?;
            let new = NewToken {
                customer_id: client.row.customer_id,
                id: ApiClientTokenId::new(),
                api_client_id: id,
                name,
                token_hash,
                expires_at,
            };
            let row = queries::insert_token(conn, &new)?;
            Ok::<_, AppError>(Token { row, data_scope: client.row.data_scope, groups: client.groups })
        },
        shown,
    )
    .await
}

async fn revoke_token(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    (id, token_id): (ApiClientId, ApiClientTokenId),
) -> Result<Deleted, AppError> {
    authorize(&actor, owner)?;
    let lock_actor = actor.clone();
    let lock = move |conn: &mut _| {
        let client = lock_visible(conn, &lock_actor, owner, id)?;
        let row = queries::lock_token(conn, id, token_id)?;
        Ok::<_, AppError>(Token { row, data_scope: client.row.data_scope, groups: client.groups })
    };
    let remove = move |conn: &mut _, _| queries::revoke_token(conn, token_id);
    write::delete(state, &actor, audit::Action::ApiClientTokenRevoked, IfMatch::none(), lock, remove).await
}

// ----- a customer's clients -------------------------------------------------------------

/// List a customer's API clients
///
/// Oldest first. Staff, or customer users with `users.manage`; a caller limited to groups sees
/// only clients limited to some of its groups. Secrets are never shown.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "listApiClients",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of API clients.", body = List<ApiClientView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/api-clients")]
pub async fn list_api_clients(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    page: Page,
) -> Result<web::Json<List<ApiClientView>>, AppError> {
    list(&state, actor, Some(customer_id.into_inner()), page).await
}

/// Create an API client
///
/// Machine credentials for the customer. `scopes` are permissions the creator holds itself
/// (422 naming `scopes[i]` otherwise); `group_ids` limit the client's data like a person's
/// groups (a caller limited to groups hands out only its own, and its clients get them by
/// default). The answer holds `client_secret`, shown this once: exchange `client_id` and it at
/// `POST /v1/oauth/token`.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "createApiClient",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateApiClient, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the secret is shown only now.", body = ApiClientWithSecret,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/customers/{customer_id}/api-clients")]
pub async fn create_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateApiClient>>,
) -> Result<Recorded, AppError> {
    create(&state, actor, Some(customer_id.into_inner()), key, body).await
}

/// Get an API client
///
/// Never its secret.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "getApiClient",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("api_client_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The API client.", body = ApiClientView, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/api-clients/{api_client_id}")]
pub async fn get_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, ApiClientId)>,
) -> Result<Tagged<ApiClientView>, AppError> {
    let (customer_id, id) = path.into_inner();
    read(&state, actor, Some(customer_id), id).await
}

/// Update or revoke an API client
///
/// JSON merge-patch of `name`, `scopes` (each one the caller holds), `group_ids` and `status`.
/// `status: revoked` is final: the client's access tokens and long-lived tokens stop working at
/// once, and a revoked client can only be deleted (409 for any other change). Honours
/// `If-Match`.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "patchApiClient",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("api_client_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchApiClient, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated API client.", body = ApiClientView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[patch("/v1/customers/{customer_id}/api-clients/{api_client_id}")]
pub async fn patch_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, ApiClientId)>,
    if_match: IfMatch,
    Json(patch): Json<PatchApiClient>,
) -> Result<Tagged<ApiClientView>, AppError> {
    let (customer_id, id) = path.into_inner();
    update(&state, actor, Some(customer_id), id, if_match, patch).await
}

/// Delete an API client
///
/// It and every token of it stop working at once. Honours `If-Match`.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "deleteApiClient",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("api_client_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/api-clients/{api_client_id}")]
pub async fn delete_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, ApiClientId)>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let (customer_id, id) = path.into_inner();
    remove(&state, actor, Some(customer_id), id, if_match).await
}

/// Rotate an API client's secret
///
/// A new `client_secret`, shown this once. The old one keeps working for the configured
/// overlap (`API_CLIENT_SECRET_OVERLAP`, default 0: it stops at once; see
/// `previous_secret_valid_until`). Access tokens already issued live on until they expire.
/// 409 for a revoked client. Honours `If-Match`.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "rotateApiClientSecret",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("api_client_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 200, description = "The client with its new secret.", body = ApiClientWithSecret,
            headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/api-clients/{api_client_id}/secret")]
pub async fn rotate_api_client_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, ApiClientId)>,
    if_match: IfMatch,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, id) = path.into_inner();
    rotate(&state, actor, Some(customer_id), id, if_match).await
}

/// List an API client's long-lived tokens
///
/// The live ones (not revoked), oldest first, with their expiry and last use; never a token's
/// value.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "listApiClientTokens",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("api_client_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of tokens.", body = List<ApiClientTokenView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/api-clients/{api_client_id}/tokens")]
pub async fn list_api_client_tokens(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, ApiClientId)>,
    page: Page,
) -> Result<web::Json<List<ApiClientTokenView>>, AppError> {
    let (customer_id, id) = path.into_inner();
    list_tokens(&state, actor, Some(customer_id), id, page).await
}

/// Create a long-lived token
///
/// For systems that can only paste a static bearer token (identity providers' SCIM
/// connectors). The answer holds `token` (`dgt_...`), shown this once; send it as
/// `Authorization: Bearer <token>`. It acts as the client with all of its scopes until it
/// expires, is revoked, or the client is revoked. 409 for a revoked client.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "createApiClientToken",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("api_client_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateApiClientToken, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the token is shown only now.", body = ApiClientTokenWithValue,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/api-clients/{api_client_id}/tokens")]
pub async fn create_api_client_token(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, ApiClientId)>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateApiClientToken>>,
) -> Result<Recorded, AppError> {
    let (customer_id, id) = path.into_inner();
    create_token(&state, actor, Some(customer_id), id, key, body).await
}

/// Revoke a long-lived token
///
/// It stops working at once.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "revokeApiClientToken",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("api_client_id" = Uuid, Path), ("token_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/api-clients/{api_client_id}/tokens/{token_id}")]
pub async fn revoke_api_client_token(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, ApiClientId, ApiClientTokenId)>,
) -> Result<Deleted, AppError> {
    let (customer_id, id, token_id) = path.into_inner();
    revoke_token(&state, actor, Some(customer_id), (id, token_id)).await
}

// ----- the platform's clients -----------------------------------------------------------

/// List platform API clients
///
/// Clients of no customer, which act as staff with their scopes. Platform admins only.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "listPlatformApiClients",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of platform API clients.", body = List<ApiClientView>),
        sets::SignedIn, sets::Query, sets::Forbidden,
    )
)]
#[get("/v1/api-clients")]
pub async fn list_platform_api_clients(
    state: web::Data<AppState>,
    actor: Actor,
    page: Page,
) -> Result<web::Json<List<ApiClientView>>, AppError> {
    list(&state, actor, None, page).await
}

/// Create a platform API client
///
/// A client of no customer: it sees every customer and acts with exactly its `scopes` (a
/// permission-based staff member: no role's privileges such as creating customers or managing
/// staff). No `group_ids`. Platform admins only. The answer holds `client_secret`, shown this
/// once.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "createPlatformApiClient",
    security(("bearer" = [])),
    params(KeyHeader),
    request_body(content = CreateApiClient, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the secret is shown only now.", body = ApiClientWithSecret,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden,
    )
)]
#[post("/v1/api-clients")]
pub async fn create_platform_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    Idempotent(key, Json(body)): Idempotent<Json<CreateApiClient>>,
) -> Result<Recorded, AppError> {
    create(&state, actor, None, key, body).await
}

/// Get a platform API client
///
/// Its name, scopes, status and last use; never its secret.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "getPlatformApiClient",
    security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The API client.", body = ApiClientView, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/api-clients/{api_client_id}")]
pub async fn get_platform_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ApiClientId>,
) -> Result<Tagged<ApiClientView>, AppError> {
    read(&state, actor, None, id.into_inner()).await
}

/// Update or revoke a platform API client
///
/// As for a customer's client; no `group_ids`. Honours `If-Match`.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "patchPlatformApiClient",
    security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchApiClient, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated API client.", body = ApiClientView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[patch("/v1/api-clients/{api_client_id}")]
pub async fn patch_platform_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ApiClientId>,
    if_match: IfMatch,
    Json(patch): Json<PatchApiClient>,
) -> Result<Tagged<ApiClientView>, AppError> {
    update(&state, actor, None, id.into_inner(), if_match, patch).await
}

/// Delete a platform API client
///
/// It and every token of it stop working at once. Honours `If-Match`.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "deletePlatformApiClient",
    security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/api-clients/{api_client_id}")]
pub async fn delete_platform_api_client(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ApiClientId>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    remove(&state, actor, None, id.into_inner(), if_match).await
}

/// Rotate a platform API client's secret
///
/// As for a customer's client. Honours `If-Match`.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "rotatePlatformApiClientSecret",
    security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 200, description = "The client with its new secret.", body = ApiClientWithSecret,
            headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/api-clients/{api_client_id}/secret")]
pub async fn rotate_platform_api_client_secret(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ApiClientId>,
    if_match: IfMatch,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    rotate(&state, actor, None, id.into_inner(), if_match).await
}

/// List a platform API client's long-lived tokens
///
/// The live ones (not revoked), oldest first, with their expiry and last use; never a token's
/// value.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "listPlatformApiClientTokens",
    security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of tokens.", body = List<ApiClientTokenView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/api-clients/{api_client_id}/tokens")]
pub async fn list_platform_api_client_tokens(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ApiClientId>,
    page: Page,
) -> Result<web::Json<List<ApiClientTokenView>>, AppError> {
    list_tokens(&state, actor, None, id.into_inner(), page).await
}

/// Create a long-lived token of a platform API client
///
/// As for a customer's client; the token is shown this once.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "createPlatformApiClientToken",
    security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateApiClientToken, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the token is shown only now.", body = ApiClientTokenWithValue,
            headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/api-clients/{api_client_id}/tokens")]
pub async fn create_platform_api_client_token(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<ApiClientId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateApiClientToken>>,
) -> Result<Recorded, AppError> {
    create_token(&state, actor, None, id.into_inner(), key, body).await
}

/// Revoke a long-lived token of a platform API client
///
/// It stops working at once.
#[utoipa::path(
    tag = "api-clients",
    operation_id = "revokePlatformApiClientToken",
    security(("bearer" = [])),
    params(("api_client_id" = Uuid, Path), ("token_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/api-clients/{api_client_id}/tokens/{token_id}")]
pub async fn revoke_platform_api_client_token(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(ApiClientId, ApiClientTokenId)>,
) -> Result<Deleted, AppError> {
    revoke_token(&state, actor, None, path.into_inner()).await
}
