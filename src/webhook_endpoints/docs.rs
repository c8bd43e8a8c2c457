//! The events dockgate POSTs, in the document's OpenAPI 3.1 `webhooks` map: one entry per
//! [`EventType`], each a POST of [`WebhookPayload`](super::dto::WebhookPayload) with that `type`
//! and its `data`, and the three Standard Webhooks headers. Added to the finished document as
//! JSON (utoipa collects operations from routes, and these are requests dockgate sends).

use serde_json::{Map, Value, json};

use crate::webhooks::EventType;

/// The schema of an event's `data`: the resource's public view (by its component name), or an
/// object of its own.
fn data_of(event_type: EventType) -> Value {
    let view = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    match event_type {
        EventType::UserCreated
        | EventType::UserUpdated
        | EventType::UserDeactivated
        | EventType::UserReactivated
        | EventType::UserDeleted
        | EventType::UserAccessChanged => view("UserView"),
        EventType::InvitationCreated | EventType::InvitationAccepted | EventType::InvitationRevoked => {
            view("InvitationView")
        }
        EventType::GroupCreated | EventType::GroupUpdated | EventType::GroupDeleted => view("GroupView"),
        EventType::GroupMembersChanged => json!({
            "type": "object",
            "required": ["group_id", "customer_id", "added_user_ids", "removed_user_ids"],
            "properties": {
                "group_id": {"type": "string", "format": "uuid"},
                "customer_id": {"type": "string", "format": "uuid"},
                "added_user_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                "removed_user_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}}
            }
        }),
        EventType::CustomerUpdated | EventType::CustomerSuspended => view("CustomerView"),
        EventType::ApiClientRevoked => view("ApiClientView"),
        EventType::WebhookTest => json!({
            "type": "object",
            "required": ["webhook_id"],
            "properties": {"webhook_id": {"type": "string", "format": "uuid"}}
        }),
    }
}

/// `user.access_changed` -> `userAccessChangedEvent`.
fn operation_id(event_type: EventType) -> String {
    let mut id = String::new();
    let mut upper = false;
    for c in event_type.as_str().chars() {
        if c == '.' || c == '_' {
            upper = true;
        } else if upper {
            id.extend(c.to_uppercase());
            upper = false;
        } else {
            id.push(c);
        }
    }
    id + "Event"
}

fn header(name: &str, description: &str, example: &str) -> Value {
    json!({
        "name": name, "in": "header", "required": true, "description": description,
        "schema": {"type": "string"}, "example": example
    })
}

fn entry(event_type: EventType) -> Value {
    let data = json!({"oneOf": [data_of(event_type), {"$ref": "#/components/schemas/WebhookTruncatedData"}]});
    let body = json!({
        "allOf": [
            {"$ref": "#/components/schemas/WebhookPayload"},
            {"type": "object", "properties": {"type": {"const": event_type.as_str()}, "data": data}}
        ]
    });
    json!({"post": {
        "tags": ["webhooks"],
        "operationId": operation_id(event_type),
        "summary": format!("The {} event", event_type.as_str()),
        "description": format!(
            "{} POSTed to every active endpoint that hears `{}`, signed as Standard Webhooks 1.0.",
            event_type.description(),
            event_type.as_str()
        ),
        "security": [],
        "parameters": [
            header("webhook-id", "`msg_` and the event's id: the same at every endpoint and on every retry; drop a message whose id you have seen.", "msg_01936f0e7c1a7d2b9a513f1f2b7c4dc0"),
            header("webhook-timestamp", "Unix seconds of this attempt; refuse a message more than 5 minutes off your clock.", "1764576000"),
            header("webhook-signature", "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded secret (without `whsec_`); two, separated by a space, for 24 hours after a rotation.", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="),
        ],
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": body}}
        },
        "responses": {
            "200": {"description": "Any 2xx: received. Answer quickly (within 15 seconds) and process later."},
            "410": {"description": "Gone: dockgate disables the endpoint (reason `gone`) and sends it nothing more. Any other answer, a redirect, or no answer is retried."}
        }
    }})
}

/// Adds `webhooks` and the schema of an oversized event's `data` to the document.
pub fn complete(document: &mut Value) {
    let webhooks: Map<String, Value> =
        EventType::ALL.iter().map(|t| (t.as_str().to_owned(), entry(*t))).collect();
    document["webhooks"] = Value::Object(webhooks);
    if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.insert(
            "WebhookTruncatedData".into(),
            json!({
                "type": "object",
                "description": "The `data` of an event whose body would exceed 20 kB: read the resource from the API.",
                "required": ["id", "customer_id", "truncated"],
                "properties": {
                    "id": {"type": ["string", "null"]},
                    "customer_id": {"type": ["string", "null"]},
                    "truncated": {"type": "boolean", "const": true}
                }
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_camel_case() {
        assert_eq!(operation_id(EventType::UserAccessChanged), "userAccessChangedEvent");
        assert_eq!(operation_id(EventType::ApiClientRevoked), "apiClientRevokedEvent");
    }
}
