//! API clients: an integrator's machine credentials. Created by a customer's admin (or staff)
//! with scopes no wider than its own, exchanged for an `at+jwt` access token at the OAuth token
//! endpoint (RFC 6749 client credentials, its errors in RFC 6749's shape), or used through a
//! long-lived `dgt_` token; revoked at once; audited as the actor of what they change.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use diesel::prelude::*;
use dockgate::db::schema::signing_keys;
use dockgate::permissions::{Permission, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, addresses_of, error_fields, id_of, json_of, problem, users_of};

/// A client as its creator got it: the view and the secret shown once.
struct Client {
    id: Uuid,
    client_id: String,
    secret: String,
    path: String,
}

fn clients_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/api-clients")
}

async fn create_client(creator: &Actor, collection: &str, body: Value) -> Client {
    let response = creator.post(collection, &body).await;
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let created = json_of(response, StatusCode::CREATED).await;
    let path = format!("{collection}/{}", id_of(&created));
    assert_eq!(location.as_deref(), Some(path.as_str()), "Location names the client");
    Client {
        id: id_of(&created),
        client_id: created["client_id"].as_str().expect("a client_id").to_owned(),
        secret: created["client_secret"].as_str().expect("the secret, shown once").to_owned(),
        path,
    }
}

/// A form body, form-urlencoded.
fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

/// `Authorization: Basic` as RFC 6749 section 2.3.1 builds it: each part form-urlencoded.
fn basic(id: &str, secret: &str) -> String {
    let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(id), encode(secret))))
}

async fn token_request(app: &TestApp, authorization: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.expect("token request")
}

fn assert_no_store(headers: &HeaderMap, at: &str) {
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"), "{at}");
    assert_eq!(headers.get("pragma").and_then(|v| v.to_str().ok()), Some("no-cache"), "{at}");
}

/// An RFC 6749 error answer: its status, its headers and its body, checked for the shape.
async fn oauth_error(response: reqwest::Response, status: StatusCode, error: &str) -> (HeaderMap, Value) {
    assert_eq!(response.status(), status, "{error}");
    let headers = response.headers().clone();
    assert_no_store(&headers, error);
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(content_type, "application/json", "RFC 6749 errors are plain JSON, not problem details");
    let body: Value = response.json().await.expect("an error body");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "exactly error and error_description: {body}");
    (headers, body)
}

/// A token for `client` by HTTP Basic; it must work.
async fn access_token(app: &TestApp, client: &Client, scope: Option<&str>) -> Value {
    let mut fields = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    let response = token_request(app, Some(&basic(&client.client_id, &client.secret)), &form(&fields)).await;
    assert_no_store(response.headers(), "a token");
    json_of(response, StatusCode::OK).await
}

/// Whoever holds `client`'s access token (all of its scopes).
async fn acting_as(app: &TestApp, client: &Client) -> Actor {
    let token = access_token(app, client, None).await;
    app.bearer(token["access_token"].as_str().expect("an access token"))
}

fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).expect("a header");
    serde_json::from_slice(&header).expect("header json")
}

fn jwt_claims(token: &str) -> Value {
    let claims = token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).expect("claims");
    serde_json::from_slice(&claims).expect("claims json")
}

fn words(scope: &Value) -> BTreeSet<String> {
    scope.as_str().expect("a scope").split(' ').map(str::to_owned).collect()
}

