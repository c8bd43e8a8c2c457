//! Webhook delivery over real HTTP: the app's worker POSTs to a real receiver, signed as Standard
//! Webhooks 1.0 (verified here with an HMAC computed in the test), retried on the service clock
//! (moved, never slept through), refused where the SSRF policy says, once per delivery across
//! instances. Endpoints are inserted directly with a known secret and events made with
//! `webhooks::emit`, as a change's transaction would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use dockgate::clock::Clock;
use dockgate::db::schema::{webhook_deliveries as d, webhook_endpoints as e};
use dockgate::permissions::Role;
use dockgate::webhooks::{self, EventType, schedule};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use crate::helpers::{Received, Receiver, Reply, TestApp, eventually, id_of};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// An app whose clock the test holds, and a customer (made before any endpoint exists, so its
/// creation is heard by nobody).
async fn world(adjust: impl FnOnce(&mut dockgate::Config)) -> (TestApp, Clock, Uuid) {
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
fn endpoint(app: &TestApp, customer: Uuid, url: &str) -> Uuid {
    let id = Uuid::now_v7();
    diesel::insert_into(e::table)
        .values((e::id.eq(id), e::customer_id.eq(customer), e::url.eq(url), e::secret.eq(SECRET)))
        .execute(&mut app.conn())
        .unwrap();
    id
}

/// A `user.updated` event of `customer`, emitted in a transaction as a change would.
fn emit(app: &TestApp, customer: Uuid, name: &str) {
    app.conn()
        .transaction(|conn| {
            webhooks::emit(conn, Some(customer), EventType::UserUpdated, &json!({"id": "u1", "name": name}))
        })
        .unwrap();
}

#[derive(Debug, Clone, Queryable)]
struct Delivery {
    event_id: Uuid,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_response_status: Option<i32>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
}

/// The deliveries of `endpoint`, oldest first.
fn deliveries(app: &TestApp, endpoint: Uuid) -> Vec<Delivery> {
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
fn delivery(app: &TestApp, endpoint: Uuid) -> Delivery {
    let mut all = deliveries(app, endpoint);
    assert_eq!(all.len(), 1, "one delivery");
    all.remove(0)
}

/// `(status, disabled_reason, consecutive_failures)` of an endpoint.
fn endpoint_state(app: &TestApp, endpoint: Uuid) -> (String, Option<String>, i32) {
    e::table
        .find(endpoint)
        .select((e::status, e::disabled_reason, e::consecutive_failures))
        .first(&mut app.conn())
        .unwrap()
}

/// Whether the outcome of attempt `n` is recorded: failed, delivered, or waiting for the next
/// attempt (a claim in flight has moved `next_attempt_at` only a lease ahead of the claim, far
/// less than the schedule's wait after attempt `n`).
fn recorded(row: &Delivery, n: i32) -> bool {
    let Some(last) = row.last_attempt_at else { return false };
    let wait = schedule::WAITS.get(n as usize - 1).map_or(Duration::ZERO, |w| w.mul_f64(0.9));
    row.attempts == n
        && (row.status != "pending" || (row.next_attempt_at - last).to_std().is_ok_and(|gap| gap >= wait))
}

/// Waits until attempt `n` of the only delivery of `endpoint` is recorded.
async fn after_attempt(app: &TestApp, endpoint: Uuid, n: i32) -> Delivery {
    eventually(&format!("attempt {n} to be recorded"), || {
        Some(delivery(app, endpoint)).filter(|row| recorded(row, n))
    })
    .await
}

/// Moves the clock past the longest jittered wait after attempt `n`.
fn past_wait(clock: &Clock, n: i32) {
    let wait = schedule::WAITS[n as usize - 1].mul_f64(1.1) + Duration::from_secs(1);
    clock.advance(chrono::Duration::from_std(wait).unwrap());
}

/// The HMAC of the specification, computed here: base64 of HMAC-SHA256 keyed with the decoded
/// secret over `{id}.{timestamp}.{body}`.
fn expected_signature(secret: &str, request: &Received) -> String {
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

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn a_delivery_arrives_signed_with_the_stored_body_and_both_secrets_while_the_old_one_lives() {
    let (app, clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    let hook = endpoint(&app, customer, &receiver.url("/hooks/dockgate?tenant=1"));
    // The service clock is ahead; the signed timestamp is still the system's.
    clock.advance(chrono::Duration::hours(3));
    emit(&app, customer, "Ada");

    let request = receiver.wait_for(1).await.remove(0);
    let row =
        eventually("delivered", || Some(delivery(&app, hook)).filter(|r| r.status == "delivered")).await;
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/dockgate?tenant=1");
    assert_eq!(request.header("webhook-id"), format!("msg_{}", row.event_id.simple()));
    let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
    assert!((timestamp - unix_now()).abs() < 30, "system time, not the moved clock: {timestamp}");
    assert_eq!(request.header("content-type"), "application/json");
    assert!(request.header("user-agent").starts_with("dockgate-webhooks/"), "{:?}", request.headers);
    assert_eq!(request.header("webhook-signature"), expected_signature(SECRET, &request));
    let payload: String = dockgate::db::schema::webhook_events::table
        .find(row.event_id)
        .select(dockgate::db::schema::webhook_events::payload)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(request.text(), payload, "the stored bytes exactly");
    let body = request.json();
    assert_eq!((body["type"].clone(), body["data"]["name"].clone()), (json!("user.updated"), json!("Ada")));
    assert_eq!((row.attempts, row.last_response_status, row.last_error), (1, Some(200), None));
    assert!(row.delivered_at.is_some());

    // A rotation: the old secret signs too, second, until it expires (on the service clock).
    diesel::update(e::table.find(hook))
        .set((
            e::secret.eq(OLD_SECRET),
            e::previous_secret.eq(SECRET),
            e::previous_secret_expires_at.eq(Utc::now() + chrono::Duration::hours(3 + 24)),
        ))
        .execute(&mut app.conn())
        .unwrap();
    emit(&app, customer, "Grace");
    let rotated = receiver.wait_for(2).await.remove(1);
    let signatures: Vec<&str> = rotated.header("webhook-signature").split(' ').collect();
    assert_eq!(signatures, [expected_signature(OLD_SECRET, &rotated), expected_signature(SECRET, &rotated)]);
    assert_ne!(rotated.header("webhook-id"), request.header("webhook-id"));
    clock.advance(chrono::Duration::hours(25));
    emit(&app, customer, "Linus");
    let later = receiver.wait_for(3).await.remove(2);
    assert_eq!(later.header("webhook-signature"), expected_signature(OLD_SECRET, &later));

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"webhook_delivery_attempts_total{outcome="delivered"} 3"#), "{metrics}");
    assert!(metrics.contains("webhook_delivery_duration_seconds_bucket{outcome=\"delivered\""), "{metrics}");
    assert!(metrics.contains("webhook_deliveries_pending 0"), "{metrics}");
    assert!(metrics.contains("webhook_deliveries_failed 0"), "{metrics}");
}

#[tokio::test]
async fn a_500_is_retried_on_the_schedule_when_the_clock_moves_and_a_success_resets_the_failures() {
    let (app, clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    diesel::update(e::table.find(hook)).set(e::consecutive_failures.eq(3)).execute(&mut app.conn()).unwrap();
    emit(&app, customer, "Ada");

    let first = after_attempt(&app, hook, 1).await;
    assert_eq!((first.status.as_str(), first.last_response_status), ("pending", Some(500)));
    assert_eq!(first.last_error.as_deref(), Some("the receiver answered 500"));
    let wait = (first.next_attempt_at - first.last_attempt_at.unwrap()).to_std().unwrap();
    assert!(wait >= Duration::from_millis(4500) && wait <= Duration::from_millis(5500), "{wait:?}");
    assert_eq!(receiver.received().len(), 1, "nothing more until the clock moves");

    past_wait(&clock, 1);
    let second = after_attempt(&app, hook, 2).await;
    let wait = (second.next_attempt_at - second.last_attempt_at.unwrap()).to_std().unwrap();
    assert!(wait >= Duration::from_secs(270) && wait <= Duration::from_secs(330), "{wait:?}");
    let requests = receiver.wait_for(2).await;
    assert_eq!(requests[0].header("webhook-id"), requests[1].header("webhook-id"), "stable across retries");

    receiver.always(Reply::Status(204));
    past_wait(&clock, 2);
    let done =
        eventually("delivered", || Some(delivery(&app, hook)).filter(|r| r.status == "delivered")).await;
    assert_eq!((done.attempts, done.last_response_status, done.last_error), (3, Some(204), None));
    assert_eq!(endpoint_state(&app, hook), ("active".into(), None, 0));
}

#[tokio::test]
async fn a_410_disables_the_endpoint_as_gone_and_a_disabled_endpoints_delivery_fails_unsent() {
    let (app, _clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::Status(410));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    let row = eventually("failed", || Some(delivery(&app, hook)).filter(|r| r.status == "failed")).await;
    assert_eq!((row.attempts, row.last_response_status), (1, Some(410)));
    assert_eq!(endpoint_state(&app, hook), ("disabled".into(), Some("gone".into()), 0));

    // Queued while active, disabled before the worker got to it (one transaction).
    let other = endpoint(&app, customer, &receiver.url("/other"));
    app.conn()
        .transaction(|conn| {
            webhooks::emit(conn, Some(customer), EventType::UserCreated, &json!({"id": "u2"}))?;
            diesel::update(e::table.find(other))
                .set((e::status.eq("disabled"), e::disabled_reason.eq("manual")))
                .execute(conn)
        })
        .unwrap();
    let unsent = eventually("failed", || Some(delivery(&app, other)).filter(|r| r.status == "failed")).await;
    assert_eq!(
        (unsent.attempts, unsent.last_response_status, unsent.last_error.as_deref()),
        (0, None, Some("endpoint disabled"))
    );
    assert_eq!(receiver.received().len(), 1, "only the 410");
    assert_eq!(endpoint_state(&app, other), ("disabled".into(), Some("manual".into()), 0), "not counted");
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_and_is_not_followed() {
    let (app, _clock, customer) = world(|_| {}).await;
    let elsewhere = Receiver::start().await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::WithHeaders(302, vec![("location".into(), elsewhere.url("/stolen"))]));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    let row = after_attempt(&app, hook, 1).await;
    assert_eq!((row.status.as_str(), row.last_response_status), ("pending", Some(302)));
    assert!(row.last_error.as_deref().unwrap().contains("redirects are not followed"), "{row:?}");
    assert_eq!(receiver.received().len(), 1);
    assert!(elsewhere.received().is_empty(), "the redirect was not followed");
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_delivery_once_it_is_back_on_its_port() {
    let (app, clock, customer) = world(|_| {}).await;
    let down = Receiver::start().await;
    let (port, url) = (down.port, down.url("/hook"));
    down.stop().await;
    let hook = endpoint(&app, customer, &url);
    emit(&app, customer, "Ada");
    let refused = after_attempt(&app, hook, 1).await;
    assert_eq!((refused.status.as_str(), refused.last_response_status), ("pending", None));
    assert!(refused.last_error.as_deref().unwrap().starts_with("cannot connect"), "{refused:?}");

    let back = Receiver::start_on(port).await;
    past_wait(&clock, 1);
    back.wait_for(1).await;
    let row =
        eventually("delivered", || Some(delivery(&app, hook)).filter(|r| r.status == "delivered")).await;
    assert_eq!((row.attempts, row.last_response_status), (2, Some(200)));
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_within_15_seconds_is_a_timeout() {
    let (app, _clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::Hang(Duration::from_secs(30)));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    let request = receiver.wait_for(1).await.remove(0);
    // Longer than `eventually` waits: the sender's limit is 15 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let row = loop {
        let row = delivery(&app, hook);
        if recorded(&row, 1) {
            break row;
        }
        assert!(tokio::time::Instant::now() < deadline, "the attempt ended: {row:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(request.at.elapsed() >= Duration::from_millis(14_500), "it waited the whole limit");
    assert_eq!((row.status.as_str(), row.last_response_status), ("pending", None));
    assert_eq!(row.last_error.as_deref(), Some("no answer within 15 s"));
}

#[tokio::test]
async fn retry_after_lengthens_the_wait() {
    let (app, clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::WithHeaders(503, vec![("retry-after".into(), "120".into())]));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    let row = after_attempt(&app, hook, 1).await;
    assert_eq!(row.last_response_status, Some(503));
    // 120 s instead of about 5 s (both times come from one statement).
    assert_eq!((row.next_attempt_at - row.last_attempt_at.unwrap()).num_seconds(), 120);

    clock.advance(chrono::Duration::seconds(121));
    receiver.wait_for(2).await;
    let done =
        eventually("delivered", || Some(delivery(&app, hook)).filter(|r| r.status == "delivered")).await;
    assert_eq!(done.attempts, 2);
}

#[tokio::test]
async fn after_the_last_attempt_deliveries_fail_and_enough_of_them_disable_the_endpoint_with_a_mail() {
    let (app, clock, customer) = world(|config| config.webhooks.disable_after = 2).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let member = app.customer_user(customer, Role::User, &[]).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    emit(&app, customer, "Grace");

    for n in 1..=schedule::MAX_ATTEMPTS {
        receiver.wait_for(2 * n as usize).await;
        eventually(&format!("attempt {n} of both"), || {
            let rows = deliveries(&app, hook);
            (rows.len() == 2 && rows.iter().all(|row| recorded(row, n))).then_some(())
        })
        .await;
        if n < schedule::MAX_ATTEMPTS {
            assert!(deliveries(&app, hook).iter().all(|row| row.status == "pending"));
            past_wait(&clock, n);
        }
    }
    let rows = deliveries(&app, hook);
    assert!(rows.iter().all(|row| row.status == "failed" && row.attempts == 8), "{rows:?}");
    assert!(rows.iter().all(|row| row.last_response_status == Some(500)));
    assert_eq!(receiver.received().len(), 16, "eight attempts each");
    assert_eq!(endpoint_state(&app, hook), ("disabled".into(), Some("failing".into()), 2));

    let mails: Vec<_> = app.outbox().into_iter().filter(|row| row.template == "webhook_disabled").collect();
    assert_eq!(mails.iter().map(|m| m.recipient.as_str()).collect::<Vec<_>>(), [admin.email.as_str()]);
    assert_eq!(app.mails_to(&member.email), 0);

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"webhook_delivery_attempts_total{outcome="failed"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"webhook_delivery_attempts_total{outcome="retry"} 14"#), "{metrics}");
    assert!(metrics.contains("webhook_deliveries_failed 2"), "{metrics}");
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_at_attempt_time_without_the_allow_list() {
    let (app, _clock, customer) = world(|config| {
        config.webhooks.allow_http = true;
        config.webhooks.allowed_cidrs = vec![];
    })
    .await;
    let receiver = Receiver::start().await;
    // Inserted directly, as if it had passed the check when created and then changed its DNS.
    let by_name = endpoint(&app, customer, &format!("http://localhost:{}/hook", receiver.port));
    let literal = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    for hook in [by_name, literal] {
        let row = after_attempt(&app, hook, 1).await;
        assert_eq!((row.status.as_str(), row.last_response_status), ("pending", None));
        let error = row.last_error.unwrap();
        assert!(error.starts_with("refused: resolves to") && error.contains("loopback"), "{error}");
    }
    assert!(receiver.received().is_empty(), "no connection was made");
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_delivery_exactly_once() {
    let (one, _clock, customer) = world(|_| {}).await;
    let two = TestApp::spawn_on(one.db.clone(), |_| {}).await;
    let receiver = Receiver::start().await;
    let hook = endpoint(&one, customer, &receiver.url("/hook"));
    // More than a batch, so both instances claim while the other works.
    for n in 0..25 {
        emit(&one, customer, &format!("person {n}"));
    }
    eventually("all delivered", || {
        deliveries(&two, hook).iter().all(|row| row.status == "delivered").then_some(())
    })
    .await;
    let requests = receiver.received();
    let mut ids: Vec<&str> = requests.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((requests.len(), ids.len()), (25, 25), "each delivery once");
    assert!(deliveries(&one, hook).iter().all(|row| row.attempts == 1));
}
