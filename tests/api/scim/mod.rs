//! SCIM 2.0 under /scim/v2, as identity providers call it: a customer's API client with
//! `users.manage` and its long-lived `dgt_` token. The stories: discovery, the Users and Groups
//! lifecycles, filters and pages, errors in SCIM's shape, deactivation ending sessions, tenant
//! isolation, the data scope of directory-managed people, the round trip of every published
//! attribute, and SCIM's own rate limit.

mod discovery;
mod errors;
mod filters;
mod groups;
mod isolation;
mod roundtrip;
mod scope;
mod users;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::helpers::actor::Actor;
use crate::helpers::read::id_of;

pub const SCIM_JSON: &str = "application/scim+json";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A directory connected to one customer: its API client's `dgt_` token, as pasted into Entra
/// ID or Okta.
pub struct Directory {
    pub customer: Uuid,
    pub bearer: Actor,
}

impl Directory {
    /// A customer's directory: an API client with `scopes`, created by `admin`, and its token.
    pub async fn with_scopes(app: &TestApp, admin: &Actor, customer: Uuid, scopes: &[&str]) -> Self {
        let response = admin
            .post(
                &format!("/v1/customers/{customer}/api-clients"),
                &json!({"name": "Entra ID", "scopes": scopes}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let client = id_of(&response.json::<Value>().await.expect("client"));
        let response = admin
            .post(&format!("/v1/customers/{customer}/api-clients/{client}/tokens"), &json!({"name": "scim"}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let token = response.json::<Value>().await.expect("token")["token"].as_str().expect("dgt").to_owned();
        Self { customer, bearer: app.bearer(&token) }
    }

    /// The usual directory: `users.manage` on a new customer.
    pub async fn connect(app: &TestApp, admin: &Actor, name: &str) -> Self {
        let customer = id_of(&admin.create_customer(name).await);
        Self::with_scopes(app, admin, customer, &["users.manage"]).await
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.bearer.request(method, &format!("/scim/v2{path}")).header("accept", SCIM_JSON);
        if let Some(body) = body {
            request = request.header("content-type", SCIM_JSON).body(body.to_string());
        }
        request.send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, operations: Value) -> Response {
        self.send(Method::PATCH, path, Some(&json!({"schemas": [PATCH_OP], "Operations": operations}))).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a User; returns it as answered.
    pub async fn create_user(&self, body: Value) -> Value {
        scim_of(self.post("/Users", &body).await, StatusCode::CREATED).await
    }

    pub async fn create_group(&self, body: Value) -> Value {
        scim_of(self.post("/Groups", &body).await, StatusCode::CREATED).await
    }

    /// The resources a list answers, after checking it is a ListResponse.
    pub async fn list(&self, path: &str) -> (i64, Vec<Value>) {
        let list = scim_of(self.get(path).await, StatusCode::OK).await;
        assert_eq!(list["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
        (
            list["totalResults"].as_i64().expect("total"),
            list["Resources"].as_array().expect("Resources").clone(),
        )
    }
}

/// A minimal User like the probes and Okta send.
pub fn user(user_name: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": user_name,
        "name": {"givenName": "Jana", "familyName": "Berg"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true,
    })
}

/// The body of a SCIM answer of `status`, after checking its content type.
pub async fn scim_of(response: Response, status: StatusCode) -> Value {
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{text}");
    assert!(content_type.starts_with(SCIM_JSON), "content type {content_type}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// The body of a SCIM error of `status`, after checking its shape (RFC 7644 §3.12).
pub async fn error_of(response: Response, status: StatusCode) -> Value {
    let body = scim_of(response, status).await;
    assert_eq!(body["schemas"], json!([ERROR]), "{body}");
    assert_eq!(body["status"], json!(status.as_u16().to_string()), "{body}");
    assert!(body["detail"].is_string(), "{body}");
    body
}

pub fn uid(resource: &Value) -> String {
    resource["id"].as_str().expect("id").to_owned()
}
