//! Applying operations to a stored representation (canonical names, the enterprise extension
//! under its URN key), as RFC 7644 §3.5.2.1-3 describe, with the leniencies Entra ID and Okta
//! rely on.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, PatchPath, PatchValuePath, ValFilter};
use serde_json::{Map, Value};

use super::{OpKind, Operation};
use crate::scim::errors::{ScimInputError, ScimType};
use crate::scim::schema::{
    Attribute, Container, ENTERPRISE_USER_SCHEMA, EXTERNAL_ID, Key, ResourceKind, clean_element, clean_value,
    resolve, strip_prefix_ci,
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

/// What a path's attribute part names.
enum Target {
    Attr(Container, &'static Attribute, Option<&'static Attribute>),
    ExternalId,
    Enterprise,
    Ignored,
}

fn target(kind: ResourceKind, path: &AttrPath) -> Target {
    if let (ResourceKind::User, Some(uri), None) = (kind, &path.uri, &path.sub_attr) {
        // `urn:...:enterprise:2.0:User` alone parses as URN `...:2.0` and name `User`.
        let whole = strip_prefix_ci(ENTERPRISE_USER_SCHEMA, uri)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest.eq_ignore_ascii_case(&path.name));
        if whole {
            return Target::Enterprise;
        }
    }
    match resolve(kind, path.uri.as_deref(), &path.name) {
        Key::Attr(container, attr) if attr.mutability.is_stored() => match &path.sub_attr {
            None => Target::Attr(container, attr, None),
            Some(sub) => match attr.sub(sub) {
                Some(sub) if sub.mutability.is_stored() => Target::Attr(container, attr, Some(sub)),
                _ => Target::Ignored,
            },
        },
        Key::ExternalId if path.sub_attr.is_none() => Target::ExternalId,
        Key::Enterprise => Target::Enterprise,
        _ => Target::Ignored,
    }
}

/// `null` means unassigned: a replace with it removes, an add of it does nothing.
fn normalize(op: OpKind, value: Option<&Value>) -> Option<(OpKind, Option<&Value>)> {
    match (op, value) {
        (OpKind::Replace, Some(Value::Null)) => Some((OpKind::Remove, None)),
        (OpKind::Add, Some(Value::Null) | None) => None,
        other => Some(other),
    }
}

/// Run `f` on the map of one container: the resource itself, or the extension's object.
fn in_container<R>(
    resource: &mut Map<String, Value>,
    which: Container,
    f: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    match which {
        Container::Core => f(resource),
        Container::Enterprise => with_object(resource, ENTERPRISE_USER_SCHEMA, f),
    }
}

/// Run `f` on the object under `key`, created (or replacing a non-object) when needed. Taken
/// out and put back, so no branch can find the wrong shape after checking it.
fn with_object<R>(
    map: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    let mut object = match map.remove(key) {
        Some(Value::Object(object)) => object,
        _ => Map::new(),
    };
    let out = f(&mut object);
    map.insert(key.into(), Value::Object(object));
    out
}

/// Run `f` on the array under `key`, created (or replacing a non-array) when needed.
fn with_array<R>(map: &mut Map<String, Value>, key: &str, f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
    let mut items = match map.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let out = f(&mut items);
    map.insert(key.into(), Value::Array(items));
    out
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
            let drop = clean_value(attr, given)?.unwrap_or(Value::Array(Vec::new()));
            let drop = drop.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = map.get_mut(attr.name) {
                items.retain(|item| !drop.iter().any(|d| same_element(attr, item, d)));
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

fn set_field(fields: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            fields.insert(name.into(), v);
        }
        None => {
            fields.remove(name);
        }
    }
}

/// Whether two elements are the same value: equal `value`s (by the attribute's caseExact), or
/// equal as a whole when there is no `value`.
fn same_element(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value"), attr.sub("value")) {
        (Some(Value::String(x)), Some(Value::String(y)), Some(sub)) => text_eq(sub, x, y),
        (None, None, _) => a == b,
        (x, y, _) => x == y,
    }
}

fn text_eq(attr: &Attribute, x: &str, y: &str) -> bool {
    if attr.case_exact { x == y } else { x.to_lowercase() == y.to_lowercase() }
}

/// One `sub eq value` term of a value filter.
struct Term {
    sub: &'static Attribute,
    expected: Value,
}

impl Term {
    fn matches(&self, element: &Value) -> bool {
        match (element.get(self.sub.name), &self.expected) {
            (Some(Value::String(x)), Value::String(y)) => text_eq(self.sub, x, y),
            (Some(actual), expected) => actual == expected,
            // An element without `primary` is not primary.
            (None, Value::Bool(false)) => true,
            (None, _) => false,
        }
    }
}

