//! Webhook endpoints as their managers use them: a customer's admin (or staff) creates one and
//! gets its secret once, changes it under If-Match, disables and enables it, rotates the secret
//! (the old one signs for a day), follows the delivery log, retries and tests; the platform's
//! endpoints are for platform admins; targets inside the network are refused (SSRF). Delivering
//! is the worker's (tests/api/webhooks*.rs): nothing here waits for a delivery.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use dockgate::permissions::Role;
use dockgate::webhooks::EventType;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, error_fields, etag_of, id_of, json_of, problem};

/// A receiver nobody listens on: deliveries to it (should a worker run) fail and stay in the log.
const NOWHERE: &str = "http://127.0.0.1:9/hooks";

fn hooks_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/webhooks")
}

fn at(value: &Value, field: &str) -> DateTime<Utc> {
    value[field].as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("{field} is a time: {value}"))
}

/// The secret is `whsec_` and the base64 of 32 bytes (Standard Webhooks 1.0).
fn assert_secret(value: &Value) -> String {
    let secret = value["secret"].as_str().expect("the secret, shown once").to_owned();
    let key = secret.strip_prefix("whsec_").expect("whsec_ prefix");
    let bytes = base64::engine::general_purpose::STANDARD.decode(key).expect("base64");
    assert_eq!(bytes.len(), 32, "{secret}");
    secret
}

async fn create(actor: &Actor, path: &str, body: Value) -> Value {
    json_of(actor.post(path, &body).await, StatusCode::CREATED).await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Secrets {
    #[diesel(sql_type = Text)]
    secret: String,
    #[diesel(sql_type = Nullable<Text>)]
    previous_secret: Option<String>,
}

fn secrets(app: &TestApp, id: Uuid) -> Secrets {
    diesel::sql_query("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .get_result(&mut app.conn())
        .expect("the endpoint's secrets")
}

#[tokio::test]
async fn an_admin_creates_changes_rotates_and_deletes_an_endpoint() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let hooks = hooks_of(customer);

    let body = json!({"url": NOWHERE, "event_types": ["user.deactivated", "user.created", "user.created"]});
    let response = admin.post(&hooks, &body).await;
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let created = json_of(response, StatusCode::CREATED).await;
    let first_secret = assert_secret(&created);
    let id = id_of(&created);
    assert_eq!(location, format!("{hooks}/{id}"));
    assert_eq!(created["customer_id"], json!(customer));
    assert_eq!(created["url"], NOWHERE);
    assert_eq!(created["event_types"], json!(["user.created", "user.deactivated"]), "sorted, once each");
    assert_eq!((&created["status"], &created["disabled_reason"]), (&json!("active"), &Value::Null));
    assert_eq!(created["previous_secret_expires_at"], Value::Null);

    // Never again: not in a read, a list, or the audit log.
    let read = admin.get(&location).await;
    let etag = etag_of(&read);
    let view = json_of(read, StatusCode::OK).await;
    assert!(view.get("secret").is_none(), "{view}");
    let listed = admin.list(&hooks).await;
    assert_eq!(listed.iter().map(id_of).collect::<Vec<_>>(), vec![id]);
    assert!(listed[0].get("secret").is_none());

    // A merge-patch under If-Match: a stale tag is a 412, `event_types: null` is every type.
    let stale = admin.patch(&location, &json!({"event_types": null}), Some("\"stale\"")).await;
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let response = admin.patch(&location, &json!({"event_types": null}), Some(&etag)).await;
    let etag = etag_of(&response);
    let every = json_of(response, StatusCode::OK).await;
    assert_eq!(every["event_types"], Value::Null);

    // Disabled by hand, then enabled again.
    let response = admin.patch(&location, &json!({"status": "disabled"}), Some(&etag)).await;
    let disabled = json_of(response, StatusCode::OK).await;
    assert_eq!((&disabled["status"], &disabled["disabled_reason"]), (&json!("disabled"), &json!("manual")));
    let test = admin.post(&format!("{location}/test"), &json!({})).await;
    let refused = problem(test, StatusCode::CONFLICT).await;
    assert_eq!(refused["type"], "urn:dockgate:problem:webhook-disabled");
    let enabled =
        json_of(admin.patch(&location, &json!({"status": "active"}), None).await, StatusCode::OK).await;
    assert_eq!((&enabled["status"], &enabled["disabled_reason"]), (&json!("active"), &Value::Null));

    // Rotation: a new secret shown once; the old one signs for 24 hours more.
    let rotated = json_of(admin.post(&format!("{location}/secret"), &json!({})).await, StatusCode::OK).await;
    let second_secret = assert_secret(&rotated);
    assert_ne!(second_secret, first_secret);
    let until = at(&rotated, "previous_secret_expires_at") - Utc::now();
    assert!((Duration::hours(24) - until).num_seconds().abs() < 60, "about a day: {until}");
    let stored = secrets(&app, id);
    assert_eq!(
        (stored.secret.as_str(), stored.previous_secret.as_deref()),
        (&*second_secret, Some(&*first_secret))
    );
    let read = json_of(admin.get(&location).await, StatusCode::OK).await;
    assert!(read.get("secret").is_none());
    assert_eq!(read["previous_secret_expires_at"], rotated["previous_secret_expires_at"]);
    // A second rotation within the day drops the oldest: two secrets sign at most.
    let again = json_of(admin.post(&format!("{location}/secret"), &json!({})).await, StatusCode::OK).await;
    let third_secret = assert_secret(&again);
    let stored = secrets(&app, id);
    assert_eq!(
        (stored.secret.as_str(), stored.previous_secret.as_deref()),
        (&*third_secret, Some(&*second_secret))
    );

    let etag = etag_of(&admin.get(&location).await);
    assert_eq!(admin.delete(&location, Some(&etag)).await.status(), StatusCode::NO_CONTENT);
    problem(admin.get(&location).await, StatusCode::NOT_FOUND).await;
    assert!(admin.list(&hooks).await.is_empty());

    assert_eq!(
        app.actions_on(id),
        [
            "webhook.created",
            "webhook.updated",
            "webhook.updated",
            "webhook.updated",
            "webhook.secret_rotated",
            "webhook.secret_rotated",
            "webhook.deleted"
        ]
    );
    let leaked: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM audit_events WHERE changes::text LIKE '%whsec_%' OR changes::text LIKE '%\"secret\"%'",
    )
    .get_result(&mut app.conn())
    .expect("count");
    assert_eq!(leaked.n, 0, "no secret in the audit log");
}

