//! Reading answers: bodies, headers, problems, tokens.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// The JSON body of a response that must have `status`.
pub async fn json_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    response.json().await.expect("json")
}

/// The status and the text of a response, for comparing two answers.
pub async fn answer(response: Response) -> (StatusCode, String) {
    (response.status(), response.text().await.expect("body"))
}

pub fn etag_of(response: &Response) -> String {
    response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned()
}

/// The id field of a JSON resource.
pub fn id_of(value: &Value) -> Uuid {
    value["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()).expect("an id")
}

/// The payload of a JWT, decoded without verifying it (as a consumer reading its claims).
pub fn claims(token: &str) -> Value {
    decoded_claims(token).expect("a JWT payload")
}

/// [`claims`], or `None` for what is no JWT.
pub fn decoded_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())?;
    serde_json::from_slice(&payload).ok()
}

/// The fields a validation problem names, in order.
pub fn error_fields(body: &Value) -> Vec<String> {
    errors(body).map(|e| text(e, "field")).collect()
}

/// The `(field, code)` pairs of a validation problem.
pub fn field_errors(body: &Value) -> Vec<(String, String)> {
    errors(body).map(|e| (text(e, "field"), text(e, "code"))).collect()
}

fn errors(body: &Value) -> impl Iterator<Item = &Value> {
    body["errors"].as_array().unwrap_or_else(|| panic!("errors in {body}")).iter()
}

fn text(error: &Value, key: &str) -> String {
    error[key].as_str().unwrap_or_else(|| panic!("a {key} in {error}")).to_owned()
}

pub fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

/// Reads a problem+json body, checking the content type and that the status agrees.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(content_type, "application/problem+json", "problem content type");
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], json!(status.as_u16()));
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("urn:dockgate:problem:")), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}
