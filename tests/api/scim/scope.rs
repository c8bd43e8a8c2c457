//! The data scope of directory-managed people: a directory never widens what anyone sees.

use reqwest::StatusCode;
use serde_json::json;

use super::{Directory, GROUP, scim_of, uid, user};
use crate::helpers::TestApp;
use crate::helpers::read::id_of;

#[tokio::test]
async fn directory_people_see_only_their_groups_and_leaving_the_last_group_never_widens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    let customer = entra.customer;

    // Created by the directory: deny by default.
    let created = uid(&entra.create_user(user("new@acme.example")).await);
    let row = admin.get_user(customer, created.parse().expect("uuid")).await;
    assert_eq!(row["data_scope"], "groups");
    assert_eq!(row["group_ids"], json!([]));

    // Someone who saw everything joins a directory group: narrowed to it.
    let person = admin.add_person(customer, "Mia", json!({})).await;
    let mia_id = id_of(&person);
    let mia = app.sign_in_member(&person).await;
    assert_eq!(mia.claims()["groups"], json!(["*"]));
    admin.add_address(customer, "Untagged", None).await;
    let group = entra
        .create_group(json!({"schemas": [GROUP], "displayName": "North", "members": [{"value": mia_id}]}))
        .await;
    let north: uuid::Uuid = uid(&group).parse().expect("uuid");
    admin.add_address(customer, "North dock", Some(north)).await;
    assert_eq!(
        mia.get("/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "its access changed: sessions end"
    );
    let mia = app.sign_in_member(&person).await;
    assert_eq!(mia.claims()["groups"], json!([north.to_string()]));
    assert_eq!(admin.get_user(customer, mia_id).await["data_scope"], "groups");
    let labels = |addresses: Vec<serde_json::Value>| {
        let mut labels: Vec<String> =
            addresses.iter().filter_map(|a| a["label"].as_str().map(str::to_owned)).collect();
        labels.sort();
        labels
    };
    assert_eq!(
        labels(mia.list(&format!("/v1/customers/{customer}/warehouse-addresses")).await),
        vec!["North dock", "Untagged"]
    );

    // The directory removes it from its last group: it sees untagged data only, never more.
    scim_of(
        entra
            .patch(
                &format!("/Groups/{north}"),
                json!([{"op": "remove", "path": format!("members[value eq \"{mia_id}\"]")}]),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mia = app.sign_in_member(&person).await;
    assert_eq!(mia.claims()["groups"], json!([]));
    assert_eq!(admin.get_user(customer, mia_id).await["data_scope"], "groups");
    assert_eq!(
        labels(mia.list(&format!("/v1/customers/{customer}/warehouse-addresses")).await),
        vec!["Untagged"]
    );

    // Deleting a group widens nobody either.
    scim_of(
        entra
            .patch(
                &format!("/Groups/{north}"),
                json!([{"op": "add", "path": "members", "value": [{"value": mia_id}]}]),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    admin
        .delete(
            &format!(
                "/v1/customers/{customer}/warehouse-addresses/{}",
                id_of(
                    &admin
                        .list(&format!("/v1/customers/{customer}/warehouse-addresses"))
                        .await
                        .into_iter()
                        .find(|a| a["label"] == "North dock")
                        .expect("north")
                )
            ),
            None,
        )
        .await;
    assert_eq!(entra.delete(&format!("/Groups/{north}")).await.status(), StatusCode::NO_CONTENT);
    let mia = app.sign_in_member(&person).await;
    assert_eq!(mia.claims()["groups"], json!([]));
}
