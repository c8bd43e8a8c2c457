//! Which webhook events an audit event is: the one mapping from what the log records to what
//! endpoints hear ([`of`]), applied by [`super::record`] in the transaction of the change.
//! Pure but for [`announce`], which hands each to [`webhooks::emit`].

use std::collections::BTreeSet;

use diesel::PgConnection;
use diesel::QueryResult;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Action, Event};
use crate::webhooks::{self, EventType};

/// Fields of a person's view whose change is a change of access.
const ACCESS: [&str; 4] = ["role", "permissions", "group_ids", "data_scope"];

/// One webhook event: to whose endpoints (the customer's and the platform's), what, and its data.
pub type Hook = (Option<Uuid>, EventType, Value);

/// Emits the webhook events of `event` without writing it to the audit log: for a change whose
/// audit event names another resource (an accepted invitation creates a person). Call in the
/// transaction of the change.
pub fn announce(conn: &mut PgConnection, event: &Event) -> QueryResult<()> {
    let hooks = of(event);
    let hooks: Vec<_> = hooks.iter().map(|(customer_id, kind, data)| (*customer_id, *kind, data)).collect();
    webhooks::emit_all(conn, &hooks)
}

/// The webhook events of `event`, in order; none for what no webhook announces (staff,
/// passwords, addresses, cost centers, tokens, sign-up requests).
pub fn of(event: &Event) -> Vec<Hook> {
    let Some(data) = &event.data else { return Vec::new() };
    let customer = event.customer_id;
    let one = |event_type| vec![(customer, event_type, data.clone())];
    match event.action {
        Action::UserCreated | Action::UserSignedUp if customer.is_some() => {
            let mut hooks = one(EventType::UserCreated);
            hooks.extend(members_of_person(customer, data, &[], &ids(data.get("group_ids"))));
            hooks
        }
        Action::UserUpdated | Action::MeUpdated | Action::UserDeactivated | Action::UserReactivated
            if customer.is_some() =>
        {
            person_changed(event, data)
        }
        Action::UserDeleted if customer.is_some() => {
            let mut hooks = one(EventType::UserDeleted);
            hooks.extend(members_of_person(customer, data, &ids(data.get("group_ids")), &[]));
            hooks
        }
        Action::InvitationCreated => one(EventType::InvitationCreated),
        Action::InvitationAccepted => one(EventType::InvitationAccepted),
        Action::InvitationRevoked => one(EventType::InvitationRevoked),
        Action::GroupCreated => {
            let mut hooks = one(EventType::GroupCreated);
            hooks.extend(members_of_group(customer, data, &[], &ids(member_change(event, "to"))));
            hooks
        }
        Action::GroupUpdated => {
            let mut hooks = Vec::new();
            let shown = difference(event, data);
            if shown.keys().any(|key| key != "member_count") {
                hooks.push((customer, EventType::GroupUpdated, data.clone()));
            }
            let (from, to) = (ids(member_change(event, "from")), ids(member_change(event, "to")));
            hooks.extend(members_of_group(customer, data, &from, &to));
            hooks
        }
        Action::GroupDeleted => {
            let mut hooks = one(EventType::GroupDeleted);
            hooks.extend(members_of_group(customer, data, &ids(member_change(event, "from")), &[]));
            hooks
        }
        Action::CustomerUpdated => {
            let mut hooks = one(EventType::CustomerUpdated);
            if became(&difference(event, data), "status", "suspended") {
                hooks.push((customer, EventType::CustomerSuspended, data.clone()));
            }
            hooks
        }
        Action::ApiClientRevoked => one(EventType::ApiClientRevoked),
        _ => Vec::new(),
    }
}

