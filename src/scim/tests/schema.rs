use serde_json::{Map, Value, json};

use crate::scim::errors::ScimType;
use crate::scim::schema::{
    AttrType, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, Mutability, ResourceKind, Returned, USER_SCHEMA,
    Uniqueness, attribute, enterprise_attribute, enterprise_attributes, sanitize, schema_resources,
};

fn user(body: Value) -> Map<String, Value> {
    sanitize(ResourceKind::User, &body).expect("sanitizes")
}

fn user_error(body: Value) -> (ScimType, String) {
    let e = sanitize(ResourceKind::User, &body).expect_err("refused");
    (e.scim_type, e.detail)
}

#[test]
fn entra_create_user_keeps_what_is_published_and_drops_meta_schemas_and_unknowns() {
    // Entra ID's "Create User" request from "Develop a SCIM endpoint".
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{"primary": true, "type": "work",
                    "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    });
    assert_eq!(
        Value::Object(user(body)),
        json!({
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
            "active": true,
            "emails": [{"primary": true, "type": "work",
                        "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"}
        })
    );
}

#[test]
fn okta_create_user_password_and_groups_are_accepted_and_not_stored() {
    // Okta's "Create the User" request from its SCIM 2.0 reference.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    let stored = user(body);
    assert!(!stored.contains_key("password"));
    assert!(!stored.contains_key("groups"));
    assert_eq!(stored["locale"], "en-US");
    assert_eq!(stored["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(stored.len(), 7, "{stored:?}");
}

#[test]
fn names_match_in_any_case_and_are_stored_in_canonical_case() {
    let stored = user(json!({
        "USERNAME": "bjensen",
        "Name": {"GIVENNAME": "Barbara", "familyname": "Jensen"},
        "Emails": [{"VALUE": "b@example.com", "Type": "work", "PRIMARY": "True"}],
        "EXTERNALID": "x-1",
        "phonenumbers": [{"value": "+1 555", "type": "mobile"}]
    }));
    assert_eq!(
        Value::Object(stored),
        json!({
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
            "externalId": "x-1",
            "phoneNumbers": [{"value": "+1 555", "type": "mobile"}]
        })
    );
}

#[test]
fn null_empty_arrays_and_empty_objects_are_unassigned() {
    let stored = user(json!({
        "userName": "a",
        "displayName": null,
        "emails": [],
        "name": {},
        "phoneNumbers": [null, {}],
        "addresses": [{"type": null}],
        "externalId": null,
        ENTERPRISE_USER_SCHEMA: {"department": null},
        "title": ""
    }));
    // An empty string is a value (kept verbatim), not unassigned.
    assert_eq!(Value::Object(stored), json!({"userName": "a", "title": ""}));
}

#[test]
fn booleans_are_read_leniently() {
    for (given, expected) in
        [(json!("True"), true), (json!("TRUE"), true), (json!("true"), true), (json!(true), true)]
    {
        assert_eq!(user(json!({"userName": "a", "active": given}))["active"], json!(expected));
    }
    for given in [json!("False"), json!("false"), json!("FALSE"), json!(false)] {
        assert_eq!(user(json!({"userName": "a", "active": given}))["active"], json!(false));
    }
    let stored = user(json!({"userName": "a", "emails": [{"value": "a@b", "primary": "False"}]}));
    assert_eq!(stored["emails"][0]["primary"], json!(false));
}

#[test]
fn a_wrong_type_is_invalid_value_naming_the_attribute() {
    for (body, named) in [
        (json!({"userName": 5}), "userName"),
        (json!({"userName": "a", "active": {}}), "active"),
        (json!({"userName": "a", "active": "yes"}), "active"),
        (json!({"userName": "a", "emails": [{"value": 5}]}), "emails.value"),
        (json!({"userName": "a", "name": "Barbara"}), "name"),
        (json!({"userName": "a", "displayName": ["x"]}), "displayName"),
        (json!({"userName": "a", "externalId": 7}), "externalId"),
        (json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"department": 1}}), "department"),
        (json!({"userName": "a", ENTERPRISE_USER_SCHEMA: "sales"}), ENTERPRISE_USER_SCHEMA),
    ] {
        let (kind, detail) = user_error(body.clone());
        assert_eq!(kind, ScimType::InvalidValue, "{body}");
        assert!(detail.contains(named), "{detail} should name {named}");
    }
}

#[test]
fn required_user_name_and_group_display_name() {
    assert_eq!(user_error(json!({"displayName": "x"})).0, ScimType::InvalidValue);
    assert!(user_error(json!({"userName": ""})).1.contains("userName"));
    assert!(user_error(json!({"userName": null})).1.contains("userName"));
    let e = sanitize(ResourceKind::Group, &json!({"members": []})).expect_err("refused");
    assert!(e.detail.contains("displayName"));
    let e = sanitize(ResourceKind::User, &json!(["userName"])).expect_err("refused");
    assert_eq!(e.scim_type, ScimType::InvalidSyntax);
}

#[test]
fn strings_are_kept_byte_exact() {
    let odd = "  Ämélie\u{00a0}O'Brien\t ";
    let stored = user(json!({"userName": odd, "displayName": odd, "name": {"givenName": odd}}));
    assert_eq!(stored["userName"], odd);
    assert_eq!(stored["displayName"], odd);
    assert_eq!(stored["name"]["givenName"], odd);
}

#[test]
fn the_enterprise_extension_in_every_form_lands_under_its_urn() {
    let stored = user(json!({
        "userName": "a",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {
            "Department": "Sales",
            "employeeNumber": "701984",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith",
                        "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"},
            "unknown": "dropped"
        },
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": "4130",
        "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:ORGANIZATION": "Universal Studios",
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Core by URN",
        "urn:ietf:params:scim:schemas:extension:custom:2.0:User": {"x": 1},
        "urn:ietf:params:scim:schemas:extension:custom:2.0:User:y": 2
    }));
    assert_eq!(stored["displayName"], "Core by URN");
    assert_eq!(
        stored[ENTERPRISE_USER_SCHEMA],
        json!({
            "department": "Sales",
            "employeeNumber": "701984",
            // displayName is readOnly: the server's, not stored from a client.
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d",
                        "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"},
            "costCenter": "4130",
            "organization": "Universal Studios"
        })
    );
    assert_eq!(stored.len(), 3, "{stored:?}");
}

