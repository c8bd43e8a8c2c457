//! Tenant isolation on SCIM: the customer is the calling client's. A directory connected to
//! customer A never reads, finds, changes or links customer B's users or groups, and learns
//! nothing about B from a conflict; only a valid token of a client with `users.manage` gets in.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    Directory, GROUP, USER, filtered, resources, scim, scim_error, scim_id, sorted, total, values_of,
};
use crate::helpers::{Actor, TestApp, json_of};

struct TwoTenants {
    _app: TestApp,
    b_admin: Actor,
    a: Directory,
    b: Directory,
    /// B's user, its e-mail and external id, and B's group with it as member.
    b_user: String,
    b_group: String,
}

const B_EMAIL: &str = "berta@globex.example";
const B_NAME: &str = "Globex Corporation";

async fn two_tenants() -> TwoTenants {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let a = Directory::connect(&app, &admin, "Acme").await;
    let b = Directory::connect(&app, &admin, B_NAME).await;
    let b_user = b.create_user("berta", B_EMAIL, "globex-berta").await.id();
    let b_group = b.create_group("Drivers", &[&b_user]).await.id();
    TwoTenants { _app: app, b_admin: admin, a, b, b_user, b_group }
}

#[tokio::test]
async fn a_directory_never_reads_or_finds_another_customers_users_or_groups() {
    let t = two_tenants().await;
    let a_user = t.a.create_user("anna", "anna@acme.example", "acme-anna").await.id();
    let a_group = t.a.create_group("Drivers", &[&a_user]).await.id();

    // By id: 404, as for an id nobody has.
    scim_error(t.a.get(&format!("/Users/{}", t.b_user)).await, StatusCode::NOT_FOUND, None).await;
    scim_error(t.a.get(&format!("/Groups/{}", t.b_group)).await, StatusCode::NOT_FOUND, None).await;
    // By filter: nothing of B's.
    for filter in [
        "userName eq \"berta\"".to_owned(),
        format!("emails.value eq \"{B_EMAIL}\""),
        "externalId eq \"globex-berta\"".to_owned(),
        format!("id eq \"{}\"", t.b_user),
        // An id that is no UUID is a string that matches nobody, not an error.
        "id eq \"48af03ac28ad4fb88478\"".to_owned(),
    ] {
        assert!(t.a.found(&filtered("/Users", &filter)).await.is_empty(), "{filter}");
    }
    let by_member = filtered("/Groups", &format!("members.value eq \"{}\"", t.b_user));
    assert!(t.a.found(&by_member).await.is_empty());
    // Nor a person B's admin made over REST.
    let rest_person = t.b_admin.add_person(t.b.customer, "Bruno", json!({})).await;
    let email = rest_person["email"].as_str().expect("an e-mail");
    assert!(t.a.found(&filtered("/Users", &format!("emails.value eq \"{email}\""))).await.is_empty());
    assert_eq!(t.b.found(&filtered("/Users", &format!("emails.value eq \"{email}\""))).await.len(), 1);
    // Both have a group "Drivers": each finds its own.
    let drivers = filtered("/Groups", "displayName eq \"Drivers\"");
    assert_eq!(t.a.found(&drivers).await, vec![a_group.clone()]);
    assert_eq!(t.b.found(&drivers).await, vec![t.b_group.clone()]);
    // Unfiltered: exactly A's own.
    assert_eq!(t.a.found("/Users").await, vec![a_user.clone()]);
    assert_eq!(t.a.found("/Groups").await, vec![a_group.clone()]);
    let list = t.a.list("/Groups").await;
    assert_eq!(values_of(&resources(&list)[0], "members"), vec![a_user]);
    // `.search` too, where it is built (501 otherwise).
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"berta\""});
    let response = t.a.post("/Users/.search", &search).await;
    if response.status() != StatusCode::NOT_IMPLEMENTED {
        let list = scim(response, StatusCode::OK).await.body;
        assert_eq!(total(&list), 0, "{list}");
    }
}

#[tokio::test]
async fn a_directory_never_changes_or_deletes_another_customers_users_or_groups() {
    let t = two_tenants().await;
    let user_path = format!("/Users/{}", t.b_user);
    let group_path = format!("/Groups/{}", t.b_group);
    let before_user = t.b.read(&user_path).await.body;
    let before_group = t.b.read(&group_path).await.body;

    let deactivate = json!([{"op": "replace", "value": {"active": false}}]);
    scim_error(t.a.patch(&user_path, deactivate).await, StatusCode::NOT_FOUND, None).await;
    let put = json!({"schemas": [USER], "userName": "taken-over", "active": false});
    scim_error(t.a.put(&user_path, &put).await, StatusCode::NOT_FOUND, None).await;
    scim_error(t.a.delete(&user_path).await, StatusCode::NOT_FOUND, None).await;
    let clear = json!([{"op": "remove", "path": "members"}]);
    scim_error(t.a.patch(&group_path, clear).await, StatusCode::NOT_FOUND, None).await;
    let put = json!({"schemas": [GROUP], "displayName": "Taken over", "members": []});
    scim_error(t.a.put(&group_path, &put).await, StatusCode::NOT_FOUND, None).await;
    scim_error(t.a.delete(&group_path).await, StatusCode::NOT_FOUND, None).await;

    assert_eq!(t.b.read(&user_path).await.body, before_user, "B's user is untouched");
    assert_eq!(t.b.read(&group_path).await.body, before_group, "B's group is untouched");
}

