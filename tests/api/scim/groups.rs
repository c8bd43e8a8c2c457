//! Groups and their members, as Entra ID and Okta change them.

use reqwest::StatusCode;
use serde_json::json;

use super::{Directory, GROUP, error_of, scim_of, uid, user};
use crate::helpers::TestApp;
use crate::helpers::read::id_of;

fn members_of(group: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["value"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_group_keeps_only_members_of_its_own_customer() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    let other = id_of(&admin.create_customer("Globex").await);
    let foreign = id_of(&admin.add_user(other, json!({"name": "Foreign"})).await).to_string();
    let (jana, tom) = (
        uid(&entra.create_user(user("jana@acme.example")).await),
        uid(&entra.create_user(user("tom@acme.example")).await),
    );

    let group = entra
        .create_group(json!({
            "schemas": [GROUP], "displayName": "Depot North", "externalId": "entra-group-1",
            "members": [{"value": jana}, {"value": foreign}, {"value": "fake-member-id"}, {"value": uuid::Uuid::now_v7()}],
        }))
        .await;
    let id = uid(&group);
    assert_eq!(members_of(&group), vec![jana.clone()], "unknown and foreign ids are ignored");
    assert_eq!(group["externalId"], "entra-group-1");
    let jana_now = scim_of(entra.get(&format!("/Users/{jana}")).await, StatusCode::OK).await;
    assert_eq!(jana_now["groups"][0]["value"], json!(id));
    assert_eq!(jana_now["groups"][0]["display"], "Depot North");

    // Okta adds, Entra removes with a value filter, and with its legacy value list.
    let path = format!("/Groups/{id}");
    let added = scim_of(
        entra
            .patch(
                &path,
                json!([{"op": "add", "path": "members", "value": [{"value": tom}, {"value": foreign}]}]),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mut both = vec![jana.clone(), tom.clone()];
    both.sort();
    assert_eq!(members_of(&added), both);
    let removed = scim_of(
        entra.patch(&path, json!([{"op": "remove", "path": format!("members[value eq \"{tom}\"]")}])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(members_of(&removed), vec![jana.clone()]);
    let legacy = scim_of(
        entra.patch(&path, json!([{"op": "Remove", "path": "members", "value": [{"value": jana}]}])).await,
        StatusCode::OK,
    )
    .await;
    assert!(members_of(&legacy).is_empty());
    scim_of(
        entra
            .patch(
                &path,
                json!([{"op": "add", "path": "members", "value": [{"value": jana}, {"value": tom}]}]),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let cleared =
        scim_of(entra.patch(&path, json!([{"op": "remove", "path": "members"}])).await, StatusCode::OK).await;
    assert!(members_of(&cleared).is_empty(), "remove without a value clears all members");
    let renamed = scim_of(
        entra.patch(&path, json!([{"op": "replace", "value": {"displayName": "Depot N."}}])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["displayName"], "Depot N.");
    // The REST API sees the same group.
    let rest = admin.get(&format!("/v1/customers/{}/groups/{id}", entra.customer)).await;
    assert_eq!(rest.json::<serde_json::Value>().await.expect("group")["name"], "Depot N.");

    // PUT replaces the members too.
    let put = scim_of(
        entra
            .put(&path, &json!({"schemas": [GROUP], "displayName": "Depot N.", "members": [{"value": tom}]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(members_of(&put), vec![tom.clone()]);
    assert!(put.get("externalId").is_none(), "PUT clears what it leaves out");

    let taken = error_of(
        entra.post("/Groups", &json!({"schemas": [GROUP], "displayName": "depot n."})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(taken["scimType"], "uniqueness");

    assert_eq!(entra.delete(&path).await.status(), StatusCode::NO_CONTENT);
    error_of(entra.get(&path).await, StatusCode::NOT_FOUND).await;
    let tom_now = scim_of(entra.get(&format!("/Users/{tom}")).await, StatusCode::OK).await;
    assert!(tom_now.get("groups").is_none());
}
