//! Groups (contract sections 2, 3 and 9): sub-accounts of one customer that segregate its data.
//! Staff and the customer's admins keep them; people join through their `group_ids`; a person
//! in groups sees untagged data and its groups' data, a person of data scope `all` (in no
//! group) sees everything of its customer; tokens and `/v1/me` say which (`["*"]` for all, the
//! ids otherwise, `[]` for a `groups` person in none: see `data_scope.rs`); and
//! `POST /v1/authz/check` answers exactly as the endpoints behave.

mod authz_check;
mod crud;
mod members;
mod segregation;

use std::collections::BTreeSet;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub use crate::helpers::{
    Actor, MEMBER_PASSWORD, TestApp, address_path, addresses_of, error_fields, etag_of, group_path,
    groups_of, id_of, json_of, members_of, problem, set, unique_email, user_path, users_of,
};
pub use dockgate::permissions::{Permission, Role};

/// A JSON array of strings as a set.
fn strings(value: &Value) -> BTreeSet<String> {
    value.as_array().expect("an array").iter().map(|v| v.as_str().expect("a string").to_owned()).collect()
}

/// A JSON array of uuids as a set.
fn uuids(value: &Value) -> BTreeSet<Uuid> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()).expect("a uuid"))
        .collect()
}

fn id_strings(ids: &[Uuid]) -> BTreeSet<String> {
    ids.iter().map(Uuid::to_string).collect()
}

fn labels(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// What the authz check answers.
fn verdict(allowed: bool, reason: &str) -> Value {
    json!({"allowed": allowed, "reason": reason})
}

/// A group as `actor` reads it, with its ETag.
async fn get_group(actor: &Actor, customer: Uuid, group: Uuid) -> (Value, String) {
    let response = actor.get(&group_path(customer, group)).await;
    let tag = etag_of(&response);
    (json_of(response, StatusCode::OK).await, tag)
}

/// Adds a `user` in `groups` (with `permissions`, or the defaults) as `staff`, and signs it in.
async fn member(
    app: &TestApp,
    staff: &Actor,
    customer: Uuid,
    name: &str,
    groups: &[Uuid],
    permissions: Option<&[&str]>,
) -> Actor {
    let mut extra = json!({"group_ids": groups});
    if let Some(permissions) = permissions {
        extra["permissions"] = json!(permissions);
    }
    let user = staff.add_person(customer, name, extra).await;
    assert_eq!(uuids(&user["group_ids"]), set(groups), "{name} is in the groups it was given");
    app.sign_in_member(&user).await
}

async fn patch_user(actor: &Actor, customer: Uuid, user: Uuid, body: Value) -> Response {
    actor.patch(&user_path(customer, user), &body, None).await
}

/// The labels of the addresses `actor` sees, walking the list one page at a time.
async fn visible_labels(actor: &Actor, customer: Uuid) -> BTreeSet<String> {
    actor
        .walk(&addresses_of(customer), 1)
        .await
        .iter()
        .map(|a| a["label"].as_str().expect("label").to_owned())
        .collect()
}

/// Every group endpoint of `customer`, with `group` as the group in the path.
fn group_endpoints(customer: Uuid, group: Uuid) -> Vec<(&'static str, String, Option<&'static str>)> {
    vec![
        ("GET", groups_of(customer), None),
        ("POST", groups_of(customer), Some(r#"{"name": "Intruders"}"#)),
        ("GET", group_path(customer, group), None),
        ("PATCH", group_path(customer, group), Some(r#"{"name": "Renamed"}"#)),
        ("DELETE", group_path(customer, group), None),
        ("DELETE", format!("{}?confirm=true", group_path(customer, group)), None),
        ("GET", members_of(customer, group), None),
    ]
}

/// One customer with groups X and Y, addresses untagged / tagged X / tagged Y, and three
/// signed-in users: one in X, one in Y, one in no group.
struct Depots {
    customer: Uuid,
    x: Uuid,
    y: Uuid,
    main: Uuid,
    north: Uuid,
    south: Uuid,
    in_x: Actor,
    in_y: Actor,
    in_none: Actor,
}

async fn depots(app: &TestApp, staff: &Actor) -> Depots {
    let customer = id_of(&staff.create_customer("Acme").await);
    let x = staff.add_group(customer, "Depot X").await;
    let y = staff.add_group(customer, "Depot Y").await;
    let main = id_of(&staff.add_address(customer, "Main", None).await);
    let north = staff.add_address(customer, "North", Some(x)).await;
    assert_eq!(north["group_id"], json!(x), "tagged on POST");
    // Tagged afterwards, with PATCH.
    let south = id_of(&staff.add_address(customer, "South", None).await);
    let tagged = json_of(
        staff.patch(&address_path(customer, south), &json!({"group_id": y}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tagged["group_id"], json!(y), "tagged on PATCH");
    let in_x = member(app, staff, customer, "xena", &[x], None).await;
    let in_y = member(app, staff, customer, "yuri", &[y], None).await;
    let in_none = member(app, staff, customer, "nora", &[], None).await;
    Depots { customer, x, y, main, north: id_of(&north), south, in_x, in_y, in_none }
}
