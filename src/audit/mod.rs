//! The audit log: every mutation writes an event in the same transaction as the change
//! ([`record`]); `GET /v1/audit-events` ([`crate::audit_events`]) reads them within the
//! caller's scope. Events are
//! append-only: no endpoint changes them, and a trigger refuses UPDATE and DELETE. Who among a
//! customer's readers may see an event is decided when it is written ([`Visibility`]).

mod hooks;
mod visibility;

pub use hooks::announce;
pub use visibility::Visibility;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::accounts::Actor;
use crate::origin::Origin;
use crate::permissions::DataScope;
use crate::text_enum;

text_enum! {
    /// What happened, `<target>.<verb>`: the closed set of audit actions.
    pub enum Action as "AuditAction" {
        ApiClientCreated = "api_client.created",
        ApiClientDeleted = "api_client.deleted",
        ApiClientRevoked = "api_client.revoked",
        ApiClientSecretRotated = "api_client.secret_rotated",
        ApiClientTokenCreated = "api_client.token_created",
        ApiClientTokenRevoked = "api_client.token_revoked",
        ApiClientUpdated = "api_client.updated",
        AddressCreated = "address.created",
        AddressDeleted = "address.deleted",
        AddressUpdated = "address.updated",
        CostCenterCreated = "cost_center.created",
        CostCenterDeleted = "cost_center.deleted",
        CostCenterUpdated = "cost_center.updated",
        CustomerCreated = "customer.created",
        /// Someone recorded that the customer's access review was done (who and when are on
        /// the customer).
        CustomerAccessReviewed = "customer.access_reviewed",
        CustomerDeleted = "customer.deleted",
        /// Every session of the customer's people was ended at once (`changes.sessions`: how
        /// many).
        CustomerSessionsEnded = "customer.sessions_ended",
        CustomerOwnerTransferred = "customer.owner_transferred",
        CustomerUpdated = "customer.updated",
        GroupCreated = "group.created",
        GroupDeleted = "group.deleted",
        GroupUpdated = "group.updated",
        InvitationAccepted = "invitation.accepted",
        InvitationCreated = "invitation.created",
        InvitationResent = "invitation.resent",
        InvitationRevoked = "invitation.revoked",
        MePasswordChanged = "me.password_changed",
        MeUpdated = "me.updated",
        StaffCreated = "staff.created",
        StaffDeleted = "staff.deleted",
        StaffUpdated = "staff.updated",
        UserCreated = "user.created",
        UserDeactivated = "user.deactivated",
        UserDeleted = "user.deleted",
        UserExpired = "user.expired",
        /// A staff member started a support session as the user; `changes` has the reason.
        UserImpersonated = "user.impersonated",
        UserMfaDisabled = "user.mfa_disabled",
        UserMfaEnabled = "user.mfa_enabled",
        UserMfaRecoveryCodesRegenerated = "user.mfa_recovery_codes_regenerated",
        UserMfaReset = "user.mfa_reset",
        UserPasswordReset = "user.password_reset",
        UserPasswordResetRequested = "user.password_reset_requested",
        UserPasswordResetSent = "user.password_reset_sent",
        UserPasswordSet = "user.password_set",
        UserReactivated = "user.reactivated",
        UserSessionEnded = "user.session_ended",
        UserSignedUp = "user.signed_up",
        UserSignupRequested = "user.signup_requested",
        UserUpdated = "user.updated",
        WebhookCreated = "webhook.created",
        WebhookDeleted = "webhook.deleted",
        WebhookSecretRotated = "webhook.secret_rotated",
        WebhookUpdated = "webhook.updated",
        /// Someone (a person or an API client) went from data scope `groups` to `all`: the one
        /// change that shows a customer's people more data, recorded on its own next to the
        /// ordinary update event so it can be found and alerted on.
        AccessWidened = "access.widened",
    }
}

text_enum! {
    /// What an audit event is about.
    pub enum Target as "AuditTarget" {
        Customer = "customer",
        WarehouseAddress = "warehouse_address",
        CostCenter = "cost_center",
        Group = "group",
        Invitation = "invitation",
        User = "user",
        Staff = "staff",
        SignupRequest = "signup_request",
        ApiClient = "api_client",
        ApiClientToken = "api_client_token",
        Webhook = "webhook",
    }
}

text_enum! {
    /// Who acted: a signed-in person of either kind, an API client, someone not signed in (a
    /// public endpoint), or the command line.
    pub enum ActorKind as "AuditActorKind" {
        Staff = "staff",
        CustomerUser = "customer_user",
        ApiClient = "api_client",
        Anonymous = "anonymous",
        Cli = "cli",
    }
}

impl From<crate::permissions::Kind> for ActorKind {
    fn from(kind: crate::permissions::Kind) -> Self {
        match kind {
            crate::permissions::Kind::Staff => Self::Staff,
            crate::permissions::Kind::CustomerUser => Self::CustomerUser,
        }
    }
}

