//! What the handlers of a customer's webhooks ([`super::customer`]: staff who see the customer,
//! or `users.manage` with the data scope `all`) and of the platform's ([`super::platform`]:
//! platform admins) share: each authorizes for its owner and calls one of these; and the
//! catalog `/v1/webhook-event-types`. Another owner's endpoint, or a delivery of another
//! endpoint, is a 404 like a missing one.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use uuid::Uuid;

use super::dto::{
    CreateWebhook, DeliveryFilters, PatchWebhook, WebhookDelivery, WebhookEndpoint,
    WebhookEndpointWithSecret, WebhookEventTypes,
};
use super::models::{EndpointChanges, EndpointRow, NewEndpoint};
use super::{queries, rules};
use crate::accounts::Actor;
use crate::audit;
use crate::customers::queries as customers;
use crate::db;
use crate::db::ids::{CustomerId, WebhookDeliveryId, WebhookEndpointId};
use crate::error::AppError;
use crate::etag::IfMatch;
use crate::idempotency::{Key, Recorded};
use crate::openapi::sets;
use crate::pagination::{List, Page};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::webhooks::{self, EventType};
use crate::write::{self, Deleted, Tagged, Tracked};

/// How long a rotated-out secret keeps signing: receivers have a day to deploy the new one.
const SECRET_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// 404 unless the caller sees `owner` (a customer), 403 unless it may manage its webhooks.
fn authorize(actor: &Actor, owner: Option<CustomerId>) -> Result<(), AppError> {
    match owner {
        Some(customer_id) => policy::require(actor, Action::ManageWebhooks, customer_id),
        None => policy::require_global(actor, Action::ManagePlatformWebhooks),
    }
}

fn uuid_of(owner: Option<CustomerId>) -> Option<Uuid> {
    owner.map(Uuid::from)
}

pub(super) async fn list(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    page: Page,
) -> Result<web::Json<List<WebhookEndpoint>>, AppError> {
    authorize(&actor, owner)?;
    let rows = db::run(&state.pool, move |conn| {
        if let Some(customer_id) = owner {
            customers::exists(conn, customer_id)?;
        }
        queries::list(conn, uuid_of(owner), page)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |r| r.id.into(), |r| WebhookEndpoint::from(&r))))
}

pub(super) async fn create(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    key: Key,
    body: CreateWebhook,
) -> Result<Recorded, AppError> {
    authorize(&actor, owner)?;
    let event_types = rules::stored(body.event_types.as_deref())?;
    let url = rules::check_url(&state.config.webhooks, &body.url).await?;
    let secret = webhooks::new_secret().map_err(AppError::internal)?;
    let new = NewEndpoint {
        id: WebhookEndpointId::new(),
        customer_id: uuid_of(owner),
        url,
        event_types,
        secret: secret.clone(),
        created_by: Some(actor.id()),
    };
    let insert = move |conn: &mut diesel::PgConnection| {
        if let Some(customer_id) = owner {
            customers::hold(conn, customer_id)?;
        }
        queries::insert(conn, &new)
    };
    let action = audit::Action::WebhookCreated;
    write::create_revealing(state, &actor, key, action, secret, insert, WebhookEndpointWithSecret::new).await
}

pub(super) async fn read(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: WebhookEndpointId,
) -> Result<Tagged<WebhookEndpoint>, AppError> {
    authorize(&actor, owner)?;
    let row = db::run(&state.pool, move |conn| queries::find(conn, uuid_of(owner), id)).await?;
    Ok(Tagged::ok(WebhookEndpoint::from(&row)))
}

pub(super) async fn update(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: WebhookEndpointId,
    if_match: IfMatch,
    patch: PatchWebhook,
) -> Result<Tagged<WebhookEndpoint>, AppError> {
    authorize(&actor, owner)?;
    let event_types = match &patch.event_types {
        None => None,
        Some(types) => Some(rules::stored(types.as_deref())?),
    };
    // Resolving may take seconds: before the transaction, never inside it.
    let url = match &patch.url {
        Some(raw) => Some(rules::check_url(&state.config.webhooks, raw).await?),
        None => None,
    };
    let lock = move |conn: &mut _| queries::lock(conn, uuid_of(owner), id);
    let change = move |conn: &mut diesel::PgConnection, before: EndpointRow| {
        let mut changes = EndpointChanges { url, event_types, ..Default::default() };
        if let Some(status) = patch.status {
            rules::status_change(&mut changes, status, before.status);
        }
        queries::update(conn, id, &changes)
    };
    write::update(state, &actor, audit::Action::WebhookUpdated, if_match, lock, change).await
}

