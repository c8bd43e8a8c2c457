//! The OpenAPI root: info, the bearer security scheme, tags, and the reusable error responses
//! every operation refers to. Operations themselves are collected from the routes
//! (utoipa-actix-web), so an endpoint cannot exist undocumented. `openapi/openapi.json` is this
//! document, regenerated with `cargo run -- openapi > openapi/openapi.json`.

use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dockgate",
        description = "Customer access for the dispatch platform: customers, their users, groups and permissions, and the JWTs the platform trusts.\n\nErrors are RFC 9457 problem details (`application/problem+json`). Text is UTF-8 without control characters (U+0000-U+001F, U+007F-U+009F; line breaks and tabs are allowed in descriptions only): a body holding one is a 422 naming the field (code `control_character`), a query parameter holding NUL a 400. Access tokens are EdDSA JWTs; verify them with the keys at `/.well-known/jwks.json`.",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "The dispatch platform's access team", email = "access-team@dockgate.example")
    ),
    modifiers(&BearerScheme),
    components(schemas(Problem, FieldError), responses(
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Gone, PreconditionFailed, PreconditionRequired,
        PayloadTooLarge, UnsupportedMediaType, ValidationFailed, TooManyRequests, Unavailable
    )),
    tags(
        (name = "auth", description = "Signing in, refreshing and signing out, password recovery, self sign-up; the public keys tokens are verified with."),
        (name = "me", description = "The signed-in person."),
        (name = "customers", description = "The operator's customer accounts."),
        (name = "warehouse-addresses", description = "A customer's warehouse addresses; exactly one is the default once there are any."),
        (name = "cost-centers", description = "A customer's cost centers."),
        (name = "users", description = "The people who work for a customer, with or without a portal login: roles, permissions, passwords, ownership."),
        (name = "invitations", description = "Inviting people to a customer's portal by e-mail, and the public accept page's endpoints."),
        (name = "groups", description = "Sub-accounts of a customer that segregate its data: members see only data of their groups (and untagged data). A person's data scope says whether it sees all of its customer's data (`all`, in no group) or only its groups' (`groups`, possibly none: untagged data only); leaving groups never widens it."),
        (name = "authz", description = "Ask dockgate whether the caller may do something, with the same policy the service applies itself."),
        (name = "permissions", description = "The permission catalog and the roles."),
        (name = "api-clients", description = "Machine credentials of a customer or of the platform: scopes, groups, secret rotation, long-lived tokens."),
        (name = "webhooks", description = "Lifecycle events POSTed to a customer's endpoints (or the platform's, which hear every customer's), signed as Standard Webhooks 1.0, retried for about a day; the delivery log, retry and test; the event catalog. The events themselves are this document's `webhooks`."),
        (name = "oauth", description = "The OAuth 2.0 token endpoint (client credentials) for API clients; RFC 6749 answers and errors."),
        (name = "staff", description = "The operator's staff (platform admins only)."),
        (name = "audit", description = "Who did what to what, when and from where."),
        (name = "operations", description = "Health and metrics for operators."),
        (name = "SCIM", description = "SCIM 2.0 (RFC 7643/7644) for identity providers (Entra ID, Okta): a customer's Users and Groups under /scim/v2, for an API client with users.manage. Bodies and errors are application/scim+json in SCIM's shapes (never problem details); the RFCs are the reference for the resources.")
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A person's access token from `/v1/auth/login` or `/v1/auth/refresh` (`typ: JWT`), an API client's from `/v1/oauth/token` (`typ: at+jwt`), or a client's long-lived `dgt_` token."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("An API client's `client_id` and `client_secret`, each form-urlencoded (RFC 6749 section 2.3.1)."))
                    .build(),
            ),
        );
    }
}

/// States the body parser's text rule ([`crate::validation::control_character`]) on every text
/// field of every request body, from the same list of multi-line fields, so the document and
/// the parser cannot disagree: single-line text has no control character, a field that must not
/// be blank keeps that too, and fields with their own pattern or format (phone numbers, codes,
/// e-mail addresses) already exclude them.
pub fn text_patterns(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    let mut bodies = std::collections::BTreeSet::new();
    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            // A text path parameter (an ERP's key) takes what a text field takes.
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter
                    && parameter.parameter_in == utoipa::openapi::path::ParameterIn::Path
                    && let Some(RefOr::T(schema)) = parameter.schema.as_mut()
                {
                    constrain_text(&parameter.name, schema);
                }
            }
            let Some(RefOr::T(body)) = &operation.request_body else { continue };
            for content in body.content.values() {
                if let RefOr::T(content) = content
                    && let Some(RefOr::Ref(reference)) = &content.schema
                {
                    bodies.insert(
                        reference.ref_location.trim_start_matches("#/components/schemas/").to_owned(),
                    );
                }
            }
        }
    }
    let Some(components) = api.components.as_mut() else { return };
    for name in bodies {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
            for (field, property) in object.properties.iter_mut() {
                if let RefOr::T(schema) = property {
                    constrain_text(field, schema);
                }
            }
        }
    }
}

