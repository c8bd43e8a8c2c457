//! Users and invitations on the house mechanisms: ETags from the view the client reads, one
//! rule for what ends when a person's access changes, closed sets for roles in the document.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, etag_of, id_of, json_of, problem, user_path, users_of};

const PORTAL_PASSWORD: &str = "a long portal passphrase";

/// A customer and a user of it with login, signed in; the staff member who made them.
async fn customer_with_user(app: &TestApp) -> (Actor, Uuid, Actor) {
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let email = format!("jana-{}@acme.example", Uuid::new_v4().simple());
    let body = json!({"name": "Jana", "email": email, "password": PORTAL_PASSWORD});
    let jana = json_of(staff.post(&users_of(customer), &body).await, StatusCode::CREATED).await;
    let session = app.sign_in(id_of(&jana), &email, PORTAL_PASSWORD).await;
    (staff, customer, session)
}

async fn add_address(staff: &Actor, customer: Uuid, label: &str, is_default: bool) -> Uuid {
    let body = json!({"label": label, "line1": "Hafenstraße 12", "city": "Hamburg", "country": "DE",
        "is_default": is_default});
    let path = format!("/v1/customers/{customer}/warehouse-addresses");
    id_of(&json_of(staff.post(&path, &body).await, StatusCode::CREATED).await)
}

/// Whether the session still works: its access token is accepted.
async fn works(session: &Actor) -> bool {
    session.get("/v1/me").await.status() == StatusCode::OK
}

/// How many unused password links the person has.
fn open_links(app: &TestApp, user: Uuid) -> i64 {
    use dockgate::db::schema::password_tokens as pt;
    pt::table
        .filter(pt::user_id.eq(user))
        .filter(pt::used_at.is_null())
        .count()
        .get_result(&mut app.conn())
        .expect("count links")
}

#[tokio::test]
async fn a_users_etag_moves_with_what_its_view_shows_also_the_customers_default_address() {
    let app = TestApp::spawn().await;
    let (staff, customer, jana) = customer_with_user(&app).await;
    let path = user_path(customer, jana.user_id);
    let first = add_address(&staff, customer, "Main", false).await;
    let read = staff.get(&path).await;
    let etag = etag_of(&read);
    assert_eq!(json_of(read, StatusCode::OK).await["warehouse_address_id"], json!(first));

    // Another default: the user follows it, although its row did not change.
    let second = add_address(&staff, customer, "New main", true).await;
    let reread = staff.get(&path).await;
    assert_ne!(etag_of(&reread), etag, "the view changed, so the ETag did");
    assert_eq!(json_of(reread, StatusCode::OK).await["warehouse_address_id"], json!(second));
    problem(
        staff.patch(&path, &json!({"name": "Jana B."}), Some(&etag)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
}

#[tokio::test]
async fn a_users_own_sign_in_leaves_its_etag_alone() {
    let app = TestApp::spawn().await;
    let (staff, customer, jana) = customer_with_user(&app).await;
    let path = user_path(customer, jana.user_id);
    let read = staff.get(&path).await;
    let etag = etag_of(&read);
    let before = json_of(read, StatusCode::OK).await;

    app.sign_in(jana.user_id, &jana.email, PORTAL_PASSWORD).await;
    let reread = staff.get(&path).await;
    assert_eq!(etag_of(&reread), etag);
    assert_ne!(json_of(reread, StatusCode::OK).await["last_login_at"], before["last_login_at"]);
    let patched = staff.patch(&path, &json!({"name": "Jana B."}), Some(&etag)).await;
    assert_eq!(json_of(patched, StatusCode::OK).await["name"], "Jana B.");
}

#[tokio::test]
async fn deactivating_someone_deactivated_answers_the_same_and_records_nothing() {
    let app = TestApp::spawn().await;
    let (staff, customer, jana) = customer_with_user(&app).await;
    let deactivate = format!("{}/deactivate", user_path(customer, jana.user_id));
    let once = staff.post(&deactivate, &json!({})).await;
    let etag = etag_of(&once);
    let first = json_of(once, StatusCode::OK).await;
    let twice = staff.post(&deactivate, &json!({})).await;
    assert_eq!(etag_of(&twice), etag);
    assert_eq!(json_of(twice, StatusCode::OK).await, first);
    let deactivations = app
        .audit_actions()
        .into_iter()
        .filter(|(action, target)| action == "user.deactivated" && *target == Some(jana.user_id))
        .count();
    assert_eq!(deactivations, 1);
}

#[tokio::test]
async fn what_a_change_of_access_ends_sessions_always_and_password_links_when_it_closes_a_way_in() {
    let app = TestApp::spawn().await;
    let (staff, customer, jana) = customer_with_user(&app).await;
    let path = user_path(customer, jana.user_id);
    let reset_link = format!("{path}/password-reset");
    let group = json_of(
        staff.post(&format!("/v1/customers/{customer}/groups"), &json!({"name": "North"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(staff.post(&reset_link, &json!({})).await.status(), StatusCode::ACCEPTED);
    assert_eq!(open_links(&app, jana.user_id), 1);

    // Nothing about access: the session and the link stay.
    json_of(staff.patch(&path, &json!({"name": "Jana B."}), None).await, StatusCode::OK).await;
    assert!(works(&jana).await);
    // Its groups (its tokens carry them): the session ends, the link stays.
    let body = json!({"group_ids": [id_of(&group)]});
    json_of(staff.patch(&path, &body, None).await, StatusCode::OK).await;
    assert!(!works(&jana).await);
    assert_eq!(open_links(&app, jana.user_id), 1);
    // A new password: the session and the link end.
    let again = app.sign_in(jana.user_id, &jana.email, PORTAL_PASSWORD).await;
    let body = json!({"password": "another long passphrase"});
    json_of(staff.patch(&path, &body, None).await, StatusCode::OK).await;
    assert!(!works(&again).await);
    assert_eq!(open_links(&app, jana.user_id), 0);
}

#[tokio::test]
async fn the_document_gives_the_role_of_a_customer_user_and_of_an_invitation_as_owner_admin_or_user() {
    let document: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("the committed document");
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["CustomerRole"]["enum"], json!(["owner", "admin", "user"]));
    for view in ["UserView", "InvitationView"] {
        assert_eq!(
            schemas[view]["properties"]["role"]["$ref"], "#/components/schemas/CustomerRole",
            "{view}"
        );
    }
}
