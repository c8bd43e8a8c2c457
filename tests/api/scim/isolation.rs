//! Tenant isolation: a directory of customer A never reads, finds, changes or links anything of
//! customer B, whatever ids of B it tries.

use reqwest::StatusCode;
use serde_json::json;

use super::{Directory, GROUP, error_of, scim_of, uid, user};
use crate::helpers::TestApp;

#[tokio::test]
async fn a_directory_of_one_customer_never_sees_or_links_anothers_people_or_groups() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = Directory::connect(&app, &admin, "Acme").await;
    let globex = Directory::connect(&app, &admin, "Globex").await;
    let theirs = globex.create_user(user("secret@globex.example")).await;
    let their_user = uid(&theirs);
    let their_group = uid(&globex.create_group(json!({"schemas": [GROUP], "displayName": "Globex HQ", "externalId": "g-1", "members": [{"value": their_user}]})).await);
    let ours = uid(&acme.create_user(user("jana@acme.example")).await);

    for path in [format!("/Users/{their_user}"), format!("/Groups/{their_group}")] {
        error_of(acme.get(&path).await, StatusCode::NOT_FOUND).await;
        error_of(
            acme.put(&path, &json!({"userName": "stolen", "displayName": "stolen"})).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        error_of(
            acme.patch(&path, json!([{"op": "replace", "path": "displayName", "value": "stolen"}])).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        error_of(acme.delete(&path).await, StatusCode::NOT_FOUND).await;
    }
    for filter in [
        format!("id eq \"{their_user}\""),
        "userName eq \"secret@globex.example\"".to_owned(),
        "emails.value co \"globex\"".to_owned(),
        "userName pr".to_owned(),
    ] {
        let (total, found) = acme.list(&format!("/Users?filter={}", urlencoding(&filter))).await;
        assert!(found.iter().all(|u| u["id"] != json!(their_user)), "{filter}");
        assert!(total <= 1, "{filter}: only Acme's own");
    }
    let (total, _) = acme
        .list(&format!("/Groups?filter={}", urlencoding(&format!("members.value eq \"{their_user}\""))))
        .await;
    assert_eq!(total, 0);
    let (total, _) = acme.list("/Groups").await;
    assert_eq!(total, 0);
    let root = scim_of(acme.post("/.search", &json!({})).await, StatusCode::OK).await;
    assert_eq!(root["totalResults"], 1, "only Acme's one user");

    // Linking B's person into A's group is ignored, on create, PATCH and PUT.
    let group = acme.create_group(json!({"schemas": [GROUP], "displayName": "Depot", "members": [{"value": their_user}, {"value": ours}]})).await;
    assert_eq!(group["members"].as_array().map(Vec::len), Some(1));
    let path = format!("/Groups/{}", uid(&group));
    let patched = scim_of(
        acme.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": their_user}]}])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["members"].as_array().map(Vec::len), Some(1));
    let put = scim_of(
        acme.put(&path, &json!({"displayName": "Depot", "members": [{"value": their_user}]})).await,
        StatusCode::OK,
    )
    .await;
    assert!(put.get("members").is_none());
    // B's group name and externalId are no conflict for A.
    acme.create_group(json!({"schemas": [GROUP], "displayName": "Globex HQ", "externalId": "g-1"})).await;
    // B's person is untouched.
    let still = scim_of(globex.get(&format!("/Users/{their_user}")).await, StatusCode::OK).await;
    assert_eq!(still["groups"].as_array().map(Vec::len), Some(1));
    assert_eq!(still["userName"], theirs["userName"]);
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
