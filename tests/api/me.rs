//! The signed-in person edits itself and changes its password.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

#[tokio::test]
async fn a_person_updates_its_name_and_phone_with_merge_patch() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let response =
        admin.patch("/v1/me", &json!({"name": "  Ada Admin ", "phone": "+49 30 1234567"}), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("etag"));
    let me: Value = response.json().await.expect("json");
    assert_eq!(me["name"], "Ada Admin");
    assert_eq!(me["phone"], "+49 30 1234567");

    // Absent fields stay; null clears.
    let me: Value = admin.patch("/v1/me", &json!({"phone": null}), None).await.json().await.expect("json");
    assert_eq!(me["name"], "Ada Admin");
    assert_eq!(me["phone"], Value::Null);

    let body = problem(
        admin.patch("/v1/me", &json!({"name": "", "phone": "call me maybe"}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(fields.contains(&"name") && fields.contains(&"phone"), "{body}");
    // Two changes, two audit events; the refused one left none.
    let actions: Vec<String> = app.audit_actions().into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["me.updated", "me.updated"]);
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let etag = admin.get("/v1/me").await.headers()["etag"].to_str().expect("etag").to_owned();

    let send = |tag: String, name: &'static str| {
        admin.request(Method::PATCH, "/v1/me").header("if-match", tag).json(&json!({"name": name})).send()
    };
    let first = send(etag.clone(), "First writer").await.expect("patch");
    assert_eq!(first.status(), StatusCode::OK);
    let new_etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    assert_ne!(new_etag, etag);

    // The second writer read the old version: 412, and nothing changes.
    problem(send(etag, "Second writer").await.expect("patch"), StatusCode::PRECONDITION_FAILED).await;
    let me: Value = admin.get("/v1/me").await.json().await.expect("json");
    assert_eq!(me["name"], "First writer");
    assert_eq!(send(new_etag, "Second writer").await.expect("patch").status(), StatusCode::OK);

    // `*` matches any version; a malformed tag is a 400, not a silent mismatch.
    assert_eq!(send("*".into(), "Third writer").await.expect("patch").status(), StatusCode::OK);
    problem(send("not-a-tag".into(), "Fourth writer").await.expect("patch"), StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn changing_the_password_ends_every_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let elsewhere = app.sign_in_again(&admin).await;

    let change = json!({"current_password": admin.password, "new_password": "a brand new passphrase"});
    let response = admin.post("/v1/me/password", &change).await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    for session in [&admin, &elsewhere] {
        problem(session.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    }
    problem(elsewhere.refresh().await, StatusCode::UNAUTHORIZED).await;

    problem(app.login(&admin.email, &admin.password).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.login(&admin.email, "a brand new passphrase").await.status(), StatusCode::OK);

    use diesel::prelude::*;
    use dockgate::db::schema::audit_events;
    let (action, changes): (String, Value) = audit_events::table
        .select((audit_events::action, audit_events::changes))
        .first(&mut app.conn())
        .expect("an audit event");
    assert_eq!(
        (action.as_str(), changes),
        ("me.password_changed", json!({})),
        "no password material in the log"
    );
}

#[tokio::test]
async fn a_new_password_must_meet_the_policy_and_the_old_one_must_be_right() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let change = |current: &str, new: &str| {
        admin
            .request(Method::POST, "/v1/me/password")
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    for (new, code) in
        [("short", "length"), ("password1234", "common_password"), (admin.email.as_str(), "equals_email")]
    {
        let body =
            problem(change(&admin.password, new).await.expect("change"), StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        assert_eq!(body["errors"][0]["field"], "new_password");
        assert_eq!(body["errors"][0]["code"], code, "{new}");
    }
    let body = problem(
        change("not my password at all", "a brand new passphrase").await.expect("change"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "current_password");
    // Nothing changed.
    assert_eq!(admin.get("/v1/me").await.status(), StatusCode::OK);
    assert_eq!(app.login(&admin.email, &admin.password).await.status(), StatusCode::OK);
}

/// Guessing the current password through `/v1/me/password` is bounded like sign-in: counted
/// before the check, so 20 guesses at once evaluate at most 10.
#[tokio::test]
async fn concurrent_wrong_current_passwords_evaluate_at_most_the_limit() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let guesses = (0..20).map(|n| {
        admin.request(Method::POST, "/v1/me/password")
            .json(&json!({"current_password": format!("guess number {n} here"), "new_password": "a brand new passphrase"}))
            .send()
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.expect("response").status())
        .collect();
    let evaluated = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((evaluated, refused), (10, 10), "{statuses:?}");
}
