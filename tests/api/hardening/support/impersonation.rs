//! A staff member signs in as one of a customer's people to see what it sees: for at most 15
//! minutes, for a reason the customer's admins read, and never to take the account over.

use dockgate::clock::Clock;
use dockgate::permissions::{Permission, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, id_of, json_of, problem, user_path};

fn impersonate_path(customer: Uuid, user: Uuid) -> String {
    format!("{}/impersonate", user_path(customer, user))
}

/// `staff` acts as `user` of `customer`, which must work; the support session's token.
async fn act_as(app: &TestApp, staff: &Actor, customer: Uuid, user: Uuid, reason: &str) -> (Actor, Value) {
    let body = json_of(
        staff.post(&impersonate_path(customer, user), &json!({"reason": reason})).await,
        StatusCode::CREATED,
    )
    .await;
    let token = body["access_token"].as_str().expect("an access token");
    (app.bearer(token), body)
}

#[tokio::test]
async fn a_platform_admin_acts_as_a_user_for_fifteen_minutes_and_the_customer_reads_why() {
    let clock = Clock::default();
    let app = {
        let clock = clock.clone();
        TestApp::spawn_with(move |config| config.clock = clock).await
    };
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let jana = id_of(&admin.add_person(acme, "Jana", json!({})).await);
    let customer_admin = app.customer_user(acme, Role::Admin, &[]).await;

    let (support, body) =
        act_as(&app, &admin, acme, jana, "  Ticket 4711: Jana cannot see her orders.  ").await;

    // An access token only: when the session ends, it ends.
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none(), "no refresh token: {body}");
    let expires_in = body["expires_in"].as_u64().expect("expires_in");
    assert!(expires_in <= 15 * 60, "at most 15 minutes: {expires_in}");
    // The token says who it is about and who acts: Jana, by the platform admin, who proved
    // nothing as Jana.
    let claims = support.claims();
    assert_eq!(claims["sub"], json!(jana));
    assert_eq!(claims["act"], json!({"sub": admin.user_id}));
    assert_eq!(claims["amr"], json!([]));
    assert_eq!(claims["customer_id"], json!(acme));
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert!(lifetime <= 15 * 60, "the token ends with the session: {lifetime}");

    // With it, dockgate answers as to Jana.
    assert_eq!(support.me().await["id"], json!(jana));

    // Acme's admin reads in its audit log who acted as Jana, and why.
    let events = json_of(
        customer_admin.get(&format!("/v1/audit-events?customer_id={acme}&action=user.impersonated")).await,
        StatusCode::OK,
    )
    .await;
    let events = events["items"].as_array().expect("items");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target_id"], json!(jana));
    assert_eq!(events[0]["actor_id"], json!(admin.user_id));
    assert_eq!(events[0]["actor_kind"], "staff");
    assert_eq!(events[0]["changes"]["reason"]["to"], "Ticket 4711: Jana cannot see her orders.");

    // Fifteen minutes on, the support session is over.
    clock.advance(chrono::Duration::minutes(16));
    problem(support.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_support_session_cannot_take_the_account_over() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let jana = id_of(&admin.add_person(acme, "Jana", json!({})).await);
    let owner = app.customer_user(acme, Role::Owner, &[]).await;
    let (as_owner, _) = act_as(&app, &admin, acme, owner.user_id, "Checking the owner's view").await;

    let refused = |detail: &Value| {
        assert_eq!(detail["detail"], "This is not allowed in a support session.", "{detail}");
    };
    // Not its password ...
    let own = json!({"current_password": "whatever it was", "new_password": "a brand new passphrase"});
    refused(&problem(as_owner.post("/v1/me/password", &own).await, StatusCode::FORBIDDEN).await);
    // ... nor anyone else's ...
    let other = json!({"password": "a password of my choosing"});
    let set = as_owner.post(&format!("{}/password", user_path(acme, jana)), &other).await;
    refused(&problem(set, StatusCode::FORBIDDEN).await);
    // ... nor the ownership of the customer ...
    let transfer = as_owner.post(&format!("/v1/customers/{acme}/owner"), &json!({"user_id": jana})).await;
    refused(&problem(transfer, StatusCode::FORBIDDEN).await);
    // ... nor acting as someone else in turn.
    let again = as_owner.post(&impersonate_path(acme, jana), &json!({"reason": "Deeper"})).await;
    problem(again, StatusCode::FORBIDDEN).await;

    // The real owner still can: the refusals are the support session's, not the owner's.
    let transfer = owner.post(&format!("/v1/customers/{acme}/owner"), &json!({"user_id": jana})).await;
    assert_eq!(transfer.status(), StatusCode::OK);
}

#[tokio::test]
async fn only_staff_in_scope_impersonate_and_only_a_platform_admin_the_owner() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let globex = id_of(&admin.create_customer("Globex").await);
    let jana = admin.add_person(acme, "Jana", json!({}));
    let jana = id_of(&jana.await);
    let owner = app.customer_user(acme, Role::Owner, &[]).await;
    let acme_dispatcher = app.staff(Role::Dispatcher, &[acme]).await;
    let globex_dispatcher = app.staff(Role::Dispatcher, &[globex]).await;
    let customer_admin = app.customer_user(acme, Role::Admin, &[Permission::UsersManage]).await;
    let reason = json!({"reason": "Ticket 12"});

    // A dispatcher of Acme acts as Jana; one of Globex does not see Acme at all.
    act_as(&app, &acme_dispatcher, acme, jana, "Ticket 12").await;
    problem(globex_dispatcher.post(&impersonate_path(acme, jana), &reason).await, StatusCode::NOT_FOUND)
        .await;
    // The owner is for a platform admin only.
    problem(
        acme_dispatcher.post(&impersonate_path(acme, owner.user_id), &reason).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    act_as(&app, &admin, acme, owner.user_id, "Ticket 13").await;
    // A customer's own admin is no support.
    problem(customer_admin.post(&impersonate_path(acme, jana), &reason).await, StatusCode::FORBIDDEN).await;

    // A reason is required, and is more than white space.
    let path = impersonate_path(acme, jana);
    problem(admin.post(&path, &json!({})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    problem(admin.post(&path, &json!({"reason": "   "})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    let long = "x".repeat(501);
    problem(admin.post(&path, &json!({"reason": long})).await, StatusCode::UNPROCESSABLE_ENTITY).await;

    // Someone who cannot sign in cannot be acted as either.
    let deactivate = admin.post(&format!("{}/deactivate", user_path(acme, jana)), &json!({})).await;
    assert_eq!(deactivate.status(), StatusCode::OK);
    problem(admin.post(&path, &reason).await, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn a_support_session_ends_with_its_staff_member() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let jana = id_of(&admin.add_person(acme, "Jana", json!({})).await);
    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;
    let (support, _) = act_as(&app, &dispatcher, acme, jana, "Ticket 14").await;
    assert_eq!(support.me().await["id"], json!(jana));

    // The dispatcher leaves the company: what it started as Jana stops at once.
    let staff_path = format!("/v1/staff/{}", dispatcher.user_id);
    let deactivated = admin.patch(&staff_path, &json!({"status": "deactivated"}), None).await;
    assert_eq!(deactivated.status(), StatusCode::OK);
    problem(support.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
}
