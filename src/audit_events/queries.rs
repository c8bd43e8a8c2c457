//! Reading the audit log. Newest first, keyset-paginated on the (time-ordered) event id.

use chrono::{DateTime, Utc};
use diesel::dsl::cardinality;
use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::{Action, ActorKind, Target};

use super::dto::{AuditEventView, AuditFilters};
use crate::db::schema::audit_events;
use crate::pagination::Page;
use crate::policy::Scope;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
pub struct AuditEventRow {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_kind: Option<ActorKind>,
    pub action: Action,
    pub target_type: Target,
    pub target_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl From<AuditEventRow> for AuditEventView {
    fn from(row: AuditEventRow) -> Self {
        Self {
            id: row.id,
            occurred_at: row.occurred_at,
            actor_id: row.actor_id,
            actor_kind: row.actor_kind,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            customer_id: row.customer_id,
            changes: row.changes,
            request_id: row.request_id,
            client_addr: row.client_addr,
        }
    }
}

/// Events matching `filters` within `scope` (a scoped caller sees only events about its
/// customers; events about no customer, such as staff changes, only with `Scope::All`) and,
/// for a reader limited to `groups`, only those its groups see (see [`crate::audit::Visibility`]).
pub fn list(
    conn: &mut PgConnection,
    scope: &Scope,
    groups: Option<&[Uuid]>,
    filters: &AuditFilters,
    page: Page,
) -> QueryResult<Vec<AuditEventRow>> {
    let mut query = audit_events::table.select(AuditEventRow::as_select()).into_boxed();
    if let Scope::Only(ids) = scope {
        query = query.filter(audit_events::customer_id.eq_any(ids.clone()));
    }
    if let Some(groups) = groups {
        let groups: Vec<Option<Uuid>> = groups.iter().copied().map(Some).collect();
        let visible = audit_events::visible_groups.is_null().or(cardinality(audit_events::visible_groups)
            .gt(0)
            .and(audit_events::visible_groups.is_contained_by(groups))
            .assume_not_null());
        query = query.filter(visible);
    }
    if let Some(customer_id) = filters.customer_id {
        query = query.filter(audit_events::customer_id.eq(customer_id));
    }
    if let Some(actor_id) = filters.actor_id {
        query = query.filter(audit_events::actor_id.eq(actor_id));
    }
    if let Some(target_id) = filters.target_id {
        query = query.filter(audit_events::target_id.eq(target_id));
    }
    if let Some(action) = &filters.action {
        query = query.filter(audit_events::action.eq(*action));
    }
    if let Some(since) = filters.since {
        query = query.filter(audit_events::occurred_at.ge(since));
    }
    if let Some(until) = filters.until {
        query = query.filter(audit_events::occurred_at.lt(until));
    }
    if let Some(after) = page.after {
        query = query.filter(audit_events::id.lt(after));
    }
    query.order(audit_events::id.desc()).limit(page.fetch()).load(conn)
}
