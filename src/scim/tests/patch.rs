use serde_json::{Map, Value, json};

use crate::scim::errors::ScimType;
use crate::scim::patch::{OpKind, apply, parse};
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, PATCH_OP, ResourceKind, sanitize};

const ENTERPRISE_DEPARTMENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

fn stored(kind: ResourceKind, body: Value) -> Map<String, Value> {
    sanitize(kind, &body).expect("a valid stored representation")
}

/// Parse, apply and sanitize again, as the service does.
fn patched(kind: ResourceKind, resource: Value, operations: Value) -> Value {
    let body = json!({"schemas": [PATCH_OP], "Operations": operations});
    let ops = parse(&body).unwrap_or_else(|e| panic!("parse: {e}"));
    let mut resource = stored(kind, resource);
    apply(kind, &mut resource, &ops).unwrap_or_else(|e| panic!("apply: {e}"));
    Value::Object(sanitize(kind, &Value::Object(resource)).unwrap_or_else(|e| panic!("sanitize: {e}")))
}

fn user(resource: Value, operations: Value) -> Value {
    patched(ResourceKind::User, resource, operations)
}

fn group(resource: Value, operations: Value) -> Value {
    patched(ResourceKind::Group, resource, operations)
}

fn refused(kind: ResourceKind, resource: Value, operations: Value) -> (ScimType, String) {
    let body = json!({"schemas": [PATCH_OP], "Operations": operations});
    let e = match parse(&body) {
        Err(e) => e,
        Ok(ops) => {
            let mut resource = stored(kind, resource);
            match apply(kind, &mut resource, &ops) {
                Err(e) => e,
                Ok(()) => sanitize(kind, &Value::Object(resource)).expect_err("refused"),
            }
        }
    };
    (e.scim_type, e.detail)
}

fn bjensen() -> Value {
    json!({
        "userName": "bjensen",
        "active": true,
        "displayName": "Barbara Jensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "externalId": "ext-1"
    })
}

#[test]
fn entra_disable_user_with_a_string_boolean() {
    // Entra ID's "Disable User".
    let after = user(bjensen(), json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(after["active"], false);
    let after = user(after, json!([{"op": "Add", "path": "active", "value": "True"}]));
    assert_eq!(after["active"], true);
}

#[test]
fn okta_deactivate_user_without_a_path() {
    // Okta's "Update a specific User (PATCH)".
    let after = user(bjensen(), json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(after["active"], false);
    assert_eq!(after["userName"], "bjensen");
}

#[test]
fn entra_update_user_single_valued_and_work_email() {
    // Entra ID's "Update User [Multi-valued properties]" and "[Single-valued properties]".
    let after = user(
        bjensen(),
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}
        ]),
    );
    assert_eq!(
        after["emails"],
        json!([{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true},
               {"value": "babs@jensen.org", "type": "home"}])
    );
    assert_eq!(after["name"]["familyName"], "updatedFamilyName");
    assert_eq!(after["name"]["givenName"], "Barbara");
    assert_eq!(after["userName"], "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com");
}

#[test]
fn entra_add_work_email_creates_the_element_when_none_matches() {
    let after = user(
        json!({"userName": "a"}),
        json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "x@y"}]),
    );
    assert_eq!(after["emails"], json!([{"type": "work", "value": "x@y"}]));
    let after = user(after, json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "z@y"}]));
    assert_eq!(after["emails"], json!([{"type": "work", "value": "z@y"}]));
    let after =
        user(after, json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "h@y"}]));
    assert_eq!(after["emails"], json!([{"type": "work", "value": "z@y"}, {"type": "home", "value": "h@y"}]));
    let after = user(
        after,
        json!([{"op": "replace", "path": "emails[type eq \"work\" and primary eq true].value", "value": "p@y"}]),
    );
    assert_eq!(after["emails"][2], json!({"type": "work", "primary": true, "value": "p@y"}));
}

#[test]
fn entra_path_less_replace_with_dotted_and_extension_keys() {
    // Entra ID's path-less update ("Known issues": the value object carries dotted paths).
    let after = user(
        bjensen(),
        json!([{"op": "Replace", "value": {
            "displayName": "Babs",
            "name.givenName": "Babs",
            "name.familyName": "J",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "5",
            "emails[type eq \"work\"].value": "ignored as no attribute path",
            "unknownAttribute": "ignored"
        }}]),
    );
    assert_eq!(after["displayName"], "Babs");
    assert_eq!(
        after["name"],
        json!({"givenName": "Babs", "familyName": "J", "formatted": "Ms. Barbara J Jensen"})
    );
    assert_eq!(after[ENTERPRISE_USER_SCHEMA], json!({"employeeNumber": "5"}));
    assert_eq!(after["emails"], bjensen()["emails"]);
}

