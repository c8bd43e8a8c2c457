//! Idempotency-Key: a client that lost an answer sends the same request with the same key again
//! and gets the first answer byte for byte (`Idempotent-Replayed: true`), and nothing happens a
//! second time: no resource, no audit event, no mail.

use std::time::Duration;

use diesel::prelude::*;
use dockgate::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, TestApp, addresses_of, cost_centers_of, id_of, invitations_of, problem, unique_email, users_of,
};

/// What a client sees of an answer: every header a replay must repeat, and the exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    status: StatusCode,
    location: Option<String>,
    etag: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

#[derive(Debug)]
struct Answer {
    seen: Seen,
    replayed: Option<String>,
    retry_after: Option<String>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.seen.body).expect("a JSON body")
    }
}

async fn answer_of(response: reqwest::Response) -> Answer {
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().expect("ascii").to_owned());
    let (location, etag, content_type) = (header("location"), header("etag"), header("content-type"));
    let (replayed, retry_after) = (header("idempotent-replayed"), header("retry-after"));
    let status = response.status();
    let body = response.bytes().await.expect("body").to_vec();
    Answer { seen: Seen { status, location, etag, content_type, body }, replayed, retry_after }
}

/// `POST path` with the JSON text `body` and the header `Idempotency-Key: key`.
async fn post_keyed(actor: &Actor, path: &str, key: &str, body: &str) -> Answer {
    let request = actor
        .request(Method::POST, path)
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body.to_owned());
    answer_of(request.send().await.expect("request")).await
}

/// The first answer, and its replay: the same bytes and headers, marked as a replay.
async fn first_and_replay(actor: &Actor, path: &str, key: &str, body: &str, status: StatusCode) -> Answer {
    let first = post_keyed(actor, path, key, body).await;
    assert_eq!(first.seen.status, status, "{}", String::from_utf8_lossy(&first.seen.body));
    assert_eq!(first.replayed, None, "a first answer is no replay");
    let again = post_keyed(actor, path, key, body).await;
    assert_eq!(again.seen, first.seen, "the replay is the first answer byte for byte");
    assert_eq!(again.replayed.as_deref(), Some("true"));
    first
}

fn rows(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<Count>(&mut app.conn()).expect("count").n
}

fn keys_of(app: &TestApp) -> Vec<String> {
    use dockgate::db::schema::idempotency_keys as k;
    k::table.order(k::created_at.asc()).select(k::key).load(&mut app.conn()).expect("keys")
}

#[tokio::test]
async fn a_retried_customer_creation_is_the_first_answer_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = r#"{"name": "Acme", "code": "ACME-1"}"#;
    let first = first_and_replay(&admin, "/v1/customers", "order-4711", body, StatusCode::CREATED).await;
    assert!(first.seen.location.is_some() && first.seen.etag.is_some());
    assert_eq!(first.seen.content_type.as_deref(), Some("application/json"));

    // The same request re-serialized (other key order, other white space) is the same request.
    let reordered =
        post_keyed(&admin, "/v1/customers", "order-4711", r#"{ "code":"ACME-1","name":"Acme" }"#).await;
    assert_eq!(reordered.seen, first.seen);
    // And the key quoted as an RFC 8941 string is the same key.
    let quoted = post_keyed(&admin, "/v1/customers", "\"order-4711\"", body).await;
    assert_eq!(quoted.seen, first.seen);

    assert_eq!(admin.list("/v1/customers").await.len(), 1, "one customer");
    assert_eq!(app.actions(), ["customer.created"], "one audit event");
}

#[tokio::test]
async fn a_retried_user_creation_sends_one_welcome_mail() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let email = unique_email("jana");
    let body = json!({"name": "Jana", "email": email, "send_mail": true}).to_string();
    let first = first_and_replay(&admin, &users_of(acme), "jana-1", &body, StatusCode::CREATED).await;
    let jana = id_of(&first.json());
    assert_eq!(first.seen.location, Some(format!("/v1/customers/{acme}/users/{jana}")));

    assert_eq!(admin.list_ids(&users_of(acme)).await, [jana]);
    assert_eq!(app.actions_on(jana), ["user.created"]);
    assert_eq!(app.outbox().iter().filter(|m| m.recipient == email).count(), 1, "one welcome mail");
}

