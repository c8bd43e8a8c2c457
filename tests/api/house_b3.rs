//! Groups on the write path, one clock for sessions, tokens, keys and password links, and the
//! closed sets of the sign-in side (session end reasons, the authz reason, the health state).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use dockgate::clock::Clock;
use dockgate::db::schema::sessions;
use dockgate::identity::sessions::EndReason;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{SmtpSink, TestApp, id_of, problem};

/// An app whose clock the test holds, so it can move time instead of waiting.
async fn app_with_clock(adjust: impl FnOnce(&mut dockgate::Config)) -> (TestApp, Clock) {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| {
        clock = Some(config.clock.clone());
        adjust(config);
    })
    .await;
    (app, clock.expect("the clock"))
}

fn etag_of(response: &Response) -> String {
    response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned()
}

async fn json_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    response.json().await.expect("json")
}

/// The payload of a JWT, read without verifying it.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).expect("payload");
    serde_json::from_slice(&payload).expect("claims json")
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let response = app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("jwks");
    let jwks = json_of(response, StatusCode::OK).await;
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[tokio::test]
async fn a_groups_etag_is_its_view_so_a_new_member_makes_an_earlier_read_stale() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme Logistics").await);
    let created = admin.post(&format!("/v1/customers/{customer}/groups"), &json!({"name": "North"})).await;
    let created_tag = etag_of(&created);
    let group = id_of(&json_of(created, StatusCode::CREATED).await);
    let path = format!("/v1/customers/{customer}/groups/{group}");
    let read = admin.get(&path).await;
    assert_eq!(etag_of(&read), created_tag, "the answer to a write and a read of the same view agree");

    let member = json!({"name": "Pia Nord", "group_ids": [group]});
    let joined = admin.post(&format!("/v1/customers/{customer}/users"), &member).await;
    assert_eq!(joined.status(), StatusCode::CREATED);
    let read = admin.get(&path).await;
    let member_tag = etag_of(&read);
    assert_eq!(json_of(read, StatusCode::OK).await["member_count"], 1);
    assert_ne!(member_tag, created_tag, "the member count is part of what the client read");

    let rename = json!({"name": "North (Hamburg)"});
    problem(admin.patch(&path, &rename, Some(&created_tag)).await, StatusCode::PRECONDITION_FAILED).await;
    let renamed = admin.patch(&path, &rename, Some(&member_tag)).await;
    let renamed_tag = etag_of(&renamed);
    assert_eq!(json_of(renamed, StatusCode::OK).await["name"], "North (Hamburg)");
    assert_eq!(etag_of(&admin.get(&path).await), renamed_tag);
}