#[tokio::test]
async fn a_replayed_creation_shows_no_secret() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let send = || {
        admin
            .request(Method::POST, &hooks_of(customer))
            .header("idempotency-key", "6b0f3a52-7f0e-4a59-8d8c-0a7b8f0c2d11")
            .json(&json!({"url": NOWHERE}))
            .send()
    };
    let first = json_of(send().await.expect("first"), StatusCode::CREATED).await;
    assert_secret(&first);
    let replay = send().await.expect("replay");
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay = json_of(replay, StatusCode::CREATED).await;
    assert_eq!((id_of(&replay), &replay["secret"]), (id_of(&first), &Value::Null));
    assert_eq!(admin.list(&hooks_of(customer)).await.len(), 1);
}

#[tokio::test]
async fn customer_admins_who_see_everything_manage_endpoints_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let other = id_of(&staff.create_customer("Globex").await);
    let hooks = hooks_of(customer);

    // users.manage with the data scope `all`: may.
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let own = id_of(&create(&admin, &hooks, json!({"url": NOWHERE})).await);
    assert_eq!(admin.list(&hooks).await.len(), 1);
    let dispatcher = app.staff(Role::Dispatcher, &[customer]).await;
    assert_eq!(dispatcher.list(&hooks).await.len(), 1, "staff who see the customer");

    // An admin limited to a group: an endpoint hears about every group's people, so 403.
    let group = staff.add_group(customer, "North").await;
    let limited = staff.add_person(customer, "gina", json!({"role": "admin", "group_ids": [group]})).await;
    let limited = app.sign_in_member(&limited).await;
    for response in [limited.get(&hooks).await, limited.post(&hooks, &json!({"url": NOWHERE})).await] {
        let body = problem(response, StatusCode::FORBIDDEN).await;
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("data scope all")), "{body}");
    }
    problem(limited.get(&format!("{hooks}/{own}")).await, StatusCode::FORBIDDEN).await;
    // A person without users.manage: 403 too.
    let user = app.customer_user(customer, Role::User, &[]).await;
    problem(user.get(&hooks).await, StatusCode::FORBIDDEN).await;

    // Another customer's admin, or a dispatcher for other customers: the customer is not there.
    let outsider = app.customer_user(other, Role::Admin, &[]).await;
    let elsewhere = app.staff(Role::Dispatcher, &[other]).await;
    for actor in [&outsider, &elsewhere] {
        problem(actor.get(&hooks).await, StatusCode::NOT_FOUND).await;
        problem(actor.get(&format!("{hooks}/{own}")).await, StatusCode::NOT_FOUND).await;
    }
    // Nor is the endpoint under another customer's path, even for its own admin there.
    let theirs = id_of(&create(&outsider, &hooks_of(other), json!({"url": NOWHERE})).await);
    problem(outsider.get(&format!("{}/{own}", hooks_of(other))).await, StatusCode::NOT_FOUND).await;
    problem(admin.get(&format!("{hooks}/{theirs}")).await, StatusCode::NOT_FOUND).await;

    // Platform endpoints: platform admins only; never under a customer, nor a customer's under
    // the platform's path.
    let platform =
        create(&staff, "/v1/webhooks", json!({"url": NOWHERE, "event_types": ["customer.suspended"]})).await;
    assert_eq!(platform["customer_id"], Value::Null);
    assert_secret(&platform);
    let platform = id_of(&platform);
    for actor in [&admin, &dispatcher] {
        problem(actor.get("/v1/webhooks").await, StatusCode::FORBIDDEN).await;
        problem(actor.post("/v1/webhooks", &json!({"url": NOWHERE})).await, StatusCode::FORBIDDEN).await;
    }
    problem(staff.get(&format!("{hooks}/{platform}")).await, StatusCode::NOT_FOUND).await;
    problem(staff.get(&format!("/v1/webhooks/{own}")).await, StatusCode::NOT_FOUND).await;
    assert_eq!(staff.list("/v1/webhooks").await.iter().map(id_of).collect::<Vec<_>>(), vec![platform]);
    assert_eq!(staff.list(&hooks).await.iter().map(id_of).collect::<Vec<_>>(), vec![own]);
}

