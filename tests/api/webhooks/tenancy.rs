//! Whose webhooks are whose: another customer's admin (and a dispatcher of other customers) get
//! 404 on every webhook route with real ids and change nothing; only people who see all of the
//! customer's data manage its endpoints; platform endpoints are the platform admin's and hear
//! every customer, a customer's endpoint only its own.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{World, create, deliveries, hooks_of, log_until, signatures, signed_by, stays_at};
use crate::helpers::{Actor, Receiver, id_of, json_of, problem};
use dockgate::permissions::{Permission, Role};

/// Every webhook route of a customer, as (method, path, body), for endpoint `hook` and its
/// delivery `delivery`, under `customer`.
fn routes(
    customer: Uuid,
    hook: Uuid,
    delivery: &str,
    url: &str,
) -> Vec<(&'static str, String, Option<Value>)> {
    let one = hooks_of(customer, &format!("/{hook}"));
    vec![
        ("GET", hooks_of(customer, ""), None),
        ("POST", hooks_of(customer, ""), Some(json!({"url": url}))),
        ("GET", one.clone(), None),
        ("PATCH", one.clone(), Some(json!({"url": url}))),
        ("PATCH", one.clone(), Some(json!({"status": "disabled"}))),
        ("DELETE", one.clone(), None),
        ("POST", format!("{one}/secret"), Some(json!({}))),
        ("GET", format!("{one}/deliveries"), None),
        ("GET", format!("{one}/deliveries?status=delivered"), None),
        ("POST", format!("{one}/deliveries/{delivery}/retry"), Some(json!({}))),
        ("POST", format!("{one}/test"), Some(json!({}))),
    ]
}

async fn send(actor: &Actor, method: &str, path: &str, body: Option<&Value>) -> reqwest::Response {
    match (method, body) {
        ("PATCH", Some(body)) => actor.patch(path, body, None).await,
        ("DELETE", _) => actor.delete(path, None).await,
        (_, body) => actor.send(method, path, body.map(|b| b.to_string()).as_deref()).await,
    }
}

#[tokio::test]
async fn another_customers_admin_gets_404_on_every_webhook_route_with_real_ids() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/acme"), Some(&["user.created"])).await;
    w.add_person("Victim").await;
    let log = log_until(&w.admin, &endpoint, "delivered", |log| {
        log.first().is_some_and(|d| d["status"] == "delivered")
    })
    .await;
    let delivery = log[0]["id"].as_str().expect("a delivery id").to_owned();
    let before = json_of(w.admin.get(&endpoint.path).await, StatusCode::OK).await;

    let globex = id_of(&w.staff.create_customer("Globex").await);
    let globex_admin = w.app.customer_user(globex, Role::Admin, &[]).await;
    let globex_owner = w.app.customer_user(globex, Role::Owner, &[]).await;
    let globex_dispatcher = w.app.staff(Role::Dispatcher, &[globex]).await;
    let stolen = receiver.url("/stolen");
    let mut requests = routes(w.customer, endpoint.id, &delivery, &stolen);
    // Their own customer in the path, the victim's ids after it.
    requests.extend(routes(globex, endpoint.id, &delivery, &stolen).into_iter().skip(2));
    for outsider in [&globex_admin, &globex_owner, &globex_dispatcher] {
        for (method, path, body) in &requests {
            let response = send(outsider, method, path, body.as_ref()).await;
            let status = response.status();
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} by an outsider");
            problem(response, StatusCode::NOT_FOUND).await;
        }
    }

    // Nothing changed: the endpoint, its log, its secret; nothing was sent.
    let after = json_of(w.admin.get(&endpoint.path).await, StatusCode::OK).await;
    assert_eq!(after, before);
    assert_eq!(deliveries(&w.admin, &endpoint).await.len(), 1);
    assert!(globex_admin.list(&hooks_of(globex, "")).await.is_empty(), "no endpoint was made for Globex");
    stays_at(&receiver, 1, Duration::from_millis(800), "no test, no retry").await;
    w.add_person("StillMine").await;
    let request = receiver.wait_for(2).await.remove(1);
    assert_eq!(signatures(&request).len(), 1, "not rotated");
    assert!(signed_by(&request, &endpoint.secret));
}