#[tokio::test]
async fn access_tokens_are_stamped_by_the_service_clock_and_still_verify() {
    let (app, clock) = app_with_clock(|_| {}).await;
    clock.advance(chrono::Duration::hours(3));
    let admin = app.admin().await;
    let claims = claims(&admin.access_token);
    let issued_at = claims["iat"].as_i64().expect("iat");
    let by_the_clock = clock.now().timestamp();
    assert!((by_the_clock - 5..=by_the_clock).contains(&issued_at), "iat {issued_at}, clock {by_the_clock}");
    assert_eq!(claims["exp"].as_i64().expect("exp") - issued_at, 900);
    assert_eq!(admin.get("/v1/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_link_expires_by_the_service_clock() {
    let sink = SmtpSink::start().await;
    let mut clock = None;
    let app = TestApp::spawn_with(|config| {
        config.mail = sink.transport();
        clock = Some(config.clock.clone());
    })
    .await;
    let clock = clock.expect("the clock");
    let admin = app.admin().await;
    let forgot = json!({"email": admin.email});
    let reset = |token: String| json!({"token": token, "password": "a freshly chosen passphrase"});

    let response = app.post_json("/v1/auth/password/forgot", &forgot).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let link = sink.wait_for(&admin.email).await.token("/password-reset");
    clock.advance(chrono::Duration::minutes(61));
    let expired = problem(
        app.post_json("/v1/auth/password/reset", &reset(link)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(expired["errors"][0]["field"], "token");

    // A link issued now lives its hour from now, by the same clock.
    let response = app.post_json("/v1/auth/password/forgot", &forgot).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let fresh = sink.wait_for_count(2).await.pop().expect("the second mail").token("/password-reset");
    clock.advance(chrono::Duration::minutes(59));
    let response = app.post_json("/v1/auth/password/reset", &reset(fresh)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_retired_key_leaves_the_jwks_once_the_service_clock_passes_its_tokens_lifetime() {
    let (app, clock) = app_with_clock(|_| {}).await;
    let new_kid = dockgate::identity::keys::rotate(&mut app.conn()).expect("rotate");
    assert_eq!(jwks_kids(&app).await.len(), 2, "the retired key stays while its tokens may live");
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(jwks_kids(&app).await, vec![new_kid]);
}

#[tokio::test]
async fn sessions_end_for_a_reason_of_the_closed_set_and_the_database_refuses_any_other() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let logout = app.post_json("/v1/auth/logout", &json!({"refresh_token": admin.refresh_token})).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let mut conn = app.conn();
    let recorded: Option<String> = sessions::table
        .filter(sessions::user_id.eq(admin.user_id))
        .select(sessions::revoked_reason)
        .first(&mut conn)
        .expect("the session");
    assert_eq!(recorded.as_deref().map(str::parse), Some(Ok(EndReason::Logout)));

    let session = sessions::table.filter(sessions::user_id.eq(admin.user_id));
    for reason in EndReason::ALL {
        diesel::update(session)
            .set(sessions::revoked_reason.eq(reason.as_str()))
            .execute(&mut conn)
            .expect("a known reason");
    }
    let unknown = diesel::update(session).set(sessions::revoked_reason.eq("user_removed")).execute(&mut conn);
    let error = unknown.expect_err("an unknown reason is refused");
    assert!(error.to_string().contains("sessions_revoked_reason_known"), "{error}");
}

#[tokio::test]
async fn the_authz_reason_and_the_health_state_are_closed_sets_in_the_document_and_the_answers() {
    let document: Value =
        serde_json::from_str(&dockgate::cli::openapi_json().expect("document")).expect("json");
    let schemas = &document["components"]["schemas"];
    let reasons: Vec<&str> = schemas["AuthzReason"]["enum"]
        .as_array()
        .expect("AuthzReason")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        reasons,
        ["allowed", "customer_not_visible", "permission_not_held", "group_not_visible", "unknown_group"]
    );
    assert_eq!(schemas["CheckResponse"]["properties"]["reason"]["$ref"], "#/components/schemas/AuthzReason");
    assert_eq!(schemas["HealthState"]["enum"], json!(["ok", "ready"]));
    assert_eq!(schemas["HealthStatus"]["properties"]["status"]["$ref"], "#/components/schemas/HealthState");

    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme Logistics").await);
    let check = |customer_id: Uuid, group_id: Option<Uuid>| json!({"permission": "orders.view", "customer_id": customer_id, "group_id": group_id});
    for (body, reason) in [
        (check(customer, None), "allowed"),
        (check(Uuid::now_v7(), None), "customer_not_visible"),
        (check(customer, Some(Uuid::now_v7())), "unknown_group"),
    ] {
        let answer = json_of(admin.post("/v1/authz/check", &body).await, StatusCode::OK).await;
        assert_eq!(answer["reason"], reason, "{body}");
        assert_eq!(answer["allowed"], reason == "allowed");
    }
    for (path, state) in [("/health/live", "ok"), ("/health/ready", "ready")] {
        let answer =
            json_of(app.client.get(app.url(path)).send().await.expect("health"), StatusCode::OK).await;
        assert_eq!(answer["status"], state);
    }
}
