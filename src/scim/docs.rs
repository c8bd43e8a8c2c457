//! The SCIM part of the OpenAPI document: the request bodies and responses of the operations
//! tagged `SCIM` (all `application/scim+json`, errors in SCIM's shape, never problem details)
//! and their brief schemas. RFC 7643/7644 are the reference; the document says what dockgate
//! guarantees (the attributes a resource always has) and leaves the rest to them.
//!
//! utoipa describes the paths and parameters from the handlers; this fills in what it cannot
//! say about bodies that are not Rust types (a SCIM resource is the client's representation).

use serde_json::{Map, Value, json};

use super::response::SCIM_JSON;

const OPERATIONS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn content(schema: Value) -> Value {
    json!({SCIM_JSON: {"schema": schema}})
}

fn error(description: &str) -> Value {
    json!({"description": description, "content": content(schema_ref("ScimError"))})
}

fn with_header(mut response: Value, name: &str, description: &str) -> Value {
    response["headers"][name] = json!({"description": description, "schema": {"type": "string"}});
    response
}

fn resource(description: &str, schema: &str, tagged: bool) -> Value {
    let response = json!({"description": description, "content": content(schema_ref(schema))});
    if tagged { with_header(response, "ETag", "The resource's version (`meta.version`).") } else { response }
}

/// What each SCIM operation takes and answers, by operation id.
/// An operation's request body schema (if it takes one) and its own answers by status.
type Shape = (Option<&'static str>, Vec<(&'static str, Value)>);

fn shape(operation_id: &str) -> Option<Shape> {
    let user = || resource("The user.", "ScimUser", true);
    let group = || resource("The group.", "ScimGroup", true);
    let list = || resource("A ListResponse.", "ScimListResponse", false);
    let created = |schema: &str| {
        with_header(
            resource("Created.", schema, true),
            "Location",
            "The new resource's URL (`meta.location`).",
        )
    };
    let not_modified = || json!({"description": "Not modified: `If-None-Match` names the current version."});
    Some(match operation_id {
        "scimServiceProviderConfig" => (
            None,
            vec![(
                "200",
                resource("What this service provider supports.", "ScimServiceProviderConfig", false),
            )],
        ),
        "scimListResourceTypes" | "scimListSchemas" => (None, vec![("200", list())]),
        "scimGetResourceType" => (
            None,
            vec![
                ("200", resource("The resource type.", "ScimResourceType", false)),
                ("404", error("No such resource type.")),
            ],
        ),
        "scimGetSchema" => (
            None,
            vec![("200", resource("The schema.", "ScimSchema", false)), ("404", error("No such schema."))],
        ),
        "scimListUsers" | "scimListGroups" => (
            None,
            vec![
                ("200", list()),
                ("400", error("`invalidFilter`, or a parameter of the wrong type (`invalidValue`).")),
            ],
        ),
        "scimSearchUsers" | "scimSearchGroups" | "scimSearch" => {
            (Some("ScimSearchRequest"), vec![("200", list())])
        }
        "scimGetUser" => {
            (None, vec![("200", user()), ("304", not_modified()), ("404", error("No such user."))])
        }
        "scimGetGroup" => {
            (None, vec![("200", group()), ("304", not_modified()), ("404", error("No such group."))])
        }
        "scimCreateUser" => (
            Some("ScimUserRequest"),
            vec![
                ("201", created("ScimUser")),
                ("409", error("`uniqueness`: the userName, e-mail address or externalId is taken.")),
            ],
        ),
        "scimCreateGroup" => (
            Some("ScimGroupRequest"),
            vec![
                ("201", created("ScimGroup")),
                ("409", error("`uniqueness`: the displayName or externalId is taken.")),
            ],
        ),
        "scimReplaceUser" | "scimPatchUser" => (
            Some(if operation_id == "scimPatchUser" { "ScimPatchOp" } else { "ScimUserRequest" }),
            vec![
                ("200", user()),
                ("404", error("No such user.")),
                ("409", error("`uniqueness`: the userName, e-mail address or externalId is taken.")),
                ("412", error("`If-Match` does not name the current version.")),
            ],
        ),
        "scimReplaceGroup" | "scimPatchGroup" => (
            Some(if operation_id == "scimPatchGroup" { "ScimPatchOp" } else { "ScimGroupRequest" }),
            vec![
                ("200", group()),
                ("404", error("No such group.")),
                ("409", error("`uniqueness`: the displayName or externalId is taken.")),
                ("412", error("`If-Match` does not name the current version.")),
            ],
        ),
        "scimDeleteUser" | "scimDeleteGroup" => (
            None,
            vec![
                ("204", json!({"description": "Deleted."})),
                ("404", error("No such resource.")),
                ("409", error("The group still tags warehouse addresses.")),
                ("412", error("`If-Match` does not name the current version.")),
            ],
        ),
        _ => return None,
    })
}

