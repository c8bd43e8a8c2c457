//! List filters (RFC 7644 §3.4.2.2): parsed by `scim_v2`, translated to a closed, typed tree of
//! exactly what dockgate can answer from indexed columns. Everything else is `invalidFilter`,
//! so the caller never has to guess what a filter it does not understand means.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};

use crate::scim::errors::ScimInputError;
use crate::scim::schema::{GROUP_SCHEMA, USER_SCHEMA};

/// The user attributes a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAttr {
    Id,
    UserName,
    ExternalId,
    /// `emails.value`, `emails[value ...]`: any of the user's e-mails.
    EmailValue,
    /// `emails[type eq "work"].value`, `emails[type eq "work" and value ...]`.
    WorkEmailValue,
    Active,
    DisplayName,
}

/// The group attributes a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAttr {
    Id,
    DisplayName,
    ExternalId,
    /// `members.value`, `members[value eq "..."]`.
    MemberValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    Text(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond<A> {
    Compare(A, Op, FilterValue),
    Present(A),
    And(Vec<Cond<A>>),
    Or(Vec<Cond<A>>),
    Not(Box<Cond<A>>),
}

/// More terms than this are refused: every term becomes a SQL condition, and no directory
/// needs more (the crate's own bound, 1024, guards memory, not the database).
pub const MAX_TERMS: usize = 50;

/// Whether an attribute holds a boolean (its comparisons take `true`/`false`, also as text).
trait Attr: Copy {
    fn is_boolean(self) -> bool;
}

impl Attr for UserAttr {
    fn is_boolean(self) -> bool {
        self == UserAttr::Active
    }
}

impl Attr for GroupAttr {
    fn is_boolean(self) -> bool {
        false
    }
}

/// A filter on Users.
pub fn parse_users(raw: &str) -> Result<Cond<UserAttr>, ScimInputError> {
    let filter = parse(raw)?;
    let cond = translate(&filter, &user_attr, &user_value_path)?;
    bounded(cond)
}

/// A filter on Groups.
pub fn parse_groups(raw: &str) -> Result<Cond<GroupAttr>, ScimInputError> {
    let filter = parse(raw)?;
    let cond = translate(&filter, &group_attr, &group_value_path)?;
    bounded(cond)
}

fn parse(raw: &str) -> Result<Filter, ScimInputError> {
    let mut text = raw.to_owned();
    // Each round rewrites one `attr[filter].sub op value` (which Entra ID sends, and which the
    // RFC's grammar lacks) to the RFC's `attr[(filter) and sub op value]`, then parses again.
    for _ in 0..=MAX_TERMS {
        match text.parse::<Filter>() {
            Ok(filter) => return Ok(filter),
            Err(error) => match rewrite_sub_attr_after_value_path(&text, &error) {
                Some(rewritten) => text = rewritten,
                None => {
                    return Err(ScimInputError::invalid_filter(format!(
                        "the filter does not parse: {error}"
                    )));
                }
            },
        }
    }
    Err(ScimInputError::invalid_filter(format!("more than {MAX_TERMS} terms")))
}

/// `emails[type eq "work"].value eq "x"` -> `emails[(type eq "work") and value eq "x"]`, when the
/// parser stopped at the `.` right after a `]`. Only finds where that term ends: the bracket
/// that opened (skipping quoted strings), the sub-attribute and operator words, and the value
/// (one JSON value, read by serde_json). The grammar stays the crate's.
fn rewrite_sub_attr_after_value_path(text: &str, error: &scim_v2::filter::ParseError) -> Option<String> {
    let scim_v2::filter::ParseError::UnrecognizedToken { token: (dot, token, _), .. } = error else {
        return None;
    };
    if token != "." || *dot == 0 || text.get(dot - 1..*dot) != Some("]") {
        return None;
    }
    let close = dot - 1;
    let open = opening_bracket(text, close)?;
    let tail = &text[dot + 1..];
    let sub_len = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))?;
    if sub_len == 0 {
        return None;
    }
    let after_sub = tail[sub_len..].trim_start();
    let op_len = after_sub.find(char::is_whitespace).unwrap_or(after_sub.len());
    let (op, rest) = after_sub.split_at(op_len);
    let term_end = if op.eq_ignore_ascii_case("pr") {
        text.len() - rest.len()
    } else {
        let value_text = rest.trim_start();
        let mut values = serde_json::Deserializer::from_str(value_text).into_iter::<serde_json::Value>();
        values.next()?.ok()?;
        text.len() - value_text.len() + values.byte_offset()
    };
    let term = &text[dot + 1..term_end];
    Some(format!("{}[({}) and {}]{}", &text[..open], &text[open + 1..close], term, &text[term_end..]))
}

