//! SCIM 2.0 as identity providers really send it: the acceptance tests of issue 14, written from
//! the providers' published examples (Microsoft Learn, "Tutorial: Develop and plan provisioning
//! for a SCIM endpoint in Microsoft Entra ID" and "Known issues and resolutions with SCIM 2.0
//! protocol compliance"; Okta's "SCIM 2.0 protocol reference") and from RFC 7643/7644 where the
//! issue is silent. A customer's admin makes an API client with `users.manage`, gives it a
//! long-lived `dgt_` token and pastes that into the directory's console: [`Directory`] is that
//! console, talking to `/scim/v2` over HTTP.

mod data_scope;
mod entra;
mod isolation;
mod okta;
mod protocol;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, MEMBER_PASSWORD, TestApp, id_of, json_of, user_path};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// What every SCIM answer is (RFC 7644 section 3.1) and what Entra ID sends.
pub const SCIM_JSON: &str = "application/scim+json";

/// An identity provider's connection to one customer: the tenant URL `/scim/v2` and the secret
/// token of an API client of that customer.
pub struct Directory {
    pub customer: Uuid,
    /// The API client behind the token (its REST path, for revoking it).
    pub client_path: String,
    pub token: String,
    http: reqwest::Client,
    base: String,
}

impl Directory {
    /// A new customer `name` whose admin connects a directory to it.
    pub async fn connect(app: &TestApp, admin: &Actor, name: &str) -> Self {
        let customer = id_of(&admin.create_customer(name).await);
        Self::for_customer(app, admin, customer).await
    }

    /// What an admin does for a directory of `customer`: an API client with `users.manage` and a
    /// long-lived token for it (`POST .../api-clients`, then `POST <client>/tokens`).
    pub async fn for_customer(app: &TestApp, admin: &Actor, customer: Uuid) -> Self {
        Self::with_scopes(app, admin, customer, &["users.manage"]).await
    }

    pub async fn with_scopes(app: &TestApp, admin: &Actor, customer: Uuid, scopes: &[&str]) -> Self {
        let clients = format!("/v1/customers/{customer}/api-clients");
        let body = json!({"name": "Directory provisioning", "scopes": scopes});
        let client = json_of(admin.post(&clients, &body).await, StatusCode::CREATED).await;
        let client_path = format!("{clients}/{}", id_of(&client));
        let tokens = format!("{client_path}/tokens");
        let token =
            json_of(admin.post(&tokens, &json!({"name": "SCIM connector"})).await, StatusCode::CREATED).await
                ["token"]
                .as_str()
                .expect("the token, shown once")
                .to_owned();
        assert!(token.starts_with("dgt_"), "{token}");
        Self { customer, client_path, token, http: app.client.clone(), base: app.url("/scim/v2") }
    }