#[test]
fn extension_as_nested_object_as_path_and_as_whole() {
    let after = user(
        bjensen(),
        json!([{"op": "add", "value": {ENTERPRISE_USER_SCHEMA: {"Department": "Sales", "costCenter": "4130"}}}]),
    );
    assert_eq!(after[ENTERPRISE_USER_SCHEMA], json!({"department": "Sales", "costCenter": "4130"}));
    let after = user(after, json!([{"op": "Replace", "path": ENTERPRISE_DEPARTMENT, "value": "Ops"}]));
    assert_eq!(after[ENTERPRISE_USER_SCHEMA]["department"], "Ops");
    // Entra ID adds the manager by id alone.
    let after = user(
        after,
        json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-1"}]),
    );
    assert_eq!(after[ENTERPRISE_USER_SCHEMA]["manager"], json!({"value": "m-1"}));
    let after = user(after, json!([{"op": "Remove", "path": ENTERPRISE_DEPARTMENT}]));
    assert_eq!(after[ENTERPRISE_USER_SCHEMA], json!({"costCenter": "4130", "manager": {"value": "m-1"}}));
    let after = user(after, json!([{"op": "Remove", "path": ENTERPRISE_USER_SCHEMA}]));
    assert!(after.get(ENTERPRISE_USER_SCHEMA).is_none());
    let after =
        user(after, json!([{"op": "replace", "path": ENTERPRISE_USER_SCHEMA, "value": {"division": "D"}}]));
    assert_eq!(after[ENTERPRISE_USER_SCHEMA], json!({"division": "D"}));
}

#[test]
fn case_insensitive_names_everywhere_and_values_verbatim() {
    let after = user(
        bjensen(),
        json!([
            {"OP": "REPLACE", "PATH": "DisplayName", "VALUE": "  Spaced  "},
            {"op": "add", "path": "NAME.GIVENNAME", "value": "bARBARA"},
            {"op": "add", "path": "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT", "value": "x"},
            {"op": "replace", "path": "EMAILS[TYPE EQ \"WORK\"].VALUE", "value": "W@Example.com"}
        ]),
    );
    assert_eq!(after["displayName"], "  Spaced  ");
    assert_eq!(after["name"]["givenName"], "bARBARA");
    assert_eq!(after[ENTERPRISE_USER_SCHEMA]["department"], "x");
    assert_eq!(after["emails"][0]["value"], "W@Example.com");
    let body = json!({"operations": [{"op": "Add", "path": "title", "value": "t"}]});
    assert_eq!(parse(&body).expect("lower-case Operations")[0].op, OpKind::Add);
}

#[test]
fn multi_valued_add_appends_and_replace_replaces() {
    let after = user(
        bjensen(),
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "BJENSEN@example.com"},
            {"value": "new@example.com", "type": "other", "primary": true}
        ]}]),
    );
    // Equal on `value` (e-mails are not caseExact) is skipped; a new primary takes the flag.
    assert_eq!(
        after["emails"],
        json!([{"value": "bjensen@example.com", "type": "work"},
               {"value": "babs@jensen.org", "type": "home"},
               {"value": "new@example.com", "type": "other", "primary": true}])
    );
    let after =
        user(after, json!([{"op": "replace", "path": "emails", "value": [{"value": "only@example.com"}]}]));
    assert_eq!(after["emails"], json!([{"value": "only@example.com"}]));
    let after = user(
        after,
        json!([{"op": "replace", "value": {"emails": [{"value": "b@x"}], "phoneNumbers": [{"value": "1"}]}}]),
    );
    assert_eq!(after["emails"], json!([{"value": "b@x"}]));
    assert_eq!(after["phoneNumbers"], json!([{"value": "1"}]));
    let after = user(after, json!([{"op": "remove", "path": "emails", "value": [{"value": "B@X"}]}]));
    assert!(after.get("emails").is_none());
}

