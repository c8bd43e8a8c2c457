//! Audit events as clients read them, and the list filters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{Action, ActorKind, Target};
use validator::Validate;

/// Something that happened, who did it, and from where.
/// `changes`: for each field that changed, its value before (`from`, absent on creation) and
/// after (`to`, absent on deletion), as the client views show them, so never a secret.
fn changes_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType};
    let any = || ObjectBuilder::new().schema_type(SchemaType::AnyValue);
    let change = ObjectBuilder::new()
        .property("from", any())
        .property("to", any())
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some("The field's value before and after the change."));
    ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::RefOr(utoipa::openapi::RefOr::T(change.into()))))
        .description(Some("The fields that changed: `{field: {\"from\": old, \"to\": new}}`; never secrets."))
        .examples([serde_json::json!({"name": {"from": "Acme", "to": "Acme Logistics"}})])
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d20", "occurred_at": "2026-11-23T10:00:00Z",
    "actor_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d10", "actor_kind": "staff",
    "action": "customer.updated", "target_type": "customer",
    "target_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30", "customer_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30",
    "changes": {"name": {"from": "Acme", "to": "Acme Logistics"}},
    "request_id": "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d40", "client_addr": "203.0.113.7"
}))]
pub struct AuditEventView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// Null for actions taken from the command line.
    pub actor_id: Option<Uuid>,
    pub actor_kind: Option<ActorKind>,
    /// `<resource>.<verb>`: `customer.created`, `address.updated`, `staff.deleted`, ...
    pub action: Action,
    pub target_type: Target,
    pub target_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    #[schema(schema_with = changes_schema)]
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct AuditFilters {
    /// Only events about this customer's data.
    pub customer_id: Option<Uuid>,
    /// Only events by this person.
    pub actor_id: Option<Uuid>,
    /// Only events about this resource.
    pub target_id: Option<Uuid>,
    /// Only this action.
    pub action: Option<Action>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
}
