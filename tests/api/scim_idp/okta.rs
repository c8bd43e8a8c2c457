//! Okta's provisioning, request for request as developer.okta.com shows it ("SCIM 2.0 protocol
//! reference", "Build a SCIM provisioning integration"): it looks a user up by `userName` with
//! `startIndex=1&count=100` before creating it, sends the password it generated on create, updates
//! with PUT (the whole resource), deactivates with a path-less `replace` of `{"active": false}`,
//! and pushes groups with member lists. Okta sends `application/scim+json`; some integrations
//! send `application/json`, which is accepted too.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    Directory, GROUP, SCIM_JSON, USER, filtered, give_password_and_sign_in, resources, rest_user, scim,
    scim_error, scim_id, sorted, total, values_of,
};
use crate::helpers::{Actor, TestApp, problem};

const USER_NAME: &str = "test.user@okta.local";
const OKTA_PASSWORD: &str = "1mz050nq";

async fn connected() -> (TestApp, Actor, Directory) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let okta = Directory::connect(&app, &admin, "Okta Customer").await;
    (app, admin, okta)
}

/// The body of Okta's "Create the user" request.
fn okta_user() -> Value {
    json!({
        "schemas": [USER],
        "userName": USER_NAME,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": USER_NAME, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": OKTA_PASSWORD,
        "active": true
    })
}

fn with_start_and_count(filter: &str, collection: &str) -> String {
    filtered(&format!("{collection}?startIndex=1&count=100"), filter)
}

