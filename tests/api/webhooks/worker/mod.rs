//! Webhook delivery over real HTTP: the app's worker POSTs to a real receiver, signed as Standard
//! Webhooks 1.0 (verified here with an HMAC computed in the test), retried on the service clock
//! (moved, never slept through), refused where the SSRF policy says, once per delivery across
//! instances. Endpoints are inserted directly with a known secret and events made with
//! `webhooks::emit`, as a change's transaction would.

mod retries;
mod sending;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use dockgate::clock::Clock;
use dockgate::db::schema::{webhook_deliveries as d, webhook_endpoints as e};
use dockgate::webhooks::{self, EventType, schedule};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

pub use crate::helpers::{Received, Receiver, Reply, TestApp, eventually, id_of};

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const OLD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// An app whose clock the test holds, and a customer (made before any endpoint exists, so its
/// creation is heard by nobody).
pub async fn world(adjust: impl FnOnce(&mut dockgate::Config)) -> (TestApp, Clock, Uuid) {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| {
        clock = Some(config.clock.clone());
        adjust(config);
    })
    .await;
    let customer = id_of(&app.admin().await.create_customer("Webhook Receivers Ltd").await);
    (app, clock.expect("the clock"), customer)
}

/// An active endpoint of `customer` at `url` hearing every event, signing with [`SECRET`].
pub fn endpoint(app: &TestApp, customer: Uuid, url: &str) -> Uuid {
    let id = Uuid::now_v7();
    diesel::insert_into(e::table)
        .values((e::id.eq(id), e::customer_id.eq(customer), e::url.eq(url), e::secret.eq(SECRET)))
        .execute(&mut app.conn())
        .unwrap();
    id
}

/// A `user.updated` event of `customer`, emitted in a transaction as a change would.
pub fn emit(app: &TestApp, customer: Uuid, name: &str) {
    app.conn()
        .transaction(|conn| {
            webhooks::emit(conn, Some(customer), EventType::UserUpdated, &json!({"id": "u1", "name": name}))
        })
        .unwrap();
}

#[derive(Debug, Clone, Queryable)]
pub struct Delivery {
    pub event_id: Uuid,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_response_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The deliveries of `endpoint`, oldest first.
pub fn deliveries(app: &TestApp, endpoint: Uuid) -> Vec<Delivery> {
    d::table
        .filter(d::endpoint_id.eq(endpoint))
        .order(d::id.asc())
        .select((
            d::event_id,
            d::status,
            d::attempts,
            d::next_attempt_at,
            d::last_attempt_at,
            d::last_response_status,
            d::last_error,
            d::delivered_at,
        ))
        .load(&mut app.conn())
        .unwrap()
}

/// The only delivery of `endpoint`.
pub fn delivery(app: &TestApp, endpoint: Uuid) -> Delivery {
    let mut all = deliveries(app, endpoint);
    assert_eq!(all.len(), 1, "one delivery");
    all.remove(0)
}

/// `(status, disabled_reason, consecutive_failures)` of an endpoint.
pub fn endpoint_state(app: &TestApp, endpoint: Uuid) -> (String, Option<String>, i32) {
    e::table
        .find(endpoint)
        .select((e::status, e::disabled_reason, e::consecutive_failures))
        .first(&mut app.conn())
        .unwrap()
}

/// Whether the outcome of attempt `n` is recorded: failed, delivered, or waiting for the next
/// attempt (a claim in flight has moved `next_attempt_at` only a lease ahead of the claim, far
/// less than the schedule's wait after attempt `n`).
pub fn recorded(row: &Delivery, n: i32) -> bool {
    let Some(last) = row.last_attempt_at else { return false };
    if row.attempts != n {
        return false;
    }
    if row.status != "pending" {
        return true;
    }
    // After the last attempt nothing waits: a pending row is still in flight.
    let Some(wait) = schedule::WAITS.get(n as usize - 1) else { return false };
    (row.next_attempt_at - last).to_std().is_ok_and(|gap| gap >= wait.mul_f64(0.9))
}

/// Waits until attempt `n` of the only delivery of `endpoint` is recorded.
pub async fn after_attempt(app: &TestApp, endpoint: Uuid, n: i32) -> Delivery {
    eventually(&format!("attempt {n} to be recorded"), || {
        Some(delivery(app, endpoint)).filter(|row| recorded(row, n))
    })
    .await
}

/// Moves the clock past the longest jittered wait after attempt `n`.
pub fn past_wait(clock: &Clock, n: i32) {
    let wait = schedule::WAITS[n as usize - 1].mul_f64(1.1) + Duration::from_secs(1);
    clock.advance(chrono::Duration::from_std(wait).unwrap());
}

/// The HMAC of the specification, computed here: base64 of HMAC-SHA256 keyed with the decoded
/// secret over `{id}.{timestamp}.{body}`.
pub fn expected_signature(secret: &str, request: &Received) -> String {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        request.header("webhook-id"),
        request.header("webhook-timestamp"),
        request.text()
    );
    mac.update(signed.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}
