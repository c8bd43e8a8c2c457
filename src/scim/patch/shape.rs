//! The shapes a path addresses in a stored representation, shared by plain and value paths.

use scim_v2::filter::AttrPath;
use serde_json::{Map, Value};

use super::OpKind;
use crate::scim::schema::{
    Attribute, Container, ENTERPRISE_USER_SCHEMA, Key, ResourceKind, resolve, strip_prefix_ci,
};

/// What a path's attribute part names.
pub(super) enum Target {
    Attr(Container, &'static Attribute, Option<&'static Attribute>),
    ExternalId,
    Enterprise,
    Ignored,
}

pub(super) fn target(kind: ResourceKind, path: &AttrPath) -> Target {
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
pub(super) fn normalize(op: OpKind, value: Option<&Value>) -> Option<(OpKind, Option<&Value>)> {
    match (op, value) {
        (OpKind::Replace | OpKind::Remove, Some(Value::Null)) => Some((OpKind::Remove, None)),
        (OpKind::Add, Some(Value::Null) | None) => None,
        other => Some(other),
    }
}

/// Run `f` on the map of one container: the resource itself, or the extension's object.
pub(super) fn in_container<R>(
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
pub(super) fn with_object<R>(
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
pub(super) fn with_array<R>(
    map: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&mut Vec<Value>) -> R,
) -> R {
    let mut items = match map.remove(key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let out = f(&mut items);
    map.insert(key.into(), Value::Array(items));
    out
}

pub(super) fn set_field(fields: &mut Map<String, Value>, name: &str, value: Option<Value>) {
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
pub(super) fn same_element(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value"), attr.sub("value")) {
        (Some(Value::String(x)), Some(Value::String(y)), Some(sub)) => text_eq(sub, x, y),
        (None, None, _) => a == b,
        (x, y, _) => x == y,
    }
}

pub(super) fn text_eq(attr: &Attribute, x: &str, y: &str) -> bool {
    if attr.case_exact { x == y } else { x.to_lowercase() == y.to_lowercase() }
}
