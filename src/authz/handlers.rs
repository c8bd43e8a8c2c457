//! `POST /v1/authz/check`: for services that would rather ask than read claims. The answer
//! comes from [`crate::policy::check`], the functions dockgate's own handlers use, so the two
//! can never disagree.

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::queries;
use crate::accounts::Actor;
use crate::db;
use crate::error::AppError;
use crate::extract::Json;
use crate::openapi::sets;
use crate::permissions::Permission;
use crate::policy::{self, CheckReason};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"permission": "orders.view", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "group_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d70"}))]
pub struct CheckRequest {
    pub permission: Permission,
    /// The customer whose data the caller wants to act on.
    pub customer_id: Uuid,
    /// The group the data is tagged with; omit for untagged data.
    pub group_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"allowed": false, "reason": "group_not_visible"}))]
pub struct CheckResponse {
    pub allowed: bool,
    /// `allowed`, `customer_not_visible` (another customer, or outside a dispatcher's scope),
    /// `permission_not_held`, `group_not_visible` (the caller is limited to other groups, or
    /// to none: a `groups` caller in no group sees untagged data only), or
    /// `unknown_group` (no such group of that customer).
    pub reason: CheckReason,
}

/// Check an authorization
///
/// Whether the caller (the bearer token's person or client, as it is now: deactivation, role,
/// data scope and group changes count at once) may use `permission` on the customer's data,
/// tagged with `group_id` when given. A caller of data scope `all` sees every group's data; a
/// `groups` caller only its groups' (in no group: untagged data only). Always 200: a customer
/// the caller cannot see is `allowed: false`.
#[utoipa::path(
    tag = "authz",
    operation_id = "checkAuthorization",
    security(("bearer" = [])),
    request_body(content = CheckRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The answer.", body = CheckResponse),
        sets::SignedIn, sets::Body,
    )
)]
#[post("/v1/authz/check")]
pub async fn check(
    state: web::Data<AppState>,
    actor: Actor,
    Json(body): Json<CheckRequest>,
) -> Result<web::Json<CheckResponse>, AppError> {
    let mut reason = policy::check(&actor, body.permission, body.customer_id, body.group_id);
    if reason == CheckReason::Allowed {
        let (customer_id, group_id) = (body.customer_id.into(), body.group_id.map(Into::into));
        let missing = db::run(&state.pool, move |conn| queries::missing(conn, customer_id, group_id)).await?;
        reason = missing.unwrap_or(reason);
    }
    Ok(web::Json(CheckResponse { allowed: reason == CheckReason::Allowed, reason }))
}
