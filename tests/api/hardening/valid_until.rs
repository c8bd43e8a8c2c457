//! Accounts valid until a date (issue 16): a seasonal worker signs in until its end, then is
//! refused like a deactivated account — sign-in, refresh and the live session — and the first
//! refusal is audited once; the list finds who is about to expire; a new end lets it back in.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use dockgate::clock::Clock;
use dockgate::db::schema::audit_events;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{MEMBER_PASSWORD, TestApp, id_of, json_of};

fn expired_events(app: &TestApp, target: Uuid) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq("user.expired"))
        .filter(audit_events::target_id.eq(target))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

#[tokio::test]
async fn a_seasonal_worker_works_until_its_end_then_is_refused_and_audited_once() {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| clock = Some(config.clock.clone())).await;
    let clock: Clock = clock.expect("the clock");
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Harvest Logistics").await);
    let until = clock.now() + Duration::days(2);
    let worker = staff.add_person(customer, "sam", json!({"valid_until": until})).await;
    let permanent = staff.add_person(customer, "kim", json!({})).await;
    let shown = worker["valid_until"].as_str().map(|t| t.parse::<chrono::DateTime<Utc>>().expect("a time"));
    assert!(shown.is_some_and(|shown| (shown - until).num_milliseconds().abs() < 1), "{shown:?}");
    let session = app.sign_in_member(&worker).await;
    assert_eq!(session.get("/v1/me").await.status(), StatusCode::OK);

    // Who expires within three days: the worker, not the permanent colleague.
    let before = (clock.now() + Duration::days(3)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!("/v1/customers/{customer}/users?expiring_before={before}");
    let expiring: Vec<Uuid> = staff.list(&path).await.iter().map(id_of).collect();
    assert_eq!(expiring, vec![id_of(&worker)]);
    assert!(!expiring.contains(&id_of(&permanent)));

    clock.advance(Duration::days(3));
    assert_eq!(session.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(session.refresh().await.status(), StatusCode::UNAUTHORIZED);
    let email = worker["email"].as_str().expect("an e-mail");
    assert_eq!(app.login(email, MEMBER_PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(expired_events(&app, id_of(&worker)), 1, "the end is recorded once");

    // A new end: the worker is back, and that end will be recorded in turn.
    let view = staff.get_user(customer, id_of(&worker)).await;
    let user_path = format!("/v1/customers/{customer}/users/{}", id_of(&worker));
    let etag = staff.get(&user_path).await.headers()["etag"].to_str().expect("etag").to_owned();
    let later = clock.now() + Duration::days(30);
    let patched =
        json_of(staff.patch(&user_path, &json!({"valid_until": later}), Some(&etag)).await, StatusCode::OK)
            .await;
    assert_ne!(patched["valid_until"], view["valid_until"]);
    assert_eq!(app.login(email, MEMBER_PASSWORD).await.status(), StatusCode::OK);
    clock.advance(Duration::days(31));
    assert_eq!(app.login(email, MEMBER_PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(expired_events(&app, id_of(&worker)), 2);
}

#[tokio::test]
async fn staff_can_be_valid_until_a_date_too() {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| clock = Some(config.clock.clone())).await;
    let clock: Clock = clock.expect("the clock");
    let admin = app.admin().await;
    let until = clock.now() + Duration::hours(6);
    let email = crate::helpers::unique_email("temp-dispatcher");
    let body = json!({"name": "Temp", "email": email, "role": "dispatcher", "password": MEMBER_PASSWORD,
        "valid_until": until});
    let created = json_of(admin.post("/v1/staff", &body).await, StatusCode::CREATED).await;
    assert!(created["valid_until"].is_string());
    assert_eq!(app.login(&email, MEMBER_PASSWORD).await.status(), StatusCode::OK);
    clock.advance(Duration::hours(7));
    assert_eq!(app.login(&email, MEMBER_PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(expired_events(&app, id_of(&created)), 1);
}
