//! Standard Webhooks 1.0 signing, checked by this module's own HMAC: the spec's published
//! vector, a real delivery's headers and signature, and a rotated secret signing beside the old
//! one for 24 hours, then alone.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    World, create, deliveries, is_message_id, key_of, log_until, of_type, sign, signatures, signed_by,
    timestamp_of,
};
use crate::helpers::{Receiver, id_of, json_of};

/// The vector the standard-webhooks libraries publish (libraries/javascript/src/webhook.test.ts,
/// "sign function works"; the same in the Python and Go suites).
#[test]
fn the_published_standard_webhooks_vector_signs_as_the_spec_says() {
    let signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        br#"{"test": 2432232314}"#,
    );
    assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

#[tokio::test]
async fn a_created_person_reaches_the_receiver_signed_with_the_endpoint_secret() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/hooks/dockgate"), None).await;
    // The secret is shown once: `whsec_` and the base64 of 32 random bytes.
    assert_eq!(key_of(&endpoint.secret).len(), 32, "{}", endpoint.secret);
    assert_eq!(endpoint.view["status"], "active");
    assert_eq!(endpoint.view["disabled_reason"], Value::Null);
    assert_eq!(endpoint.view["event_types"], Value::Null);
    assert_eq!(endpoint.view["customer_id"], json!(w.customer));

    let ada = w.add_person("Ada").await;
    let received = receiver.wait_for(1).await;
    let created = of_type(&received, "user.created");
    assert_eq!(created.len(), 1, "{received:#?}");
    let request = &created[0];

    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/dockgate");
    assert!(request.header("content-type").starts_with("application/json"), "{:?}", request.headers);
    assert!(request.header("user-agent").starts_with("dockgate-webhooks/"), "{:?}", request.headers);
    assert!(is_message_id(request.header("webhook-id")), "{:?}", request.headers);
    timestamp_of(request);
    assert_eq!(signatures(request).len(), 1, "one live secret, one signature: {:?}", request.headers);
    assert!(signed_by(request, &endpoint.secret), "the signature verifies: {:?}", request.headers);
    // It signs exactly these bytes: another body, id or timestamp does not verify.
    let (id, timestamp) = (request.header("webhook-id"), request.header("webhook-timestamp"));
    let mut tampered = request.body.clone();
    tampered.push(b' ');
    assert!(!signatures(request).contains(&sign(&endpoint.secret, id, timestamp, &tampered)));
    let later = (timestamp_of(request) + 1).to_string();
    assert!(!signatures(request).contains(&sign(&endpoint.secret, id, &later, &request.body)));
    let other = create(&w.admin, &w.path(""), &receiver.url("/other"), Some(&["user.deleted"])).await;
    assert!(!signed_by(request, &other.secret), "another endpoint's secret does not verify");

    // The body: {type, timestamp, data} with the person's public view.
    let body = request.json();
    assert_eq!(body["type"], "user.created");
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().expect("timestamp")).is_ok());
    assert_eq!(body["data"]["id"], ada["id"]);
    assert_eq!(body["data"]["email"], ada["email"]);
    assert_eq!(body["data"]["name"], "Ada");
    assert_eq!(body.as_object().expect("an object").len(), 3, "{body}");

    // The log names the same message and says it was delivered at the first attempt.
    let log = log_until(&w.admin, &endpoint, "the delivery recorded", |log| {
        log.iter().any(|d| d["status"] == "delivered")
    })
    .await;
    let delivery = log.iter().find(|d| d["event_type"] == "user.created").expect("the delivery");
    assert_eq!(delivery["message_id"], request.header("webhook-id"));
    assert_eq!(delivery["webhook_id"], json!(endpoint.id));
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["last_response_status"], 200);
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    assert!(delivery["delivered_at"].is_string() && delivery["last_attempt_at"].is_string(), "{delivery}");
    assert_eq!(delivery["last_error"], Value::Null);
    // Only the endpoint that listens to it got it.
    let other_log = deliveries(&w.admin, &other).await;
    assert!(other_log.is_empty(), "{other_log:#?}");
    assert_eq!(receiver.received().iter().filter(|r| r.path == "/other").count(), 0);
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_24_hours_then_alone() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/rotating"), Some(&["user.created"])).await;
    let old = endpoint.secret.clone();

    let rotated =
        json_of(w.admin.post(&format!("{}/secret", endpoint.path), &json!({})).await, StatusCode::OK).await;
    let new = rotated["secret"].as_str().expect("the new secret, once").to_owned();
    assert_ne!(new, old);
    assert_eq!(key_of(&new).len(), 32);
    assert_eq!(id_of(&rotated), endpoint.id);
    let until = rotated["previous_secret_expires_at"].as_str().expect("the old secret's end");
    let until = chrono::DateTime::parse_from_rfc3339(until).expect("RFC 3339").with_timezone(&chrono::Utc);
    let in_a_day = w.clock.now() + chrono::Duration::hours(24);
    assert!((until - in_a_day).num_seconds().abs() <= 60, "24 h from now: {until} vs {in_a_day}");
    let shown = json_of(w.admin.get(&endpoint.path).await, StatusCode::OK).await;
    assert!(shown.get("secret").is_none(), "never shown again: {shown}");
    assert_eq!(shown["previous_secret_expires_at"], rotated["previous_secret_expires_at"]);

    // Within the day: two signatures, one space between them, one per secret.
    w.add_person("During").await;
    let request = receiver.wait_for(1).await.remove(0);
    let header = request.header("webhook-signature");
    assert_eq!(signatures(&request).len(), 2, "{header:?}");
    assert_eq!(header.matches(' ').count(), 1, "{header:?}");
    assert!(signatures(&request).iter().all(|s| s.starts_with("v1,")), "{header:?}");
    assert!(signed_by(&request, &old) && signed_by(&request, &new), "{header:?}");
    timestamp_of(&request);

    // 25 hours on: the old secret no longer signs, and the view says so.
    w.clock.advance(chrono::Duration::hours(25));
    w.add_person("After").await;
    let request = receiver.wait_for(2).await.remove(1);
    assert_eq!(request.json()["data"]["name"], "After");
    assert_eq!(signatures(&request).len(), 1, "{:?}", request.headers);
    assert!(signed_by(&request, &new), "the new secret signs");
    assert!(!signed_by(&request, &old), "the old one does not any more");
    // Receivers check the timestamp against their own clock: it is the system's, not the test's.
    timestamp_of(&request);
    // The view keeps the time the old secret stopped (a view does not change by itself): past now.
    let shown = json_of(w.admin.get(&endpoint.path).await, StatusCode::OK).await;
    assert_eq!(shown["previous_secret_expires_at"], rotated["previous_secret_expires_at"]);
    assert!(until < w.clock.now(), "{until} is past on the service's clock");
}

