//! PATCH (RFC 7644 §3.5.2) on the stored representation that `schema::sanitize` returns.
//!
//! `parse` reads the request leniently (Entra ID's `"Replace"`, `"Add"`; `Operations` in any
//! case); `apply` changes a resource in place, and the caller sanitizes the result again before
//! storing it, so a PATCH can never store what a PUT could not.

mod apply;
mod shape;
mod value_path;

use scim_v2::filter::PatchPath;
use serde_json::Value;

use crate::scim::errors::{ScimInputError, ScimType};

pub use apply::apply;

/// More operations than this in one request are refused (`tooMany`): no directory sends more,
/// and each may rewrite a whole member list.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One PATCH operation. `path` is parsed by `scim_v2` (RFC 7644 §3.5.2's grammar).
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    /// `Some(Value::Null)` only for `add` (a no-op); a `replace` to `null` is read as `remove`.
    pub value: Option<Value>,
}

/// A PatchOp body's operations. `schemas` is not checked: the caller knows it is a PATCH, and
/// clients that send it wrong (or not at all) mean the same thing.
pub fn parse(body: &Value) -> Result<Vec<Operation>, ScimInputError> {
    let Value::Object(body) = body else {
        return Err(ScimInputError::invalid_syntax("the body must be a JSON object"));
    };
    let Some(operations) = field(body, "Operations") else {
        return Err(ScimInputError::invalid_syntax("'Operations' is required"));
    };
    let Value::Array(operations) = operations else {
        return Err(ScimInputError::invalid_syntax("'Operations' must be an array"));
    };
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimInputError::new(
            ScimType::TooMany,
            format!("at most {MAX_OPERATIONS} operations per request"),
        ));
    }
    operations.iter().enumerate().map(|(i, op)| parse_one(i, op)).collect()
}

fn parse_one(index: usize, op: &Value) -> Result<Operation, ScimInputError> {
    let at = |what: &str| ScimInputError::invalid_syntax(format!("Operations[{index}]: {what}"));
    let Value::Object(op) = op else {
        return Err(at("must be an object"));
    };
    let kind = match field(op, "op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(s) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
        _ => return Err(at("'op' must be 'add', 'replace' or 'remove'")),
    };
    let path = match field(op, "path") {
        None | Some(Value::Null) => None,
        // An empty path means "no path" for the clients that send one.
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.parse::<PatchPath>().map_err(|e| {
            ScimInputError::invalid_path(format!("Operations[{index}]: the path '{s}' does not parse: {e}"))
        })?),
        Some(_) => {
            return Err(ScimInputError::invalid_path(format!(
                "Operations[{index}]: 'path' must be a string"
            )));
        }
    };
    let value = field(op, "value").cloned();
    match (kind, value) {
        (OpKind::Add | OpKind::Replace, None) => Err(at("'value' is required for add and replace")),
        // RFC 7644 §3.5.2: unassigning by replace with null is a remove.
        (OpKind::Replace, Some(Value::Null)) if path.is_some() => {
            Ok(Operation { op: OpKind::Remove, path, value: None })
        }
        (OpKind::Replace, Some(Value::Null)) => Err(at("a replace without a path needs an object value")),
        (op, value) => Ok(Operation { op, path, value }),
    }
}

/// A member of an object by name, case-insensitively.
fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}
