//! A User's lifecycle as a directory drives it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Directory, error_of, scim_of, uid, user};
use crate::helpers::TestApp;
use crate::helpers::read::id_of;

#[tokio::test]
async fn a_user_is_created_read_replaced_patched_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let okta = Directory::connect(&app, &admin, "Acme").await;

    let mut body = user("jana.berg@acme.example");
    body["password"] = json!("Okta sends one on create");
    body["phoneNumbers"] = json!([{"value": "+49 40 123456", "type": "work"}]);
    body["title"] = json!("Dispatcher");
    let response = okta.post("/Users", &body).await;
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let etag = response.headers()["etag"].to_str().expect("etag").to_owned();
    let created = scim_of(response, StatusCode::CREATED).await;
    let id = uid(&created);
    assert_eq!(created["meta"]["location"], json!(location));
    assert_eq!(created["meta"]["version"], json!(etag));
    assert_eq!(created["meta"]["resourceType"], "User");
    assert!(created.get("password").is_none(), "never echoed");
    assert_eq!(created["userName"], "jana.berg@acme.example");
    assert_eq!(created["active"], true);

    // The REST API sees the person: role user, a login, no password, the directory's name.
    let person = admin.get_user(okta.customer, id.parse().expect("uuid")).await;
    assert_eq!(person["name"], "Jana Berg");
    assert_eq!(person["email"], "jana.berg@acme.example");
    assert_eq!(person["role"], "user");
    assert_eq!(person["phone"], "+49 40 123456");
    let hash: Option<String> = {
        use diesel::prelude::*;
        use dockgate::db::schema::users;
        users::table
            .find(uuid::Uuid::parse_str(&id).expect("uuid"))
            .select(users::password_hash)
            .first(&mut app.conn())
            .expect("row")
    };
    assert!(hash.is_none(), "Okta's password is never stored");

    let got = scim_of(okta.get(&format!("/Users/{id}")).await, StatusCode::OK).await;
    assert_eq!(got, created);
    let response = okta
        .bearer
        .request(Method::GET, &format!("/scim/v2/Users/{id}"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    // PUT replaces: what it leaves out is gone.
    let replaced = scim_of(
        okta.put(
            &format!("/Users/{id}"),
            &json!({
                "schemas": [super::USER], "id": id, "userName": "jana.berg@acme.example",
                "displayName": "Jana B.", "emails": [{"value": "jana.berg@acme.example", "primary": true}],
            }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(replaced["displayName"], "Jana B.");
    for gone in ["phoneNumbers", "title", "name"] {
        assert!(replaced.get(gone).is_none(), "{gone} cleared: {replaced}");
    }
    assert_eq!(admin.get_user(okta.customer, id.parse().expect("uuid")).await["phone"], Value::Null);
    // A stale If-Match is refused.
    let response = okta.bearer.request(Method::PATCH, &format!("/scim/v2/Users/{id}")).header("if-match", &etag)
        .header("content-type", super::SCIM_JSON)
        .body(json!({"schemas": [super::PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}).to_string())
        .send().await.expect("request");
    error_of(response, StatusCode::PRECONDITION_FAILED).await;
    // An id in the body that is another's is refused.
    let other = error_of(
        okta.put(&format!("/Users/{id}"), &json!({"id": uuid::Uuid::now_v7(), "userName": "x"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(other["scimType"], "mutability");

    // PATCH answers 200 with the whole resource.
    let patched = scim_of(
        okta.patch(&format!("/Users/{id}"), json!([
            {"op": "Replace", "path": "name.givenName", "value": "Jana"},
            {"op": "add", "value": {"title": "Lead", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Inbound"}},
        ]))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["name"]["givenName"], "Jana");
    assert_eq!(patched["title"], "Lead");
    assert_eq!(
        patched["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Inbound"
    );
    assert_eq!(patched["userName"], "jana.berg@acme.example");
    assert_eq!(patched["displayName"], "Jana B.");

    assert_eq!(okta.delete(&format!("/Users/{id}")).await.status(), StatusCode::NO_CONTENT);
    error_of(okta.get(&format!("/Users/{id}")).await, StatusCode::NOT_FOUND).await;
    error_of(okta.delete(&format!("/Users/{id}")).await, StatusCode::NOT_FOUND).await;
    assert_eq!(
        admin.get(&format!("/v1/customers/{}/users/{id}", okta.customer)).await.status(),
        StatusCode::NOT_FOUND
    );
    let actions = app.actions();
    for action in ["user.created", "user.updated", "user.deleted"] {
        assert!(actions.iter().any(|a| a == action), "{action} audited: {actions:?}");
    }
}

#[tokio::test]
async fn active_false_deactivates_and_ends_the_persons_sessions_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    // Someone an admin created by hand is a SCIM User too.
    let person = admin.add_person(entra.customer, "mia", json!({})).await;
    let mia = app.sign_in_member(&person).await;
    assert_eq!(mia.get("/v1/me").await.status(), StatusCode::OK);
    let id = id_of(&person);

    let found = entra
        .list(&format!("/Users?filter=userName%20eq%20%22{}%22", person["email"].as_str().expect("email")))
        .await;
    assert_eq!(found.0, 1, "matched by the e-mail it falls back to");

    // Entra sends booleans as strings.
    let patched = scim_of(
        entra
            .patch(&format!("/Users/{id}"), json!([{"op": "Replace", "path": "active", "value": "False"}]))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["active"], false);
    assert_eq!(mia.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED, "the next request is refused");
    assert_eq!(admin.get_user(entra.customer, id).await["status"], "deactivated");
    assert!(app.actions().iter().any(|a| a == "user.deactivated"));

    // Deactivated people stay visible to GET and filters.
    scim_of(entra.get(&format!("/Users/{id}")).await, StatusCode::OK).await;
    let (total, _) = entra.list("/Users?filter=active%20eq%20false").await;
    assert_eq!(total, 1);
    let back = scim_of(
        entra.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": true}}])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(back["active"], true);
    assert_eq!(admin.get_user(entra.customer, id).await["status"], "active");
}

#[tokio::test]
async fn the_rest_api_and_the_directory_agree_on_mapped_attributes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    let created = entra
        .create_user(
            json!({"schemas": [super::USER], "userName": "gate-terminal-7", "displayName": "Gate 7"}),
        )
        .await;
    let id = uid(&created);
    // A user without any e-mail has no login.
    let row = admin.get_user(entra.customer, id.parse().expect("uuid")).await;
    assert_eq!(row["login_enabled"], false);
    assert_eq!(row["email"], Value::Null);
    assert_eq!(row["name"], "Gate 7");
    // An admin renames the person in dockgate: the column wins on read.
    let path = format!("/v1/customers/{}/users/{id}", entra.customer);
    assert_eq!(admin.patch(&path, &json!({"name": "Thomas Weber"}), None).await.status(), StatusCode::OK);
    let got = scim_of(entra.get(&format!("/Users/{id}")).await, StatusCode::OK).await;
    assert_eq!(got["displayName"], "Thomas Weber");
    assert_ne!(got["meta"]["version"], created["meta"]["version"]);
    assert_eq!(got["userName"], "gate-terminal-7");
    // Without displayName, the name comes from name.formatted, else given and family name.
    let named = entra
        .create_user(json!({"userName": "x1", "name": {"givenName": "Ana", "familyName": "Lima"}}))
        .await;
    assert_eq!(admin.get_user(entra.customer, uid(&named).parse().expect("uuid")).await["name"], "Ana Lima");
}

#[tokio::test]
async fn an_admin_edits_a_directory_person_and_a_change_to_nothing_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let okta = Directory::connect(&app, &admin, "Acme").await;
    let created = okta.create_user(user("lena@acme.example")).await;
    let id = uid(&created);
    // A login without a password yet (it asks for a reset link): the REST API still edits it.
    let path = format!("/v1/customers/{}/users/{id}", okta.customer);
    let response = admin.patch(&path, &json!({"data_scope": "all"}), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rest_changed = scim_of(okta.get(&format!("/Users/{id}")).await, StatusCode::OK).await;

    // The same userName again (and Okta's ignored password): no write, same version, same time.
    let same = scim_of(
        okta.patch(
            &format!("/Users/{id}"),
            json!([
                {"op": "replace", "path": "userName", "value": "lena@acme.example"},
                {"op": "replace", "value": {"password": "never stored"}},
            ]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["meta"], rest_changed["meta"]);
    let events = app.actions_on(id.parse().expect("uuid"));
    assert_eq!(events.iter().filter(|a| a.as_str() == "user.updated").count(), 1, "{events:?}");
}
