//! The access review: every person and API client of a customer with what it may do and see,
//! flagged where a reviewer should look, as JSON or as a CSV export; and recording the review.

use std::collections::BTreeSet;

use dockgate::clock::Clock;
use dockgate::permissions::{Permission, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, id_of, json_of, problem};

fn review_path(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/access-review")
}

async fn review(reader: &Actor, customer: Uuid) -> Value {
    json_of(reader.get(&review_path(customer)).await, StatusCode::OK).await
}

/// The entry of `id` in `list` (`people` or `api_clients`) of the review.
fn entry<'a>(review: &'a Value, list: &str, id: Uuid) -> &'a Value {
    review[list]
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["id"] == json!(id))
        .unwrap_or_else(|| panic!("{id} in {list} of {review}"))
}

fn flags(entry: &Value) -> BTreeSet<String> {
    entry["flags"].as_array().expect("flags").iter().map(|f| f.as_str().expect("a flag").to_owned()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn the_review_flags_prices_missing_mfa_old_passwords_and_unused_clients() {
    let clock = Clock::default();
    let app = {
        let clock = clock.clone();
        TestApp::spawn_with(move |config| config.clock = clock).await
    };
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    // Only an owner holds prices and payments; a user holds what it was granted.
    let owner = app.customer_user(acme, Role::Owner, &[]).await;
    let clerk = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;
    let driver = id_of(&admin.add_user(acme, json!({"name": "Driver without login"})).await);
    let erp = json_of(
        admin
            .post(
                &format!("/v1/customers/{acme}/api-clients"),
                &json!({"name": "ERP", "scopes": ["orders.view"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    let today = review(&admin, acme).await;
    assert_eq!(today["customer_id"], json!(acme));
    assert_eq!(today["reviewed_at"], Value::Null, "never reviewed yet");
    let person = entry(&today, "people", owner.user_id);
    assert_eq!(person["role"], "owner");
    assert_eq!(person["status"], "active");
    assert_eq!(person["data_scope"], "all");
    assert_eq!(person["mfa_enabled"], false);
    assert!(person["last_login_at"].is_string(), "it signed in: {person}");
    assert!(person["permissions"].as_array().expect("permissions").contains(&json!("pricing.view")));
    // Sees prices, moves money, decides who gets in, and signs in with a password alone.
    assert_eq!(
        flags(person),
        set(&["holds_pricing_view", "holds_payments_manage", "holds_users_manage", "no_mfa"])
    );
    let clerk_entry = entry(&today, "people", clerk.user_id);
    assert_eq!(clerk_entry["permissions"], json!(["orders.view"]));
    assert_eq!(flags(clerk_entry), set(&["no_mfa"]));
    let admin_flags = flags(entry(&today, "people", acme_admin.user_id));
    assert!(admin_flags.contains("holds_users_manage"), "{admin_flags:?}");
    // Without a login nothing about signing in applies.
    assert_eq!(flags(entry(&today, "people", driver)), set(&[]));
    let client = entry(&today, "api_clients", id_of(&erp));
    assert_eq!(client["client_id"], erp["client_id"]);
    assert_eq!(client["permissions"], json!(["orders.view"]));
    assert_eq!(flags(client), set(&[]));

    // 400 days later nobody signed in again, and the passwords are older than a year.
    clock.advance(chrono::Duration::days(400));
    let reviewer = app.admin().await;
    let later = review(&reviewer, acme).await;
    assert_eq!(
        flags(entry(&later, "people", clerk.user_id)),
        set(&["no_mfa", "no_sign_in_90_days", "password_older_than_max_age"])
    );
    assert_eq!(flags(entry(&later, "api_clients", id_of(&erp))), set(&["no_sign_in_90_days"]));
}

#[tokio::test]
async fn the_review_exports_as_csv_with_the_same_people_and_clients() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    app.customer_user(acme, Role::Owner, &[]).await;
    admin.add_user(acme, json!({"name": "=HYPERLINK(\"x\")"})).await;
    admin
        .post(
            &format!("/v1/customers/{acme}/api-clients"),
            &json!({"name": "ERP", "scopes": ["orders.view"]}),
        )
        .await;
    let json = review(&admin, acme).await;

    let response = admin
        .request(Method::GET, &review_path(acme))
        .header("accept", "text/csv")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert!(header("content-type").starts_with("text/csv"), "{}", header("content-type"));
    assert!(header("content-disposition").starts_with("attachment;"), "{}", header("content-disposition"));
    let body = response.bytes().await.expect("body");

    let mut reader = csv::Reader::from_reader(body.as_ref());
    let columns = reader.headers().expect("a header row").clone();
    let column =
        |name: &str| columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("column {name}"));
    let (kind, id, name, flags) = (column("type"), column("id"), column("name"), column("flags"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV row")).collect();
    let of = |wanted: &str| -> BTreeSet<String> {
        rows.iter().filter(|r| &r[kind] == wanted).map(|r| r[id].to_owned()).collect()
    };
    let ids = |list: &str| -> BTreeSet<String> {
        json[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(of("person"), ids("people"));
    assert_eq!(of("api_client"), ids("api_clients"));
    assert_eq!(rows.len(), ids("people").len() + ids("api_clients").len());
    // A name a spreadsheet would run is text; flags are `;`-separated.
    assert!(rows.iter().any(|r| &r[name] == "'=HYPERLINK(\"x\")"), "{rows:?}");
    assert!(rows.iter().any(|r| r[flags].split(';').any(|f| f == "holds_pricing_view")));
}

#[tokio::test]
async fn a_review_is_recorded_and_audited_and_only_who_sees_everyone_reviews() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;
    let user = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;

    // The customer's admin reviews and records it.
    review(&acme_admin, acme).await;
    let recorded = json_of(
        acme_admin.post(&format!("{}/reviewed", review_path(acme)), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(recorded["reviewed_by"], json!(acme_admin.user_id));
    let next = review(&admin, acme).await;
    assert_eq!(next["reviewed_at"], recorded["reviewed_at"]);
    assert_eq!(next["reviewed_by"], json!(acme_admin.user_id));
    assert!(
        app.actions_on(acme).contains(&"customer.access_reviewed".to_owned()),
        "{:?}",
        app.actions_on(acme)
    );

    // A user without users.manage neither reads nor records it.
    problem(user.get(&review_path(acme)).await, StatusCode::FORBIDDEN).await;
    problem(user.post(&format!("{}/reviewed", review_path(acme)), &json!({})).await, StatusCode::FORBIDDEN)
        .await;
    // Nor does an admin limited to groups: the review lists every group's people.
    {
        use diesel::prelude::*;
        use dockgate::db::schema::users;
        diesel::update(users::table.find(acme_admin.user_id))
            .set(users::data_scope.eq(dockgate::permissions::DataScope::Groups))
            .execute(&mut app.conn())
            .expect("limit the admin to groups");
    }
    problem(acme_admin.get(&review_path(acme)).await, StatusCode::FORBIDDEN).await;
    // No such customer: 404.
    problem(admin.get(&review_path(Uuid::now_v7())).await, StatusCode::NOT_FOUND).await;
    problem(
        admin.post(&format!("{}/reviewed", review_path(Uuid::now_v7())), &json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
