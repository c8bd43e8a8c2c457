//! Filters, pages and attribute selection.

use reqwest::StatusCode;
use serde_json::json;

use super::{Directory, GROUP, error_of, scim_of, uid, user};
use crate::helpers::TestApp;

fn q(filter: &str) -> String {
    format!("/Users?filter={}", url_escape(filter))
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn every_filterable_attribute_and_every_operator_works() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    let mut jana = user("jana@acme.example");
    jana["externalId"] = json!("E-1");
    jana["displayName"] = json!("Jana Berg");
    jana["emails"] = json!([{"value": "jana@acme.example", "type": "work", "primary": true}, {"value": "jana@home.example", "type": "home"}]);
    let jana = uid(&entra.create_user(jana).await);
    let mut tom = user("tom@acme.example");
    tom["externalId"] = json!("E-2");
    tom["active"] = json!(false);
    let tom = uid(&entra.create_user(tom).await);
    let ids = |found: Vec<serde_json::Value>| {
        let mut ids: Vec<String> = found.iter().map(uid).collect();
        ids.sort();
        ids
    };
    let mut both = vec![jana.clone(), tom.clone()];
    both.sort();
    for (filter, expected) in [
        ("userName eq \"JANA@acme.example\"", vec![jana.clone()]),
        ("USERNAME Eq \"jana@acme.example\"", vec![jana.clone()]),
        ("userName sw \"tom\"", vec![tom.clone()]),
        ("userName ew \"@acme.example\"", both.clone()),
        ("userName co \"an\"", vec![jana.clone()]),
        ("userName ne \"jana@acme.example\"", vec![tom.clone()]),
        ("externalId eq \"e-2\"", vec![tom.clone()]),
        ("externalId pr", both.clone()),
        (&format!("id eq \"{jana}\""), vec![jana.clone()]),
        ("emails.value eq \"jana@home.example\"", vec![jana.clone()]),
        ("emails[type eq \"work\"].value eq \"jana@acme.example\"", vec![jana.clone()]),
        ("emails[type eq \"work\"].value eq \"jana@home.example\"", vec![]),
        ("active eq true", vec![jana.clone()]),
        ("active eq false", vec![tom.clone()]),
        ("displayName eq \"jana berg\"", vec![jana.clone()]),
        ("userName sw \"jana\" and active eq true", vec![jana.clone()]),
        ("userName sw \"jana\" or externalId eq \"E-2\"", both.clone()),
        ("not (userName sw \"jana\")", vec![tom.clone()]),
        ("(userName sw \"jana\" or userName sw \"tom\") and not (active eq false)", vec![jana.clone()]),
        ("userName eq \"nobody@acme.example\"", vec![]),
    ] {
        let (total, found) = entra.list(&q(filter)).await;
        assert_eq!(ids(found), expected, "{filter}");
        assert_eq!(total as usize, expected.len(), "{filter}");
    }
    for bad in ["title eq \"x\"", "userName gt \"a\"", "userName eq", "meta.created pr"] {
        let error = error_of(entra.get(&q(bad)).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["scimType"], "invalidFilter", "{bad}");
    }

    let group = uid(&entra
        .create_group(json!({"schemas": [GROUP], "displayName": "Inbound", "members": [{"value": jana}]}))
        .await);
    let (total, found) =
        entra.list(&format!("/Groups?filter={}", url_escape(&format!("members.value eq \"{jana}\"")))).await;
    assert_eq!((total, found.iter().map(uid).collect::<Vec<_>>()), (1, vec![group.clone()]));
    let (total, _) =
        entra.list(&format!("/Groups?filter={}", url_escape("displayName eq \"inbound\""))).await;
    assert_eq!(total, 1);
    let (total, _) =
        entra.list(&format!("/Groups?filter={}", url_escape(&format!("members.value eq \"{tom}\"")))).await;
    assert_eq!(total, 0);
}

#[tokio::test]
async fn pages_count_and_attribute_selection() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;
    for i in 0..5 {
        entra.create_user(user(&format!("p{i}@acme.example"))).await;
    }
    let only_total = scim_of(entra.get("/Users?count=0").await, StatusCode::OK).await;
    assert_eq!(only_total["totalResults"], 5);
    assert_eq!(only_total["Resources"], json!([]));
    let page = scim_of(entra.get("/Users?startIndex=2&count=2&aadOptscim062020").await, StatusCode::OK).await;
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    let (_, all) = entra.list("/Users").await;
    assert_eq!(page["Resources"][0]["id"], all[1]["id"], "1-based, ordered");
    let last = scim_of(entra.get("/Users?startIndex=5&count=10").await, StatusCode::OK).await;
    assert_eq!(last["itemsPerPage"], 1);
    let capped = scim_of(entra.get("/Users?count=100000&startIndex=0").await, StatusCode::OK).await;
    assert_eq!(capped["startIndex"], 1);

    let slim =
        scim_of(entra.get("/Users?attributes=userName,name.givenName&count=1").await, StatusCode::OK).await;
    let first = &slim["Resources"][0];
    assert!(first["userName"].is_string() && first["id"].is_string() && first["meta"].is_object());
    assert_eq!(first["name"], json!({"givenName": "Jana"}));
    assert!(first.get("emails").is_none() && first.get("active").is_none());
    let without =
        scim_of(entra.get("/Users?excludedAttributes=emails,name&count=1").await, StatusCode::OK).await;
    assert!(
        without["Resources"][0].get("emails").is_none() && without["Resources"][0]["userName"].is_string()
    );

    // POST /.search, per resource and at the root.
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName sw \"p1\"", "count": 10});
    let found = scim_of(entra.post("/Users/.search", &search).await, StatusCode::OK).await;
    assert_eq!(found["totalResults"], 1);
    entra.create_group(json!({"schemas": [GROUP], "displayName": "Everyone"})).await;
    let root = scim_of(entra.post("/.search", &json!({"count": 100})).await, StatusCode::OK).await;
    assert_eq!(root["totalResults"], 6);
    assert_eq!(root["Resources"].as_array().map(Vec::len), Some(6));
    let groups_only = scim_of(
        entra.post("/Groups/.search", &json!({"filter": "displayName eq \"everyone\""})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(groups_only["totalResults"], 1);
}
