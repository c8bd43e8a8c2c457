//! Creating, reading, listing, renaming and deleting groups, and who may.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;

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

#[tokio::test]
async fn deleting_a_group_must_be_confirmed_waits_for_its_addresses_and_leaves_its_members_seeing_less() {
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
    let former = admin.get_user(d.customer, d.in_x.user_id).await;
    assert_eq!((&former["data_scope"], &former["group_ids"]), (&json!("groups"), &json!([])), "{former}");
    assert_eq!(
        admin.get_user(d.customer, second_in_x.user_id).await["group_ids"],
        json!([d.y]),
        "other memberships stay"
    );
    assert_eq!(admin.id_set(&format!("{}?group_id={}", users_of(d.customer), d.x)).await, BTreeSet::new());

    // The deletion ended the members' sessions (their tokens named the group).
    problem(d.in_x.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    // The former member, signed in again, is in no group but still limited to groups (issue
    // 14: deleting a group never widens anyone): it sees untagged data only, not Y's South.
    let again = app.sign_in_again(&d.in_x).await;
    assert_eq!(again.claims()["groups"], json!([]));
    assert_eq!(again.me().await["groups"], json!([]));
    assert_eq!(visible_labels(&again, d.customer).await, labels(&["Main", "North"]));
    assert_eq!(again.get(&address_path(d.customer, d.south)).await.status(), StatusCode::NOT_FOUND);
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
