//! Acceptance of lifecycle webhooks (issue 15), black-box: an admin points an endpoint at a real
//! receiving HTTP server, people are created and changed over the API, and what the receiver
//! gets is checked against Standard Webhooks 1.0 with this module's own HMAC, never the
//! service's. Time moves on the injected clock; the only waiting is polling.
//!
//! Beside these, written with the parts they test: [`rest_api`] (the endpoints' resource),
//! [`events_emitted`] (which change emits what, read from the outbox) and [`worker`] (delivery
//! against endpoints written straight into the database).

mod delivery;
mod emission;
mod endpoints;
mod events_emitted;
mod metrics;
mod rest_api;
mod retention;
mod signing;
mod ssrf;
mod tenancy;
mod worker;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dockgate::clock::Clock;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::helpers::{Actor, Received, Receiver, TestApp, id_of, json_of};

/// A customer with an admin who manages its webhooks, on an app whose clock the test holds.
pub struct World {
    pub app: TestApp,
    pub clock: Clock,
    /// The platform admin who made the customer.
    pub staff: Actor,
    pub customer: Uuid,
    /// A customer admin (role admin, data scope all): may manage the customer's webhooks.
    pub admin: Actor,
}

impl World {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut dockgate::Config)) -> Self {
        let (app, clock) = app_with_clock(adjust).await;
        let staff = app.admin().await;
        let customer = id_of(&staff.create_customer("Acme Webhooks").await);
        let admin = app.customer_user(customer, dockgate::permissions::Role::Admin, &[]).await;
        Self { app, clock, staff, customer, admin }
    }

    /// `/v1/customers/{customer}/webhooks` and what follows it.
    pub fn path(&self, rest: &str) -> String {
        hooks_of(self.customer, rest)
    }

    /// The customer admin creates an endpoint for `url` listening to `event_types` (None: all).
    pub async fn endpoint(&self, url: &str, event_types: Option<&[&str]>) -> Endpoint {
        create(&self.admin, &self.path(""), url, event_types).await
    }

    /// The admin adds a person (which emits `user.created`); returns its view.
    pub async fn add_person(&self, name: &str) -> Value {
        self.admin.add_person(self.customer, name, json!({})).await
    }
}

/// An app whose clock the test holds, so it can move time instead of waiting.
pub async fn app_with_clock(adjust: impl FnOnce(&mut dockgate::Config)) -> (TestApp, Clock) {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| {
        clock = Some(config.clock.clone());
        adjust(config);
    })
    .await;
    (app, clock.expect("the clock"))
}

pub fn hooks_of(customer: Uuid, rest: &str) -> String {
    format!("/v1/customers/{customer}/webhooks{rest}")
}

/// An endpoint as its creation answered: its view, its path and the secret shown once.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub view: Value,
    pub id: Uuid,
    /// `.../webhooks/{id}`.
    pub path: String,
    pub secret: String,
}

impl Endpoint {
    pub fn deliveries(&self) -> String {
        format!("{}/deliveries", self.path)
    }
}

/// `POST collection {url, event_types}`, which must answer 201 with the secret.
pub async fn create(actor: &Actor, collection: &str, url: &str, event_types: Option<&[&str]>) -> Endpoint {
    let mut body = json!({"url": url});
    if let Some(types) = event_types {
        body["event_types"] = json!(types);
    }
    let view = json_of(actor.post(collection, &body).await, StatusCode::CREATED).await;
    let secret = view["secret"].as_str().unwrap_or_else(|| panic!("the secret, once: {view}")).to_owned();
    let id = id_of(&view);
    Endpoint { path: format!("{collection}/{id}"), id, secret, view }
}

/// The HMAC key of a `whsec_` secret: the base64 after the prefix, decoded (Standard Webhooks).
pub fn key_of(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or_else(|| panic!("a whsec_ secret: {secret}"));
    STANDARD.decode(encoded).expect("a base64 secret")
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, computed here from the spec.
pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_of(secret)).expect("any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The signatures of `webhook-signature` (space-separated).
pub fn signatures(request: &Received) -> Vec<String> {
    request.header("webhook-signature").split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Whether one of the request's signatures is `secret`'s over its id, timestamp and raw body.
pub fn signed_by(request: &Received, secret: &str) -> bool {
    let expected =
        sign(secret, request.header("webhook-id"), request.header("webhook-timestamp"), &request.body);
    signatures(request).contains(&expected)
}

/// The `webhook-timestamp` as seconds; it must be within 5 minutes of this machine's time
/// (what receivers check), whatever the service's test clock says.
pub fn timestamp_of(request: &Received) -> i64 {
    let raw = request.header("webhook-timestamp");
    let seconds: i64 = raw.parse().unwrap_or_else(|_| panic!("integer seconds: {raw:?}"));
    let now = chrono::Utc::now().timestamp();
    assert!((seconds - now).abs() <= 300, "webhook-timestamp {seconds} is the system time (now {now})");
    seconds
}

/// The requests whose body has `type` = `event_type`.
pub fn of_type(received: &[Received], event_type: &str) -> Vec<Received> {
    received.iter().filter(|r| r.json()["type"] == event_type).cloned().collect()
}

/// Every delivery of an endpoint's log (newest first), walked 50 a page.
pub async fn deliveries(actor: &Actor, endpoint: &Endpoint) -> Vec<Value> {
    actor.walk(&endpoint.deliveries(), 50).await
}

/// Polls the delivery log until `check` holds of it (up to 10 s); returns it.
pub async fn log_until(
    actor: &Actor,
    endpoint: &Endpoint,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = deliveries(actor, endpoint).await;
        if check(&log) {
            return log;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {log:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls an endpoint's view until `check` holds (up to 10 s); returns it.
pub async fn view_until(actor: &Actor, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let view = json_of(actor.get(path).await, StatusCode::OK).await;
        if check(&view) {
            return view;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Watches `receiver` for `window` (several worker polls) and asserts it gets no more than
/// `n` requests: what "not yet retried" looks like without a sleep standing in for a check.
pub async fn stays_at(receiver: &Receiver, n: usize, window: Duration, why: &str) {
    let deadline = tokio::time::Instant::now() + window;
    while tokio::time::Instant::now() < deadline {
        let got = receiver.received().len();
        assert!(got <= n, "{why}: {got} requests, expected {n}: {:#?}", receiver.received());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Seconds between two RFC 3339 instants of a view.
pub fn seconds_between(from: &Value, to: &Value) -> f64 {
    let parse = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("an instant: {v}")))
            .expect("RFC 3339")
    };
    (parse(to) - parse(from)).num_milliseconds() as f64 / 1000.0
}

/// `msg_` + the simple form of a UUID.
pub fn is_message_id(id: &str) -> bool {
    id.strip_prefix("msg_").is_some_and(|rest| rest.len() == 32 && Uuid::parse_str(rest).is_ok())
}

/// The problem type's kind (`urn:dockgate:problem:<kind>`), with `_` read as `-`.
pub fn problem_kind(problem: &Value) -> String {
    problem["type"].as_str().unwrap_or_default().trim_start_matches("urn:dockgate:problem:").replace('_', "-")
}
