//! Users of a customer (contract section 6): contacts without login and users with one, their
//! permissions, who may manage them, their lifecycle (deactivate, delete, passwords, roles,
//! ownership), the customer's portal switch, search, lists and the permission catalog.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, Session, TestApp, id_of, problem};
use dockgate::permissions::{Permission, Role};

/// A password that passes the policy, different from the harness's.
const PORTAL_PASSWORD: &str = "a long portal passphrase";

/// What a `user` gets when created without permissions.
const DEFAULTS: [&str; 3] = ["orders.view", "pod.download", "tracking.view"];

/// Everything an `admin` holds: all but pricing and payments.
const ADMIN_SET: [&str; 10] = [
    "addresses.manage",
    "cost_centers.manage",
    "messages.view_body",
    "orders.create",
    "orders.view",
    "pod.download",
    "reports.view",
    "scheduling.book",
    "tracking.view",
    "users.manage",
];

/// Every permission a `user` may be granted.
const GRANTABLE: [Permission; 9] = [
    Permission::OrdersView,
    Permission::OrdersCreate,
    Permission::TrackingView,
    Permission::PodDownload,
    Permission::SchedulingBook,
    Permission::ReportsView,
    Permission::MessagesViewBody,
    Permission::AddressesManage,
    Permission::CostCentersManage,
];

fn users_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/users")
}

fn user_path(customer: Uuid, user: Uuid) -> String {
    format!("/v1/customers/{customer}/users/{user}")
}

fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@acme.example", &Uuid::new_v4().simple().to_string()[..8])
}

/// The payload of a JWT, decoded without verifying it (as a consumer reading its claims).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).expect("payload");
    serde_json::from_slice(&payload).expect("claims json")
}

/// A JSON array of strings, sorted.
fn sorted(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect();
    items.sort();
    items
}

/// The `(field, code)` pairs of a validation problem.
fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (e["field"].as_str().expect("field").to_owned(), e["code"].as_str().expect("code").to_owned())
        })
        .collect()
}

fn etag_of(response: &Response) -> String {
    response.headers()["etag"].to_str().expect("etag").to_owned()
}

async fn json_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    response.json().await.expect("json")
}

/// Adds a user as `token` and returns its view (the request must succeed).
async fn add_user(app: &TestApp, token: &str, customer: Uuid, body: Value) -> Value {
    json_of(app.post(&users_of(customer), token, &body).await, StatusCode::CREATED).await
}

/// Adds a `user` with login and [`PORTAL_PASSWORD`]; returns its view.
async fn add_login_user(app: &TestApp, token: &str, customer: Uuid, name: &str, email: &str) -> Value {
    add_user(app, token, customer, json!({"name": name, "email": email, "password": PORTAL_PASSWORD})).await
}

async fn get_user(app: &TestApp, token: &str, customer: Uuid, user: Uuid) -> Value {
    json_of(app.get(&user_path(customer, user), token).await, StatusCode::OK).await
}

/// The ids of one page of a list.
async fn list_ids(app: &TestApp, token: &str, path: &str) -> Vec<Uuid> {
    let page = json_of(app.get(path, token).await, StatusCode::OK).await;
    page["items"].as_array().expect("items").iter().map(id_of).collect()
}

async fn add_address(app: &TestApp, token: &str, customer: Uuid, label: &str) -> Uuid {
    let body = json!({"label": label, "line1": "Hafenstraße 12", "city": "Hamburg", "postal_code": "20457", "country": "DE"});
    let path = format!("/v1/customers/{customer}/warehouse-addresses");
    id_of(&json_of(app.post(&path, token, &body).await, StatusCode::CREATED).await)
}

