//! Customers, warehouse addresses, staff and `/v1/me` on the house's write path: every ETag is
//! the one of the view the client reads, a GET hands out the tag the change checks, and the
//! staff view names only what staff can be.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of, problem};
use dockgate::permissions::Role;

fn etag_of(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().expect("etag").to_owned()
}

#[tokio::test]
async fn my_etag_covers_my_customers_name_so_a_rename_stales_what_i_read() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = admin.create_customer("Acme").await;
    let owner = app.customer_user(id_of(&customer), Role::Owner, &[]).await;

    let read = owner.get("/v1/me").await;
    let before = etag_of(&read);
    let me: Value = read.json().await.expect("json");
    assert_eq!(me["customer"]["name"], "Acme");

    let renamed = admin
        .patch(&format!("/v1/customers/{}", id_of(&customer)), &json!({"name": "Acme GmbH"}), None)
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);

    let read = owner.get("/v1/me").await;
    let after = etag_of(&read);
    let me: Value = read.json().await.expect("json");
    assert_eq!(me["customer"]["name"], "Acme GmbH");
    assert_ne!(after, before, "what the person sees changed, so its ETag does");

    // A change made on the old reading is refused; one made on the new reading goes through.
    let stale = owner.patch("/v1/me", &json!({"name": "Olga Owner"}), Some(&before)).await;
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let fresh = owner.patch("/v1/me", &json!({"name": "Olga Owner"}), Some(&after)).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let answered = etag_of(&fresh);
    assert_eq!(etag_of(&owner.get("/v1/me").await), answered, "PATCH answers GET's tag");
}

#[tokio::test]
async fn a_customers_etag_moves_with_its_default_address() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = admin.create_customer("Acme").await;
    let path = format!("/v1/customers/{}", id_of(&customer));
    let before = etag_of(&admin.get(&path).await);

    let address = json!({"label": "Main", "line1": "Hafenstraße 12", "city": "Hamburg", "country": "DE"});
    let created = admin.post(&format!("{path}/warehouse-addresses"), &address).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let address_etag = etag_of(&created);
    let address: Value = created.json().await.expect("json");
    assert_eq!(address["is_default"], true);

    let read = admin.get(&path).await;
    let after = etag_of(&read);
    let fetched: Value = read.json().await.expect("json");
    assert_eq!(fetched["default_warehouse_address_id"], address["id"]);
    assert_ne!(after, before);
    problem(
        admin.patch(&path, &json!({"name": "Late"}), Some(&before)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;

    // The address's GET hands out the tag its create answered, and its delete checks it.
    let address_path = format!("{path}/warehouse-addresses/{}", id_of(&address));
    assert_eq!(etag_of(&admin.get(&address_path).await), address_etag);
    assert_eq!(admin.delete(&address_path, Some(&address_etag)).await.status(), StatusCode::NO_CONTENT);
    let fetched: Value = admin.get(&path).await.json().await.expect("json");
    assert_eq!(fetched["default_warehouse_address_id"], Value::Null);
}

#[tokio::test]
async fn a_staff_members_etag_guards_its_patch_and_delete() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    let path = format!("/v1/staff/{}", dispatcher.user_id);

    let read = admin.get(&path).await;
    assert_eq!(read.status(), StatusCode::OK);
    let etag = etag_of(&read);
    let view: Value = read.json().await.expect("json");
    assert_eq!((view["role"].as_str(), view["status"].as_str()), (Some("dispatcher"), Some("active")));

    let renamed = admin.patch(&path, &json!({"name": "Dana"}), Some(&etag)).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let new_etag = etag_of(&renamed);
    assert_ne!(new_etag, etag);
    problem(admin.patch(&path, &json!({"name": "Lost"}), Some(&etag)).await, StatusCode::PRECONDITION_FAILED)
        .await;
    problem(admin.delete(&path, Some(&etag)).await, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(admin.delete(&path, Some(&new_etag)).await.status(), StatusCode::NO_CONTENT);

    let actions: Vec<String> = app.audit_actions().into_iter().map(|(action, _)| action).collect();
    assert_eq!(actions, ["staff.updated", "staff.deleted"]);
}

#[test]
fn the_staff_view_documents_only_the_staff_roles_and_statuses() {
    let document: Value =
        serde_json::from_str(&dockgate::cli::openapi_json().expect("document")).expect("json");
    let schemas = &document["components"]["schemas"];
    let view = &schemas["StaffView"]["properties"];
    assert_eq!(view["role"]["$ref"], "#/components/schemas/StaffRole");
    assert_eq!(view["status"]["$ref"], "#/components/schemas/StaffStatus");
    assert_eq!(schemas["StaffRole"]["enum"], json!(["platform_admin", "dispatcher"]));
    assert_eq!(schemas["StaffStatus"]["enum"], json!(["active", "deactivated"]));
    assert_eq!(
        schemas["CustomerView"]["properties"]["status"]["$ref"],
        "#/components/schemas/CustomerStatus"
    );
}