#[tokio::test]
async fn only_people_who_see_all_of_the_customers_data_manage_its_webhooks() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let collection = w.path("");
    let body = json!({"url": receiver.url("/who")});

    // A plain user, and an admin limited to groups (an endpoint hears every group's people).
    let user = w.app.customer_user(w.customer, Role::User, &[Permission::OrdersView]).await;
    let group = w.admin.add_group(w.customer, "Depot A").await;
    let limited = w.app.customer_user(w.customer, Role::Admin, &[]).await;
    let limit = json!({"group_ids": [group], "data_scope": "groups"});
    let path = crate::helpers::user_path(w.customer, limited.user_id);
    assert!(w.admin.patch(&path, &limit, None).await.status().is_success());
    let limited = w.app.sign_in_again(&limited).await;
    let endpoint = w.endpoint(&receiver.url("/mine"), None).await;
    for actor in [&user, &limited] {
        problem(actor.get(&collection).await, StatusCode::FORBIDDEN).await;
        problem(actor.post(&collection, &body).await, StatusCode::FORBIDDEN).await;
        problem(actor.get(&endpoint.path).await, StatusCode::FORBIDDEN).await;
        problem(actor.post(&format!("{}/test", endpoint.path), &json!({})).await, StatusCode::FORBIDDEN)
            .await;
    }

    // An owner, a dispatcher of every customer, and an API client with users.manage may.
    let owner = w.app.customer_user(w.customer, Role::Owner, &[]).await;
    let dispatcher = w.app.staff(Role::Dispatcher, &[]).await;
    let clients = format!("/v1/customers/{}/api-clients", w.customer);
    let client = json_of(
        w.admin.post(&clients, &json!({"name": "Hooks", "scopes": ["users.manage"]})).await,
        StatusCode::CREATED,
    )
    .await;
    let token = json_of(
        w.admin.post(&format!("{clients}/{}/tokens", id_of(&client)), &json!({"name": "hooks"})).await,
        StatusCode::CREATED,
    )
    .await;
    let integration = w.app.bearer(token["token"].as_str().expect("a dgt_ token"));
    for actor in [&w.admin, &owner, &dispatcher, &integration] {
        let made = create(actor, &collection, &receiver.url("/allowed"), Some(&["group.deleted"])).await;
        assert_eq!(json_of(actor.get(&made.path).await, StatusCode::OK).await["id"], json!(made.id));
        assert_eq!(actor.delete(&made.path, None).await.status(), StatusCode::NO_CONTENT);
    }

    // The platform's endpoints are the platform admin's alone.
    for actor in [&w.admin, &owner, &dispatcher, &integration, &user] {
        let status = actor.get("/v1/webhooks").await.status();
        assert_eq!(status, StatusCode::FORBIDDEN, "the platform's webhooks");
        let status = actor.post("/v1/webhooks", &body).await.status();
        assert_eq!(status, StatusCode::FORBIDDEN, "a platform webhook");
    }
    assert_eq!(w.staff.get("/v1/webhooks").await.status(), StatusCode::OK);
    // The catalog is for anyone signed in.
    for actor in [&user, &limited, &dispatcher] {
        assert_eq!(actor.get("/v1/webhook-event-types").await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_platform_endpoint_hears_every_customer_and_a_customer_endpoint_only_its_own() {
    let w = World::new().await;
    let platform_receiver = Receiver::start().await;
    let acme_receiver = Receiver::start().await;
    let globex_receiver = Receiver::start().await;
    let platform =
        create(&w.staff, "/v1/webhooks", &platform_receiver.url("/all"), Some(&["user.created"])).await;
    assert_eq!(platform.view["customer_id"], Value::Null);
    let globex = id_of(&w.staff.create_customer("Globex").await);
    let globex_admin = w.app.customer_user(globex, Role::Admin, &[]).await;
    let acme = w.endpoint(&acme_receiver.url("/acme"), Some(&["user.created"])).await;
    let globex_hook = create(
        &globex_admin,
        &hooks_of(globex, ""),
        &globex_receiver.url("/globex"),
        Some(&["user.created"]),
    )
    .await;

    let acme_person = w.add_person("AcmePerson").await;
    let globex_person = globex_admin.add_person(globex, "GlobexPerson", json!({})).await;
    let heard = platform_receiver.wait_for(2).await;
    let mut people: Vec<Value> = heard.iter().map(|r| r.json()["data"]["id"].clone()).collect();
    people.sort_by_key(|v| v.as_str().map(str::to_owned));
    let mut expected = vec![acme_person["id"].clone(), globex_person["id"].clone()];
    expected.sort_by_key(|v| v.as_str().map(str::to_owned));
    assert_eq!(people, expected, "the platform hears both customers");
    assert!(heard.iter().all(|r| signed_by(r, &platform.secret)));

    let acme_heard = acme_receiver.wait_for(1).await;
    let globex_heard = globex_receiver.wait_for(1).await;
    log_until(&w.staff, &platform, "the platform's deliveries", |log| log.len() == 2).await;
    for (receiver, person) in [(&acme_receiver, &acme_person), (&globex_receiver, &globex_person)] {
        stays_at(receiver, 1, Duration::from_millis(600), "only its own customer's event").await;
        assert_eq!(receiver.received()[0].json()["data"]["id"], person["id"]);
    }
    assert!(signed_by(&acme_heard[0], &acme.secret) && signed_by(&globex_heard[0], &globex_hook.secret));
    // One event, one message id, whichever endpoint hears it.
    let acme_at_platform =
        heard.iter().find(|r| r.json()["data"]["id"] == acme_person["id"]).expect("acme's");
    assert_eq!(acme_at_platform.header("webhook-id"), acme_heard[0].header("webhook-id"));

    // The platform endpoint is not the customer's, and the customer's is not the platform's.
    problem(w.admin.get(&hooks_of(w.customer, &format!("/{}", platform.id))).await, StatusCode::NOT_FOUND)
        .await;
    let status = w.admin.get(&format!("/v1/webhooks/{}", platform.id)).await.status();
    assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{status}");
    problem(w.staff.get(&format!("/v1/webhooks/{}", acme.id)).await, StatusCode::NOT_FOUND).await;
    assert_eq!(json_of(w.staff.get(&platform.path).await, StatusCode::OK).await["id"], json!(platform.id));
    let listed: Vec<Uuid> = w.staff.list_ids("/v1/webhooks").await;
    assert_eq!(listed, vec![platform.id], "only platform endpoints under /v1/webhooks");
}
