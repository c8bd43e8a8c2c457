//! Managing endpoints: what creation accepts and answers, the catalog, disabling by hand,
//! deleting, and the delivery log (newest first, by status, paged).

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{World, deliveries, key_of, log_until, stays_at};
use crate::helpers::{Receiver, Reply, etag_of, field_errors, json_of, problem};

#[tokio::test]
async fn creation_checks_its_body_and_shows_the_secret_once() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let collection = w.path("");
    let url = receiver.url("/new");
    let invalid = |body: Value| {
        let admin = w.admin.clone();
        let collection = collection.clone();
        async move { problem(admin.post(&collection, &body).await, StatusCode::UNPROCESSABLE_ENTITY).await }
    };
    let fields = |problem: &Value| field_errors(problem).into_iter().map(|(f, _)| f).collect::<Vec<_>>();
    assert_eq!(fields(&invalid(json!({"url": url, "event_types": []})).await), ["event_types"]);
    assert_eq!(fields(&invalid(json!({"url": url, "event_types": ["user.nope"]})).await), ["event_types[0]"]);
    assert_eq!(
        fields(&invalid(json!({"url": url, "event_types": ["user.created", "x"]})).await),
        ["event_types[1]"]
    );
    // A missing url is refused as every missing field is (the house names no field for it).
    invalid(json!({"event_types": ["user.created"]})).await;
    // Closed: no secret of one's own choosing, no status on create.
    let unknown = invalid(json!({"url": url, "secret": "whsec_bWluZQ=="})).await;
    assert!(!field_errors(&unknown).is_empty(), "{unknown}");
    assert!(w.admin.list(&collection).await.is_empty());

    let response = w
        .admin
        .post(&collection, &json!({"url": url, "event_types": ["user.created", "user.deleted"]}))
        .await;
    assert!(response.headers().get("location").is_some() || response.status() == StatusCode::CREATED);
    let created = json_of(response, StatusCode::CREATED).await;
    let secret = created["secret"].as_str().expect("the secret");
    assert_eq!(key_of(secret).len(), 32);
    assert_eq!(created["url"], url);
    assert_eq!(created["event_types"], json!(["user.created", "user.deleted"]));
    assert_eq!(created["status"], "active");
    assert_eq!(created["previous_secret_expires_at"], Value::Null);
    for key in
        ["id", "customer_id", "url", "event_types", "status", "disabled_reason", "created_at", "updated_at"]
    {
        assert!(created.get(key).is_some(), "{key} in {created}");
    }

    // Never again: not in the view, not in the list.
    let path = format!("{collection}/{}", created["id"].as_str().expect("id"));
    let shown = json_of(w.admin.get(&path).await, StatusCode::OK).await;
    assert!(shown.get("secret").is_none(), "{shown}");
    assert!(!shown.to_string().contains(secret));
    let page = json_of(w.admin.get(&collection).await, StatusCode::OK).await;
    assert!(!page.to_string().contains(secret), "{page}");
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
    // Two endpoints have two secrets.
    let other = w.endpoint(&receiver.url("/other"), None).await;
    assert_ne!(other.secret, secret);
}