/// The `[` that the `]` at `close` closes, skipping brackets inside quoted strings.
fn opening_bracket(text: &str, close: usize) -> Option<usize> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (at, c) in text[..close].char_indices() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, false, _) => {}
            (false, _, '"') => in_string = true,
            (false, _, '[') => stack.push(at),
            (false, _, ']') => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

fn bounded<A>(cond: Cond<A>) -> Result<Cond<A>, ScimInputError> {
    fn terms<A>(c: &Cond<A>) -> usize {
        match c {
            Cond::Compare(..) | Cond::Present(_) => 1,
            Cond::And(items) | Cond::Or(items) => items.iter().map(terms).sum(),
            Cond::Not(inner) => terms(inner),
        }
    }
    let n = terms(&cond);
    if n > MAX_TERMS {
        return Err(ScimInputError::invalid_filter(format!(
            "the filter has {n} terms; at most {MAX_TERMS} are supported"
        )));
    }
    Ok(cond)
}

type AttrOf<'a, A> = &'a dyn Fn(&AttrPath) -> Result<A, ScimInputError>;
type ValuePathOf<'a, A> = &'a dyn Fn(&AttrPath, &ValFilter) -> Result<Cond<A>, ScimInputError>;

fn translate<A: Attr>(
    f: &Filter,
    attr: AttrOf<A>,
    value_path: ValuePathOf<A>,
) -> Result<Cond<A>, ScimInputError> {
    match f {
        Filter::Attr(exp) => attr_exp(exp, attr),
        Filter::ValuePath(vp) => value_path(&vp.attr, &vp.filter),
        Filter::Not(inner) => Ok(Cond::Not(Box::new(translate(inner, attr, value_path)?))),
        Filter::And(items) => {
            Ok(Cond::And(items.iter().map(|i| translate(i, attr, value_path)).collect::<Result<_, _>>()?))
        }
        Filter::Or(items) => {
            Ok(Cond::Or(items.iter().map(|i| translate(i, attr, value_path)).collect::<Result<_, _>>()?))
        }
    }
}

fn attr_exp<A: Attr>(exp: &AttrExp, attr: AttrOf<A>) -> Result<Cond<A>, ScimInputError> {
    match exp {
        AttrExp::Present(path) => Ok(Cond::Present(attr(path)?)),
        AttrExp::Comparison(path, op, value) => compare(attr(path)?, path, op, value),
    }
}

fn compare<A: Attr>(
    a: A,
    path: &AttrPath,
    op: &CompareOp,
    value: &CompValue,
) -> Result<Cond<A>, ScimInputError> {
    let op = match op {
        CompareOp::Eq => Op::Eq,
        CompareOp::Ne => Op::Ne,
        CompareOp::Co => Op::Co,
        CompareOp::Sw => Op::Sw,
        CompareOp::Ew => Op::Ew,
        other => {
            return Err(ScimInputError::invalid_filter(format!(
                "the operator '{other}' is not supported (eq, ne, co, sw, ew, pr are)"
            )));
        }
    };
    let value = match value {
        CompValue::Str(s) if a.is_boolean() && s.eq_ignore_ascii_case("true") => FilterValue::Bool(true),
        CompValue::Str(s) if a.is_boolean() && s.eq_ignore_ascii_case("false") => FilterValue::Bool(false),
        CompValue::True if a.is_boolean() => FilterValue::Bool(true),
        CompValue::False if a.is_boolean() => FilterValue::Bool(false),
        CompValue::Str(s) if !a.is_boolean() => FilterValue::Text(s.clone()),
        CompValue::Null if matches!(op, Op::Eq | Op::Ne) => FilterValue::Null,
        other => {
            return Err(ScimInputError::invalid_filter(format!(
                "'{path} {op_text} {other}' compares with a value of the wrong type",
                op_text = op_text(op)
            )));
        }
    };
    if matches!(value, FilterValue::Bool(_)) && !matches!(op, Op::Eq | Op::Ne) {
        return Err(ScimInputError::invalid_filter(format!(
            "'{path}' is a boolean: only eq, ne and pr apply"
        )));
    }
    Ok(Cond::Compare(a, op, value))
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Co => "co",
        Op::Sw => "sw",
        Op::Ew => "ew",
    }
}