#[tokio::test]
async fn a_retried_bulk_invitation_invites_and_mails_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let (a, b) = (unique_email("ana"), unique_email("ben"));
    let body = json!({"emails": [a, b, "not an address"]}).to_string();
    let first = first_and_replay(&admin, &invitations_of(acme), "wave-1", &body, StatusCode::OK).await;
    let results = first.json()["results"].as_array().cloned().expect("results");
    assert_eq!(results.iter().filter(|r| r["outcome"] == "invited").count(), 2);
    assert_eq!((first.seen.location, first.seen.etag), (None, None));

    assert_eq!(admin.list(&invitations_of(acme)).await.len(), 2, "two invitations");
    let invited = app.actions().iter().filter(|a| *a == "invitation.created").count();
    assert_eq!(invited, 2, "two audit events");
    for email in [a, b] {
        assert_eq!(app.outbox().iter().filter(|m| m.recipient == email).count(), 1, "one mail to {email}");
    }
}

#[tokio::test]
async fn every_creating_post_takes_a_key() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let created = [
        (addresses_of(acme), crate::helpers::address("Main").to_string()),
        (cost_centers_of(acme), json!({"code": "CC-1", "name": "Depot"}).to_string()),
        (format!("/v1/customers/{acme}/groups"), json!({"name": "North"}).to_string()),
        (
            "/v1/staff".to_owned(),
            json!({"email": unique_email("sam"), "name": "Sam", "role": "dispatcher", "send_mail": true})
                .to_string(),
        ),
    ];
    for (i, (path, body)) in created.into_iter().enumerate() {
        let before = app.actions().len();
        first_and_replay(&admin, &path, &format!("k-{i}"), &body, StatusCode::CREATED).await;
        assert_eq!(app.actions().len(), before + 1, "one event for {path}");
    }
}

