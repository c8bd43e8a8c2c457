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
        license(name = "MIT")
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
        (name = "groups", description = "Sub-accounts of a customer that segregate its data: members see only data of their groups; a person in no group sees all of its customer's data."),
        (name = "authz", description = "Ask dockgate whether the caller may do something, with the same policy the service applies itself."),
        (name = "permissions", description = "The permission catalog and the roles."),
        (name = "staff", description = "The operator's staff (platform admins only)."),
        (name = "audit", description = "Who did what to what, when and from where."),
        (name = "operations", description = "Health and metrics for operators.")
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
                    .description(Some("An access token from `/v1/auth/login` or `/v1/auth/refresh`."))
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
    for item in api.paths.paths.values() {
        let operations = [&item.get, &item.put, &item.post, &item.patch, &item.delete];
        for operation in operations.into_iter().flatten() {
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

/// A duplicate (e-mail, code, name) or a state that forbids the change.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
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

/// Fields failed validation; `errors` names each.
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
