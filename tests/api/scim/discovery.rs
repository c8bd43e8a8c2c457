//! Discovery: truthful, read-only, in SCIM's media type.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Directory, error_of, scim_of};
use crate::helpers::TestApp;

#[tokio::test]
async fn a_directory_learns_what_dockgate_supports_and_nothing_it_does_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;

    let spc = scim_of(entra.get("/ServiceProviderConfig").await, StatusCode::OK).await;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], 200);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["sort"]["supported"], false);
    assert_eq!(spc["changePassword"]["supported"], false);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");

    let (total, types) = entra.list("/ResourceTypes").await;
    assert_eq!(total, 2);
    let user = types.iter().find(|t| t["name"] == "User").expect("User");
    assert_eq!(user["endpoint"], "/Users", "relative endpoints");
    assert_eq!(
        user["schemaExtensions"][0]["schema"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );
    let group = scim_of(entra.get("/ResourceTypes/Group").await, StatusCode::OK).await;
    assert_eq!(group["endpoint"], "/Groups");
    error_of(entra.get("/ResourceTypes/Agent").await, StatusCode::NOT_FOUND).await;

    let (total, schemas) = entra.list("/Schemas").await;
    assert_eq!(total, 3);
    let ids: Vec<&str> = schemas.iter().filter_map(|s| s["id"].as_str()).collect();
    assert!(ids.contains(&super::USER) && ids.contains(&super::GROUP), "{ids:?}");
    let user_schema = scim_of(entra.get(&format!("/Schemas/{}", super::USER)).await, StatusCode::OK).await;
    let groups = user_schema["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "groups")
        .expect("groups");
    assert_eq!(groups["mutability"], "readOnly", "read-only attributes are marked so");
    error_of(entra.get("/Schemas/urn:example:nothing").await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn discovery_is_read_only_and_unknown_urls_are_scim_404s() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let entra = Directory::connect(&app, &admin, "Acme").await;

    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let response = entra.send(method.clone(), path, Some(&json!({}))).await;
            let allow =
                response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            error_of(response, StatusCode::METHOD_NOT_ALLOWED).await;
            assert_eq!(allow, "GET", "{method} {path}");
        }
    }
    for path in ["/Agents", "/Users/x/y", "/Bulk", "/Me"] {
        error_of(entra.get(path).await, StatusCode::NOT_FOUND).await;
    }
    // Outside /scim/v2 the house's problem details stay.
    let response = entra.bearer.get("/v1/nothing-here").await;
    assert!(
        response.headers()["content-type"].to_str().unwrap_or("").starts_with("application/problem+json")
    );
}