#[test]
fn phone_numbers_by_type() {
    let after = user(
        bjensen(),
        json!([{"op": "replace", "path": "phoneNumbers[type eq \"mobile\"]", "value": {"value": "+1 555 0100"}}]),
    );
    assert_eq!(after["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
    let after = user(
        after,
        json!([{"op": "add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0199"},
               {"op": "add", "path": "phoneNumbers[type eq \"mobile\"]", "value": {"display": "cell"}}]),
    );
    assert_eq!(
        after["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100", "display": "cell"}, {"type": "work", "value": "+1 555 0199"}])
    );
    let after = user(after, json!([{"op": "remove", "path": "phoneNumbers[type eq \"mobile\"]"}]));
    assert_eq!(after["phoneNumbers"], json!([{"type": "work", "value": "+1 555 0199"}]));
    let after = user(after, json!([{"op": "remove", "path": "phoneNumbers[type eq \"work\"].value"}]));
    assert_eq!(after["phoneNumbers"], json!([{"type": "work"}]));
}

#[test]
fn removals_and_null_values() {
    let after = user(
        bjensen(),
        json!([
            {"op": "remove", "path": "name.givenName"},
            {"op": "Replace", "path": "displayName", "value": null},
            {"op": "remove", "path": "externalId"},
            {"op": "add", "path": "title", "value": null},
            {"op": "replace", "value": {"nickName": null, "emails": null}}
        ]),
    );
    assert_eq!(
        after,
        json!({"userName": "bjensen", "active": true,
                             "name": {"familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"}})
    );
    let after = user(
        after,
        json!([{"op": "remove", "path": "name"}, {"op": "remove", "path": "emails[type eq \"work\"]"}]),
    );
    assert_eq!(after, json!({"userName": "bjensen", "active": true}));
    let after = user(after, json!([{"op": "add", "path": "externalId", "value": "e-2"}]));
    assert_eq!(after["externalId"], "e-2");
}