#[tokio::test]
async fn a_second_rotation_within_the_day_keeps_only_the_two_newest_secrets() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/twice"), Some(&["user.created"])).await;
    let rotate = || async {
        let rotated =
            json_of(w.admin.post(&format!("{}/secret", endpoint.path), &json!({})).await, StatusCode::OK)
                .await;
        rotated["secret"].as_str().expect("a secret").to_owned()
    };
    let second = rotate().await;
    let third = rotate().await;
    w.add_person("Twice").await;
    let request = receiver.wait_for(1).await.remove(0);
    assert_eq!(signatures(&request).len(), 2, "{:?}", request.headers);
    assert!(signed_by(&request, &third) && signed_by(&request, &second));
    assert!(!signed_by(&request, &endpoint.secret), "the oldest is dropped");
}

#[tokio::test]
async fn the_test_event_goes_to_that_endpoint_only_signed_and_logged() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    // Listening to nothing the test event is: it is sent all the same.
    let endpoint = w.endpoint(&receiver.url("/test-me"), Some(&["user.deleted"])).await;
    let bystander = w.endpoint(&receiver.url("/bystander"), None).await;

    let answered =
        json_of(w.admin.post(&format!("{}/test", endpoint.path), &json!({})).await, StatusCode::ACCEPTED)
            .await;
    assert_eq!(answered["event_type"], "webhook.test");
    assert_eq!(answered["webhook_id"], json!(endpoint.id));
    assert!(is_message_id(answered["message_id"].as_str().expect("a message id")), "{answered}");

    let request = receiver.wait_for(1).await.remove(0);
    assert_eq!(request.path, "/test-me");
    assert_eq!(request.header("webhook-id"), answered["message_id"]);
    assert!(signed_by(&request, &endpoint.secret));
    let body = request.json();
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(body["data"]["webhook_id"], json!(endpoint.id));

    let log = log_until(&w.admin, &endpoint, "the test delivered", |log| {
        log.len() == 1 && log[0]["status"] == "delivered"
    })
    .await;
    assert_eq!(log[0]["id"], answered["id"]);
    assert!(deliveries(&w.admin, &bystander).await.is_empty(), "the test event is for one endpoint");
}