/// The answers every SCIM operation can give.
fn common(has_body: bool) -> Vec<(&'static str, Value)> {
    let mut all = vec![
        ("401", with_header(error("No valid bearer token."), "WWW-Authenticate", "`Bearer`.")),
        (
            "403",
            error(
                "Not an API client of a customer with `users.manage` that sees all of its data; or a change of the customer's owner, which only staff and the owner make.",
            ),
        ),
        (
            "429",
            with_header(error("Too many SCIM requests from this client."), "Retry-After", "Seconds to wait."),
        ),
        ("503", error("The database cannot be reached; retry shortly.")),
    ];
    if has_body {
        all.extend([
            ("400", error("Broken JSON (`invalidSyntax`), a missing or invalid attribute (`invalidValue`), a bad PATCH path (`invalidPath`, `noTarget`) or filter (`invalidFilter`).")),
            ("413", error("The body is larger than 1 MiB.")),
            ("415", error("The body is not JSON.")),
        ]);
    }
    all
}

/// Fills in the SCIM operations of `document` and adds their schemas.
pub fn complete(document: &mut Value) {
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if !path.starts_with(super::response::BASE_PATH) {
                continue;
            }
            for method in OPERATIONS {
                let Some(operation) = item.get_mut(method) else { continue };
                let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
                let Some((body, answers)) = shape(&id) else { continue };
                if let Some(body) = body {
                    operation["requestBody"] = json!({
                        "required": true,
                        "content": {
                            SCIM_JSON: {"schema": schema_ref(body)},
                            "application/json": {"schema": schema_ref(body)},
                        },
                    });
                }
                let mut responses = Map::new();
                for (status, response) in common(body.is_some()).into_iter().chain(answers) {
                    responses.insert(status.to_owned(), response);
                }
                operation["responses"] = Value::Object(responses);
            }
        }
    }
    if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas_json() {
            schemas.insert(name.to_owned(), schema);
        }
    }
}

fn urns(example: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": "The schema URNs of the body.", "example": [example]})
}

