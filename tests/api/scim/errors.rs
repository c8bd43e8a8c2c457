//! Every error under /scim/v2 is a SCIM error (RFC 7644 §3.12), whoever made it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Directory, error_of, user};
use crate::helpers::TestApp;
use crate::helpers::read::id_of;

#[tokio::test]
async fn without_a_valid_token_the_answer_is_a_scim_401_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new().get(app.url("/scim/v2/Users")).send().await.expect("request");
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    error_of(response, StatusCode::UNAUTHORIZED).await;
    let forged = app.bearer("dgt_not-a-token");
    let response = forged.get("/scim/v2/Users").await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    error_of(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn only_a_customers_client_with_users_manage_that_sees_everything_may_sync() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // A person's token, even a platform admin's.
    error_of(admin.get("/scim/v2/Users").await, StatusCode::FORBIDDEN).await;
    // A client without users.manage.
    let customer = id_of(&admin.create_customer("Acme").await);
    let reader = Directory::with_scopes(&app, &admin, customer, &["orders.view"]).await;
    error_of(reader.get("/Users").await, StatusCode::FORBIDDEN).await;
    // A client limited to groups: a directory syncs the whole customer.
    let depot = admin.add_group(customer, "Depot").await;
    let response = admin
        .post(
            &format!("/v1/customers/{customer}/api-clients"),
            &json!({"name": "Partial", "scopes": ["users.manage"], "group_ids": [depot]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let partial = id_of(&response.json().await.expect("client"));
    let token = admin
        .post(&format!("/v1/customers/{customer}/api-clients/{partial}/tokens"), &json!({"name": "t"}))
        .await
        .json::<serde_json::Value>()
        .await
        .expect("token")["token"]
        .as_str()
        .expect("dgt")
        .to_owned();
    error_of(app.bearer(&token).get("/scim/v2/Users").await, StatusCode::FORBIDDEN).await;
    // A platform client.
    let response =
        admin.post("/v1/api-clients", &json!({"name": "Platform", "scopes": ["users.manage"]})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let platform = id_of(&response.json().await.expect("client"));
    let token = admin
        .post(&format!("/v1/api-clients/{platform}/tokens"), &json!({"name": "t"}))
        .await
        .json::<serde_json::Value>()
        .await
        .expect("token")["token"]
        .as_str()
        .expect("dgt")
        .to_owned();
    error_of(app.bearer(&token).get("/scim/v2/Users").await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn bad_requests_get_scim_errors_with_the_right_scim_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;

    // Ids are strings: one that is not a UUID is simply not there.
    error_of(entra.get("/Users/nonexistent-id-000000").await, StatusCode::NOT_FOUND).await;
    error_of(entra.get("/Groups/42").await, StatusCode::NOT_FOUND).await;
    error_of(entra.delete(&format!("/Users/{}", uuid::Uuid::now_v7())).await, StatusCode::NOT_FOUND).await;

    let missing =
        error_of(entra.post("/Users", &json!({"schemas": [super::USER]})).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(missing["scimType"], "invalidValue");
    error_of(entra.post("/Users", &json!({"not": "a scim resource"})).await, StatusCode::BAD_REQUEST).await;
    let response = entra
        .bearer
        .request(Method::POST, "/scim/v2/Users")
        .header("content-type", "application/scim+json")
        .body("{broken")
        .send()
        .await
        .expect("request");
    assert_eq!(error_of(response, StatusCode::BAD_REQUEST).await["scimType"], "invalidSyntax");
    let response = entra
        .bearer
        .request(Method::POST, "/scim/v2/Users")
        .header("content-type", "text/plain")
        .body("userName=x")
        .send()
        .await
        .expect("request");
    error_of(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let huge = json!({"schemas": [super::USER], "userName": "x".repeat(2 * 1024 * 1024)});
    error_of(entra.post("/Users", &huge).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    let filter =
        error_of(entra.get("/Users?filter=title%20eq%20%22x%22").await, StatusCode::BAD_REQUEST).await;
    assert_eq!(filter["scimType"], "invalidFilter");
    let filter = error_of(entra.get("/Users?filter=userName%20eq").await, StatusCode::BAD_REQUEST).await;
    assert_eq!(filter["scimType"], "invalidFilter");
    // application/json bodies are accepted too.
    let response = entra.bearer.post("/scim/v2/Users", &user("plain.json@acme.example")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_taken_user_name_or_e_mail_is_a_uniqueness_conflict_that_names_nobody() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    let other = id_of(&admin.create_customer("Globex Secret Holdings").await);
    admin
        .add_user(
            other,
            json!({"name": "Elsewhere", "email": "taken@globex.example", "login_enabled": false}),
        )
        .await;

    entra.create_user(user("jana@acme.example")).await;
    let again = error_of(entra.post("/Users", &user("JANA@acme.example")).await, StatusCode::CONFLICT).await;
    assert_eq!(again["scimType"], "uniqueness");

    let elsewhere =
        error_of(entra.post("/Users", &user("taken@globex.example")).await, StatusCode::CONFLICT).await;
    assert_eq!(elsewhere["scimType"], "uniqueness");
    let detail = elsewhere["detail"].as_str().unwrap_or_default();
    assert!(!detail.contains("Globex") && !detail.contains(&other.to_string()), "{detail}");
}

#[tokio::test]
async fn scim_has_its_own_rate_limit_per_client() {
    let app = TestApp::spawn_with(|config| config.scim_requests_per_minute = 5).await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    let okta = Directory::connect(&app, &admin, "Globex").await;
    // Counted in one-minute windows: within 11 requests at most one boundary passes, so five
    // more than the limit are refused.
    let mut refused = None;
    for _ in 0..11 {
        let response = entra.get("/Users").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = refused.expect("a 429 within 11 requests");
    assert!(response.headers().contains_key("retry-after"));
    error_of(response, StatusCode::TOO_MANY_REQUESTS).await;
    // Another client is counted on its own; the REST API is not SCIM's limit.
    assert_eq!(okta.get("/Users").await.status(), StatusCode::OK);
    assert_eq!(
        entra.bearer.get(&format!("/v1/customers/{}/users", entra.customer)).await.status(),
        StatusCode::OK
    );
}
