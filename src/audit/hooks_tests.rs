use serde_json::{Value, json};
use uuid::Uuid;

use super::of;
use crate::audit::{Action, Event, Target, Visibility};
use crate::webhooks::EventType::{self, *};

const C: &str = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d30";
const U: &str = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d31";
const G1: &str = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d41";
const G2: &str = "01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d42";

fn event(
    action: Action,
    target: Target,
    before: Option<Value>,
    data: Option<Value>,
    changes: Value,
) -> Event {
    Event {
        action,
        target_type: target,
        target_id: Uuid::parse_str(U).unwrap(),
        customer_id: Some(Uuid::parse_str(C).unwrap()),
        changes,
        visibility: Visibility::Everyone,
        data,
        before,
    }
}

fn user(status: &str, role: &str, groups: &[&str]) -> Value {
    json!({"id": U, "customer_id": C, "name": "Ada", "status": status, "role": role, "group_ids": groups})
}

fn types(event: &Event) -> Vec<EventType> {
    of(event).into_iter().map(|(_, t, _)| t).collect()
}

fn updated(action: Action, before: Value, after: Value) -> Event {
    event(action, Target::User, Some(before), Some(after), json!({}))
}

#[test]
fn a_creation_is_user_created_and_one_members_changed_per_group() {
    let e =
        event(Action::UserCreated, Target::User, None, Some(user("active", "user", &[G1, G2])), json!({}));
    let hooks = of(&e);
    assert_eq!(types(&e), [UserCreated, GroupMembersChanged, GroupMembersChanged]);
    assert_eq!(hooks[0].2, user("active", "user", &[G1, G2]));
    assert_eq!(
        hooks[1].2,
        json!({"group_id": G1, "customer_id": C, "added_user_ids": [U], "removed_user_ids": []})
    );
    assert!(hooks.iter().all(|(customer, _, _)| *customer == Some(Uuid::parse_str(C).unwrap())));
    let signed_up =
        event(Action::UserSignedUp, Target::User, None, Some(user("active", "user", &[])), json!({}));
    assert_eq!(types(&signed_up), [UserCreated]);
}

#[test]
fn an_update_is_user_updated_and_access_and_status_when_they_changed() {
    let plain = updated(Action::UserUpdated, user("active", "user", &[]), {
        let mut u = user("active", "user", &[]);
        u["name"] = json!("Grace");
        u
    });
    assert_eq!(types(&plain), [UserUpdated]);
    let me = updated(Action::MeUpdated, user("active", "user", &[]), {
        let mut u = user("active", "user", &[]);
        u["name"] = json!("Grace");
        u
    });
    assert_eq!(types(&me), [UserUpdated]);
    let role = updated(Action::UserUpdated, user("active", "user", &[]), user("active", "admin", &[]));
    assert_eq!(types(&role), [UserUpdated, UserAccessChanged]);
    let groups = updated(Action::UserUpdated, user("active", "user", &[G1]), user("active", "user", &[G2]));
    assert_eq!(types(&groups), [UserUpdated, UserAccessChanged, GroupMembersChanged, GroupMembersChanged]);
    let hooks = of(&groups);
    assert_eq!(hooks[2].2["group_id"], json!(G2));
    assert_eq!(hooks[2].2["added_user_ids"], json!([U]));
    assert_eq!(hooks[3].2["group_id"], json!(G1));
    assert_eq!(hooks[3].2["removed_user_ids"], json!([U]));
    // An import or SCIM deactivates with an update.
    let off = updated(Action::UserUpdated, user("active", "user", &[]), user("deactivated", "user", &[]));
    assert_eq!(types(&off), [UserUpdated, UserDeactivated]);
    let unchanged = updated(Action::UserUpdated, user("active", "user", &[]), user("active", "user", &[]));
    assert!(types(&unchanged).is_empty(), "a SCIM-only change shows nothing in the REST view");
}

#[test]
fn deactivation_and_reactivation_are_their_own_events() {
    let off = updated(Action::UserDeactivated, user("active", "user", &[]), user("deactivated", "user", &[]));
    assert_eq!(types(&off), [UserDeactivated]);
    let on = updated(Action::UserReactivated, user("deactivated", "user", &[]), user("active", "user", &[]));
    assert_eq!(types(&on), [UserReactivated]);
    // SCIM `active: false` with a new name is both.
    let mut renamed = user("deactivated", "user", &[]);
    renamed["name"] = json!("Grace");
    let both = updated(Action::UserDeactivated, user("active", "user", &[]), renamed);
    assert_eq!(types(&both), [UserUpdated, UserDeactivated]);
    // An invited person becoming active is no reactivation.
    let joined = updated(Action::UserUpdated, user("invited", "user", &[]), user("active", "user", &[]));
    assert_eq!(types(&joined), [UserUpdated]);
}