fn schemas_json() -> Vec<(&'static str, Value)> {
    let meta = json!({
        "type": "object",
        "description": "RFC 7643 §3.1; `version` is the ETag.",
        "properties": {
            "resourceType": {"type": "string", "enum": ["User", "Group"]},
            "created": {"type": "string", "format": "date-time"},
            "lastModified": {"type": "string", "format": "date-time"},
            "location": {"type": "string", "format": "uri"},
            "version": {"type": "string"},
        },
    });
    let open = |description: &str| json!({"type": "object", "description": description, "additionalProperties": true});
    vec![
        (
            "ScimError",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.12.",
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:api:messages:2.0:Error"),
                    "status": {"type": "string", "description": "The HTTP status code, as a string.", "example": "404"},
                    "scimType": {"type": "string", "enum": ["invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath", "noTarget", "invalidValue", "invalidVers", "sensitive"]},
                    "detail": {"type": "string", "description": "What went wrong."},
                },
                "example": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409", "scimType": "uniqueness", "detail": "Another user of this customer has this userName."},
            }),
        ),
        ("ScimMeta", meta),
        (
            "ScimUser",
            json!({
                "type": "object",
                "description": "A User (RFC 7643 §4.1) as dockgate returns it: `userName`, `name`, `displayName`, `nickName`, `title`, `userType`, `preferredLanguage`, `locale`, `timezone`, `active`, `emails`, `phoneNumbers`, `addresses`, `externalId`, `groups` (read-only) and the enterprise extension's attributes, each when it has a value (and when `attributes`/`excludedAttributes` let it through); never `password`.",
                "additionalProperties": true,
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:schemas:core:2.0:User"),
                    "id": {"type": "string", "format": "uuid"},
                    "meta": schema_ref("ScimMeta"),
                },
            }),
        ),
        (
            "ScimUserRequest",
            json!({
                "type": "object",
                "description": "A User to create or replace (RFC 7643 §4.1): `userName` is required; unknown attributes, read-only ones and `password` are ignored; `null` means unassigned.",
                "additionalProperties": true,
                "required": ["userName"],
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:schemas:core:2.0:User"),
                    "userName": {"type": "string", "minLength": 1, "maxLength": 255},
                },
                "example": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jana.berg@acme.example", "name": {"givenName": "Jana", "familyName": "Berg"}, "emails": [{"value": "jana.berg@acme.example", "type": "work", "primary": true}], "active": true},
            }),
        ),
        (
            "ScimGroup",
            json!({
                "type": "object",
                "description": "A Group (RFC 7643 §4.2) as dockgate returns it: `displayName`, `externalId`, `members` (`value`, `display`, `$ref`).",
                "additionalProperties": true,
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:schemas:core:2.0:Group"),
                    "id": {"type": "string", "format": "uuid"},
                    "meta": schema_ref("ScimMeta"),
                },
            }),
        ),
        (
            "ScimGroupRequest",
            json!({
                "type": "object",
                "description": "A Group to create or replace: `displayName` is required; members that are not users of the customer are ignored.",
                "additionalProperties": true,
                "required": ["displayName"],
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:schemas:core:2.0:Group"),
                    "displayName": {"type": "string", "minLength": 1, "maxLength": 100},
                },
                "example": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Depot North", "members": []},
            }),
        ),
        (
            "ScimListResponse",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.4.2.",
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:api:messages:2.0:ListResponse"),
                    "totalResults": {"type": "integer", "minimum": 0},
                    "startIndex": {"type": "integer", "minimum": 1},
                    "itemsPerPage": {"type": "integer", "minimum": 0},
                    "Resources": {"type": "array", "items": {"type": "object", "additionalProperties": true}},
                },
            }),
        ),
        (
            "ScimPatchOp",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.5.2.",
                "required": ["Operations"],
                "additionalProperties": true,
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
                    "Operations": {"type": "array", "items": {
                        "type": "object",
                        "required": ["op"],
                        "additionalProperties": true,
                        "properties": {
                            "op": {"type": "string", "description": "`add`, `replace` or `remove`, in any case."},
                            "path": {"type": "string"},
                            "value": {},
                        },
                    }},
                },
                "example": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]},
            }),
        ),
        (
            "ScimSearchRequest",
            json!({
                "type": "object",
                "description": "RFC 7644 §3.4.3.",
                "additionalProperties": true,
                "properties": {
                    "schemas": urns("urn:ietf:params:scim:api:messages:2.0:SearchRequest"),
                    "filter": {"type": ["string", "null"], "description": "As the `filter` query parameter; `null`: none."},
                    "startIndex": {"type": "integer"},
                    "count": {"type": "integer"},
                    "attributes": {"type": ["array", "string", "null"], "items": {"type": "string"}, "description": "Names, as a list or comma-separated."},
                    "excludedAttributes": {"type": ["array", "string", "null"], "items": {"type": "string"}, "description": "Names, as a list or comma-separated."},
                },
                "example": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"jana.berg@acme.example\"", "startIndex": 1, "count": 10},
            }),
        ),
        ("ScimServiceProviderConfig", open("RFC 7643 §5.")),
        ("ScimResourceType", open("RFC 7643 §6.")),
        ("ScimSchema", open("RFC 7643 §7.")),
    ]
}