pub(super) async fn remove(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: WebhookEndpointId,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    authorize(&actor, owner)?;
    let lock = move |conn: &mut _| queries::lock(conn, uuid_of(owner), id);
    let remove = move |conn: &mut _, _| queries::delete(conn, id);
    write::delete(state, &actor, audit::Action::WebhookDeleted, if_match, lock, remove).await
}

pub(super) async fn rotate(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: WebhookEndpointId,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    authorize(&actor, owner)?;
    let secret = webhooks::new_secret().map_err(AppError::internal)?;
    let previous_expires_at = state.config.clock.now() + SECRET_OVERLAP;
    let stored = secret.clone();
    let lock = move |conn: &mut _| queries::lock(conn, uuid_of(owner), id);
    let change = move |conn: &mut diesel::PgConnection, _: EndpointRow| {
        queries::rotate_secret(conn, id, &stored, previous_expires_at)
    };
    let tagged =
        write::update(state, &actor, audit::Action::WebhookSecretRotated, if_match, lock, change).await?;
    let view = tagged.view().ok_or_else(|| AppError::internal("an update answers with its view"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, view.etag()))
        .json(WebhookEndpointWithSecret::new(view.clone(), Some(secret))))
}

pub(super) async fn deliveries(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: WebhookEndpointId,
    filters: DeliveryFilters,
    page: Page,
) -> Result<web::Json<List<WebhookDelivery>>, AppError> {
    authorize(&actor, owner)?;
    let rows = db::run(&state.pool, move |conn| {
        queries::find(conn, uuid_of(owner), id)?;
        queries::deliveries(conn, id, filters.status, page)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |d| d.row.id.into(), |d| WebhookDelivery::from(&d))))
}

/// Retry and test are not changes of the endpoint (nothing to audit): they queue a delivery.
pub(super) async fn retry(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    (id, delivery): (WebhookEndpointId, WebhookDeliveryId),
) -> Result<HttpResponse, AppError> {
    authorize(&actor, owner)?;
    // Due now on the clock the outbox is scheduled by (the database's, plus the test offset).
    let due = state.config.clock.now();
    let view = db::transaction(&state.pool, move |conn| {
        let endpoint = queries::lock(conn, uuid_of(owner), id)?;
        queries::delivery(conn, id, delivery)?;
        rules::require_active(endpoint.status)?;
        queries::retry(conn, id, delivery, due)?;
        Ok(WebhookDelivery::from(&queries::delivery(conn, id, delivery)?))
    })
    .await?;
    Ok(HttpResponse::Accepted().json(view))
}

pub(super) async fn test(
    state: &AppState,
    actor: Actor,
    owner: Option<CustomerId>,
    id: WebhookEndpointId,
) -> Result<HttpResponse, AppError> {
    authorize(&actor, owner)?;
    let view = db::transaction(&state.pool, move |conn| {
        let endpoint = queries::lock(conn, uuid_of(owner), id)?;
        rules::require_active(endpoint.status)?;
        let data = serde_json::json!({ "webhook_id": Uuid::from(id) });
        let delivery =
            webhooks::emit_to(conn, id.into(), endpoint.customer_id, EventType::WebhookTest, &data)?;
        Ok(WebhookDelivery::from(&queries::delivery(conn, id, delivery.into())?))
    })
    .await?;
    Ok(HttpResponse::Accepted().json(view))
}

// ----- the catalog ----------------------------------------------------------------------

/// List the webhook event types
///
/// Every type an endpoint can hear, with when it is sent and what its `data` is (the payloads
/// are in this document's `webhooks`). Any signed-in caller.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhookEventTypes",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event catalog.", body = WebhookEventTypes),
        sets::SignedIn,
    )
)]
#[get("/v1/webhook-event-types")]
pub async fn list_webhook_event_types(_actor: Actor) -> web::Json<WebhookEventTypes> {
    web::Json(WebhookEventTypes::all())
}
