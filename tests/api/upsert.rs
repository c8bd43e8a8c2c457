//! Upsert by the ERP's key (issue 13): an integrator sends the same full body of a person
//! night after night to `PUT .../users/by-external-id/{external_id}`; the first creates, a
//! change replaces, a repeat changes nothing, and the rules of create and change still hold.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, MEMBER_PASSWORD, TestApp, etag_of, field_errors, id_of, json_of, problem, unique_email,
};
use dockgate::permissions::Role;

fn by_key(customer: Uuid, key: &str) -> String {
    format!("/v1/customers/{customer}/users/by-external-id/{key}")
}

async fn put(actor: &Actor, path: &str, body: &Value, if_match: Option<&str>) -> Response {
    let mut request = actor.request(Method::PUT, path).json(body);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn the_erp_key_creates_then_replaces_and_a_repeat_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let email = unique_email("jana");
    let body =
        json!({"name": "Jana Berg", "email": email, "send_mail": true, "permissions": ["orders.view"]});

    let created = put(&admin, &by_key(acme, "ERP-1"), &body, None).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let first_tag = etag_of(&created);
    let jana: Value = created.json().await.unwrap();
    assert_eq!(location, format!("/v1/customers/{acme}/users/{}", id_of(&jana)));
    assert_eq!(jana["external_id"], "ERP-1");
    assert_eq!(jana["permissions"], json!(["orders.view"]));
    assert_eq!(app.actions_on(id_of(&jana)), ["user.created"]);
    assert_eq!(app.mails_to(&email), 1, "the welcome went through the outbox");

    // The key compares case-insensitively, like the database's citext.
    let read = admin.get(&by_key(acme, "erp-1")).await;
    assert_eq!(etag_of(&read), first_tag);
    assert_eq!(id_of(&json_of(read, StatusCode::OK).await), id_of(&jana));

    let again = put(&admin, &by_key(acme, "ERP-1"), &body, None).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(etag_of(&again), first_tag, "nothing changed, so neither did the ETag");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["updated_at"], jana["updated_at"]);
    assert_eq!(app.actions_on(id_of(&jana)), ["user.created"], "no event for a repeat");
    assert_eq!(app.mails_to(&email), 1, "the welcome is not sent again");

    let renamed = json!({"name": "Jana Berg-Olsen", "email": email, "send_mail": true});
    let replaced = json_of(put(&admin, &by_key(acme, "ERP-1"), &renamed, None).await, StatusCode::OK).await;
    assert_eq!(replaced["name"], "Jana Berg-Olsen");
    assert_eq!(
        replaced["permissions"],
        json!(["orders.view", "tracking.view", "pod.download"]),
        "a field left out takes a create's default: the body is the whole person"
    );
    assert_ne!(replaced["updated_at"], jana["updated_at"]);
    assert_eq!(app.actions_on(id_of(&jana)), ["user.created", "user.updated"]);

    assert_eq!(admin.get(&by_key(acme, "ERP-404")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn if_match_guards_a_replace() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let path = by_key(acme, "ERP-2");
    let body = json!({"name": "Piet"});

    let on_nothing = put(&admin, &path, &body, Some("\"0000\"")).await;
    problem(on_nothing, StatusCode::PRECONDITION_FAILED).await;
    let created = put(&admin, &path, &body, None).await;
    let tag = etag_of(&created);
    assert_eq!(created.status(), StatusCode::CREATED);

    let renamed = json!({"name": "Piet de Vries"});
    let changed = put(&admin, &path, &renamed, Some(&tag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let stale = put(&admin, &path, &json!({"name": "Piet again"}), Some(&tag)).await;
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let current = admin.get(&path).await;
    assert_eq!(json_of(current, StatusCode::OK).await["name"], "Piet de Vries");
}

#[tokio::test]
async fn the_rules_of_create_and_change_still_apply() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let path = by_key(acme, "ERP-3");

    let refused = [
        (json!({"name": "X", "permissions": ["users.manage"]}), "permissions[0]", "not_grantable"),
        (json!({"name": "X", "external_id": "ERP-OTHER"}), "external_id", "not_allowed"),
        (json!({"name": "X", "cost_center_id": Uuid::now_v7()}), "cost_center_id", "unknown"),
        (json!({"name": "X", "email": unique_email("x")}), "password", "required"),
        (json!({"name": "X", "shoe_size": 44}), "shoe_size", "unknown_field"),
    ];
    for (body, field, code) in refused {
        let body = problem(put(&admin, &path, &body, None).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(field_errors(&body), [(field.to_owned(), code.to_owned())], "{body}");
    }
    let long_key = by_key(acme, &"K".repeat(256));
    problem(put(&admin, &long_key, &json!({"name": "X"}), None).await, StatusCode::UNPROCESSABLE_ENTITY)
        .await;

    // An admin of the customer may not create an owner, and nobody becomes owner by a replace.
    let customer_admin = app.customer_user(acme, Role::Admin, &[]).await;
    let owner = json!({"name": "Boss", "role": "owner", "email": unique_email("boss"), "send_mail": true});
    problem(put(&customer_admin, &by_key(acme, "ERP-BOSS"), &owner, None).await, StatusCode::FORBIDDEN).await;
    let email = unique_email("member");
    let member = json!({"name": "Member", "email": email, "password": MEMBER_PASSWORD});
    let member_path = by_key(acme, "ERP-M");
    let created = json_of(put(&customer_admin, &member_path, &member, None).await, StatusCode::CREATED).await;
    let made_owner = json!({"name": "Member", "email": email, "role": "owner"});
    let body =
        problem(put(&admin, &member_path, &made_owner, None).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&body), [("role".to_owned(), "use_owner_transfer".to_owned())]);

    // A change of role ends the person's sessions, as a patch does.
    let signed_in = app.sign_in(id_of(&created), &email, MEMBER_PASSWORD).await;
    let promoted = json!({"name": "Member", "email": email, "role": "admin"});
    let replaced = json_of(put(&customer_admin, &member_path, &promoted, None).await, StatusCode::OK).await;
    assert_eq!(replaced["role"], "admin");
    assert_eq!(replaced["password_set"], true, "a replace keeps the password");
    assert_eq!(signed_in.refresh().await.status(), StatusCode::UNAUTHORIZED);

    // Nobody changes its own role this way.
    let own = json!({"name": "Still Admin", "email": customer_admin.email, "role": "user"});
    let admin_key = by_key(acme, "ERP-ADMIN");
    // The admin's own row gets a key first (by patch), then its own replace may not demote it.
    let path = format!("/v1/customers/{acme}/users/{}", customer_admin.user_id);
    let keyed = admin.patch(&path, &json!({"external_id": "ERP-ADMIN"}), None).await;
    assert_eq!(keyed.status(), StatusCode::OK);
    problem(put(&customer_admin, &admin_key, &own, None).await, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn racing_puts_for_a_new_key_make_one_person() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let path = by_key(acme, "ERP-RACE");
    let sends = (0..6).map(|i| {
        let (admin, path) = (admin.clone(), path.clone());
        // Half of them say the same, half another name: one creates, the others replace.
        tokio::spawn(
            async move { put(&admin, &path, &json!({"name": format!("Racer {}", i % 2)}), None).await },
        )
    });
    let mut statuses = Vec::new();
    for send in sends {
        statuses.push(send.await.unwrap().status());
    }
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [StatusCode::CREATED, StatusCode::OK, StatusCode::CONFLICT].contains(s)),
        "{statuses:?}"
    );
    let racer = json_of(admin.get(&by_key(acme, "erp-race")).await, StatusCode::OK).await;
    let people = admin.list(&format!("/v1/customers/{acme}/users?q=Racer")).await;
    assert_eq!(people.len(), 1, "one person: {people:?}");
    assert_eq!(id_of(&people[0]), id_of(&racer));
}

/// `by-external-id` sits beside `{user_id}`: an ERP key that reads like an action of a user
/// (`deactivate`, `password`) is still a key, and the actions still act on users.
#[tokio::test]
async fn keys_named_like_user_actions_are_keys_and_the_actions_still_work() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    for key in ["deactivate", "reactivate", "password", "password-reset"] {
        let body = json!({"name": format!("Key {key}")});
        let created = json_of(put(&admin, &by_key(acme, key), &body, None).await, StatusCode::CREATED).await;
        assert_eq!(created["external_id"], key);
        let read = json_of(admin.get(&by_key(acme, key)).await, StatusCode::OK).await;
        assert_eq!(read["id"], created["id"]);
    }
    let person = json_of(
        put(&admin, &by_key(acme, "ERP-9"), &json!({"name": "Piet"}), None).await,
        StatusCode::CREATED,
    )
    .await;
    let deactivate = format!("/v1/customers/{acme}/users/{}/deactivate", id_of(&person));
    let deactivated =
        json_of(admin.request(Method::POST, &deactivate).send().await.expect("request"), StatusCode::OK)
            .await;
    assert_eq!(deactivated["status"], "deactivated");
    // POST is not a method of the by-external-id route: the user action route does not take a
    // key for a user id either.
    let action_on_key =
        admin.request(Method::POST, &by_key(acme, "deactivate")).send().await.expect("request");
    assert_eq!(action_on_key.status(), StatusCode::NOT_FOUND);
}
