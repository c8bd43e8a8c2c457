//! Another customer's data is a 404 for everyone who cannot see it: a dispatcher scoped to
//! other customers, and every kind of customer user of another customer. The matrix is the
//! OpenAPI document itself: every operation whose path names `{customer_id}`, or that filters
//! by `customer_id`, is sent with the victim's ids, so no endpoint can be left out. A new
//! operation needs a row in [`REQUESTS`] (the test fails naming it until it has one) and ids in
//! its path that the [`Victim`] has.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, id_of, json_of, problem};
use dockgate::permissions::{Permission, Role};

/// By operationId, what the matrix sends each operation besides the victim's ids: a query that
/// gets it past what is checked before visibility, and a body that would be valid (`{name}`
/// in it is the victim's id of that name).
const REQUESTS: &[(&str, &str, Option<&str>)] = &[
    ("getCustomer", "", None),
    ("patchCustomer", "", Some(r#"{"name": "Taken over"}"#)),
    ("deleteCustomer", "", None),
    ("listWarehouseAddresses", "", None),
    ("createWarehouseAddress", "", Some(r#"{"label": "X", "line1": "X 1", "city": "X", "country": "DE"}"#)),
    ("getWarehouseAddress", "", None),
    ("patchWarehouseAddress", "", Some(r#"{"is_default": true}"#)),
    ("deleteWarehouseAddress", "", None),
    ("listCostCenters", "", None),
    ("createCostCenter", "", Some(r#"{"code": "CC-9", "name": "Stolen"}"#)),
    ("getCostCenter", "", None),
    ("patchCostCenter", "", Some(r#"{"name": "Stolen"}"#)),
    ("deleteCostCenter", "", None),
    ("listAuditEvents", "", None),
    ("listUsers", "", None),
    ("createUser", "", Some(r#"{"name": "Mole"}"#)),
    ("importUsers", "", Some(r#"[{"name": "Mole"}]"#)),
    ("getUserByExternalId", "", None),
    ("upsertUserByExternalId", "", Some(r#"{"name": "Mole"}"#)),
    ("getUser", "", None),
    ("patchUser", "", Some(r#"{"name": "Renamed"}"#)),
    ("deleteUser", "", None),
    ("deactivateUser", "", None),
    ("reactivateUser", "", None),
    ("setUserPassword", "", Some(r#"{"password": "a stolen passphrase here"}"#)),
    ("sendUserPasswordReset", "", None),
    ("resetUserMfa", "", None),
    ("transferOwnership", "", Some(r#"{"user_id": "{user_id}"}"#)),
    ("impersonateUser", "", Some(r#"{"reason": "Just looking around"}"#)),
    ("getAccessReview", "", None),
    ("recordAccessReview", "", None),
    ("listUserSessions", "", None),
    ("endUserSession", "", None),
    ("endUserSessions", "", None),
    ("endCustomerSessions", "", None),
    ("listGroups", "", None),
    ("createGroup", "", Some(r#"{"name": "Infiltrators"}"#)),
    ("getGroup", "", None),
    ("patchGroup", "", Some(r#"{"name": "Renamed"}"#)),
    ("deleteGroup", "?confirm=true", None),
    ("listGroupMembers", "", None),
    ("listInvitations", "", None),
    ("createInvitations", "", Some(r#"{"emails": ["mole@attacker.example"]}"#)),
    ("getInvitation", "", None),
    ("resendInvitation", "", None),
    ("revokeInvitation", "", None),
    ("listApiClients", "", None),
    ("createApiClient", "", Some(r#"{"name": "Mole", "scopes": []}"#)),
    ("getApiClient", "", None),
    ("patchApiClient", "", Some(r#"{"name": "Renamed"}"#)),
    ("deleteApiClient", "", None),
    ("rotateApiClientSecret", "", None),
    ("listApiClientTokens", "", None),
    ("createApiClientToken", "", Some(r#"{"name": "Stolen"}"#)),
    ("revokeApiClientToken", "", None),
    ("listWebhooks", "", None),
    ("createWebhook", "", Some(r#"{"url": "http://127.0.0.1:9/stolen"}"#)),
    ("getWebhook", "", None),
    ("patchWebhook", "", Some(r#"{"url": "http://127.0.0.1:9/stolen"}"#)),
    ("deleteWebhook", "", None),
    ("rotateWebhookSecret", "", None),
    ("listWebhookDeliveries", "", None),
    ("retryWebhookDelivery", "", None),
    ("testWebhook", "", None),
];

/// An operation of the document that names a customer, as the matrix sends it.
struct Operation {
    id: String,
    method: Method,
    path: String,
    /// Its query parameters that name something the victim has (e.g. `group_id`).
    id_queries: Vec<String>,
    /// The content type of its request body, if it takes one.
    content_type: Option<String>,
}

/// Every operation of the OpenAPI document whose path names `{customer_id}` or that takes a
/// `customer_id` query.
fn operations_under_a_customer() -> Vec<Operation> {
    let document = serde_json::to_value(dockgate::routes::document()).expect("the document as JSON");
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            // A path item holds its operations by method, and may hold shared fields besides.
            let methods = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
            let Some(method) = methods.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(method)) else {
                continue;
            };

            let queries: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            if !path.contains("{customer_id}") && !queries.iter().any(|q| q == "customer_id") {
                continue;
            }
            operations.push(Operation {
                id: operation["operationId"].as_str().expect("an operationId").to_owned(),
                method,
                path: path.clone(),
                id_queries: queries.into_iter().filter(|q| Victim::NAMES.contains(&q.as_str())).collect(),
                content_type: operation["requestBody"]["content"]
                    .as_object()
                    .and_then(|c| c.keys().next().cloned()),
            });
        }
    }
    operations
}

/// One request of the matrix.
struct Request {
    method: Method,
    path: String,
    body: Option<(String, String)>,
}

/// The requests that reach into the victim through each operation, with `customer` in the
/// place of the victim's customer. Fails, naming every culprit, when an operation has no row in
/// [`REQUESTS`] or a row no operation, or when an operation cannot be sent (see [`requests_to`]).
fn matrix(victim: &Victim, customer: Uuid) -> Vec<Request> {
    let operations = operations_under_a_customer();
    let documented: BTreeSet<&str> = operations.iter().map(|o| o.id.as_str()).collect();
    let listed: BTreeSet<&str> = REQUESTS.iter().map(|(id, _, _)| *id).collect();
    let missing: Vec<&&str> = documented.difference(&listed).collect();
    assert!(missing.is_empty(), "operations under a customer without a row in REQUESTS: {missing:?}");
    let stale: Vec<&&str> = listed.difference(&documented).collect();
    assert!(stale.is_empty(), "rows in REQUESTS for operations the document does not have: {stale:?}");
    let (mut requests, mut problems) = (Vec::new(), Vec::new());
    for operation in &operations {
        match requests_to(operation, victim, customer) {
            Ok(sent) => requests.extend(sent),
            Err(problem) => problems.push(problem),
        }
    }
    assert!(problems.is_empty(), "the matrix cannot send:\n{}", problems.join("\n"));
    requests
}

/// The path with the victim's ids (when it names `{customer_id}`), and that path once more per
/// id query (`?group_id=` the victim's group). An error when the document and [`REQUESTS`]
/// disagree on a body, or when the path names an id the victim does not have.
fn requests_to(operation: &Operation, victim: &Victim, customer: Uuid) -> Result<Vec<Request>, String> {
    let (_, query, body) = REQUESTS.iter().find(|(id, _, _)| *id == operation.id).expect("a row");
    let body = match (&operation.content_type, body) {
        (Some(content_type), Some(body)) => Some((content_type.clone(), victim.fill(body, customer))),
        (None, None) => None,
        (Some(_), None) => {
            return Err(format!("{}: the document has a request body, REQUESTS none", operation.id));
        }
        (None, Some(_)) => return Err(format!("{}: REQUESTS has a body, the document none", operation.id)),
    };
    let path = victim.fill(&operation.path, customer);
    if let Some(unknown) = path.find('{').and_then(|start| path[start..].split_inclusive('}').next()) {
        return Err(format!("{} {}: the victim has no {unknown}", operation.method, operation.path));
    }
    let mut paths = Vec::new();
    if operation.path.contains("{customer_id}") {
        paths.push(format!("{path}{query}"));
    }
    let separator = if query.is_empty() { '?' } else { '&' };
    for name in &operation.id_queries {
        paths.push(format!("{path}{query}{separator}{name}={}", victim.id(name, customer)));
    }
    Ok(paths
        .into_iter()
        .map(|path| Request { method: operation.method.clone(), path, body: body.clone() })
        .collect())
}

/// The ERP key of the victim's user (`.../users/by-external-id/{external_id}`).
const VICTIM_KEY: &str = "VICTIM-1";

/// A customer with one of everything, created by staff.
struct Victim {
    customer: Uuid,
    address: Uuid,
    cost_center: Uuid,
    user: Uuid,
    group: Uuid,
    invitation: Uuid,
    api_client: Uuid,
    token: Uuid,
    webhook: Uuid,
    delivery: Uuid,
    /// The victim user's session (signed in once).
    session: Uuid,
}

impl Victim {
    /// The names the document gives the victim's ids.
    const NAMES: [&str; 11] = [
        "customer_id",
        "address_id",
        "cost_center_id",
        "user_id",
        "group_id",
        "invitation_id",
        "api_client_id",
        "token_id",
        "webhook_id",
        "delivery_id",
        "session_id",
    ];

    async fn new(staff: &Actor) -> Self {
        let customer = id_of(&staff.create_customer("Victim").await);
        let address = id_of(&staff.add_address(customer, "V", None).await);
        let cost_center = staff.add_cost_center(customer, "CC-1", true).await;
        let group = staff.add_group(customer, "Victim depot").await;
        let user = staff
            .add_user(
                customer,
                json!({"name": "Victim User", "email": "victim.user@victim.example",
                    "password": "victim passphrase 1", "group_ids": [group], "external_id": VICTIM_KEY}),
            )
            .await;
        let invitation = id_of(&staff.invite_one(customer, "invitee@victim.example").await);
        let clients = format!("/v1/customers/{customer}/api-clients");
        let api_client = staff.post(&clients, &json!({"name": "Victim ERP", "scopes": []})).await;
        let api_client = id_of(&json_of(api_client, StatusCode::CREATED).await);
        let token = staff.post(&format!("{clients}/{api_client}/tokens"), &json!({"name": "SCIM"})).await;
        let token = id_of(&json_of(token, StatusCode::CREATED).await);
        let hooks = format!("/v1/customers/{customer}/webhooks");
        let webhook = staff.post(&hooks, &json!({"url": "http://127.0.0.1:9/victim"})).await;
        let webhook = id_of(&json_of(webhook, StatusCode::CREATED).await);
        let delivery = staff.post(&format!("{hooks}/{webhook}/test"), &json!({})).await;
        let delivery = id_of(&json_of(delivery, StatusCode::ACCEPTED).await);
        let user = id_of(&user);
        let signed_in = staff
            .request(reqwest::Method::POST, "/v1/auth/login")
            .json(&json!({"email": "victim.user@victim.example", "password": "victim passphrase 1"}))
            .send()
            .await
            .expect("request");
        let session = session_of(&json_of(signed_in, StatusCode::OK).await);
        Victim {
            customer,
            address,
            cost_center,
            user,
            group,
            invitation,
            api_client,
            token,
            webhook,
            delivery,
            session,
        }
    }

    /// The victim's id called `name`, with `customer` standing for its customer.
    fn id(&self, name: &str, customer: Uuid) -> Uuid {
        match name {
            "customer_id" => customer,
            "address_id" => self.address,
            "cost_center_id" => self.cost_center,
            "user_id" => self.user,
            "group_id" => self.group,
            "invitation_id" => self.invitation,
            "api_client_id" => self.api_client,
            "token_id" => self.token,
            "webhook_id" => self.webhook,
            "delivery_id" => self.delivery,
            "session_id" => self.session,
            other => panic!("the victim has no {other}"),
        }
    }

    /// `template` with every `{name}` of the victim's ids filled in, and its user's ERP key.
    fn fill(&self, template: &str, customer: Uuid) -> String {
        Self::NAMES
            .iter()
            .fold(template.to_owned(), |text, name| {
                text.replace(&format!("{{{name}}}"), &self.id(name, customer).to_string())
            })
            .replace("{external_id}", VICTIM_KEY)
    }
}

/// The session (`sid`) of a sign-in's access token.
fn session_of(pair: &Value) -> Uuid {
    use base64::Engine;
    let token = pair["access_token"].as_str().expect("an access token");
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64");
    let claims: Value = serde_json::from_slice(&bytes).expect("claims");
    claims["sid"].as_str().and_then(|sid| sid.parse().ok()).expect("a sid")
}

async fn attempt(actor: &Actor, request: &Request) -> reqwest::Response {
    let mut builder = actor.request(request.method.clone(), &request.path);
    if let Some((content_type, body)) = &request.body {
        builder = builder.header("content-type", content_type).body(body.clone());
    }
    builder.send().await.expect("request")
}

async fn assert_all_not_found(who: &str, attacker: &Actor, victim: &Victim) {
    for request in matrix(victim, victim.customer) {
        let response = attempt(attacker, &request).await;
        let (method, path) = (&request.method, &request.path);
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{who}: {method} {path}");
        let body = problem(response, StatusCode::NOT_FOUND).await;
        assert_eq!(
            body["detail"], "The resource does not exist or is not visible to you.",
            "{who}: {method} {path}: same text as a missing resource"
        );
    }
    // Asking instead of acting tells nothing more: the victim's customer is simply not allowed.
    for group in [None, Some(victim.group)] {
        let answer = attacker.check("orders.view", victim.customer, group).await;
        assert_eq!(answer, json!({"allowed": false, "reason": "customer_not_visible"}), "{who}");
    }
}

#[tokio::test]
async fn nobody_outside_a_customer_can_see_or_touch_its_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let victim = Victim::new(&admin).await;
    let own = id_of(&admin.create_customer("Attacker Inc").await);
    // An API client of the other customer with every scope, by its access token and by a
    // long-lived token: a customer user holding exactly those.
    let clients = format!("/v1/customers/{own}/api-clients");
    let all_scopes: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    let created = admin.post(&clients, &json!({"name": "Attacker ERP", "scopes": all_scopes})).await;
    let created = json_of(created, StatusCode::CREATED).await;
    let (client_id, secret) =
        (created["client_id"].as_str().expect("id"), created["client_secret"].as_str().expect("secret"));
    let token = app
        .client
        .post(app.url("/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}"))
        .send()
        .await
        .expect("token request");
    let token = json_of(token, StatusCode::OK).await;
    let client_attacker = app.bearer(token["access_token"].as_str().expect("access token"));
    let long_lived =
        admin.post(&format!("{clients}/{}/tokens", id_of(&created)), &json!({"name": "SCIM"})).await;
    let long_lived = json_of(long_lived, StatusCode::CREATED).await;
    let long_lived_attacker = app.bearer(long_lived["token"].as_str().expect("token"));
    let before = app.audit_actions().len();

    let scoped_dispatcher = app.staff(Role::Dispatcher, &[own]).await;
    assert_all_not_found("scoped dispatcher", &scoped_dispatcher, &victim).await;
    let every_permission: Vec<Permission> = Permission::ALL.to_vec();
    for (who, role, permissions) in [
        ("owner of another customer", Role::Owner, vec![]),
        ("admin of another customer", Role::Admin, vec![]),
        ("user with every grantable permission", Role::User, every_permission),
    ] {
        let attacker = app.customer_user(own, role, &permissions).await;
        assert_all_not_found(who, &attacker, &victim).await;
    }
    // Its own customer is fine: the matrix is about the victim only.
    assert_eq!(client_attacker.get(&format!("/v1/customers/{own}/users")).await.status(), StatusCode::OK);
    assert_all_not_found("API client of another customer", &client_attacker, &victim).await;
    assert_all_not_found("long-lived token of another customer's client", &long_lived_attacker, &victim)
        .await;

    // Nothing was changed, and lists do not leak the victim either.
    assert_eq!(app.audit_actions().len(), before);
    let list: Value = scoped_dispatcher.get("/v1/customers").await.json().await.expect("list");
    assert_eq!(list["items"].as_array().map(|i| i.iter().map(id_of).collect::<Vec<_>>()), Some(vec![own]));
    let users: Value = scoped_dispatcher.get("/v1/users").await.json().await.expect("users");
    assert!(
        users["items"].as_array().expect("items").iter().all(|u| u["customer_id"] == json!(own)),
        "{users}"
    );
    // The victim's user still signs in: nobody changed its password or status.
    assert_eq!(app.login("victim.user@victim.example", "victim passphrase 1").await.status(), StatusCode::OK);
    let audit: Value = scoped_dispatcher.get("/v1/audit-events").await.json().await.expect("audit");
    assert!(
        audit["items"].as_array().expect("items").iter().all(|e| e["customer_id"] == json!(own)),
        "{audit}"
    );
}

#[tokio::test]
async fn a_resource_of_one_customer_is_not_found_under_another() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let victim = Victim::new(&admin).await;
    let other = id_of(&admin.create_customer("Other").await);
    let before = app.audit_actions().len();
    // Even a platform admin cannot reach customer A's things through customer B's path: every
    // operation whose path names one thing of a customer besides the customer itself.
    let things = [
        victim.address,
        victim.cost_center,
        victim.user,
        victim.group,
        victim.invitation,
        // Its tokens are reached through its path (the revocation names both).
        victim.api_client,
    ];
    let naming = |request: &Request, thing: Uuid| {
        request.path.split('?').next().is_some_and(|path| path.contains(&thing.to_string()))
    };
    let requests: Vec<Request> =
        matrix(&victim, other).into_iter().filter(|r| things.iter().any(|thing| naming(r, *thing))).collect();
    for thing in things {
        for method in [Method::GET, Method::DELETE] {
            let sent = requests.iter().any(|r| r.method == method && naming(r, thing));
            assert!(sent, "the matrix sends {method} for {thing}");
        }
    }
    for request in requests {
        let response = attempt(&admin, &request).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{} {}", request.method, request.path);
        problem(response, StatusCode::NOT_FOUND).await;
    }
    assert_eq!(app.audit_actions().len(), before, "nothing was changed");
}
