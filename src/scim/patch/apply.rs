//! Applying operations to a stored representation (canonical names, the enterprise extension
//! under its URN key), as RFC 7644 §3.5.2.1-3 describe, with the leniencies Entra ID and Okta
//! rely on.

use scim_v2::filter::{AttrPath, PatchPath};
use serde_json::{Map, Value};

use super::shape::{
    Target, in_container, normalize, same_element, set_field, target, with_array, with_object,
};
use super::value_path::apply_value_path;
use super::{OpKind, Operation};
use crate::scim::errors::{ScimInputError, ScimType};
use crate::scim::schema::{
    Attribute, ENTERPRISE_USER_SCHEMA, EXTERNAL_ID, ResourceKind, clean_element, clean_value,
};

/// Apply `ops` in order to `resource`. Read-only and server-owned targets (`id`, `meta`,
/// `schemas`, a user's `groups`), the write-only `password` and unknown attributes are ignored
/// silently: Okta sends a group's `id` in a path-less replace, and ignoring what is not
/// dockgate's is the same rule as for bodies. The caller sanitizes the result.
pub fn apply(
    kind: ResourceKind,
    resource: &mut Map<String, Value>,
    ops: &[Operation],
) -> Result<(), ScimInputError> {
    for op in ops {
        match &op.path {
            None => apply_without_path(kind, resource, op)?,
            Some(PatchPath::Attr(path)) => apply_attr(kind, resource, op.op, path, op.value.as_ref())?,
            Some(PatchPath::Value(path)) => apply_value_path(kind, resource, op.op, path, op.value.as_ref())?,
        }
    }
    Ok(())
}

fn apply_without_path(
    kind: ResourceKind,
    resource: &mut Map<String, Value>,
    op: &Operation,
) -> Result<(), ScimInputError> {
    let fields = match (&op.op, &op.value) {
        (OpKind::Remove, _) => {
            return Err(ScimInputError::new(ScimType::NoTarget, "a remove needs a path"));
        }
        (_, Some(Value::Object(fields))) => fields,
        (_, None | Some(Value::Null)) => return Ok(()),
        (_, Some(_)) => {
            return Err(ScimInputError::invalid_syntax("without a path, the value must be an object"));
        }
    };
    for (key, value) in fields {
        // Each key is a path of its own: `displayName`, `name.givenName`,
        // `urn:...:enterprise:2.0:User:department`, or the extension's URN with an object.
        if kind == ResourceKind::User && key.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
            apply_enterprise(resource, op.op, Some(value))?;
            continue;
        }
        // A key that is no attribute path (`$ref`, garbage) is an unknown attribute: ignored.
        if let Ok(PatchPath::Attr(path)) = key.parse::<PatchPath>() {
            apply_attr(kind, resource, op.op, &path, Some(value))?;
        }
    }
    Ok(())
}

fn apply_enterprise(
    resource: &mut Map<String, Value>,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimInputError> {
    let Some((op, value)) = normalize(op, value) else { return Ok(()) };
    match (op, value) {
        (OpKind::Remove, _) => {
            resource.remove(ENTERPRISE_USER_SCHEMA);
            Ok(())
        }
        (_, Some(Value::Object(fields))) => {
            for (name, value) in fields {
                let path =
                    AttrPath { uri: Some(ENTERPRISE_USER_SCHEMA.into()), name: name.clone(), sub_attr: None };
                apply_attr(ResourceKind::User, resource, op, &path, Some(value))?;
            }
            Ok(())
        }
        _ => Err(ScimInputError::invalid_value(format!("{ENTERPRISE_USER_SCHEMA} must be an object"))),
    }
}

fn apply_attr(
    kind: ResourceKind,
    resource: &mut Map<String, Value>,
    op: OpKind,
    path: &AttrPath,
    value: Option<&Value>,
) -> Result<(), ScimInputError> {
    let Some((op, value)) = normalize(op, value) else { return Ok(()) };
    match target(kind, path) {
        Target::Ignored => Ok(()),
        Target::Enterprise => apply_enterprise(resource, op, value),
        Target::ExternalId => match (op, value) {
            (OpKind::Remove, _) => {
                resource.remove(EXTERNAL_ID);
                Ok(())
            }
            (_, Some(Value::String(s))) => {
                resource.insert(EXTERNAL_ID.into(), Value::String(s.clone()));
                Ok(())
            }
            _ => Err(ScimInputError::invalid_value("externalId must be a string")),
        },
        Target::Attr(which, attr, None) => {
            in_container(resource, which, |map| set_attr(map, attr, op, value))
        }
        Target::Attr(which, attr, Some(sub)) => {
            in_container(resource, which, |map| set_sub(map, attr, sub, op, value))
        }
    }
}

fn set_attr(
    map: &mut Map<String, Value>,
    attr: &Attribute,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimInputError> {
    match (op, value) {
        (OpKind::Remove, Some(given)) if attr.multi_valued => {
            // Entra ID's legacy member removal: `remove` of `members` with the members to drop.
            let gone = match clean_value(attr, given)? {
                Some(Value::Array(gone)) => gone,
                _ => Vec::new(),
            };
            if let Some(Value::Array(items)) = map.get_mut(attr.name) {
                items.retain(|item| !gone.iter().any(|g| same_element(attr, item, g)));
            }
            Ok(())
        }
        (OpKind::Remove, _) => {
            map.remove(attr.name);
            Ok(())
        }
        (_, None) => Ok(()),
        (op, Some(value)) => {
            let Some(clean) = clean_value(attr, value)? else {
                if op == OpKind::Replace {
                    map.remove(attr.name);
                }
                return Ok(());
            };
            match (op, clean) {
                (OpKind::Add, Value::Array(new)) if attr.multi_valued => {
                    with_array(map, attr.name, |items| {
                        for element in new {
                            if items.iter().any(|item| same_element(attr, item, &element)) {
                                continue;
                            }
                            if element.get("primary") == Some(&Value::Bool(true)) {
                                // RFC 7643 §2.4: at most one primary value.
                                for item in items.iter_mut() {
                                    if let Some(fields) = item.as_object_mut() {
                                        fields.remove("primary");
                                    }
                                }
                            }
                            items.push(element);
                        }
                    })
                }
                // RFC 7644 §3.5.2.1 and .3: sub-attributes not given are left unchanged.
                (_, Value::Object(fields)) if !attr.multi_valued => with_object(map, attr.name, |target| {
                    for (k, v) in fields {
                        target.insert(k, v);
                    }
                }),
                (_, clean) => {
                    map.insert(attr.name.into(), clean);
                }
            }
            Ok(())
        }
    }
}

fn set_sub(
    map: &mut Map<String, Value>,
    attr: &Attribute,
    sub: &Attribute,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimInputError> {
    let clean = match (op, value) {
        (OpKind::Remove, _) | (_, None) => None,
        (_, Some(value)) => clean_element(sub, value)?,
    };
    if attr.multi_valued {
        // `emails.value` without a filter: every element (RFC 7644 §3.5.2.3), or a new one.
        with_array(map, attr.name, |items| {
            if items.is_empty() && clean.is_some() {
                items.push(Value::Object(Map::new()));
            }
            for item in items.iter_mut() {
                if let Some(fields) = item.as_object_mut() {
                    set_field(fields, sub.name, clean.clone());
                }
            }
        });
        return Ok(());
    }
    if clean.is_none() && !map.contains_key(attr.name) {
        return Ok(());
    }
    with_object(map, attr.name, |fields| set_field(fields, sub.name, clean));
    Ok(())
}