fn constrain_text(field: &str, schema: &mut Schema) {
    use crate::validation::{MULTI_LINE, MULTI_LINE_FIELDS, SINGLE_LINE, SINGLE_LINE_NOT_BLANK};
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayItems, SchemaType, Type};
    match schema {
        Schema::Object(text) => {
            let is_text = match &text.schema_type {
                SchemaType::Type(kind) => *kind == Type::String,
                SchemaType::Array(kinds) => kinds.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            if !is_text || text.format.is_some() || text.enum_values.is_some() {
                return;
            }
            text.pattern = match text.pattern.as_deref() {
                None if MULTI_LINE_FIELDS.contains(&field) => Some(MULTI_LINE.into()),
                None => Some(SINGLE_LINE.into()),
                Some(r"\S") => Some(SINGLE_LINE_NOT_BLANK.into()),
                Some(own) => Some(own.to_owned()),
            };
        }
        Schema::Array(list) => {
            if let ArrayItems::RefOrSchema(items) = &mut list.items
                && let RefOr::T(items) = items.as_mut()
            {
                constrain_text(field, items);
            }
        }
        _ => {}
    }
}

/// The body is malformed (not JSON, or a query parameter of the wrong type).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:malformed-request", "title": "Malformed request", "status": 400, "detail": "The body is not valid JSON: EOF while parsing an object at line 1 column 1"})
)]
pub struct BadRequest(pub Problem);

/// No valid bearer token, or the credentials are wrong.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "Always `Bearer`.")),
    example = json!({"type": "urn:dockgate:problem:unauthorized", "title": "Unauthorized", "status": 401, "detail": "The access token is missing, invalid or expired."})
)]
pub struct Unauthorized(pub Problem);

/// Signed in, but not allowed to do this.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:forbidden", "title": "Forbidden", "status": 403, "detail": "Only a platform admin may manage staff."})
)]
pub struct Forbidden(pub Problem);

/// Unknown, or not visible to the caller (another customer's resource is a 404, never a 403).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:not-found", "title": "Not found", "status": 404, "detail": "The resource does not exist or is not visible to you."})
)]
pub struct NotFound(pub Problem);

/// A duplicate (e-mail, code, name) or a state that forbids the change; or, with an
/// `Idempotency-Key`, the key's first request is still running (`idempotency-key-in-flight`:
/// retry after `Retry-After` seconds).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "With `idempotency-key-in-flight` only: seconds to wait before retrying (1).")),
    example = json!({"type": "urn:dockgate:problem:conflict", "title": "Conflict", "status": 409, "detail": "This e-mail address cannot be used; choose another."})
)]
pub struct Conflict(pub Problem);

/// The link existed but has expired.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:gone", "title": "Gone", "status": 410, "detail": "The invitation has expired; ask the person who invited you to send it again."})
)]
pub struct Gone(pub Problem);

/// `If-Match` does not match the resource's current ETag.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:precondition-failed", "title": "Precondition failed", "status": 412, "detail": "The resource has changed since you read it (If-Match does not match its ETag)."})
)]
pub struct PreconditionFailed(pub Problem);

/// A destructive request without `If-Match` (or the confirmation the endpoint names).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:precondition-required", "title": "Precondition required", "status": 428, "detail": "Deleting a group needs If-Match with its ETag, or ?confirm=true."})
)]
pub struct PreconditionRequired(pub Problem);

/// The body is larger than 1 MiB.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:payload-too-large", "title": "Payload too large", "status": 413, "detail": "The body must be at most 1048576 bytes."})
)]
pub struct PayloadTooLarge(pub Problem);

/// The body is not JSON.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:unsupported-media-type", "title": "Unsupported media type", "status": 415, "detail": "The body must be JSON (Content-Type: application/json)."})
)]
pub struct UnsupportedMediaType(pub Problem);

