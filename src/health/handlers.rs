//! Liveness, readiness and metrics for operators.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::error::AppError;
use crate::openapi::sets;
use crate::state::AppState;

crate::text_enum! {
    /// What a health endpoint found.
    pub enum Health as "HealthState" {
        /// The process is up (liveness).
        Ok = "ok",
        /// The database answers and is migrated (readiness).
        Ready = "ready",
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthStatus {
    /// `ok` (live) or `ready`.
    pub status: Health,
}

/// Liveness
///
/// The process is up. Touches nothing else.
#[utoipa::path(tag = "operations", operation_id = "healthLive", responses((status = 200, description = "Alive.", body = HealthStatus)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: Health::Ok })
}

/// How long readiness waits for a connection before it says "not ready".
const READY_WAIT: Duration = Duration::from_secs(2);

/// Readiness
///
/// The database answers and has every migration this build needs.
#[utoipa::path(
    tag = "operations",
    operation_id = "healthReady",
    responses(
        (status = 200, description = "Ready to serve.", body = HealthStatus),
        sets::Served,
    )
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    db::run_waiting(&state.pool, READY_WAIT, |conn| {
        // db::Manager refuses servers in recovery on connect, but behind a pooler (PgBouncer,
        // HAProxy) a kept connection can end up on a demoted server: ready means a primary.
        if db::in_recovery(conn).map_err(|e| AppError::Unavailable(format!("cannot ask the server: {e}")))? {
            return Err(AppError::Unavailable("the database server is in recovery (read-only)".into()));
        }
        if db::migrations_applied(conn)? {
            Ok(())
        } else {
            Err(AppError::Unavailable("migrations are pending".into()))
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(HealthStatus { status: Health::Ready }))
}

/// Prometheus metrics
///
/// Requests by method, route template and status; latency histograms; database pool state.
/// Open unless `METRICS_TOKEN` is set, then it needs `Authorization: Bearer <METRICS_TOKEN>`.
#[utoipa::path(
    tag = "operations",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text format.", body = String, content_type = "text/plain; version=0.0.4"),
        sets::Credentials,
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    if let Some(expected) = &state.config.metrics_token {
        let presented =
            req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let expected = format!("Bearer {}", expected.expose_secret());
        // Constant-time enough: compare digests, not the secret byte by byte.
        use sha2::{Digest, Sha256};
        if Sha256::digest(presented.as_bytes()) != Sha256::digest(expected.as_bytes()) {
            return Err(AppError::Unauthorized("This endpoint needs the metrics bearer token."));
        }
    }
    let pool_state = state.pool.state();
    state.metrics.pool_connections.set(i64::from(pool_state.connections));
    state.metrics.pool_idle.set(i64::from(pool_state.idle_connections));
    state.metrics.pool_max.set(i64::from(state.pool.max_size()));
    // Scraping still works while the database is away; the outbox gauges then keep their last value.
    let depth = db::run_waiting(&state.pool, READY_WAIT, crate::mail::outbox::depth);
    match depth.await {
        Ok((pending, failed)) => {
            state.metrics.mail_pending.set(pending);
            state.metrics.mail_failed.set(failed);
        }
        Err(error) => tracing::warn!(%error, "cannot count the mail outbox for the metrics"),
    }
    let depth = db::run_waiting(&state.pool, READY_WAIT, crate::webhooks::deliveries::depth);
    match depth.await {
        Ok((pending, failed)) => {
            state.metrics.webhook_pending.set(pending);
            state.metrics.webhook_failed.set(failed);
        }
        Err(error) => tracing::warn!(%error, "cannot count the webhook deliveries for the metrics"),
    }
    let body = prometheus::TextEncoder::new()
        .encode_to_string(&state.metrics.registry.gather())
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body))
}
