//! `GET /v1/audit-events`.

use actix_web::{get, web};

use super::dto::{AuditEventView, AuditFilters};
use super::queries;
use crate::accounts::Actor;
use crate::db;
use crate::error::AppError;
use crate::extract::Query;
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action, Scope};
use crate::state::AppState;

/// List audit events
///
/// Who did what to what, when and from where; newest first. Staff see the events of the
/// customers in their scope (platform admins and unscoped dispatchers also see events about no
/// customer, such as staff changes); a customer's users with `users.manage` see their
/// customer's. A reader limited to groups sees only events about what it can see: untagged
/// data, and people, invitations, groups and addresses of its own groups (an event about
/// someone who sees `all`, or a change from another group, is not listed to it). Events cannot be
/// changed or deleted.
#[utoipa::path(
    tag = "audit",
    operation_id = "listAuditEvents",
    security(("bearer" = [])),
    params(AuditFilters, PageParams),
    responses(
        (status = 200, description = "A page of events.", body = List<AuditEventView>),
        sets::SignedIn, sets::Query, sets::Forbidden,
    )
)]
#[get("/v1/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    actor: Actor,
    Query(filters): Query<AuditFilters>,
    page: Page,
) -> Result<web::Json<List<AuditEventView>>, AppError> {
    let scope = policy::scope(&actor);
    match (&scope, filters.customer_id) {
        // Asking about a customer you cannot see is a 404, as everywhere.
        (_, Some(customer_id)) => policy::require(&actor, Action::ReadAudit, customer_id)?,
        (Scope::Only(ids), None) => {
            for id in ids {
                policy::require(&actor, Action::ReadAudit, *id)?;
            }
        }
        (Scope::All, None) => policy::require_global(&actor, Action::ReadAudit)?,
    }
    let groups = policy::group_scope(&actor);
    let rows =
        db::run(&state.pool, move |conn| queries::list(conn, &scope, groups.as_deref(), &filters, page))
            .await?;
    Ok(web::Json(List::from_rows(rows, page, |row| row.id, AuditEventView::from)))
}
