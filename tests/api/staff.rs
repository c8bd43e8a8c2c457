//! Staff management by platform admins.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, id_of, problem};
use dockgate::permissions::Role;

#[tokio::test]
async fn a_platform_admin_adds_a_dispatcher_who_signs_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = admin.create_customer("Acme").await;
    let response = admin
        .post(
            "/v1/staff",
            &json!({
                "name": "Dana", "email": "Dana@Operator.example", "role": "dispatcher",
                "customer_ids": [customer["id"]], "password": "a long dispatcher passphrase"
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let dana: Value = response.json().await.expect("json");
    assert_eq!(dana["customer_ids"], json!([customer["id"]]));
    assert_eq!(dana["status"], "active");
    assert!(dana.get("password").is_none() && dana.get("password_hash").is_none());

    let session = app.sign_in(id_of(&dana), "dana@operator.example", "a long dispatcher passphrase").await;
    let me: Value = session.get("/v1/me").await.json().await.expect("me");
    assert_eq!(me["customer_ids"], json!([customer["id"]]));

    let list: Value = admin.get("/v1/staff?role=dispatcher").await.json().await.expect("list");
    assert_eq!(
        list["items"].as_array().map(|i| i.iter().map(id_of).collect::<Vec<_>>()),
        Some(vec![id_of(&dana)])
    );
}

#[tokio::test]
async fn staff_input_is_validated_and_emails_are_unique_across_everyone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let body = problem(admin.post("/v1/staff", &json!({"name": "X", "email": "x@operator.example", "role": "dispatcher", "password": "password1234"})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["code"], "common_password");
    let body = problem(
        admin
            .post(
                "/v1/staff",
                &json!({"name": "X", "email": "x@operator.example", "role": "owner", "password": PASSWORD}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "role");
    let body = problem(admin.post("/v1/staff", &json!({"name": "X", "email": "x@operator.example", "role": "dispatcher", "customer_ids": [uuid::Uuid::now_v7()], "password": PASSWORD})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "customer_ids");
    problem(admin.post("/v1/staff", &json!({"name": "X", "email": admin.email.to_uppercase(), "role": "dispatcher", "password": PASSWORD})).await, StatusCode::CONFLICT).await;
    assert!(app.audit_actions().is_empty());
}

#[tokio::test]
async fn deactivating_a_staff_member_ends_its_sessions_and_it_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    let path = format!("/v1/staff/{}", dispatcher.user_id);
    let updated: Value =
        admin.patch(&path, &json!({"status": "deactivated"}), None).await.json().await.expect("json");
    assert_eq!(updated["status"], "deactivated");
    problem(dispatcher.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    problem(dispatcher.refresh().await, StatusCode::UNAUTHORIZED).await;

    problem(app.login(&dispatcher.email, PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    // Reactivated, it signs in again.
    admin.patch(&path, &json!({"status": "active"}), None).await;
    assert_eq!(app.login(&dispatcher.email, PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_role_change_ends_sessions_and_deleting_removes_the_person() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    let path = format!("/v1/staff/{}", dispatcher.user_id);
    let promoted: Value =
        admin.patch(&path, &json!({"role": "platform_admin"}), None).await.json().await.expect("json");
    assert_eq!(promoted["role"], "platform_admin");
    problem(dispatcher.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;

    let again = app.sign_in_again(&dispatcher).await;
    assert_eq!(admin.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    problem(again.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    problem(admin.get(&path).await, StatusCode::NOT_FOUND).await;
    let actions: Vec<String> = app.audit_actions().into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["staff.updated", "staff.deleted"]);
}

#[tokio::test]
async fn nobody_locks_themselves_out_and_only_platform_admins_manage_staff() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let own = format!("/v1/staff/{}", admin.user_id);
    problem(admin.patch(&own, &json!({"status": "deactivated"}), None).await, StatusCode::CONFLICT).await;
    problem(admin.patch(&own, &json!({"role": "dispatcher"}), None).await, StatusCode::CONFLICT).await;
    problem(admin.delete(&own, None).await, StatusCode::CONFLICT).await;

    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    problem(dispatcher.get("/v1/staff").await, StatusCode::FORBIDDEN).await;
    problem(dispatcher.post("/v1/staff", &json!({"name": "X", "email": "y@operator.example", "role": "platform_admin", "password": PASSWORD})).await, StatusCode::FORBIDDEN).await;
    problem(dispatcher.delete(&own, None).await, StatusCode::FORBIDDEN).await;
    // Customer users are not staff managers either.
    let customer = admin.create_customer("Acme").await;
    let owner = app.customer_user(id_of(&customer), Role::Owner, &[]).await;
    problem(owner.get("/v1/staff").await, StatusCode::FORBIDDEN).await;
}