#[test]
fn a_deletion_is_user_deleted_with_the_view_before_and_the_groups_left() {
    let e = event(Action::UserDeleted, Target::User, None, Some(user("active", "user", &[G1])), json!({}));
    let hooks = of(&e);
    assert_eq!(types(&e), [UserDeleted, GroupMembersChanged]);
    assert_eq!(hooks[0].2, user("active", "user", &[G1]));
    assert_eq!(hooks[1].2["removed_user_ids"], json!([U]));
}

#[test]
fn staff_and_events_without_data_are_no_webhook() {
    let mut staff =
        event(Action::UserUpdated, Target::User, None, Some(user("active", "user", &[])), json!({}));
    staff.customer_id = None;
    assert!(types(&staff).is_empty());
    let none = event(Action::UserCreated, Target::User, None, None, json!({}));
    assert!(types(&none).is_empty());
    for action in [
        Action::StaffCreated,
        Action::StaffUpdated,
        Action::UserPasswordSet,
        Action::InvitationResent,
        Action::AccessWidened,
        Action::ApiClientUpdated,
        Action::AddressCreated,
        Action::CostCenterUpdated,
        Action::CustomerCreated,
        Action::CustomerOwnerTransferred,
    ] {
        let e = event(action, Target::User, None, Some(json!({"id": U})), json!({}));
        assert!(types(&e).is_empty(), "{}", action.as_str());
    }
}

#[test]
fn invitations_and_api_clients_map_one_to_one() {
    let data = json!({"id": U, "customer_id": C, "email": "a@example.com"});
    for (action, expected) in [
        (Action::InvitationCreated, InvitationCreated),
        (Action::InvitationAccepted, InvitationAccepted),
        (Action::InvitationRevoked, InvitationRevoked),
        (Action::ApiClientRevoked, ApiClientRevoked),
    ] {
        let e = event(action, Target::Invitation, None, Some(data.clone()), json!({}));
        assert_eq!(of(&e), [(e.customer_id, expected, data.clone())]);
    }
    let mut platform = event(Action::ApiClientRevoked, Target::ApiClient, None, Some(data), json!({}));
    platform.customer_id = None;
    assert_eq!(of(&platform)[0].0, None, "a platform client's revocation goes to platform endpoints");
}

fn group(count: i64, name: &str) -> Value {
    json!({"id": G1, "customer_id": C, "name": name, "member_count": count})
}

#[test]
fn groups_map_their_lifecycle_and_members() {
    let created = event(Action::GroupCreated, Target::Group, None, Some(group(0, "A")), json!({}));
    assert_eq!(types(&created), [GroupCreated]);
    let scim_created = event(
        Action::GroupCreated,
        Target::Group,
        None,
        Some(group(1, "A")),
        json!({"members": {"to": [{"value": U, "display": "Ada"}]}}),
    );
    assert_eq!(types(&scim_created), [GroupCreated, GroupMembersChanged]);
    assert_eq!(of(&scim_created)[1].2["added_user_ids"], json!([U]));
    let renamed =
        event(Action::GroupUpdated, Target::Group, Some(group(0, "A")), Some(group(0, "B")), json!({}));
    assert_eq!(types(&renamed), [GroupUpdated]);
    // A SCIM PATCH of members only: no group.updated (name and description are the same).
    let members = event(
        Action::GroupUpdated,
        Target::Group,
        Some(group(0, "A")),
        Some(group(1, "A")),
        json!({"members": {"to": [{"value": U}]}}),
    );
    assert_eq!(types(&members), [GroupMembersChanged]);
    let deleted = event(
        Action::GroupDeleted,
        Target::Group,
        None,
        Some(group(1, "A")),
        json!({"name": {"from": "A"}, "members": {"from": [U]}}),
    );
    let hooks = of(&deleted);
    assert_eq!(types(&deleted), [GroupDeleted, GroupMembersChanged]);
    assert_eq!(
        hooks[1].2,
        json!({"group_id": G1, "customer_id": C, "added_user_ids": [], "removed_user_ids": [U]})
    );
    let empty = event(
        Action::GroupDeleted,
        Target::Group,
        None,
        Some(group(0, "A")),
        json!({"members": {"from": []}}),
    );
    assert_eq!(types(&empty), [GroupDeleted]);
}

#[test]
fn a_customer_update_is_customer_updated_and_suspended_when_it_became_so() {
    let customer = |status: &str| json!({"id": C, "name": "Acme", "status": status});
    let renamed = event(
        Action::CustomerUpdated,
        Target::Customer,
        Some(customer("active")),
        Some({
            let mut c = customer("active");
            c["name"] = json!("Acme 2");
            c
        }),
        json!({}),
    );
    assert_eq!(types(&renamed), [CustomerUpdated]);
    let suspended = event(
        Action::CustomerUpdated,
        Target::Customer,
        Some(customer("active")),
        Some(customer("suspended")),
        json!({}),
    );
    assert_eq!(types(&suspended), [CustomerUpdated, CustomerSuspended]);
    let resumed = event(
        Action::CustomerUpdated,
        Target::Customer,
        Some(customer("suspended")),
        Some(customer("active")),
        json!({}),
    );
    assert_eq!(types(&resumed), [CustomerUpdated]);
}
