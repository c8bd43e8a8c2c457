//! Microsoft Entra ID's provisioning service, request for request as Microsoft Learn shows it in
//! "Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID" (sections
//! "User operations" and "Group operations") and in "Known issues and resolutions with SCIM 2.0
//! protocol compliance" (the legacy shapes Entra still sends without `?aadOptscim062020`).
//! Entra sends `application/scim+json`; its ids in the examples (`48af03ac28ad4fb88478`) are
//! the service's own, so these tests use the ids the service answers with.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    Directory, ENTERPRISE, GROUP, SCIM_JSON, USER, filtered, resources, rest_user, scim, scim_error, scim_id,
    sorted, total, user_body, values_of,
};
use crate::helpers::TestApp;

const USER_NAME: &str = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
const EMAIL: &str = "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com";
const EXTERNAL_ID: &str = "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef";

async fn connected() -> (TestApp, crate::helpers::Actor, Directory) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Contoso").await;
    (app, admin, entra)
}

#[tokio::test]
async fn entra_test_connection_asks_for_a_random_user_and_gets_an_empty_list() {
    let (_app, _admin, entra) = connected().await;
    // "Test Connection" in the Entra admin center: a filter on a userName nobody has must be a
    // 200 with no results, never a 404 or a 400.
    let random = Uuid::new_v4().to_string();
    for path in [
        filtered("/Users", &format!("userName eq \"{random}\"")),
        filtered("/Users?aadOptscim062020", &format!("userName eq \"{random}\"")),
        filtered("/Users?aadOptscim062020=true", &format!("userName eq \"{random}\"")),
        // `+` for a space, as form encoding writes it.
        format!("/Users?filter=userName+eq+%22{random}%22"),
    ] {
        let list = entra.list(&path).await;
        assert_eq!(total(&list), 0, "{path}: {list}");
        assert!(resources(&list).is_empty(), "{list}");
    }
}

#[tokio::test]
async fn entra_creates_a_user_then_reads_it_by_id_by_user_name_and_by_external_id() {
    let (_app, admin, entra) = connected().await;
    let body = user_body(USER_NAME, EMAIL, EXTERNAL_ID);
    assert_eq!(body["schemas"], json!([USER, ENTERPRISE]));
    let created = entra.create("/Users", &body).await;
    let user = &created.body;
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(user["userName"], USER_NAME);
    assert_eq!(user["externalId"], EXTERNAL_ID);
    assert_eq!(user["active"], true);
    // What the client put comes back as it put it (the issue: "a GET returns what was put").
    assert_eq!(user["emails"], body["emails"]);
    assert_eq!(user["name"], body["name"]);
    let id = created.id();

    // Get User.
    let read = entra.read(&format!("/Users/{id}")).await;
    assert_eq!(read.body, created.body, "a GET returns what the POST answered");
    assert_eq!(read.etag(), created.etag());

    // Get User by query: userName, and (caseExact false, RFC 7643 4.1.1) in another case.
    for name in [USER_NAME.to_owned(), USER_NAME.to_uppercase()] {
        let list = entra.list(&filtered("/Users", &format!("userName eq \"{name}\""))).await;
        assert_eq!(total(&list), 1, "{list}");
        assert_eq!(resources(&list)[0], read.body, "the listed user is the user");
    }
    // Get User by query - zero results.
    let none = entra.list(&filtered("/Users", "userName eq \"non-existent user\"")).await;
    assert_eq!(total(&none), 0, "{none}");
    // By the external id (Entra matches on it when it is the matching attribute).
    let found = entra.found(&filtered("/Users", &format!("externalId eq \"{EXTERNAL_ID}\""))).await;
    assert_eq!(found, vec![id.clone()]);
    assert!(entra.found(&filtered("/Users", "externalId eq \"someone-else\"")).await.is_empty());

    // The person exists for the customer: the REST view, its login being the work e-mail.
    let rest = rest_user(&admin, entra.customer, EXTERNAL_ID).await;
    assert_eq!(rest["email"].as_str().map(str::to_lowercase), Some(EMAIL.to_lowercase()));
    assert_eq!(rest["status"], "active");
}

