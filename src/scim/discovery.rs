//! Discovery (RFC 7644 §4): what this service provider supports, truthfully, its two resource
//! types and the schemas it publishes. Read-only: any other method is a 405 in SCIM's shape
//! (the router answers it; [`super::response::normalize`] shapes it).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::{Value, json};

use super::auth;
use super::query::MAX_RESULTS;
use super::response::{self, ScimError};
use super::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE, USER_SCHEMA, schema_resources};
use crate::state::AppState;

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// What dockgate supports: PATCH, filters (up to [`MAX_RESULTS`] per page), ETags
/// (`If-Match`, `If-None-Match`); no bulk, no sorting, no password changes.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An API client's long-lived dgt_ token, or its client-credentials access token \
                (POST /v1/oauth/token); the client needs users.manage.",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// The two resource types, with endpoints relative to the base.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A person of the customer.",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of the customer's people; a person in groups sees only their data.",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

fn ok(body: &Value) -> HttpResponse {
    response::resource(StatusCode::OK, None, None, body)
}

/// SCIM: what the service provider supports
///
/// RFC 7644 §5. PATCH and filters are supported (`maxResults` 200), ETags too (`If-Match`,
/// `If-None-Match`); bulk, sorting and password changes are not.
#[utoipa::path(tag = "SCIM", operation_id = "scimServiceProviderConfig", security(("bearer" = [])))]
#[get("/scim/v2/ServiceProviderConfig")]
pub async fn get_service_provider_config(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    Ok(ok(&service_provider_config(&caller.base)))
}

/// SCIM: the resource types
///
/// RFC 7644 §6: `User` (with the enterprise extension) and `Group`.
#[utoipa::path(tag = "SCIM", operation_id = "scimListResourceTypes", security(("bearer" = [])))]
#[get("/scim/v2/ResourceTypes")]
pub async fn list_resource_types(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    Ok(ok(&list(resource_types(&caller.base))))
}

/// SCIM: one resource type
///
/// `User` or `Group`; anything else is a 404.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimGetResourceType",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "`User` or `Group`.", example = "User")),
)]
#[get("/scim/v2/ResourceTypes/{name}")]
pub async fn get_resource_type(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let name = path.into_inner();
    resource_types(&caller.base)
        .into_iter()
        .find(|t| t["id"].as_str().is_some_and(|id| id.eq_ignore_ascii_case(&name)))
        .map(|t| ok(&t))
        .ok_or_else(ScimError::not_found)
}

/// SCIM: the schemas
///
/// RFC 7643 §7: User, Group and the enterprise User extension, listing only the attributes
/// dockgate stores and returns (read-only ones marked so).
#[utoipa::path(tag = "SCIM", operation_id = "scimListSchemas", security(("bearer" = [])))]
#[get("/scim/v2/Schemas")]
pub async fn list_schemas(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    Ok(ok(&list(schema_resources(&caller.base))))
}

/// SCIM: one schema
///
/// By its URN; anything else is a 404.
#[utoipa::path(
    tag = "SCIM",
    operation_id = "scimGetSchema",
    security(("bearer" = [])),
    params(("urn" = String, Path, description = "The schema's URN.", example = "urn:ietf:params:scim:schemas:core:2.0:User")),
)]
#[get("/scim/v2/Schemas/{urn}")]
pub async fn get_schema(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ScimError> {
    let caller = auth::caller(&req, &state).await?;
    let urn = path.into_inner();
    schema_resources(&caller.base)
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|id| id.eq_ignore_ascii_case(&urn)))
        .map(|s| ok(&s))
        .ok_or_else(ScimError::not_found)
}