/// `attr[type eq "work" and ...]`: `eq` on `type`, `value` or `primary`, joined by `and`.
fn terms(attr: &Attribute, filter: &ValFilter) -> Result<Vec<Term>, ScimInputError> {
    let unsupported = || {
        ScimInputError::invalid_filter(format!(
            "the value filter '{filter}' is not supported: use eq on type, value or primary, joined by and"
        ))
    };
    match filter {
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, value)) => {
            let named = ["type", "value", "primary"].iter().any(|n| n.eq_ignore_ascii_case(&path.name));
            if path.uri.is_some() || path.sub_attr.is_some() || !named {
                return Err(unsupported());
            }
            let sub = attr.sub(&path.name).ok_or_else(unsupported)?;
            let expected = match value {
                CompValue::Str(s) => {
                    clean_element(sub, &Value::String(s.clone()))?.ok_or_else(unsupported)?
                }
                CompValue::True => Value::Bool(true),
                CompValue::False => Value::Bool(false),
                _ => return Err(unsupported()),
            };
            Ok(vec![Term { sub, expected }])
        }
        ValFilter::And(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(terms(attr, item)?);
            }
            Ok(out)
        }
        _ => Err(unsupported()),
    }
}

fn apply_value_path(
    kind: ResourceKind,
    resource: &mut Map<String, Value>,
    op: OpKind,
    path: &PatchValuePath,
    value: Option<&Value>,
) -> Result<(), ScimInputError> {
    let Some((op, value)) = normalize(op, value) else { return Ok(()) };
    let (which, attr) = match target(kind, &path.attr) {
        Target::Attr(which, attr, None) if attr.multi_valued => (which, attr),
        Target::Ignored => return Ok(()),
        _ => {
            return Err(ScimInputError::invalid_path(format!(
                "'{}' is not a multi-valued attribute that a filter can select from",
                path.attr
            )));
        }
    };
    let terms = terms(attr, &path.filter)?;
    let sub = match &path.sub_attr {
        None => None,
        Some(name) => match attr.sub(name) {
            Some(sub) if sub.mutability.is_stored() => Some(sub),
            _ => return Ok(()),
        },
    };
    in_container(resource, which, |map| {
        if op == OpKind::Remove && !map.contains_key(attr.name) {
            // Removing from nothing changes nothing; lenient, as directories retry removals.
            return Ok(());
        }
        with_array(map, attr.name, |items| edit_elements(items, attr, &terms, sub, op, value))
    })
}

/// The value-path operation on the elements of one multi-valued attribute.
fn edit_elements(
    items: &mut Vec<Value>,
    attr: &Attribute,
    terms: &[Term],
    sub: Option<&'static Attribute>,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), ScimInputError> {
    let matching = |item: &Value| terms.iter().all(|t| t.matches(item));
    // What a new element asserts when nothing matched: `emails[type eq "work"].value` creates
    // `{"type": "work", "value": ...}` (Entra ID adds a work e-mail so).
    let seed = || {
        let mut fields = Map::new();
        for t in terms {
            fields.insert(t.sub.name.into(), t.expected.clone());
        }
        fields
    };
    match (op, sub) {
        (OpKind::Remove, None) => items.retain(|item| !matching(item)),
        (OpKind::Remove, Some(sub)) => {
            for item in items.iter_mut().filter(|i| matching(i)) {
                if let Some(fields) = item.as_object_mut() {
                    fields.remove(sub.name);
                }
            }
        }
        (_, Some(sub)) => {
            let clean = match value {
                Some(v) => clean_element(sub, v)?,
                None => None,
            };
            if !items.iter().any(matching) {
                if clean.is_some() {
                    let mut fields = seed();
                    set_field(&mut fields, sub.name, clean);
                    items.push(Value::Object(fields));
                }
                return Ok(());
            }
            for item in items.iter_mut().filter(|i| matching(i)) {
                if let Some(fields) = item.as_object_mut() {
                    set_field(fields, sub.name, clean.clone());
                }
            }
        }
        (op, None) => {
            let given = match value {
                Some(Value::Array(list)) if list.len() == 1 => &list[0],
                Some(v) => v,
                None => return Ok(()),
            };
            let Some(Value::Object(clean)) = clean_element(attr, given)? else {
                return Ok(());
            };
            if !items.iter().any(matching) {
                let mut fields = seed();
                fields.extend(clean);
                items.push(Value::Object(fields));
                return Ok(());
            }
            for item in items.iter_mut().filter(|i| matching(i)) {
                let mut fields = if op == OpKind::Replace {
                    seed()
                } else {
                    item.as_object().cloned().unwrap_or_default()
                };
                fields.extend(clean.clone());
                *item = Value::Object(fields);
            }
        }
    }
    Ok(())
}