#[tokio::test]
async fn entra_updates_multi_valued_and_single_valued_attributes() {
    let (_app, admin, entra) = connected().await;
    let created = entra.create_user(USER_NAME, EMAIL, EXTERNAL_ID).await;
    let path = format!("/Users/{}", created.id());

    // Update User [Multi-valued properties].
    let patched = entra
        .patched(
            &path,
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
            ]),
        )
        .await;
    let user = &patched.body;
    assert_eq!(
        user["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(user["name"]["familyName"], "updatedFamilyName");
    assert_eq!(user["name"]["givenName"], "givenName", "what the patch does not name stays");
    assert_eq!(user["userName"], USER_NAME);
    assert_ne!(patched.etag(), created.etag(), "a change is a new version");
    assert_eq!(entra.read(&path).await.body, patched.body, "the PATCH answer is the resource");
    let rest = rest_user(&admin, entra.customer, EXTERNAL_ID).await;
    assert_eq!(rest["email"].as_str().map(str::to_lowercase).as_deref(), Some("updatedemail@microsoft.com"));

    // Update User [Single-valued properties].
    let renamed = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com";
    let patched =
        entra.patched(&path, json!([{"op": "Replace", "path": "userName", "value": renamed}])).await;
    assert_eq!(patched.body["userName"], renamed);
    assert_eq!(patched.body["emails"][0]["value"], "updatedEmail@microsoft.com");
    let found = entra.found(&filtered("/Users", &format!("userName eq \"{renamed}\""))).await;
    assert_eq!(found, vec![created.id()]);
    assert!(entra.found(&filtered("/Users", &format!("userName eq \"{USER_NAME}\""))).await.is_empty());
}

#[tokio::test]
async fn entra_disables_a_user_with_a_boolean_or_with_the_legacy_string_and_it_stays_visible() {
    let (_app, admin, entra) = connected().await;
    let created = entra.create_user(USER_NAME, EMAIL, EXTERNAL_ID).await;
    let id = created.id();
    let path = format!("/Users/{id}");
    let inactive = filtered("/Users", "active eq false");

    // Disable User.
    let disabled = entra.patched(&path, json!([{"op": "Replace", "path": "active", "value": false}])).await;
    assert_eq!(disabled.body["active"], false);
    // Deactivated users stay visible to GET and to filters (the issue).
    assert_eq!(entra.read(&path).await.body["active"], false);
    assert_eq!(entra.found(&inactive).await, vec![id.clone()]);
    assert_eq!(
        entra.found(&filtered("/Users", &format!("userName eq \"{USER_NAME}\""))).await,
        vec![id.clone()]
    );
    assert_eq!(rest_user(&admin, entra.customer, EXTERNAL_ID).await["status"], "deactivated");

    // The legacy shapes: `"True"` / `"False"` strings for booleans.
    let enabled = entra.patched(&path, json!([{"op": "Replace", "path": "active", "value": "True"}])).await;
    assert_eq!(enabled.body["active"], true);
    assert!(entra.found(&inactive).await.is_empty());
    assert_eq!(rest_user(&admin, entra.customer, EXTERNAL_ID).await["status"], "active");
    let disabled = entra.patched(&path, json!([{"op": "Replace", "path": "active", "value": "False"}])).await;
    assert_eq!(disabled.body["active"], false, "\"False\" is false");
    assert_eq!(entra.found(&inactive).await, vec![id]);
    assert_eq!(rest_user(&admin, entra.customer, EXTERNAL_ID).await["status"], "deactivated");
}

#[tokio::test]
async fn entra_legacy_path_less_replace_with_dotted_and_urn_keys_and_the_opt_in_flag() {
    let (_app, _admin, entra) = connected().await;
    let created = entra.create_user(USER_NAME, EMAIL, EXTERNAL_ID).await;
    // `?aadOptscim062020` is appended by tenants that opted in to the compliant behaviour;
    // unknown query parameters are ignored.
    let path = format!("/Users/{}?aadOptscim062020", created.id());
    let department = format!("{ENTERPRISE}:department");
    let patched = entra
        .patched(
            &path,
            json!([{
                "op": "Replace",
                "value": {
                    "displayName": "Tom Tester",
                    "name.givenName": "Tom",
                    "name.familyName": "Tester",
                    department.clone(): "Tour Guide",
                    "active": "False"
                }
            }]),
        )
        .await;
    let user = &patched.body;
    assert_eq!(user["displayName"], "Tom Tester");
    assert_eq!(user["name"]["givenName"], "Tom");
    assert_eq!(user["name"]["familyName"], "Tester");
    assert_eq!(user["name"]["formatted"], "givenName familyName", "an attribute not named stays");
    assert_eq!(user[ENTERPRISE]["department"], "Tour Guide", "the extension's key lands in the extension");
    assert_eq!(user["active"], false);
    assert!(user.get("name.givenName").is_none() && user.get(&department).is_none(), "{user}");
    // The known-issues page's own pair: the legacy `Add` with a path and the compliant path-less
    // `add`, of nickName.
    let legacy = entra.patched(&path, json!([{"op": "Add", "path": "nickName", "value": "Babs"}])).await;
    assert_eq!(legacy.body["nickName"], "Babs");
    let compliant = entra.patched(&path, json!([{"op": "add", "value": {"nickName": "Barbara"}}])).await;
    assert_eq!(compliant.body["nickName"], "Barbara");
    // `Add` on a single-valued attribute replaces it (RFC 7644 section 3.5.2.1).
    let added =
        entra.patched(&path, json!([{"op": "Add", "path": "name.givenName", "value": "Thomas"}])).await;
    assert_eq!(added.body["name"]["givenName"], "Thomas");
    let read = entra.read(&format!("/Users/{}", created.id())).await;
    assert_eq!(read.body, added.body);
    assert_eq!(read.body[ENTERPRISE]["department"], "Tour Guide");
}

#[tokio::test]
async fn entra_deletes_a_user_and_it_is_gone() {
    let (_app, admin, entra) = connected().await;
    let created = entra.create_user(USER_NAME, EMAIL, EXTERNAL_ID).await;
    let path = format!("/Users/{}", created.id());
    let group = entra.create_group("Drivers", &[&created.id()]).await;
    let group_path = format!("/Groups/{}", group.id());
    let response = entra.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.text().await.expect("body").is_empty(), "204 has no body");
    scim_error(entra.get(&path).await, StatusCode::NOT_FOUND, None).await;
    scim_error(entra.delete(&path).await, StatusCode::NOT_FOUND, None).await;
    assert!(entra.found(&filtered("/Users", &format!("userName eq \"{USER_NAME}\""))).await.is_empty());
    assert!(entra.read(&group_path).await.values_of("members").is_empty(), "no longer a member");
    let rest = format!("/v1/customers/{}/users/by-external-id/{EXTERNAL_ID}", entra.customer);
    assert_eq!(admin.get(&rest).await.status(), StatusCode::NOT_FOUND, "removed like the REST DELETE");
    // Entra provisions the person again later (re-assigned): the same userName, e-mail and
    // external id are free again.
    let again = entra.create_user(USER_NAME, EMAIL, EXTERNAL_ID).await;
    assert_ne!(again.id(), created.id());
    assert_eq!(
        entra.found(&filtered("/Users", &format!("userName eq \"{USER_NAME}\""))).await,
        vec![again.id()]
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_scim_404s_with_the_status_as_a_string() {
    let (_app, _admin, entra) = connected().await;
    // A random UUID, and an id of the shape Entra's examples show (not a UUID: still a 404).
    for id in [Uuid::new_v4().to_string(), "48af03ac28ad4fb88478".to_owned()] {
        for collection in ["/Users", "/Groups"] {
            let path = format!("{collection}/{id}");
            let error = scim_error(entra.get(&path).await, StatusCode::NOT_FOUND, None).await;
            assert_eq!(error["status"], "404");
            scim_error(entra.delete(&path).await, StatusCode::NOT_FOUND, None).await;
            let ops = json!([{"op": "Replace", "path": "displayName", "value": "x"}]);
            scim_error(entra.patch(&path, ops).await, StatusCode::NOT_FOUND, None).await;
        }
    }
}

#[tokio::test]
async fn entra_creates_a_group_and_reads_it_without_members() {
    let (_app, _admin, entra) = connected().await;
    let body = json!({
        "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"}
    });
    let created = entra.create("/Groups", &body).await;
    let group = &created.body;
    assert_eq!(group["meta"]["resourceType"], "Group");
    assert_eq!(group["displayName"], "displayName");
    assert_eq!(group["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
    assert!(values_of(group, "members").is_empty(), "no members yet: {group}");
    let id = created.id();

    // Get Group.
    let read = entra.read(&format!("/Groups/{id}?excludedAttributes=members")).await;
    assert!(read.body.get("members").is_none(), "members excluded: {}", read.body);
    assert_eq!(read.body["displayName"], "displayName");
    assert_eq!(read.body["externalId"], group["externalId"]);
    // Get Group by displayName.
    let list =
        entra.list(&filtered("/Groups?excludedAttributes=members", "displayName eq \"displayName\"")).await;
    assert_eq!(total(&list), 1, "{list}");
    let listed = &resources(&list)[0];
    assert_eq!(scim_id(listed), id);
    assert!(listed.get("members").is_none(), "{listed}");
    assert!(entra.found(&filtered("/Groups", "displayName eq \"another\"")).await.is_empty());
    let by_external = filtered("/Groups", "externalId eq \"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\"");
    assert_eq!(entra.found(&by_external).await, vec![id]);
}

#[tokio::test]
async fn entra_renames_a_group_and_adds_and_removes_members_in_every_shape_it_sends() {
    let (_app, admin, entra) = connected().await;
    let ann = entra.create_user("ann@contoso.example", "ann@contoso.example", "ann").await.id();
    let bob = entra.create_user("bob@contoso.example", "bob@contoso.example", "bob").await.id();
    let body = json!({"schemas": [GROUP], "externalId": "g-1", "displayName": "displayName", "meta": {"resourceType": "Group"}});
    let group = entra.create("/Groups", &body).await;
    let path = format!("/Groups/{}", group.id());

    // Update Group [Non-member attributes].
    let renamed = "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName";
    let patched =
        entra.patched(&path, json!([{"op": "Replace", "path": "displayName", "value": renamed}])).await;
    assert_eq!(patched.body["displayName"], renamed);
    assert_eq!(entra.read(&path).await.body["displayName"], renamed);
    // The customer's group is renamed (what the portal and the REST API show).
    let groups = admin.list(&format!("/v1/customers/{}/groups", entra.customer)).await;
    assert_eq!(groups.iter().filter(|g| g["name"] == renamed).count(), 1, "{groups:?}");

    // Update Group [Add Members].
    let patched = entra
        .patched(
            &path,
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": ann}, {"$ref": null, "value": bob}]}]),
        )
        .await;
    assert_eq!(patched.values_of("members"), sorted(&[&ann, &bob]));
    assert_eq!(entra.read(&path).await.values_of("members"), sorted(&[&ann, &bob]));
    // The users' read-only `groups` say so.
    for user in [&ann, &bob] {
        assert_eq!(entra.read(&format!("/Users/{user}")).await.values_of("groups"), vec![group.id()]);
    }
    let by_member = entra.found(&filtered("/Groups", &format!("members.value eq \"{ann}\""))).await;
    assert_eq!(by_member, vec![group.id()]);
    // Adding a member twice links it once.
    let again = entra
        .patched(&path, json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": ann}]}]))
        .await;
    assert_eq!(again.values_of("members"), sorted(&[&ann, &bob]));

    // Update Group [Remove Members], the legacy form with a value list.
    let patched = entra
        .patched(&path, json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": ann}]}]))
        .await;
    assert_eq!(patched.values_of("members"), vec![bob.clone()]);
    assert!(entra.read(&format!("/Users/{ann}")).await.values_of("groups").is_empty());
    assert!(entra.found(&filtered("/Groups", &format!("members.value eq \"{ann}\""))).await.is_empty());
    // ... and the compliant form with a value filter in the path.
    let patched =
        entra.patched(&path, json!([{"op": "Remove", "path": format!("members[value eq \"{bob}\"]")}])).await;
    assert!(patched.values_of("members").is_empty(), "{}", patched.body);

    // A `Remove` of members without a value clears them all.
    entra
        .patched(&path, json!([{"op": "Add", "path": "members", "value": [{"value": ann}, {"value": bob}]}]))
        .await;
    let cleared = entra.patched(&path, json!([{"op": "Remove", "path": "members"}])).await;
    assert!(cleared.values_of("members").is_empty(), "{}", cleared.body);
    assert!(entra.read(&path).await.values_of("members").is_empty());
    for user in [&ann, &bob] {
        assert!(entra.read(&format!("/Users/{user}")).await.values_of("groups").is_empty());
    }
}

#[tokio::test]
async fn entra_deletes_a_group_and_its_members_stay() {
    let (_app, _admin, entra) = connected().await;
    let ann = entra.create_user("ann@contoso.example", "ann@contoso.example", "ann").await.id();
    let group = entra.create_group("Drivers", &[&ann]).await;
    let path = format!("/Groups/{}", group.id());
    assert_eq!(group.values_of("members"), vec![ann.clone()]);
    let response = entra.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    scim_error(entra.get(&path).await, StatusCode::NOT_FOUND, None).await;
    assert!(entra.found(&filtered("/Groups", "displayName eq \"Drivers\"")).await.is_empty());
    let user = entra.read(&format!("/Users/{ann}")).await;
    assert!(user.values_of("groups").is_empty(), "{}", user.body);
}

#[tokio::test]
async fn entra_lowercase_or_capitalised_ops_and_both_content_types_are_understood() {
    let (_app, _admin, entra) = connected().await;
    let created = entra.create_user(USER_NAME, EMAIL, EXTERNAL_ID).await;
    let path = format!("/Users/{}", created.id());
    for (op, name, content_type) in [
        ("replace", "One", SCIM_JSON),
        ("REPLACE", "Two", "application/json"),
        ("Replace", "Three", SCIM_JSON),
    ] {
        let body = super::patch_op(json!([{"op": op, "path": "displayName", "value": name}]));
        let response = entra.send_as(Method::PATCH, &path, &body, content_type).await;
        let patched = scim(response, StatusCode::OK).await;
        assert_eq!(patched.body["displayName"], name, "op {op} as {content_type}");
    }
    // Attribute names in any case (RFC 7643 section 2.1: case-insensitive).
    let patched =
        entra.patched(&path, json!([{"op": "replace", "path": "DisplayName", "value": "Four"}])).await;
    assert_eq!(patched.body["displayName"], "Four");
    let found: Vec<Value> =
        resources(&entra.list(&filtered("/Users", &format!("USERNAME EQ \"{USER_NAME}\""))).await);
    assert_eq!(found.iter().map(scim_id).collect::<Vec<_>>(), vec![created.id()]);
}

#[tokio::test]
async fn entra_sends_the_enterprise_extension_and_gets_it_back_as_sent() {
    let (_app, _admin, entra) = connected().await;
    // RFC 7643 section 8.3's enterprise user, as Entra maps employeeId and department.
    let mut body = user_body(USER_NAME, EMAIL, EXTERNAL_ID);
    body[ENTERPRISE] = json!({"employeeNumber": "701984", "department": "Tour Operations"});
    body["displayName"] = json!("Babs Jensen");
    let created = entra.create("/Users", &body).await;
    assert_eq!(created.body[ENTERPRISE], body[ENTERPRISE], "{}", created.body);
    let schemas = created.body["schemas"].as_array().expect("schemas");
    assert!(schemas.contains(&json!(ENTERPRISE)), "the extension's URN is listed: {}", created.body);
    let path = format!("/Users/{}", created.id());
    // Entra's update of one extension attribute, by its URN path.
    let patched = entra
        .patched(
            &path,
            json!([{"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Finance"}]),
        )
        .await;
    assert_eq!(patched.body[ENTERPRISE], json!({"employeeNumber": "701984", "department": "Finance"}));
    assert_eq!(entra.read(&path).await.body, patched.body);
}

#[tokio::test]
async fn entra_adds_and_removes_members_in_one_request_and_in_parallel_requests() {
    let (_app, _admin, entra) = connected().await;
    let mut users = Vec::new();
    for n in 0..12 {
        let email = format!("member{n}@contoso.example");
        users.push(entra.create_user(&email, &email, &format!("m{n}")).await.id());
    }
    let group = entra.create_group("Parallel", &[&users[0]]).await;
    let path = format!("/Groups/{}", group.id());
    // One request, two operations, applied in order (RFC 7644 section 3.5.2).
    let both = entra
        .patched(
            &path,
            json!([
                {"op": "Add", "path": "members", "value": [{"value": users[1]}]},
                {"op": "Remove", "path": "members", "value": [{"value": users[0]}]}
            ]),
        )
        .await;
    assert_eq!(both.values_of("members"), vec![users[1].clone()]);
    // The provisioning service sends membership changes for one group concurrently: none is lost.
    let requests: Vec<_> = users[2..]
        .iter()
        .map(|user| {
            let ops = json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": user}]}]);
            let body = super::patch_op(ops).to_string();
            tokio::spawn(
                entra.request(Method::PATCH, &path).header("content-type", SCIM_JSON).body(body).send(),
            )
        })
        .collect();
    for request in requests {
        let response = request.await.expect("ran").expect("a response");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let members = entra.read(&path).await.values_of("members");
    let expected: Vec<&str> = users[1..].iter().map(String::as_str).collect();
    assert_eq!(members, sorted(&expected), "every concurrent add is kept");
}

#[tokio::test]
async fn entra_creating_the_same_user_twice_at_once_makes_one_and_a_409() {
    let (_app, _admin, entra) = connected().await;
    let body = user_body(USER_NAME, EMAIL, EXTERNAL_ID).to_string();
    let requests: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(
                entra
                    .request(Method::POST, "/Users")
                    .header("content-type", SCIM_JSON)
                    .body(body.clone())
                    .send(),
            )
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        let response = request.await.expect("ran").expect("a response");
        let status = response.status();
        if status == StatusCode::CONFLICT {
            scim_error(response, status, Some("uniqueness")).await;
        }
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(
        statuses,
        vec![StatusCode::CREATED, StatusCode::CONFLICT, StatusCode::CONFLICT, StatusCode::CONFLICT],
        "one is made, the others are told it exists (never a 500)"
    );
    assert_eq!(total(&entra.list("/Users").await), 1);
}

#[tokio::test]
async fn a_taken_external_id_is_a_409() {
    let (_app, _admin, entra) = connected().await;
    entra.create_user(USER_NAME, EMAIL, EXTERNAL_ID).await;
    // The externalId is the person's external_id, which is unique within the customer.
    let body = user_body("someone-else", "someone.else@testuser.com", EXTERNAL_ID);
    scim_error(entra.post("/Users", &body).await, StatusCode::CONFLICT, None).await;
    assert_eq!(total(&entra.list("/Users").await), 1);
}
