//! A signed-in person that makes its own requests (`admin.get(path)`, `admin.post(path, &body)`)
//! and takes the steps the stories are told in (`admin.create_customer("Acme")`,
//! `admin.invite_one(acme, "jana@acme.example")`). Each step asserts that it worked, so a story
//! reads as what happens, not as how a request is built.

use std::collections::BTreeSet;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::paths::{addresses_of, cost_centers_of, groups_of, invitations_of, user_path, users_of};
use super::read::{claims, decoded_claims, id_of, json_of};
use super::{MEMBER_PASSWORD, unique_email};

/// Someone holding an access token (and usually a refresh token) for the app at `address`.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The person's id (nil for a bare [`TestApp::bearer`](super::TestApp::bearer)).
    pub user_id: Uuid,
    pub email: String,
    pub password: String,
    /// The raw tokens, for the tests that read, replay or forge them.
    pub access_token: String,
    pub refresh_token: String,
    client: reqwest::Client,
    address: String,
}

impl Actor {
    pub(super) fn new(
        client: &reqwest::Client,
        address: &str,
        access_token: &str,
        refresh_token: &str,
    ) -> Self {
        let claims = decoded_claims(access_token).unwrap_or_default();
        let user_id = claims["sub"].as_str().and_then(|sub| Uuid::parse_str(sub).ok());
        Self {
            user_id: user_id.unwrap_or_default(),
            email: String::new(),
            password: String::new(),
            access_token: access_token.to_owned(),
            refresh_token: refresh_token.to_owned(),
            client: client.clone(),
            address: address.to_owned(),
        }
    }

    /// The same person with the token pair of `pair` (`{"access_token", "refresh_token"}`).
    pub fn with_pair(&self, pair: &Value) -> Self {
        let (access_token, refresh_token) = tokens_of(pair);
        Self {
            access_token: access_token.to_owned(),
            refresh_token: refresh_token.to_owned(),
            ..self.clone()
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request carrying this actor's access token, for what the shortcuts do not cover
    /// (other headers, other bodies).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&self.access_token)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("request")
    }

    /// `POST` a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path).json(body).send().await.expect("request")
    }

    /// `PATCH` a merge-patch body, with `If-Match` when given.
    pub async fn patch(&self, path: &str, body: &Value, if_match: Option<&str>) -> Response {
        let request = self
            .request(Method::PATCH, path)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        with_if_match(request, if_match).send().await.expect("request")
    }

    /// `DELETE`, with `If-Match` when given.
    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Response {
        with_if_match(self.request(Method::DELETE, path), if_match).send().await.expect("request")
    }

    /// `method path` with a body of JSON text (or none), as a table of endpoints lists them.
    pub async fn send(&self, method: &str, path: &str, body: Option<&str>) -> Response {
        let mut request = self.request(Method::from_bytes(method.as_bytes()).expect("a method"), path);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        request.send().await.expect("request")
    }

    /// The claims of the access token, decoded as a consumer reads them (without verifying).
    pub fn claims(&self) -> Value {
        claims(&self.access_token)
    }

    /// `GET /v1/me`, which must answer 200.
    pub async fn me(&self) -> Value {
        json_of(self.get("/v1/me").await, StatusCode::OK).await
    }

    /// Presents the refresh token (`POST /v1/auth/refresh`).
    pub async fn refresh(&self) -> Response {
        let body = json!({"refresh_token": self.refresh_token});
        self.client.post(self.url("/v1/auth/refresh")).json(&body).send().await.expect("request")
    }

    /// The same person after a refresh, which must work: the new pair.
    pub async fn refreshed(&self) -> Self {
        self.with_pair(&json_of(self.refresh().await, StatusCode::OK).await)
    }

    /// Signs out with the refresh token (`POST /v1/auth/logout`).
    pub async fn logout(&self) -> Response {
        let body = json!({"refresh_token": self.refresh_token});
        self.client.post(self.url("/v1/auth/logout")).json(&body).send().await.expect("request")
    }

    /// Asks `POST /v1/authz/check` about `permission` in `customer` (and `group`); a 200.
    pub async fn check(&self, permission: &str, customer: Uuid, group: Option<Uuid>) -> Value {
        let body = json!({"permission": permission, "customer_id": customer, "group_id": group});
        json_of(self.post("/v1/authz/check", &body).await, StatusCode::OK).await
    }

    /// One page of a list (the default limit), which must answer 200.
    pub async fn list(&self, path: &str) -> Vec<Value> {
        let page = json_of(self.get(path).await, StatusCode::OK).await;
        page["items"].as_array().expect("items").clone()
    }

    /// The ids of one page of a list, in order.
    pub async fn list_ids(&self, path: &str) -> Vec<Uuid> {
        self.list(path).await.iter().map(id_of).collect()
    }

    /// The ids of one page of a list, as a set.
    pub async fn id_set(&self, path: &str) -> BTreeSet<Uuid> {
        self.list(path).await.iter().map(id_of).collect()
    }

