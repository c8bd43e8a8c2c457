//! Every error is problem+json with the right status; nothing internal leaks.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, id_of, problem};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("request");
    problem(response, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let body = problem(
        app.post_json("/v1/auth/login", &json!({"email": 42, "password": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
    let body = problem(
        app.post_json("/v1/auth/login", &json!({"password": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("email")), "{body}");
}

#[tokio::test]
async fn the_wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let mut request = app.client.post(app.url("/v1/auth/login")).body("email=a&password=b");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        problem(request.send().await.expect("request"), StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    }
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = TestApp::spawn().await;
    let huge = json!({"email": "a@example.com", "password": "x".repeat(1024 * 1024 + 1)});
    problem(app.post_json("/v1/auth/login", &huge).await, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Without a Content-Length (chunked), the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..20).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .expect("request");
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problem_json() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/v1/nothing-here")).send().await.expect("request");
    problem(response, StatusCode::NOT_FOUND).await;
    let response = app.client.delete(app.url("/v1/auth/login")).send().await.expect("request");
    assert_eq!(response.headers()["allow"], "POST");
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    let response = app.client.delete(app.url("/v1/me")).send().await.expect("request");
    let allow = response.headers()["allow"].to_str().expect("allow").to_owned();
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_422() {
    let app = TestApp::spawn().await;
    let body = problem(
        app.post_json("/v1/auth/login", &json!(["a@example.com", "password"])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "type");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_callers() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/health/live")).send().await.expect("request");
    let generated = response.headers()["x-request-id"].to_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok());

    let response = app
        .client
        .get(app.url("/nope"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "trace-abc-123");
    // An unreasonable id is replaced, not echoed.
    let response = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "x".repeat(500))
        .send()
        .await
        .expect("request");
    assert_ne!(response.headers()["x-request-id"].to_str().expect("id").len(), 500);
}

#[tokio::test]
async fn errors_never_contain_sql_or_hashes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for response in [
        app.login(&admin.email, "wrong horse battery staple").await,
        app.post_json("/v1/auth/refresh", &json!({"refresh_token": "'; DROP TABLE users; --"})).await,
    ] {
        let text = response.text().await.expect("body");
        for needle in ["argon2", "SELECT", "INSERT", "users_", "diesel", "panicked", "$argon"] {
            assert!(!text.contains(needle), "{needle} in {text}");
        }
    }
}

/// A CR/LF in a name would travel into a mail subject; every single-line text refuses control
/// characters (422 naming the field), and only descriptions take line breaks and tabs.
#[tokio::test]
async fn control_characters_are_refused_in_single_line_fields() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let refused = [
        ("/v1/customers", json!({"name": "Acme\r\nBcc: everyone@example.com", "code": "C-CR"}), "name"),
        ("/v1/customers", json!({"name": "Acme\u{7}", "code": "C-BEL"}), "name"),
        ("/v1/customers", json!({"name": "Acme\u{85}", "code": "C-NEL"}), "name"),
        (&format!("/v1/customers/{customer}/groups"), json!({"name": "North\nSouth"}), "name"),
        (
            &format!("/v1/customers/{customer}/groups"),
            json!({"name": "North", "description": "bell\u{7}"}),
            "description",
        ),
        (
            &format!("/v1/customers/{customer}/groups"),
            json!({"name": "North", "description": "nul\u{0}"}),
            "description",
        ),
        (
            &format!("/v1/customers/{customer}/invitations"),
            json!({"emails": ["a@acme.example", "b@acme.example\n"]}),
            "emails[1]",
        ),
    ];
    for (path, body, field) in refused {
        let answer = problem(admin.post(path, &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(answer["errors"][0]["field"], field, "{body}");
        assert_eq!(answer["errors"][0]["code"], "control_character", "{body}");
    }
    let group = admin
        .post(
            &format!("/v1/customers/{customer}/groups"),
            &json!({"name": "North", "description": "Depot north.\r\n\tOpen 6-22."}),
        )
        .await;
    assert_eq!(group.status(), StatusCode::CREATED, "a description may span lines");
    let list: serde_json::Value = admin.get("/v1/customers?q=Acme").await.json().await.expect("customers");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "nothing else was stored: {list}");
}

/// Personal data and credentials are never stored by a cache, and no response is sniffed.
#[tokio::test]
async fn responses_are_not_stored_and_not_sniffed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let login = app.login(&admin.email, &admin.password).await;
    let mut responses = vec![("login", login)];
    for path in [
        "/v1/me".to_owned(),
        format!("/v1/customers/{customer}/users"),
        "/v1/staff".to_owned(),
        "/v1/audit-events".to_owned(),
        format!("/v1/customers/{customer}/invitations"),
        "/v1/no-such-thing".to_owned(),
    ] {
        responses.push(("get", admin.get(&path).await));
    }
    responses.push(("unauthenticated", app.client.get(app.url("/v1/me")).send().await.expect("me")));
    for (what, response) in &responses {
        let headers = response.headers();
        assert_eq!(headers["cache-control"], "no-store", "{what} {}", response.url());
        assert_eq!(headers["pragma"], "no-cache", "{what} {}", response.url());
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what} {}", response.url());
    }
    let jwks = app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("jwks");
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=60", "public keys may be cached");
    assert!(jwks.headers().get("pragma").is_none());
    assert_eq!(jwks.headers()["x-content-type-options"], "nosniff");
}

/// Actions that take no body (deactivate, reactivate, reset link, resend) refuse one the way
/// every other POST does, before acting: too large 413, not JSON 415, any field 422.
#[tokio::test]
async fn body_less_actions_refuse_a_body_before_acting() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let user: serde_json::Value = admin
        .post(
            &format!("/v1/customers/{customer}/users"),
            &json!({"name": "Kim", "email": "kim@acme.example", "password": "kim picks a long passphrase"}),
        )
        .await
        .json()
        .await
        .expect("user");
    let invited: serde_json::Value = admin
        .post(&format!("/v1/customers/{customer}/invitations"), &json!({"emails": ["new@acme.example"]}))
        .await
        .json()
        .await
        .expect("invitation");
    let user_path = format!("/v1/customers/{customer}/users/{}", user["id"].as_str().expect("id"));
    let invitation = invited["results"][0]["invitation"]["id"].as_str().expect("invitation id");
    let actions = [
        format!("{user_path}/deactivate"),
        format!("{user_path}/reactivate"),
        format!("{user_path}/password-reset"),
        format!("/v1/customers/{customer}/invitations/{invitation}/resend"),
    ];
    let before = app.audit_actions().len();
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    for path in &actions {
        let send = |content_type: &'static str, body: String| {
            admin.request(Method::POST, path).header("content-type", content_type).body(body).send()
        };
        problem(send("application/json", big.clone()).await.expect("big"), StatusCode::PAYLOAD_TOO_LARGE)
            .await;
        problem(
            send("text/plain", "deactivate!".into()).await.expect("text"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .await;
        problem(
            send("application/json", "{\"force\": true}".into()).await.expect("field"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        problem(send("application/json", "{".into()).await.expect("broken"), StatusCode::BAD_REQUEST).await;
    }
    assert_eq!(app.audit_actions().len(), before, "nothing was done");
    // No body, or an empty object, still works.
    let deactivated = admin.request(Method::POST, &actions[0]).send().await.expect("none");
    assert_eq!(deactivated.status(), StatusCode::OK);
    assert_eq!(admin.post(&actions[1], &json!({})).await.status(), StatusCode::OK);
}

/// Request bodies are closed: a misspelt field is a 422 naming it, never silently ignored.
#[tokio::test]
async fn a_misspelt_field_is_422_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let body = problem(
        admin
            .post(
                &format!("/v1/customers/{customer}/users"),
                &json!({"name": "Kim", "login_enabled": false, "permisions": ["orders.view"]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "permisions", "{body}");
    assert_eq!(body["errors"][0]["code"], "unknown_field", "{body}");
    let patch = admin.patch(&format!("/v1/customers/{customer}"), &json!({"nmae": "Acme 2"}), None).await;
    let body = problem(patch, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "nmae", "{body}");
    let users: serde_json::Value =
        admin.get(&format!("/v1/customers/{customer}/users")).await.json().await.expect("users");
    assert_eq!(users["items"], json!([]), "nothing was created");
}

/// `null` clears a nullable field; on one that cannot be cleared it is a 422 naming the field,
/// not "leave it unchanged".
#[tokio::test]
async fn null_on_a_field_that_cannot_be_cleared_is_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let patch = admin.patch(&format!("/v1/customers/{customer}"), &json!({"name": null}), None).await;
    let body = problem(patch, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "name", "{body}");
    assert_eq!(body["errors"][0]["code"], "not_nullable", "{body}");
    let cleared = admin.patch(&format!("/v1/customers/{customer}"), &json!({"phone": null}), None).await;
    assert_eq!(cleared.status(), StatusCode::OK, "a nullable field is cleared");
}