#[tokio::test]
async fn the_key_with_another_request_is_a_422_and_other_callers_have_their_own_keys() {
    let app = TestApp::spawn().await;
    let (admin, other_admin) = (app.admin().await, app.admin().await);
    let acme = id_of(&admin.create_customer("Acme").await);
    let path = cost_centers_of(acme);
    post_keyed(&admin, &path, "k", r#"{"code": "CC-1", "name": "Depot"}"#).await;

    let reused = post_keyed(&admin, &path, "k", r#"{"code": "CC-2", "name": "Depot"}"#).await;
    assert_eq!(reused.seen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.json()["type"], "urn:dockgate:problem:idempotency-key-reused");
    // Another operation with the key is another request too.
    let elsewhere =
        post_keyed(&admin, &addresses_of(acme), "k", &crate::helpers::address("Main").to_string()).await;
    assert_eq!(elsewhere.json()["type"], "urn:dockgate:problem:idempotency-key-reused");

    // Someone else's "k" is not the admin's.
    let theirs = post_keyed(&other_admin, &path, "k", r#"{"code": "CC-2", "name": "Depot"}"#).await;
    assert_eq!(theirs.seen.status, StatusCode::CREATED);
    assert_eq!(theirs.replayed, None);
    assert_eq!(admin.list(&path).await.len(), 2);
}

#[tokio::test]
async fn a_malformed_or_repeated_key_is_a_400_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = r#"{"name": "Acme", "code": "ACME-1"}"#;
    let long = "k".repeat(256);
    for key in ["", "\"\"", long.as_str(), "\"unclosed", "tab\there"] {
        let answer = post_keyed(&admin, "/v1/customers", key, body).await;
        assert_eq!(answer.seen.status, StatusCode::BAD_REQUEST, "{key:?}");
        assert_eq!(answer.json()["type"], "urn:dockgate:problem:malformed-request");
    }
    let non_ascii = reqwest::header::HeaderValue::from_bytes("schlüssel".as_bytes()).expect("obs-text");
    let request = admin.request(Method::POST, "/v1/customers").header("idempotency-key", non_ascii);
    let response =
        request.header("content-type", "application/json").body(body).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let twice = admin
        .request(Method::POST, "/v1/customers")
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    problem(twice, StatusCode::BAD_REQUEST).await;
    let exactly_255 = post_keyed(&admin, "/v1/customers", &"k".repeat(255), body).await;
    assert_eq!(exactly_255.seen.status, StatusCode::CREATED);
    assert_eq!(admin.list("/v1/customers").await.len(), 1);
}

#[tokio::test]
async fn a_deterministic_failure_is_replayed_even_once_the_cause_is_gone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    // An unknown warehouse address is found inside the creating transaction: a 422 recorded.
    let bogus = Uuid::now_v7();
    let body = json!({"name": "Jana", "warehouse_address_id": bogus}).to_string();
    let failed =
        first_and_replay(&admin, &users_of(acme), "jana", &body, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(failed.seen.content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(failed.json()["errors"][0]["field"], "warehouse_address_id");

    // A code taken is a 409 recorded; freeing the code does not turn the replay into a success.
    let path = cost_centers_of(acme);
    let taken = json!({"code": "CC-1", "name": "Depot"}).to_string();
    let holder = post_keyed(&admin, &path, "first", &taken).await;
    let conflict = first_and_replay(&admin, &path, "second", &taken, StatusCode::CONFLICT).await;
    assert_eq!(conflict.json()["type"], "urn:dockgate:problem:code-taken");
    let holder_path = holder.seen.location.expect("location");
    assert_eq!(
        admin.delete(&holder_path, holder.seen.etag.as_deref()).await.status(),
        StatusCode::NO_CONTENT
    );
    let replay = post_keyed(&admin, &path, "second", &taken).await;
    assert_eq!((replay.seen, replay.replayed.as_deref()), (conflict.seen, Some("true")));
    assert!(admin.list(&users_of(acme)).await.is_empty());
}

#[tokio::test]
async fn a_failure_that_is_not_the_requests_fault_is_not_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let path = cost_centers_of(acme);
    let body = json!({"code": "CC-1", "name": "Depot"}).to_string();

    // 401: the key is never looked at.
    let stranger = app.bearer("not-a-token");
    assert_eq!(post_keyed(&stranger, &path, "k", &body).await.seen.status, StatusCode::UNAUTHORIZED);
    // A signed-out session's token: 401 too, nothing recorded for the person.
    let gone = app.sign_in_again(&admin).await;
    assert_eq!(gone.logout().await.status(), StatusCode::NO_CONTENT);
    assert_eq!(post_keyed(&gone, &path, "k", &body).await.seen.status, StatusCode::UNAUTHORIZED);
    assert!(keys_of(&app).is_empty());

    // A 500 inside the creating transaction gives the key up: the retry runs again.
    let mut conn = app.conn();
    diesel::sql_query(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$",
    )
    .execute(&mut conn)
    .expect("function");
    diesel::sql_query(
        "CREATE TRIGGER refuse BEFORE INSERT ON cost_centers FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    .execute(&mut conn)
    .expect("trigger");
    let failed = post_keyed(&admin, &path, "k", &body).await;
    assert_eq!(failed.seen.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(keys_of(&app).is_empty(), "a 500 is not recorded");
    diesel::sql_query("DROP TRIGGER refuse ON cost_centers").execute(&mut conn).expect("drop");
    let retried = post_keyed(&admin, &path, "k", &body).await;
    assert_eq!((retried.seen.status, retried.replayed), (StatusCode::CREATED, None));
    assert_eq!(admin.list(&path).await.len(), 1);
}

#[tokio::test]
async fn two_requests_with_one_key_at_once_create_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let path = users_of(acme);
    // With a password, so both spend a while hashing it before they claim the key.
    let body = json!({"name": "Jana", "email": unique_email("jana"), "password": "a long depot passphrase"})
        .to_string();
    let (one, two) =
        tokio::join!(post_keyed(&admin, &path, "k", &body), post_keyed(&admin, &path, "k", &body));
    let mut answers = [one, two];
    answers.sort_by_key(|a| (a.seen.status != StatusCode::CREATED || a.replayed.is_some(), a.seen.status));
    let [first, second] = answers;
    assert_eq!((first.seen.status, first.replayed.as_deref()), (StatusCode::CREATED, None));
    match second.seen.status {
        StatusCode::CONFLICT => {
            assert_eq!(second.json()["type"], "urn:dockgate:problem:idempotency-key-in-flight");
            assert_eq!(second.retry_after.as_deref(), Some("1"));
        }
        StatusCode::CREATED => {
            assert_eq!(second.replayed.as_deref(), Some("true"));
            assert_eq!(second.seen, first.seen);
        }
        other => panic!("one creation and one 409 or replay, not {other}"),
    }
    assert_eq!(admin.list(&path).await.len(), 1, "never two creations");
    assert_eq!(app.actions().iter().filter(|a| *a == "user.created").count(), 1);
}

#[tokio::test]
async fn a_key_whose_first_request_died_is_in_flight_until_its_lock_runs_out_then_runs_again() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let path = addresses_of(acme);
    let body = crate::helpers::address("Main").to_string();
    // A first request recorded the fingerprint of this request (the key is not part of it) ...
    post_keyed(&admin, &path, "earlier", &body).await;
    // ... and "crashed" holds a claim, as a request that died between claim and commit leaves it.
    let claim = |locked_until: &str| {
        format!(
            "INSERT INTO idempotency_keys (caller_id, caller_kind, key, fingerprint, state, attempt, locked_until, created_at) \
             SELECT caller_id, caller_kind, 'crashed', fingerprint, 'in_flight', gen_random_uuid(), {locked_until}, now() \
             FROM idempotency_keys WHERE key = 'earlier'"
        )
    };
    diesel::sql_query(claim("now() + interval '1 minute'")).execute(&mut app.conn()).expect("claim");
    let held = post_keyed(&admin, &path, "crashed", &body).await;
    assert_eq!(held.seen.status, StatusCode::CONFLICT);
    assert_eq!(held.json()["type"], "urn:dockgate:problem:idempotency-key-in-flight");
    assert_eq!(held.retry_after.as_deref(), Some("1"));

    diesel::sql_query("DELETE FROM idempotency_keys WHERE key = 'crashed'")
        .execute(&mut app.conn())
        .expect("reset");
    diesel::sql_query(claim("now() - interval '1 second'")).execute(&mut app.conn()).expect("claim");
    let taken_over = post_keyed(&admin, &path, "crashed", &body).await;
    assert_eq!((taken_over.seen.status, taken_over.replayed), (StatusCode::CREATED, None));
    assert_eq!(admin.list(&path).await.len(), 2, "the retry ran");
    let replay = post_keyed(&admin, &path, "crashed", &body).await;
    assert_eq!((replay.seen, replay.replayed.as_deref()), (taken_over.seen, Some("true")));
    assert_eq!(rows(&app, "SELECT count(*) AS n FROM idempotency_keys WHERE state = 'completed'"), 2);
}

#[tokio::test]
async fn keys_older_than_their_time_are_purged_and_younger_ones_kept() {
    let clock = Clock::default();
    let app = {
        let clock = clock.clone();
        TestApp::spawn_with(move |config| config.clock = clock).await
    };
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let path = cost_centers_of(acme);
    post_keyed(&admin, &path, "old", r#"{"code": "CC-1", "name": "Depot"}"#).await;
    clock.advance(chrono::Duration::hours(25));
    post_keyed(&admin, &path, "young", r#"{"code": "CC-2", "name": "Depot"}"#).await;

    let ttl = Duration::from_secs(24 * 3600);
    let purged = dockgate::idempotency::purge(&mut app.conn(), clock.now(), ttl).expect("purge");
    assert_eq!(purged, 1);
    assert_eq!(keys_of(&app), ["young"]);
    // The old key is free again: a new request with it is a new request, not a 422.
    let reused = post_keyed(&admin, &path, "old", r#"{"code": "CC-3", "name": "Depot"}"#).await;
    assert_eq!((reused.seen.status, reused.replayed), (StatusCode::CREATED, None));
    let young = post_keyed(&admin, &path, "young", r#"{"code": "CC-2", "name": "Depot"}"#).await;
    assert_eq!(young.replayed.as_deref(), Some("true"));
}

/// A secret is kept only as its hash, so it cannot be recorded: the replay of an API client's
/// or a long-lived token's creation is the same client or token, with the secret `null`, and the
/// secret of the first answer is the one that works.
#[tokio::test]
async fn a_retried_creation_that_showed_a_secret_replays_without_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let clients = format!("/v1/customers/{acme}/api-clients");
    let body = json!({"name": "ERP", "scopes": ["users.manage"]}).to_string();
    let first = post_keyed(&admin, &clients, "erp-client-1", &body).await;
    assert_eq!(first.seen.status, StatusCode::CREATED);
    let again = post_keyed(&admin, &clients, "erp-client-1", &body).await;
    assert_eq!(again.replayed.as_deref(), Some("true"));
    let (shown, replayed) = (first.json(), again.json());
    assert!(shown["client_secret"].as_str().is_some_and(|s| s.starts_with("dgcs_")));
    assert_eq!(replayed["client_secret"], Value::Null, "the replay has no secret to show");
    assert_eq!(replayed["id"], shown["id"]);
    assert_eq!(
        (again.seen.location.clone(), again.seen.etag.clone()),
        (first.seen.location, first.seen.etag)
    );
    assert_eq!(admin.list(&clients).await.len(), 1, "one client");
    let secret_in_keys = rows(
        &app,
        &format!(
            "SELECT count(*) AS n FROM idempotency_keys WHERE position('{}' in convert_from(body, 'UTF8')) > 0",
            shown["client_secret"].as_str().unwrap_or_default()
        ),
    );
    assert_eq!(secret_in_keys, 0, "no secret in a recorded answer");

    let client = id_of(&shown);
    let tokens = format!("{clients}/{client}/tokens");
    let body = json!({"name": "SCIM connector"}).to_string();
    let first = post_keyed(&admin, &tokens, "scim-token-1", &body).await;
    assert_eq!(first.seen.status, StatusCode::CREATED);
    let again = post_keyed(&admin, &tokens, "scim-token-1", &body).await;
    assert!(first.json()["token"].as_str().is_some_and(|t| t.starts_with("dgt_")));
    assert_eq!(again.json()["token"], Value::Null);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(admin.list(&tokens).await.len(), 1, "one token");
    let token = first.json()["token"].as_str().unwrap_or_default().to_owned();
    let users = app.bearer(&token).get(&users_of(acme)).await;
    assert_eq!(users.status(), StatusCode::OK, "the token first shown works");
}

/// An import is written in batches, each its own transaction; its report is recorded for the key
/// once the last batch is in, and a retry gets it instead of a second import.
#[tokio::test]
async fn a_retried_import_is_its_first_report_and_imports_nothing_again() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let import = format!("/v1/customers/{acme}/users/import");
    let body = json!([
        {"name": "Jana Berg", "email": unique_email("jana"), "external_id": "ERP-1", "send_mail": true},
        {"name": "Piet Smit", "email": unique_email("piet"), "external_id": "ERP-2", "send_mail": true},
    ])
    .to_string();
    let first = first_and_replay(&admin, &import, "import-2026-12-01", &body, StatusCode::OK).await;
    assert_eq!(first.json()["summary"]["created"], 2, "{}", first.json());
    assert_eq!(admin.list(&users_of(acme)).await.len(), 2, "imported once");
    assert_eq!(app.actions(), ["customer.created", "user.created", "user.created"]);
    assert_eq!(app.outbox().len(), 2, "one welcome mail each");

    // The same file as a dry run is another request, not a replay of the real one.
    let dry = post_keyed(&admin, &format!("{import}?dry_run=true"), "import-2026-12-01", &body).await;
    assert_eq!(dry.seen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(dry.json()["type"], "urn:dockgate:problem:idempotency-key-reused");
}