/// Fields failed validation; `errors` names each. Or, with an `Idempotency-Key`, the key was
/// first used with another request (`idempotency-key-reused`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "urn:dockgate:problem:validation-failed", "title": "Validation failed", "status": 422, "detail": "The request has invalid fields.", "errors": [{"field": "new_password", "code": "common_password", "message": "is too common; choose another"}]})
)]
pub struct ValidationFailed(pub Problem);

/// Too many failed attempts; wait `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before trying again.")),
    example = json!({"type": "urn:dockgate:problem:rate-limited", "title": "Too many requests", "status": 429, "detail": "Too many attempts; try again in 840 seconds."})
)]
pub struct TooManyRequests(pub Problem);

/// The database is unreachable, went away mid-request, or is not migrated (`unavailable`; a
/// write answered so may or may not have been committed), or, where a password is checked or
/// set, too many are being checked at once (`overloaded`); try again after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before trying again: 5 (`unavailable`) or 1 (`overloaded`).")),
    example = json!({"type": "urn:dockgate:problem:unavailable", "title": "Service unavailable", "status": 503, "detail": "The service cannot reach its database; try again shortly."})
)]
pub struct Unavailable(pub Problem);

/// Reusable sets of error responses: an operation names the sets its extractors and rules can
/// produce (`responses((status = 200, ..), SignedIn, Body, Conditional)`), and each set stands
/// for `$ref`s to the shared responses above, so the document lists every error of every
/// operation without a handler spelling them out. Sets overlap where the statuses do (a body
/// and a condition can both be a 400); the document has each status once.
pub mod sets {
    use std::collections::BTreeMap;

    use utoipa::IntoResponses;
    use utoipa::openapi::response::Response;
    use utoipa::openapi::{Ref, RefOr};

    macro_rules! response_set {
        ($(#[$doc:meta])* $name:ident: $($status:literal => $response:ident),+) => {
            $(#[$doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([
                        $(($status.to_string(), RefOr::Ref(Ref::from_response_name(stringify!($response))))),+
                    ])
                }
            }
        };
    }

    response_set!(
        /// A bearer token is required (401), and the database may be unreachable (503).
        SignedIn: 401 => Unauthorized, 503 => Unavailable
    );
    response_set!(
        /// An endpoint without a token that still needs the database.
        Served: 503 => Unavailable
    );
    response_set!(
        /// Credentials in the body are checked (a wrong one is the same 401 as any other).
        Credentials: 401 => Unauthorized
    );
    response_set!(
        /// A JSON request body: broken (400), too large (413), not JSON (415), invalid (422).
        Body: 400 => BadRequest, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 422 => ValidationFailed
    );
    response_set!(
        /// Query parameters: of the wrong type (400) or out of range (422).
        Query: 400 => BadRequest, 422 => ValidationFailed
    );
    response_set!(
        /// `If-Match`: malformed (400) or naming another version (412).
        Conditional: 400 => BadRequest, 412 => PreconditionFailed
    );
    response_set!(
        /// Signed in but not allowed.
        Forbidden: 403 => Forbidden
    );
    response_set!(
        /// The resource (or its customer) does not exist or is not visible to the caller.
        Missing: 404 => NotFound
    );
    response_set!(
        /// A duplicate or a state that forbids the change.
        Conflicting: 409 => Conflict
    );
    response_set!(
        /// A link that existed and has expired.
        Expiring: 410 => Gone
    );
    response_set!(
        /// A destructive request that must be made conditional or confirmed.
        Confirmed: 428 => PreconditionRequired
    );
    response_set!(
        /// Attempts or mails are limited (429 with `Retry-After`).
        Limited: 429 => TooManyRequests
    );
    response_set!(
        /// Only a broken body or parameter (400), for endpoints that validate nothing else.
        Malformed: 400 => BadRequest
    );
    response_set!(
        /// Only a validation failure (422).
        Invalid: 422 => ValidationFailed
    );
}

/// What the generated document cannot say by itself, stated once for every operation so that a
/// client generated from it (openapi-typescript) needs no casts, and the linters (redocly,
/// spectral) find nothing: see [`exact`](exact::apply).
pub mod exact {
    use serde_json::{Map, Value, json};

    /// Response properties that a view leaves out rather than sending `null`: the per-field
    /// `errors` of a problem, an RFC 9457 extension member of validation failures, and a SCIM
    /// error's `scimType`, which RFC 7644 §3.12 gives only some errors.
    const MAY_BE_ABSENT: &[(&str, &str)] = &[("Problem", "errors"), ("ScimError", "scimType")];

