//! What the issue asks of the protocol beyond the providers' examples, as RFC 7644 defines it:
//! the filter operators the issue lists, `attributes`/`excludedAttributes`, conditional requests
//! (the ServiceProviderConfig says `etag` is supported), `null` and `remove` unassigning, unique
//! group names, audit with the client as actor, and a conformance run's burst not being limited.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    Directory, GROUP, SCIM_JSON, USER, filtered, resources, rest_user, scim, scim_error, scim_id, sorted,
    total,
};
use crate::helpers::{Actor, TestApp, id_of, json_of};

async fn connected() -> (TestApp, Actor, Directory) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let directory = Directory::connect(&app, &admin, "Acme").await;
    (app, admin, directory)
}

/// ann (active, external id), bob (deactivated, external id), cem (active, no external id); their
/// ids in that order.
async fn three_people(directory: &Directory) -> (String, String, String) {
    let ann = directory.create_user("ann", "ann@acme.example", "ext-ann").await.id();
    let bob = directory.create_user("bob", "bob@acme.example", "ext-bob").await.id();
    let body = json!({"schemas": [USER], "userName": "cem", "emails": [{"value": "cem@acme.example", "type": "home"}], "active": true});
    let cem = directory.create("/Users", &body).await.id();
    directory
        .patched(&format!("/Users/{bob}"), json!([{"op": "replace", "path": "active", "value": false}]))
        .await;
    (ann, bob, cem)
}

#[tokio::test]
async fn user_filters_take_every_operator_the_issue_lists_in_any_case() {
    let (_app, _admin, directory) = connected().await;
    let (ann, bob, cem) = three_people(&directory).await;
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("userName eq \"ann\"".into(), vec![&ann]),
        ("userName ne \"ann\"".into(), vec![&bob, &cem]),
        ("userName co \"o\"".into(), vec![&bob]),
        ("userName sw \"c\"".into(), vec![&cem]),
        ("externalId pr".into(), vec![&ann, &bob]),
        ("not (externalId pr)".into(), vec![&cem]),
        ("userName eq \"ann\" or userName eq \"cem\"".into(), vec![&ann, &cem]),
        ("(userName eq \"ann\" or userName eq \"bob\") and active eq true".into(), vec![&ann]),
        ("active eq false".into(), vec![&bob]),
        (format!("id eq \"{cem}\""), vec![&cem]),
        ("emails.value eq \"bob@acme.example\"".into(), vec![&bob]),
        ("emails[type eq \"work\"].value eq \"ann@acme.example\"".into(), vec![&ann]),
        // cem's only e-mail is a home one.
        ("emails[type eq \"work\"].value eq \"cem@acme.example\"".into(), vec![]),
        ("emails.value eq \"cem@acme.example\"".into(), vec![&cem]),
        // Operators and attribute names in any case; string values compared caseExact false.
        ("USERNAME EQ \"ANN\"".into(), vec![&ann]),
        // (The literal `false` stays lowercase: RFC 7644 section 3.4.2.2 takes JSON literals.)
        ("username Sw \"B\" AND Active Eq false".into(), vec![&bob]),
    ];
    for (filter, expected) in cases {
        let mut found = directory.found(&filtered("/Users", &filter)).await;
        found.sort();
        assert_eq!(found, sorted(&expected), "filter {filter}");
    }
    // What the issue does not list is a 400 invalidFilter, never a silent empty list.
    for filter in [
        "title eq \"x\"",
        "userName gt \"a\"",
        "userName eq",
        "userName eq \"ann\" and",
        "(userName eq \"ann\"",
    ] {
        let response = directory.get(&filtered("/Users", filter)).await;
        scim_error(response, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
    }
}

#[tokio::test]
async fn group_filters_on_display_name_external_id_and_members() {
    let (_app, _admin, directory) = connected().await;
    let (ann, bob, _cem) = three_people(&directory).await;
    let body = json!({"schemas": [GROUP], "displayName": "North depot", "externalId": "g-north", "members": [{"value": ann}]});
    let north = directory.create("/Groups", &body).await.id();
    let south = directory.create_group("South depot", &[&ann, &bob]).await.id();
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("displayName eq \"North depot\"".into(), vec![&north]),
        ("displayName co \"depot\"".into(), vec![&north, &south]),
        ("displayName sw \"S\"".into(), vec![&south]),
        ("externalId eq \"g-north\"".into(), vec![&north]),
        (format!("members.value eq \"{ann}\""), vec![&north, &south]),
        (format!("members.value eq \"{bob}\""), vec![&south]),
        (format!("members.value eq \"{bob}\" or displayName eq \"North depot\""), vec![&north, &south]),
        (format!("not (members.value eq \"{bob}\")"), vec![&north]),
    ];
    for (filter, expected) in cases {
        let mut found = directory.found(&filtered("/Groups", &filter)).await;
        found.sort();
        assert_eq!(found, sorted(&expected), "filter {filter}");
    }
}