/// Who acted and from where, detached from the request so it can travel into a transaction.
#[derive(Debug, Clone)]
pub struct Author {
    pub actor_id: Option<Uuid>,
    pub actor_kind: Option<ActorKind>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl From<&Actor> for Author {
    fn from(actor: &Actor) -> Self {
        Self {
            actor_id: Some(actor.id()),
            actor_kind: Some(match actor.client() {
                Some(_) => ActorKind::ApiClient,
                None => actor.kind().into(),
            }),
            request_id: actor.request_id.clone(),
            client_addr: Some(actor.client_addr.clone()),
        }
    }
}

impl Author {
    /// Someone who has not signed in (asking for a password-reset link, for example).
    pub fn anonymous(origin: &Origin) -> Self {
        Self::from_origin(origin, None, ActorKind::Anonymous)
    }

    /// A person proven by something other than a session (a password-reset link).
    pub fn person(origin: &Origin, account: &crate::accounts::UserRow) -> Self {
        Self::from_origin(origin, Some(account.id), account.kind.into())
    }

    fn from_origin(origin: &Origin, actor_id: Option<Uuid>, kind: ActorKind) -> Self {
        Self {
            actor_id,
            actor_kind: Some(kind),
            request_id: origin.request_id.clone(),
            client_addr: Some(origin.client_addr.clone()),
        }
    }
}

/// One thing that happened.
pub struct Event {
    pub action: Action,
    pub target_type: Target,
    pub target_id: Uuid,
    pub customer_id: Option<Uuid>,
    /// What changed: `{field: {"from": .., "to": ..}}`; see [`changes`].
    pub changes: Value,
    /// Which of the customer's readers see the event: it shows what the target was and became,
    /// so it is as visible as the target on both sides of the change.
    pub visibility: Visibility,
    /// The resource's public REST view, after the change (before it, for a deletion): the
    /// `data` of the webhooks the event sends ([`hooks`]). `None` where no webhook applies.
    /// Never a secret, hash or link token: only what the REST API shows.
    pub data: Option<Value>,
    /// Its REST view before an update (`None` for a creation or deletion), to tell which
    /// webhooks the change is (a deactivation, a change of access) whatever shape `changes`
    /// has (SCIM's events compare SCIM representations).
    pub before: Option<Value>,
}

/// The `access.widened` event of `target` (a user or an API client) when its data scope went
/// from `groups` to `all` between `before` and `after` (scope, groups); `None` otherwise. Only
/// readers who see every group see it (it is about someone who now does).
pub fn widened(
    target_type: Target,
    target_id: Uuid,
    customer_id: Option<Uuid>,
    before: (DataScope, &[Uuid]),
    after: (DataScope, &[Uuid]),
) -> Option<Event> {
    (before.0 == DataScope::Groups && after.0 == DataScope::All).then(|| Event {
        action: Action::AccessWidened,
        target_type,
        target_id,
        customer_id,
        changes: serde_json::json!({
            "data_scope": {"from": before.0, "to": after.0},
            "group_ids": {"from": before.1, "to": after.1},
        }),
        visibility: Visibility::person(before.0, before.1).join(Visibility::person(after.0, after.1)),
        data: None,
        before: None,
    })
}

/// Writes `event` and the webhook events it is ([`hooks`]: one per listening endpoint, none
/// when nobody listens); call inside the transaction that makes the change, so both exist
/// exactly when it commits.
pub fn record(conn: &mut PgConnection, author: &Author, event: Event) -> QueryResult<()> {
    record_all(conn, author, vec![event])
}

/// `changes` as `AuditEventView` documents it: an object of `{"from"?, "to"?}` objects.
fn is_change_set(changes: &Value) -> bool {
    changes.as_object().is_some_and(|fields| {
        fields.values().all(|change| {
            change.as_object().is_some_and(|sides| sides.keys().all(|side| side == "from" || side == "to"))
        })
    })
}

/// [`record`] for many events by one author, in order: the events and their webhooks in one
/// statement whatever their number (none for no events).
pub fn record_all(conn: &mut PgConnection, author: &Author, events: Vec<Event>) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let hooks: Vec<hooks::Hook> = events.iter().flat_map(hooks::of).collect();
    let hooks: Vec<_> = hooks.iter().map(|(customer_id, kind, data)| (*customer_id, *kind, data)).collect();
    let emission = crate::webhooks::Emission::of(&hooks)?;
    let mut rows = Rows::default();
    for event in events {
        // The OpenAPI document promises this shape to every reader of the log.
        debug_assert!(is_change_set(&event.changes), "{} changes: {}", event.action.as_str(), event.changes);
        rows.ids.push(Uuid::now_v7());
        rows.actions.push(event.action.as_str().to_owned());
        rows.target_types.push(event.target_type.as_str().to_owned());
        rows.target_ids.push(event.target_id);
        rows.customer_ids.push(event.customer_id);
        rows.changes.push(event.changes);
        // An array of arrays would be one flat array to `unnest`: each row's groups travel as
        // the text of a uuid[] instead.
        rows.visible_groups.push(event.visibility.stored().map(|groups| {
            let groups: Vec<String> = groups.iter().flatten().map(Uuid::to_string).collect();
            format!("{{{}}}", groups.join(","))
        }));
    }
    let with = if emission.is_empty() {
        String::new()
    } else {
        format!("WITH {} ", crate::webhooks::Emission::ctes(12))
    };
    let sql = format!(
        "{with}INSERT INTO audit_events (id, actor_id, actor_kind, action, target_type, target_id,
             customer_id, changes, request_id, client_addr, visible_groups)
         SELECT e.id, $1, $2, e.action, e.target_type, e.target_id, e.customer_id, e.changes, $3, $4,
             e.visible_groups::uuid[]
         FROM unnest($5::uuid[], $6::text[], $7::text[], $8::uuid[], $9::uuid[], $10::jsonb[], $11::text[])
             AS e (id, action, target_type, target_id, customer_id, changes, visible_groups)
         ORDER BY e.id"
    );
    use diesel::sql_types::{Array, Jsonb, Nullable, Text, Uuid as SqlUuid};
    let query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Nullable<SqlUuid>, _>(author.actor_id)
        .bind::<Nullable<Text>, _>(author.actor_kind.map(|kind| kind.as_str().to_owned()))
        .bind::<Nullable<Text>, _>(author.request_id.clone())
        .bind::<Nullable<Text>, _>(author.client_addr.clone())
        .bind::<Array<SqlUuid>, _>(rows.ids)
        .bind::<Array<Text>, _>(rows.actions)
        .bind::<Array<Text>, _>(rows.target_types)
        .bind::<Array<SqlUuid>, _>(rows.target_ids)
        .bind::<Array<Nullable<SqlUuid>>, _>(rows.customer_ids)
        .bind::<Array<Jsonb>, _>(rows.changes)
        .bind::<Array<Nullable<Text>>, _>(rows.visible_groups);
    let query = if emission.is_empty() { query } else { emission.bind(query) };
    query.execute(conn).map(drop)
}

