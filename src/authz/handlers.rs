//! `POST /v1/authz/check`: for services that would rather ask than read claims. The answer
//! comes from [`crate::policy::check`], the functions dockgate's own handlers use, so the two
//! can never disagree.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::accounts::Actor;
use crate::db;
use crate::error::AppError;
use crate::extract::Json;
use crate::openapi::sets;
use crate::permissions::Permission;
use crate::policy;
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
    /// `permission_not_held`, `group_not_visible` (the caller is limited to other groups), or
    /// `unknown_group` (no such group of that customer).
    pub reason: &'static str,
}

/// Check an authorization
///
/// Whether the caller (the bearer token's person, as it is now: deactivation, role and group
/// changes count at once) may use `permission` on the customer's data, tagged with `group_id`
/// when given. Always 200: a customer the caller cannot see is `allowed: false`.
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
) -> Result<HttpResponse, AppError> {
    let (mut allowed, mut reason) = policy::check(&actor, body.permission, body.customer_id, body.group_id);
    if allowed {
        // Staff see every customer id, existing or not; the endpoints answer 404 for a customer
        // that does not exist, and so does this check (as one the caller cannot see).
        let (customer_id, group_id) = (body.customer_id, body.group_id);
        let (customer_exists, group_exists) = db::run(&state.pool, move |conn| {
            use crate::db::schema::customers;
            use diesel::prelude::*;
            let customer = diesel::select(diesel::dsl::exists(customers::table.find(customer_id)))
                .get_result::<bool>(conn)?;
            let group = match group_id {
                Some(group_id) => {
                    crate::groups::queries::find(conn, customer_id, group_id).optional()?.is_some()
                }
                None => true,
            };
            Ok::<_, diesel::result::Error>((customer, group))
        })
        .await?;
        if !customer_exists {
            (allowed, reason) = (false, "customer_not_visible");
        } else if !group_exists {
            (allowed, reason) = (false, "unknown_group");
        }
    }
    Ok(HttpResponse::Ok().json(CheckResponse { allowed, reason }))
}
