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
            if operation["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(responses.contains_key("401"), "{at}: 401 documented");
            }
            // The token endpoint answers in RFC 6749's terms: every malformed request, whatever
            // is wrong with it (too long, not a form), is a 400 `invalid_request`.
            if path == "/v1/oauth/token" {
                assert!(responses.contains_key("400"), "{at}: 400 documented");
            } else if operation["tags"][0] == "SCIM" {
                // SCIM (RFC 7644 §3.12) has no 422: an invalid attribute is a 400
                // `invalidValue`; its bodies and errors are `application/scim+json`.
                if operation.get("requestBody").is_some() {
                    for status in ["400", "413", "415"] {
                        assert!(responses.contains_key(status), "{at}: {status} documented");
                    }
                }
                for (status, response) in responses {
                    if let Some(content) = response["content"].as_object() {
                        assert!(
                            content.keys().all(|t| t == "application/scim+json"),
                            "{at} {status}: SCIM's media type"
                        );
                    }
                }
            } else if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{at}: {status} documented");
                }
            }
        }
    }
}

/// What a generated client (openapi-typescript) needs to read a value and send it back without
/// casts, and what the linters ask for.
#[test]
fn the_document_is_exact_enough_for_generated_clients() {
    let document: Value =
        serde_json::from_str(&dockgate::cli::openapi_json().expect("document")).expect("json");
    assert_eq!(document["servers"][0]["url"], "/", "a relative default server");
    let schemas = document["components"]["schemas"].as_object().expect("schemas");
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let at = format!("{method} {path}");
            assert!(operation["security"].is_array(), "{at}: security stated, [] when public");
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = &parameter["name"];
                assert!(parameter["description"].as_str().is_some_and(|d| !d.is_empty()), "{at} {name}");
                assert!(!parameter["example"].is_null(), "{at} {name}: example");
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        &document["components"]["responses"]
                            [reference.trim_start_matches("#/components/responses/")]
                    }
                    None => response,
                };
                assert!(response["headers"]["x-request-id"].is_object(), "{at} {status}: x-request-id");
            }
            if method == "patch" {
                assert!(operation["requestBody"]["content"]["application/json"].is_object(), "{at}");
            }
        }
    }
    for (name, schema) in schemas.iter().filter(|(name, _)| name.starts_with("List_")) {
        let item = name.trim_start_matches("List_");
        assert_eq!(schema["properties"]["items"]["items"]["$ref"], format!("#/components/schemas/{item}"));
        let required = schema["required"].as_array().expect("required");
        assert!(required.contains(&Value::from("next_cursor")), "{name}: next_cursor always sent");
    }
    for (view, property) in [
        ("AddressView", "country"),
        ("Problem", "type"),
        ("FieldError", "code"),
        ("TokenResponse", "token_type"),
        ("CheckResponse", "reason"),
        ("HealthStatus", "status"),
        ("AuditEventView", "actor_kind"),
        ("AuditEventView", "target_type"),
        ("AuditEventView", "action"),
    ] {
        let schema = &schemas[view]["properties"][property];
        // A nullable reference is `oneOf: [null, $ref]`.
        let reference = schema["$ref"]
            .as_str()
            .or_else(|| schema["oneOf"].as_array()?.iter().find_map(|branch| branch["$ref"].as_str()));
        let target = match reference {
            Some(reference) => &schemas[reference.trim_start_matches("#/components/schemas/")],
            None => schema,
        };
        assert!(target["enum"].is_array(), "{view}.{property} is an enum: {schema}");
    }
    let changes = &schemas["AuditEventView"]["properties"]["changes"];
    assert!(changes.to_string().contains("\"from\"") && changes.to_string().contains("\"to\""), "{changes}");
}

/// Every `$ref` points at something the document has (linters and generators fail otherwise).
#[test]
fn every_reference_resolves() {
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    out.push(reference);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let document: Value =
        serde_json::from_str(&dockgate::cli::openapi_json().expect("document")).expect("json");
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let pointer = reference.trim_start_matches('#');
        assert!(document.pointer(pointer).is_some(), "{reference} resolves to nothing");
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
