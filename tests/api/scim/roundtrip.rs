//! Every writable attribute /Schemas publishes comes back exactly as it was put, driven by the
//! /Schemas answer itself (so publishing an attribute that is not kept fails here).

use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use super::{Directory, GROUP, USER, scim_of, uid};
use crate::helpers::TestApp;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn writable(attribute: &Value) -> bool {
    matches!(attribute["mutability"].as_str(), Some("readWrite" | "immutable"))
}

/// A value of `attribute`'s type: the first canonical value, `true`, a unique text.
fn sample(attribute: &Value, seed: &str, user_id: Option<&str>) -> Value {
    let name = attribute["name"].as_str().unwrap_or_default();
    let one = match attribute["type"].as_str() {
        Some("boolean") => json!(true),
        Some("complex") => {
            let mut out = Map::new();
            for sub in attribute["subAttributes"].as_array().into_iter().flatten().filter(|s| writable(s)) {
                out.insert(sub["name"].as_str().unwrap_or_default().to_owned(), sample(sub, seed, user_id));
            }
            Value::Object(out)
        }
        Some("reference") => json!(format!("https://idp.example/{seed}/{name}")),
        _ => match attribute["canonicalValues"].as_array().and_then(|v| v.first()) {
            Some(first) => first.clone(),
            None if name == "value" && user_id.is_some() => json!(user_id),
            None if name == "value" => json!(format!("{seed}-{name}@acme.example")),
            None => json!(format!("{seed} {name} \u{e9}\u{1F69A}")),
        },
    };
    if attribute["multiValued"] == true { json!([one]) } else { one }
}

#[tokio::test]
async fn every_published_writable_attribute_round_trips_byte_equal() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let okta = Directory::connect(&app, &admin, "Acme").await;
    let (_, schemas) = okta.list("/Schemas").await;
    let attributes_of = |urn: &str| -> Vec<Value> {
        schemas
            .iter()
            .find(|s| s["id"] == urn)
            .and_then(|s| s["attributes"].as_array())
            .cloned()
            .unwrap_or_default()
    };

    let mut body = Map::new();
    body.insert("schemas".into(), json!([USER, ENTERPRISE]));
    for attribute in attributes_of(USER).iter().filter(|a| writable(a)) {
        body.insert(attribute["name"].as_str().unwrap_or_default().to_owned(), sample(attribute, "rt", None));
    }
    body.insert("userName".into(), json!("round.trip@acme.example"));
    body.insert(
        "emails".into(),
        json!([{"value": "round.trip@acme.example", "display": "Work", "type": "work", "primary": true}]),
    );
    let mut extension = Map::new();
    for attribute in attributes_of(ENTERPRISE).iter().filter(|a| writable(a)) {
        extension.insert(
            attribute["name"].as_str().unwrap_or_default().to_owned(),
            sample(attribute, "ext", None),
        );
    }
    body.insert(ENTERPRISE.into(), Value::Object(extension));
    let body = Value::Object(body);
    let created = okta.create_user(body.clone()).await;
    let id = uid(&created);
    let got = scim_of(okta.get(&format!("/Users/{id}")).await, StatusCode::OK).await;
    for (key, value) in body.as_object().expect("object") {
        if key != "schemas" {
            assert_eq!(&got[key], value, "{key} round-trips");
        }
    }
    // And through PUT.
    let replaced = scim_of(okta.put(&format!("/Users/{id}"), &body).await, StatusCode::OK).await;
    for (key, value) in body.as_object().expect("object") {
        if key != "schemas" {
            assert_eq!(&replaced[key], value, "{key} round-trips through PUT");
        }
    }

    let mut group = Map::new();
    group.insert("schemas".into(), json!([GROUP]));
    for attribute in attributes_of(GROUP).iter().filter(|a| writable(a)) {
        group.insert(
            attribute["name"].as_str().unwrap_or_default().to_owned(),
            sample(attribute, "grp", Some(&id)),
        );
    }
    group.insert("externalId".into(), json!("group-ext-1"));
    let group = Value::Object(group);
    let created = okta.create_group(group.clone()).await;
    let got = scim_of(okta.get(&format!("/Groups/{}", uid(&created))).await, StatusCode::OK).await;
    for (key, value) in group.as_object().expect("object") {
        if key != "schemas" {
            assert_eq!(&got[key], value, "group {key} round-trips");
        }
    }
}
