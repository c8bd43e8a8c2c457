//! Users of a customer (contract section 6): contacts without login and users with one, their
//! permissions, who may manage them, their lifecycle (deactivate, delete, passwords, roles,
//! ownership), the customer's portal switch, search, lists and the permission catalog.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, PASSWORD, TestApp, etag_of, field_errors, id_of, json_of, problem, unique_email, user_path,
    users_of,
};
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

/// Adds a `user` with login and [`PORTAL_PASSWORD`]; returns its view.
async fn add_login_user(actor: &Actor, customer: Uuid, name: &str, email: &str) -> Value {
    actor.add_user(customer, json!({"name": name, "email": email, "password": PORTAL_PASSWORD})).await
}

/// Asserts that a session is over: its access token and its refresh token are both refused.
async fn assert_session_ended(session: &Actor) {
    problem(session.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    problem(session.refresh().await, StatusCode::UNAUTHORIZED).await;
}

// 1. Contacts without login.

#[tokio::test]
async fn staff_adds_a_contact_without_login_that_gets_the_customer_defaults_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let main_address = id_of(&admin.add_address(customer, "Main", None).await);

    let response = admin.post(&users_of(customer), &json!({"name": " Jana Berg "})).await;
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
    let response = admin.get(&location).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag_of(&response), etag);
    assert_eq!(response.json::<Value>().await.expect("json"), jana);

    // A contact may have an e-mail address and still never sign in, nor get a password.
    let contact_email = unique_email("dock");
    let body = problem(
        admin.post(&users_of(customer), &json!({"name": "Dock", "email": contact_email, "login_enabled": false, "password": PORTAL_PASSWORD}))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&body), [("password".to_owned(), "not_allowed".to_owned())]);
    let dock = admin
        .add_user(customer, json!({"name": "Dock", "email": contact_email, "login_enabled": false}))
        .await;
    assert_eq!(dock["login_enabled"], false);
    assert_eq!(dock["email"], json!(contact_email));
    problem(app.login(&contact_email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    assert_eq!(app.actions_on(id_of(&jana)), ["user.created"]);
    assert_eq!(app.actions_on(id_of(&dock)), ["user.created"]);
}

// 2. Users with login.

#[tokio::test]
async fn a_user_with_login_signs_in_and_its_token_carries_its_access_facts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = admin.create_customer("Acme").await;
    let customer = id_of(&created);
    let email = unique_email("mia");
    let mia = admin
        .add_user(
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
    let claims = session.claims();
    assert_eq!(claims["sub"], json!(id_of(&mia)));
    assert_eq!(claims["kind"], "customer_user");
    assert_eq!(claims["customer_id"], json!(customer));
    assert_eq!(claims["role"], "user");
    assert_eq!(sorted(&claims["permissions"]), ["orders.create", "orders.view", "reports.view"]);
    assert_eq!(claims["groups"], json!(["*"]));

    let me = json_of(session.get("/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["id"], json!(id_of(&mia)));
    assert_eq!(me["kind"], "customer_user");
    assert_eq!(me["role"], "user");
    assert_eq!(me["customer_id"], json!(customer));
    assert_eq!(me["customer"], json!({"id": customer, "name": "Acme", "code": created["code"]}));
    assert_eq!(sorted(&me["permissions"]), ["orders.create", "orders.view", "reports.view"]);
    assert_eq!(me["groups"], json!(["*"]));

    // The sign-in is recorded on the user.
    let after = admin.get_user(customer, id_of(&mia)).await;
    assert!(after["last_login_at"].is_string(), "{after}");

    // With send_mail and no password the user exists with login but cannot sign in yet.
    let later = unique_email("later");
    let pending = admin.add_user(customer, json!({"name": "Later", "email": later, "send_mail": true})).await;
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
    let customer = id_of(&admin.create_customer("Acme").await);
    let other = id_of(&admin.create_customer("Other").await);
    id_of(&admin.add_address(customer, "Main", None).await);
    let foreign_address = id_of(&admin.add_address(other, "Elsewhere", None).await);
    let foreign_cost_center = admin.add_cost_center(other, "CC-OTHER", true).await;
    let inactive = admin.add_cost_center(customer, "CC-OLD", false).await;

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
            problem(admin.post(&users_of(customer), &request).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        let expected: Vec<(String, String)> =
            expected.into_iter().map(|(f, c)| (f.to_owned(), c.to_owned())).collect();
        assert_eq!(field_errors(&body), expected, "{request}");
    }
    // An unknown permission or role is not a user at all.
    let body = problem(
        admin.post(&users_of(customer), &json!({"name": "X", "role": "superuser"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "role");

    assert!(admin.list_ids(&users_of(customer)).await.is_empty(), "nothing was created");
    assert!(!app.audit_actions().iter().any(|(action, _)| action.starts_with("user.")));

    // Asking for exactly the role's set is the same as omitting it.
    let admin_user =
        admin.add_user(customer, json!({"name": "Boss", "role": "admin", "permissions": ADMIN_SET})).await;
    assert_eq!(admin_user["role"], "admin");
    assert_eq!(sorted(&admin_user["permissions"]), ADMIN_SET);
}

#[tokio::test]
async fn emails_are_unique_across_the_service_external_ids_per_customer_and_there_is_one_owner() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let other = id_of(&admin.create_customer("Other").await);

    let email = unique_email("alice");
    let alice = add_login_user(&admin, customer, "Alice", &email).await;
    for (target, address) in
        [(customer, email.to_uppercase()), (other, email.clone()), (customer, admin.email.to_uppercase())]
    {
        let body = problem(
            admin
                .post(
                    &users_of(target),
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
        admin
            .post(&users_of(customer), &json!({"name": "Copy", "email": email, "login_enabled": false}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Nor may an existing user move onto a taken address.
    let bob = add_login_user(&admin, customer, "Bob", &unique_email("bob")).await;
    problem(
        admin
            .patch(&user_path(customer, id_of(&bob)), &json!({"email": admin.email.to_uppercase()}), None)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_ne!(admin.get_user(customer, id_of(&bob)).await["email"], json!(admin.email));

    let erp = admin.add_user(customer, json!({"name": "Erik", "external_id": "ERP-1"})).await;
    assert_eq!(erp["external_id"], "ERP-1");
    let body = problem(
        admin.post(&users_of(customer), &json!({"name": "Erika", "external_id": "ERP-1"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("external id")), "{body}");
    let elsewhere = admin.add_user(other, json!({"name": "Erik", "external_id": "ERP-1"})).await;
    assert_eq!(elsewhere["external_id"], "ERP-1");

    let owner = admin.add_user(customer, json!({"name": "Olga", "role": "owner"})).await;
    assert_eq!(owner["role"], "owner");
    assert_eq!(sorted(&owner["permissions"]).len(), Permission::ALL.len(), "the owner holds everything");
    let body = problem(
        admin.post(&users_of(customer), &json!({"name": "Otto", "role": "owner"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("owner")), "{body}");

    let mut ids = admin.list_ids(&users_of(customer)).await;
    ids.sort();
    let mut expected = vec![id_of(&alice), id_of(&bob), id_of(&erp), id_of(&owner)];
    expected.sort();
    assert_eq!(ids, expected, "no conflicting user was created");
    assert_eq!(admin.list_ids(&format!("{}?role=owner", users_of(customer))).await, [id_of(&owner)]);
}

// 4. Customer self-service and who may manage users.

#[tokio::test]
async fn a_customer_admin_manages_its_own_users_but_not_the_owner() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let owner = app.customer_user(customer, Role::Owner, &[]).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;

    let listed = admin.list_ids(&users_of(customer)).await;
    assert!(listed.contains(&owner.user_id) && listed.contains(&admin.user_id), "{listed:?}");

    let email = unique_email("nina");
    let nina = admin.add_user(customer, json!({"name": "Nina", "email": email, "password": PORTAL_PASSWORD, "permissions": ["orders.create"]}))
    .await;
    let path = user_path(customer, id_of(&nina));
    let renamed = json_of(
        admin.patch(&path, &json!({"name": "Nina Lund", "phone": "+49 40 123456"}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Nina Lund");
    assert_eq!(renamed["phone"], "+49 40 123456");
    assert_eq!(sorted(&renamed["permissions"]), ["orders.create"], "absent permissions stay");
    app.sign_in(id_of(&nina), &email, PORTAL_PASSWORD).await;

    // The owner is visible but out of reach.
    let owner_path = user_path(customer, owner.user_id);
    let seen = admin.get_user(customer, owner.user_id).await;
    assert_eq!(seen["role"], "owner");
    let body = problem(
        admin.post(&users_of(customer), &json!({"name": "New Owner", "role": "owner"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("owner")), "{body}");
    problem(admin.patch(&owner_path, &json!({"name": "Renamed"}), None).await, StatusCode::FORBIDDEN).await;
    problem(admin.delete(&owner_path, None).await, StatusCode::FORBIDDEN).await;
    problem(admin.post(&format!("{owner_path}/deactivate"), &json!({})).await, StatusCode::FORBIDDEN).await;
    problem(
        admin
            .post(&format!("{owner_path}/password"), &json!({"password": "an admin's takeover phrase"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        admin.post(&format!("/v1/customers/{customer}/owner"), &json!({"user_id": admin.user_id})).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Nothing happened to the owner: same name, still the owner, its session and password work.
    let owner_now = staff.get_user(customer, owner.user_id).await;
    assert_eq!(owner_now["name"], seen["name"]);
    assert_eq!(owner_now["role"], "owner");
    assert_eq!(owner_now["status"], "active");
    assert_eq!(owner.get("/v1/me").await.status(), StatusCode::OK);
    assert_eq!(app.login(&owner.email, PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(admin.list_ids(&format!("{}?role=owner", users_of(customer))).await, [owner.user_id]);
}

#[tokio::test]
async fn a_user_without_users_manage_gets_403_and_another_customers_admin_gets_404() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let other = id_of(&staff.create_customer("Other").await);
    let target = add_login_user(&staff, customer, "Target", &unique_email("target")).await;
    let path = user_path(customer, id_of(&target));
    let strong = app.customer_user(customer, Role::User, &GRANTABLE).await;
    let stranger = app.customer_user(other, Role::Admin, &[]).await;

    for (session, status) in [(&strong, StatusCode::FORBIDDEN), (&stranger, StatusCode::NOT_FOUND)] {
        problem(session.get(&users_of(customer)).await, status).await;
        problem(session.post(&users_of(customer), &json!({"name": "Sneaky"})).await, status).await;
        problem(session.get(&path).await, status).await;
        problem(session.patch(&path, &json!({"name": "Hijacked"}), None).await, status).await;
        problem(session.delete(&path, None).await, status).await;
        problem(session.post(&format!("{path}/deactivate"), &json!({})).await, status).await;
        problem(session.post(&format!("{path}/reactivate"), &json!({})).await, status).await;
        problem(
            session.post(&format!("{path}/password"), &json!({"password": "a hijacker's passphrase"})).await,
            status,
        )
        .await;
        problem(session.post(&format!("{path}/password-reset"), &json!({})).await, status).await;
        problem(
            session
                .post(&format!("/v1/customers/{customer}/owner"), &json!({"user_id": session.user_id}))
                .await,
            status,
        )
        .await;
        problem(session.get("/v1/users?q=target").await, StatusCode::FORBIDDEN).await;
    }
    // Staff see both customers, but a user is only found under its own customer.
    let foreign = staff.add_user(other, json!({"name": "Foreign"})).await;
    let wrong_path = user_path(customer, id_of(&foreign));
    problem(staff.get(&wrong_path).await, StatusCode::NOT_FOUND).await;
    problem(staff.patch(&wrong_path, &json!({"name": "Moved"}), None).await, StatusCode::NOT_FOUND).await;
    problem(staff.post(&format!("{wrong_path}/deactivate"), &json!({})).await, StatusCode::NOT_FOUND).await;
    problem(staff.delete(&wrong_path, None).await, StatusCode::NOT_FOUND).await;
    let foreign_now = staff.get_user(other, id_of(&foreign)).await;
    assert_eq!(
        (foreign_now["name"].clone(), foreign_now["status"].clone()),
        (json!("Foreign"), json!("active"))
    );

    // Even its own record is managed by others.
    problem(strong.get(&user_path(customer, strong.user_id)).await, StatusCode::FORBIDDEN).await;

    let unchanged = staff.get_user(customer, id_of(&target)).await;
    assert_eq!(unchanged["name"], "Target");
    assert_eq!(unchanged["status"], "active");
    assert_eq!(
        app.login(target["email"].as_str().expect("email"), PORTAL_PASSWORD).await.status(),
        StatusCode::OK
    );
    let names: Vec<Value> = json_of(staff.get(&users_of(customer)).await, StatusCode::OK).await["items"]
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
    let customer = id_of(&staff.create_customer("Acme").await);
    let email = unique_email("dirk");
    let dirk = add_login_user(&staff, customer, "Dirk", &email).await;
    let other = staff.add_user(customer, json!({"name": "Still here"})).await;
    let session = app.sign_in(id_of(&dirk), &email, PORTAL_PASSWORD).await;
    let path = user_path(customer, id_of(&dirk));

    let response = staff.post(&format!("{path}/deactivate"), &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = etag_of(&response);
    let deactivated: Value = response.json().await.expect("json");
    assert_eq!(deactivated["status"], "deactivated");
    assert_session_ended(&session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    let deactivated_list = format!("{}?status=deactivated", users_of(customer));
    assert_eq!(staff.list_ids(&deactivated_list).await, [id_of(&dirk)]);
    let active_list = format!("{}?status=active", users_of(customer));
    assert_eq!(staff.list_ids(&active_list).await, [id_of(&other)]);
    // It keeps its data.
    let kept = staff.get_user(customer, id_of(&dirk)).await;
    assert_eq!((kept["name"].clone(), kept["email"].clone()), (json!("Dirk"), json!(email)));

    // Deactivating again is harmless and changes nothing.
    let response = staff.post(&format!("{path}/deactivate"), &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag_of(&response), etag);
    let again: Value = response.json().await.expect("json");
    assert_eq!(again, deactivated);
    assert_eq!(app.actions_on(id_of(&dirk)), ["user.created", "user.deactivated"]);

    let reactivated =
        json_of(staff.post(&format!("{path}/reactivate"), &json!({})).await, StatusCode::OK).await;
    assert_eq!(reactivated["status"], "active");
    let back = app.sign_in(id_of(&dirk), &email, PORTAL_PASSWORD).await;
    assert_eq!(back.get("/v1/me").await.status(), StatusCode::OK);
    // The old session does not come back with it.
    problem(session.refresh().await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.actions_on(id_of(&dirk)), ["user.created", "user.deactivated", "user.reactivated"]);
}

#[tokio::test]
async fn nobody_deactivates_deletes_or_resets_the_password_of_themselves() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let own = user_path(customer, admin.user_id);

    problem(admin.post(&format!("{own}/deactivate"), &json!({})).await, StatusCode::CONFLICT).await;
    problem(admin.delete(&own, None).await, StatusCode::CONFLICT).await;
    problem(
        admin.post(&format!("{own}/password"), &json!({"password": "my very own new phrase"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(admin.patch(&own, &json!({"login_enabled": false}), None).await, StatusCode::CONFLICT).await;

    let me = json_of(admin.get("/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["status"], "active");
    assert_eq!(me["role"], "admin");
    assert_eq!(
        app.login(&admin.email, PASSWORD).await.status(),
        StatusCode::OK,
        "the old password still works"
    );
    assert!(app.actions_on(admin.user_id).is_empty());
}

// 6. Deletion.

#[tokio::test]
async fn a_deleted_user_is_gone_its_sessions_end_and_its_email_is_free_again() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let email = unique_email("gone");
    let gone = add_login_user(&staff, customer, "Gone", &email).await;
    let stays = staff.add_user(customer, json!({"name": "Stays"})).await;
    let session = app.sign_in(id_of(&gone), &email, PORTAL_PASSWORD).await;
    let path = user_path(customer, id_of(&gone));

    assert_eq!(staff.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    problem(staff.get(&path).await, StatusCode::NOT_FOUND).await;
    problem(staff.delete(&path, None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(staff.list_ids(&users_of(customer)).await, [id_of(&stays)]);
    assert!(staff.list_ids(&format!("/v1/users?q={}", &email[..10])).await.is_empty());
    assert_session_ended(&session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    let successor = staff.add_user(customer, json!({"name": "Successor", "email": email.to_uppercase(), "password": "the successor's passphrase"}))
    .await;
    assert_ne!(id_of(&successor), id_of(&gone));
    app.sign_in(id_of(&successor), &email, "the successor's passphrase").await;

    assert_eq!(app.actions_on(id_of(&gone)), ["user.created", "user.deleted"]);
}

// 7. Passwords set by staff or an admin.

#[tokio::test]
async fn staff_sets_a_password_which_ends_old_sessions_and_signs_in() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let email = unique_email("pia");
    let pia = add_login_user(&staff, customer, "Pia", &email).await;
    let session = app.sign_in(id_of(&pia), &email, PORTAL_PASSWORD).await;
    let path = format!("{}/password", user_path(customer, id_of(&pia)));

    let body = problem(
        staff.post(&path, &json!({"password": "password1234"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&body), [("password".to_owned(), "common_password".to_owned())]);
    assert_eq!(session.get("/v1/me").await.status(), StatusCode::OK, "a refused password changes nothing");

    let response = staff.post(&path, &json!({"password": "a fresh temporary phrase"})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_session_ended(&session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
    app.sign_in(id_of(&pia), &email, "a fresh temporary phrase").await;
    assert_eq!(app.actions_on(id_of(&pia)), ["user.created", "user.password_set"]);

    // A customer admin may set it too.
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    assert_eq!(
        admin.post(&path, &json!({"password": "the admin's chosen phrase"})).await.status(),
        StatusCode::NO_CONTENT
    );
    app.sign_in(id_of(&pia), &email, "the admin's chosen phrase").await;

    // A contact has no login to set a password for.
    let contact = staff.add_user(customer, json!({"name": "Contact"})).await;
    let contact_path = format!("{}/password", user_path(customer, id_of(&contact)));
    problem(
        staff.post(&contact_path, &json!({"password": "a contact's passphrase"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(staff.get_user(customer, id_of(&contact)).await["password_set"], false);
}

// 8. The customer's portal switch and suspension.

/// Closes the customer's logins with `close`, checks every effect, and reopens them with `open`.
async fn logins_close_and_reopen(close: Value, open: Value) {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let customer_path = format!("/v1/customers/{customer}");
    let email = unique_email("rita");
    let rita = add_login_user(&staff, customer, "Rita", &email).await;
    let session = app.sign_in(id_of(&rita), &email, PORTAL_PASSWORD).await;
    let contact = staff.add_user(customer, json!({"name": "Contact"})).await;
    let wrong = problem(app.login(&email, "not the right passphrase").await, StatusCode::UNAUTHORIZED).await;

    json_of(staff.patch(&customer_path, &close, None).await, StatusCode::OK).await;
    assert_session_ended(&session).await;
    let refused = problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
    for key in ["type", "title", "status", "detail"] {
        assert_eq!(refused[key], wrong[key], "the same 401 as a wrong password ({key})");
    }

    for body in [
        json!({"name": "New", "email": unique_email("new"), "password": PORTAL_PASSWORD}),
        json!({"name": "New", "email": unique_email("new"), "send_mail": true}),
    ] {
        let problem_body = problem(staff.post(&users_of(customer), &body).await, StatusCode::CONFLICT).await;
        assert!(problem_body["detail"].as_str().is_some_and(|d| d.contains("portal")), "{problem_body}");
    }
    let contact_path = user_path(customer, id_of(&contact));
    problem(
        staff.patch(&contact_path, &json!({"login_enabled": true, "email": unique_email("contact"), "password": PORTAL_PASSWORD}), None)
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let offline = staff.add_user(customer, json!({"name": "Offline contact"})).await;
    assert_eq!(offline["login_enabled"], false);

    json_of(staff.patch(&customer_path, &open, None).await, StatusCode::OK).await;
    let back = app.sign_in(id_of(&rita), &email, PORTAL_PASSWORD).await;
    assert_eq!(back.get("/v1/me").await.status(), StatusCode::OK);
    problem(session.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(session.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let names: Vec<Value> = json_of(staff.get(&users_of(customer)).await, StatusCode::OK).await["items"]
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
    let customer = id_of(&staff.create_customer("Acme").await);
    let email = unique_email("udo");
    let udo = add_login_user(&staff, customer, "Udo", &email).await;
    let session = app.sign_in(id_of(&udo), &email, PORTAL_PASSWORD).await;
    assert_eq!(session.claims()["role"], "user");
    let path = user_path(customer, id_of(&udo));

    let body =
        problem(staff.patch(&path, &json!({"role": "owner"}), None).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(body["errors"][0]["field"], "role");
    assert_eq!(session.get("/v1/me").await.status(), StatusCode::OK, "a refused change ends nothing");

    let promoted = json_of(staff.patch(&path, &json!({"role": "admin"}), None).await, StatusCode::OK).await;
    assert_eq!(promoted["role"], "admin");
    assert_eq!(sorted(&promoted["permissions"]), ADMIN_SET);
    assert_session_ended(&session).await;

    let fresh = app.sign_in(id_of(&udo), &email, PORTAL_PASSWORD).await;
    let claims = fresh.claims();
    assert_eq!(claims["role"], "admin");
    assert_eq!(sorted(&claims["permissions"]), ADMIN_SET);
    // As an admin now it manages users, but not its own role.
    assert_eq!(fresh.get(&users_of(customer)).await.status(), StatusCode::OK);
    problem(fresh.patch(&path, &json!({"role": "user"}), None).await, StatusCode::CONFLICT).await;
    assert_eq!(staff.get_user(customer, id_of(&udo)).await["role"], "admin");
    assert_eq!(fresh.get("/v1/me").await.status(), StatusCode::OK);

    // Back to user: the grants start from the defaults again, and admin-only ones are refused.
    problem(
        staff.patch(&path, &json!({"role": "user", "permissions": ["users.manage"]}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let demoted = json_of(staff.patch(&path, &json!({"role": "user"}), None).await, StatusCode::OK).await;
    assert_eq!(sorted(&demoted["permissions"]), DEFAULTS);
    problem(fresh.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
}

// 10. Ownership.

#[tokio::test]
async fn ownership_moves_by_staff_or_the_owner_and_the_previous_owner_becomes_admin() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let other = id_of(&staff.create_customer("Other").await);
    let first_owner = app.customer_user(customer, Role::Owner, &[]).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let email = unique_email("heir");
    let heir = add_login_user(&staff, customer, "Heir", &email).await;
    let third = add_login_user(&staff, customer, "Third", "third@acme.example").await;
    let stranger = staff.add_user(other, json!({"name": "Stranger"})).await;
    let transfer = format!("/v1/customers/{customer}/owner");
    let owners_path = format!("{}?role=owner", users_of(customer));

    problem(admin.post(&transfer, &json!({"user_id": admin.user_id})).await, StatusCode::FORBIDDEN).await;
    // Only an active user with a login can become the owner.
    let contact = staff.add_user(customer, json!({"name": "Gate contact"})).await;
    problem(staff.post(&transfer, &json!({"user_id": id_of(&contact)})).await, StatusCode::CONFLICT).await;
    let retired = staff
        .add_user(
            customer,
            json!({"name": "Retired", "email": "retired@acme.example", "password": "retired passphrase 1"}),
        )
        .await;
    json_of(
        staff.post(&format!("{}/deactivate", user_path(customer, id_of(&retired))), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    problem(staff.post(&transfer, &json!({"user_id": id_of(&retired)})).await, StatusCode::CONFLICT).await;
    assert_eq!(staff.list_ids(&owners_path).await, [first_owner.user_id]);

    let new_owner =
        json_of(staff.post(&transfer, &json!({"user_id": id_of(&heir)})).await, StatusCode::OK).await;
    assert_eq!(new_owner["id"], json!(id_of(&heir)));
    assert_eq!(new_owner["role"], "owner");
    let previous = staff.get_user(customer, first_owner.user_id).await;
    assert_eq!(previous["role"], "admin");
    assert_eq!(sorted(&previous["permissions"]), ADMIN_SET);
    assert_eq!(staff.list_ids(&owners_path).await, [id_of(&heir)]);
    // Both people's tokens carried the old roles; those sessions are over.
    assert_session_ended(&first_owner).await;
    let demoted = app.sign_in_again(&first_owner).await;
    assert_eq!(demoted.claims()["role"], "admin");

    // The new owner hands it on.
    let heir_session = app.sign_in(id_of(&heir), &email, PORTAL_PASSWORD).await;
    assert_eq!(heir_session.claims()["role"], "owner");
    let body = problem(
        heir_session.post(&transfer, &json!({"user_id": id_of(&stranger)})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "user_id");
    let passed =
        json_of(heir_session.post(&transfer, &json!({"user_id": id_of(&third)})).await, StatusCode::OK).await;
    assert_eq!(passed["role"], "owner");
    assert_eq!(staff.get_user(customer, id_of(&heir)).await["role"], "admin");
    assert_eq!(staff.list_ids(&owners_path).await, [id_of(&third)]);
    assert_eq!(staff.get_user(other, id_of(&stranger)).await["role"], "user");

    let transfers =
        app.actions_on(customer).into_iter().filter(|a| a == "customer.owner_transferred").count();
    assert_eq!(transfers, 2);
}

// 11. Finding users across customers.

#[tokio::test]
async fn staff_find_users_across_customers_within_their_scope() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let beta = id_of(&staff.create_customer("Beta").await);
    let jana = add_login_user(&staff, acme, "Jana Berg", "jana.berg@acme.example").await;
    let kowalski = add_login_user(&staff, beta, "Jana Kowalski", "jk@beta.example").await;
    staff.add_user(beta, json!({"name": "Someone Else"})).await;
    // Staff are not customer users and are never found here.
    app.insert_staff(Role::Dispatcher, "jana.staff@operator.example", PASSWORD, &[]);

    let find = |session: &Actor, q: &str| {
        let (path, session) = (format!("/v1/users?q={q}"), session.clone());
        async move {
            let mut ids = session.list_ids(&path).await;
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
    problem(customer_admin.get("/v1/users?q=jana").await, StatusCode::FORBIDDEN).await;
}

// 12. Lists.

#[tokio::test]
async fn the_user_list_combines_filters_and_pages_through_everyone_once() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let other = id_of(&staff.create_customer("Other").await);
    staff.add_user(other, json!({"name": "Anna Other"})).await;

    let anna_user = staff.add_user(customer, json!({"name": "Anna Schmidt"})).await;
    let anna_admin = staff.add_user(customer, json!({"name": "Anna Admin", "role": "admin"})).await;
    let anna_gone = staff.add_user(customer, json!({"name": "Anna Gone"})).await;
    let hanna = add_login_user(&staff, customer, "Hanna", &unique_email("hanna")).await;
    let bert = staff
        .add_user(
            customer,
            json!({"name": "Bert", "email": "bert.anna@acme.example", "login_enabled": false}),
        )
        .await;
    json_of(
        staff.post(&format!("{}/deactivate", user_path(customer, id_of(&anna_gone))), &json!({})).await,
        StatusCode::OK,
    )
    .await;

    let query = |q: &str| {
        let (path, staff) = (format!("{}?{q}", users_of(customer)), &staff);
        async move {
            let mut ids = staff.list_ids(&path).await;

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
    problem(staff.get(&format!("{}?status=gone", users_of(customer))).await, StatusCode::BAD_REQUEST).await;

    let all = set(&[&anna_user, &anna_admin, &anna_gone, &hanna, &bert]);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("{}?limit=2&cursor={c}", users_of(customer)),
            None => format!("{}?limit=2", users_of(customer)),
        };
        let page = json_of(staff.get(&path).await, StatusCode::OK).await;
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
    let customer = id_of(&staff.create_customer("Acme").await);
    let kai = staff.add_user(customer, json!({"name": "Kai"})).await;
    let path = user_path(customer, id_of(&kai));

    // Half a login is refused.
    let body = problem(
        staff.patch(&path, &json!({"login_enabled": true, "password": PORTAL_PASSWORD}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&body), [("email".to_owned(), "required".to_owned())]);

    let email = unique_email("kai");
    let response = staff
        .patch(&path, &json!({"login_enabled": true, "email": email, "password": PORTAL_PASSWORD}), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = etag_of(&response);
    let enabled: Value = response.json().await.expect("json");
    assert_eq!(enabled["login_enabled"], true);
    assert_eq!(enabled["password_set"], true);
    assert_eq!(enabled["email"], json!(email));
    app.sign_in(id_of(&kai), &email, PORTAL_PASSWORD).await;

    problem(
        staff.patch(&path, &json!({"name": "Stale"}), Some("\"not-the-etag\"")).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(staff.get_user(customer, id_of(&kai)).await["name"], "Kai");
    let response = staff.patch(&path, &json!({"name": "Kai Fresh"}), Some(&etag)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(etag_of(&response), etag);
    problem(
        staff.patch(&path, &json!({"name": "Twice"}), Some(&etag)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;

    let body =
        problem(staff.patch(&path, &json!({"email": null}), None).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(body["errors"][0]["field"], "email");
    let still = staff.get_user(customer, id_of(&kai)).await;
    assert_eq!((still["name"].clone(), still["email"].clone()), (json!("Kai Fresh"), json!(email)));
    let session = app.sign_in(id_of(&kai), &email, PORTAL_PASSWORD).await;

    // Turning login off again ends the sessions and drops the password.
    let closed =
        json_of(staff.patch(&path, &json!({"login_enabled": false}), None).await, StatusCode::OK).await;
    assert_eq!(closed["login_enabled"], false);
    assert_eq!(closed["password_set"], false);
    assert_eq!(closed["email"], json!(email), "a contact may keep its e-mail address");
    assert_session_ended(&session).await;
    problem(app.login(&email, PORTAL_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_user_follows_the_customer_default_address_when_it_has_none_of_its_own() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let main_address = id_of(&staff.add_address(customer, "Main", None).await);
    let side = id_of(&staff.add_address(customer, "Side", None).await);
    let cost_center = staff.add_cost_center(customer, "CC-1", true).await;

    let ole = staff.add_user(customer, json!({"name": "Ole"})).await;
    assert_eq!(ole["warehouse_address_id"], json!(main_address));
    let lea = staff
        .add_user(
            customer,
            json!({"name": "Lea", "warehouse_address_id": side, "cost_center_id": cost_center}),
        )
        .await;
    assert_eq!(lea["warehouse_address_id"], json!(side));
    assert_eq!(lea["cost_center_id"], json!(cost_center));
    let path = user_path(customer, id_of(&lea));

    let cleared = json_of(
        staff.patch(&path, &json!({"warehouse_address_id": null, "cost_center_id": null}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["warehouse_address_id"], json!(main_address));
    assert_eq!(cleared["cost_center_id"], Value::Null);

    let moved =
        json_of(staff.patch(&path, &json!({"warehouse_address_id": side}), None).await, StatusCode::OK).await;
    assert_eq!(moved["warehouse_address_id"], json!(side));
    let address_path = format!("/v1/customers/{customer}/warehouse-addresses/{side}");
    assert_eq!(staff.delete(&address_path, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(staff.get_user(customer, id_of(&lea)).await["warehouse_address_id"], json!(main_address));

    // Users without an address of their own follow the default when it moves.
    let north = id_of(&staff.add_address(customer, "North", None).await);
    let north_path = format!("/v1/customers/{customer}/warehouse-addresses/{north}");
    json_of(staff.patch(&north_path, &json!({"is_default": true}), None).await, StatusCode::OK).await;
    let listed = json_of(staff.get(&users_of(customer)).await, StatusCode::OK).await;
    let addresses: Vec<(Uuid, Value)> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| (id_of(u), u["warehouse_address_id"].clone()))
        .collect();
    assert_eq!(addresses, [(id_of(&ole), json!(north)), (id_of(&lea), json!(north))]);
    assert_eq!(staff.get_user(customer, id_of(&ole)).await["warehouse_address_id"], json!(north));
}

// 14. The permission catalog.

#[tokio::test]
async fn every_signed_in_person_reads_the_permission_catalog() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let plain = app.customer_user(customer, Role::User, &[]).await;

    let catalog = json_of(plain.get("/v1/permissions").await, StatusCode::OK).await;
    let same = json_of(staff.get("/v1/permissions").await, StatusCode::OK).await;
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
    let customer = id_of(&staff.create_customer("Acme").await);
    let path = users_of(customer);
    let first_body = json!({"name": "Owner One", "role": "owner"});
    let second_body = json!({"name": "Owner Two", "role": "owner"});

    let (first, second) = tokio::join!(staff.post(&path, &first_body), staff.post(&path, &second_body));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let (created, refused) =
        if first.status() == StatusCode::CREATED { (first, second) } else { (second, first) };
    let owner: Value = created.json().await.expect("json");
    problem(refused, StatusCode::CONFLICT).await;
    assert_eq!(staff.list_ids(&format!("{path}?role=owner")).await, [id_of(&owner)]);
    assert_eq!(staff.list_ids(&path).await, [id_of(&owner)]);
}

/// E-mail addresses are unique across the service, but a customer's admin learns nothing from
/// that about other customers: an address held by its own user, by another customer's user or
/// by staff gets the very same 409, for creation and for a change of address.
#[tokio::test]
async fn a_taken_address_gets_one_answer_whoever_holds_it() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let other = id_of(&staff.create_customer("Other").await);
    let admin = app.customer_user(acme, Role::Admin, &[]).await;
    let own = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;
    let elsewhere = app.customer_user(other, Role::User, &[Permission::OrdersView]).await;
    let contact = admin.post(&users_of(acme), &json!({"name": "Contact", "login_enabled": false})).await;
    let contact = id_of(&contact.json::<Value>().await.expect("contact"));
    let mut answers = Vec::new();
    for taken in [&own.email, &elsewhere.email, &staff.email] {
        let create = admin
            .post(
                &users_of(acme),
                &json!({"name": "Copy", "email": taken.to_uppercase(), "password": PORTAL_PASSWORD}),
            )
            .await;
        answers.push(problem(create, StatusCode::CONFLICT).await);
        let patch =
            admin.patch(&format!("{}/{contact}", users_of(acme)), &json!({"email": taken}), None).await;
        answers.push(problem(patch, StatusCode::CONFLICT).await);
    }
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "{answers:#?}");
    assert_eq!(answers[0]["detail"], "This e-mail address cannot be used; choose another.");
    assert_eq!(answers[0]["type"], "urn:dockgate:problem:email-taken", "each kind of 409 is its own type");
}

/// The rule lives in login_emails since issue 18 (kept by a trigger on users): two customers
/// creating one address at once make one user and one e-mail 409, and the table follows every
/// change of address, of customer and every delete, in the transaction of the change.
#[tokio::test]
async fn one_address_created_at_once_in_two_customers_is_one_user_and_login_emails_follows_users() {
    use diesel::prelude::*;
    use dockgate::db::schema::{login_emails, users};

    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let other = id_of(&staff.create_customer("Other").await);
    let email = unique_email("race");
    let body = json!({"name": "Racer", "email": email, "password": PORTAL_PASSWORD});
    let (acme_path, other_path) = (users_of(acme), users_of(other));
    let (first, second) = tokio::join!(staff.post(&acme_path, &body), staff.post(&other_path, &body));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let (created, refused) =
        if first.status() == StatusCode::CREATED { (first, second) } else { (second, first) };
    let user = id_of(&created.json::<Value>().await.expect("json"));
    let refused = problem(refused, StatusCode::CONFLICT).await;
    assert_eq!(refused["type"], "urn:dockgate:problem:email-taken");

    let mut conn = app.conn();
    let row = |conn: &mut PgConnection| -> Vec<(String, Uuid, Option<Uuid>)> {
        login_emails::table
            .filter(login_emails::user_id.eq(user))
            .select((login_emails::email, login_emails::user_id, login_emails::customer_id))
            .load(conn)
            .expect("login_emails")
    };
    let holder: Option<Uuid> =
        users::table.find(user).select(users::customer_id).first(&mut conn).expect("the user");
    assert_eq!(row(&mut conn), [(email.clone(), user, holder)]);

    // A new address replaces the old one, which is free again.
    let moved = unique_email("moved");
    diesel::update(users::table.find(user)).set(users::email.eq(&moved)).execute(&mut conn).expect("move");
    assert_eq!(row(&mut conn), [(moved.clone(), user, holder)]);
    let free: i64 = login_emails::table
        .filter(login_emails::email.eq(&email))
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(free, 0);
    // Another customer: the shard to look in follows.
    let elsewhere = if holder == Some(acme) { other } else { acme };
    diesel::update(users::table.find(user))
        .set(users::customer_id.eq(Some(elsewhere)))
        .execute(&mut conn)
        .expect("move customer");
    assert_eq!(row(&mut conn), [(moved.clone(), user, Some(elsewhere))]);
    // No address (a contact without login), no row; deleting the user removes its row.
    diesel::update(users::table.find(user))
        .set((users::email.eq(None::<String>), users::login_enabled.eq(false)))
        .execute(&mut conn)
        .expect("clear");
    assert!(row(&mut conn).is_empty());
    diesel::update(users::table.find(user)).set(users::email.eq(&moved)).execute(&mut conn).expect("set");
    assert_eq!(row(&mut conn).len(), 1);
    diesel::delete(users::table.find(user)).execute(&mut conn).expect("delete");
    assert!(row(&mut conn).is_empty());
}
