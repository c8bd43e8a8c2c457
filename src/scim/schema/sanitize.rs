//! A client's body (POST, PUT, or a PATCH's result) to the canonical stored representation.
//!
//! Lenient where Entra ID and Okta deviate from the RFC (names in any case, `"True"` for true,
//! `null` for "unassigned", unknown attributes), strict where a wrong type would be stored.
//! Strings are kept byte-exact: the issue asks every published attribute to round-trip.

use serde_json::{Map, Value};

use super::{
    AttrType, Attribute, Container, ENTERPRISE_USER_SCHEMA, EXTERNAL_ID, Key, ResourceKind,
    enterprise_attribute, resolve_key,
};
use crate::scim::errors::ScimInputError;

/// The stored representation of `body`: published, stored attributes only, in canonical case,
/// the enterprise extension under its URN key; `schemas`, `id`, `meta`, read-only and
/// write-only attributes (the password) and unknown keys dropped; unassigned values
/// (`null`, `[]`, `{}`) dropped. Required attributes (`userName`, a group's `displayName`) must
/// be a non-empty string.
pub fn sanitize(kind: ResourceKind, body: &Value) -> Result<Map<String, Value>, ScimInputError> {
    let Value::Object(body) = body else {
        return Err(ScimInputError::invalid_syntax("the body must be a JSON object"));
    };
    let mut core = Map::new();
    let mut enterprise = Map::new();
    for (key, value) in body {
        match resolve_key(kind, key) {
            Key::Attr(container, attr) if attr.mutability.is_stored() => {
                let target = match container {
                    Container::Core => &mut core,
                    Container::Enterprise => &mut enterprise,
                };
                if let Some(clean) = clean_value(attr, value)? {
                    target.insert(attr.name.into(), clean);
                }
            }
            Key::ExternalId => match value {
                Value::Null => {}
                Value::String(_) => {
                    core.insert(EXTERNAL_ID.into(), value.clone());
                }
                _ => return Err(ScimInputError::invalid_value("externalId must be a string")),
            },
            Key::Enterprise => match value {
                Value::Null => {}
                Value::Object(ext) => {
                    for (name, value) in ext {
                        let Some(attr) = enterprise_attribute(name) else { continue };
                        if !attr.mutability.is_stored() {
                            continue;
                        }
                        if let Some(clean) = clean_value(attr, value)? {
                            enterprise.insert(attr.name.into(), clean);
                        }
                    }
                }
                _ => {
                    return Err(ScimInputError::invalid_value(format!(
                        "{ENTERPRISE_USER_SCHEMA} must be an object"
                    )));
                }
            },
            Key::Attr(..) | Key::ServerOwned | Key::Unknown => {}
        }
    }
    for attr in kind.attributes().iter().filter(|a| a.required) {
        let present = core.get(attr.name).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        if !present {
            return Err(ScimInputError::invalid_value(format!("{} is required", attr.name)));
        }
    }
    if !enterprise.is_empty() {
        core.insert(ENTERPRISE_USER_SCHEMA.into(), Value::Object(enterprise));
    }
    Ok(core)
}

/// The stored form of one attribute's value (`None` = unassigned). A multi-valued attribute
/// takes an array; a single element is taken as an array of one (lenient).
pub fn clean_value(attr: &Attribute, value: &Value) -> Result<Option<Value>, ScimInputError> {
    clean_at(attr, value, attr.name)
}

/// The stored form of one element of an attribute (one e-mail, one member), or of a
/// single-valued attribute's value.
pub fn clean_element(attr: &Attribute, value: &Value) -> Result<Option<Value>, ScimInputError> {
    clean_one(attr, value, attr.name)
}

fn clean_at(attr: &Attribute, value: &Value, path: &str) -> Result<Option<Value>, ScimInputError> {
    if !attr.multi_valued {
        return clean_one(attr, value, path);
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(clean) = clean_one(attr, item, path)? {
            out.push(clean);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn clean_one(attr: &Attribute, value: &Value, path: &str) -> Result<Option<Value>, ScimInputError> {
    let wrong = |expected: &str| ScimInputError::invalid_value(format!("{path} must be {expected}"));
    match (attr.kind, value) {
        (_, Value::Null) => Ok(None),
        (AttrType::String | AttrType::Reference | AttrType::DateTime, Value::String(_)) => {
            Ok(Some(value.clone()))
        }
        (AttrType::String | AttrType::Reference | AttrType::DateTime, _) => Err(wrong("a string")),
        (AttrType::Boolean, Value::Bool(_)) => Ok(Some(value.clone())),
        // Entra ID sends booleans as "True"/"False" (its SCIM compliance notes).
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (AttrType::Boolean, _) => Err(wrong("a boolean")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(value.clone())),
        (AttrType::Integer, _) => Err(wrong("an integer")),
        (AttrType::Complex, Value::Object(fields)) => clean_complex(attr, fields, path),
        // Entra ID sends the manager as a bare id or as a one-element array; a complex attribute
        // with a `value` sub-attribute reads a string as that value.
        (AttrType::Complex, Value::String(_)) if attr.sub("value").is_some() => {
            let mut fields = Map::new();
            fields.insert("value".into(), value.clone());
            clean_complex(attr, &fields, path)
        }
        (AttrType::Complex, Value::Array(items)) if !attr.multi_valued && items.len() <= 1 => {
            match items.first() {
                Some(item) => clean_one(attr, item, path),
                None => Ok(None),
            }
        }
        (AttrType::Complex, _) => Err(wrong("an object")),
    }
}

fn clean_complex(
    attr: &Attribute,
    fields: &Map<String, Value>,
    path: &str,
) -> Result<Option<Value>, ScimInputError> {
    let mut out = Map::new();
    for (name, value) in fields {
        // Unknown sub-attributes are ignored like unknown attributes; read-only ones (a
        // manager's displayName) are the server's.
        let Some(sub) = attr.sub(name) else { continue };
        if !sub.mutability.is_stored() {
            continue;
        }
        if let Some(clean) = clean_one(sub, value, &format!("{path}.{}", sub.name))? {
            out.insert(sub.name.into(), clean);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if let Some(missing) = attr.sub_attributes.iter().find(|s| s.required && !out.contains_key(s.name)) {
        return Err(ScimInputError::invalid_value(format!("{path}.{} is required", missing.name)));
    }
    Ok(Some(Value::Object(out)))
}
