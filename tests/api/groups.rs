//! Groups (contract sections 2, 3 and 9): sub-accounts of one customer that segregate its data.
//! Staff and the customer's admins keep them; people join through their `group_ids`; a person
//! in groups sees untagged data and its groups' data, a person in no group sees everything of
//! its customer; tokens and `/v1/me` say which (`["*"]` for all, never `[]`); and
//! `POST /v1/authz/check` answers exactly as the endpoints behave.

use std::collections::BTreeSet;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, MEMBER_PASSWORD, TestApp, address_path, addresses_of, error_fields, etag_of, group_path,
    groups_of, id_of, json_of, members_of, problem, set, unique_email, user_path, users_of,
};
use dockgate::permissions::{Permission, Role};

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

fn id_strings(ids: &[Uuid]) -> BTreeSet<String> {
    ids.iter().map(Uuid::to_string).collect()
}

fn labels(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// What the authz check answers.
fn verdict(allowed: bool, reason: &str) -> Value {
    json!({"allowed": allowed, "reason": reason})
}

/// A group as `actor` reads it, with its ETag.
async fn get_group(actor: &Actor, customer: Uuid, group: Uuid) -> (Value, String) {
    let response = actor.get(&group_path(customer, group)).await;
    let tag = etag_of(&response);
    (json_of(response, StatusCode::OK).await, tag)
}

/// Adds a `user` in `groups` (with `permissions`, or the defaults) as `staff`, and signs it in.
async fn member(
    app: &TestApp,
    staff: &Actor,
    customer: Uuid,
    name: &str,
    groups: &[Uuid],
    permissions: Option<&[&str]>,
) -> Actor {
    let mut extra = json!({"group_ids": groups});
    if let Some(permissions) = permissions {
        extra["permissions"] = json!(permissions);
    }
    let user = staff.add_person(customer, name, extra).await;
    assert_eq!(uuids(&user["group_ids"]), set(groups), "{name} is in the groups it was given");
    app.sign_in_member(&user).await
}

async fn patch_user(actor: &Actor, customer: Uuid, user: Uuid, body: Value) -> Response {
    actor.patch(&user_path(customer, user), &body, None).await
}

/// The labels of the addresses `actor` sees, walking the list one page at a time.
async fn visible_labels(actor: &Actor, customer: Uuid) -> BTreeSet<String> {
    actor
        .walk(&addresses_of(customer), 1)
        .await
        .iter()
        .map(|a| a["label"].as_str().expect("label").to_owned())
        .collect()
}

/// Every group endpoint of `customer`, with `group` as the group in the path.
fn group_endpoints(customer: Uuid, group: Uuid) -> Vec<(&'static str, String, Option<&'static str>)> {
    vec![
        ("GET", groups_of(customer), None),
        ("POST", groups_of(customer), Some(r#"{"name": "Intruders"}"#)),
        ("GET", group_path(customer, group), None),
        ("PATCH", group_path(customer, group), Some(r#"{"name": "Renamed"}"#)),
        ("DELETE", group_path(customer, group), None),
        ("DELETE", format!("{}?confirm=true", group_path(customer, group)), None),
        ("GET", members_of(customer, group), None),
    ]
}

/// One customer with groups X and Y, addresses untagged / tagged X / tagged Y, and three
/// signed-in users: one in X, one in Y, one in no group.
struct Depots {
    customer: Uuid,
    x: Uuid,
    y: Uuid,
    main: Uuid,
    north: Uuid,
    south: Uuid,
    in_x: Actor,
    in_y: Actor,
    in_none: Actor,
}

async fn depots(app: &TestApp, staff: &Actor) -> Depots {
    let customer = id_of(&staff.create_customer("Acme").await);
    let x = staff.add_group(customer, "Depot X").await;
    let y = staff.add_group(customer, "Depot Y").await;
    let main = id_of(&staff.add_address(customer, "Main", None).await);
    let north = staff.add_address(customer, "North", Some(x)).await;
    assert_eq!(north["group_id"], json!(x), "tagged on POST");
    // Tagged afterwards, with PATCH.
    let south = id_of(&staff.add_address(customer, "South", None).await);
    let tagged = json_of(
        staff.patch(&address_path(customer, south), &json!({"group_id": y}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tagged["group_id"], json!(y), "tagged on PATCH");
    let in_x = member(app, staff, customer, "xena", &[x], None).await;
    let in_y = member(app, staff, customer, "yuri", &[y], None).await;
    let in_none = member(app, staff, customer, "nora", &[], None).await;
    Depots { customer, x, y, main, north: id_of(&north), south, in_x, in_y, in_none }
}

// 1. Group CRUD.

#[tokio::test]
async fn staff_and_the_customers_admin_create_read_list_and_rename_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let globex = id_of(&admin.create_customer("Globex").await);
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;

    // Staff create a group: 201 with where it lives, its ETag, and nobody in it yet.
    let response = admin
        .post(
            &groups_of(acme),
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
        acme_admin.post(&groups_of(acme), &json!({"name": "  Depot South  "})).await,
        StatusCode::CREATED,
    )
    .await;
    let south_id = id_of(&south);
    assert_eq!(south["name"], "Depot South", "the name is trimmed");
    assert_eq!(south["description"], Value::Null);

    // Names are unique per customer regardless of case; another customer may reuse one.
    for taken in ["depot NORTH", " Depot North "] {
        let body =
            problem(acme_admin.post(&groups_of(acme), &json!({"name": taken})).await, StatusCode::CONFLICT)
                .await;
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("name")), "{body}");
    }
    let globex_north = admin.add_group(globex, "Depot North").await;

    // Get: the same group and the same ETag as at creation.
    let (fetched, tag) = get_group(&acme_admin, acme, north_id).await;
    assert_eq!(fetched, north);
    assert_eq!(tag, created_tag);

    // The list walks one page at a time through exactly the customer's groups, oldest first.
    let walked = acme_admin.walk(&groups_of(acme), 1).await;
    assert_eq!(walked.iter().map(id_of).collect::<Vec<_>>(), vec![north_id, south_id]);
    assert_eq!(walked[0], north);
    let globex_groups = admin.walk(&groups_of(globex), 1).await;
    assert_eq!(globex_groups.iter().map(id_of).collect::<Vec<_>>(), vec![globex_north]);

    // PATCH honours If-Match; a stale tag changes nothing.
    let stale = acme_admin
        .patch(&group_path(acme, north_id), &json!({"name": "Depot Hamburg"}), Some("\"stale\""))
        .await;
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(get_group(&admin, acme, north_id).await.0["name"], "Depot North");

    let renamed =
        acme_admin.patch(&group_path(acme, north_id), &json!({"name": "Depot Hamburg"}), Some(&tag)).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed_tag = etag_of(&renamed);
    let renamed: Value = renamed.json().await.expect("group");
    assert_eq!(renamed["name"], "Depot Hamburg");
    assert_eq!(renamed["description"], "Everything shipped from Hamburg", "absent = unchanged");
    assert_ne!(renamed_tag, tag, "a change gives a new ETag");
    // The old tag no longer matches.
    problem(
        admin.patch(&group_path(acme, north_id), &json!({"name": "X"}), Some(&tag)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    // Renaming onto another group's name (in any case) is a conflict.
    problem(
        admin.patch(&group_path(acme, north_id), &json!({"name": "DEPOT SOUTH"}), None).await,
        StatusCode::CONFLICT,
    )
    .await;

    // `description: null` clears it.
    let cleared = json_of(
        admin.patch(&group_path(acme, north_id), &json!({"description": null}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["name"], "Depot Hamburg");
    assert_eq!(get_group(&acme_admin, acme, north_id).await.0, cleared);

    // The audit log has every step, with what changed.
    assert_eq!(app.actions_on(north_id), ["group.created", "group.updated", "group.updated"]);
    let events = acme_admin.events_about(north_id).await;
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
    let acme = id_of(&admin.create_customer("Acme").await);
    let group = admin.add_group(acme, "Depot North").await;
    let grantable: Vec<Permission> =
        Permission::ALL.iter().copied().filter(|p| p.grantable_to_user()).collect();
    assert!(grantable.len() >= 9, "the whole user-grantable set");
    let user = app.customer_user(acme, Role::User, &grantable).await;
    // Even in the group itself.
    json_of(patch_user(&admin, acme, user.user_id, json!({"group_ids": [group]})).await, StatusCode::OK)
        .await;
    let user = app.sign_in_again(&user).await;
    let before = app.audit_actions().len();

    for (method, path, body) in group_endpoints(acme, group) {
        let response = user.send(method, &path, body).await;

        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let body = problem(response, StatusCode::FORBIDDEN).await;
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("users.manage")), "{body}");
    }
    // Filtering users by group is user management too.
    problem(user.get(&format!("{}?group_id={group}", users_of(acme))).await, StatusCode::FORBIDDEN).await;

    // Nothing happened.
    assert_eq!(app.audit_actions().len(), before);
    let (unchanged, _) = get_group(&admin, acme, group).await;
    assert_eq!(unchanged["name"], "Depot North");
    assert_eq!(admin.id_set(&groups_of(acme)).await, set(&[group]));
}

// 2. Memberships.

#[tokio::test]
async fn people_join_groups_through_group_ids_and_every_list_agrees() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let globex = id_of(&admin.create_customer("Globex").await);
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;
    let x = admin.add_group(acme, "Depot X").await;
    let y = acme_admin.add_group(acme, "Depot Y").await;
    let foreign = admin.add_group(globex, "Depot X").await;

    let ann = admin.add_person(acme, "ann", json!({"group_ids": [x]})).await;
    let bob = acme_admin.add_person(acme, "bob", json!({"group_ids": [y, x, y]})).await;
    let cid = admin.add_person(acme, "cid", json!({"group_ids": []})).await;
    let dan = acme_admin.add_person(acme, "dan", json!({})).await;
    let (ann_id, bob_id, cid_id, dan_id) = (id_of(&ann), id_of(&bob), id_of(&cid), id_of(&dan));

    // The user views say who is where (duplicates collapse; absent or [] is no group).
    assert_eq!(uuids(&ann["group_ids"]), set(&[x]));
    assert_eq!(uuids(&bob["group_ids"]), set(&[x, y]));
    assert_eq!(bob["group_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(cid["group_ids"], json!([]));
    assert_eq!(dan["group_ids"], json!([]));
    assert_eq!(acme_admin.get_user(acme, bob_id).await["group_ids"], bob["group_ids"]);

    // Members: exactly the members, one page at a time; the counts match.
    let members = |group| members_of(acme, group);
    let x_members = acme_admin.walk(&members(x), 1).await;
    assert_eq!(x_members.iter().map(id_of).collect::<BTreeSet<_>>(), set(&[ann_id, bob_id]));
    assert_eq!(x_members.len(), 2);
    assert!(x_members.iter().all(|m| uuids(&m["group_ids"]).contains(&x)), "members are user views");
    let y_members = admin.walk(&members(y), 1).await;
    assert_eq!(y_members.iter().map(id_of).collect::<Vec<_>>(), vec![bob_id]);
    assert_eq!(get_group(&admin, acme, x).await.0["member_count"], 2);
    let counts: Vec<(Uuid, i64)> = acme_admin
        .list(&groups_of(acme))
        .await
        .iter()
        .map(|g| (id_of(g), g["member_count"].as_i64().expect("count")))
        .collect();
    assert_eq!(counts, vec![(x, 2), (y, 1)]);

    // The user lists filter by group, for the customer's admins and for staff.
    let by_group = |group: Uuid| format!("{}?group_id={group}", users_of(acme));
    assert_eq!(acme_admin.id_set(&by_group(x)).await, set(&[ann_id, bob_id]));
    assert_eq!(acme_admin.id_set(&by_group(y)).await, set(&[bob_id]));
    assert_eq!(admin.id_set(&format!("/v1/users?group_id={x}")).await, set(&[ann_id, bob_id]));
    let unfiltered = acme_admin.id_set(&users_of(acme)).await;
    assert!(unfiltered.is_superset(&set(&[ann_id, bob_id, cid_id, dan_id])));

    // PATCH replaces the groups.
    let cid_now =
        json_of(patch_user(&acme_admin, acme, cid_id, json!({"group_ids": [y]})).await, StatusCode::OK).await;
    assert_eq!(uuids(&cid_now["group_ids"]), set(&[y]));
    let ann_now =
        json_of(patch_user(&admin, acme, ann_id, json!({"group_ids": []})).await, StatusCode::OK).await;
    assert_eq!(ann_now["group_ids"], json!([]));
    assert_eq!(admin.id_set(&members(x)).await, set(&[bob_id]));
    assert_eq!(admin.id_set(&members(y)).await, set(&[bob_id, cid_id]));
    assert_eq!(acme_admin.id_set(&by_group(y)).await, set(&[bob_id, cid_id]));

    // Another customer's group is a 422 naming `group_ids`, on create and on PATCH; nothing changes.
    let users_before = admin.id_set(&users_of(acme)).await;
    for groups in [json!([foreign]), json!([x, foreign]), json!([Uuid::now_v7()])] {
        let body = json!({"name": "eve", "email": unique_email("eve"), "password": MEMBER_PASSWORD, "group_ids": groups});
        let refused =
            problem(acme_admin.post(&users_of(acme), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&refused), ["group_ids"], "{refused}");
        let refused = problem(
            patch_user(&admin, acme, bob_id, json!({"group_ids": groups})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_ids"], "{refused}");
    }
    assert_eq!(admin.id_set(&users_of(acme)).await, users_before);
    assert_eq!(uuids(&admin.get_user(acme, bob_id).await["group_ids"]), set(&[x, y]));
    assert_eq!(admin.id_set(&members_of(globex, foreign)).await, BTreeSet::new());
    // A group of the customer listed under another customer's path is not found.
    problem(admin.get(&members_of(globex, x)).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn changing_someones_groups_ends_its_sessions_and_its_next_token_names_the_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let x = admin.add_group(acme, "Depot X").await;
    let y = admin.add_group(acme, "Depot Y").await;
    let session = member(&app, &admin, acme, "ann", &[], None).await;

    // In no group: all of the customer's data, said as ["*"] (never []), in the token and in /v1/me.
    assert_eq!(session.claims()["groups"], json!(["*"]));
    assert_eq!(session.me().await["groups"], json!(["*"]));

    // Other changes, and "changing" the groups to what they are, leave the session alone.
    json_of(
        patch_user(&admin, acme, session.user_id, json!({"name": "Ann", "group_ids": []})).await,
        StatusCode::OK,
    )
    .await;
    let refreshed = session.refreshed().await;

    // Joining groups ends every session: the refresh token and the access token stop working.
    let view = json_of(
        patch_user(&admin, acme, session.user_id, json!({"group_ids": [y, x]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(uuids(&view["group_ids"]), set(&[x, y]));
    problem(refreshed.refresh().await, StatusCode::UNAUTHORIZED).await;
    problem(refreshed.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;

    // The next sign-in carries the groups.
    let again = app.sign_in_again(&session).await;
    assert_eq!(strings(&again.claims()["groups"]), id_strings(&[x, y]));
    assert_eq!(strings(&again.me().await["groups"]), id_strings(&[x, y]));
    // So does a refreshed token.
    let refreshed = again.refreshed().await;
    assert_eq!(strings(&refreshed.claims()["groups"]), id_strings(&[x, y]));

    // Leaving one group ends the sessions again.
    json_of(patch_user(&admin, acme, session.user_id, json!({"group_ids": [x]})).await, StatusCode::OK).await;
    problem(refreshed.refresh().await, StatusCode::UNAUTHORIZED).await;
    let again = app.sign_in_again(&session).await;
    assert_eq!(again.claims()["groups"], json!([x.to_string()]));
    assert_eq!(again.me().await["groups"], json!([x.to_string()]));

    // Leaving every group: sessions end, and the token says ["*"] again, not [].
    json_of(patch_user(&admin, acme, session.user_id, json!({"group_ids": []})).await, StatusCode::OK).await;
    problem(again.refresh().await, StatusCode::UNAUTHORIZED).await;

    let last = app.sign_in_again(&session).await;
    assert_eq!(last.claims()["groups"], json!(["*"]));
    assert_eq!(last.me().await["groups"], json!(["*"]));

    let events = admin.events_about(session.user_id).await;
    let updates: Vec<&Value> = events.iter().filter(|e| e["action"] == "user.updated").collect();
    assert!(
        updates.iter().any(|e| e["changes"]["group_ids"].is_object()),
        "group changes are audited: {events:?}"
    );
}

// 3. Segregation on warehouse addresses.

#[tokio::test]
async fn group_members_see_untagged_addresses_and_their_groups_and_people_in_no_group_see_all() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let get = |address: Uuid| address_path(d.customer, address);

    assert_eq!(visible_labels(&d.in_x, d.customer).await, labels(&["Main", "North"]));
    assert_eq!(visible_labels(&d.in_y, d.customer).await, labels(&["Main", "South"]));
    assert_eq!(visible_labels(&d.in_none, d.customer).await, labels(&["Main", "North", "South"]));
    assert_eq!(visible_labels(&admin, d.customer).await, labels(&["Main", "North", "South"]));

    // Another group's address is not found, exactly like a missing one (not a 403).
    for (who, session, hidden, shown) in [("X", &d.in_x, d.south, d.north), ("Y", &d.in_y, d.north, d.south)]
    {
        let body = problem(session.get(&get(hidden)).await, StatusCode::NOT_FOUND).await;
        let missing = problem(session.get(&get(Uuid::now_v7())).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["detail"], missing["detail"], "{who}: indistinguishable from a missing address");
        assert_eq!(session.get(&get(shown)).await.status(), StatusCode::OK, "{who}");
        assert_eq!(session.get(&get(d.main)).await.status(), StatusCode::OK, "{who}");
    }
    for address in [d.main, d.north, d.south] {
        assert_eq!(d.in_none.get(&get(address)).await.status(), StatusCode::OK);
    }
    assert_eq!(d.in_x.me().await["groups"], json!([d.x.to_string()]));
    assert_eq!(d.in_none.me().await["groups"], json!(["*"]));
}

#[tokio::test]
async fn an_address_manager_limited_to_one_group_cannot_tag_or_touch_another_groups_addresses() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let manager = member(&app, &admin, d.customer, "max", &[d.x], Some(&["addresses.manage"])).await;
    let before = app.audit_actions().len();

    // Tagging with the other group: 422 naming `group_id`, on POST and on PATCH.
    let body =
        json!({"label": "Sneaky", "line1": "Sneaky 1", "city": "Hamburg", "country": "DE", "group_id": d.y});
    let refused =
        problem(manager.post(&addresses_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["group_id"]);
    for address in [d.main, d.north] {
        let refused = problem(
            manager.patch(&address_path(d.customer, address), &json!({"group_id": d.y}), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_id"]);
    }
    // The other group's address is not there for it: PATCH and DELETE are 404.
    problem(
        manager.patch(&address_path(d.customer, d.south), &json!({"label": "Mine now"}), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(manager.delete(&address_path(d.customer, d.south), None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(app.audit_actions().len(), before, "nothing changed");
    let south = json_of(admin.get(&address_path(d.customer, d.south)).await, StatusCode::OK).await;
    assert_eq!((south["label"].as_str(), south["group_id"].clone()), (Some("South"), json!(d.y)));
    let north = json_of(admin.get(&address_path(d.customer, d.north)).await, StatusCode::OK).await;
    assert_eq!(north["group_id"], json!(d.x));

    // Its own group is fine.
    let own = manager.add_address(d.customer, "West", Some(d.x)).await;
    assert_eq!(own["group_id"], json!(d.x));
    assert!(visible_labels(&d.in_x, d.customer).await.contains("West"));
    assert!(!visible_labels(&d.in_y, d.customer).await.contains("West"));
}

#[tokio::test]
async fn an_address_cannot_be_tagged_with_another_customers_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let globex = id_of(&admin.create_customer("Globex").await);
    let foreign = admin.add_group(globex, "Depot X").await;
    let no_group_manager = member(&app, &admin, d.customer, "nina", &[], Some(&["addresses.manage"])).await;

    for (who, actor) in [("staff", &admin), ("manager in no group", &no_group_manager)] {
        for group in [foreign, Uuid::now_v7()] {
            let body = json!({"label": "Elsewhere", "line1": "E 1", "city": "Hamburg", "country": "DE", "group_id": group});
            let refused =
                problem(actor.post(&addresses_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY)
                    .await;
            assert_eq!(error_fields(&refused), ["group_id"], "{who}: {refused}");
            let refused = problem(
                actor.patch(&address_path(d.customer, d.main), &json!({"group_id": group}), None).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(error_fields(&refused), ["group_id"], "{who}: {refused}");
        }
    }
    let main = json_of(admin.get(&address_path(d.customer, d.main)).await, StatusCode::OK).await;
    assert_eq!(main["group_id"], Value::Null);
    assert_eq!(visible_labels(&admin, d.customer).await, labels(&["Main", "North", "South"]));
}

// 4. Deleting a group.

#[tokio::test]
async fn deleting_a_group_must_be_confirmed_waits_for_its_addresses_and_frees_its_members() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let acme_admin = app.customer_user(d.customer, Role::Admin, &[]).await;
    let second_in_x = member(&app, &admin, d.customer, "xavi", &[d.x, d.y], None).await;
    let path = group_path(d.customer, d.x);

    // Neither If-Match nor ?confirm=true: 428, and the group stays.
    let body = problem(acme_admin.delete(&path, None).await, StatusCode::PRECONDITION_REQUIRED).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("If-Match")), "{body}");
    let body = problem(
        acme_admin.delete(&format!("{path}?confirm=false"), None).await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    assert!(body["detail"].is_string());

    // Confirmed, but it still tags the North address: 409.
    let body =
        problem(acme_admin.delete(&format!("{path}?confirm=true"), None).await, StatusCode::CONFLICT).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("untag")), "{body}");
    let (group, tag) = get_group(&admin, d.customer, d.x).await;
    assert_eq!(group["member_count"], 2);
    problem(admin.delete(&path, Some(&tag)).await, StatusCode::CONFLICT).await;

    // Untag it; then a stale ETag is 412 and the group's ETag deletes it.
    let untagged = json_of(
        admin.patch(&address_path(d.customer, d.north), &json!({"group_id": null}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(untagged["group_id"], Value::Null);
    problem(acme_admin.delete(&path, Some("\"stale\"")).await, StatusCode::PRECONDITION_FAILED).await;
    let deleted = acme_admin.delete(&path, Some(&tag)).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    // Gone, with its memberships.
    problem(admin.get(&path).await, StatusCode::NOT_FOUND).await;
    problem(admin.get(&members_of(d.customer, d.x)).await, StatusCode::NOT_FOUND).await;
    problem(admin.delete(&format!("{path}?confirm=true"), None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(admin.id_set(&groups_of(d.customer)).await, set(&[d.y]));
    assert_eq!(admin.get_user(d.customer, d.in_x.user_id).await["group_ids"], json!([]));
    assert_eq!(
        admin.get_user(d.customer, second_in_x.user_id).await["group_ids"],
        json!([d.y]),
        "other memberships stay"
    );
    assert_eq!(admin.id_set(&format!("{}?group_id={}", users_of(d.customer), d.x)).await, BTreeSet::new());

    // The former member, signed in again, is in no group and sees everything of its customer.
    let again = app.sign_in_again(&d.in_x).await;
    assert_eq!(again.claims()["groups"], json!(["*"]));
    assert_eq!(again.me().await["groups"], json!(["*"]));
    assert_eq!(visible_labels(&again, d.customer).await, labels(&["Main", "North", "South"]));
    assert_eq!(again.get(&address_path(d.customer, d.south)).await.status(), StatusCode::OK);
    // The member of X and Y is now limited to Y.
    let xavi = app.sign_in_again(&second_in_x).await;
    assert_eq!(xavi.claims()["groups"], json!([d.y.to_string()]));
    assert_eq!(visible_labels(&xavi, d.customer).await, labels(&["Main", "North", "South"]));

    // The audit log keeps the group and who was in it.
    let events = acme_admin.events_about(d.x).await;
    let deleted = events.iter().find(|e| e["action"] == "group.deleted").expect("a group.deleted event");
    assert_eq!(deleted["actor_id"], json!(acme_admin.user_id));
    assert_eq!(deleted["customer_id"], json!(d.customer));
    assert_eq!(uuids(&deleted["changes"]["members"]["from"]), set(&[d.in_x.user_id, second_in_x.user_id]));
    assert_eq!(deleted["changes"]["name"]["from"], "Depot X");
    assert_eq!(app.actions_on(d.x), ["group.created", "group.deleted"]);
}

// 5. The authorization check.

#[tokio::test]
async fn the_authz_check_answers_for_the_bearer_of_each_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let acme = d.customer;
    let globex = id_of(&admin.create_customer("Globex").await);
    let foreign = admin.add_group(globex, "Depot X").await;
    let owner = app.customer_user(acme, Role::Owner, &[]).await;
    let user = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;
    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;

    // Own customer and a permission held: allowed.
    assert_eq!(owner.check("pricing.view", acme, None).await, verdict(true, "allowed"));
    assert_eq!(user.check("orders.view", acme, None).await, verdict(true, "allowed"));
    assert_eq!(admin.check("payments.manage", globex, None).await, verdict(true, "allowed"));
    // A permission not held.
    for permission in ["pricing.view", "users.manage", "orders.create"] {
        assert_eq!(
            user.check(permission, acme, None).await,
            verdict(false, "permission_not_held"),
            "{permission}"
        );
    }
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;
    assert_eq!(acme_admin.check("pricing.view", acme, None).await, verdict(false, "permission_not_held"));
    // Another customer: a 200 that says no (not a 404), even for a permission held.
    for (who, session) in [("owner", &owner), ("user", &user), ("group member", &d.in_x)] {
        for group in [None, Some(foreign)] {
            assert_eq!(
                session.check("orders.view", globex, group).await,
                verdict(false, "customer_not_visible"),
                "{who}"
            );
        }
    }
    // A dispatcher outside its scope; inside it, everything.
    assert_eq!(dispatcher.check("orders.view", globex, None).await, verdict(false, "customer_not_visible"));
    assert_eq!(dispatcher.check("pricing.view", acme, Some(d.y)).await, verdict(true, "allowed"));
    // A customer that does not exist is one nobody sees, staff for all customers included, just
    // as its endpoints are a 404.
    let nowhere = Uuid::now_v7();
    let everywhere = app.staff(Role::Dispatcher, &[]).await;
    for (who, staff) in [("platform admin", &admin), ("dispatcher for all", &everywhere)] {
        assert_eq!(
            staff.check("orders.view", nowhere, None).await,
            verdict(false, "customer_not_visible"),
            "{who}"
        );
        problem(staff.get(&format!("/v1/customers/{nowhere}")).await, StatusCode::NOT_FOUND).await;
    }

    // Groups: a member sees its group and untagged data, not another group.
    assert_eq!(d.in_x.check("orders.view", acme, Some(d.x)).await, verdict(true, "allowed"));
    assert_eq!(d.in_x.check("orders.view", acme, None).await, verdict(true, "allowed"));
    assert_eq!(d.in_x.check("orders.view", acme, Some(d.y)).await, verdict(false, "group_not_visible"));
    // Permission is judged before the group.
    assert_eq!(d.in_x.check("reports.view", acme, Some(d.y)).await, verdict(false, "permission_not_held"));
    // In no group: every group of its customer.
    for group in [d.x, d.y] {
        assert_eq!(d.in_none.check("orders.view", acme, Some(group)).await, verdict(true, "allowed"));
    }
    // A group that is not the customer's: unknown, for whoever would otherwise be allowed.
    for (who, actor) in [("no-group user", &d.in_none), ("owner", &owner), ("staff", &admin)] {
        for group in [foreign, Uuid::now_v7()] {
            assert_eq!(
                actor.check("orders.view", acme, Some(group)).await,
                verdict(false, "unknown_group"),
                "{who}"
            );
        }
    }

    // The answer is about the person as it is now: a new group counts at once.
    json_of(patch_user(&admin, acme, d.in_none.user_id, json!({"group_ids": [d.y]})).await, StatusCode::OK)
        .await;
    let moved = app.sign_in_again(&d.in_none).await;
    assert_eq!(moved.check("orders.view", acme, Some(d.x)).await, verdict(false, "group_not_visible"));
    assert_eq!(moved.check("orders.view", acme, Some(d.y)).await, verdict(true, "allowed"));
}

#[tokio::test]
async fn the_authz_check_needs_a_token_and_a_known_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let body = json!({"permission": "orders.view", "customer_id": acme});

    let anonymous = app.post_json("/v1/authz/check", &body).await;
    assert!(
        anonymous
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Bearer")))
    );
    problem(anonymous, StatusCode::UNAUTHORIZED).await;
    problem(app.bearer("not.a.token").post("/v1/authz/check", &body).await, StatusCode::UNAUTHORIZED).await;

    let unknown = problem(
        admin
            .post("/v1/authz/check", &json!({"permission": "orders.delete_everything", "customer_id": acme}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&unknown), ["permission"], "{unknown}");
    let missing = problem(
        admin.post("/v1/authz/check", &json!({"permission": "orders.view"})).await,
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
    let y_manager =
        member(&app, &admin, d.customer, "yves", &[d.y], Some(&["addresses.manage", "tracking.view"])).await;
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
        let listed: BTreeSet<Uuid> =
            session.walk(&addresses_of(d.customer), 1).await.iter().map(id_of).collect();
        for (address, group) in addresses {
            // Everyone holds tracking.view (the users by default), so only the group decides.
            let said = session.check("tracking.view", d.customer, group).await;
            let status = session.get(&address_path(d.customer, address)).await.status();
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
            let said = session.check("addresses.manage", d.customer, group).await;
            let status = session
                .patch(&address_path(d.customer, address), &json!({"contact_name": who}), None)
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
        y_manager.check("addresses.manage", d.customer, Some(d.x)).await,
        verdict(false, "group_not_visible")
    );
    assert_eq!(
        d.in_x.check("addresses.manage", d.customer, None).await,
        verdict(false, "permission_not_held")
    );
}

// 6. Staff scope.

#[tokio::test]
async fn a_dispatcher_scoped_to_one_customer_sees_none_of_anothers_groups_users_or_events() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let globex = id_of(&admin.create_customer("Globex").await);
    let acme_group = admin.add_group(acme, "Acme depot").await;
    let globex_group = admin.add_group(globex, "Globex depot").await;
    let acme_user = admin.add_person(acme, "alma", json!({"group_ids": [acme_group]})).await;
    let globex_user = admin.add_person(globex, "gus", json!({"group_ids": [globex_group]})).await;
    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;
    let before = app.audit_actions().len();

    // Every group endpoint of the other customer is a 404, as is its group under the own path.
    for (method, path, body) in group_endpoints(globex, globex_group)
        .into_iter()
        .chain(group_endpoints(acme, globex_group).into_iter().skip(2))
    {
        let response = dispatcher.send(method, &path, body).await;

        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        problem(response, StatusCode::NOT_FOUND).await;
    }
    problem(
        dispatcher.get(&format!("{}?group_id={globex_group}", users_of(globex))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.audit_actions().len(), before, "nothing changed");
    let (untouched, _) = get_group(&admin, globex, globex_group).await;
    assert_eq!(
        (untouched["name"].as_str(), untouched["member_count"].as_i64()),
        (Some("Globex depot"), Some(1))
    );

    // Its own customer's groups work as for any staff.
    let (own, _) = get_group(&dispatcher, acme, acme_group).await;
    assert_eq!(own["member_count"], 1);
    dispatcher.add_group(acme, "Dispatcher's depot").await;
    assert_eq!(dispatcher.id_set(&members_of(acme, acme_group)).await, set(&[id_of(&acme_user)]));

    // Cross-customer lists never show the other customer's rows.
    let users = dispatcher.walk("/v1/users", 1).await;
    assert!(!users.is_empty());
    assert!(users.iter().all(|u| u["customer_id"] == json!(acme)), "{users:?}");
    assert!(!users.iter().any(|u| id_of(u) == id_of(&globex_user)));
    assert_eq!(dispatcher.id_set(&format!("/v1/users?group_id={globex_group}")).await, BTreeSet::new());
    assert_eq!(
        dispatcher.id_set(&format!("/v1/users?group_id={acme_group}")).await,
        set(&[id_of(&acme_user)])
    );
    let events = dispatcher.walk("/v1/audit-events", 1).await;
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["customer_id"] == json!(acme)), "{events:?}");
    let group_events = dispatcher.list("/v1/audit-events?action=group.created").await;
    let targets: BTreeSet<&str> = group_events.iter().filter_map(|e| e["target_id"].as_str()).collect();
    assert!(!targets.contains(globex_group.to_string().as_str()), "{group_events:?}");
    assert!(targets.contains(acme_group.to_string().as_str()), "{group_events:?}");
    problem(dispatcher.get(&format!("/v1/audit-events?customer_id={globex}")).await, StatusCode::NOT_FOUND)
        .await;
    assert_eq!(
        dispatcher.list(&format!("/v1/audit-events?target_id={globex_group}")).await,
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
    let manager = member(&app, &admin, d.customer, "mia", &[d.x], Some(&["addresses.manage"])).await;
    let refused = problem(
        manager.patch(&address_path(d.customer, d.north), &json!({"group_id": null}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["group_id"]);
    let body = json!({"label": "Open", "line1": "Open 1", "city": "Hamburg", "country": "DE"});
    let refused =
        problem(manager.post(&addresses_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["group_id"]);

    // An admin limited to X: the people it adds join X unless it names some of its groups; it
    // cannot put anyone (itself included) in no group or in another group.
    let x_admin = admin.add_person(d.customer, "xadmin", json!({"role": "admin", "group_ids": [d.x]})).await;
    let x_admin_session = app.sign_in_member(&x_admin).await;

    let joined = x_admin_session.add_person(d.customer, "newbie", json!({})).await;
    assert_eq!(uuids(&joined["group_ids"]), set(&[d.x]));
    for group_ids in [json!([]), json!([d.y]), json!([d.x, d.y])] {
        let mut body = json!({"name": "Wide", "email": unique_email("wide"), "password": MEMBER_PASSWORD});
        body["group_ids"] = group_ids.clone();
        let refused = problem(
            x_admin_session.post(&users_of(d.customer), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_ids"], "{group_ids}");
    }
    let refused = problem(
        patch_user(&x_admin_session, d.customer, id_of(&x_admin), json!({"group_ids": []})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["group_ids"]);
    assert_eq!(uuids(&admin.get_user(d.customer, id_of(&x_admin)).await["group_ids"]), set(&[d.x]));
}