async fn add_cost_center(app: &TestApp, token: &str, customer: Uuid, code: &str, active: bool) -> Uuid {
    let path = format!("/v1/customers/{customer}/cost-centers");
    let body = json!({"code": code, "name": format!("Cost center {code}"), "active": active});
    id_of(&json_of(app.post(&path, token, &body).await, StatusCode::CREATED).await)
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Response {
    app.post_json("/v1/auth/refresh", &json!({"refresh_token": refresh_token})).await
}

/// Asserts that a session is over: its access token and its refresh token are both refused.
async fn assert_session_ended(app: &TestApp, session: &Session) {
    problem(app.get("/v1/me", &session.access_token).await, StatusCode::UNAUTHORIZED).await;
    problem(refresh(app, &session.refresh_token).await, StatusCode::UNAUTHORIZED).await;
}

/// The audit actions recorded about `target`, oldest first.
fn actions_on(app: &TestApp, target: Uuid) -> Vec<String> {
    app.audit_actions().into_iter().filter(|(_, t)| *t == Some(target)).map(|(action, _)| action).collect()
}

// 1. Contacts without login.

#[tokio::test]
async fn staff_adds_a_contact_without_login_that_gets_the_customer_defaults_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let main_address = add_address(&app, &admin.access_token, customer, "Main").await;

    let response = app.post(&users_of(customer), &admin.access_token, &json!({"name": " Jana Berg "})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let etag = etag_of(&response);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let jana: Value = response.json().await.expect("json");
    assert_eq!(location, user_path(customer, id_of(&jana)));
    assert_eq!(jana["name"], "Jana Berg");
    assert_eq!(jana["customer_id"], json!(customer));
    assert_eq!(jana["login_enabled"], false);
    assert_eq!(jana["password_set"], false);
    assert_eq!(jana["status"], "active");
    assert_eq!(jana["role"], "user");
    assert_eq!(jana["email"], Value::Null);
    assert_eq!(jana["warehouse_address_id"], json!(main_address));
    assert_eq!(sorted(&jana["permissions"]), DEFAULTS);

    // The resource behind Location is the one just created, with the same ETag.
    let response = app.get(&location, &admin.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag_of(&response), etag);
    assert_eq!(response.json::<Value>().await.expect("json"), jana);

    // A contact may have an e-mail address and still never sign in, nor get a password.
    let contact_email = unique_email("dock");
    let body = problem(
        app.post(
            &users_of(customer),
            &admin.access_token,
            &json!({"name": "Dock", "email": contact_email, "login_enabled": false, "password": PORTAL_PASSWORD}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&body), [("password".to_owned(), "not_allowed".to_owned())]);
    let dock = add_user(
        &app,
        &admin.access_token,
        customer,
        json!({"name": "Dock", "email": contact_email, "login_enabled": false}),
    )
    .await;
    assert_eq!(dock["login_enabled"], false);
    assert_eq!(dock["email"], json!(contact_email));
    problem(app.login(&contact_email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    assert_eq!(actions_on(&app, id_of(&jana)), ["user.created"]);
    assert_eq!(actions_on(&app, id_of(&dock)), ["user.created"]);
}

// 2. Users with login.

#[tokio::test]
async fn a_user_with_login_signs_in_and_its_token_carries_its_access_facts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = app.create_customer(&admin.access_token, "Acme").await;
    let customer = id_of(&created);
    let email = unique_email("mia");
    let mia = add_user(
        &app,
        &admin.access_token,
        customer,
        json!({
            "name": "Mia Kern", "email": email, "password": PORTAL_PASSWORD,
            "permissions": ["reports.view", "orders.create", "orders.view", "orders.view"]
        }),
    )
    .await;
    assert_eq!(mia["login_enabled"], true, "an e-mail means a login unless told otherwise");
    assert_eq!(mia["password_set"], true);
    assert_eq!(sorted(&mia["permissions"]), ["orders.create", "orders.view", "reports.view"]);
    assert!(mia.get("password").is_none() && mia.get("password_hash").is_none(), "{mia}");

    let session = app.sign_in(id_of(&mia), &email.to_uppercase(), PORTAL_PASSWORD).await;
    let claims = claims(&session.access_token);
    assert_eq!(claims["sub"], json!(id_of(&mia)));
    assert_eq!(claims["kind"], "customer_user");
    assert_eq!(claims["customer_id"], json!(customer));
    assert_eq!(claims["role"], "user");
    assert_eq!(sorted(&claims["permissions"]), ["orders.create", "orders.view", "reports.view"]);
    assert_eq!(claims["groups"], json!(["*"]));

    let me = json_of(app.get("/v1/me", &session.access_token).await, StatusCode::OK).await;
    assert_eq!(me["id"], json!(id_of(&mia)));
    assert_eq!(me["kind"], "customer_user");
    assert_eq!(me["role"], "user");
    assert_eq!(me["customer_id"], json!(customer));
    assert_eq!(me["customer"], json!({"id": customer, "name": "Acme", "code": created["code"]}));
    assert_eq!(sorted(&me["permissions"]), ["orders.create", "orders.view", "reports.view"]);
    assert_eq!(me["groups"], json!(["*"]));

    // The sign-in is recorded on the user.
    let after = get_user(&app, &admin.access_token, customer, id_of(&mia)).await;
    assert!(after["last_login_at"].is_string(), "{after}");

    // With send_mail and no password the user exists with login but cannot sign in yet.
    let later = unique_email("later");
    let pending = add_user(
        &app,
        &admin.access_token,
        customer,
        json!({"name": "Later", "email": later, "send_mail": true}),
    )
    .await;
    assert_eq!(pending["login_enabled"], true);
    assert_eq!(pending["password_set"], false);
    assert_eq!(pending["status"], "active");
    problem(app.login(&later, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
}

// 3. Validation and uniqueness.

#[tokio::test]
async fn invalid_users_are_422_naming_the_field_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let other = id_of(&app.create_customer(&admin.access_token, "Other").await);
    add_address(&app, &admin.access_token, customer, "Main").await;
    let foreign_address = add_address(&app, &admin.access_token, other, "Elsewhere").await;
    let foreign_cost_center = add_cost_center(&app, &admin.access_token, other, "CC-OTHER", true).await;
    let inactive = add_cost_center(&app, &admin.access_token, customer, "CC-OLD", false).await;
    let token = &admin.access_token;

    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({"name": "X", "login_enabled": true, "password": PORTAL_PASSWORD}),
            vec![("email", "required")],
        ),
        (json!({"name": "X", "email": unique_email("x")}), vec![("password", "required")]),
        (
            json!({"name": "X", "role": "admin", "permissions": ["orders.view"]}),
            vec![("permissions", "fixed_by_role")],
        ),
        (
            json!({"name": "X", "role": "owner", "permissions": ["orders.view", "pricing.view"]}),
            vec![("permissions", "fixed_by_role")],
        ),
        (
            json!({"name": "X", "permissions": ["orders.view", "pricing.view", "users.manage"]}),
            vec![("permissions[1]", "not_grantable"), ("permissions[2]", "not_grantable")],
        ),
        (json!({"name": "X", "permissions": ["payments.manage"]}), vec![("permissions[0]", "not_grantable")]),
        (
            json!({"name": "X", "email": unique_email("x"), "password": "password1234"}),
            vec![("password", "common_password")],
        ),
        (
            json!({"name": "X", "email": "long.name.here@acme.example", "password": "Long.Name.Here@acme.example"}),
            vec![("password", "equals_email")],
        ),
        (
            json!({"name": "X", "email": unique_email("x"), "password": "too short"}),
            vec![("password", "length")],
        ),
        (
            json!({"name": "X", "warehouse_address_id": foreign_address}),
            vec![("warehouse_address_id", "unknown")],
        ),
        (json!({"name": "X", "cost_center_id": foreign_cost_center}), vec![("cost_center_id", "unknown")]),
        (json!({"name": "X", "cost_center_id": inactive}), vec![("cost_center_id", "inactive")]),
    ];
    for (request, expected) in cases {
        let body =
            problem(app.post(&users_of(customer), token, &request).await, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        let expected: Vec<(String, String)> =
            expected.into_iter().map(|(f, c)| (f.to_owned(), c.to_owned())).collect();
        assert_eq!(field_errors(&body), expected, "{request}");
    }
    // An unknown permission or role is not a user at all.
    let body = problem(
        app.post(&users_of(customer), token, &json!({"name": "X", "role": "superuser"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "role");

    assert!(list_ids(&app, token, &users_of(customer)).await.is_empty(), "nothing was created");
    assert!(!app.audit_actions().iter().any(|(action, _)| action.starts_with("user.")));

    // Asking for exactly the role's set is the same as omitting it.
    let admin_user =
        add_user(&app, token, customer, json!({"name": "Boss", "role": "admin", "permissions": ADMIN_SET}))
            .await;
    assert_eq!(admin_user["role"], "admin");
    assert_eq!(sorted(&admin_user["permissions"]), ADMIN_SET);
}

#[tokio::test]
async fn emails_are_unique_across_the_service_external_ids_per_customer_and_there_is_one_owner() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let other = id_of(&app.create_customer(token, "Other").await);

    let email = unique_email("alice");
    let alice = add_login_user(&app, token, customer, "Alice", &email).await;
    for (target, address) in
        [(customer, email.to_uppercase()), (other, email.clone()), (customer, admin.email.to_uppercase())]
    {
        let body = problem(
            app.post(
                &users_of(target),
                token,
                &json!({"name": "Copy", "email": address, "password": PORTAL_PASSWORD}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("e-mail")), "{body}");
    }
    // A contact without login may not take a taken address either: it stays free for a login.
    problem(
        app.post(
            &users_of(customer),
            token,
            &json!({"name": "Copy", "email": email, "login_enabled": false}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Nor may an existing user move onto a taken address.
    let bob = add_login_user(&app, token, customer, "Bob", &unique_email("bob")).await;
    problem(
        app.patch(
            &user_path(customer, id_of(&bob)),
            token,
            &json!({"email": admin.email.to_uppercase()}),
            None,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_ne!(get_user(&app, token, customer, id_of(&bob)).await["email"], json!(admin.email));

    let erp = add_user(&app, token, customer, json!({"name": "Erik", "external_id": "ERP-1"})).await;
    assert_eq!(erp["external_id"], "ERP-1");
    let body = problem(
        app.post(&users_of(customer), token, &json!({"name": "Erika", "external_id": "ERP-1"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("external id")), "{body}");
    let elsewhere = add_user(&app, token, other, json!({"name": "Erik", "external_id": "ERP-1"})).await;
    assert_eq!(elsewhere["external_id"], "ERP-1");

    let owner = add_user(&app, token, customer, json!({"name": "Olga", "role": "owner"})).await;
    assert_eq!(owner["role"], "owner");
    assert_eq!(sorted(&owner["permissions"]).len(), Permission::ALL.len(), "the owner holds everything");
    let body = problem(
        app.post(&users_of(customer), token, &json!({"name": "Otto", "role": "owner"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("owner")), "{body}");

    let mut ids = list_ids(&app, token, &users_of(customer)).await;
    ids.sort();
    let mut expected = vec![id_of(&alice), id_of(&bob), id_of(&erp), id_of(&owner)];
    expected.sort();
    assert_eq!(ids, expected, "no conflicting user was created");
    assert_eq!(list_ids(&app, token, &format!("{}?role=owner", users_of(customer))).await, [id_of(&owner)]);
}

// 4. Customer self-service and who may manage users.

#[tokio::test]
async fn a_customer_admin_manages_its_own_users_but_not_the_owner() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&app.create_customer(&staff.access_token, "Acme").await);
    let owner = app.customer_user(customer, Role::Owner, &[]).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let token = &admin.access_token;

    let listed = list_ids(&app, token, &users_of(customer)).await;
    assert!(listed.contains(&owner.user_id) && listed.contains(&admin.user_id), "{listed:?}");

    let email = unique_email("nina");
    let nina = add_user(
        &app,
        token,
        customer,
        json!({"name": "Nina", "email": email, "password": PORTAL_PASSWORD, "permissions": ["orders.create"]}),
    )
    .await;
    let path = user_path(customer, id_of(&nina));
    let renamed = json_of(
        app.patch(&path, token, &json!({"name": "Nina Lund", "phone": "+49 40 123456"}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Nina Lund");
    assert_eq!(renamed["phone"], "+49 40 123456");
    assert_eq!(sorted(&renamed["permissions"]), ["orders.create"], "absent permissions stay");
    app.sign_in(id_of(&nina), &email, PORTAL_PASSWORD).await;

    // The owner is visible but out of reach.
    let owner_path = user_path(customer, owner.user_id);
    let seen = get_user(&app, token, customer, owner.user_id).await;
    assert_eq!(seen["role"], "owner");
    let body = problem(
        app.post(&users_of(customer), token, &json!({"name": "New Owner", "role": "owner"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("owner")), "{body}");
    problem(app.patch(&owner_path, token, &json!({"name": "Renamed"}), None).await, StatusCode::FORBIDDEN)
        .await;
    problem(app.delete(&owner_path, token, None).await, StatusCode::FORBIDDEN).await;
    problem(app.post(&format!("{owner_path}/deactivate"), token, &json!({})).await, StatusCode::FORBIDDEN)
        .await;
    problem(
        app.post(
            &format!("{owner_path}/password"),
            token,
            &json!({"password": "an admin's takeover phrase"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post(&format!("/v1/customers/{customer}/owner"), token, &json!({"user_id": admin.user_id})).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Nothing happened to the owner: same name, still the owner, its session and password work.
    let owner_now = get_user(&app, &staff.access_token, customer, owner.user_id).await;
    assert_eq!(owner_now["name"], seen["name"]);
    assert_eq!(owner_now["role"], "owner");
    assert_eq!(owner_now["status"], "active");
    assert_eq!(app.get("/v1/me", &owner.access_token).await.status(), StatusCode::OK);
    assert_eq!(app.login(&owner.email, PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(list_ids(&app, token, &format!("{}?role=owner", users_of(customer))).await, [owner.user_id]);
}

#[tokio::test]
async fn a_user_without_users_manage_gets_403_and_another_customers_admin_gets_404() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&app.create_customer(&staff.access_token, "Acme").await);
    let other = id_of(&app.create_customer(&staff.access_token, "Other").await);
    let target = add_login_user(&app, &staff.access_token, customer, "Target", &unique_email("target")).await;
    let path = user_path(customer, id_of(&target));
    let strong = app.customer_user(customer, Role::User, &GRANTABLE).await;
    let stranger = app.customer_user(other, Role::Admin, &[]).await;

    for (session, status) in [(&strong, StatusCode::FORBIDDEN), (&stranger, StatusCode::NOT_FOUND)] {
        let token = &session.access_token;
        problem(app.get(&users_of(customer), token).await, status).await;
        problem(app.post(&users_of(customer), token, &json!({"name": "Sneaky"})).await, status).await;
        problem(app.get(&path, token).await, status).await;
        problem(app.patch(&path, token, &json!({"name": "Hijacked"}), None).await, status).await;
        problem(app.delete(&path, token, None).await, status).await;
        problem(app.post(&format!("{path}/deactivate"), token, &json!({})).await, status).await;
        problem(app.post(&format!("{path}/reactivate"), token, &json!({})).await, status).await;
        problem(
            app.post(&format!("{path}/password"), token, &json!({"password": "a hijacker's passphrase"}))
                .await,
            status,
        )
        .await;
        problem(app.post(&format!("{path}/password-reset"), token, &json!({})).await, status).await;
        problem(
            app.post(&format!("/v1/customers/{customer}/owner"), token, &json!({"user_id": session.user_id}))
                .await,
            status,
        )
        .await;
        problem(app.get("/v1/users?q=target", token).await, StatusCode::FORBIDDEN).await;
    }
    // Staff see both customers, but a user is only found under its own customer.
    let foreign = add_user(&app, &staff.access_token, other, json!({"name": "Foreign"})).await;
    let wrong_path = user_path(customer, id_of(&foreign));
    problem(app.get(&wrong_path, &staff.access_token).await, StatusCode::NOT_FOUND).await;
    problem(
        app.patch(&wrong_path, &staff.access_token, &json!({"name": "Moved"}), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.post(&format!("{wrong_path}/deactivate"), &staff.access_token, &json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(app.delete(&wrong_path, &staff.access_token, None).await, StatusCode::NOT_FOUND).await;
    let foreign_now = get_user(&app, &staff.access_token, other, id_of(&foreign)).await;
    assert_eq!(
        (foreign_now["name"].clone(), foreign_now["status"].clone()),
        (json!("Foreign"), json!("active"))
    );

    // Even its own record is managed by others.
    problem(app.get(&user_path(customer, strong.user_id), &strong.access_token).await, StatusCode::FORBIDDEN)
        .await;

    let unchanged = get_user(&app, &staff.access_token, customer, id_of(&target)).await;
    assert_eq!(unchanged["name"], "Target");
    assert_eq!(unchanged["status"], "active");
    assert_eq!(
        app.login(target["email"].as_str().expect("email"), PORTAL_PASSWORD).await.status(),
        StatusCode::OK
    );
    let names: Vec<Value> = json_of(app.get(&users_of(customer), &staff.access_token).await, StatusCode::OK)
        .await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert!(!names.contains(&json!("Sneaky")), "{names:?}");
}

// 5. Deactivation.

#[tokio::test]
async fn a_deactivated_user_loses_its_sessions_and_login_until_reactivated() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let email = unique_email("dirk");
    let dirk = add_login_user(&app, token, customer, "Dirk", &email).await;
    let other = add_user(&app, token, customer, json!({"name": "Still here"})).await;
    let session = app.sign_in(id_of(&dirk), &email, PORTAL_PASSWORD).await;
    let path = user_path(customer, id_of(&dirk));

    let response = app.post(&format!("{path}/deactivate"), token, &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = etag_of(&response);
    let deactivated: Value = response.json().await.expect("json");
    assert_eq!(deactivated["status"], "deactivated");
    assert_session_ended(&app, &session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    let deactivated_list = format!("{}?status=deactivated", users_of(customer));
    assert_eq!(list_ids(&app, token, &deactivated_list).await, [id_of(&dirk)]);
    let active_list = format!("{}?status=active", users_of(customer));
    assert_eq!(list_ids(&app, token, &active_list).await, [id_of(&other)]);
    // It keeps its data.
    let kept = get_user(&app, token, customer, id_of(&dirk)).await;
    assert_eq!((kept["name"].clone(), kept["email"].clone()), (json!("Dirk"), json!(email)));

    // Deactivating again is harmless and changes nothing.
    let response = app.post(&format!("{path}/deactivate"), token, &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag_of(&response), etag);
    let again: Value = response.json().await.expect("json");
    assert_eq!(again, deactivated);
    assert_eq!(actions_on(&app, id_of(&dirk)), ["user.created", "user.deactivated"]);

    let reactivated =
        json_of(app.post(&format!("{path}/reactivate"), token, &json!({})).await, StatusCode::OK).await;
    assert_eq!(reactivated["status"], "active");
    let back = app.sign_in(id_of(&dirk), &email, PORTAL_PASSWORD).await;
    assert_eq!(app.get("/v1/me", &back.access_token).await.status(), StatusCode::OK);
    // The old session does not come back with it.
    problem(refresh(&app, &session.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(actions_on(&app, id_of(&dirk)), ["user.created", "user.deactivated", "user.reactivated"]);
}

#[tokio::test]
async fn nobody_deactivates_deletes_or_resets_the_password_of_themselves() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&app.create_customer(&staff.access_token, "Acme").await);
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let own = user_path(customer, admin.user_id);
    let token = &admin.access_token;

    problem(app.post(&format!("{own}/deactivate"), token, &json!({})).await, StatusCode::CONFLICT).await;
    problem(app.delete(&own, token, None).await, StatusCode::CONFLICT).await;
    problem(
        app.post(&format!("{own}/password"), token, &json!({"password": "my very own new phrase"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(app.patch(&own, token, &json!({"login_enabled": false}), None).await, StatusCode::CONFLICT).await;

    let me = json_of(app.get("/v1/me", token).await, StatusCode::OK).await;
    assert_eq!(me["status"], "active");
    assert_eq!(me["role"], "admin");
    assert_eq!(
        app.login(&admin.email, PASSWORD).await.status(),
        StatusCode::OK,
        "the old password still works"
    );
    assert!(actions_on(&app, admin.user_id).is_empty());
}

// 6. Deletion.

#[tokio::test]
async fn a_deleted_user_is_gone_its_sessions_end_and_its_email_is_free_again() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let email = unique_email("gone");
    let gone = add_login_user(&app, token, customer, "Gone", &email).await;
    let stays = add_user(&app, token, customer, json!({"name": "Stays"})).await;
    let session = app.sign_in(id_of(&gone), &email, PORTAL_PASSWORD).await;
    let path = user_path(customer, id_of(&gone));

    assert_eq!(app.delete(&path, token, None).await.status(), StatusCode::NO_CONTENT);
    problem(app.get(&path, token).await, StatusCode::NOT_FOUND).await;
    problem(app.delete(&path, token, None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(list_ids(&app, token, &users_of(customer)).await, [id_of(&stays)]);
    assert!(list_ids(&app, token, &format!("/v1/users?q={}", &email[..10])).await.is_empty());
    assert_session_ended(&app, &session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    let successor = add_user(
        &app,
        token,
        customer,
        json!({"name": "Successor", "email": email.to_uppercase(), "password": "the successor's passphrase"}),
    )
    .await;
    assert_ne!(id_of(&successor), id_of(&gone));
    app.sign_in(id_of(&successor), &email, "the successor's passphrase").await;

    assert_eq!(actions_on(&app, id_of(&gone)), ["user.created", "user.deleted"]);
}

// 7. Passwords set by staff or an admin.

#[tokio::test]
async fn staff_sets_a_password_which_ends_old_sessions_and_signs_in() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let email = unique_email("pia");
    let pia = add_login_user(&app, token, customer, "Pia", &email).await;
    let session = app.sign_in(id_of(&pia), &email, PORTAL_PASSWORD).await;
    let path = format!("{}/password", user_path(customer, id_of(&pia)));

    let body = problem(
        app.post(&path, token, &json!({"password": "password1234"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&body), [("password".to_owned(), "common_password".to_owned())]);
    assert_eq!(
        app.get("/v1/me", &session.access_token).await.status(),
        StatusCode::OK,
        "a refused password changes nothing"
    );

    let response = app.post(&path, token, &json!({"password": "a fresh temporary phrase"})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_session_ended(&app, &session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
    app.sign_in(id_of(&pia), &email, "a fresh temporary phrase").await;
    assert_eq!(actions_on(&app, id_of(&pia)), ["user.created", "user.password_set"]);

    // A customer admin may set it too.
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    assert_eq!(
        app.post(&path, &admin.access_token, &json!({"password": "the admin's chosen phrase"}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    app.sign_in(id_of(&pia), &email, "the admin's chosen phrase").await;

    // A contact has no login to set a password for.
    let contact = add_user(&app, token, customer, json!({"name": "Contact"})).await;
    let contact_path = format!("{}/password", user_path(customer, id_of(&contact)));
    problem(
        app.post(&contact_path, token, &json!({"password": "a contact's passphrase"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(get_user(&app, token, customer, id_of(&contact)).await["password_set"], false);
}

// 8. The customer's portal switch and suspension.

/// Closes the customer's logins with `close`, checks every effect, and reopens them with `open`.
async fn logins_close_and_reopen(close: Value, open: Value) {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let customer_path = format!("/v1/customers/{customer}");
    let email = unique_email("rita");
    let rita = add_login_user(&app, token, customer, "Rita", &email).await;
    let session = app.sign_in(id_of(&rita), &email, PORTAL_PASSWORD).await;
    let contact = add_user(&app, token, customer, json!({"name": "Contact"})).await;
    let wrong = problem(app.login(&email, "not the right passphrase").await, StatusCode::UNAUTHORIZED).await;

    json_of(app.patch(&customer_path, token, &close, None).await, StatusCode::OK).await;
    assert_session_ended(&app, &session).await;
    let refused = problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
    for key in ["type", "title", "status", "detail"] {
        assert_eq!(refused[key], wrong[key], "the same 401 as a wrong password ({key})");
    }

    for body in [
        json!({"name": "New", "email": unique_email("new"), "password": PORTAL_PASSWORD}),
        json!({"name": "New", "email": unique_email("new"), "send_mail": true}),
    ] {
        let problem_body =
            problem(app.post(&users_of(customer), token, &body).await, StatusCode::CONFLICT).await;
        assert!(problem_body["detail"].as_str().is_some_and(|d| d.contains("portal")), "{problem_body}");
    }
    let contact_path = user_path(customer, id_of(&contact));
    problem(
        app.patch(
            &contact_path,
            token,
            &json!({"login_enabled": true, "email": unique_email("contact"), "password": PORTAL_PASSWORD}),
            None,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let offline = add_user(&app, token, customer, json!({"name": "Offline contact"})).await;
    assert_eq!(offline["login_enabled"], false);

    json_of(app.patch(&customer_path, token, &open, None).await, StatusCode::OK).await;
    let back = app.sign_in(id_of(&rita), &email, PORTAL_PASSWORD).await;
    assert_eq!(app.get("/v1/me", &back.access_token).await.status(), StatusCode::OK);
    problem(refresh(&app, &session.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    problem(app.get("/v1/me", &session.access_token).await, StatusCode::UNAUTHORIZED).await;
    let names: Vec<Value> = json_of(app.get(&users_of(customer), token).await, StatusCode::OK).await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(names.len(), 3, "only Rita and the two contacts: {names:?}");
}

#[tokio::test]
async fn switching_the_portal_off_closes_every_login_of_the_customer_until_it_is_on_again() {
    logins_close_and_reopen(json!({"portal_enabled": false}), json!({"portal_enabled": true})).await;
}

#[tokio::test]
async fn suspending_a_customer_closes_every_login_of_the_customer_until_it_is_active_again() {
    logins_close_and_reopen(json!({"status": "suspended"}), json!({"status": "active"})).await;
}

// 9. Role changes.

#[tokio::test]
async fn promoting_a_user_to_admin_ends_its_sessions_and_new_tokens_carry_the_admin_set() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let email = unique_email("udo");
    let udo = add_login_user(&app, token, customer, "Udo", &email).await;
    let session = app.sign_in(id_of(&udo), &email, PORTAL_PASSWORD).await;
    assert_eq!(claims(&session.access_token)["role"], "user");
    let path = user_path(customer, id_of(&udo));

    let body = problem(
        app.patch(&path, token, &json!({"role": "owner"}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "role");
    assert_eq!(
        app.get("/v1/me", &session.access_token).await.status(),
        StatusCode::OK,
        "a refused change ends nothing"
    );

    let promoted =
        json_of(app.patch(&path, token, &json!({"role": "admin"}), None).await, StatusCode::OK).await;
    assert_eq!(promoted["role"], "admin");
    assert_eq!(sorted(&promoted["permissions"]), ADMIN_SET);
    assert_session_ended(&app, &session).await;

    let fresh = app.sign_in(id_of(&udo), &email, PORTAL_PASSWORD).await;
    let claims = claims(&fresh.access_token);
    assert_eq!(claims["role"], "admin");
    assert_eq!(sorted(&claims["permissions"]), ADMIN_SET);
    // As an admin now it manages users, but not its own role.
    assert_eq!(app.get(&users_of(customer), &fresh.access_token).await.status(), StatusCode::OK);
    problem(
        app.patch(&path, &fresh.access_token, &json!({"role": "user"}), None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(get_user(&app, token, customer, id_of(&udo)).await["role"], "admin");
    assert_eq!(app.get("/v1/me", &fresh.access_token).await.status(), StatusCode::OK);

    // Back to user: the grants start from the defaults again, and admin-only ones are refused.
    problem(
        app.patch(&path, token, &json!({"role": "user", "permissions": ["users.manage"]}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let demoted =
        json_of(app.patch(&path, token, &json!({"role": "user"}), None).await, StatusCode::OK).await;
    assert_eq!(sorted(&demoted["permissions"]), DEFAULTS);
    problem(app.get("/v1/me", &fresh.access_token).await, StatusCode::UNAUTHORIZED).await;
}

// 10. Ownership.

#[tokio::test]
async fn ownership_moves_by_staff_or_the_owner_and_the_previous_owner_becomes_admin() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let other = id_of(&app.create_customer(token, "Other").await);
    let first_owner = app.customer_user(customer, Role::Owner, &[]).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let email = unique_email("heir");
    let heir = add_login_user(&app, token, customer, "Heir", &email).await;
    let third = add_login_user(&app, token, customer, "Third", "third@acme.example").await;
    let stranger = add_user(&app, token, other, json!({"name": "Stranger"})).await;
    let transfer = format!("/v1/customers/{customer}/owner");
    let owners_path = format!("{}?role=owner", users_of(customer));

    problem(
        app.post(&transfer, &admin.access_token, &json!({"user_id": admin.user_id})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Only an active user with a login can become the owner.
    let contact = add_user(&app, token, customer, json!({"name": "Gate contact"})).await;
    problem(app.post(&transfer, token, &json!({"user_id": id_of(&contact)})).await, StatusCode::CONFLICT)
        .await;
    let retired = add_user(
        &app,
        token,
        customer,
        json!({"name": "Retired", "email": "retired@acme.example", "password": "retired passphrase 1"}),
    )
    .await;
    json_of(
        app.post(&format!("{}/deactivate", user_path(customer, id_of(&retired))), token, &json!({})).await,
        StatusCode::OK,
    )
    .await;
    problem(app.post(&transfer, token, &json!({"user_id": id_of(&retired)})).await, StatusCode::CONFLICT)
        .await;
    assert_eq!(list_ids(&app, token, &owners_path).await, [first_owner.user_id]);

    let new_owner =
        json_of(app.post(&transfer, token, &json!({"user_id": id_of(&heir)})).await, StatusCode::OK).await;
    assert_eq!(new_owner["id"], json!(id_of(&heir)));
    assert_eq!(new_owner["role"], "owner");
    let previous = get_user(&app, token, customer, first_owner.user_id).await;
    assert_eq!(previous["role"], "admin");
    assert_eq!(sorted(&previous["permissions"]), ADMIN_SET);
    assert_eq!(list_ids(&app, token, &owners_path).await, [id_of(&heir)]);
    // Both people's tokens carried the old roles; those sessions are over.
    assert_session_ended(&app, &first_owner).await;
    let demoted = app.sign_in(first_owner.user_id, &first_owner.email, PASSWORD).await;
    assert_eq!(claims(&demoted.access_token)["role"], "admin");

    // The new owner hands it on.
    let heir_session = app.sign_in(id_of(&heir), &email, PORTAL_PASSWORD).await;
    assert_eq!(claims(&heir_session.access_token)["role"], "owner");
    let body = problem(
        app.post(&transfer, &heir_session.access_token, &json!({"user_id": id_of(&stranger)})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "user_id");
    let passed = json_of(
        app.post(&transfer, &heir_session.access_token, &json!({"user_id": id_of(&third)})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(passed["role"], "owner");
    assert_eq!(get_user(&app, token, customer, id_of(&heir)).await["role"], "admin");
    assert_eq!(list_ids(&app, token, &owners_path).await, [id_of(&third)]);
    assert_eq!(get_user(&app, token, other, id_of(&stranger)).await["role"], "user");

    let transfers =
        actions_on(&app, customer).into_iter().filter(|a| a == "customer.owner_transferred").count();
    assert_eq!(transfers, 2);
}

// 11. Finding users across customers.

#[tokio::test]
async fn staff_find_users_across_customers_within_their_scope() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let acme = id_of(&app.create_customer(token, "Acme").await);
    let beta = id_of(&app.create_customer(token, "Beta").await);
    let jana = add_login_user(&app, token, acme, "Jana Berg", "jana.berg@acme.example").await;
    let kowalski = add_login_user(&app, token, beta, "Jana Kowalski", "jk@beta.example").await;
    add_user(&app, token, beta, json!({"name": "Someone Else"})).await;
    // Staff are not customer users and are never found here.
    app.insert_staff(Role::Dispatcher, "jana.staff@operator.example", PASSWORD, &[]);

    let find = |session: &Session, q: &str| {
        let path = format!("/v1/users?q={q}");
        let token = session.access_token.clone();
        let app = &app;
        async move {
            let mut ids = list_ids(app, &token, &path).await;
            ids.sort();
            ids
        }
    };
    assert_eq!(find(&staff, "BERG%40ACME").await, [id_of(&jana)], "by a part of the e-mail");
    assert_eq!(find(&staff, "kowALSki").await, [id_of(&kowalski)], "by the name");
    let mut both = vec![id_of(&jana), id_of(&kowalski)];
    both.sort();
    assert_eq!(find(&staff, "jana").await, both);
    assert!(find(&staff, "nobody-by-this-name").await.is_empty());

    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;
    assert_eq!(find(&dispatcher, "jana").await, [id_of(&jana)]);
    assert!(find(&dispatcher, "kowalski").await.is_empty());

    let customer_admin = app.customer_user(acme, Role::Admin, &[]).await;
    problem(app.get("/v1/users?q=jana", &customer_admin.access_token).await, StatusCode::FORBIDDEN).await;
}

// 12. Lists.

#[tokio::test]
async fn the_user_list_combines_filters_and_pages_through_everyone_once() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let other = id_of(&app.create_customer(token, "Other").await);
    add_user(&app, token, other, json!({"name": "Anna Other"})).await;

    let anna_user = add_user(&app, token, customer, json!({"name": "Anna Schmidt"})).await;
    let anna_admin = add_user(&app, token, customer, json!({"name": "Anna Admin", "role": "admin"})).await;
    let anna_gone = add_user(&app, token, customer, json!({"name": "Anna Gone"})).await;
    let hanna = add_login_user(&app, token, customer, "Hanna", &unique_email("hanna")).await;
    let bert = add_user(
        &app,
        token,
        customer,
        json!({"name": "Bert", "email": "bert.anna@acme.example", "login_enabled": false}),
    )
    .await;
    json_of(
        app.post(&format!("{}/deactivate", user_path(customer, id_of(&anna_gone))), token, &json!({})).await,
        StatusCode::OK,
    )
    .await;

    let query = |q: &str| {
        let path = format!("{}?{q}", users_of(customer));
        let app = &app;
        async move {
            let mut ids = list_ids(app, token, &path).await;
            ids.sort();
            ids
        }
    };
    let set = |users: &[&Value]| {
        let mut ids: Vec<Uuid> = users.iter().map(|u| id_of(u)).collect();
        ids.sort();
        ids
    };
    // `q` matches name or e-mail, case-insensitively ("Hanna" contains "anna", so does Bert's e-mail).
    assert_eq!(query("q=ANNA").await, set(&[&anna_user, &anna_admin, &anna_gone, &hanna, &bert]));
    assert_eq!(query("q=anna&role=user").await, set(&[&anna_user, &anna_gone, &hanna, &bert]));
    assert_eq!(query("q=anna&role=user&status=active").await, set(&[&anna_user, &hanna, &bert]));
    assert_eq!(query("q=anna%20s&role=user&status=active").await, set(&[&anna_user]));
    assert_eq!(query("role=admin&status=active").await, set(&[&anna_admin]));
    assert_eq!(query("status=deactivated").await, set(&[&anna_gone]));
    assert!(query("role=owner").await.is_empty());
    assert!(query("q=zzz&status=active").await.is_empty());
    problem(app.get(&format!("{}?status=gone", users_of(customer)), token).await, StatusCode::BAD_REQUEST)
        .await;

    let all = set(&[&anna_user, &anna_admin, &anna_gone, &hanna, &bert]);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("{}?limit=2&cursor={c}", users_of(customer)),
            None => format!("{}?limit=2", users_of(customer)),
        };
        let page = json_of(app.get(&path, token).await, StatusCode::OK).await;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(id_of));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the pages end");
    }
    assert_eq!(pages, 3);
    seen.sort();
    assert_eq!(seen, all, "every user of the customer exactly once, none of another");
}

// 13. Changing a user.

#[tokio::test]
async fn patching_enables_login_later_honours_if_match_and_keeps_a_login_with_an_email() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let kai = add_user(&app, token, customer, json!({"name": "Kai"})).await;
    let path = user_path(customer, id_of(&kai));

    // Half a login is refused.
    let body = problem(
        app.patch(&path, token, &json!({"login_enabled": true, "password": PORTAL_PASSWORD}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&body), [("email".to_owned(), "required".to_owned())]);

    let email = unique_email("kai");
    let response = app
        .patch(
            &path,
            token,
            &json!({"login_enabled": true, "email": email, "password": PORTAL_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = etag_of(&response);
    let enabled: Value = response.json().await.expect("json");
    assert_eq!(enabled["login_enabled"], true);
    assert_eq!(enabled["password_set"], true);
    assert_eq!(enabled["email"], json!(email));
    app.sign_in(id_of(&kai), &email, PORTAL_PASSWORD).await;

    problem(
        app.patch(&path, token, &json!({"name": "Stale"}), Some("\"not-the-etag\"")).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(get_user(&app, token, customer, id_of(&kai)).await["name"], "Kai");
    let response = app.patch(&path, token, &json!({"name": "Kai Fresh"}), Some(&etag)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(etag_of(&response), etag);
    problem(
        app.patch(&path, token, &json!({"name": "Twice"}), Some(&etag)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;

    let body = problem(
        app.patch(&path, token, &json!({"email": null}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
    let still = get_user(&app, token, customer, id_of(&kai)).await;
    assert_eq!((still["name"].clone(), still["email"].clone()), (json!("Kai Fresh"), json!(email)));
    let session = app.sign_in(id_of(&kai), &email, PORTAL_PASSWORD).await;

    // Turning login off again ends the sessions and drops the password.
    let closed =
        json_of(app.patch(&path, token, &json!({"login_enabled": false}), None).await, StatusCode::OK).await;
    assert_eq!(closed["login_enabled"], false);
    assert_eq!(closed["password_set"], false);
    assert_eq!(closed["email"], json!(email), "a contact may keep its e-mail address");
    assert_session_ended(&app, &session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_user_follows_the_customer_default_address_when_it_has_none_of_its_own() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let main_address = add_address(&app, token, customer, "Main").await;
    let side = add_address(&app, token, customer, "Side").await;
    let cost_center = add_cost_center(&app, token, customer, "CC-1", true).await;

    let ole = add_user(&app, token, customer, json!({"name": "Ole"})).await;
    assert_eq!(ole["warehouse_address_id"], json!(main_address));
    let lea = add_user(
        &app,
        token,
        customer,
        json!({"name": "Lea", "warehouse_address_id": side, "cost_center_id": cost_center}),
    )
    .await;
    assert_eq!(lea["warehouse_address_id"], json!(side));
    assert_eq!(lea["cost_center_id"], json!(cost_center));
    let path = user_path(customer, id_of(&lea));

    let cleared = json_of(
        app.patch(&path, token, &json!({"warehouse_address_id": null, "cost_center_id": null}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["warehouse_address_id"], json!(main_address));
    assert_eq!(cleared["cost_center_id"], Value::Null);

    let moved =
        json_of(app.patch(&path, token, &json!({"warehouse_address_id": side}), None).await, StatusCode::OK)
            .await;
    assert_eq!(moved["warehouse_address_id"], json!(side));
    let address_path = format!("/v1/customers/{customer}/warehouse-addresses/{side}");
    assert_eq!(app.delete(&address_path, token, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get_user(&app, token, customer, id_of(&lea)).await["warehouse_address_id"],
        json!(main_address)
    );

    // Users without an address of their own follow the default when it moves.
    let north = add_address(&app, token, customer, "North").await;
    let north_path = format!("/v1/customers/{customer}/warehouse-addresses/{north}");
    json_of(app.patch(&north_path, token, &json!({"is_default": true}), None).await, StatusCode::OK).await;
    let listed = json_of(app.get(&users_of(customer), token).await, StatusCode::OK).await;
    let addresses: Vec<(Uuid, Value)> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| (id_of(u), u["warehouse_address_id"].clone()))
        .collect();
    assert_eq!(addresses, [(id_of(&ole), json!(north)), (id_of(&lea), json!(north))]);
    assert_eq!(get_user(&app, token, customer, id_of(&ole)).await["warehouse_address_id"], json!(north));
}

// 14. The permission catalog.

#[tokio::test]
async fn every_signed_in_person_reads_the_permission_catalog() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&app.create_customer(&staff.access_token, "Acme").await);
    let plain = app.customer_user(customer, Role::User, &[]).await;

    let catalog = json_of(app.get("/v1/permissions", &plain.access_token).await, StatusCode::OK).await;
    let same = json_of(app.get("/v1/permissions", &staff.access_token).await, StatusCode::OK).await;
    assert_eq!(catalog, same);

    let permissions = catalog["permissions"].as_array().expect("permissions");
    assert_eq!(permissions.len(), 12);
    let entry = |key: &str| permissions.iter().find(|p| p["key"] == key).cloned().expect(key);
    assert_eq!(entry("pricing.view")["roles"], json!(["owner"]));
    assert_eq!(entry("payments.manage")["roles"], json!(["owner"]));
    assert_eq!(entry("users.manage")["roles"], json!(["owner", "admin"]));
    assert_eq!(entry("orders.view")["roles"], json!(["owner", "admin", "user"]));
    let grantable: Vec<&str> = permissions
        .iter()
        .filter(|p| p["grantable_to_user"] == true)
        .map(|p| p["key"].as_str().expect("key"))
        .collect();
    assert_eq!(grantable.len(), 9);
    assert!(!grantable.contains(&"users.manage"));
    assert!(permissions.iter().all(|p| p["description"].as_str().is_some_and(|d| !d.is_empty())));

    let roles = catalog["roles"].as_array().expect("roles");
    let mut keys: Vec<&str> = roles.iter().map(|r| r["key"].as_str().expect("key")).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["admin", "dispatcher", "owner", "platform_admin", "user"]);
    let role = |key: &str| roles.iter().find(|r| r["key"] == key).cloned().expect(key);
    assert_eq!(sorted(&role("user")["default_permissions"]), DEFAULTS);
    assert_eq!(sorted(&role("admin")["permissions"]), ADMIN_SET);
    assert_eq!(role("owner")["permissions"].as_array().map(Vec::len), Some(12));

    let response = app.client.get(app.url("/v1/permissions")).send().await.expect("request");
    assert_eq!(response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
    problem(response, StatusCode::UNAUTHORIZED).await;
}

// 15. One owner, even under concurrency.

#[tokio::test]
async fn two_concurrent_owners_for_one_customer_make_one_201_and_one_409() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let path = users_of(customer);
    let first_body = json!({"name": "Owner One", "role": "owner"});
    let second_body = json!({"name": "Owner Two", "role": "owner"});

    let (first, second) =
        tokio::join!(app.post(&path, token, &first_body), app.post(&path, token, &second_body));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let (created, refused) =
        if first.status() == StatusCode::CREATED { (first, second) } else { (second, first) };
    let owner: Value = created.json().await.expect("json");
    problem(refused, StatusCode::CONFLICT).await;
    assert_eq!(list_ids(&app, token, &format!("{path}?role=owner")).await, [id_of(&owner)]);
    assert_eq!(list_ids(&app, token, &path).await, [id_of(&owner)]);
}

/// E-mail addresses are unique across the service, but a customer's admin learns nothing from
/// that about other customers: an address held by its own user, by another customer's user or
/// by staff gets the very same 409, for creation and for a change of address.
#[tokio::test]
async fn a_taken_address_gets_one_answer_whoever_holds_it() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&app.create_customer(&staff.access_token, "Acme").await);
    let other = id_of(&app.create_customer(&staff.access_token, "Other").await);
    let admin = app.customer_user(acme, Role::Admin, &[]).await;
    let own = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;
    let elsewhere = app.customer_user(other, Role::User, &[Permission::OrdersView]).await;
    let contact = app
        .post(&users_of(acme), &admin.access_token, &json!({"name": "Contact", "login_enabled": false}))
        .await;
    let contact = id_of(&contact.json::<Value>().await.expect("contact"));
    let mut answers = Vec::new();
    for taken in [&own.email, &elsewhere.email, &staff.email] {
        let create = app
            .post(
                &users_of(acme),
                &admin.access_token,
                &json!({"name": "Copy", "email": taken.to_uppercase(), "password": PORTAL_PASSWORD}),
            )
            .await;
        answers.push(problem(create, StatusCode::CONFLICT).await);
        let patch = app
            .patch(
                &format!("{}/{contact}", users_of(acme)),
                &admin.access_token,
                &json!({"email": taken}),
                None,
            )
            .await;
        answers.push(problem(patch, StatusCode::CONFLICT).await);
    }
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "{answers:#?}");
    assert_eq!(answers[0]["detail"], "This e-mail address cannot be used; choose another.");
    assert_eq!(answers[0]["type"], "urn:dockgate:problem:email-taken", "each kind of 409 is its own type");
}