    /// Every item of a list, in order, walking it `limit` items a page.
    pub async fn walk(&self, path: &str, limit: usize) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let (mut items, mut cursor) = (Vec::new(), None::<String>);
        for _ in 0..200 {
            let page_path = match &cursor {
                Some(cursor) => format!("{path}{separator}limit={limit}&cursor={cursor}"),
                None => format!("{path}{separator}limit={limit}"),
            };
            let page = json_of(self.get(&page_path).await, StatusCode::OK).await;
            let page_items = page["items"].as_array().expect("items");
            assert!(page_items.len() <= limit, "limit={limit} gives at most {limit} items: {page}");
            items.extend(page_items.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path} never ended");
    }

    /// The ids of every item of a list, walking it one item a page.
    pub async fn walk_ids(&self, path: &str) -> BTreeSet<Uuid> {
        self.walk(path, 1).await.iter().map(id_of).collect()
    }

    /// Every audit event this actor reads about `target`, newest first.
    pub async fn events_about(&self, target: Uuid) -> Vec<Value> {
        self.walk(&format!("/v1/audit-events?target_id={target}"), 50).await
    }
}

/// The access and the refresh token of a token pair.
pub(super) fn tokens_of(pair: &Value) -> (&str, &str) {
    let token = |name: &str| pair[name].as_str().unwrap_or_else(|| panic!("a {name} in {pair}"));
    (token("access_token"), token("refresh_token"))
}

fn with_if_match(request: RequestBuilder, if_match: Option<&str>) -> RequestBuilder {
    match if_match {
        Some(tag) => request.header("if-match", tag),
        None => request,
    }
}

/// The steps of the stories: each must succeed, and returns what it made.
impl Actor {
    /// Creates a customer with a fresh code and returns its view.
    pub async fn create_customer(&self, name: &str) -> Value {
        self.create_customer_with(name, json!({})).await
    }

    /// Creates a customer with `settings` (e.g. `contact_email`, `self_signup_enabled`) too.
    pub async fn create_customer_with(&self, name: &str, settings: Value) -> Value {
        let code = format!("C-{}", &Uuid::new_v4().simple().to_string()[..10]);
        let body = merged(json!({"name": name, "code": code}), &settings);
        json_of(self.post("/v1/customers", &body).await, StatusCode::CREATED).await
    }

    /// A customer with one warehouse address (so it has a default), as mail tests want it.
    pub async fn customer_with_address(&self, name: &str) -> Uuid {
        let customer = id_of(&self.create_customer(name).await);
        self.add_address(customer, "Main", None).await;
        customer
    }

    /// Adds a user of `customer` with exactly `body`; returns its view.
    pub async fn add_user(&self, customer: Uuid, body: Value) -> Value {
        let response = self.post(&users_of(customer), &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "user {body} is created");
        response.json().await.expect("user json")
    }

    /// Adds a user with login (a fresh e-mail address, [`MEMBER_PASSWORD`]) and the fields of
    /// `extra`; returns its view.
    pub async fn add_person(&self, customer: Uuid, name: &str, extra: Value) -> Value {
        let body = json!({"name": name, "email": unique_email(name), "password": MEMBER_PASSWORD});
        self.add_user(customer, merged(body, &extra)).await
    }

    /// The view of user `user` of `customer`, which must be visible.
    pub async fn get_user(&self, customer: Uuid, user: Uuid) -> Value {
        json_of(self.get(&user_path(customer, user)).await, StatusCode::OK).await
    }

    pub async fn add_group(&self, customer: Uuid, name: &str) -> Uuid {
        id_of(
            &json_of(self.post(&groups_of(customer), &json!({"name": name})).await, StatusCode::CREATED)
                .await,
        )
    }

    /// Adds a warehouse address labelled `label` in Hamburg, tagged with `group` when given.
    pub async fn add_address(&self, customer: Uuid, label: &str, group: Option<Uuid>) -> Value {
        let body = match group {
            Some(group) => merged(address(label), &json!({"group_id": group})),
            None => address(label),
        };
        json_of(self.post(&addresses_of(customer), &body).await, StatusCode::CREATED).await
    }

    pub async fn add_cost_center(&self, customer: Uuid, code: &str, active: bool) -> Uuid {
        let body = json!({"code": code, "name": format!("Cost center {code}"), "active": active});
        id_of(&json_of(self.post(&cost_centers_of(customer), &body).await, StatusCode::CREATED).await)
    }

    /// Invites as `body` says; the results, one per address.
    pub async fn invite(&self, customer: Uuid, body: Value) -> Vec<Value> {
        let response = self.post(&invitations_of(customer), &body).await;
        json_of(response, StatusCode::OK).await["results"].as_array().expect("results").clone()
    }

    /// Invites one address, which must be invited; returns its invitation.
    pub async fn invite_one(&self, customer: Uuid, email: &str) -> Value {
        let results = self.invite(customer, json!({"emails": [email]})).await;
        assert_eq!(results[0]["outcome"], "invited", "{results:?}");
        results[0]["invitation"].clone()
    }
}

/// A valid warehouse address labelled `label`.
pub fn address(label: &str) -> Value {
    json!({"label": label, "line1": "Hafenstraße 12", "city": "Hamburg", "postal_code": "20457", "country": "DE"})
}

/// `body` with the fields of `extra` set on it.
pub fn merged(mut body: Value, extra: &Value) -> Value {
    for (key, value) in extra.as_object().expect("an object") {
        body[key] = value.clone();
    }
    body
}