    /// The description and example of each parameter name, where the operation gives none:
    /// the same id means the same thing on every path.
    const PARAMETERS: &[(&str, &str, &str)] = &[
        ("customer_id", "The customer's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30"),
        ("user_id", "The user's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50"),
        ("address_id", "The warehouse address's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31"),
        ("cost_center_id", "The cost center's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d40"),
        ("group_id", "The group's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70"),
        ("invitation_id", "The invitation's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d60"),
        ("staff_id", "The staff member's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d10"),
        (
            "api_client_id",
            "The API client's id (not its public `dgc_` client_id).",
            "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d80",
        ),
        ("token_id", "The long-lived token's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d90"),
        ("webhook_id", "The webhook endpoint's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4da0"),
        ("delivery_id", "The delivery's id.", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4db0"),
        (
            "session_id",
            "The session's id (`GET .../sessions` lists them).",
            "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4dc0",
        ),
        ("actor_id", "", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d10"),
        ("target_id", "", "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50"),
        ("action", "", "user.updated"),
        ("since", "", "2026-11-01T00:00:00Z"),
        ("until", "", "2026-12-01T00:00:00Z"),
        ("expiring_before", "", "2026-12-31T00:00:00Z"),
        ("limit", "", "50"),
        ("cursor", "", "AZNvDnwafSuaUT8fK3xNUA"),
        ("q", "", "berg"),
        ("status", "Only those with this status.", "active"),
        ("role", "Only those with this role.", "user"),
        ("confirm", "", "true"),
        ("token", "", "dgi_TTZCxKYIG2XgafHCT5tbLMMM8Nqo5pxMS4CSz11R458"),
        ("If-Match", "", "\"5f1c2a9e0b7d3c4e8a6f1b2d\""),
        ("Idempotency-Key", "", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ];

    const OPERATIONS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

    /// Applies every rule to the document as JSON.
    pub fn apply(document: &mut Value) {
        document["servers"] = json!([{"url": "/", "description": "The server this document was read from."}]);
        let responses_schemas = response_schemas(document);
        let enums = first_values(document);
        if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
            for item in paths.values_mut() {
                for method in OPERATIONS {
                    if let Some(operation) = item.get_mut(method) {
                        operation_rules(method, operation, &enums);
                    }
                }
            }
        }
        if let Some(responses) = document.pointer_mut("/components/responses").and_then(Value::as_object_mut)
        {
            responses.values_mut().for_each(declare_request_id);
        }
        if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
            lists_refer_to_their_items(schemas);
            for name in responses_schemas {
                if let Some(schema) = schemas.get_mut(&name) {
                    every_property_required(&name, schema);
                }
            }
        }
    }

    fn operation_rules(method: &str, operation: &mut Value, enums: &Map<String, Value>) {
        // An operation anyone may call says so (`security: []`) rather than saying nothing.
        if operation.get("security").is_none() {
            operation["security"] = json!([]);
        }
        if let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
            parameters.iter_mut().for_each(|parameter| describe_parameter(parameter, enums));
        }
        idempotent_answers(operation);
        if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
            responses.values_mut().filter(|r| r.get("$ref").is_none()).for_each(declare_request_id);
        }
        // The body parser takes any JSON type for a merge-patch, `application/json` too.
        if method == "patch"
            && let Some(content) =
                operation.pointer_mut("/requestBody/content").and_then(Value::as_object_mut)
            && let Some(patch) = content.get("application/merge-patch+json").cloned()
        {
            content.entry("application/json").or_insert(patch);
        }
    }

    /// An operation taking `Idempotency-Key` says how it answers a replay (`Idempotent-Replayed`
    /// on its successes) and has the 409 (key in flight) and 422 (key reused) it can give.
    fn idempotent_answers(operation: &mut Value) {
        let takes_key = operation
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|all| all.iter().any(|p| p["name"] == "Idempotency-Key"));
        let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { return };
        if !takes_key {
            return;
        }
        let replayed = json!({
            "description": "`true` when this is the response recorded for the request's Idempotency-Key, sent again; absent on the first response.",
            "schema": {"type": "string", "enum": ["true"]}
        });
        for (status, response) in responses.iter_mut() {
            if status.starts_with('2')
                && response.get("$ref").is_none()
                && let Some(response) = response.as_object_mut()
            {
                let headers = response.entry("headers").or_insert_with(|| json!({}));
                if let Some(headers) = headers.as_object_mut() {
                    headers.entry("Idempotent-Replayed").or_insert(replayed.clone());
                }
            }
        }
        for (status, name) in [("409", "Conflict"), ("422", "ValidationFailed")] {
            responses
                .entry(status)
                .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
        }
    }

    /// The first value of every enum schema, by name: the example of a parameter of that type.
    fn first_values(document: &Value) -> Map<String, Value> {
        let Some(schemas) = document.pointer("/components/schemas").and_then(Value::as_object) else {
            return Map::new();
        };
        schemas
            .iter()
            .filter_map(|(name, schema)| {
                Some((format!("#/components/schemas/{name}"), schema.pointer("/enum/0")?.clone()))
            })
            .collect()
    }

    fn describe_parameter(parameter: &mut Value, enums: &Map<String, Value>) {
        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
        let Some((_, description, example)) = PARAMETERS.iter().find(|(n, _, _)| *n == name) else { return };
        if parameter.get("description").and_then(Value::as_str).is_none_or(str::is_empty)
            && !description.is_empty()
        {
            parameter["description"] = json!(description);
        }
        let of_enum = parameter
            .pointer("/schema/$ref")
            .or_else(|| parameter.pointer("/schema/oneOf/0/$ref"))
            .and_then(Value::as_str)
            .and_then(|reference| enums.get(reference))
            .or_else(|| parameter.pointer("/schema/enum/0"))
            .cloned();
        if let Some(value) = of_enum.filter(|_| parameter.get("example").is_none()) {
            parameter["example"] = value;
        }
        if parameter.get("example").is_none() {
            let typed = match parameter.pointer("/schema/type").and_then(Value::as_str) {
                Some("integer") => example.parse::<i64>().map(Value::from).unwrap_or(json!(example)),
                Some("boolean") => json!(*example == "true"),
                _ => json!(example),
            };
            parameter["example"] = typed;
        }
    }

    /// Every response carries the request id it was served under.
    fn declare_request_id(response: &mut Value) {
        let header = json!({
            "description": "The id of this request (the caller's own when it sent a sane one); logs carry it too.",
            "schema": {"type": "string"}
        });
        if let Some(object) = response.as_object_mut() {
            let headers = object.entry("headers").or_insert_with(|| json!({}));
            if let Some(headers) = headers.as_object_mut() {
                headers.entry("x-request-id").or_insert(header);
            }
        }
    }

    /// A list's items are the one schema of their type, not a copy of it.
    fn lists_refer_to_their_items(schemas: &mut Map<String, Value>) {
        let lists: Vec<String> = schemas.keys().filter(|name| name.starts_with("List_")).cloned().collect();
        for list in lists {
            let item = list.trim_start_matches("List_").to_owned();
            if let Some(items) = schemas.get_mut(&list).and_then(|s| s.pointer_mut("/properties/items/items"))
            {
                *items = json!({"$ref": format!("#/components/schemas/{item}")});
            }
        }
    }

    /// The names of the schemas responses are made of, following `$ref`s.
    fn response_schemas(document: &Value) -> Vec<String> {
        let mut found = Vec::new();
        let mut pending = Vec::new();
        let refs_in = |value: &Value, pending: &mut Vec<String>| collect_refs(value, pending);
        if let Some(paths) = document.get("paths").and_then(Value::as_object) {
            for item in paths.values() {
                for method in OPERATIONS {
                    if let Some(responses) = item.pointer(&format!("/{method}/responses")) {
                        refs_in(responses, &mut pending);
                    }
                }
            }
        }
        if let Some(responses) = document.pointer("/components/responses") {
            refs_in(responses, &mut pending);
        }
        while let Some(name) = pending.pop() {
            if found.contains(&name) {
                continue;
            }
            if let Some(schema) = document.pointer(&format!("/components/schemas/{name}")) {
                collect_refs(schema, &mut pending);
            }
            found.push(name);
        }
        found
    }

    fn collect_refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref")
                    && let Some(name) = reference.strip_prefix("#/components/schemas/")
                {
                    out.push(name.to_owned());
                }
                map.values().for_each(|v| collect_refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }

    /// A view sends every field (`null` where there is nothing), so every one is required.
    fn every_property_required(name: &str, schema: &mut Value) {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
        let required: Vec<Value> = properties
            .keys()
            .filter(|property| !MAY_BE_ABSENT.contains(&(name, property.as_str())))
            .map(|property| json!(property))
            .collect();
        schema["required"] = Value::Array(required);
    }
}