/// A person's update, however made (REST, `/v1/me`, an import, SCIM): `user.updated` for an
/// update (and for a deactivation that changed more than the status), the status change, the
/// change of access and each group joined or left. Nothing when the REST view is unchanged (a
/// SCIM attribute only SCIM shows).
fn person_changed(event: &Event, data: &Value) -> Vec<Hook> {
    let customer = event.customer_id;
    let diff = difference(event, data);
    if diff.is_empty() {
        return Vec::new();
    }
    let mut hooks = Vec::new();
    let mut push = |event_type| hooks.push((customer, event_type, data.clone()));
    let update = matches!(event.action, Action::UserUpdated | Action::MeUpdated);
    if update || diff.keys().any(|key| key != "status") {
        push(EventType::UserUpdated);
    }
    if became(&diff, "status", "deactivated") {
        push(EventType::UserDeactivated);
    } else if diff.get("status").and_then(|c| c.get("from")) == Some(&json!("deactivated"))
        && became(&diff, "status", "active")
    {
        push(EventType::UserReactivated);
    }
    if ACCESS.iter().any(|field| diff.contains_key(*field)) {
        push(EventType::UserAccessChanged);
    }
    let before = event.before.as_ref().and_then(|b| b.get("group_ids"));
    let before = match before {
        Some(groups) => ids(Some(groups)),
        None => ids(diff.get("group_ids").and_then(|c| c.get("from"))),
    };
    hooks.extend(members_of_person(customer, data, &before, &ids(data.get("group_ids"))));
    hooks
}

/// The REST fields that differ, `{field: {"from", "to"}}`: from the views before and after when
/// the event has both, else its own `changes`.
fn difference(event: &Event, data: &Value) -> serde_json::Map<String, Value> {
    let diff = match &event.before {
        Some(before) => super::changes(Some(before), Some(data)),
        None => event.changes.clone(),
    };
    match diff {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn became(diff: &serde_json::Map<String, Value>, field: &str, to: &str) -> bool {
    diff.get(field).and_then(|c| c.get("to")).and_then(Value::as_str) == Some(to)
}

/// A group's members on one side of its change, as its audit event names them: SCIM
/// representations' `members` (`[{"value": id, ..}]`) or a removal's member list (`[id]`).
fn member_change<'a>(event: &'a Event, side: &str) -> Option<&'a Value> {
    event.changes.get("members").and_then(|c| c.get(side))
}

/// The ids in a list of ids or of SCIM members (`{"value": id}`), in order, once each.
fn ids(list: Option<&Value>) -> Vec<Uuid> {
    let mut seen = BTreeSet::new();
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().or_else(|| item.get("value").and_then(Value::as_str)))
        .filter_map(|id| Uuid::parse_str(id).ok())
        .filter(|id| seen.insert(*id))
        .collect()
}

fn members_changed(customer: Option<Uuid>, group_id: Uuid, added: &[Uuid], removed: &[Uuid]) -> Hook {
    let data = json!({
        "group_id": group_id,
        "customer_id": customer,
        "added_user_ids": added,
        "removed_user_ids": removed,
    });
    (customer, EventType::GroupMembersChanged, data)
}

/// One `group.members_changed` per group the person (`data`) joined or left.
fn members_of_person(customer: Option<Uuid>, data: &Value, before: &[Uuid], after: &[Uuid]) -> Vec<Hook> {
    let Some(user_id) = data.get("id").and_then(Value::as_str).and_then(|id| Uuid::parse_str(id).ok()) else {
        return Vec::new();
    };
    let joined =
        after.iter().filter(|g| !before.contains(g)).map(|g| members_changed(customer, *g, &[user_id], &[]));
    let left =
        before.iter().filter(|g| !after.contains(g)).map(|g| members_changed(customer, *g, &[], &[user_id]));
    joined.chain(left).collect()
}

/// The `group.members_changed` of the group (`data`) whose members went from `before` to
/// `after`; none when they are the same people.
fn members_of_group(customer: Option<Uuid>, data: &Value, before: &[Uuid], after: &[Uuid]) -> Vec<Hook> {
    let Some(group_id) = data.get("id").and_then(Value::as_str).and_then(|id| Uuid::parse_str(id).ok())
    else {
        return Vec::new();
    };
    let added: Vec<Uuid> = after.iter().filter(|u| !before.contains(u)).copied().collect();
    let removed: Vec<Uuid> = before.iter().filter(|u| !after.contains(u)).copied().collect();
    if added.is_empty() && removed.is_empty() {
        return Vec::new();
    }
    vec![members_changed(customer, group_id, &added, &removed)]
}

#[cfg(test)]
#[path = "hooks_tests.rs"]
mod tests;