#[test]
fn read_only_server_owned_write_only_and_unknown_targets_are_ignored() {
    let after = user(
        bjensen(),
        json!([
            {"op": "replace", "path": "id", "value": "other"},
            {"op": "replace", "path": "meta", "value": {"version": "W/\"1\""}},
            {"op": "add", "path": "groups", "value": [{"value": "g-1"}]},
            {"op": "replace", "path": "password", "value": "secret"},
            {"op": "replace", "path": "roles", "value": [{"value": "r"}]},
            {"op": "replace", "path": "name.unknown", "value": "x"},
            {"op": "replace", "path": "urn:example:custom:2.0:User:x", "value": "y"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName", "value": "y"},
            {"op": "replace", "value": {"schemas": ["x"], "meta": {}, "id": "x", "password": "p"}}
        ]),
    );
    assert_eq!(after, user(bjensen(), json!([])));
}

#[test]
fn entra_group_membership() {
    let g = json!({"displayName": "Group1DisplayName", "externalId": "e"});
    // Entra ID's "Update Group [Add Members]".
    let after =
        group(g, json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u-1"}]}]));
    assert_eq!(after["members"], json!([{"value": "u-1"}]));
    let after = group(
        after,
        json!([{"op": "Add", "path": "members", "value": [{"value": "u-1"}, {"value": "u-2"}]}]),
    );
    assert_eq!(after["members"], json!([{"value": "u-1"}, {"value": "u-2"}]));
    // Entra ID's "Update Group [Remove Members]", the legacy form with a value.
    let after =
        group(after, json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u-1"}]}]));
    assert_eq!(after["members"], json!([{"value": "u-2"}]));
    // Member ids are caseExact.
    let after = group(after, json!([{"op": "Remove", "path": "members[value eq \"U-2\"]"}]));
    assert_eq!(after["members"], json!([{"value": "u-2"}]));
    let after = group(after, json!([{"op": "Remove", "path": "members[value eq \"u-2\"]"}]));
    assert!(after.get("members").is_none());
    // Removing what is not there is fine.
    let after = group(
        after,
        json!([{"op": "Remove", "path": "members[value eq \"u-9\"]"},
                                    {"op": "Remove", "path": "members", "value": [{"value": "u-9"}]}]),
    );
    // Entra ID's "Update Group [Non-member attributes]".
    let after = group(
        after,
        json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
    );
    assert_eq!(
        after,
        json!({"displayName": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName", "externalId": "e"})
    );
}

#[test]
fn okta_group_operations() {
    let g = json!({"displayName": "Test SCIMv2", "members": [{"value": "u-1", "display": "test.user@okta.local"}]});
    // Okta's "Update Group name": a path-less replace that carries the group's id.
    let after = group(
        g,
        json!([{"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2 renamed"}}]),
    );
    assert_eq!(after["displayName"], "Test SCIMv2 renamed");
    assert_eq!(after.get("id"), None);
    // Okta's "Add users to the Group" and "Remove users from the Group".
    let after = group(
        after,
        json!([{"op": "add", "path": "members", "value": [{"value": "u-2", "display": "another@okta.local"}]}]),
    );
    assert_eq!(after["members"].as_array().map(Vec::len), Some(2));
    let after = group(after, json!([{"op": "remove", "path": "members[value eq \"u-1\"]"}]));
    assert_eq!(after["members"], json!([{"value": "u-2", "display": "another@okta.local"}]));
    // Okta's replace of the whole member list.
    let after = group(
        after,
        json!([{"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}]}]),
    );
    assert_eq!(after["members"], json!([{"value": "a"}, {"value": "b"}]));
    // A remove of `members` without value (or with null) clears all.
    let cleared = group(after.clone(), json!([{"op": "Remove", "path": "members"}]));
    assert_eq!(cleared, json!({"displayName": "Test SCIMv2 renamed"}));
    let cleared = group(after, json!([{"op": "remove", "path": "members", "value": null}]));
    assert_eq!(cleared, json!({"displayName": "Test SCIMv2 renamed"}));
}

#[test]
fn parse_refuses_what_cannot_be_read() {
    for (body, kind) in [
        (json!({"schemas": [PATCH_OP]}), ScimType::InvalidSyntax),
        (json!({"Operations": {"op": "add"}}), ScimType::InvalidSyntax),
        (json!([]), ScimType::InvalidSyntax),
        (json!({"Operations": [{"op": "move", "path": "title", "value": "x"}]}), ScimType::InvalidSyntax),
        (json!({"Operations": [{"path": "title", "value": "x"}]}), ScimType::InvalidSyntax),
        (json!({"Operations": [{"op": "add", "path": "title"}]}), ScimType::InvalidSyntax),
        (json!({"Operations": [{"op": "replace", "value": null}]}), ScimType::InvalidSyntax),
        (json!({"Operations": ["add"]}), ScimType::InvalidSyntax),
        (
            json!({"Operations": [{"op": "add", "path": "emails[type eq", "value": "x"}]}),
            ScimType::InvalidPath,
        ),
        (json!({"Operations": [{"op": "add", "path": "$ref", "value": "x"}]}), ScimType::InvalidPath),
        (json!({"Operations": [{"op": "add", "path": 5, "value": "x"}]}), ScimType::InvalidPath),
    ] {
        let e = parse(&body).expect_err("refused");
        assert_eq!(e.scim_type, kind, "{body}: {e}");
    }
    let ops = parse(&json!({"Operations": [{"op": "replace", "path": "title", "value": null},
                                           {"op": "add", "path": "", "value": {"title": "t"}}]}))
    .expect("parses");
    assert_eq!((ops[0].op, ops[0].value.is_none()), (OpKind::Remove, true));
    assert!(ops[1].path.is_none());
    let many: Vec<Value> = (0..1001).map(|_| json!({"op": "remove", "path": "title"})).collect();
    assert_eq!(parse(&json!({"Operations": many})).expect_err("too many").scim_type, ScimType::TooMany);
}

#[test]
fn apply_refuses_what_cannot_be_applied() {
    let u = ResourceKind::User;
    for (ops, kind, named) in [
        (json!([{"op": "remove"}]), ScimType::NoTarget, "path"),
        (json!([{"op": "add", "value": "x"}]), ScimType::InvalidSyntax, "object"),
        (json!([{"op": "replace", "path": "userName", "value": 5}]), ScimType::InvalidValue, "userName"),
        (json!([{"op": "replace", "path": "active", "value": "maybe"}]), ScimType::InvalidValue, "active"),
        (json!([{"op": "remove", "path": "userName"}]), ScimType::InvalidValue, "userName"),
        (
            json!([{"op": "add", "path": "emails[value co \"x\"].type", "value": "work"}]),
            ScimType::InvalidFilter,
            "value co",
        ),
        (
            json!([{"op": "remove", "path": "emails[type eq \"work\" or type eq \"home\"]"}]),
            ScimType::InvalidFilter,
            "or",
        ),
        (json!([{"op": "remove", "path": "emails[display eq \"x\"]"}]), ScimType::InvalidFilter, "display"),
        (
            json!([{"op": "replace", "path": "name[givenName eq \"x\"]", "value": {}}]),
            ScimType::InvalidPath,
            "name",
        ),
        (
            json!([{"op": "replace", "path": "externalId", "value": {"a": 1}}]),
            ScimType::InvalidValue,
            "externalId",
        ),
    ] {
        let (got, detail) = refused(u, bjensen(), ops.clone());
        assert_eq!(got, kind, "{ops}: {detail}");
        assert!(detail.contains(named), "{ops}: {detail} should name {named}");
    }
}
