//! Health and metrics.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, problem};

#[tokio::test]
async fn live_and_ready_answer_when_all_is_well() {
    let app = TestApp::spawn().await;
    let live = app.client.get(app.url("/health/live")).send().await.expect("live");
    assert_eq!(live.status(), StatusCode::OK);
    let ready: Value =
        app.client.get(app.url("/health/ready")).send().await.expect("ready").json().await.expect("json");
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn ready_is_503_while_a_migration_is_pending() {
    let app = TestApp::spawn().await;
    diesel::sql_query("DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)")
        .execute(&mut app.conn())
        .expect("forget the newest migration");
    let response = app.client.get(app.url("/health/ready")).send().await.expect("ready");
    assert!(response.headers().contains_key("retry-after"));
    problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    // Liveness does not depend on the database.
    assert_eq!(app.client.get(app.url("/health/live")).send().await.expect("live").status(), StatusCode::OK);
}

#[tokio::test]
async fn ready_and_database_work_are_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.db.drop_now();
    let response = app.client.get(app.url("/health/ready")).send().await.expect("ready");
    problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    let response = admin.get("/v1/me").await;
    let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(!body.to_string().contains("dockgate_test_"), "no connection details leak: {body}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.get("/v1/me").await;
    app.client.get(app.url("/no/such/thing/12345")).send().await.expect("404");

    let response = app.client.get(app.url("/metrics")).send().await.expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    assert!(text.contains(r#"http_requests_total{method="GET",route="/v1/me",status="200"} 1"#), "{text}");
    assert!(
        text.contains(r#"http_requests_total{method="POST",route="/v1/auth/login",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#), "{text}");
    assert!(!text.contains("12345"), "raw paths never become labels");
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_max_connections 4"));
    assert!(text.contains("mail_outbox_pending 0"), "{text}");
    assert!(text.contains("mail_outbox_failed 0"), "{text}");
}

#[tokio::test]
async fn metrics_show_the_mail_outbox_depth() {
    use dockgate::db::schema::mail_outbox as o;
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let mail = dockgate::mail::Mail::PasswordReset {
        name: "Ada".into(),
        link: "http://localhost:3000/password-reset?token=t".into(),
        link_valid_for: "1 hour".into(),
    };
    let email = dockgate::db::types::Email::parse("ada@customer.example").expect("email");
    let mut queue = || dockgate::mail::enqueue(&mut conn, None, &email, &mail).expect("enqueue");
    let (later, also_later, given_up) = (queue(), queue(), queue());
    // Out of the worker's reach: two due tomorrow, one already given up.
    diesel::sql_query(
        "UPDATE mail_outbox SET next_attempt_at = now() + interval '1 day' WHERE id IN ($1, $2)",
    )
    .bind::<diesel::sql_types::Uuid, _>(later)
    .bind::<diesel::sql_types::Uuid, _>(also_later)
    .execute(&mut app.conn())
    .expect("postpone");
    diesel::update(o::table.filter(o::id.eq(given_up)))
        .set(o::status.eq("failed"))
        .execute(&mut app.conn())
        .expect("give up");

    let text = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(text.contains("mail_outbox_pending 2"), "{text}");
    assert!(text.contains("mail_outbox_failed 1"), "{text}");
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_configured() {
    let app =
        TestApp::spawn_with(|config| config.metrics_token = Some("scrape-secret".to_owned().into())).await;
    problem(app.client.get(app.url("/metrics")).send().await.expect("metrics"), StatusCode::UNAUTHORIZED)
        .await;
    problem(app.bearer("wrong").get("/metrics").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.bearer("scrape-secret").get("/metrics").await.status(), StatusCode::OK);
}