    /// The same tenant URL with another bearer token (or none, for `""`).
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            customer: self.customer,
            client_path: self.client_path.clone(),
            token: token.to_owned(),
            http: self.http.clone(),
            base: self.base.clone(),
        }
    }

    /// A request to `path` below `/scim/v2` (e.g. `/Users?filter=...`) with the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        if self.token.is_empty() { request } else { request.bearer_auth(&self.token) }
    }

    /// `method path` with `body` sent as `content_type`.
    pub async fn send_as(&self, method: Method, path: &str, body: &Value, content_type: &str) -> Response {
        self.request(method, path)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.expect("request")
    }

    /// `POST` as `application/scim+json`, as Entra ID sends it.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send_as(Method::POST, path, body, SCIM_JSON).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send_as(Method::PUT, path, body, SCIM_JSON).await
    }

    /// `PATCH` with a PatchOp message of `operations`.
    pub async fn patch(&self, path: &str, operations: Value) -> Response {
        self.send_as(Method::PATCH, path, &patch_op(operations), SCIM_JSON).await
    }

    /// `POST /Users` (or `/Groups`) that must create: the resource, checked for its shape.
    pub async fn create(&self, collection: &str, body: &Value) -> Scim {
        let created = scim(self.post(collection, body).await, StatusCode::CREATED).await;
        created.assert_created();
        created
    }

    /// A resource that must be there (200), checked for its shape.
    pub async fn read(&self, path: &str) -> Scim {
        let read = scim(self.get(path).await, StatusCode::OK).await;
        read.assert_resource();
        read
    }

    /// A `PATCH` that must work: RFC 7644 lets it answer 204, the issue says 200 with the full
    /// resource.
    pub async fn patched(&self, path: &str, operations: Value) -> Scim {
        let patched = scim(self.patch(path, operations).await, StatusCode::OK).await;
        patched.assert_resource();
        patched
    }

    /// A list (`ListResponse`) that must answer 200, checked for its shape.
    pub async fn list(&self, path: &str) -> Value {
        let list = scim(self.get(path).await, StatusCode::OK).await.body;
        assert_list(&list);
        list
    }

    /// The ids a list finds, in order.
    pub async fn found(&self, path: &str) -> Vec<String> {
        resources(&self.list(path).await).iter().map(scim_id).collect()
    }

    /// A user made of Entra's example body with this `user_name`, e-mail and external id.
    pub async fn create_user(&self, user_name: &str, email: &str, external_id: &str) -> Scim {
        self.create("/Users", &user_body(user_name, email, external_id)).await
    }

    /// A group named `display_name` with `members` (SCIM ids).
    pub async fn create_group(&self, display_name: &str, members: &[&str]) -> Scim {
        let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let body = json!({"schemas": [GROUP], "displayName": display_name, "members": members});
        self.create("/Groups", &body).await
    }
}

/// A SCIM body of Entra's "Create User" shape.
pub fn user_body(user_name: &str, email: &str, external_id: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": email}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    })
}

/// A PatchOp message (RFC 7644 section 3.5.2).
pub fn patch_op(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// An answer's headers and body, read after checking its status and that it is SCIM JSON.
pub struct Scim {
    pub headers: HeaderMap,
    pub body: Value,
}

/// Reads an answer that must have `status` and the SCIM media type.
pub async fn scim(response: Response, status: StatusCode) -> Scim {
    let got = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "status; the answer was {text}");
    assert_scim_type(&headers, &text);
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("SCIM JSON, got {text}"));
    Scim { headers, body }
}

fn assert_scim_type(headers: &HeaderMap, text: &str) {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        content_type.starts_with(SCIM_JSON),
        "content type {content_type:?} is application/scim+json (RFC 7644 section 3.1): {text}"
    );
}

impl Scim {
    pub fn id(&self) -> String {
        scim_id(&self.body)
    }

    /// The `ETag` header.
    pub fn etag(&self) -> String {
        self.headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag header").to_owned()
    }

    /// A resource (RFC 7643 section 3.1): `schemas`, `id`, and `meta` with all of
    /// `resourceType`, `created`, `lastModified`, `location`, `version`, the version being the
    /// `ETag` header (RFC 7644 section 3.14) and the location naming the resource.
    pub fn assert_resource(&self) {
        let body = &self.body;
        let resource_type = body["meta"]["resourceType"].as_str().unwrap_or_else(|| panic!("meta in {body}"));
        let (schema, collection) = match resource_type {
            "User" => (USER, "Users"),
            "Group" => (GROUP, "Groups"),
            other => panic!("resourceType {other} in {body}"),
        };
        let schemas = body["schemas"].as_array().unwrap_or_else(|| panic!("schemas in {body}"));
        assert!(schemas.contains(&json!(schema)), "{schema} in the schemas of {body}");
        let id = self.id();
        assert!(!id.is_empty(), "{body}");
        for stamp in ["created", "lastModified"] {
            let text = body["meta"][stamp].as_str().unwrap_or_else(|| panic!("meta.{stamp} in {body}"));
            assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "meta.{stamp} {text} is a dateTime");
        }
        let location = body["meta"]["location"].as_str().unwrap_or_else(|| panic!("meta.location in {body}"));
        assert!(location.ends_with(&format!("/scim/v2/{collection}/{id}")), "{location} names {id}");
        let version = body["meta"]["version"].as_str().unwrap_or_else(|| panic!("meta.version in {body}"));
        assert_eq!(self.etag(), version, "the ETag header is meta.version");
        assert!(body.get("password").is_none(), "a password is never returned: {body}");
    }

    /// A 201: a resource whose `Location` header is its `meta.location` (RFC 7644 section 3.3).
    pub fn assert_created(&self) {
        self.assert_resource();
        let location = self.headers.get("location").and_then(|v| v.to_str().ok()).expect("a Location");
        assert_eq!(location, self.body["meta"]["location"], "Location = meta.location");
    }

    /// The `value`s of `members` (a group) or `groups` (a user), sorted; absent = none.
    pub fn values_of(&self, attribute: &str) -> Vec<String> {
        values_of(&self.body, attribute)
    }
}

