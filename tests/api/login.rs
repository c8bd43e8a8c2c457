//! Signing in, refreshing, signing out, and the limits on failed attempts.

use diesel::prelude::*;
use dockgate::accounts::AccountStatus;
use dockgate::db::schema::users;
use dockgate::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, problem};

#[tokio::test]
async fn a_platform_admin_signs_in_and_reads_itself() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let response = admin.get("/v1/me").await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.expect("json");
    assert_eq!(me["id"], json!(admin.user_id));
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["role"], "platform_admin");
    assert_eq!(me["customer_ids"], json!(["*"]));
    assert_eq!(me["groups"], json!(["*"]));
    assert!(me["last_login_at"].is_string());
    assert!(me.get("password_hash").is_none());
}

#[tokio::test]
async fn the_login_response_is_a_bearer_pair_that_is_not_cached() {
    let app = TestApp::spawn().await;
    let row = app.insert_staff(Role::Dispatcher, "Dana@Operator.example", PASSWORD, &[]);

    // E-mail addresses are compared case-insensitively.
    let response = app.login("dana@OPERATOR.example", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.starts_with("dgr_") && t.len() >= 47));
    assert_eq!(body["access_token"].as_str().map(|t| t.split('.').count()), Some(3));
    let me: Value = app.holder_of(&body).get("/v1/me").await.json().await.expect("me");

    assert_eq!(me["id"], json!(row.id));
}