#[tokio::test]
async fn attributes_and_excluded_attributes_shape_what_is_returned() {
    let (_app, _admin, directory) = connected().await;
    let id = directory.create_user("ann", "ann@acme.example", "ext-ann").await.id();
    for path in [format!("/Users/{id}?attributes=userName"), "/Users?attributes=userName".to_owned()] {
        let body = scim(directory.get(&path).await, StatusCode::OK).await.body;
        let user = if body.get("Resources").is_some() { resources(&body)[0].clone() } else { body };
        assert_eq!(user["id"], json!(id), "id is always returned: {user}");
        assert_eq!(user["userName"], "ann");
        for left_out in ["emails", "name", "externalId", "active"] {
            assert!(user.get(left_out).is_none(), "{path}: only what was asked for, not {left_out}: {user}");
        }
    }
    let path = format!("/Users/{id}?excludedAttributes=emails,name");
    let user = scim(directory.get(&path).await, StatusCode::OK).await.body;
    assert!(user.get("emails").is_none() && user.get("name").is_none(), "{user}");
    assert_eq!(user["userName"], "ann");
    assert_eq!(user["externalId"], "ext-ann");
}

#[tokio::test]
async fn etags_make_reads_and_writes_conditional_as_the_service_provider_config_says() {
    let (_app, _admin, directory) = connected().await;
    let config = scim(directory.get("/ServiceProviderConfig").await, StatusCode::OK).await.body;
    assert_eq!(config["etag"]["supported"], true, "this service says it supports ETags: {config}");
    let created = directory.create_user("ann", "ann@acme.example", "ext-ann").await;
    let path = format!("/Users/{}", created.id());
    let old = created.etag();

    // If-None-Match with the current version: 304 (RFC 7644 section 3.14).
    let response =
        directory.request(Method::GET, &path).header("if-none-match", &old).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    // If-Match with the current version: the write happens.
    let body = super::patch_op(json!([{"op": "replace", "path": "displayName", "value": "Ann"}]));
    let response = directory
        .request(Method::PATCH, &path)
        .header("content-type", SCIM_JSON)
        .header("if-match", &old)
        .body(body.to_string())
        .send()
        .await
        .expect("patch");
    let patched = scim(response, StatusCode::OK).await;
    assert_ne!(patched.etag(), old);
    // With the old one now: 412, nothing changes.
    let body = super::patch_op(json!([{"op": "replace", "path": "displayName", "value": "Lost update"}]));
    let response = directory
        .request(Method::PATCH, &path)
        .header("content-type", SCIM_JSON)
        .header("if-match", &old)
        .body(body.to_string())
        .send()
        .await
        .expect("patch");
    scim_error(response, StatusCode::PRECONDITION_FAILED, None).await;
    let response =
        directory.request(Method::DELETE, &path).header("if-match", &old).send().await.expect("delete");
    scim_error(response, StatusCode::PRECONDITION_FAILED, None).await;
    let read = directory.read(&path).await;
    assert_eq!(read.body["displayName"], "Ann");
    // If-None-Match with an old version: the resource, 200.
    let response =
        directory.request(Method::GET, &path).header("if-none-match", &old).send().await.expect("get");
    assert_eq!(scim(response, StatusCode::OK).await.body, read.body);
}

