//! Queries on `webhook_endpoints` and `webhook_deliveries`. Every endpoint query is keyed by the
//! owner first (a customer, or "no customer" for the platform's), so another owner's endpoint is
//! simply not found; a delivery is found only through its endpoint.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use uuid::Uuid;

use super::models::{Delivery, DeliveryRow, DeliveryStatus, EndpointChanges, EndpointRow, NewEndpoint};
use crate::db::ids::{WebhookDeliveryId, WebhookEndpointId};
use crate::db::schema::{webhook_deliveries as wd, webhook_endpoints as we, webhook_events as ev};
use crate::pagination::Page;
use crate::webhooks::EventType;

type Owned<'a> = we::BoxedQuery<'a, diesel::pg::Pg>;

fn owned<'a>(owner: Option<Uuid>) -> Owned<'a> {
    match owner {
        Some(customer_id) => we::table.filter(we::customer_id.eq(customer_id)).into_boxed(),
        None => we::table.filter(we::customer_id.is_null()).into_boxed(),
    }
}

/// A page of `owner`'s endpoints, oldest first.
pub fn list(conn: &mut PgConnection, owner: Option<Uuid>, page: Page) -> QueryResult<Vec<EndpointRow>> {
    let mut query = owned(owner).select(EndpointRow::as_select());
    if let Some(after) = page.after {
        query = query.filter(we::id.gt(WebhookEndpointId::from(after)));
    }
    query.order(we::id.asc()).limit(page.fetch()).load(conn)
}

pub fn find(conn: &mut PgConnection, owner: Option<Uuid>, id: WebhookEndpointId) -> QueryResult<EndpointRow> {
    owned(owner).filter(we::id.eq(id)).select(EndpointRow::as_select()).first(conn)
}

/// Locks the endpoint for the rest of the transaction.
pub fn lock(conn: &mut PgConnection, owner: Option<Uuid>, id: WebhookEndpointId) -> QueryResult<EndpointRow> {
    // Locking cannot be boxed, so the two owners are two queries.
    let query = we::table.filter(we::id.eq(id)).select(EndpointRow::as_select()).for_update();
    match owner {
        Some(customer_id) => query.filter(we::customer_id.eq(customer_id)).first(conn),
        None => query.filter(we::customer_id.is_null()).first(conn),
    }
}

pub fn insert(conn: &mut PgConnection, new: &NewEndpoint) -> QueryResult<EndpointRow> {
    diesel::insert_into(we::table).values(new).returning(EndpointRow::as_returning()).get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    id: WebhookEndpointId,
    changes: &EndpointChanges,
) -> QueryResult<EndpointRow> {
    diesel::update(we::table.find(id))
        .set((changes.clone(), we::updated_at.eq(diesel::dsl::now)))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
}

/// A new secret; the one it replaces keeps signing until `previous_expires_at`. A previous
/// secret still live from an earlier rotation is dropped: two secrets sign at most.
pub fn rotate_secret(
    conn: &mut PgConnection,
    id: WebhookEndpointId,
    secret: &str,
    previous_expires_at: DateTime<Utc>,
) -> QueryResult<EndpointRow> {
    diesel::update(we::table.find(id))
        .set((
            we::previous_secret.eq(we::secret.nullable()),
            we::previous_secret_expires_at.eq(Some(previous_expires_at)),
            we::secret.eq(secret),
            we::updated_at.eq(diesel::dsl::now),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
}

/// Deletes the endpoint; its deliveries go with it (cascade).
pub fn delete(conn: &mut PgConnection, id: WebhookEndpointId) -> QueryResult<()> {
    diesel::delete(we::table.find(id)).execute(conn).map(drop)
}

/// A page of the endpoint's deliveries, newest first (the index `webhook_deliveries_endpoint`).
pub fn deliveries(
    conn: &mut PgConnection,
    endpoint: WebhookEndpointId,
    status: Option<DeliveryStatus>,
    page: Page,
) -> QueryResult<Vec<Delivery>> {
    let mut query = wd::table
        .inner_join(ev::table)
        .filter(wd::endpoint_id.eq(endpoint))
        .select((DeliveryRow::as_select(), ev::event_type))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(wd::status.eq(status));
    }
    if let Some(after) = page.after {
        // The cursor names the last delivery of the previous page; the next page continues
        // below it in (created_at, id) order. A cursor naming no delivery of the endpoint
        // continues nowhere.
        query = query.filter(
            sql::<Bool>(
                "(webhook_deliveries.created_at, webhook_deliveries.id) < \
                 (SELECT d.created_at, d.id FROM webhook_deliveries d WHERE d.id = ",
            )
            .bind::<SqlUuid, _>(after)
            .sql(" AND d.endpoint_id = ")
            .bind::<SqlUuid, _>(Uuid::from(endpoint))
            .sql(")"),
        );
    }
    let rows: Vec<(DeliveryRow, EventType)> =
        query.order((wd::created_at.desc(), wd::id.desc())).limit(page.fetch()).load(conn)?;
    Ok(rows.into_iter().map(|(row, event_type)| Delivery { row, event_type }).collect())
}

pub fn delivery(
    conn: &mut PgConnection,
    endpoint: WebhookEndpointId,
    id: WebhookDeliveryId,
) -> QueryResult<Delivery> {
    let (row, event_type) = wd::table
        .inner_join(ev::table)
        .filter(wd::endpoint_id.eq(endpoint))
        .filter(wd::id.eq(id))
        .select((DeliveryRow::as_select(), ev::event_type))
        .first::<(DeliveryRow, EventType)>(conn)?;
    Ok(Delivery { row, event_type })
}

/// The delivery starts afresh: pending, due at `due`, no attempts made. What the last attempt
/// answered stays visible until the next one.
pub fn retry(
    conn: &mut PgConnection,
    endpoint: WebhookEndpointId,
    id: WebhookDeliveryId,
    due: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(wd::table.filter(wd::endpoint_id.eq(endpoint)).filter(wd::id.eq(id)))
        .set((
            wd::status.eq(DeliveryStatus::Pending),
            wd::attempts.eq(0),
            wd::next_attempt_at.eq(due),
            wd::delivered_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .map(drop)
}