/// The sorted `value`s of the multi-valued `attribute` of `resource`; absent or null = none.
pub fn values_of(resource: &Value, attribute: &str) -> Vec<String> {
    let mut values: Vec<String> = match &resource[attribute] {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| item["value"].as_str().unwrap_or_else(|| panic!("a value in {item}")).to_owned())
            .collect(),
        other => panic!("{attribute} is multi-valued: {other}"),
    };
    values.sort();
    values
}

/// Sorted copies of SCIM ids, to compare with [`values_of`].
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

pub fn scim_id(resource: &Value) -> String {
    resource["id"].as_str().unwrap_or_else(|| panic!("an id in {resource}")).to_owned()
}

/// A ListResponse (RFC 7644 section 3.4.2): the schema, `totalResults`, and `Resources` (which
/// may be left out when there are none) with `startIndex` and `itemsPerPage` agreeing.
pub fn assert_list(list: &Value) {
    assert_eq!(list["schemas"], json!([LIST]), "{list}");
    let total = list["totalResults"].as_u64().unwrap_or_else(|| panic!("totalResults in {list}"));
    let count = resources(list).len() as u64;
    assert!(count <= total, "{list}");
    if count > 0 {
        assert!(list["startIndex"].as_u64().is_some_and(|i| i >= 1), "a 1-based startIndex in {list}");
        assert_eq!(list["itemsPerPage"].as_u64(), Some(count), "itemsPerPage in {list}");
    }
}

pub fn resources(list: &Value) -> Vec<Value> {
    match &list["Resources"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        other => panic!("Resources is a list: {other}"),
    }
}

pub fn total(list: &Value) -> u64 {
    list["totalResults"].as_u64().unwrap_or_else(|| panic!("totalResults in {list}"))
}

/// A SCIM error (RFC 7644 section 3.12): the Error schema, `status` as a string, `scimType` when
/// one is expected, a `detail`.
pub async fn scim_error(response: Response, status: StatusCode, scim_type: Option<&str>) -> Value {
    let error = scim(response, status).await.body;
    assert_eq!(error["schemas"], json!([ERROR]), "{error}");
    assert_eq!(error["status"], json!(status.as_u16().to_string()), "status is a string: {error}");
    if let Some(scim_type) = scim_type {
        assert_eq!(error["scimType"], scim_type, "{error}");
    }
    assert!(error["detail"].is_string(), "a detail in {error}");
    error
}

/// `path?filter=<filter>` with the filter percent-encoded, spaces as `%20` (as Okta sends it).
pub fn filtered(path: &str, filter: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}filter={}", encode(filter))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The REST view of the person a directory made, found by its `externalId`.
pub async fn rest_user(admin: &Actor, customer: Uuid, external_id: &str) -> Value {
    let path = format!("/v1/customers/{customer}/users/by-external-id/{}", encode(external_id));
    json_of(admin.get(&path).await, StatusCode::OK).await
}

/// What an admin does so the person of `rest_view` can sign in: sets its password
/// ([`MEMBER_PASSWORD`]) over REST. The person is then signed in.
pub async fn give_password_and_sign_in(app: &TestApp, admin: &Actor, rest_view: &Value) -> Actor {
    let customer = rest_view["customer_id"].as_str().and_then(|c| Uuid::parse_str(c).ok()).expect("customer");
    let path = format!("{}/password", user_path(customer, id_of(rest_view)));
    let response = admin.post(&path, &json!({"password": MEMBER_PASSWORD})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "the admin sets the password");
    app.sign_in_member(rest_view).await
}
