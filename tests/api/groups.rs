//! Groups (contract sections 2, 3 and 9): sub-accounts of one customer that segregate its data.
//! Staff and the customer's admins keep them; people join through their `group_ids`; a person
//! in groups sees untagged data and its groups' data, a person in no group sees everything of
//! its customer; tokens and `/v1/me` say which (`["*"]` for all, never `[]`); and
//! `POST /v1/authz/check` answers exactly as the endpoints behave.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, id_of, problem};
use dockgate::permissions::{Permission, Role};

/// The password of the people these tests add through the API.
const MEMBER_PASSWORD: &str = "a long depot passphrase";

fn groups_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/groups")
}

fn group_path(customer: Uuid, group: Uuid) -> String {
    format!("/v1/customers/{customer}/groups/{group}")
}

fn members_of(customer: Uuid, group: Uuid) -> String {
    format!("/v1/customers/{customer}/groups/{group}/members")
}

fn users_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/users")
}

fn user_path(customer: Uuid, user: Uuid) -> String {
    format!("/v1/customers/{customer}/users/{user}")
}

fn addresses_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/warehouse-addresses")
}

fn address_path(customer: Uuid, address: Uuid) -> String {
    format!("/v1/customers/{customer}/warehouse-addresses/{address}")
}

fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@depot.example", &Uuid::new_v4().simple().to_string()[..8])
}

fn etag_of(response: &Response) -> String {
    response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned()
}

async fn json_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    response.json().await.expect("json")
}

/// The payload of a JWT, decoded without verifying it (as a consumer reading its claims).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).expect("payload");
    serde_json::from_slice(&payload).expect("claims json")
}

/// A JSON array of strings as a set.
fn strings(value: &Value) -> BTreeSet<String> {
    value.as_array().expect("an array").iter().map(|v| v.as_str().expect("a string").to_owned()).collect()
}

/// A JSON array of uuids as a set.
fn uuids(value: &Value) -> BTreeSet<Uuid> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()).expect("a uuid"))
        .collect()
}

fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

fn id_strings(ids: &[Uuid]) -> BTreeSet<String> {
    ids.iter().map(Uuid::to_string).collect()
}

/// The fields named by a validation problem.
fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

/// Walks a list one item per page (`limit=1`) and returns every item, in order.
async fn walk(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let page_path = match &cursor {
            Some(cursor) => format!("{path}{separator}limit=1&cursor={cursor}"),
            None => format!("{path}{separator}limit=1"),
        };
        let page = json_of(app.get(&page_path, token).await, StatusCode::OK).await;
        let page_items = page["items"].as_array().expect("items");
        assert!(page_items.len() <= 1, "limit=1 gives at most one item: {page}");
        items.extend(page_items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
    panic!("{path} never ended");
}

/// One page of a list (the default limit is plenty here).
async fn list(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let page = json_of(app.get(path, token).await, StatusCode::OK).await;
    page["items"].as_array().expect("items").clone()
}

async fn list_ids(app: &TestApp, token: &str, path: &str) -> BTreeSet<Uuid> {
    list(app, token, path).await.iter().map(id_of).collect()
}

async fn add_group(app: &TestApp, token: &str, customer: Uuid, name: &str) -> Uuid {
    id_of(
        &json_of(app.post(&groups_of(customer), token, &json!({"name": name})).await, StatusCode::CREATED)
            .await,
    )
}

async fn get_group(app: &TestApp, token: &str, customer: Uuid, group: Uuid) -> (Value, String) {
    let response = app.get(&group_path(customer, group), token).await;
    let tag = etag_of(&response);
    (json_of(response, StatusCode::OK).await, tag)
}

/// Adds a `user` with login (and `extra` fields) through the API and returns its view.
async fn add_user(app: &TestApp, token: &str, customer: Uuid, name: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "email": unique_email(name), "password": MEMBER_PASSWORD});
    for (key, value) in extra.as_object().expect("an object") {
        body[key] = value.clone();
    }
    json_of(app.post(&users_of(customer), token, &body).await, StatusCode::CREATED).await
}

/// Adds a `user` in `groups` (with `permissions`, or the defaults) and signs it in.
async fn member(
    app: &TestApp,
    token: &str,
    customer: Uuid,
    name: &str,
    groups: &[Uuid],
    permissions: Option<&[&str]>,
) -> Session {
    let mut extra = json!({"group_ids": groups});
    if let Some(permissions) = permissions {
        extra["permissions"] = json!(permissions);
    }
    let user = add_user(app, token, customer, name, extra).await;
    assert_eq!(uuids(&user["group_ids"]), set(groups), "{name} is in the groups it was given");
    let email = user["email"].as_str().expect("email").to_owned();
    app.sign_in(id_of(&user), &email, MEMBER_PASSWORD).await
}

async fn get_user(app: &TestApp, token: &str, customer: Uuid, user: Uuid) -> Value {
    json_of(app.get(&user_path(customer, user), token).await, StatusCode::OK).await
}

async fn patch_user(app: &TestApp, token: &str, customer: Uuid, user: Uuid, body: Value) -> Response {
    app.patch(&user_path(customer, user), token, &body, None).await
}

/// Adds an address as `token`, tagged with `group` when given; returns its view.
async fn add_address(app: &TestApp, token: &str, customer: Uuid, label: &str, group: Option<Uuid>) -> Value {
    let body = json!({"label": label, "line1": format!("{label} 1"), "city": "Hamburg", "country": "DE",
        "group_id": group});
    json_of(app.post(&addresses_of(customer), token, &body).await, StatusCode::CREATED).await
}