/// The columns of the events [`record_all`] writes, one array each.
#[derive(Default)]
struct Rows {
    ids: Vec<Uuid>,
    actions: Vec<String>,
    target_types: Vec<String>,
    target_ids: Vec<Uuid>,
    customer_ids: Vec<Option<Uuid>>,
    changes: Vec<Value>,
    visible_groups: Vec<Option<String>>,
}

/// The fields that differ between two views of a resource, as `{field: {"from", "to"}}`;
/// `None` stands for "did not exist" (creation, deletion). Views are what clients see, so no
/// secret can reach the log through here. Timestamps and ids are left out.
pub fn changes<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Value {
    let object = |view: Option<&T>| match view.map(serde_json::to_value) {
        Some(Ok(Value::Object(map))) => map,
        _ => Map::new(),
    };
    let (before, after) = (object(before), object(after));
    let mut out = Map::new();
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        if matches!(key.as_str(), "id" | "customer_id" | "created_at" | "updated_at") {
            continue;
        }
        let (from, to) = (before.get(key), after.get(key));
        if from != to {
            let mut change = Map::new();
            if let Some(from) = from {
                change.insert("from".into(), from.clone());
            }
            if let Some(to) = to {
                change.insert("to".into(), to.clone());
            }
            out.insert(key.clone(), Value::Object(change));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn change_sets_are_objects_of_from_and_to() {
        assert!(is_change_set(&json!({})));
        assert!(is_change_set(&json!({"name": {"from": "A", "to": "B"}, "user_id": {"to": 1}})));
        assert!(!is_change_set(&json!({"valid_until": "2026-12-02T12:52:21Z"})));
        assert!(!is_change_set(&json!({"session_ids": ["a"]})));
        assert!(!is_change_set(&json!({"name": {"before": "A"}})));
        assert!(!is_change_set(&json!([])));
    }

    #[test]
    fn changes_name_only_what_differs() {
        let before = json!({"id": 1, "name": "A", "phone": null, "updated_at": "x"});
        let after = json!({"id": 1, "name": "B", "phone": null, "updated_at": "y"});
        assert_eq!(changes(Some(&before), Some(&after)), json!({"name": {"from": "A", "to": "B"}}));
        assert_eq!(changes(None, Some(&json!({"name": "A"}))), json!({"name": {"to": "A"}}));
        assert_eq!(changes(Some(&json!({"name": "A"})), None), json!({"name": {"from": "A"}}));
    }
}
