//! The OpenAPI document: committed, served, and in step with the code.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = dockgate::cli::openapi_json().expect("document");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_has_an_id_a_tag_a_summary_and_documented_errors() {
    let document: Value =
        serde_json::from_str(&dockgate::cli::openapi_json().expect("document")).expect("json");
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let at = format!("{method} {path}");
            assert!(operation["operationId"].is_string(), "{at}: operationId");
            assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()), "{at}: tag");
            assert!(operation["summary"].is_string(), "{at}: summary");
            let responses = operation["responses"].as_object().expect("responses");
            if operation.get("security").is_some() {
                assert!(responses.contains_key("401"), "{at}: 401 documented");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{at}: {status} documented");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_service_serves_its_document_and_offline_docs() {
    let app = TestApp::spawn().await;
    let served: Value =
        app.client.get(app.url("/openapi.json")).send().await.expect("openapi").json().await.expect("json");
    let generated: Value =
        serde_json::from_str(&dockgate::cli::openapi_json().expect("document")).expect("json");
    assert_eq!(served, generated);

    let redirect = app.client.get(app.url("/docs")).send().await.expect("docs");
    assert!(redirect.status().is_redirection());
    let page = app.client.get(app.url("/docs/")).send().await.expect("docs page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"));
    assert!(!html.contains("https://"), "the docs page loads nothing from the internet");
}