#[tokio::test]
async fn a_directory_never_links_another_customers_user_into_its_group() {
    let t = two_tenants().await;
    let a_user = t.a.create_user("anna", "anna@acme.example", "acme-anna").await.id();

    // Created with B's user as a member: created, B's id ignored (never linked, never an error).
    let body = json!({"schemas": [GROUP], "displayName": "Mixed", "members": [{"value": t.b_user}, {"value": a_user}]});
    let group = t.a.create("/Groups", &body).await;
    assert_eq!(group.values_of("members"), vec![a_user.clone()]);
    let path = format!("/Groups/{}", group.id());
    // Added by PATCH, in Entra's and in Okta's shape: the add succeeds, B's id is ignored.
    for operations in [
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": t.b_user}]}]),
        json!([{"op": "add", "path": "members", "value": [{"value": t.b_user, "display": "berta"}]}]),
        json!([{"op": "replace", "path": "members", "value": [{"value": t.b_user}, {"value": a_user}]}]),
        json!([{"op": "add", "value": {"members": [{"value": t.b_user}]}}]),
    ] {
        let patched = t.a.patched(&path, operations.clone()).await;
        assert_eq!(patched.values_of("members"), vec![a_user.clone()], "{operations}");
    }
    // Ids nobody has, or that are no UUID: ignored the same way.
    let nobody = uuid::Uuid::new_v4().to_string();
    let ops = json!([{"op": "Add", "path": "members", "value": [{"value": nobody}, {"value": "48af03ac28ad4fb88478"}]}]);
    assert_eq!(t.a.patched(&path, ops).await.values_of("members"), vec![a_user.clone()]);
    // By PUT.
    let put = json!({"schemas": [GROUP], "displayName": "Mixed", "members": [{"value": t.b_user}]});
    let replaced = scim(t.a.put(&path, &put).await, StatusCode::OK).await;
    assert!(replaced.values_of("members").is_empty(), "{}", replaced.body);
    let read = t.a.read(&path).await;
    assert!(read.values_of("members").is_empty(), "{}", read.body);
    assert!(!read.body.to_string().contains(&t.b_user), "B's id appears nowhere: {}", read.body);
    let by_member = filtered("/Groups", &format!("members.value eq \"{}\"", t.b_user));
    assert!(t.a.found(&by_member).await.is_empty());

    // Seen from B: its user is in its own group only, and its group is as it was.
    let b_user = t.b.read(&format!("/Users/{}", t.b_user)).await;
    assert_eq!(b_user.values_of("groups"), vec![t.b_group.clone()]);
    assert_eq!(t.b.read(&format!("/Groups/{}", t.b_group)).await.values_of("members"), sorted(&[&t.b_user]));
}

