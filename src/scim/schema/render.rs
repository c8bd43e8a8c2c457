//! RFC 7643 §7 Schema representations, rendered from the same tables sanitize reads.

use serde_json::{Map, Value, json};

use super::{AttrType, Attribute, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, SCHEMA_SCHEMA, USER_SCHEMA, tables};

/// The three schemas dockgate publishes (User, Group, the enterprise User extension), each with
/// `meta.location` under `base_url` (`https://host/scim/v2`, without a trailing slash).
///
/// Common attributes (`id`, `externalId`, `meta`) are not listed, as RFC 7643 §3.1 and §7 say.
pub fn schema_resources(base_url: &str) -> Vec<Value> {
    [
        (USER_SCHEMA, "User", "User Account", tables::USER_ATTRIBUTES),
        (GROUP_SCHEMA, "Group", "Group", tables::GROUP_ATTRIBUTES),
        (ENTERPRISE_USER_SCHEMA, "EnterpriseUser", "Enterprise User", tables::ENTERPRISE_ATTRIBUTES),
    ]
    .into_iter()
    .map(|(urn, name, description, attributes)| {
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": urn,
            "name": name,
            "description": description,
            "attributes": attributes.iter().map(render_attribute).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{urn}"),
            },
        })
    })
    .collect()
}

fn render_attribute(a: &Attribute) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), a.name.into());
    out.insert("type".into(), a.kind.as_str().into());
    out.insert("multiValued".into(), a.multi_valued.into());
    out.insert("description".into(), a.description.into());
    out.insert("required".into(), a.required.into());
    if a.kind == AttrType::Complex {
        let subs = a.sub_attributes.iter().map(render_attribute).collect::<Vec<_>>();
        out.insert("subAttributes".into(), subs.into());
    } else {
        out.insert("caseExact".into(), a.case_exact.into());
    }
    if !a.canonical_values.is_empty() {
        out.insert("canonicalValues".into(), a.canonical_values.into());
    }
    if a.kind == AttrType::Reference {
        out.insert("referenceTypes".into(), a.reference_types.into());
    }
    out.insert("mutability".into(), a.mutability.as_str().into());
    out.insert("returned".into(), a.returned.as_str().into());
    out.insert("uniqueness".into(), a.uniqueness.as_str().into());
    Value::Object(out)
}