/// The labels of the addresses `token` sees, walking the list one page at a time.
async fn visible_labels(app: &TestApp, token: &str, customer: Uuid) -> BTreeSet<String> {
    walk(app, token, &addresses_of(customer))
        .await
        .iter()
        .map(|a| a["label"].as_str().expect("label").to_owned())
        .collect()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Response {
    app.post_json("/v1/auth/refresh", &json!({"refresh_token": refresh_token})).await
}

async fn me(app: &TestApp, token: &str) -> Value {
    json_of(app.get("/v1/me", token).await, StatusCode::OK).await
}

/// `POST /v1/authz/check` as `token`; the answer must be a 200.
async fn check(app: &TestApp, token: &str, permission: &str, customer: Uuid, group: Option<Uuid>) -> Value {
    let body = json!({"permission": permission, "customer_id": customer, "group_id": group});
    json_of(app.post("/v1/authz/check", token, &body).await, StatusCode::OK).await
}

fn answer(allowed: bool, reason: &str) -> Value {
    json!({"allowed": allowed, "reason": reason})
}

/// Sends `method path` with an optional JSON body.
async fn send(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> Response {
    let mut request = app
        .client
        .request(Method::from_bytes(method.as_bytes()).expect("method"), app.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    request.send().await.expect("request")
}

/// Every group endpoint of `customer`, with `group` as the group in the path.
fn group_endpoints(customer: Uuid, group: Uuid) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", groups_of(customer), None),
        ("POST", groups_of(customer), Some(json!({"name": "Intruders"}))),
        ("GET", group_path(customer, group), None),
        ("PATCH", group_path(customer, group), Some(json!({"name": "Renamed"}))),
        ("DELETE", group_path(customer, group), None),
        ("DELETE", format!("{}?confirm=true", group_path(customer, group)), None),
        ("GET", members_of(customer, group), None),
    ]
}

/// The audit events about `target` through the API, newest first.
async fn audit_events(app: &TestApp, token: &str, target: Uuid) -> Vec<Value> {
    list(app, token, &format!("/v1/audit-events?target_id={target}")).await
}

// 1. Group CRUD.

#[tokio::test]
async fn staff_and_the_customers_admin_create_read_list_and_rename_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let globex = id_of(&app.create_customer(&admin.access_token, "Globex").await);
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;

    // Staff create a group: 201 with where it lives, its ETag, and nobody in it yet.
    let response = app
        .post(
            &groups_of(acme),
            &admin.access_token,
            &json!({"name": "Depot North", "description": "Everything shipped from Hamburg"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created_tag = etag_of(&response);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let north: Value = response.json().await.expect("group");
    let north_id = id_of(&north);
    assert_eq!(location, group_path(acme, north_id));
    assert_eq!(north["customer_id"], json!(acme));
    assert_eq!(north["name"], "Depot North");
    assert_eq!(north["description"], "Everything shipped from Hamburg");
    assert_eq!(north["member_count"], 0);

    // The customer's own admin creates one too.
    let south = json_of(
        app.post(&groups_of(acme), &acme_admin.access_token, &json!({"name": "  Depot South  "})).await,
        StatusCode::CREATED,
    )
    .await;
    let south_id = id_of(&south);
    assert_eq!(south["name"], "Depot South", "the name is trimmed");
    assert_eq!(south["description"], Value::Null);

    // Names are unique per customer regardless of case; another customer may reuse one.
    for taken in ["depot NORTH", " Depot North "] {
        let body = problem(
            app.post(&groups_of(acme), &acme_admin.access_token, &json!({"name": taken})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("name")), "{body}");
    }
    let globex_north = add_group(&app, &admin.access_token, globex, "Depot North").await;

    // Get: the same group and the same ETag as at creation.
    let (fetched, tag) = get_group(&app, &acme_admin.access_token, acme, north_id).await;
    assert_eq!(fetched, north);
    assert_eq!(tag, created_tag);

    // The list walks one page at a time through exactly the customer's groups, oldest first.
    let walked = walk(&app, &acme_admin.access_token, &groups_of(acme)).await;
    assert_eq!(walked.iter().map(id_of).collect::<Vec<_>>(), vec![north_id, south_id]);
    assert_eq!(walked[0], north);
    let globex_groups = walk(&app, &admin.access_token, &groups_of(globex)).await;
    assert_eq!(globex_groups.iter().map(id_of).collect::<Vec<_>>(), vec![globex_north]);

    // PATCH honours If-Match; a stale tag changes nothing.
    let stale = app
        .patch(
            &group_path(acme, north_id),
            &acme_admin.access_token,
            &json!({"name": "Depot Hamburg"}),
            Some("\"stale\""),
        )
        .await;
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(get_group(&app, &admin.access_token, acme, north_id).await.0["name"], "Depot North");

    let renamed = app
        .patch(
            &group_path(acme, north_id),
            &acme_admin.access_token,
            &json!({"name": "Depot Hamburg"}),
            Some(&tag),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed_tag = etag_of(&renamed);
    let renamed: Value = renamed.json().await.expect("group");
    assert_eq!(renamed["name"], "Depot Hamburg");
    assert_eq!(renamed["description"], "Everything shipped from Hamburg", "absent = unchanged");
    assert_ne!(renamed_tag, tag, "a change gives a new ETag");
    // The old tag no longer matches.
    problem(
        app.patch(&group_path(acme, north_id), &admin.access_token, &json!({"name": "X"}), Some(&tag)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    // Renaming onto another group's name (in any case) is a conflict.
    problem(
        app.patch(&group_path(acme, north_id), &admin.access_token, &json!({"name": "DEPOT SOUTH"}), None)
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // `description: null` clears it.
    let cleared = json_of(
        app.patch(&group_path(acme, north_id), &admin.access_token, &json!({"description": null}), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["name"], "Depot Hamburg");
    assert_eq!(get_group(&app, &acme_admin.access_token, acme, north_id).await.0, cleared);

    // The audit log has every step, with what changed.
    let north_actions: Vec<String> = app
        .audit_actions()
        .into_iter()
        .filter(|(_, target)| *target == Some(north_id))
        .map(|(action, _)| action)
        .collect();
    assert_eq!(north_actions, ["group.created", "group.updated", "group.updated"]);
    let events = audit_events(&app, &acme_admin.access_token, north_id).await;
    assert_eq!(events[1]["action"], "group.updated");
    assert_eq!(events[1]["changes"]["name"], json!({"from": "Depot North", "to": "Depot Hamburg"}));
    assert_eq!(events[1]["actor_id"], json!(acme_admin.user_id));
    assert_eq!(events[2]["action"], "group.created");
    assert_eq!(events[2]["actor_id"], json!(admin.user_id));
    assert_eq!(events[2]["customer_id"], json!(acme));
    assert!(app.audit_actions().contains(&("group.created".to_owned(), Some(south_id))));
}

#[tokio::test]
async fn a_user_even_with_every_grantable_permission_gets_403_on_every_group_endpoint() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let group = add_group(&app, &admin.access_token, acme, "Depot North").await;
    let grantable: Vec<Permission> =
        Permission::ALL.iter().copied().filter(|p| p.grantable_to_user()).collect();
    assert!(grantable.len() >= 9, "the whole user-grantable set");
    let user = app.customer_user(acme, Role::User, &grantable).await;
    // Even in the group itself.
    json_of(
        patch_user(&app, &admin.access_token, acme, user.user_id, json!({"group_ids": [group]})).await,
        StatusCode::OK,
    )
    .await;
    let user = app.sign_in(user.user_id, &user.email, &user.password).await;
    let before = app.audit_actions().len();

    for (method, path, body) in group_endpoints(acme, group) {
        let response = send(&app, method, &path, &user.access_token, body.as_ref()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let body = problem(response, StatusCode::FORBIDDEN).await;
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("users.manage")), "{body}");
    }
    // Filtering users by group is user management too.
    problem(
        app.get(&format!("{}?group_id={group}", users_of(acme)), &user.access_token).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Nothing happened.
    assert_eq!(app.audit_actions().len(), before);
    let (unchanged, _) = get_group(&app, &admin.access_token, acme, group).await;
    assert_eq!(unchanged["name"], "Depot North");
    assert_eq!(list_ids(&app, &admin.access_token, &groups_of(acme)).await, set(&[group]));
}

// 2. Memberships.

#[tokio::test]
async fn people_join_groups_through_group_ids_and_every_list_agrees() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let globex = id_of(&app.create_customer(&admin.access_token, "Globex").await);
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;
    let x = add_group(&app, &admin.access_token, acme, "Depot X").await;
    let y = add_group(&app, &acme_admin.access_token, acme, "Depot Y").await;
    let foreign = add_group(&app, &admin.access_token, globex, "Depot X").await;

    let ann = add_user(&app, &admin.access_token, acme, "ann", json!({"group_ids": [x]})).await;
    let bob = add_user(&app, &acme_admin.access_token, acme, "bob", json!({"group_ids": [y, x, y]})).await;
    let cid = add_user(&app, &admin.access_token, acme, "cid", json!({"group_ids": []})).await;
    let dan = add_user(&app, &acme_admin.access_token, acme, "dan", json!({})).await;
    let (ann_id, bob_id, cid_id, dan_id) = (id_of(&ann), id_of(&bob), id_of(&cid), id_of(&dan));

    // The user views say who is where (duplicates collapse; absent or [] is no group).
    assert_eq!(uuids(&ann["group_ids"]), set(&[x]));
    assert_eq!(uuids(&bob["group_ids"]), set(&[x, y]));
    assert_eq!(bob["group_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(cid["group_ids"], json!([]));
    assert_eq!(dan["group_ids"], json!([]));
    assert_eq!(get_user(&app, &acme_admin.access_token, acme, bob_id).await["group_ids"], bob["group_ids"]);

    // Members: exactly the members, one page at a time; the counts match.
    let members = |group| members_of(acme, group);
    let x_members = walk(&app, &acme_admin.access_token, &members(x)).await;
    assert_eq!(x_members.iter().map(id_of).collect::<BTreeSet<_>>(), set(&[ann_id, bob_id]));
    assert_eq!(x_members.len(), 2);
    assert!(x_members.iter().all(|m| uuids(&m["group_ids"]).contains(&x)), "members are user views");
    let y_members = walk(&app, &admin.access_token, &members(y)).await;
    assert_eq!(y_members.iter().map(id_of).collect::<Vec<_>>(), vec![bob_id]);
    assert_eq!(get_group(&app, &admin.access_token, acme, x).await.0["member_count"], 2);
    let counts: Vec<(Uuid, i64)> = list(&app, &acme_admin.access_token, &groups_of(acme))
        .await
        .iter()
        .map(|g| (id_of(g), g["member_count"].as_i64().expect("count")))
        .collect();
    assert_eq!(counts, vec![(x, 2), (y, 1)]);

    // The user lists filter by group, for the customer's admins and for staff.
    let by_group = |group: Uuid| format!("{}?group_id={group}", users_of(acme));
    assert_eq!(list_ids(&app, &acme_admin.access_token, &by_group(x)).await, set(&[ann_id, bob_id]));
    assert_eq!(list_ids(&app, &acme_admin.access_token, &by_group(y)).await, set(&[bob_id]));
    assert_eq!(
        list_ids(&app, &admin.access_token, &format!("/v1/users?group_id={x}")).await,
        set(&[ann_id, bob_id])
    );
    let unfiltered = list_ids(&app, &acme_admin.access_token, &users_of(acme)).await;
    assert!(unfiltered.is_superset(&set(&[ann_id, bob_id, cid_id, dan_id])));

    // PATCH replaces the groups.
    let cid_now = json_of(
        patch_user(&app, &acme_admin.access_token, acme, cid_id, json!({"group_ids": [y]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(uuids(&cid_now["group_ids"]), set(&[y]));
    let ann_now = json_of(
        patch_user(&app, &admin.access_token, acme, ann_id, json!({"group_ids": []})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ann_now["group_ids"], json!([]));
    assert_eq!(list_ids(&app, &admin.access_token, &members(x)).await, set(&[bob_id]));
    assert_eq!(list_ids(&app, &admin.access_token, &members(y)).await, set(&[bob_id, cid_id]));
    assert_eq!(list_ids(&app, &acme_admin.access_token, &by_group(y)).await, set(&[bob_id, cid_id]));

    // Another customer's group is a 422 naming `group_ids`, on create and on PATCH; nothing changes.
    let users_before = list_ids(&app, &admin.access_token, &users_of(acme)).await;
    for groups in [json!([foreign]), json!([x, foreign]), json!([Uuid::now_v7()])] {
        let body = json!({"name": "eve", "email": unique_email("eve"), "password": MEMBER_PASSWORD, "group_ids": groups});
        let refused = problem(
            app.post(&users_of(acme), &acme_admin.access_token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_ids"], "{refused}");
        let refused = problem(
            patch_user(&app, &admin.access_token, acme, bob_id, json!({"group_ids": groups})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_ids"], "{refused}");
    }
    assert_eq!(list_ids(&app, &admin.access_token, &users_of(acme)).await, users_before);
    assert_eq!(uuids(&get_user(&app, &admin.access_token, acme, bob_id).await["group_ids"]), set(&[x, y]));
    assert_eq!(list_ids(&app, &admin.access_token, &members_of(globex, foreign)).await, BTreeSet::new());
    // A group of the customer listed under another customer's path is not found.
    problem(app.get(&members_of(globex, x), &admin.access_token).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn changing_someones_groups_ends_its_sessions_and_its_next_token_names_the_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let x = add_group(&app, &admin.access_token, acme, "Depot X").await;
    let y = add_group(&app, &admin.access_token, acme, "Depot Y").await;
    let session = member(&app, &admin.access_token, acme, "ann", &[], None).await;

    // In no group: all of the customer's data, said as ["*"] (never []), in the token and in /v1/me.
    assert_eq!(claims(&session.access_token)["groups"], json!(["*"]));
    assert_eq!(me(&app, &session.access_token).await["groups"], json!(["*"]));

    // Other changes, and "changing" the groups to what they are, leave the session alone.
    json_of(
        patch_user(&app, &admin.access_token, acme, session.user_id, json!({"name": "Ann", "group_ids": []}))
            .await,
        StatusCode::OK,
    )
    .await;
    let pair = json_of(refresh(&app, &session.refresh_token).await, StatusCode::OK).await;
    let refreshed_access = pair["access_token"].as_str().expect("access").to_owned();
    let refreshed_refresh = pair["refresh_token"].as_str().expect("refresh").to_owned();

    // Joining groups ends every session: the refresh token and the access token stop working.
    let view = json_of(
        patch_user(&app, &admin.access_token, acme, session.user_id, json!({"group_ids": [y, x]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(uuids(&view["group_ids"]), set(&[x, y]));
    problem(refresh(&app, &refreshed_refresh).await, StatusCode::UNAUTHORIZED).await;
    problem(app.get("/v1/me", &refreshed_access).await, StatusCode::UNAUTHORIZED).await;

    // The next sign-in carries the groups.
    let again = app.sign_in(session.user_id, &session.email, MEMBER_PASSWORD).await;
    assert_eq!(strings(&claims(&again.access_token)["groups"]), id_strings(&[x, y]));
    assert_eq!(strings(&me(&app, &again.access_token).await["groups"]), id_strings(&[x, y]));
    // So does a refreshed token.
    let pair = json_of(refresh(&app, &again.refresh_token).await, StatusCode::OK).await;
    let refreshed_access = pair["access_token"].as_str().expect("access").to_owned();
    assert_eq!(strings(&claims(&refreshed_access)["groups"]), id_strings(&[x, y]));

    // Leaving one group ends the sessions again.
    json_of(
        patch_user(&app, &admin.access_token, acme, session.user_id, json!({"group_ids": [x]})).await,
        StatusCode::OK,
    )
    .await;
    problem(refresh(&app, pair["refresh_token"].as_str().expect("refresh")).await, StatusCode::UNAUTHORIZED)
        .await;
    let again = app.sign_in(session.user_id, &session.email, MEMBER_PASSWORD).await;
    assert_eq!(claims(&again.access_token)["groups"], json!([x.to_string()]));
    assert_eq!(me(&app, &again.access_token).await["groups"], json!([x.to_string()]));

    // Leaving every group: sessions end, and the token says ["*"] again, not [].
    json_of(
        patch_user(&app, &admin.access_token, acme, session.user_id, json!({"group_ids": []})).await,
        StatusCode::OK,
    )
    .await;
    problem(refresh(&app, &again.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    let last = app.sign_in(session.user_id, &session.email, MEMBER_PASSWORD).await;
    assert_eq!(claims(&last.access_token)["groups"], json!(["*"]));
    assert_eq!(me(&app, &last.access_token).await["groups"], json!(["*"]));

    let events = audit_events(&app, &admin.access_token, session.user_id).await;
    let updates: Vec<&Value> = events.iter().filter(|e| e["action"] == "user.updated").collect();
    assert!(
        updates.iter().any(|e| e["changes"]["group_ids"].is_object()),
        "group changes are audited: {events:?}"
    );
}

// 3. Segregation on warehouse addresses.

/// One customer with groups X and Y, addresses untagged / tagged X / tagged Y, and three
/// signed-in users: one in X, one in Y, one in no group.
struct Depots {
    customer: Uuid,
    x: Uuid,
    y: Uuid,
    main: Uuid,
    north: Uuid,
    south: Uuid,
    in_x: Session,
    in_y: Session,
    in_none: Session,
}

async fn depots(app: &TestApp, staff: &Session) -> Depots {
    let token = &staff.access_token;
    let customer = id_of(&app.create_customer(token, "Acme").await);
    let x = add_group(app, token, customer, "Depot X").await;
    let y = add_group(app, token, customer, "Depot Y").await;
    let main = id_of(&add_address(app, token, customer, "Main", None).await);
    let north = add_address(app, token, customer, "North", Some(x)).await;
    assert_eq!(north["group_id"], json!(x), "tagged on POST");
    // Tagged afterwards, with PATCH.
    let south = id_of(&add_address(app, token, customer, "South", None).await);
    let tagged = json_of(
        app.patch(&address_path(customer, south), token, &json!({"group_id": y}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tagged["group_id"], json!(y), "tagged on PATCH");
    let in_x = member(app, token, customer, "xena", &[x], None).await;
    let in_y = member(app, token, customer, "yuri", &[y], None).await;
    let in_none = member(app, token, customer, "nora", &[], None).await;
    Depots { customer, x, y, main, north: id_of(&north), south, in_x, in_y, in_none }
}

fn labels(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn group_members_see_untagged_addresses_and_their_groups_and_people_in_no_group_see_all() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let get = |address: Uuid| address_path(d.customer, address);

    assert_eq!(visible_labels(&app, &d.in_x.access_token, d.customer).await, labels(&["Main", "North"]));
    assert_eq!(visible_labels(&app, &d.in_y.access_token, d.customer).await, labels(&["Main", "South"]));
    assert_eq!(
        visible_labels(&app, &d.in_none.access_token, d.customer).await,
        labels(&["Main", "North", "South"])
    );
    assert_eq!(
        visible_labels(&app, &admin.access_token, d.customer).await,
        labels(&["Main", "North", "South"])
    );

    // Another group's address is not found, exactly like a missing one (not a 403).
    for (who, session, hidden, shown) in [("X", &d.in_x, d.south, d.north), ("Y", &d.in_y, d.north, d.south)]
    {
        let body = problem(app.get(&get(hidden), &session.access_token).await, StatusCode::NOT_FOUND).await;
        let missing =
            problem(app.get(&get(Uuid::now_v7()), &session.access_token).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["detail"], missing["detail"], "{who}: indistinguishable from a missing address");
        assert_eq!(app.get(&get(shown), &session.access_token).await.status(), StatusCode::OK, "{who}");
        assert_eq!(app.get(&get(d.main), &session.access_token).await.status(), StatusCode::OK, "{who}");
    }
    for address in [d.main, d.north, d.south] {
        assert_eq!(app.get(&get(address), &d.in_none.access_token).await.status(), StatusCode::OK);
    }
    assert_eq!(me(&app, &d.in_x.access_token).await["groups"], json!([d.x.to_string()]));
    assert_eq!(me(&app, &d.in_none.access_token).await["groups"], json!(["*"]));
}

#[tokio::test]
async fn an_address_manager_limited_to_one_group_cannot_tag_or_touch_another_groups_addresses() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let manager =
        member(&app, &admin.access_token, d.customer, "max", &[d.x], Some(&["addresses.manage"])).await;
    let token = &manager.access_token;
    let before = app.audit_actions().len();

    // Tagging with the other group: 422 naming `group_id`, on POST and on PATCH.
    let body =
        json!({"label": "Sneaky", "line1": "Sneaky 1", "city": "Hamburg", "country": "DE", "group_id": d.y});
    let refused =
        problem(app.post(&addresses_of(d.customer), token, &body).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(error_fields(&refused), ["group_id"]);
    for address in [d.main, d.north] {
        let refused = problem(
            app.patch(&address_path(d.customer, address), token, &json!({"group_id": d.y}), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_id"]);
    }
    // The other group's address is not there for it: PATCH and DELETE are 404.
    problem(
        app.patch(&address_path(d.customer, d.south), token, &json!({"label": "Mine now"}), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(app.delete(&address_path(d.customer, d.south), token, None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(app.audit_actions().len(), before, "nothing changed");
    let south =
        json_of(app.get(&address_path(d.customer, d.south), &admin.access_token).await, StatusCode::OK).await;
    assert_eq!((south["label"].as_str(), south["group_id"].clone()), (Some("South"), json!(d.y)));
    let north =
        json_of(app.get(&address_path(d.customer, d.north), &admin.access_token).await, StatusCode::OK).await;
    assert_eq!(north["group_id"], json!(d.x));

    // Its own group is fine.
    let own = add_address(&app, token, d.customer, "West", Some(d.x)).await;
    assert_eq!(own["group_id"], json!(d.x));
    assert!(visible_labels(&app, &d.in_x.access_token, d.customer).await.contains("West"));
    assert!(!visible_labels(&app, &d.in_y.access_token, d.customer).await.contains("West"));
}

#[tokio::test]
async fn an_address_cannot_be_tagged_with_another_customers_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let globex = id_of(&app.create_customer(&admin.access_token, "Globex").await);
    let foreign = add_group(&app, &admin.access_token, globex, "Depot X").await;
    let no_group_manager =
        member(&app, &admin.access_token, d.customer, "nina", &[], Some(&["addresses.manage"])).await;

    for (who, token) in
        [("staff", &admin.access_token), ("manager in no group", &no_group_manager.access_token)]
    {
        for group in [foreign, Uuid::now_v7()] {
            let body = json!({"label": "Elsewhere", "line1": "E 1", "city": "Hamburg", "country": "DE", "group_id": group});
            let refused = problem(
                app.post(&addresses_of(d.customer), token, &body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(error_fields(&refused), ["group_id"], "{who}: {refused}");
            let refused = problem(
                app.patch(&address_path(d.customer, d.main), token, &json!({"group_id": group}), None).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(error_fields(&refused), ["group_id"], "{who}: {refused}");
        }
    }
    let main =
        json_of(app.get(&address_path(d.customer, d.main), &admin.access_token).await, StatusCode::OK).await;
    assert_eq!(main["group_id"], Value::Null);
    assert_eq!(
        visible_labels(&app, &admin.access_token, d.customer).await,
        labels(&["Main", "North", "South"])
    );
}

// 4. Deleting a group.

#[tokio::test]
async fn deleting_a_group_must_be_confirmed_waits_for_its_addresses_and_frees_its_members() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let acme_admin = app.customer_user(d.customer, Role::Admin, &[]).await;
    let second_in_x = member(&app, &admin.access_token, d.customer, "xavi", &[d.x, d.y], None).await;
    let path = group_path(d.customer, d.x);

    // Neither If-Match nor ?confirm=true: 428, and the group stays.
    let body =
        problem(app.delete(&path, &acme_admin.access_token, None).await, StatusCode::PRECONDITION_REQUIRED)
            .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("If-Match")), "{body}");
    let body = problem(
        app.delete(&format!("{path}?confirm=false"), &acme_admin.access_token, None).await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    assert!(body["detail"].is_string());

    // Confirmed, but it still tags the North address: 409.
    let body = problem(
        app.delete(&format!("{path}?confirm=true"), &acme_admin.access_token, None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("untag")), "{body}");
    let (group, tag) = get_group(&app, &admin.access_token, d.customer, d.x).await;
    assert_eq!(group["member_count"], 2);
    problem(app.delete(&path, &admin.access_token, Some(&tag)).await, StatusCode::CONFLICT).await;

    // Untag it; then a stale ETag is 412 and the group's ETag deletes it.
    let untagged = json_of(
        app.patch(&address_path(d.customer, d.north), &admin.access_token, &json!({"group_id": null}), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(untagged["group_id"], Value::Null);
    problem(
        app.delete(&path, &acme_admin.access_token, Some("\"stale\"")).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    let deleted = app.delete(&path, &acme_admin.access_token, Some(&tag)).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    // Gone, with its memberships.
    problem(app.get(&path, &admin.access_token).await, StatusCode::NOT_FOUND).await;
    problem(app.get(&members_of(d.customer, d.x), &admin.access_token).await, StatusCode::NOT_FOUND).await;
    problem(
        app.delete(&format!("{path}?confirm=true"), &admin.access_token, None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(list_ids(&app, &admin.access_token, &groups_of(d.customer)).await, set(&[d.y]));
    assert_eq!(get_user(&app, &admin.access_token, d.customer, d.in_x.user_id).await["group_ids"], json!([]));
    assert_eq!(
        get_user(&app, &admin.access_token, d.customer, second_in_x.user_id).await["group_ids"],
        json!([d.y]),
        "other memberships stay"
    );
    assert_eq!(
        list_ids(&app, &admin.access_token, &format!("{}?group_id={}", users_of(d.customer), d.x)).await,
        BTreeSet::new()
    );

    // The former member, signed in again, is in no group and sees everything of its customer.
    let again = app.sign_in(d.in_x.user_id, &d.in_x.email, MEMBER_PASSWORD).await;
    assert_eq!(claims(&again.access_token)["groups"], json!(["*"]));
    assert_eq!(me(&app, &again.access_token).await["groups"], json!(["*"]));
    assert_eq!(
        visible_labels(&app, &again.access_token, d.customer).await,
        labels(&["Main", "North", "South"])
    );
    assert_eq!(
        app.get(&address_path(d.customer, d.south), &again.access_token).await.status(),
        StatusCode::OK
    );
    // The member of X and Y is now limited to Y.
    let xavi = app.sign_in(second_in_x.user_id, &second_in_x.email, MEMBER_PASSWORD).await;
    assert_eq!(claims(&xavi.access_token)["groups"], json!([d.y.to_string()]));
    assert_eq!(
        visible_labels(&app, &xavi.access_token, d.customer).await,
        labels(&["Main", "North", "South"])
    );

    // The audit log keeps the group and who was in it.
    let events = audit_events(&app, &acme_admin.access_token, d.x).await;
    let deleted = events.iter().find(|e| e["action"] == "group.deleted").expect("a group.deleted event");
    assert_eq!(deleted["actor_id"], json!(acme_admin.user_id));
    assert_eq!(deleted["customer_id"], json!(d.customer));
    assert_eq!(uuids(&deleted["changes"]["members"]["from"]), set(&[d.in_x.user_id, second_in_x.user_id]));
    assert_eq!(deleted["changes"]["name"]["from"], "Depot X");
    let actions: Vec<String> = app
        .audit_actions()
        .into_iter()
        .filter(|(_, target)| *target == Some(d.x))
        .map(|(action, _)| action)
        .collect();
    assert_eq!(actions, ["group.created", "group.deleted"]);
}

// 5. The authorization check.

#[tokio::test]
async fn the_authz_check_answers_for_the_bearer_of_each_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let acme = d.customer;
    let globex = id_of(&app.create_customer(&admin.access_token, "Globex").await);
    let foreign = add_group(&app, &admin.access_token, globex, "Depot X").await;
    let owner = app.customer_user(acme, Role::Owner, &[]).await;
    let user = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;
    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;

    // Own customer and a permission held: allowed.
    assert_eq!(check(&app, &owner.access_token, "pricing.view", acme, None).await, answer(true, "allowed"));
    assert_eq!(check(&app, &user.access_token, "orders.view", acme, None).await, answer(true, "allowed"));
    assert_eq!(
        check(&app, &admin.access_token, "payments.manage", globex, None).await,
        answer(true, "allowed")
    );
    // A permission not held.
    for permission in ["pricing.view", "users.manage", "orders.create"] {
        assert_eq!(
            check(&app, &user.access_token, permission, acme, None).await,
            answer(false, "permission_not_held"),
            "{permission}"
        );
    }
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;
    assert_eq!(
        check(&app, &acme_admin.access_token, "pricing.view", acme, None).await,
        answer(false, "permission_not_held")
    );
    // Another customer: a 200 that says no (not a 404), even for a permission held.
    for (who, session) in [("owner", &owner), ("user", &user), ("group member", &d.in_x)] {
        for group in [None, Some(foreign)] {
            assert_eq!(
                check(&app, &session.access_token, "orders.view", globex, group).await,
                answer(false, "customer_not_visible"),
                "{who}"
            );
        }
    }
    // A dispatcher outside its scope; inside it, everything.
    assert_eq!(
        check(&app, &dispatcher.access_token, "orders.view", globex, None).await,
        answer(false, "customer_not_visible")
    );
    assert_eq!(
        check(&app, &dispatcher.access_token, "pricing.view", acme, Some(d.y)).await,
        answer(true, "allowed")
    );
    // A customer that does not exist is one nobody sees, staff for all customers included, just
    // as its endpoints are a 404.
    let nowhere = Uuid::now_v7();
    let everywhere = app.staff(Role::Dispatcher, &[]).await;
    for (who, token) in
        [("platform admin", &admin.access_token), ("dispatcher for all", &everywhere.access_token)]
    {
        assert_eq!(
            check(&app, token, "orders.view", nowhere, None).await,
            answer(false, "customer_not_visible"),
            "{who}"
        );
        problem(app.get(&format!("/v1/customers/{nowhere}"), token).await, StatusCode::NOT_FOUND).await;
    }

    // Groups: a member sees its group and untagged data, not another group.
    assert_eq!(
        check(&app, &d.in_x.access_token, "orders.view", acme, Some(d.x)).await,
        answer(true, "allowed")
    );
    assert_eq!(check(&app, &d.in_x.access_token, "orders.view", acme, None).await, answer(true, "allowed"));
    assert_eq!(
        check(&app, &d.in_x.access_token, "orders.view", acme, Some(d.y)).await,
        answer(false, "group_not_visible")
    );
    // Permission is judged before the group.
    assert_eq!(
        check(&app, &d.in_x.access_token, "reports.view", acme, Some(d.y)).await,
        answer(false, "permission_not_held")
    );
    // In no group: every group of its customer.
    for group in [d.x, d.y] {
        assert_eq!(
            check(&app, &d.in_none.access_token, "orders.view", acme, Some(group)).await,
            answer(true, "allowed")
        );
    }
    // A group that is not the customer's: unknown, for whoever would otherwise be allowed.
    for (who, token) in [
        ("no-group user", &d.in_none.access_token),
        ("owner", &owner.access_token),
        ("staff", &admin.access_token),
    ] {
        for group in [foreign, Uuid::now_v7()] {
            assert_eq!(
                check(&app, token, "orders.view", acme, Some(group)).await,
                answer(false, "unknown_group"),
                "{who}"
            );
        }
    }

    // The answer is about the person as it is now: a new group counts at once.
    json_of(
        patch_user(&app, &admin.access_token, acme, d.in_none.user_id, json!({"group_ids": [d.y]})).await,
        StatusCode::OK,
    )
    .await;
    let moved = app.sign_in(d.in_none.user_id, &d.in_none.email, MEMBER_PASSWORD).await;
    assert_eq!(
        check(&app, &moved.access_token, "orders.view", acme, Some(d.x)).await,
        answer(false, "group_not_visible")
    );
    assert_eq!(
        check(&app, &moved.access_token, "orders.view", acme, Some(d.y)).await,
        answer(true, "allowed")
    );
}

#[tokio::test]
async fn the_authz_check_needs_a_token_and_a_known_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let body = json!({"permission": "orders.view", "customer_id": acme});

    let anonymous = app.post_json("/v1/authz/check", &body).await;
    assert!(
        anonymous
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Bearer")))
    );
    problem(anonymous, StatusCode::UNAUTHORIZED).await;
    problem(app.post("/v1/authz/check", "not.a.token", &body).await, StatusCode::UNAUTHORIZED).await;

    let unknown = problem(
        app.post(
            "/v1/authz/check",
            &admin.access_token,
            &json!({"permission": "orders.delete_everything", "customer_id": acme}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&unknown), ["permission"], "{unknown}");
    let missing = problem(
        app.post("/v1/authz/check", &admin.access_token, &json!({"permission": "orders.view"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let message = missing["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("customer_id"), "{missing}");
}

#[tokio::test]
async fn the_authz_check_agrees_with_what_the_address_endpoints_do() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let dispatcher = app.staff(Role::Dispatcher, &[d.customer]).await;
    let owner = app.customer_user(d.customer, Role::Owner, &[]).await;
    let y_manager = member(
        &app,
        &admin.access_token,
        d.customer,
        "yves",
        &[d.y],
        Some(&["addresses.manage", "tracking.view"]),
    )
    .await;
    let addresses = [(d.main, None), (d.north, Some(d.x)), (d.south, Some(d.y))];

    for (who, session) in [
        ("member of X", &d.in_x),
        ("member of Y", &d.in_y),
        ("in no group", &d.in_none),
        ("address manager of Y", &y_manager),
        ("owner", &owner),
        ("dispatcher", &dispatcher),
        ("platform admin", &admin),
    ] {
        let token = &session.access_token;
        let listed: BTreeSet<Uuid> =
            walk(&app, token, &addresses_of(d.customer)).await.iter().map(id_of).collect();
        for (address, group) in addresses {
            // Everyone holds tracking.view (the users by default), so only the group decides.
            let said = check(&app, token, "tracking.view", d.customer, group).await;
            let status = app.get(&address_path(d.customer, address), token).await.status();
            match said["reason"].as_str() {
                Some("allowed") => {
                    assert_eq!(status, StatusCode::OK, "{who}: allowed, so GET works");
                    assert!(listed.contains(&address), "{who}: allowed, so it is listed");
                }
                Some("group_not_visible") => {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{who}: group not visible, so GET is 404");
                    assert!(!listed.contains(&address), "{who}: group not visible, so it is not listed");
                }
                other => panic!("{who}: unexpected answer {other:?}"),
            }
        }
        // And for managing: the check with addresses.manage matches PATCH.
        for (address, group) in addresses {
            let said = check(&app, token, "addresses.manage", d.customer, group).await;
            let status = app
                .patch(&address_path(d.customer, address), token, &json!({"contact_name": who}), None)
                .await
                .status();
            let expected = match said["reason"].as_str() {
                Some("allowed") => StatusCode::OK,
                Some("group_not_visible") => StatusCode::NOT_FOUND,
                Some("permission_not_held") => StatusCode::FORBIDDEN,
                other => panic!("{who}: unexpected answer {other:?}"),
            };
            assert_eq!(status, expected, "{who}: PATCH of an address tagged {group:?} after {said}");
        }
    }
    // The spot checks that make the loop meaningful.
    assert_eq!(
        check(&app, &y_manager.access_token, "addresses.manage", d.customer, Some(d.x)).await,
        answer(false, "group_not_visible")
    );
    assert_eq!(
        check(&app, &d.in_x.access_token, "addresses.manage", d.customer, None).await,
        answer(false, "permission_not_held")
    );
}

// 6. Staff scope.

#[tokio::test]
async fn a_dispatcher_scoped_to_one_customer_sees_none_of_anothers_groups_users_or_events() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let globex = id_of(&app.create_customer(&admin.access_token, "Globex").await);
    let acme_group = add_group(&app, &admin.access_token, acme, "Acme depot").await;
    let globex_group = add_group(&app, &admin.access_token, globex, "Globex depot").await;
    let acme_user =
        add_user(&app, &admin.access_token, acme, "alma", json!({"group_ids": [acme_group]})).await;
    let globex_user =
        add_user(&app, &admin.access_token, globex, "gus", json!({"group_ids": [globex_group]})).await;
    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;
    let token = &dispatcher.access_token;
    let before = app.audit_actions().len();

    // Every group endpoint of the other customer is a 404, as is its group under the own path.
    for (method, path, body) in group_endpoints(globex, globex_group)
        .into_iter()
        .chain(group_endpoints(acme, globex_group).into_iter().skip(2))
    {
        let response = send(&app, method, &path, token, body.as_ref()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        problem(response, StatusCode::NOT_FOUND).await;
    }
    problem(
        app.get(&format!("{}?group_id={globex_group}", users_of(globex)), token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.audit_actions().len(), before, "nothing changed");
    let (untouched, _) = get_group(&app, &admin.access_token, globex, globex_group).await;
    assert_eq!(
        (untouched["name"].as_str(), untouched["member_count"].as_i64()),
        (Some("Globex depot"), Some(1))
    );

    // Its own customer's groups work as for any staff.
    let (own, _) = get_group(&app, token, acme, acme_group).await;
    assert_eq!(own["member_count"], 1);
    add_group(&app, token, acme, "Dispatcher's depot").await;
    assert_eq!(list_ids(&app, token, &members_of(acme, acme_group)).await, set(&[id_of(&acme_user)]));

    // Cross-customer lists never show the other customer's rows.
    let users = walk(&app, token, "/v1/users").await;
    assert!(!users.is_empty());
    assert!(users.iter().all(|u| u["customer_id"] == json!(acme)), "{users:?}");
    assert!(!users.iter().any(|u| id_of(u) == id_of(&globex_user)));
    assert_eq!(list_ids(&app, token, &format!("/v1/users?group_id={globex_group}")).await, BTreeSet::new());
    assert_eq!(
        list_ids(&app, token, &format!("/v1/users?group_id={acme_group}")).await,
        set(&[id_of(&acme_user)])
    );
    let events = walk(&app, token, "/v1/audit-events").await;
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["customer_id"] == json!(acme)), "{events:?}");
    let group_events = list(&app, token, "/v1/audit-events?action=group.created").await;
    let targets: BTreeSet<&str> = group_events.iter().filter_map(|e| e["target_id"].as_str()).collect();
    assert!(!targets.contains(globex_group.to_string().as_str()), "{group_events:?}");
    assert!(targets.contains(acme_group.to_string().as_str()), "{group_events:?}");
    problem(app.get(&format!("/v1/audit-events?customer_id={globex}"), token).await, StatusCode::NOT_FOUND)
        .await;
    assert_eq!(
        list(&app, token, &format!("/v1/audit-events?target_id={globex_group}")).await,
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn a_group_limited_person_cannot_widen_what_anyone_sees() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;

    // An address manager of X can neither untag X's address nor add an untagged one: both would
    // show the address to every group.
    let manager =
        member(&app, &admin.access_token, d.customer, "mia", &[d.x], Some(&["addresses.manage"])).await;
    let refused = problem(
        app.patch(
            &address_path(d.customer, d.north),
            &manager.access_token,
            &json!({"group_id": null}),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["group_id"]);
    let body = json!({"label": "Open", "line1": "Open 1", "city": "Hamburg", "country": "DE"});
    let refused = problem(
        app.post(&addresses_of(d.customer), &manager.access_token, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["group_id"]);

    // An admin limited to X: the people it adds join X unless it names some of its groups; it
    // cannot put anyone (itself included) in no group or in another group.
    let x_admin = add_user(
        &app,
        &admin.access_token,
        d.customer,
        "xadmin",
        json!({"role": "admin", "group_ids": [d.x]}),
    )
    .await;
    let email = x_admin["email"].as_str().expect("email").to_owned();
    let x_admin_session = app.sign_in(id_of(&x_admin), &email, MEMBER_PASSWORD).await;
    let token = &x_admin_session.access_token;
    let joined = add_user(&app, token, d.customer, "newbie", json!({})).await;
    assert_eq!(uuids(&joined["group_ids"]), set(&[d.x]));
    for group_ids in [json!([]), json!([d.y]), json!([d.x, d.y])] {
        let mut body = json!({"name": "Wide", "email": unique_email("wide"), "password": MEMBER_PASSWORD});
        body["group_ids"] = group_ids.clone();
        let refused =
            problem(app.post(&users_of(d.customer), token, &body).await, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        assert_eq!(error_fields(&refused), ["group_ids"], "{group_ids}");
    }
    let refused = problem(
        patch_user(&app, token, d.customer, id_of(&x_admin), json!({"group_ids": []})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["group_ids"]);
    assert_eq!(
        uuids(&get_user(&app, &admin.access_token, d.customer, id_of(&x_admin)).await["group_ids"]),
        set(&[d.x])
    );
}