#[tokio::test]
async fn a_client_gets_a_token_by_basic_or_by_form_and_works_with_exactly_its_scopes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client = create_client(
        &admin,
        &clients_of(acme),
        json!({"name": "ERP provisioning", "scopes": ["users.manage", "orders.view"]}),
    )
    .await;
    assert!(client.client_id.starts_with("dgc_"), "{}", client.client_id);
    // 256 random bits behind the prefix, in the base64url alphabet.
    assert!(client.secret.starts_with("dgcs_"));
    let random = &client.secret["dgcs_".len()..];
    assert!(random.len() >= 43 && random.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)));

    // The secret is never shown again.
    let shown = json_of(admin.get(&client.path).await, StatusCode::OK).await;
    assert!(shown.get("client_secret").is_none(), "{shown}");
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["customer_id"], json!(acme));
    assert_eq!(shown["created_by"], json!(admin.user_id));
    let listed = admin.list(&clients_of(acme)).await;
    assert_eq!(listed.iter().map(id_of).collect::<Vec<_>>(), vec![client.id]);
    assert!(listed.iter().all(|c| c.get("client_secret").is_none()));

    // By HTTP Basic: an RFC 9068 access token with the client's facts.
    let answer = access_token(&app, &client, None).await;
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer["expires_in"].as_u64().is_some_and(|s| s > 0));
    assert!(answer.get("refresh_token").is_none(), "no refresh token for client credentials");
    assert_eq!(words(&answer["scope"]), ["orders.view", "users.manage"].map(String::from).into());
    let token = answer["access_token"].as_str().expect("token");
    assert_eq!(jwt_header(token)["typ"], "at+jwt");
    assert_eq!(jwt_header(token)["alg"], "EdDSA");
    let claims = jwt_claims(token);
    assert_eq!(claims["kind"], "api_client");
    assert_eq!(claims["sub"], json!(client.id));
    assert_eq!(claims["client_id"], json!(client.client_id));
    assert_eq!(claims["customer_id"], json!(acme));
    assert_eq!(claims["groups"], json!(["*"]));
    assert_eq!(words(&claims["scope"]), words(&answer["scope"]));
    for claim in ["iss", "aud", "iat", "exp", "jti", "permissions"] {
        assert!(!claims[claim].is_null(), "{claim}");
    }

    // By the form fields: the same.
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &client.client_id),
        ("client_secret", &client.secret),
    ]);
    let by_form = json_of(token_request(&app, None, &body).await, StatusCode::OK).await;
    assert_eq!(jwt_claims(by_form["access_token"].as_str().expect("token"))["sub"], json!(client.id));

    // The client acts like a user holding exactly its scopes.
    let erp = app.bearer(token);
    assert_eq!(erp.get(&users_of(acme)).await.status(), StatusCode::OK);
    let created =
        json_of(erp.post(&users_of(acme), &json!({"name": "Jana from the ERP"})).await, StatusCode::CREATED)
            .await;
    // ... and is the actor of what it changes.
    let events = admin.events_about(id_of(&created)).await;
    let event = events.iter().find(|e| e["action"] == "user.created").expect("user.created");
    assert_eq!(event["actor_kind"], "api_client");
    assert_eq!(event["actor_id"], json!(client.id));
    // Without addresses.manage it may not manage addresses (403, its customer is visible).
    problem(erp.post(&addresses_of(acme), &crate::helpers::address("Depot")).await, StatusCode::FORBIDDEN)
        .await;
    // What only makes sense for a person is not for a client.
    problem(erp.get("/v1/me").await, StatusCode::FORBIDDEN).await;
    problem(
        erp.post(
            "/v1/me/password",
            &json!({"current_password": "whatever it was", "new_password": "a brand new passphrase 7"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Its use is recorded, at most once a minute: more requests within it write nothing.
    let used = json_of(admin.get(&client.path).await, StatusCode::OK).await;
    assert!(used["last_used_at"].is_string(), "{used}");
    assert_eq!(erp.get(&users_of(acme)).await.status(), StatusCode::OK);
    let again = json_of(admin.get(&client.path).await, StatusCode::OK).await;
    assert_eq!(again["last_used_at"], used["last_used_at"]);
    // The creation is audited, without the secret.
    let created_events = admin.events_about(client.id).await;
    let creation =
        created_events.iter().find(|e| e["action"] == "api_client.created").expect("api_client.created");
    assert!(!creation.to_string().contains(&client.secret), "no secret in the audit log");
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded_before_base64() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client =
        create_client(&admin, &clients_of(acme), json!({"name": "ERP", "scopes": ["orders.view"]})).await;
    // Every byte percent-encoded (`-` as `%2D`, `_` as `%5F`): a client that encodes more than
    // it must is still understood, for the id and for the secret.
    let encode_all = |text: &str| text.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    assert!(encode_all("dgcs_-").contains("%5F") && encode_all("-").contains("%2D"));
    let header = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode_all(&client.client_id), encode_all(&client.secret)))
    );
    let body = form(&[("grant_type", "client_credentials")]);
    json_of(token_request(&app, Some(&header), &body).await, StatusCode::OK).await;
    // Unencoded works too: the alphabet needs no encoding.
    let plain = format!("Basic {}", STANDARD.encode(format!("{}:{}", client.client_id, client.secret)));
    json_of(token_request(&app, Some(&plain), &body).await, StatusCode::OK).await;
    // A secret that is one character off is not the secret.
    let mut wrong = client.secret.clone();
    let last = if wrong.ends_with('A') { 'B' } else { 'A' };
    wrong.pop();
    wrong.push(last);
    oauth_error(
        token_request(&app, Some(&basic(&client.client_id, &wrong)), &body).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn every_token_endpoint_error_has_the_rfc_6749_shape() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client = create_client(
        &admin,
        &clients_of(acme),
        json!({"name": "ERP", "scopes": ["orders.view", "users.manage"]}),
    )
    .await;
    let grant = form(&[("grant_type", "client_credentials")]);
    let good = basic(&client.client_id, &client.secret);

    // No client authentication at all.
    let (headers, _) =
        oauth_error(token_request(&app, None, &grant).await, StatusCode::UNAUTHORIZED, "invalid_client")
            .await;
    assert_eq!(
        headers.get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some(r#"Basic realm="dockgate""#)
    );

    // Both ways at once.
    let both = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &client.client_id),
        ("client_secret", &client.secret),
    ]);
    oauth_error(token_request(&app, Some(&good), &both).await, StatusCode::BAD_REQUEST, "invalid_request")
        .await;

    // An unknown client and a wrong secret: the same answer, header for header.
    let unknown = basic("dgc_nobodyHasThisId", &client.secret);
    let wrong = basic(&client.client_id, "dgcs_notTheSecret");
    let (unknown_headers, unknown_body) = oauth_error(
        token_request(&app, Some(&unknown), &grant).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    let (wrong_headers, wrong_body) = oauth_error(
        token_request(&app, Some(&wrong), &grant).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    assert_eq!(unknown_body, wrong_body);
    for name in ["www-authenticate", "content-type", "cache-control", "pragma"] {
        assert_eq!(unknown_headers.get(name), wrong_headers.get(name), "{name}");
    }

    // The grant.
    oauth_error(token_request(&app, Some(&good), "").await, StatusCode::BAD_REQUEST, "invalid_request").await;
    oauth_error(
        token_request(&app, Some(&good), &form(&[("grant_type", "password")])).await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    // A parameter sent twice (RFC 6749 section 3.2).
    oauth_error(
        token_request(&app, Some(&good), "grant_type=client_credentials&grant_type=client_credentials").await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;

    // Scopes: a subset is granted exactly; one the client lacks, or no permission at all, is not.
    let narrow = access_token(&app, &client, Some("orders.view")).await;
    assert_eq!(narrow["scope"], "orders.view");
    let narrow_actor = app.bearer(narrow["access_token"].as_str().expect("token"));
    problem(narrow_actor.get(&users_of(acme)).await, StatusCode::FORBIDDEN).await;
    for scope in ["pricing.view", "orders.view pricing.view", "everything", ""] {
        let body = form(&[("grant_type", "client_credentials"), ("scope", scope)]);
        oauth_error(token_request(&app, Some(&good), &body).await, StatusCode::BAD_REQUEST, "invalid_scope")
            .await;
    }

    // A body that is no form is still answered in RFC 6749's shape, never as problem details.
    let json_body = app
        .client
        .post(app.url("/v1/oauth/token"))
        .header("authorization", &good)
        .header("content-type", "application/json")
        .body(r#"{"grant_type": "client_credentials"}"#)
        .send()
        .await
        .expect("request");
    oauth_error(json_body, StatusCode::BAD_REQUEST, "invalid_request").await;
    let huge = format!("grant_type=client_credentials&padding={}", "x".repeat(20_000));
    oauth_error(token_request(&app, Some(&good), &huge).await, StatusCode::BAD_REQUEST, "invalid_request")
        .await;
    let not_basic = token_request(&app, Some("Basic !!!not-base64"), &grant).await;
    oauth_error(not_basic, StatusCode::BAD_REQUEST, "invalid_request").await;

    // A suspended customer's client gets no token.
    let suspended =
        admin.patch(&format!("/v1/customers/{acme}"), &json!({"status": "suspended"}), None).await;
    assert_eq!(suspended.status(), StatusCode::OK);
    oauth_error(
        token_request(&app, Some(&good), &grant).await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
    )
    .await;
    // ... and a token it got before stops working.
    problem(narrow_actor.get(&format!("/v1/customers/{acme}")).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_client_never_gets_more_than_its_creator_holds_or_sees() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let other = id_of(&admin.create_customer("Other").await);
    let customer_admin = app.customer_user(acme, Role::Admin, &[]).await;
    // Admins do not hold pricing.view: a client of theirs cannot either, and the 422 names it.
    let refused = customer_admin
        .post(&clients_of(acme), &json!({"name": "ERP", "scopes": ["orders.view", "pricing.view"]}))
        .await;
    let body = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&body), vec!["scopes[1]"]);
    create_client(&customer_admin, &clients_of(acme), json!({"name": "ERP", "scopes": ["users.manage"]}))
        .await;

    // Without users.manage: 403; another customer: 404.
    let user = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;
    problem(user.get(&clients_of(acme)).await, StatusCode::FORBIDDEN).await;
    problem(customer_admin.get(&clients_of(other)).await, StatusCode::NOT_FOUND).await;
    // A client with users.manage that creates a client gives no more than its own scopes.
    let erp =
        create_client(&admin, &clients_of(acme), json!({"name": "ERP", "scopes": ["users.manage"]})).await;
    let erp_actor = acting_as(&app, &erp).await;
    let wider = erp_actor.post(&clients_of(acme), &json!({"name": "Child", "scopes": ["orders.view"]})).await;
    assert_eq!(error_fields(&problem(wider, StatusCode::UNPROCESSABLE_ENTITY).await), vec!["scopes[0]"]);

    // Platform clients are for platform admins only; a dispatcher may not.
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    problem(
        dispatcher.post("/v1/api-clients", &json!({"name": "Platform", "scopes": ["orders.view"]})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(customer_admin.get("/v1/api-clients").await, StatusCode::FORBIDDEN).await;
    // A platform client has no groups.
    let group = admin.add_group(acme, "North").await;
    let grouped =
        admin.post("/v1/api-clients", &json!({"name": "P", "scopes": [], "group_ids": [group]})).await;
    assert_eq!(error_fields(&problem(grouped, StatusCode::UNPROCESSABLE_ENTITY).await), vec!["group_ids"]);
}

#[tokio::test]
async fn a_platform_client_acts_as_staff_with_its_scopes_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let platform =
        create_client(&admin, "/v1/api-clients", json!({"name": "Billing sync", "scopes": ["users.manage"]}))
            .await;
    let answer = access_token(&app, &platform, None).await;
    let token = answer["access_token"].as_str().expect("token");
    assert!(jwt_claims(token).get("customer_id").is_none(), "no customer_id for a platform client");
    let sync = app.bearer(token);
    // Every customer is visible; it acts by its scopes, never by a staff role.
    assert_eq!(sync.get(&users_of(acme)).await.status(), StatusCode::OK);
    assert_eq!(sync.get("/v1/users").await.status(), StatusCode::OK);
    problem(sync.post("/v1/customers", &json!({"name": "New", "code": "NEW"})).await, StatusCode::FORBIDDEN)
        .await;
    problem(sync.post(&addresses_of(acme), &crate::helpers::address("X")).await, StatusCode::FORBIDDEN).await;
    problem(sync.get("/v1/staff").await, StatusCode::FORBIDDEN).await;
    let listed = admin.list("/v1/api-clients").await;
    assert_eq!(listed.iter().map(id_of).collect::<Vec<_>>(), vec![platform.id]);
    assert!(admin.list(&clients_of(acme)).await.is_empty(), "a platform client is no customer's");
    problem(admin.get(&format!("{}/{}", clients_of(acme), platform.id)).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn revoking_a_client_or_deleting_a_token_stops_it_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client =
        create_client(&admin, &clients_of(acme), json!({"name": "SCIM", "scopes": ["users.manage"]})).await;
    let jwt_actor = acting_as(&app, &client).await;

    // Long-lived tokens: shown once, listed without their value.
    let tokens = format!("{}/tokens", client.path);
    let response = admin.post(&tokens, &json!({"name": "Entra ID connector"})).await;
    let first = json_of(response, StatusCode::CREATED).await;
    let first_token = first["token"].as_str().expect("the token, shown once").to_owned();
    assert!(first_token.starts_with("dgt_"));
    let second = json_of(
        admin.post(&tokens, &json!({"name": "Okta", "expires_at": "2099-01-01T00:00:00Z"})).await,
        StatusCode::CREATED,
    )
    .await;
    let second_token = second["token"].as_str().expect("token").to_owned();
    let past = admin.post(&tokens, &json!({"name": "Old", "expires_at": "2001-01-01T00:00:00Z"})).await;
    assert_eq!(error_fields(&problem(past, StatusCode::UNPROCESSABLE_ENTITY).await), vec!["expires_at"]);
    let listed = admin.list(&tokens).await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t.get("token").is_none()), "{listed:?}");

    let first_actor = app.bearer(&first_token);
    let second_actor = app.bearer(&second_token);
    for actor in [&jwt_actor, &first_actor, &second_actor] {
        assert_eq!(actor.get(&users_of(acme)).await.status(), StatusCode::OK);
    }
    let used = admin.list(&tokens).await;
    assert!(used.iter().all(|t| t["last_used_at"].is_string()), "{used:?}");

    // A deleted token: 401 at once; the others live on.
    let response = admin.delete(&format!("{tokens}/{}", id_of(&first)), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    problem(first_actor.get(&users_of(acme)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(second_actor.get(&users_of(acme)).await.status(), StatusCode::OK);
    problem(admin.delete(&format!("{tokens}/{}", id_of(&first)), None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(admin.list(&tokens).await.len(), 1);

    // Revoked: its access token and every long-lived token stop at once; no new token.
    let revoked =
        json_of(admin.patch(&client.path, &json!({"status": "revoked"}), None).await, StatusCode::OK).await;
    assert_eq!(revoked["status"], "revoked");
    problem(jwt_actor.get(&users_of(acme)).await, StatusCode::UNAUTHORIZED).await;
    problem(second_actor.get(&users_of(acme)).await, StatusCode::UNAUTHORIZED).await;
    oauth_error(
        token_request(
            &app,
            Some(&basic(&client.client_id, &client.secret)),
            &form(&[("grant_type", "client_credentials")]),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    // Revocation is final.
    problem(admin.patch(&client.path, &json!({"status": "active"}), None).await, StatusCode::CONFLICT).await;
    problem(admin.post(&tokens, &json!({"name": "Again"})).await, StatusCode::CONFLICT).await;
    let actions: Vec<String> =
        admin.events_about(client.id).await.iter().map(|e| e["action"].to_string()).collect();
    assert!(actions.contains(&"\"api_client.revoked\"".to_owned()), "{actions:?}");
    let token_actions = app.actions_on(id_of(&first));
    assert_eq!(token_actions, vec!["api_client.token_created", "api_client.token_revoked"]);

    // Deleting a client ends its tokens too.
    let doomed =
        create_client(&admin, &clients_of(acme), json!({"name": "Doomed", "scopes": ["users.manage"]})).await;
    let doomed_jwt = acting_as(&app, &doomed).await;
    let doomed_token = json_of(
        admin.post(&format!("{}/tokens", doomed.path), &json!({"name": "t"})).await,
        StatusCode::CREATED,
    )
    .await;
    let doomed_long = app.bearer(doomed_token["token"].as_str().expect("token"));
    assert_eq!(admin.delete(&doomed.path, None).await.status(), StatusCode::NO_CONTENT);
    problem(doomed_jwt.get(&users_of(acme)).await, StatusCode::UNAUTHORIZED).await;
    problem(doomed_long.get(&users_of(acme)).await, StatusCode::UNAUTHORIZED).await;
    problem(admin.get(&doomed.path).await, StatusCode::NOT_FOUND).await;
    assert!(app.actions_on(doomed.id).contains(&"api_client.deleted".to_owned()));
}

/// The current private key, read from the database as only dockgate itself could: to sign
/// tokens with the right key but the wrong `typ`.
fn signing_key(app: &TestApp) -> (String, EncodingKey) {
    let (kid, private): (String, Vec<u8>) = signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .select((signing_keys::kid, signing_keys::private_key))
        .first(&mut app.conn())
        .expect("a signing key");
    (kid, EncodingKey::from_ed_der(&private))
}

fn resign(app: &TestApp, token: &str, typ: &str) -> String {
    let (kid, key) = signing_key(app);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, &jwt_claims(token), &key).expect("sign")
}

#[tokio::test]
async fn people_and_client_tokens_cannot_be_confused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client =
        create_client(&admin, &clients_of(acme), json!({"name": "ERP", "scopes": ["users.manage"]})).await;
    let client_token =
        access_token(&app, &client, None).await["access_token"].as_str().expect("t").to_owned();
    assert_eq!(jwt_header(&admin.access_token)["typ"], "JWT", "people's tokens keep typ JWT");

    // A client's access token is no refresh token (too long to be one, even: 422 or 401).
    let refused =
        |status: StatusCode| [StatusCode::UNAUTHORIZED, StatusCode::UNPROCESSABLE_ENTITY].contains(&status);
    let refreshed = app.post_json("/v1/auth/refresh", &json!({"refresh_token": client_token})).await;
    assert!(refused(refreshed.status()), "{}", refreshed.status());
    // Nor a long-lived token, nor an access token of a person.
    let long = json_of(
        admin.post(&format!("{}/tokens", client.path), &json!({"name": "t"})).await,
        StatusCode::CREATED,
    )
    .await;
    for token in [long["token"].as_str().expect("token"), admin.access_token.as_str()] {
        let refreshed = app.post_json("/v1/auth/refresh", &json!({"refresh_token": token})).await;
        assert!(refused(refreshed.status()), "{}", refreshed.status());
    }
    // Nor is a client's token (or its long-lived one) an invitation or a password-reset link.
    for token in [client_token.as_str(), long["token"].as_str().expect("token")] {
        let status = app.bearer("").get(&format!("/v1/invitations/lookup?token={token}")).await.status();
        assert!(status.is_client_error(), "invitation lookup: {status}");
        let reset = app
            .post_json(
                "/v1/auth/password/reset",
                &json!({"token": token, "password": "a brand new passphrase 7"}),
            )
            .await;
        assert!(reset.status().is_client_error(), "reset: {}", reset.status());
    }
    // The right key with the other kind's typ is no token: a client's claims as a person's
    // token, and a person's claims as a client's.
    let client_as_person = app.bearer(&resign(&app, &client_token, "JWT"));
    problem(client_as_person.get(&users_of(acme)).await, StatusCode::UNAUTHORIZED).await;
    let person_as_client = app.bearer(&resign(&app, &admin.access_token, "at+jwt"));
    problem(person_as_client.get(&users_of(acme)).await, StatusCode::UNAUTHORIZED).await;
    // Without typ at all: neither.
    let (kid, key) = signing_key(&app);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    header.typ = None;
    let untyped = jsonwebtoken::encode(&header, &jwt_claims(&admin.access_token), &key).expect("sign");
    problem(app.bearer(&untyped).get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    // Re-signed with its own typ, each still works: only the typ made the difference.
    assert_eq!(
        app.bearer(&resign(&app, &client_token, "at+jwt")).get(&users_of(acme)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.bearer(&resign(&app, &admin.access_token, "JWT")).get("/v1/me").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_rotated_secret_ends_the_old_one_unless_an_overlap_is_configured() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client =
        create_client(&admin, &clients_of(acme), json!({"name": "ERP", "scopes": ["orders.view"]})).await;
    let rotated =
        json_of(admin.post(&format!("{}/secret", client.path), &json!({})).await, StatusCode::OK).await;
    let new_secret = rotated["client_secret"].as_str().expect("a new secret").to_owned();
    assert_ne!(new_secret, client.secret);
    assert!(rotated["previous_secret_valid_until"].is_null());
    let grant = form(&[("grant_type", "client_credentials")]);
    oauth_error(
        token_request(&app, Some(&basic(&client.client_id, &client.secret)), &grant).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    json_of(token_request(&app, Some(&basic(&client.client_id, &new_secret)), &grant).await, StatusCode::OK)
        .await;
    assert!(app.actions_on(client.id).contains(&"api_client.secret_rotated".to_owned()));
    let shown = json_of(admin.get(&client.path).await, StatusCode::OK).await;
    assert!(shown.get("client_secret").is_none(), "{shown}");

    // With an overlap, the old secret keeps working for it.
    let overlapping = TestApp::spawn_with(|config| {
        config.api_client_secret_overlap = std::time::Duration::from_secs(600);
    })
    .await;
    let admin = overlapping.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client =
        create_client(&admin, &clients_of(acme), json!({"name": "ERP", "scopes": ["orders.view"]})).await;
    let rotated =
        json_of(admin.post(&format!("{}/secret", client.path), &json!({})).await, StatusCode::OK).await;
    assert!(rotated["previous_secret_valid_until"].is_string());
    let new_secret = rotated["client_secret"].as_str().expect("secret");
    for secret in [client.secret.as_str(), new_secret] {
        let response = token_request(&overlapping, Some(&basic(&client.client_id, secret)), &grant).await;
        json_of(response, StatusCode::OK).await;
    }
}

#[tokio::test]
async fn failed_client_authentications_are_limited_like_sign_ins() {
    let app = TestApp::spawn_with(|config| config.login_limits.per_account_and_client = 3).await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let client =
        create_client(&admin, &clients_of(acme), json!({"name": "ERP", "scopes": ["orders.view"]})).await;
    let grant = form(&[("grant_type", "client_credentials")]);
    let wrong = basic(&client.client_id, "dgcs_guess");
    for _ in 0..3 {
        oauth_error(
            token_request(&app, Some(&wrong), &grant).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        )
        .await;
    }
    // Counted before the secret is compared: now even the right one waits.
    for authorization in [wrong, basic(&client.client_id, &client.secret)] {
        let response = token_request(&app, Some(&authorization), &grant).await;
        let retry_after =
            response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        oauth_error(response, StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable").await;
        assert!(retry_after.and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s > 0));
    }
    // Failures here never use up a person's sign-in attempts, even with its e-mail as the id.
    let as_person = basic(&admin.email, "dgcs_guess");
    for _ in 0..4 {
        let response = token_request(&app, Some(&as_person), &grant).await;
        assert!([StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&response.status()));
    }
    assert_eq!(app.login(&admin.email, &admin.password).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_group_limited_client_sees_only_its_groups_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let north = admin.add_group(acme, "North").await;
    let south = admin.add_group(acme, "South").await;
    let untagged = id_of(&admin.add_address(acme, "Head office", None).await);
    let north_depot = id_of(&admin.add_address(acme, "North depot", Some(north)).await);
    let south_depot = id_of(&admin.add_address(acme, "South depot", Some(south)).await);
    let client = create_client(
        &admin,
        &clients_of(acme),
        json!({"name": "North ERP", "scopes": ["addresses.manage", "users.manage"], "group_ids": [north]}),
    )
    .await;
    let view = json_of(admin.get(&client.path).await, StatusCode::OK).await;
    assert_eq!(view["group_ids"], json!([north]));
    let erp = acting_as(&app, &client).await;
    assert_eq!(jwt_claims(&erp.access_token)["groups"], json!([north.to_string()]));
    let seen = erp.id_set(&addresses_of(acme)).await;
    assert_eq!(seen, [untagged, north_depot].into_iter().collect());
    problem(erp.get(&format!("{}/{south_depot}", addresses_of(acme))).await, StatusCode::NOT_FOUND).await;
    // The people it creates join its groups, like a group-limited person's.
    let person =
        json_of(erp.post(&users_of(acme), &json!({"name": "Nora North"})).await, StatusCode::CREATED).await;
    assert_eq!(person["group_ids"], json!([north]));
    // A group-limited person sees only clients within its groups.
    let south_admin_client = create_client(
        &admin,
        &clients_of(acme),
        json!({"name": "South ERP", "scopes": [], "group_ids": [south]}),
    )
    .await;
    let listed = erp.id_set(&clients_of(acme)).await;
    assert!(listed.contains(&client.id) && !listed.contains(&south_admin_client.id), "{listed:?}");
    problem(erp.get(&south_admin_client.path).await, StatusCode::NOT_FOUND).await;
    // A group a client is limited to cannot be deleted under it (a foreign key restricts it).
    let east = admin.add_group(acme, "East").await;
    create_client(&admin, &clients_of(acme), json!({"name": "East ERP", "scopes": [], "group_ids": [east]}))
        .await;
    let deleted = admin.delete(&format!("/v1/customers/{acme}/groups/{east}?confirm=true"), None).await;
    problem(deleted, StatusCode::CONFLICT).await;
}