#[tokio::test]
async fn the_catalog_lists_every_event_type_with_a_description() {
    let w = World::new().await;
    let user = w.app.customer_user(w.customer, dockgate::permissions::Role::User, &[]).await;
    let catalog = json_of(user.get("/v1/webhook-event-types").await, StatusCode::OK).await;
    let items = catalog["items"].as_array().expect("items");
    let types: BTreeSet<&str> = items.iter().map(|i| i["type"].as_str().expect("type")).collect();
    let expected: BTreeSet<&str> = [
        "user.created",
        "user.updated",
        "user.deactivated",
        "user.reactivated",
        "user.deleted",
        "user.access_changed",
        "invitation.created",
        "invitation.accepted",
        "invitation.revoked",
        "group.created",
        "group.updated",
        "group.deleted",
        "group.members_changed",
        "customer.updated",
        "customer.suspended",
        "api_client.revoked",
        "webhook.test",
    ]
    .into();
    assert_eq!(types, expected);
    assert!(items.iter().all(|i| i["description"].as_str().is_some_and(|d| !d.is_empty())), "{catalog}");
    let anonymous = w.app.client.get(w.app.url("/v1/webhook-event-types")).send().await.expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_endpoint_disabled_by_hand_hears_nothing_until_enabled_and_deleting_it_takes_its_log() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let witness = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/paused"), Some(&["user.created"])).await;
    w.endpoint(&witness.url("/witness"), Some(&["user.created"])).await;

    let response = w.admin.get(&endpoint.path).await;
    let tag = etag_of(&response);
    let disabled = json_of(
        w.admin.patch(&endpoint.path, &json!({"status": "disabled"}), Some(&tag)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(disabled["disabled_reason"], "manual");
    // A stale tag is refused.
    let stale = w.admin.patch(&endpoint.path, &json!({"status": "active"}), Some(&tag)).await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);

    w.add_person("Unheard").await;
    witness.wait_for(1).await;
    stays_at(&receiver, 0, Duration::from_millis(1000), "a disabled endpoint hears nothing").await;
    assert!(deliveries(&w.admin, &endpoint).await.is_empty());

    let enabled = json_of(
        w.admin.patch(&endpoint.path, &json!({"status": "active", "event_types": null}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((enabled["status"].as_str(), enabled["disabled_reason"].as_str()), (Some("active"), None));
    assert_eq!(enabled["event_types"], Value::Null, "every type now");
    w.add_person("Heard").await;
    let heard = receiver.wait_for(1).await;
    assert_eq!(heard[0].json()["data"]["name"], "Heard");

    assert_eq!(w.admin.delete(&endpoint.path, None).await.status(), StatusCode::NO_CONTENT);
    problem(w.admin.get(&endpoint.path).await, StatusCode::NOT_FOUND).await;
    problem(w.admin.get(&endpoint.deliveries()).await, StatusCode::NOT_FOUND).await;
    let before = receiver.received().len();
    w.add_person("Afterwards").await;
    witness.wait_for(3).await;
    stays_at(&receiver, before, Duration::from_millis(800), "a deleted endpoint hears nothing").await;
}

#[tokio::test]
async fn the_delivery_log_is_newest_first_filters_by_status_and_pages() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/log"), Some(&["user.created"])).await;
    // The first event fails once (pending), the next two are delivered.
    receiver.once(Reply::Status(500));
    for (n, name) in ["One", "Two", "Three"].into_iter().enumerate() {
        w.add_person(name).await;
        receiver.wait_for(n + 1).await;
    }
    let log = log_until(&w.admin, &endpoint, "two delivered, one pending", |log| {
        log.len() == 3
            && log.iter().filter(|d| d["status"] == "delivered").count() == 2
            && log.iter().any(|d| d["status"] == "pending" && d["last_response_status"] == 500)
    })
    .await;
    let names: Vec<String> = log
        .iter()
        .map(|d| {
            let message = d["message_id"].as_str().expect("message id");
            let request =
                receiver.received().into_iter().find(|r| r.header("webhook-id") == message).expect("sent");
            request.json()["data"]["name"].as_str().expect("name").to_owned()
        })
        .collect();
    assert_eq!(names, ["Three", "Two", "One"], "newest first");
    for delivery in &log {
        for key in [
            "id",
            "webhook_id",
            "message_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_response_status",
            "last_error",
            "delivered_at",
            "created_at",
        ] {
            assert!(delivery.get(key).is_some(), "{key} in {delivery}");
        }
    }
    let pending = w.admin.list(&format!("{}?status=pending", endpoint.deliveries())).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["id"], log[2]["id"]);
    assert_eq!(pending[0]["last_response_status"], 500);
    let delivered = w.admin.list(&format!("{}?status=delivered", endpoint.deliveries())).await;
    assert_eq!(
        delivered.iter().map(|d| d["id"].clone()).collect::<Vec<_>>(),
        [log[0]["id"].clone(), log[1]["id"].clone()]
    );
    assert!(w.admin.list(&format!("{}?status=failed", endpoint.deliveries())).await.is_empty());
    let bogus = w.admin.get(&format!("{}?status=lost", endpoint.deliveries())).await;
    assert!(bogus.status().is_client_error(), "{}", bogus.status());
    // A page at a time, the same order.
    let walked = w.admin.walk(&endpoint.deliveries(), 1).await;
    assert_eq!(walked, log);

    // Retrying the pending one now: due at once, a fresh schedule, delivered.
    let retry = format!("{}/{}/retry", endpoint.deliveries(), log[2]["id"].as_str().expect("id"));
    let retried = json_of(w.admin.post(&retry, &json!({})).await, StatusCode::ACCEPTED).await;
    assert_eq!((retried["status"].as_str(), retried["attempts"].as_i64()), (Some("pending"), Some(0)));
    receiver.wait_for(4).await;
    log_until(&w.admin, &endpoint, "all delivered", |log| log.iter().all(|d| d["status"] == "delivered"))
        .await;
    // Retrying a delivered one sends it again (a replay), with the same webhook-id.
    let replay = format!("{}/{}/retry", endpoint.deliveries(), log[0]["id"].as_str().expect("id"));
    json_of(w.admin.post(&replay, &json!({})).await, StatusCode::ACCEPTED).await;
    let all = receiver.wait_for(5).await;
    assert_eq!(all[4].header("webhook-id"), log[0]["message_id"]);
    let unknown = format!("{}/{}/retry", endpoint.deliveries(), uuid::Uuid::now_v7());
    problem(w.admin.post(&unknown, &json!({})).await, StatusCode::NOT_FOUND).await;
}