#[test]
fn entra_manager_as_a_bare_id_or_a_one_element_array() {
    for manager in [json!("m-1"), json!([{"value": "m-1"}]), json!({"value": "m-1"})] {
        let stored = user(json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"manager": manager}}));
        assert_eq!(stored[ENTERPRISE_USER_SCHEMA]["manager"], json!({"value": "m-1"}));
    }
}

#[test]
fn groups_keep_members_with_value_display_type_and_ref() {
    // Entra ID's "Create Group" request.
    let body = json!({
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "id": "c4f5d6e8-2b3a-4f1e-9d8c-7b6a5f4e3d2c",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"},
        "schemas": [GROUP_SCHEMA],
        "members": [
            {"value": "u-1", "display": "Ann", "type": "User", "$ref": "../Users/u-1", "extra": 1},
            {"value": "u-2"}
        ]
    });
    let stored = sanitize(ResourceKind::Group, &body).expect("sanitizes");
    assert_eq!(
        Value::Object(stored),
        json!({
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "members": [{"value": "u-1", "display": "Ann", "type": "User", "$ref": "../Users/u-1"}, {"value": "u-2"}]
        })
    );
    let e = sanitize(ResourceKind::Group, &json!({"displayName": "g", "members": [{"display": "no id"}]}))
        .expect_err("a member needs its value");
    assert_eq!(e.scim_type, ScimType::InvalidValue);
    assert!(e.detail.contains("members.value"));
    // The enterprise extension is a User's; on a group it is an unknown key.
    let stored = sanitize(
        ResourceKind::Group,
        &json!({"displayName": "g", ENTERPRISE_USER_SCHEMA: {"department": "x"}}),
    )
    .expect("sanitizes");
    assert_eq!(Value::Object(stored), json!({"displayName": "g"}));
}

/// A value for every stored attribute of a table, as a client would send it.
fn sample(attributes: &[crate::scim::schema::Attribute], prefix: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for a in attributes.iter().filter(|a| a.mutability.is_stored()) {
        let one = match a.kind {
            AttrType::Boolean => json!(true),
            AttrType::Integer => json!(7),
            AttrType::Complex => Value::Object(sample(a.sub_attributes, &format!("{prefix}{}.", a.name))),
            _ => json!(format!("{prefix}{} Ü ", a.name)),
        };
        let value = if a.multi_valued { json!([one.clone(), one]) } else { one };
        out.insert(a.name.into(), value);
    }
    out
}

#[test]
fn every_published_writable_attribute_round_trips_byte_equal() {
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let mut body = sample(kind.attributes(), "");
        body.insert("externalId".into(), json!("ext Ü"));
        if kind == ResourceKind::User {
            body.insert(ENTERPRISE_USER_SCHEMA.into(), Value::Object(sample(enterprise_attributes(), "")));
        }
        let stored = sanitize(kind, &Value::Object(body.clone())).expect("sanitizes");
        assert_eq!(stored, body, "{kind:?}");
        // And the stored form is a fixed point.
        assert_eq!(sanitize(kind, &Value::Object(stored.clone())).expect("again"), stored);
    }
}