#[tokio::test]
async fn okta_looks_the_user_up_then_creates_it_with_a_password_that_is_never_kept() {
    let (app, admin, okta) = connected().await;
    let lookup = with_start_and_count(&format!("userName eq \"{USER_NAME}\""), "/Users");
    let before = okta.list(&lookup).await;
    assert_eq!(total(&before), 0, "{before}");

    // Okta's create, sent as plain JSON here (the issue: both media types are read).
    let response = okta.send_as(Method::POST, "/Users", &okta_user(), "application/json").await;
    let created = scim(response, StatusCode::CREATED).await;
    created.assert_created();
    let user = &created.body;
    assert_eq!(user["userName"], USER_NAME);
    assert_eq!(user["name"], json!({"givenName": "Test", "familyName": "User"}));
    assert_eq!(user["displayName"], "Test User");
    assert_eq!(user["emails"], okta_user()["emails"]);
    assert_eq!(user["locale"], "en-US", "an attribute without a column is kept as it was put");
    assert_eq!(user["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(user["active"], true);
    assert!(values_of(user, "groups").is_empty(), "groups are read-only and none yet: {user}");
    assert!(!user.to_string().contains(OKTA_PASSWORD), "the password is never echoed: {user}");

    let read = okta.read(&format!("/Users/{}", created.id())).await;
    assert_eq!(read.body, created.body);
    let after = okta.list(&lookup).await;
    assert_eq!(total(&after), 1, "{after}");
    assert_eq!(scim_id(&resources(&after)[0]), created.id());
    assert!(!after.to_string().contains(OKTA_PASSWORD));

    // Never stored: the person has no password and cannot sign in with Okta's.
    let rest = rest_user(&admin, okta.customer, "00ujl29u0le5T6Aj10h7").await;
    assert_eq!(rest["password_set"], false, "{rest}");
    problem(app.login(USER_NAME, OKTA_PASSWORD).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn okta_replaces_a_user_with_put_and_what_it_leaves_out_is_cleared() {
    let (_app, admin, okta) = connected().await;
    let mut body = okta_user();
    body["phoneNumbers"] = json!([{"value": "+49 40 123456", "type": "work"}]);
    body["title"] = json!("Dispatcher");
    let created = okta.create("/Users", &body).await;
    assert_eq!(created.body["phoneNumbers"], body["phoneNumbers"]);
    let id = created.id();
    let path = format!("/Users/{id}");

    // Okta's "Update a specific user (PUT)": the whole user, with its id, minus what was removed.
    let put = json!({
        "schemas": [USER],
        "id": id,
        "userName": USER_NAME,
        "name": {"givenName": "Another", "familyName": "User"},
        "emails": [{"primary": true, "value": USER_NAME, "type": "work"}],
        "displayName": "Another User",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": OKTA_PASSWORD,
        "active": true,
        "meta": {"resourceType": "User", "created": "2001-01-01T00:00:00Z"}
    });
    let replaced = scim(okta.put(&path, &put).await, StatusCode::OK).await;
    replaced.assert_resource();
    let user = &replaced.body;
    assert_eq!(user["id"], json!(id), "the id in a PUT body matching the path is ignored");
    assert_eq!(user["name"], json!({"givenName": "Another", "familyName": "User"}));
    assert_eq!(user["displayName"], "Another User");
    for cleared in ["locale", "phoneNumbers", "title"] {
        assert!(
            user.get(cleared).is_none_or(|v| v.is_null() || v == &json!([])),
            "{cleared} was left out of the PUT, so it is cleared: {user}"
        );
    }
    assert_eq!(user["meta"]["created"], created.body["meta"]["created"], "meta in a body is ignored");
    assert_ne!(replaced.etag(), created.etag());
    assert!(!user.to_string().contains(OKTA_PASSWORD));
    assert_eq!(okta.read(&path).await.body, replaced.body);
    // A PUT with `active: false` deactivates as a PATCH does.
    let mut inactive = put.clone();
    inactive["active"] = json!(false);
    let deactivated = scim(okta.put(&path, &inactive).await, StatusCode::OK).await;
    assert_eq!(deactivated.body["active"], false);
    assert_eq!(rest_user(&admin, okta.customer, "00ujl29u0le5T6Aj10h7").await["status"], "deactivated");
    // The password in the PUT is not kept either.
    assert_eq!(rest_user(&admin, okta.customer, "00ujl29u0le5T6Aj10h7").await["password_set"], false);
}

#[tokio::test]
async fn okta_deactivates_with_a_path_less_replace_which_ends_sessions_and_reactivates() {
    let (app, admin, okta) = connected().await;
    let created = okta.create("/Users", &okta_user()).await;
    let id = created.id();
    let path = format!("/Users/{id}");
    let rest = rest_user(&admin, okta.customer, "00ujl29u0le5T6Aj10h7").await;
    let session = give_password_and_sign_in(&app, &admin, &rest).await;
    assert_eq!(session.get("/v1/me").await.status(), StatusCode::OK);

    let deactivated = okta.patched(&path, json!([{"op": "replace", "value": {"active": false}}])).await;
    assert_eq!(deactivated.body["active"], false);
    assert_eq!(deactivated.body["userName"], USER_NAME, "the rest of the user stays");
    // Sessions end at once (the issue), the login is refused.
    problem(session.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    problem(session.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(app.login(&session.email, &session.password).await, StatusCode::UNAUTHORIZED).await;
    // Still there for GET and for filters.
    assert_eq!(okta.read(&path).await.body["active"], false);
    assert_eq!(okta.found(&filtered("/Users", "active eq false")).await, vec![id.clone()]);
    assert!(okta.found(&filtered("/Users", "active eq true")).await.is_empty());
    assert_eq!(rest_user(&admin, okta.customer, "00ujl29u0le5T6Aj10h7").await["status"], "deactivated");

    let reactivated = okta.patched(&path, json!([{"op": "replace", "value": {"active": true}}])).await;
    assert_eq!(reactivated.body["active"], true);
    assert_eq!(okta.found(&filtered("/Users", "active eq true")).await, vec![id]);
    assert_eq!(rest_user(&admin, okta.customer, "00ujl29u0le5T6Aj10h7").await["status"], "active");
    app.sign_in_again(&session).await;
}

#[tokio::test]
async fn okta_pushes_a_group_with_members_replaces_them_removes_one_and_renames_it() {
    let (_app, _admin, okta) = connected().await;
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cem"] {
        let email = format!("{name}@okta.local");
        ids.push(okta.create_user(&email, &email, name).await.id());
    }
    let (ann, bob, cem) = (&ids[0], &ids[1], &ids[2]);

    // Push: the group with its members, `display` as Okta sends it.
    let body = json!({
        "schemas": [GROUP],
        "displayName": "Test SCIMv2",
        "members": [
            {"value": ann, "display": "ann@okta.local"},
            {"value": bob, "display": "bob@okta.local"}
        ]
    });
    let created = okta.create("/Groups", &body).await;
    assert_eq!(created.values_of("members"), sorted(&[ann, bob]));
    // The members come back as they were put (the issue: writable attributes round-trip
    // byte-equal); a `$ref`, where one is given, names the user (RFC 7643 section 4.2).
    for member in created.body["members"].as_array().expect("members") {
        let value = member["value"].as_str().expect("value");
        assert!(body["members"].as_array().expect("sent").contains(member), "{member} as sent");
        if let Some(reference) = member["$ref"].as_str() {
            assert!(reference.ends_with(&format!("/scim/v2/Users/{value}")), "{member}");
        }
    }
    let path = format!("/Groups/{}", created.id());

    let lookup = with_start_and_count("displayName eq \"Test SCIMv2\"", "/Groups");
    let list = okta.list(&lookup).await;
    assert_eq!(total(&list), 1, "{list}");
    assert_eq!(values_of(&resources(&list)[0], "members"), sorted(&[ann, bob]));

    // `replace` of members replaces them all.
    let replaced = okta
        .patched(
            &path,
            json!([{"op": "replace", "path": "members", "value": [{"value": cem, "display": "cem@okta.local"}]}]),
        )
        .await;
    assert_eq!(replaced.values_of("members"), vec![cem.clone()]);
    assert!(okta.read(&format!("/Users/{ann}")).await.values_of("groups").is_empty());
    assert_eq!(okta.read(&format!("/Users/{cem}")).await.values_of("groups"), vec![created.id()]);

    // `add` puts more in; `remove` with a value filter takes exactly one out.
    let added = okta
        .patched(
            &path,
            json!([{"op": "add", "path": "members", "value": [{"value": ann, "display": "ann@okta.local"}]}]),
        )
        .await;
    assert_eq!(added.values_of("members"), sorted(&[ann, cem]));
    let removed =
        okta.patched(&path, json!([{"op": "remove", "path": format!("members[value eq \"{cem}\"]")}])).await;
    assert_eq!(removed.values_of("members"), vec![ann.clone()]);

    // Rename: a path-less replace naming the group's id and its new name.
    let renamed = okta
        .patched(
            &path,
            json!([{"op": "replace", "value": {"id": created.id(), "displayName": "Renamed by Okta"}}]),
        )
        .await;
    assert_eq!(renamed.body["displayName"], "Renamed by Okta");
    assert_eq!(renamed.id(), created.id());
    assert_eq!(renamed.values_of("members"), vec![ann.clone()], "a rename keeps the members");
    assert!(okta.found(&lookup).await.is_empty());
    let found = okta.found(&with_start_and_count("displayName eq \"Renamed by Okta\"", "/Groups")).await;
    assert_eq!(found, vec![created.id()]);

    // Okta's group list without members.
    let list = okta.list("/Groups?excludedAttributes=members&startIndex=1&count=100").await;
    assert_eq!(total(&list), 1, "{list}");
    assert!(resources(&list).iter().all(|g| g.get("members").is_none()), "{list}");
    assert_eq!(resources(&list)[0]["displayName"], "Renamed by Okta");

    // Okta's older "Update a specific group name" is a PUT of the whole group: members as sent.
    let put = json!({
        "schemas": [GROUP],
        "id": created.id(),
        "displayName": "Test SCIMv2",
        "members": [{"value": bob, "display": "bob@okta.local"}]
    });
    let replaced = scim(okta.put(&path, &put).await, StatusCode::OK).await;
    replaced.assert_resource();
    assert_eq!(replaced.body["displayName"], "Test SCIMv2");
    assert_eq!(replaced.values_of("members"), vec![bob.clone()]);
    assert_eq!(okta.read(&path).await.body, replaced.body);
}

#[tokio::test]
async fn okta_creating_a_taken_user_name_or_e_mail_is_a_409_uniqueness() {
    let (_app, _admin, okta) = connected().await;
    let first = okta.create("/Users", &okta_user()).await;
    // The same userName, also in another case (unique per customer, case-insensitive).
    for user_name in [USER_NAME.to_owned(), USER_NAME.to_uppercase()] {
        let mut body = okta_user();
        body["userName"] = json!(user_name);
        body["externalId"] = json!("another-okta-id");
        body["emails"] = json!([{"primary": true, "value": "someone.else@okta.local", "type": "work"}]);
        let error =
            scim_error(okta.post("/Users", &body).await, StatusCode::CONFLICT, Some("uniqueness")).await;
        assert_eq!(error["status"], "409");
    }
    // Renaming another user onto it, in another case: the same 409.
    let other = okta.create_user("other.user", "other.user@okta.local", "other").await;
    let ops = json!([{"op": "replace", "path": "userName", "value": USER_NAME.to_uppercase()}]);
    let path = format!("/Users/{}", other.id());
    scim_error(okta.patch(&path, ops).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_eq!(okta.read(&path).await.body["userName"], "other.user");
    okta.delete(&path).await;
    // Another userName with an e-mail in use.
    let mut body = okta_user();
    body["userName"] = json!("another.user");
    body["externalId"] = json!("another-okta-id");
    scim_error(okta.post("/Users", &body).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    // Nothing was made.
    let all = okta.list("/Users").await;
    assert_eq!(total(&all), 1, "{all}");
    assert_eq!(scim_id(&resources(&all)[0]), first.id());
}

#[tokio::test]
async fn okta_pages_users_with_start_index_and_count() {
    let (_app, _admin, okta) = connected().await;
    let mut made = Vec::new();
    for name in ["ann", "bob", "cem"] {
        let email = format!("{name}@okta.local");
        made.push(okta.create_user(&email, &email, name).await.id());
    }
    let first = okta.list("/Users?startIndex=1&count=2").await;
    assert_eq!(total(&first), 3, "{first}");
    assert_eq!(first["startIndex"], 1);
    assert_eq!(first["itemsPerPage"], 2);
    let second = okta.list("/Users?startIndex=3&count=2").await;
    assert_eq!(total(&second), 3, "{second}");
    assert_eq!(second["startIndex"], 3);
    assert_eq!(resources(&second).len(), 1);
    let mut seen: Vec<String> =
        resources(&first).iter().chain(resources(&second).iter()).map(scim_id).collect();
    seen.sort();
    made.sort();
    assert_eq!(seen, made, "the pages together are every user once");
    // A startIndex below 1 is 1; a negative count is 0 (RFC 7644 section 3.4.2.4).
    let from_zero = okta.list("/Users?startIndex=0&count=2").await;
    assert_eq!(from_zero["startIndex"], 1, "{from_zero}");
    assert_eq!(resources(&from_zero), resources(&first));
    let negative = okta.list("/Users?count=-1").await;
    assert_eq!(total(&negative), 3);
    assert!(resources(&negative).is_empty(), "{negative}");
    // `count=0`: the total and no resources (RFC 7644 section 3.4.2.4).
    let counted = okta.list("/Users?count=0").await;
    assert_eq!(total(&counted), 3);
    assert!(resources(&counted).is_empty(), "{counted}");
    // Okta's lookup shape on a page of its own.
    let content_type = okta.get("/Users?startIndex=1&count=100").await;
    let answer = scim(content_type, StatusCode::OK).await;
    assert_eq!(total(&answer.body), 3);
    assert!(
        answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with(SCIM_JSON))
    );
}

#[tokio::test]
async fn okta_deleting_a_user_ends_its_sessions() {
    let (app, admin, okta) = connected().await;
    let created = okta.create("/Users", &okta_user()).await;
    let rest = rest_user(&admin, okta.customer, "00ujl29u0le5T6Aj10h7").await;
    let session = give_password_and_sign_in(&app, &admin, &rest).await;
    let response = okta.delete(&format!("/Users/{}", created.id())).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    problem(session.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    problem(session.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(app.login(&session.email, &session.password).await, StatusCode::UNAUTHORIZED).await;
}