#[tokio::test]
async fn unknown_email_wrong_password_and_deactivated_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    let deactivated = app.insert_staff(Role::Dispatcher, "gone@operator.example", PASSWORD, &[]);
    diesel::update(users::table.find(deactivated.id))
        .set(users::status.eq(AccountStatus::Deactivated))
        .execute(&mut app.conn())
        .expect("deactivate");
    app.insert_staff(Role::Dispatcher, "here@operator.example", PASSWORD, &[]);

    let mut bodies = Vec::new();
    for (email, password) in [
        ("nobody@operator.example", PASSWORD),
        ("here@operator.example", "wrong horse battery staple"),
        ("gone@operator.example", PASSWORD),
    ] {
        let response = app.login(email, password).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        bodies.push(problem(response, StatusCode::UNAUTHORIZED).await);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_with_retry_after() {
    let app = TestApp::spawn_with(|config| config.login_limits.per_account_and_client = 3).await;
    app.insert_staff(Role::Dispatcher, "target@operator.example", PASSWORD, &[]);

    for _ in 0..3 {
        let response = app.login("target@operator.example", "wrong horse battery staple").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused until the window moves on.
    let response = app.login("target@operator.example", PASSWORD).await;
    let retry_after: u64 =
        response.headers()["retry-after"].to_str().ok().and_then(|v| v.parse().ok()).expect("retry-after");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    problem(response, StatusCode::TOO_MANY_REQUESTS).await;

    // Another account from the same address is not affected by this account's limit.
    app.insert_staff(Role::Dispatcher, "other@operator.example", PASSWORD, &[]);
    assert_eq!(app.login("other@operator.example", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_per_account_limit_holds_whatever_the_address() {
    let app = TestApp::spawn_with(|config| config.login_limits.per_account = 2).await;
    app.insert_staff(Role::Dispatcher, "victim@operator.example", PASSWORD, &[]);
    // Failures recorded from other addresses count towards the account's limit.
    diesel::sql_query(
        "INSERT INTO login_failures (email, client_addr) VALUES ('VICTIM@operator.example', '203.0.113.7'), ('victim@operator.example', '198.51.100.9')",
    )
    .execute(&mut app.conn())
    .expect("seed failures");
    problem(app.login("victim@operator.example", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn the_per_client_limit_counts_every_account_from_one_address() {
    let app = TestApp::spawn_with(|config| config.login_limits.per_client = 3).await;
    for n in 0..3 {
        app.login(&format!("spray{n}@operator.example"), "wrong horse battery staple").await;
    }
    problem(app.login("another@operator.example", "anything at all").await, StatusCode::TOO_MANY_REQUESTS)
        .await;
}

#[tokio::test]
async fn two_instances_share_the_failure_count() {
    let first = TestApp::spawn_with(|config| config.login_limits.per_account_and_client = 4).await;
    let second =
        TestApp::spawn_on(first.db.clone(), |config| config.login_limits.per_account_and_client = 4).await;
    first.insert_staff(Role::Dispatcher, "shared@operator.example", PASSWORD, &[]);
    for app in [&first, &second, &first, &second] {
        assert_eq!(
            app.login("shared@operator.example", "wrong horse battery staple").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    problem(second.login("shared@operator.example", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS).await;
    problem(first.login("shared@operator.example", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn a_refresh_token_rotates_and_works_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let response = admin.refresh().await;
    assert_eq!(response.status(), StatusCode::OK);
    let rotated = admin.with_pair(&response.json().await.expect("json"));
    assert_ne!(rotated.refresh_token, admin.refresh_token);
    assert_eq!(rotated.get("/v1/me").await.status(), StatusCode::OK);

    assert_eq!(rotated.refresh().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let thief = admin.clone();

    // The legitimate client rotates...
    let current = admin.refreshed().await;

    // ...then the thief replays the old token: refused, and the session is over for both.
    problem(thief.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(current.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(current.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;

    // A new sign-in starts a fresh session.
    assert_eq!(app.login(&admin.email, &admin.password).await.status(), StatusCode::OK);
}

/// A rotation claims its token only while it is unused: of the same refresh token presented
/// eight times at once (across two instances), exactly one gets a new pair, the rest are a
/// reuse, and the session is over — the new pair included.
#[tokio::test]
async fn one_refresh_token_presented_at_once_rotates_once_and_ends_the_session() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(first.db.clone(), |_| {}).await;
    let admin = first.admin().await;
    let body = json!({"refresh_token": admin.refresh_token});
    let attempts = (0..8).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        app.post_json("/v1/auth/refresh", &body)
    });
    let responses = futures_util::future::join_all(attempts).await;
    let statuses: Vec<StatusCode> = responses.iter().map(reqwest::Response::status).collect();
    let rotated = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert_eq!((rotated, refused), (1, 7), "{statuses:?}");

    let mut responses = responses.into_iter();
    let winner = responses.find(|r| r.status() == StatusCode::OK).expect("one rotation");
    let winner = admin.with_pair(&winner.json().await.expect("json"));
    problem(winner.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(winner.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let reason: Option<String> = dockgate::db::schema::sessions::table
        .filter(dockgate::db::schema::sessions::user_id.eq(admin.user_id))
        .select(dockgate::db::schema::sessions::revoked_reason)
        .first(&mut first.conn())
        .expect("the session");
    assert_eq!(reason.as_deref(), Some("refresh_token_reuse"));
}

#[tokio::test]
async fn unknown_and_malformed_refresh_tokens_are_401() {
    let app = TestApp::spawn().await;
    problem(
        app.post_json("/v1/auth/refresh", &json!({"refresh_token": "dgr_not-a-real-token"})).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        app.post_json("/v1/auth/refresh", &json!({"refresh_token": ""})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn logout_ends_the_session_and_its_access_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let other_session = app.sign_in_again(&admin).await;

    assert_eq!(admin.logout().await.status(), StatusCode::NO_CONTENT);
    problem(admin.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(admin.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;

    // Other sessions of the same person live on.
    assert_eq!(other_session.get("/v1/me").await.status(), StatusCode::OK);
    // Logging out twice, or with nonsense, is harmless.
    assert_eq!(admin.logout().await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn deactivating_a_person_ends_its_access_and_refresh() {
    let app = TestApp::spawn().await;
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    diesel::update(users::table.find(dispatcher.user_id))
        .set(users::status.eq(AccountStatus::Deactivated))
        .execute(&mut app.conn())
        .expect("deactivate");

    problem(dispatcher.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    problem(dispatcher.refresh().await, StatusCode::UNAUTHORIZED).await;
}

/// The count is taken before the password is checked: of 40 wrong guesses sent at the same
/// moment across two instances, only the first 10 are evaluated; the rest are refused unread.
#[tokio::test]
async fn forty_concurrent_wrong_passwords_across_two_instances_evaluate_at_most_ten() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(first.db.clone(), |_| {}).await;
    first.insert_staff(Role::Dispatcher, "guessed@operator.example", PASSWORD, &[]);
    let guesses = (0..40).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        app.login("guessed@operator.example", "wrong horse battery staple")
    });
    let statuses: Vec<StatusCode> =
        futures_util::future::join_all(guesses).await.iter().map(reqwest::Response::status).collect();
    let evaluated = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((evaluated, refused), (10, 30), "{statuses:?}");
    let counted: i64 = dockgate::db::schema::login_failures::table
        .count()
        .get_result(&mut first.conn())
        .expect("count failures");
    assert_eq!(counted, 10, "only the evaluated guesses are recorded");
}

/// A success does not count: its reservation is released, together with the account's earlier
/// failures from the same address.
#[tokio::test]
async fn a_successful_sign_in_releases_its_reservation() {
    let app = TestApp::spawn_with(|config| config.login_limits.per_account_and_client = 3).await;
    app.insert_staff(Role::Dispatcher, "careful@operator.example", PASSWORD, &[]);
    for _ in 0..2 {
        assert_eq!(
            app.login("careful@operator.example", "wrong horse battery staple").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for _ in 0..5 {
        assert_eq!(app.login("careful@operator.example", PASSWORD).await.status(), StatusCode::OK);
    }
    let counted: i64 = dockgate::db::schema::login_failures::table
        .count()
        .get_result(&mut app.conn())
        .expect("count failures");
    assert_eq!(counted, 0);
}

/// Refreshing slides each refresh token, never the session: at `SESSION_MAX_AGE` from the
/// sign-in the session ends, however recently it was refreshed, and its access token with it.
#[tokio::test]
async fn a_session_ends_at_its_maximum_age_however_often_it_is_refreshed() {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| {
        config.sessions.max_age = std::time::Duration::from_secs(2 * 24 * 3600);
        clock = Some(config.clock.clone());
    })
    .await;
    let clock = clock.expect("the clock");
    let admin = app.admin().await;
    let mut session = admin.clone();
    for _ in 0..3 {
        clock.advance(chrono::Duration::hours(15));
        let response = session.refresh().await;
        assert_eq!(response.status(), StatusCode::OK, "within the maximum age");
        session = session.with_pair(&response.json().await.expect("pair"));
        assert_eq!(session.get("/v1/me").await.status(), StatusCode::OK);
    }
    clock.advance(chrono::Duration::hours(4));
    problem(session.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(session.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    // Signing in again starts a new session.
    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), StatusCode::OK);
}
