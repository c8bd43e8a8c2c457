//! Customers: create, read, list with search and pages, merge-patch with ETags, delete.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of, problem};
use dockgate::permissions::Role;

#[tokio::test]
async fn a_platform_admin_creates_reads_updates_and_deletes_a_customer() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let response = admin
        .post(
            "/v1/customers",
            &json!({"name": " Acme ", "code": "C-10042", "contact_email": "ops@acme.example"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["name"], "Acme");
    assert_eq!(created["status"], "active");
    assert_eq!(created["portal_enabled"], true);
    assert_eq!(created["self_signup_enabled"], false);
    assert_eq!(created["default_warehouse_address_id"], Value::Null);
    assert_eq!(location, format!("/v1/customers/{}", created["id"].as_str().expect("id")));

    let response = admin.get(&location).await;
    let etag = response.headers()["etag"].to_str().expect("etag").to_owned();
    let fetched: Value = response.json().await.expect("json");
    assert_eq!(fetched, created);

    let response = admin
        .patch(
            &location,
            &json!({"name": "Acme Logistics", "contact_email": null, "status": "suspended"}),
            Some(&etag),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.expect("json");
    assert_eq!(updated["name"], "Acme Logistics");
    assert_eq!(updated["contact_email"], Value::Null);
    assert_eq!(updated["status"], "suspended");
    assert_eq!(updated["code"], "C-10042");

    // The old ETag is stale now.
    problem(admin.delete(&location, Some(&etag)).await, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(admin.delete(&location, None).await.status(), StatusCode::NO_CONTENT);
    problem(admin.get(&location).await, StatusCode::NOT_FOUND).await;

    let actions: Vec<String> = app.audit_actions().into_iter().map(|(action, _)| action).collect();
    assert_eq!(actions, ["customer.created", "customer.updated", "customer.deleted"]);
}

#[tokio::test]
async fn invalid_fields_are_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = problem(
        admin
            .post(
                "/v1/customers",
                &json!({"name": "  ", "code": "has spaces", "contact_email": "nope", "phone": "call me"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["code", "contact_email", "name", "phone"]);
    let body = problem(
        admin.post("/v1/customers", &json!({"name": "Acme", "code": "X", "status": "closed"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "status");
    assert!(app.audit_actions().is_empty(), "failed mutations write no audit event");
}

#[tokio::test]
async fn customer_codes_are_unique_regardless_of_case() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let first = admin.post("/v1/customers", &json!({"name": "Acme", "code": "ACME-1"})).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let body = problem(
        admin.post("/v1/customers", &json!({"name": "Other", "code": "acme-1"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("code")), "{body}");
    let second = admin.create_customer("Second").await;
    let path = format!("/v1/customers/{}", id_of(&second));
    problem(admin.patch(&path, &json!({"code": "Acme-1"}), None).await, StatusCode::CONFLICT).await;
    assert_eq!(app.audit_actions().len(), 2, "only the two creations were recorded");
}

#[tokio::test]
async fn the_list_searches_filters_and_pages_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for n in 0..5 {
        admin.create_customer(&format!("Pager {n}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut inserted = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/customers?limit=2&cursor={c}"),
            None => "/v1/customers?limit=2".to_owned(),
        };
        let page: Value = admin.get(&path).await.json().await.expect("page");
        seen.extend(page["items"].as_array().expect("items").iter().map(id_of));
        // Rows created while paging come after the cursor and are still seen once.
        if inserted < 2 {
            admin.create_customer(&format!("Late {inserted}")).await;
            inserted += 1;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no repeats");

    let found: Value = admin.get("/v1/customers?q=late%201").await.json().await.expect("search");
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    let none: Value = admin.get("/v1/customers?status=suspended").await.json().await.expect("filter");
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["next_cursor"], Value::Null);
    problem(admin.get("/v1/customers?limit=500").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    problem(admin.get("/v1/customers?cursor=garbage!").await, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn a_customer_with_users_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = admin.create_customer("Busy").await;
    app.customer_user(id_of(&customer), Role::User, &[]).await;
    let path = format!("/v1/customers/{}", id_of(&customer));
    let body = problem(admin.delete(&path, None).await, StatusCode::CONFLICT).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("users")), "{body}");
    assert_eq!(admin.get(&path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn customer_admins_update_only_the_profile_of_their_own_customer() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = admin.create_customer("Self Service").await;
    let path = format!("/v1/customers/{}", id_of(&customer));
    let owner = app.customer_user(id_of(&customer), Role::Owner, &[]).await;
    let user = app.customer_user(id_of(&customer), Role::User, &[]).await;

    let updated: Value =
        owner.patch(&path, &json!({"phone": "+49 30 555"}), None).await.json().await.expect("json");
    assert_eq!(updated["phone"], "+49 30 555");
    problem(owner.patch(&path, &json!({"status": "active"}), None).await, StatusCode::FORBIDDEN).await;
    problem(user.patch(&path, &json!({"name": "Mine now"}), None).await, StatusCode::FORBIDDEN).await;
    problem(owner.delete(&path, None).await, StatusCode::FORBIDDEN).await;
    problem(owner.post("/v1/customers", &json!({"name": "X", "code": "X"})).await, StatusCode::FORBIDDEN)
        .await;
    // Every customer user reads its own customer, and only that one in lists.
    assert_eq!(user.get(&path).await.status(), StatusCode::OK);
    admin.create_customer("Someone else").await;
    let list: Value = user.get("/v1/customers").await.json().await.expect("list");
    assert_eq!(
        list["items"].as_array().map(|items| items.iter().map(id_of).collect::<Vec<_>>()),
        Some(vec![id_of(&customer)])
    );
}
