//! Warehouse addresses and the default-address rules.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, address, addresses_of, customer_path, id_of, problem};
use dockgate::permissions::{Permission, Role};

async fn default_of(actor: &Actor, customer: Uuid) -> Option<Uuid> {
    let customer: Value = actor.get(&customer_path(customer)).await.json().await.expect("customer");
    customer["default_warehouse_address_id"].as_str().and_then(|id| Uuid::parse_str(id).ok())
}

async fn defaults_in_list(actor: &Actor, customer: Uuid) -> Vec<Uuid> {
    let list: Value = actor.get(&addresses_of(customer)).await.json().await.expect("list");
    list["items"].as_array().expect("items").iter().filter(|a| a["is_default"] == true).map(id_of).collect()
}

#[tokio::test]
async fn the_first_address_is_the_default_and_a_second_can_take_over() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let base = addresses_of(customer);

    let first: Value = admin.post(&base, &json!({"is_default": false, "label": "Main", "line1": "A 1", "city": "Hamburg", "country": "DE"})).await.json().await.expect("json");
    assert_eq!(first["is_default"], true, "the first address is the default whatever the request says");
    let second: Value = admin.post(&base, &address("Overflow")).await.json().await.expect("json");
    assert_eq!(second["is_default"], false);
    assert_eq!(default_of(&admin, customer).await, Some(id_of(&first)));

    // Make the second the default: the first stops being one in the same step.
    let path = format!("{base}/{}", id_of(&second));
    let switched: Value =
        admin.patch(&path, &json!({"is_default": true}), None).await.json().await.expect("json");
    assert_eq!(switched["is_default"], true);
    assert_eq!(default_of(&admin, customer).await, Some(id_of(&second)));
    assert_eq!(defaults_in_list(&admin, customer).await, vec![id_of(&second)]);

    // Unsetting the default is refused; nothing changes.
    let body = problem(
        admin.patch(&path, &json!({"is_default": false}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "is_default");
    assert_eq!(defaults_in_list(&admin, customer).await, vec![id_of(&second)]);

    // A new address can claim the default on creation.
    let third: Value = admin
        .post(
            &base,
            &json!({"is_default": true, "label": "New", "line1": "B 2", "city": "Bremen", "country": "DE"}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(defaults_in_list(&admin, customer).await, vec![id_of(&third)]);
}

#[tokio::test]
async fn deleting_the_default_promotes_another_and_the_last_leaves_none() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let base = addresses_of(customer);
    let first = id_of(&admin.post(&base, &address("One")).await.json::<Value>().await.expect("json"));
    let second = id_of(&admin.post(&base, &address("Two")).await.json::<Value>().await.expect("json"));

    assert_eq!(admin.delete(&format!("{base}/{first}"), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(default_of(&admin, customer).await, Some(second));
    let promoted: Value = admin.get(&format!("{base}/{second}")).await.json().await.expect("json");
    assert_eq!(promoted["is_default"], true);

    assert_eq!(admin.delete(&format!("{base}/{second}"), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(default_of(&admin, customer).await, None);
}

#[tokio::test]
async fn two_concurrent_make_default_requests_leave_exactly_one_default() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Race").await);
    let base = addresses_of(customer);
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(id_of(
            &admin.post(&base, &address(&format!("A{n}"))).await.json::<Value>().await.expect("json"),
        ));
    }
    for _round in 0..3 {
        let requests = ids[1..].iter().map(|id| {
            let (path, admin) = (format!("{base}/{id}"), &admin);
            async move { admin.patch(&path, &json!({"is_default": true}), None).await.status() }
        });
        let statuses = futures_util::future::join_all(requests).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
        let defaults = defaults_in_list(&admin, customer).await;
        assert_eq!(defaults.len(), 1, "exactly one default: {defaults:?}");
        assert_eq!(default_of(&admin, customer).await, defaults.first().copied());
    }
}

#[tokio::test]
async fn addresses_are_validated_with_iso_country_codes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let base = addresses_of(customer);
    for country in ["XX", "de", "DEU", ""] {
        let body = problem(
            admin.post(&base, &json!({"label": "L", "line1": "A", "city": "C", "country": country})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "country", "{country}");
    }
    let body =
        problem(admin.post(&base, &json!({"country": "DE"})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("label")), "{body}");
    problem(
        admin.post(&format!("/v1/customers/{}/warehouse-addresses", Uuid::now_v7()), &address("Ghost")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn merge_patch_clears_nullable_fields_and_honours_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let base = addresses_of(customer);
    let response = admin
        .post(
            &base,
            &json!({"label": "Main", "line1": "A 1", "line2": "Gate 3", "city": "Hamburg", "country": "DE"}),
        )
        .await;
    let etag = response.headers()["etag"].to_str().expect("etag").to_owned();
    let path = format!("{base}/{}", id_of(&response.json::<Value>().await.expect("json")));

    let updated: Value = admin
        .patch(&path, &json!({"line2": null, "city": "Bremen"}), Some(&etag))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(updated["line2"], Value::Null);
    assert_eq!(updated["city"], "Bremen");
    assert_eq!(updated["label"], "Main");
    problem(admin.patch(&path, &json!({"city": "Kiel"}), Some(&etag)).await, StatusCode::PRECONDITION_FAILED)
        .await;
    let actions: Vec<String> = app.audit_actions().into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["customer.created", "address.created", "address.updated"]);
}

#[tokio::test]
async fn customer_users_read_addresses_and_manage_them_only_with_the_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let base = addresses_of(customer);
    let reader = app.customer_user(customer, Role::User, &[Permission::OrdersView]).await;
    let manager = app.customer_user(customer, Role::User, &[Permission::AddressesManage]).await;

    problem(reader.post(&base, &address("Nope")).await, StatusCode::FORBIDDEN).await;
    let created = manager.post(&base, &address("Mine")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let list: Value = reader.get(&base).await.json().await.expect("list");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}