#[test]
fn schemas_are_rendered_with_every_characteristic_and_without_common_attributes() {
    let schemas = schema_resources("https://example.com/scim/v2");
    let ids: Vec<&str> = schemas.iter().map(|s| s["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA]);
    let user = &schemas[0];
    assert_eq!(user["name"], "User");
    assert_eq!(user["meta"]["resourceType"], "Schema");
    assert_eq!(user["meta"]["location"], format!("https://example.com/scim/v2/Schemas/{USER_SCHEMA}"));
    let attrs = user["attributes"].as_array().expect("attributes");
    let by_name = |n: &str| attrs.iter().find(|a| a["name"] == n).cloned();
    for common in ["id", "externalId", "meta"] {
        assert!(by_name(common).is_none(), "{common} is a common attribute");
    }
    let user_name = by_name("userName").expect("userName");
    assert_eq!(
        user_name,
        json!({"name": "userName", "type": "string", "multiValued": false,
               "description": user_name["description"], "required": true, "caseExact": false,
               "mutability": "readWrite", "returned": "default", "uniqueness": "server"})
    );
    let password = by_name("password").expect("password");
    assert_eq!(
        (password["mutability"].as_str(), password["returned"].as_str()),
        (Some("writeOnly"), Some("never"))
    );
    assert_eq!(by_name("groups").expect("groups")["mutability"], "readOnly");
    let emails = by_name("emails").expect("emails");
    assert_eq!(emails["multiValued"], true);
    let email_type =
        emails["subAttributes"].as_array().expect("subs").iter().find(|a| a["name"] == "type").cloned();
    assert_eq!(email_type.expect("type")["canonicalValues"], json!(["work", "home", "other"]));
    let members =
        schemas[1]["attributes"].as_array().expect("attrs").iter().find(|a| a["name"] == "members").cloned();
    let members = members.expect("members");
    let member_ref =
        members["subAttributes"].as_array().expect("subs").iter().find(|a| a["name"] == "$ref").cloned();
    assert_eq!(member_ref.expect("$ref")["referenceTypes"], json!(["User"]));
    let manager = &schemas[2]["attributes"].as_array().expect("attrs")[5];
    assert_eq!(manager["name"], "manager");
    assert_eq!(manager["subAttributes"][2]["mutability"], "readOnly");
}

#[test]
fn lookups_are_case_insensitive() {
    let a = attribute(ResourceKind::User, "USERNAME").expect("userName");
    assert_eq!((a.name, a.uniqueness), ("userName", Uniqueness::Server));
    assert_eq!(attribute(ResourceKind::User, "password").expect("pw").returned, Returned::Never);
    assert_eq!(
        attribute(ResourceKind::Group, "Members").expect("m").sub("VALUE").expect("v").mutability,
        Mutability::Immutable
    );
    assert!(attribute(ResourceKind::Group, "userName").is_none());
    assert!(attribute(ResourceKind::User, "id").is_none(), "common attributes are not in the table");
    assert_eq!(enterprise_attribute("DEPARTMENT").expect("d").name, "department");
}

#[test]
fn a_put_of_what_a_get_returned_keeps_only_the_client_attributes() {
    // scim-sanity and Okta PUT the representation they read, server attributes included.
    let body = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "id": "0190b7c2-6b1e-7cc3-9d2e-4f1d2b3c4d5e",
        "userName": "Updated-0190b7c2",
        "active": true,
        "groups": [{"value": "g-1", "display": "Sales", "$ref": "https://x/scim/v2/Groups/g-1", "type": "direct"}],
        "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z",
                 "location": "https://x/scim/v2/Users/0190b7c2-6b1e-7cc3-9d2e-4f1d2b3c4d5e", "version": "W/\"3\""},
        ENTERPRISE_USER_SCHEMA: {"department": "Sales", "manager": {"value": "m", "displayName": "Boss"}}
    });
    assert_eq!(
        Value::Object(user(body)),
        json!({"userName": "Updated-0190b7c2", "active": true,
               ENTERPRISE_USER_SCHEMA: {"department": "Sales", "manager": {"value": "m"}}})
    );
}

#[test]
fn a_response_names_the_extension_only_when_it_is_there() {
    use crate::scim::schema::schemas_of;
    assert_eq!(schemas_of(ResourceKind::User, &user(json!({"userName": "a"}))), [USER_SCHEMA]);
    let with = user(json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"department": "x"}}));
    assert_eq!(schemas_of(ResourceKind::User, &with), [USER_SCHEMA, ENTERPRISE_USER_SCHEMA]);
    let g = sanitize(ResourceKind::Group, &json!({"displayName": "g"})).expect("group");
    assert_eq!(schemas_of(ResourceKind::Group, &g), [GROUP_SCHEMA]);
}