#[tokio::test]
async fn null_and_remove_unassign_attributes() {
    let (_app, _admin, directory) = connected().await;
    let body = json!({
        "schemas": [USER],
        "userName": "ann",
        "displayName": "Ann",
        "title": "Dispatcher",
        "emails": [{"value": "ann@acme.example", "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+49 40 1", "type": "work"}, {"value": "+49 40 2", "type": "mobile"}]
    });
    let created = directory.create("/Users", &body).await;
    let path = format!("/Users/{}", created.id());
    assert_eq!(created.body["phoneNumbers"], body["phoneNumbers"]);

    // A remove with a value filter takes out just that value.
    let removed =
        directory.patched(&path, json!([{"op": "remove", "path": "phoneNumbers[type eq \"mobile\"]"}])).await;
    assert_eq!(removed.body["phoneNumbers"], json!([{"value": "+49 40 1", "type": "work"}]));
    // A remove of the attribute, and a replace with null (RFC 7643 section 2.5: unassigned).
    let removed = directory
        .patched(&path, json!([{"op": "remove", "path": "phoneNumbers"}, {"op": "replace", "path": "title", "value": null}]))
        .await;
    for gone in ["phoneNumbers", "title"] {
        assert!(removed.body.get(gone).is_none_or(Value::is_null), "{gone} unassigned: {}", removed.body);
    }
    // null in a PUT is unassigned too.
    let put = json!({"schemas": [USER], "userName": "ann", "displayName": null, "emails": body["emails"]});
    let replaced = scim(directory.put(&path, &put).await, StatusCode::OK).await;
    assert!(replaced.body.get("displayName").is_none_or(Value::is_null), "{}", replaced.body);
    assert_eq!(replaced.body["emails"], body["emails"]);
    assert_eq!(directory.read(&path).await.body, replaced.body);
}

#[tokio::test]
async fn a_group_display_name_is_unique_within_a_customer_only() {
    let (app, admin, directory) = connected().await;
    directory.create_group("Drivers", &[]).await;
    let body = json!({"schemas": [GROUP], "displayName": "Drivers"});
    scim_error(directory.post("/Groups", &body).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_eq!(total(&directory.list("/Groups").await), 1);
    // Renaming another group onto it: the same 409.
    let other = directory.create_group("Loaders", &[]).await.id();
    let ops = json!([{"op": "replace", "path": "displayName", "value": "Drivers"}]);
    scim_error(
        directory.patch(&format!("/Groups/{other}"), ops).await,
        StatusCode::CONFLICT,
        Some("uniqueness"),
    )
    .await;
    // Another customer may have its own "Drivers".
    let globex = Directory::connect(&app, &admin, "Globex").await;
    globex.create_group("Drivers", &[]).await;
}

#[tokio::test]
async fn what_a_directory_changes_is_audited_with_its_client_as_the_actor() {
    let (_app, admin, directory) = connected().await;
    let client = json_of(admin.get(&directory.client_path).await, StatusCode::OK).await;
    let id = directory.create_user("ann", "ann@acme.example", "ext-ann").await.id();
    directory.patched(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": false}}])).await;
    let person = rest_user(&admin, directory.customer, "ext-ann").await;
    let events = admin.events_about(id_of(&person)).await;
    for action in ["user.created", "user.deactivated"] {
        let event =
            events.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("{action} in {events:?}"));
        assert_eq!(event["actor_kind"], "api_client", "{event}");
        assert_eq!(event["actor_id"], client["id"], "{event}");
    }
}

#[tokio::test]
async fn a_conformance_runs_burst_of_requests_is_not_rate_limited() {
    let (_app, _admin, directory) = connected().await;
    let id = directory.create_user("ann", "ann@acme.example", "ext-ann").await.id();
    let path = format!("/Users/{id}");
    // ~1,000 requests in a few seconds, as the issue says a conformance run makes: 50 rounds of
    // 20 at once.
    for _ in 0..50 {
        let round: Vec<_> =
            (0..20).map(|_| tokio::spawn(directory.request(Method::GET, &path).send())).collect();
        for request in round {
            let response = request.await.expect("the request ran").expect("a response");
            assert_eq!(response.status(), StatusCode::OK, "{:?}", response.headers().get("retry-after"));
        }
    }
}

#[tokio::test]
async fn search_by_post_finds_what_the_get_finds_or_is_not_implemented() {
    let (_app, _admin, directory) = connected().await;
    let (ann, _bob, _cem) = three_people(&directory).await;
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq \"ann\"",
        "startIndex": 1,
        "count": 10
    });
    for path in ["/Users/.search", "/.search"] {
        let response = directory.post(path, &search).await;
        if response.status() == StatusCode::NOT_IMPLEMENTED {
            scim_error(response, StatusCode::NOT_IMPLEMENTED, None).await;
            continue;
        }
        let list = scim(response, StatusCode::OK).await.body;
        super::assert_list(&list);
        assert_eq!(
            resources(&list).iter().map(scim_id).collect::<Vec<_>>(),
            vec![ann.clone()],
            "{path}: {list}"
        );
    }
}