#[tokio::test]
async fn targets_inside_the_network_are_refused_naming_url() {
    let app = TestApp::spawn_with(|c| {
        c.webhooks.allow_http = false;
        c.webhooks.allowed_cidrs = vec![];
    })
    .await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let hooks = hooks_of(customer);
    for (url, says) in [
        ("http://93.184.215.14/hooks", "https"),
        ("https://localhost/", "loopback"),
        ("https://127.0.0.1/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.0.0.1/", "private"),
        ("https://[::ffff:10.0.0.1]/", "private"),
        ("https://100.64.0.1/", "carrier-grade NAT"),
        ("https://user:pass@93.184.215.14/", "user name"),
        ("not a url", "absolute URL"),
    ] {
        let body =
            problem(admin.post(&hooks, &json!({"url": url})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&body), ["url"], "{url}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{url}: {message}");
    }
    assert!(admin.list(&hooks).await.is_empty(), "nothing was created");

    // A public address passes; changing it to an inside one is refused the same way.
    let created = create(&admin, &hooks, json!({"url": "https://93.184.215.14/hooks"})).await;
    let path = format!("{hooks}/{}", id_of(&created));
    for url in ["https://127.0.0.1/", "https://192.168.1.10/", "http://93.184.215.14/"] {
        let response = admin.patch(&path, &json!({"url": url}), None).await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&body), ["url"], "{url}");
    }
    let kept = json_of(admin.get(&path).await, StatusCode::OK).await;
    assert_eq!(kept["url"], "https://93.184.215.14/hooks");
}

