//! Where and how a delivery is sent: signed, once, to checked addresses, never redirected.

use chrono::Utc;
use diesel::prelude::*;
use dockgate::db::schema::webhook_endpoints as e;
use dockgate::webhooks::{self, EventType};
use serde_json::json;

use super::*;

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