#[tokio::test]
async fn the_login_e_mail_is_the_primary_else_the_work_one_else_an_e_mail_user_name_else_none() {
    let (_app, admin, directory) = connected().await;
    let cases = [
        (
            "primary",
            json!([{"value": "home@acme.example", "type": "home", "primary": true}, {"value": "work@acme.example", "type": "work"}]),
            Some("home@acme.example"),
        ),
        (
            "work",
            json!([{"value": "private@acme.example", "type": "home"}, {"value": "office@acme.example", "type": "work"}]),
            Some("office@acme.example"),
        ),
        ("by-name@acme.example", json!(null), Some("by-name@acme.example")),
        ("no-mail-at-all", json!(null), None),
    ];
    for (user_name, emails, login) in cases {
        let mut body =
            json!({"schemas": [USER], "userName": user_name, "externalId": user_name, "active": true});
        if !emails.is_null() {
            body["emails"] = emails;
        }
        directory.create("/Users", &body).await;
        let person = rest_user(&admin, directory.customer, user_name).await;
        assert_eq!(person["email"].as_str(), login, "{user_name}: {person}");
        assert_eq!(person["login_enabled"], login.is_some(), "{user_name}: {person}");
    }
}

#[tokio::test]
async fn broken_or_incomplete_bodies_are_scim_400s() {
    let (_app, _admin, directory) = connected().await;
    // No userName (required, RFC 7643 section 4.1.1).
    let body = json!({"schemas": [USER], "emails": [{"value": "ann@acme.example", "type": "work"}]});
    scim_error(directory.post("/Users", &body).await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    // No displayName on a group.
    let body = json!({"schemas": [GROUP], "members": []});
    scim_error(directory.post("/Groups", &body).await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    // Not JSON at all.
    let response = directory
        .request(Method::POST, "/Users")
        .header("content-type", SCIM_JSON)
        .body("{\"userName\": ")
        .send()
        .await
        .expect("post");
    scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    assert_eq!(total(&directory.list("/Users").await), 0, "nothing was made");
    // A PATCH path that names nothing that exists.
    let id = directory.create_user("ann", "ann@acme.example", "ext-ann").await.id();
    let ops = json!([{"op": "replace", "path": "noSuchAttribute[", "value": "x"}]);
    let error =
        scim_error(directory.patch(&format!("/Users/{id}"), ops).await, StatusCode::BAD_REQUEST, None).await;
    assert!(
        ["invalidPath", "invalidSyntax", "invalidValue"].contains(&error["scimType"].as_str().unwrap_or("")),
        "{error}"
    );
}

#[tokio::test]
async fn beyond_its_own_limit_a_client_gets_a_scim_429_with_retry_after() {
    let app = TestApp::spawn_with(|config| config.scim_requests_per_minute = 5).await;
    let admin = app.admin().await;
    let directory = Directory::connect(&app, &admin, "Acme").await;
    let mut limited = None;
    for _ in 0..8 {
        let response = directory.get("/Users").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = limited.expect("a 429 within 8 requests at 5 a minute");
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert!(retry_after.and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s > 0), "Retry-After in seconds");
    scim_error(response, StatusCode::TOO_MANY_REQUESTS, None).await;
    // Another client of the same customer has its own count.
    let other = Directory::for_customer(&app, &admin, directory.customer).await;
    assert_eq!(other.get("/Users").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_etag_is_a_strong_validator_same_version_same_representation() {
    let (app, admin, directory) = connected().await;
    let created = directory.create_user("ann@acme.example", "ann@acme.example", "ext-ann").await;
    let path = format!("/Users/{}", created.id());
    // Writes that change nothing the client can read (the same displayName; Okta's password
    // sync, which is never stored) and one that does.
    for operations in [
        json!([{"op": "replace", "path": "userName", "value": "ann@acme.example"}]),
        json!([{"op": "replace", "value": {"password": "a synced passphrase 1"}}]),
        json!([{"op": "replace", "path": "displayName", "value": "Ann"}]),
    ] {
        let before = directory.read(&path).await;
        let response = directory.patch(&path, operations.clone()).await;
        if response.status() == StatusCode::BAD_REQUEST {
            // Refusing the password is allowed (changePassword is not supported).
            scim_error(response, StatusCode::BAD_REQUEST, None).await;
            continue;
        }
        let after = scim(response, StatusCode::OK).await;
        // RFC 9110 section 8.8.1: a strong validator changes whenever the representation does.
        assert_eq!(
            after.etag() == before.etag(),
            after.body == before.body,
            "{operations}: ETag {} -> {}, body {} -> {}",
            before.etag(),
            after.etag(),
            before.body,
            after.body
        );
        assert_eq!(directory.read(&path).await.body, after.body);
    }
    // The synced password was not stored.
    assert_eq!(rest_user(&admin, directory.customer, "ext-ann").await["password_set"], false);
    crate::helpers::problem(
        app.login("ann@acme.example", "a synced passphrase 1").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

/// The attribute `name` of the schema `schema` as `/Schemas` publishes it.
fn attribute<'s>(schema: &'s Value, name: &str) -> &'s Value {
    schema["attributes"]
        .as_array()
        .and_then(|attributes| attributes.iter().find(|a| a["name"] == name))
        .unwrap_or_else(|| panic!("{name} in {schema}"))
}

#[tokio::test]
async fn schemas_publish_users_groups_and_the_extension_with_read_only_attributes_marked() {
    let (_app, _admin, directory) = connected().await;
    let list = directory.list("/Schemas").await;
    let schemas = resources(&list);
    let ids: Vec<&str> = schemas.iter().filter_map(|s| s["id"].as_str()).collect();
    for id in [USER, GROUP, super::ENTERPRISE] {
        assert!(ids.contains(&id), "{id} is published: {ids:?}");
    }
    let user = schemas.iter().find(|s| s["id"] == USER).expect("the User schema");
    assert_eq!(attribute(user, "groups")["mutability"], "readOnly", "groups are read-only (the issue)");
    assert_eq!(attribute(user, "userName")["required"], true);
    if let Some(password) =
        user["attributes"].as_array().and_then(|a| a.iter().find(|a| a["name"] == "password"))
    {
        assert_eq!(password["returned"], "never", "{password}");
    }
    let group = schemas.iter().find(|s| s["id"] == GROUP).expect("the Group schema");
    assert_ne!(attribute(group, "members")["mutability"], "readOnly", "members are written by the directory");
    // One schema by its id, as RFC 7644 section 4 addresses it.
    let one = scim(directory.get(&format!("/Schemas/{USER}")).await, StatusCode::OK).await.body;
    assert_eq!(one["id"], USER);
    // Writes on discovery: 405 in the SCIM shape, for every discovery endpoint.
    for (method, path) in [
        (Method::PUT, "/Schemas".to_owned()),
        (Method::DELETE, format!("/Schemas/{USER}")),
        (Method::PATCH, "/ResourceTypes".to_owned()),
        (Method::POST, "/ResourceTypes/User".to_owned()),
        (Method::DELETE, "/ServiceProviderConfig".to_owned()),
    ] {
        let response = directory.send_as(method.clone(), &path, &json!({}), SCIM_JSON).await;
        scim_error(response, StatusCode::METHOD_NOT_ALLOWED, None).await;
    }
}

#[tokio::test]
async fn unknown_attributes_and_schema_urns_in_a_body_are_no_error() {
    let (_app, _admin, directory) = connected().await;
    // Okta sends its profile extension; a client may send attributes nobody defined.
    let okta_extension = "urn:ietf:params:scim:schemas:extension:okta:2.0:User";
    let body = json!({
        "schemas": [USER, okta_extension],
        "userName": "ann",
        "emails": [{"value": "ann@acme.example", "type": "work", "primary": true}],
        okta_extension: {"costCenterCode": "CC-7"},
        "favouriteColour": "green"
    });
    let created = directory.create("/Users", &body).await;
    assert_eq!(created.body["userName"], "ann");
    let ops = json!([{"op": "add", "path": "favouriteColour", "value": "blue"}]);
    let response = directory.patch(&format!("/Users/{}", created.id()), ops).await;
    // RFC 7644 section 3.5.2: a path naming no attribute may be an invalidPath; ignoring it is
    // what the issue asks ("unknown attributes ignored"). Either way, never a 500.
    assert!([StatusCode::OK, StatusCode::BAD_REQUEST].contains(&response.status()), "{}", response.status());
}
