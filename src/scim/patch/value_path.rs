//! Value-filtered paths (`emails[type eq "work"].value`, `members[value eq "id"]`).

use scim_v2::filter::{AttrExp, CompValue, CompareOp, PatchValuePath, ValFilter};
use serde_json::{Map, Value};

use super::OpKind;
use super::shape::{Target, in_container, normalize, set_field, target, text_eq, with_array};
use crate::scim::errors::ScimInputError;
use crate::scim::schema::{Attribute, ResourceKind, clean_element};

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

pub(super) fn apply_value_path(
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