#[tokio::test]
async fn the_allow_list_lets_loopback_in_and_nothing_else() {
    // The test configuration: http allowed, 127.0.0.0/8 and ::1 inside the allow-list.
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let hooks = hooks_of(customer);
    for url in ["https://127.0.0.1/", "http://127.0.0.1:9/hooks", "http://[::1]:9/", "http://localhost:9/"] {
        let created = create(&admin, &hooks, json!({"url": url})).await;
        assert_eq!(created["status"], "active", "{url}");
    }
    for url in ["https://10.0.0.1/", "http://169.254.169.254/"] {
        let body =
            problem(admin.post(&hooks, &json!({"url": url})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&body), ["url"], "{url}");
    }
}

#[tokio::test]
async fn event_types_are_known_ones_and_at_least_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let hooks = hooks_of(customer);
    for (types, field) in [
        (json!(["user.exploded"]), "event_types[0]"),
        (json!(["user.created", "order.created"]), "event_types[1]"),
        (json!([]), "event_types"),
    ] {
        let body = json!({"url": NOWHERE, "event_types": types});
        let refused = problem(admin.post(&hooks, &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&refused), [field], "{types}");
    }
    let refused = problem(
        admin.post(&hooks, &json!({"url": NOWHERE, "secret": "mine"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["secret"], "a closed body");

    let created = create(&admin, &hooks, json!({"url": NOWHERE})).await;
    assert_eq!(created["event_types"], Value::Null, "omitted: every type");
    let path = format!("{hooks}/{}", id_of(&created));
    for (types, field) in [(json!(["user.exploded"]), "event_types[0]"), (json!([]), "event_types")] {
        let response = admin.patch(&path, &json!({"event_types": types}), None).await;
        assert_eq!(error_fields(&problem(response, StatusCode::UNPROCESSABLE_ENTITY).await), [field]);
    }
    let status = admin.patch(&path, &json!({"status": null}), None).await;
    assert_eq!(error_fields(&problem(status, StatusCode::UNPROCESSABLE_ENTITY).await), ["status"]);
    let some = admin.patch(&path, &json!({"event_types": ["group.deleted", "user.deleted"]}), None).await;
    assert_eq!(json_of(some, StatusCode::OK).await["event_types"], json!(["user.deleted", "group.deleted"]));
}

/// Marks a delivery given up, as the worker leaves one after its last attempt.
fn fail(app: &TestApp, delivery: Uuid) {
    diesel::sql_query(
        "UPDATE webhook_deliveries SET status = 'failed', attempts = 8, last_attempt_at = now(),
             last_response_status = 500, last_error = 'the receiver answered 500' WHERE id = $1",
    )
    .bind::<SqlUuid, _>(delivery)
    .execute(&mut app.conn())
    .expect("fail the delivery");
}

#[tokio::test]
async fn the_delivery_log_shows_tests_and_retries_start_afresh() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let hook =
        create(&admin, &hooks_of(customer), json!({"url": NOWHERE, "event_types": ["user.created"]})).await;
    let path = format!("{}/{}", hooks_of(customer), id_of(&hook));

    // A test event goes to this endpoint whatever it listens to, now.
    let mut sent = Vec::new();
    for _ in 0..3 {
        let response = admin.post(&format!("{path}/test"), &json!({})).await;
        let delivery = json_of(response, StatusCode::ACCEPTED).await;
        assert_eq!(delivery["webhook_id"], hook["id"]);
        assert_eq!(delivery["event_type"], "webhook.test");
        assert_eq!((&delivery["status"], &delivery["attempts"]), (&json!("pending"), &json!(0)));
        assert!(delivery["next_attempt_at"].is_string());
        let message = delivery["message_id"].as_str().expect("message id");
        assert!(message.starts_with("msg_") && message.len() == 36, "{message}");
        sent.push(delivery);
    }
    let payload: Vec<String> = {
        use dockgate::db::schema::webhook_events as ev;
        ev::table.select(ev::payload).load(&mut app.conn()).expect("events")
    };
    assert_eq!(payload.len(), 3);
    let body: Value = serde_json::from_str(&payload[0]).expect("a JSON body");
    assert_eq!((&body["type"], &body["data"]), (&json!("webhook.test"), &json!({"webhook_id": hook["id"]})));

    // Newest first, a page at a time.
    let page: Value = json_of(admin.get(&format!("{path}/deliveries?limit=2")).await, StatusCode::OK).await;
    let ids = |page: &Value| page["items"].as_array().expect("items").iter().map(id_of).collect::<Vec<_>>();
    assert_eq!(ids(&page), vec![id_of(&sent[2]), id_of(&sent[1])]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest: Value =
        json_of(admin.get(&format!("{path}/deliveries?limit=2&cursor={cursor}")).await, StatusCode::OK).await;
    assert_eq!((ids(&rest), &rest["next_cursor"]), (vec![id_of(&sent[0])], &Value::Null));

    // Given up, it shows so (and by the status filter); a retry starts it afresh.
    let failed = id_of(&sent[0]);
    fail(&app, failed);
    let only: Value =
        json_of(admin.get(&format!("{path}/deliveries?status=failed")).await, StatusCode::OK).await;
    assert_eq!(ids(&only), vec![failed]);
    assert_eq!(
        (&only["items"][0]["attempts"], &only["items"][0]["next_attempt_at"]),
        (&json!(8), &Value::Null)
    );
    assert_eq!(only["items"][0]["last_response_status"], 500);
    problem(admin.get(&format!("{path}/deliveries?status=lost")).await, StatusCode::BAD_REQUEST).await;

    let before = Utc::now();
    let retry = admin.post(&format!("{path}/deliveries/{failed}/retry"), &json!({})).await;
    let retried = json_of(retry, StatusCode::ACCEPTED).await;
    assert_eq!((&retried["status"], &retried["attempts"]), (&json!("pending"), &json!(0)));
    assert_eq!(retried["message_id"], sent[0]["message_id"], "the same message");
    let due = at(&retried, "next_attempt_at");
    assert!(
        due >= before - Duration::seconds(5) && due <= Utc::now() + Duration::seconds(5),
        "due now: {due}"
    );

    // Only through its own endpoint, and not while the endpoint is disabled.
    let other = create(&admin, &hooks_of(customer), json!({"url": NOWHERE})).await;
    let elsewhere = format!("{}/{}/deliveries/{failed}/retry", hooks_of(customer), id_of(&other));
    problem(admin.post(&elsewhere, &json!({})).await, StatusCode::NOT_FOUND).await;
    let missing = format!("{path}/deliveries/{}/retry", Uuid::now_v7());
    problem(admin.post(&missing, &json!({})).await, StatusCode::NOT_FOUND).await;
    admin.patch(&path, &json!({"status": "disabled"}), None).await;
    let refused = problem(
        admin.post(&format!("{path}/deliveries/{failed}/retry"), &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["type"], "urn:dockgate:problem:webhook-disabled");

    // Deleting the endpoint takes its log with it.
    assert_eq!(admin.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    let left: Count =
        diesel::sql_query("SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = $1")
            .bind::<SqlUuid, _>(id_of(&hook))
            .get_result(&mut app.conn())
            .expect("count");
    assert_eq!(left.n, 0);

    // The platform's endpoints have the same log.
    let platform = create(&admin, "/v1/webhooks", json!({"url": NOWHERE})).await;
    let platform = format!("/v1/webhooks/{}", id_of(&platform));
    let test = json_of(admin.post(&format!("{platform}/test"), &json!({})).await, StatusCode::ACCEPTED).await;
    let log: Value = json_of(admin.get(&format!("{platform}/deliveries")).await, StatusCode::OK).await;
    assert_eq!(ids(&log), vec![id_of(&test)]);
}

#[tokio::test]
async fn anyone_signed_in_reads_the_event_catalog() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let user = app.customer_user(customer, Role::User, &[]).await;
    let catalog = json_of(user.get("/v1/webhook-event-types").await, StatusCode::OK).await;
    let items = catalog["items"].as_array().expect("items");
    let types: Vec<&str> = items.iter().filter_map(|i| i["type"].as_str()).collect();
    let every: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(types, every);
    assert!(types.contains(&"webhook.test") && types.contains(&"user.access_changed"));
    for item in items {
        assert!(item["description"].as_str().is_some_and(|d| d.len() > 20), "{item}");
    }
    let anonymous = app.client.get(app.url("/v1/webhook-event-types")).send().await.expect("request");
    problem(anonymous, StatusCode::UNAUTHORIZED).await;
}