/// `name` or `name.sub`, lowercased, if the path has no URN or the resource's own.
fn plain_name(path: &AttrPath, schema: &str) -> Result<String, ScimInputError> {
    if let Some(uri) = &path.uri {
        if !uri.eq_ignore_ascii_case(schema) {
            return Err(unsupported(path));
        }
    }
    let mut name = path.name.to_ascii_lowercase();
    if let Some(sub) = &path.sub_attr {
        name.push('.');
        name.push_str(&sub.to_ascii_lowercase());
    }
    Ok(name)
}

fn unsupported(path: &AttrPath) -> ScimInputError {
    ScimInputError::invalid_filter(format!("filtering on '{path}' is not supported"))
}

fn user_attr(path: &AttrPath) -> Result<UserAttr, ScimInputError> {
    Ok(match plain_name(path, USER_SCHEMA)?.as_str() {
        "id" => UserAttr::Id,
        "username" => UserAttr::UserName,
        "externalid" => UserAttr::ExternalId,
        "emails.value" => UserAttr::EmailValue,
        "active" => UserAttr::Active,
        "displayname" => UserAttr::DisplayName,
        _ => return Err(unsupported(path)),
    })
}

fn group_attr(path: &AttrPath) -> Result<GroupAttr, ScimInputError> {
    Ok(match plain_name(path, GROUP_SCHEMA)?.as_str() {
        "id" => GroupAttr::Id,
        "displayname" => GroupAttr::DisplayName,
        "externalid" => GroupAttr::ExternalId,
        "members.value" => GroupAttr::MemberValue,
        _ => return Err(unsupported(path)),
    })
}

/// The terms of a value filter's `and` (a single term is a one-element list).
fn and_terms(f: &ValFilter) -> Option<Vec<&AttrExp>> {
    match f {
        ValFilter::Attr(exp) => Some(vec![exp]),
        ValFilter::And(items) => items
            .iter()
            .map(|i| match i {
                ValFilter::Attr(exp) => Some(vec![exp]),
                other => and_terms(other),
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect()),
        ValFilter::Not(_) | ValFilter::Or(_) => None,
    }
}

fn exp_path(exp: &AttrExp) -> &AttrPath {
    match exp {
        AttrExp::Present(p) | AttrExp::Comparison(p, ..) => p,
    }
}

fn is_plain(path: &AttrPath, name: &str) -> bool {
    path.uri.is_none() && path.sub_attr.is_none() && path.name.eq_ignore_ascii_case(name)
}

/// `emails[...]`: at most one `type eq "work"` and at most one term on `value`.
fn user_value_path(attr: &AttrPath, inner: &ValFilter) -> Result<Cond<UserAttr>, ScimInputError> {
    let whole =
        || ScimInputError::invalid_filter(format!("the value filter '{attr}[{inner}]' is not supported"));
    if plain_name(attr, USER_SCHEMA)? != "emails" {
        return Err(whole());
    }
    let terms = and_terms(inner).ok_or_else(whole)?;
    let mut work = false;
    let mut value_term = None;
    for exp in terms {
        let path = exp_path(exp);
        match exp {
            AttrExp::Comparison(p, CompareOp::Eq, CompValue::Str(t))
                if is_plain(p, "type") && t.eq_ignore_ascii_case("work") && !work =>
            {
                work = true
            }
            _ if is_plain(path, "value") && value_term.is_none() => value_term = Some(exp),
            _ => return Err(whole()),
        }
    }
    let target = if work { UserAttr::WorkEmailValue } else { UserAttr::EmailValue };
    match value_term {
        Some(AttrExp::Comparison(p, op, v)) => compare(target, p, op, v),
        // `emails[type eq "work"]` alone: the user has a work e-mail.
        Some(AttrExp::Present(_)) => Ok(Cond::Present(target)),
        None if work => Ok(Cond::Present(target)),
        None => Err(whole()),
    }
}

/// `members[value ...]`.
fn group_value_path(attr: &AttrPath, inner: &ValFilter) -> Result<Cond<GroupAttr>, ScimInputError> {
    let whole =
        || ScimInputError::invalid_filter(format!("the value filter '{attr}[{inner}]' is not supported"));
    if plain_name(attr, GROUP_SCHEMA)? != "members" {
        return Err(whole());
    }
    match and_terms(inner).ok_or_else(whole)?.as_slice() {
        [AttrExp::Comparison(p, op, v)] if is_plain(p, "value") => compare(GroupAttr::MemberValue, p, op, v),
        [AttrExp::Present(p)] if is_plain(p, "value") => Ok(Cond::Present(GroupAttr::MemberValue)),
        _ => Err(whole()),
    }
}
