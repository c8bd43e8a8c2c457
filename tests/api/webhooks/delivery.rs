//! Delivery from the outbox: retries on the schedule (5 s, 5 min, 30 min, ...) moved by the
//! injected clock and never early, a receiver that was down, 410, redirects, `Retry-After`,
//! the last attempt, and two instances sharing one database.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Duration as Span;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    World, app_with_clock, create, deliveries, hooks_of, is_message_id, log_until, problem_kind,
    seconds_between, signed_by, stays_at, timestamp_of, view_until,
};
use crate::helpers::{PASSWORD, Receiver, Reply, TestApp, id_of, json_of, problem};

/// How long a "not yet" check watches: many worker polls (100 ms in tests).
const WATCH: Duration = Duration::from_millis(1500);

/// The one delivery of a log that has exactly one.
fn only(log: &[Value]) -> &Value {
    assert_eq!(log.len(), 1, "{log:#?}");
    &log[0]
}

/// Seconds from the last attempt to the next one of a pending delivery.
fn wait_of(delivery: &Value) -> f64 {
    assert_eq!(delivery["status"], "pending", "{delivery}");
    seconds_between(&delivery["last_attempt_at"], &delivery["next_attempt_at"])
}

/// Whether `log` holds one delivery whose attempt `n` is recorded: counted, and its next
/// attempt `window` seconds after it. (An attempt is counted when an instance claims it, before
/// its outcome is written; meanwhile the next attempt is the claim's lease, which no window of
/// these tests matches.)
fn scheduled(log: &[Value], n: u64, window: std::ops::RangeInclusive<f64>) -> bool {
    log.len() == 1
        && log[0]["attempts"] == n
        && log[0]["status"] == "pending"
        && log[0]["last_attempt_at"].is_string()
        && window.contains(&seconds_between(&log[0]["last_attempt_at"], &log[0]["next_attempt_at"]))
}

/// Whether `log` holds one delivery whose attempt `n` is recorded with `status` as its answer.
fn answered(log: &[Value], n: u64, status: u16) -> bool {
    log.len() == 1 && log[0]["attempts"] == n && log[0]["last_response_status"] == status
}