#[tokio::test]
async fn an_e_mail_of_another_customer_is_a_409_that_does_not_name_it_while_a_user_name_may_repeat() {
    let t = two_tenants().await;
    let b_customer = t.b.customer.to_string();
    let body = super::user_body("somebody", B_EMAIL, "acme-somebody");
    let error = scim_error(t.a.post("/Users", &body).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    let text = error.to_string();
    for secret in [B_NAME, "Globex", b_customer.as_str(), t.b_user.as_str()] {
        assert!(!text.contains(secret), "the conflict does not name B ({secret}): {error}");
    }
    // A staff person's e-mail is used in the service too.
    let body = super::user_body("staffer", &t.b_admin.email, "acme-staffer");
    scim_error(t.a.post("/Users", &body).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert!(t.a.found("/Users").await.is_empty(), "nothing was made");
    // userName is unique per customer: B's "berta" may exist in A as well.
    let berta = t.a.create_user("berta", "berta@acme.example", "acme-berta").await;
    assert_ne!(berta.id(), t.b_user);
    assert_eq!(t.b.found(&filtered("/Users", "userName eq \"berta\"")).await, vec![t.b_user.clone()]);
    assert_eq!(t.a.found(&filtered("/Users", "userName eq \"berta\"")).await, vec![berta.id()]);
    // The external id is the customer's key too: B's may repeat in A.
    let body = super::user_body("bert", "bert@acme.example", "globex-berta");
    t.a.create("/Users", &body).await;
    // Renaming A's user onto an e-mail of B's by PATCH is the same 409.
    let ops = json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": B_EMAIL}]);
    let error = scim_error(
        t.a.patch(&format!("/Users/{}", berta.id()), ops).await,
        StatusCode::CONFLICT,
        Some("uniqueness"),
    )
    .await;
    assert!(!error.to_string().contains("Globex"), "{error}");
    assert_eq!(
        t.a.read(&format!("/Users/{}", berta.id())).await.body["emails"][0]["value"],
        "berta@acme.example"
    );
}

#[tokio::test]
async fn only_a_valid_token_of_a_customers_client_with_users_manage_gets_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = Directory::connect(&app, &admin, "Acme").await;
    let user = acme.create_user("anna", "anna@acme.example", "acme-anna").await.id();

    // No token, a made-up one: 401 in the SCIM error shape.
    for token in ["", "dgt_madeUpAndNeverIssued", "not-even-a-token"] {
        scim_error(acme.with_token(token).get("/Users").await, StatusCode::UNAUTHORIZED, None).await;
        let other = acme.with_token(token).get(&format!("/Users/{user}")).await;
        scim_error(other, StatusCode::UNAUTHORIZED, None).await;
    }
    // A client without users.manage, and a person's own access token: refused, SCIM-shaped.
    let narrow = Directory::with_scopes(&app, &admin, acme.customer, &["orders.view"]).await;
    let refused = narrow.get("/Users").await;
    let status = refused.status();
    assert!([StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&status), "{status}");
    scim_error(refused, status, None).await;
    let person = acme.with_token(&admin.access_token).get("/Users").await;
    let status = person.status();
    assert!([StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&status), "{status}");
    scim_error(person, status, None).await;

    // The client's client-credentials access token works as its long-lived token does.
    let client = json_of(admin.get(&acme.client_path).await, StatusCode::OK).await;
    let rotated =
        json_of(admin.post(&format!("{}/secret", acme.client_path), &json!({})).await, StatusCode::OK).await;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().expect("client_id")),
            ("client_secret", rotated["client_secret"].as_str().expect("secret")),
        ])
        .finish();
    let response = app
        .client
        .post(app.url("/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("token request");
    let access = json_of(response, StatusCode::OK).await["access_token"].as_str().expect("token").to_owned();
    assert_eq!(acme.with_token(&access).found("/Users").await, vec![user.clone()]);

    // Revoked: the long-lived token stops at once.
    revoke(&admin, &acme).await;
    scim_error(acme.get("/Users").await, StatusCode::UNAUTHORIZED, None).await;
    scim_error(acme.with_token(&access).get("/Users").await, StatusCode::UNAUTHORIZED, None).await;
}

async fn revoke(admin: &Actor, directory: &Directory) {
    let revoked = json_of(
        admin.patch(&directory.client_path, &json!({"status": "revoked"}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(revoked["status"], "revoked");
}

#[tokio::test]
async fn discovery_and_unknown_urls_answer_in_the_scim_shape() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = Directory::connect(&app, &admin, "Acme").await;
    // What both consoles read first.
    let config = scim(acme.get("/ServiceProviderConfig").await, StatusCode::OK).await.body;
    assert_eq!(config["patch"]["supported"], true, "{config}");
    assert_eq!(config["filter"]["supported"], true, "{config}");
    assert!(config["filter"]["maxResults"].as_u64().is_some_and(|m| m > 0), "{config}");
    assert_eq!(config["changePassword"]["supported"], false, "{config}");
    let types = scim(acme.get("/ResourceTypes").await, StatusCode::OK).await.body;
    let endpoints: Vec<String> =
        resources(&types).iter().map(|t| t["endpoint"].as_str().expect("endpoint").to_owned()).collect();
    assert!(endpoints.contains(&"/Users".to_owned()) && endpoints.contains(&"/Groups".to_owned()), "{types}");
    // Writes on discovery: 405; an unknown URL: 404; both SCIM-shaped.
    let response = acme.send_as(Method::POST, "/ServiceProviderConfig", &json!({}), super::SCIM_JSON).await;
    scim_error(response, StatusCode::METHOD_NOT_ALLOWED, None).await;
    scim_error(acme.get("/Things").await, StatusCode::NOT_FOUND, None).await;
    // A filter on what is not filterable: 400 invalidFilter.
    scim_error(
        acme.get(&filtered("/Users", "title eq \"x\"")).await,
        StatusCode::BAD_REQUEST,
        Some("invalidFilter"),
    )
    .await;
    let ids: Vec<String> = resources(&acme.list("/Users").await).iter().map(scim_id).collect();
    assert!(ids.is_empty());
}
