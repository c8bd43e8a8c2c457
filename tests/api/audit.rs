//! The audit log: written with every mutation, filtered, scoped, and append-only.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of, problem};
use dockgate::permissions::{Permission, Role};

#[tokio::test]
async fn events_say_who_did_what_from_where_and_what_changed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = admin.create_customer("Acme").await;
    let path = format!("/v1/customers/{}", id_of(&customer));
    admin
        .request(Method::PATCH, &path)
        .header("x-request-id", "req-audit-1")
        .json(&json!({"name": "Acme Logistics"}))
        .send()
        .await
        .expect("patch");

    let page: Value = admin
        .get(&format!("/v1/audit-events?target_id={}", id_of(&customer)))
        .await
        .json()
        .await
        .expect("events");
    let events = page["items"].as_array().expect("items");
    assert_eq!(events.len(), 2);
    let updated = &events[0];
    assert_eq!(updated["action"], "customer.updated", "newest first");
    assert_eq!(updated["actor_id"], json!(admin.user_id));
    assert_eq!(updated["actor_kind"], "staff");
    assert_eq!(updated["request_id"], "req-audit-1");
    assert_eq!(updated["client_addr"], "127.0.0.1");
    assert_eq!(updated["customer_id"], customer["id"]);
    assert_eq!(updated["changes"], json!({"name": {"from": "Acme", "to": "Acme Logistics"}}));

    let filtered: Value =
        admin.get("/v1/audit-events?action=customer.created").await.json().await.expect("events");
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(1));
    let future: Value =
        admin.get("/v1/audit-events?since=2999-01-01T00:00:00Z").await.json().await.expect("events");
    assert_eq!(future["items"], json!([]));
    let by_actor: Value = admin
        .get(&format!("/v1/audit-events?actor_id={}&limit=1", admin.user_id))
        .await
        .json()
        .await
        .expect("events");
    assert_eq!(by_actor["items"].as_array().map(Vec::len), Some(1));
    assert!(by_actor["next_cursor"].is_string());
}

#[tokio::test]
async fn customer_admins_see_their_customers_events_and_users_do_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mine = admin.create_customer("Mine").await;
    admin.create_customer("Theirs").await;
    let customer_admin = app.customer_user(id_of(&mine), Role::Admin, &[]).await;
    let user = app.customer_user(id_of(&mine), Role::User, &[Permission::OrdersView]).await;

    let page: Value = customer_admin.get("/v1/audit-events").await.json().await.expect("events");
    let customers: Vec<&Value> =
        page["items"].as_array().expect("items").iter().map(|e| &e["customer_id"]).collect();
    assert_eq!(customers, vec![&mine["id"]]);
    problem(user.get("/v1/audit-events").await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn events_cannot_be_changed_or_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.create_customer("Acme").await;
    for method in [Method::DELETE, Method::PUT, Method::PATCH, Method::POST] {
        let response = admin.request(method.clone(), "/v1/audit-events").send().await.expect("request");
        problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    }
    // Not even with the database credentials the service uses.
    let mut conn = app.conn();
    assert!(diesel::sql_query("UPDATE audit_events SET action = 'nothing'").execute(&mut conn).is_err());
    assert!(diesel::sql_query("DELETE FROM audit_events").execute(&mut conn).is_err());
    assert_eq!(app.audit_actions().len(), 1);
}
