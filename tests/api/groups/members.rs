//! People join groups through their `group_ids`; lists, counts, tokens and `/v1/me` agree.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

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

    // Leaving every group: sessions end, and the person stays limited to groups (issue 14:
    // leaving groups never widens): the token says [], untagged data only.
    let left =
        json_of(patch_user(&admin, acme, session.user_id, json!({"group_ids": []})).await, StatusCode::OK)
            .await;
    assert_eq!(left["data_scope"], "groups");
    problem(again.refresh().await, StatusCode::UNAUTHORIZED).await;
    let last = app.sign_in_again(&session).await;
    assert_eq!(last.claims()["groups"], json!([]));
    assert_eq!(last.me().await["groups"], json!([]));

    // Only an explicit data_scope: "all" widens; sessions end again and the token says ["*"].
    let widened = json_of(
        patch_user(&admin, acme, session.user_id, json!({"data_scope": "all"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(widened["data_scope"], "all");
    problem(last.refresh().await, StatusCode::UNAUTHORIZED).await;
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