#[tokio::test]
async fn a_500_is_retried_after_the_backoff_and_not_before_with_the_same_webhook_id() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let endpoint = w.endpoint(&receiver.url("/flaky"), Some(&["user.created"])).await;
    w.add_person("Retried").await;

    // The first attempt at once; the next 5 s (±10 %) later.
    receiver.wait_for(1).await;
    let log = log_until(&w.admin, &endpoint, "the first attempt, retried 5 s ± 10 % later", |log| {
        scheduled(log, 1, 4.4..=5.6)
    })
    .await;
    let delivery = only(&log);
    assert_eq!(delivery["last_response_status"], 500);
    assert!(delivery["last_error"].is_string(), "{delivery}");
    assert_eq!(delivery["delivered_at"], Value::Null);
    let wait = wait_of(delivery);
    assert!((4.4..=5.6).contains(&wait), "5 s ± 10 %: {wait}");
    stays_at(&receiver, 1, WATCH, "not retried before the 5 s").await;

    w.clock.advance(Span::seconds(6));
    let received = receiver.wait_for(2).await;
    let log = log_until(&w.admin, &endpoint, "the second attempt, retried 5 min ± 10 % later", |log| {
        scheduled(log, 2, 270.0..=337.0)
    })
    .await;
    let wait = wait_of(only(&log));
    assert!((270.0..=337.0).contains(&wait), "5 min ± 10 %: {wait}");
    // The same message each time, freshly timestamped and signed.
    assert_eq!(received[0].header("webhook-id"), received[1].header("webhook-id"));
    assert_eq!(received[1].header("webhook-id"), log[0]["message_id"]);
    assert_eq!(received[0].body, received[1].body, "the stored bytes, sent again");
    assert!(received[1].at > received[0].at);
    for request in &received {
        timestamp_of(request);
        assert!(signed_by(request, &endpoint.secret));
    }

    // Four minutes is not yet five.
    w.clock.advance(Span::minutes(4));
    stays_at(&receiver, 2, WATCH, "not retried before the 5 min").await;
    w.clock.advance(Span::minutes(2));
    receiver.wait_for(3).await;
    let log = log_until(&w.admin, &endpoint, "the third attempt, retried 30 min ± 10 % later", |log| {
        scheduled(log, 3, 1620.0..=1990.0)
    })
    .await;
    let wait = wait_of(only(&log));
    assert!((1620.0..=1990.0).contains(&wait), "30 min ± 10 %: {wait}");

    // The receiver recovers: the fourth attempt delivers.
    receiver.always(Reply::Status(204));
    w.clock.advance(Span::minutes(34));
    let received = receiver.wait_for(4).await;
    assert_eq!(received.iter().map(|r| r.header("webhook-id")).collect::<BTreeSet<_>>().len(), 1);
    let log = log_until(&w.admin, &endpoint, "delivered", |log| log[0]["status"] == "delivered").await;
    let delivery = only(&log);
    assert_eq!(delivery["attempts"], 4);
    assert_eq!(delivery["last_response_status"], 204);
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    assert!(delivery["delivered_at"].is_string(), "{delivery}");
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_the_event_after_it_comes_back() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let port = receiver.port;
    let endpoint = w.endpoint(&receiver.url("/sometimes"), None).await;
    receiver.stop().await;

    let person = w.add_person("Patient").await;
    let log = log_until(&w.admin, &endpoint, "a refused connection recorded", |log| {
        !log.is_empty() && log.iter().all(|d| d["attempts"] == 1 && d["last_error"].is_string())
    })
    .await;
    for delivery in &log {
        assert_eq!(delivery["status"], "pending", "{delivery}");
        assert_eq!(delivery["last_response_status"], Value::Null, "no answer: {delivery}");
        assert!(delivery["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{delivery}");
    }

    let receiver = Receiver::start_on(port).await;
    stays_at(&receiver, 0, WATCH, "nothing before the retry is due").await;
    w.clock.advance(Span::seconds(6));
    let received = receiver.wait_for(log.len()).await;
    let created = received.iter().find(|r| r.json()["type"] == "user.created").expect("user.created");
    assert_eq!(created.json()["data"]["id"], person["id"]);
    assert!(signed_by(created, &endpoint.secret));
    let log = log_until(&w.admin, &endpoint, "delivered after recovery", |log| {
        log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert!(log.iter().all(|d| d["attempts"] == 2 && d["last_response_status"] == 200), "{log:#?}");
}

#[tokio::test]
async fn a_410_disables_the_endpoint_as_gone_and_it_hears_nothing_more_until_reenabled() {
    let w = World::new().await;
    let gone = Receiver::start().await;
    gone.always(Reply::Status(410));
    let barrier = Receiver::start().await;
    let endpoint = w.endpoint(&gone.url("/gone"), Some(&["user.created"])).await;
    let witness = w.endpoint(&barrier.url("/witness"), Some(&["user.created"])).await;

    w.add_person("First").await;
    gone.wait_for(1).await;
    let view =
        view_until(&w.admin, &endpoint.path, "the endpoint disabled", |v| v["status"] == "disabled").await;
    assert_eq!(view["disabled_reason"], "gone");
    let log = log_until(&w.admin, &endpoint, "the delivery failed", |log| log[0]["status"] == "failed").await;
    let failed = only(&log);
    assert_eq!(failed["last_response_status"], 410);
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["next_attempt_at"], Value::Null);

    // Nothing more: not a retry, not the next event (the witness endpoint hears it).
    w.add_person("Second").await;
    barrier.wait_for(2).await;
    w.clock.advance(Span::minutes(10));
    stays_at(&gone, 1, WATCH, "a gone endpoint is not called again").await;
    assert_eq!(deliveries(&w.admin, &endpoint).await.len(), 1, "no delivery for a disabled endpoint");
    assert_eq!(deliveries(&w.admin, &witness).await.len(), 2);

    // Retrying or testing a disabled endpoint is a conflict.
    let retry = format!("{}/{}/retry", endpoint.deliveries(), failed["id"].as_str().expect("id"));
    let conflict = problem(w.admin.post(&retry, &json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(problem_kind(&conflict), "webhook-disabled", "{conflict}");
    let test =
        problem(w.admin.post(&format!("{}/test", endpoint.path), &json!({})).await, StatusCode::CONFLICT)
            .await;
    assert_eq!(problem_kind(&test), "webhook-disabled", "{test}");

    // Re-enabled, the receiver back: a retry is a fresh schedule and delivers the same message.
    gone.always(Reply::Status(200));
    let enabled =
        json_of(w.admin.patch(&endpoint.path, &json!({"status": "active"}), None).await, StatusCode::OK)
            .await;
    assert_eq!((enabled["status"].as_str(), enabled["disabled_reason"].as_str()), (Some("active"), None));
    let retried = json_of(w.admin.post(&retry, &json!({})).await, StatusCode::ACCEPTED).await;
    assert_eq!(retried["status"], "pending");
    assert_eq!(retried["attempts"], 0);
    assert_eq!(retried["id"], failed["id"]);
    let again = gone.wait_for(2).await;
    assert_eq!(again[1].header("webhook-id"), again[0].header("webhook-id"));
    assert_eq!(again[1].header("webhook-id"), failed["message_id"]);
    log_until(&w.admin, &endpoint, "the retry delivered", |log| {
        log.len() == 1 && log[0]["status"] == "delivered" && log[0]["attempts"] == 1
    })
    .await;
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_and_is_never_followed() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let elsewhere = receiver.url("/elsewhere");
    receiver.once(Reply::WithHeaders(302, vec![("location".into(), elsewhere.clone())]));
    receiver.once(Reply::WithHeaders(307, vec![("location".into(), elsewhere.clone())]));
    let endpoint = w.endpoint(&receiver.url("/moved"), Some(&["user.created"])).await;
    w.add_person("Redirected").await;

    receiver.wait_for(1).await;
    let log = log_until(&w.admin, &endpoint, "the 302 recorded", |log| answered(log, 1, 302)).await;
    assert_eq!(only(&log)["status"], "pending");
    stays_at(&receiver, 1, WATCH, "the Location is not followed").await;

    w.clock.advance(Span::seconds(6));
    receiver.wait_for(2).await;
    let log = log_until(&w.admin, &endpoint, "the 307 recorded", |log| answered(log, 2, 307)).await;
    assert_eq!(only(&log)["status"], "pending");
    stays_at(&receiver, 2, WATCH, "nor a 307's").await;

    w.clock.advance(Span::minutes(6));
    let received = receiver.wait_for(3).await;
    assert!(received.iter().all(|r| r.path == "/moved"), "{received:#?}");
    log_until(&w.admin, &endpoint, "delivered", |log| log[0]["status"] == "delivered").await;
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn retry_after_lengthens_the_wait_and_never_shortens_it() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::WithHeaders(503, vec![("retry-after".into(), "120".into())]));
    // Shorter than the schedule's 5 min: the schedule wins.
    receiver.once(Reply::WithHeaders(429, vec![("retry-after".into(), "1".into())]));
    let endpoint = w.endpoint(&receiver.url("/busy"), Some(&["user.created"])).await;
    w.add_person("Busy").await;

    receiver.wait_for(1).await;
    let log = log_until(&w.admin, &endpoint, "the 503 recorded", |log| {
        answered(log, 1, 503) && scheduled(log, 1, 0.0..=1e9)
    })
    .await;
    let wait = wait_of(only(&log));
    assert!((119.0..=140.0).contains(&wait), "Retry-After: 120 lengthens 5 s to 2 min: {wait}");
    w.clock.advance(Span::seconds(6));
    stays_at(&receiver, 1, WATCH, "not at the schedule's 5 s").await;
    w.clock.advance(Span::seconds(130));
    receiver.wait_for(2).await;

    let log = log_until(&w.admin, &endpoint, "the 429 recorded", |log| {
        answered(log, 2, 429) && scheduled(log, 2, 0.0..=1e9)
    })
    .await;
    let wait = wait_of(only(&log));
    assert!(wait >= 270.0, "Retry-After: 1 does not shorten 5 min: {wait}");
    w.clock.advance(Span::minutes(6));
    receiver.wait_for(3).await;
    log_until(&w.admin, &endpoint, "delivered", |log| log[0]["status"] == "delivered").await;
}

#[tokio::test]
async fn after_the_eighth_attempt_the_delivery_fails_and_the_failing_endpoint_is_disabled_with_a_mail() {
    let w = World::with(|config| config.webhooks.disable_after = 1).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let endpoint = w.endpoint(&receiver.url("/down"), Some(&["user.created"])).await;
    let mails_before = w.app.mails_to(&w.admin.email);
    w.add_person("Unlucky").await;

    // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h, each ±10 %: past the longest wait every time.
    let waits = [6, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 24 * 3600];
    receiver.wait_for(1).await;
    for (n, wait) in waits.iter().enumerate() {
        let attempts = n + 1;
        let (least, most) = (*wait as f64 * 0.9 - 1.0, *wait as f64 * 1.1 + 1.0);
        log_until(
            &w.admin,
            &endpoint,
            &format!("attempt {attempts}, retried {wait} s ± 10 % later"),
            |log| scheduled(log, attempts as u64, least..=most),
        )
        .await;
        w.clock.advance(Span::seconds(wait * 11 / 10 + 1));
        receiver.wait_for(attempts + 1).await;
    }
    let log = log_until(&w.admin, &endpoint, "the delivery failed", |log| log[0]["status"] == "failed").await;
    let failed = only(&log);
    assert_eq!(failed["attempts"], 8);
    assert_eq!(failed["last_response_status"], 500);
    assert_eq!(failed["next_attempt_at"], Value::Null);
    w.clock.advance(Span::hours(48));
    stays_at(&receiver, 8, WATCH, "no ninth attempt").await;

    // disable_after = 1: this failed delivery disables the endpoint, and its admins hear of it.
    let view =
        view_until(&w.admin, &endpoint.path, "disabled as failing", |v| v["status"] == "disabled").await;
    assert_eq!(view["disabled_reason"], "failing");
    crate::helpers::eventually("a mail to the customer's admin", || {
        (w.app.mails_to(&w.admin.email) > mails_before).then_some(())
    })
    .await;
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_every_event_and_none_twice() {
    let (one, clock) = app_with_clock(|_| {}).await;
    let two = TestApp::spawn_on(one.db.clone(), |config| config.clock = clock.clone()).await;
    let staff = one.admin().await;
    let customer = id_of(&staff.create_customer("Twin").await);
    let admin_one = one.customer_user(customer, dockgate::permissions::Role::Admin, &[]).await;
    let admin_two = two.sign_in(admin_one.user_id, &admin_one.email, PASSWORD).await;
    let receiver = Receiver::start().await;
    // A slow receiver keeps deliveries in flight while both workers look for due ones.
    receiver.always(Reply::Hang(Duration::from_millis(150)));
    let endpoint =
        create(&admin_one, &hooks_of(customer, ""), &receiver.url("/twin"), Some(&["user.created"])).await;

    let mut people = BTreeSet::new();
    for n in 0..12 {
        let admin = if n % 2 == 0 { &admin_one } else { &admin_two };
        let person = admin.add_person(customer, &format!("Twin{n}"), json!({})).await;
        people.insert(person["id"].as_str().expect("id").to_owned());
    }
    let received = receiver.wait_for(12).await;
    log_until(&admin_two, &endpoint, "all twelve delivered", |log| {
        log.len() == 12 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    stays_at(&receiver, 12, WATCH, "no delivery twice").await;

    let ids: BTreeSet<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 12, "one message per event");
    assert!(ids.iter().all(|id| is_message_id(id)));
    let heard: BTreeSet<String> =
        received.iter().map(|r| r.json()["data"]["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(heard, people, "every person's event arrived");
    assert!(received.iter().all(|r| signed_by(r, &endpoint.secret)));
    let log = deliveries(&admin_one, &endpoint).await;
    assert!(log.iter().all(|d| d["attempts"] == 1), "{log:#?}");
}

#[tokio::test]
async fn a_pending_delivery_of_an_endpoint_disabled_meanwhile_fails_without_a_call() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::Status(500));
    let endpoint = w.endpoint(&receiver.url("/paused"), Some(&["user.created"])).await;
    w.add_person("Paused").await;
    receiver.wait_for(1).await;
    log_until(&w.admin, &endpoint, "the 500 recorded", |log| answered(log, 1, 500)).await;

    let disabled =
        json_of(w.admin.patch(&endpoint.path, &json!({"status": "disabled"}), None).await, StatusCode::OK)
            .await;
    assert_eq!(disabled["disabled_reason"], "manual");
    w.clock.advance(Span::seconds(6));
    let log = log_until(&w.admin, &endpoint, "failed as disabled", |log| log[0]["status"] == "failed").await;
    let failed = only(&log);
    assert_eq!(failed["last_error"], "endpoint disabled");
    assert_eq!(failed["next_attempt_at"], Value::Null);
    stays_at(&receiver, 1, WATCH, "a disabled endpoint is not called").await;
    // Disabling by hand stays `manual` (this failure is not the endpoint's).
    let view = json_of(w.admin.get(&endpoint.path).await, StatusCode::OK).await;
    assert_eq!(
        (view["status"].as_str(), view["disabled_reason"].as_str()),
        (Some("disabled"), Some("manual"))
    );
}

/// The one real wait of these tests: the sender's 15 s timeout.
#[tokio::test]
async fn a_receiver_that_does_not_answer_within_15_seconds_is_a_failed_attempt() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::Hang(Duration::from_secs(25)));
    let endpoint = w.endpoint(&receiver.url("/slow"), Some(&["user.created"])).await;
    w.add_person("Slow").await;
    receiver.wait_for(1).await;
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(24);
    let delivery = loop {
        let log = deliveries(&w.admin, &endpoint).await;
        if log.first().is_some_and(|d| d["attempts"] == 1 && !d["last_error"].is_null()) {
            break log[0].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no timeout recorded: {log:#?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(13), "not before the 15 s timeout: {waited:?}");
    assert_eq!(delivery["status"], "pending", "{delivery}");
    assert_eq!(delivery["last_response_status"], Value::Null, "{delivery}");
    w.clock.advance(Span::seconds(6));
    receiver.wait_for(2).await;
    log_until(&w.admin, &endpoint, "delivered on the retry", |log| log[0]["status"] == "delivered").await;
}
