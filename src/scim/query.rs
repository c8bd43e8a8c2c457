//! Listing: the parameters of a list or `.search` request (RFC 7644 §3.4.2), a parsed filter
//! as a diesel condition (every value bound, never spliced; the customer is always the first
//! condition, and `userName eq`, `externalId eq`, `id eq` use indexes), and the attribute
//! projection of `attributes`/`excludedAttributes`.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Text};
use serde_json::{Map, Value};

use super::errors::ScimInputError;
use super::filter::{Cond, FilterValue, GroupAttr, Op, UserAttr};
use super::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

/// The SQL of the `userName` every person has: the directory's, else the e-mail, external
/// id or id it falls back to (the expression of the index `users_scim_user_name`).
pub const USER_NAME_SQL: &str =
    "COALESCE(users.user_name, users.email, users.external_id, users.id::text::citext)";

/// The most resources one page holds (`maxResults` of the ServiceProviderConfig).
pub const MAX_RESULTS: i64 = 200;

/// A list request, from the query string or a `.search` body.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub filter: Option<String>,
    /// 1-based.
    pub start_index: i64,
    pub count: i64,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

fn number(name: &str, raw: &str) -> Result<i64, ScimInputError> {
    raw.trim().parse::<i64>().map_err(|_| ScimInputError::invalid_value(format!("{name} must be an integer")))
}

fn names(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl ListParams {
    fn new() -> Self {
        Self { start_index: 1, count: MAX_RESULTS, ..Self::default() }
    }

    fn bounded(mut self) -> Self {
        self.start_index = self.start_index.max(1);
        self.count = self.count.clamp(0, MAX_RESULTS);
        self
    }

    /// From a query string; unknown parameters (Entra's `aadOptscim062020`) are ignored, names
    /// are matched in any case.
    pub fn from_query(query: &str) -> Result<Self, ScimInputError> {
        let mut params = Self::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.to_ascii_lowercase().as_str() {
                "filter" => params.filter = Some(value.into_owned()),
                "startindex" => params.start_index = number("startIndex", &value)?,
                "count" => params.count = number("count", &value)?,
                "attributes" => params.attributes = names(&value),
                "excludedattributes" => params.excluded = names(&value),
                _ => {}
            }
        }
        Ok(params.bounded())
    }

    /// From a `SearchRequest` body (RFC 7644 §3.4.3).
    pub fn from_search(body: &Value) -> Result<Self, ScimInputError> {
        let Value::Object(body) = body else {
            return Err(ScimInputError::invalid_syntax("the body must be a SearchRequest object"));
        };
        let mut params = Self::new();
        let list = |value: &Value| -> Result<Vec<String>, ScimInputError> {
            match value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| ScimInputError::invalid_value("attributes must be a list of names")),
                Value::String(text) => Ok(names(text)),
                Value::Null => Ok(Vec::new()),
                _ => Err(ScimInputError::invalid_value("attributes must be a list of names")),
            }
        };
        let integer = |name: &str, value: &Value| -> Result<i64, ScimInputError> {
            match value {
                Value::Number(n) => n
                    .as_i64()
                    .ok_or_else(|| ScimInputError::invalid_value(format!("{name} must be an integer"))),
                Value::String(text) => number(name, text),
                _ => Err(ScimInputError::invalid_value(format!("{name} must be an integer"))),
            }
        };
        for (key, value) in body {
            match key.to_ascii_lowercase().as_str() {
                "filter" => match value {
                    Value::String(text) => params.filter = Some(text.clone()),
                    Value::Null => {}
                    _ => return Err(ScimInputError::invalid_filter("filter must be a string")),
                },
                "startindex" => params.start_index = integer("startIndex", value)?,
                "count" => params.count = integer("count", value)?,
                "attributes" => params.attributes = list(value)?,
                "excludedattributes" => params.excluded = list(value)?,
                _ => {}
            }
        }
        Ok(params.bounded())
    }
}

/// A condition on rows of `QS`.
pub type Expr<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// `template` with every `$v` bound to `value` (at most twice).
fn templated<QS: 'static>(template: &str, value: String) -> Expr<QS> {
    let parts: Vec<&str> = template.split("$v").collect();
    match parts.as_slice() {
        [only] => Box::new(sql::<Bool>(only)),
        [a, b] => Box::new(sql::<Bool>(a).bind::<Text, _>(value).sql(b)),
        [a, b, c] => {
            Box::new(sql::<Bool>(a).bind::<Text, _>(value.clone()).sql(b).bind::<Text, _>(value).sql(c))
        }
        _ => Box::new(sql::<Bool>("false")),
    }
}

fn like_escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// How one attribute is found in SQL.
#[derive(Clone, Copy)]
enum Column {
    /// A single text value (the SQL expression); `indexed`: compared as citext (equality uses
    /// the index).
    Text { sql: &'static str, indexed: bool },
    /// A uuid column.
    Uuid(&'static str),
    /// The user's e-mails: the login column and the stored representation's (`work` only).
    Emails { work_only: bool },
    /// A group's members' ids.
    Members,
    /// `users.status`.
    Active,
}

fn user_column(attr: UserAttr) -> Column {
    match attr {
        UserAttr::Id => Column::Uuid("users.id"),
        UserAttr::UserName => Column::Text { sql: USER_NAME_SQL, indexed: true },
        UserAttr::ExternalId => Column::Text { sql: "users.external_id", indexed: true },
        UserAttr::EmailValue => Column::Emails { work_only: false },
        UserAttr::WorkEmailValue => Column::Emails { work_only: true },
        UserAttr::Active => Column::Active,
        // The displayName a directory put, else (people no directory touched) the name; a
        // rename through the REST API since is not seen here.
        UserAttr::DisplayName => Column::Text {
            sql: "(CASE WHEN users.scim IS NULL THEN users.name ELSE users.scim->>'displayName' END)",
            indexed: false,
        },
    }
}

fn group_column(attr: GroupAttr) -> Column {
    match attr {
        GroupAttr::Id => Column::Uuid("groups.id"),
        GroupAttr::DisplayName => Column::Text { sql: "groups.name", indexed: true },
        GroupAttr::ExternalId => Column::Text { sql: "groups.external_id", indexed: true },
        GroupAttr::MemberValue => Column::Members,
    }
}

/// The SQL comparing the text expression `x` with `$v` by `op` (never NULL), and the value
/// to bind.
fn compare_text(x: &str, op: Op, value: &str, indexed: bool) -> (String, String) {
    let equal = if indexed {
        format!("({x} IS NOT NULL AND {x} = $v::citext)")
    } else {
        format!("({x} IS NOT NULL AND lower(({x})::text) = lower($v))")
    };
    let like = format!("({x} IS NOT NULL AND ({x})::text ILIKE $v)");
    let escaped = like_escaped(value);
    match op {
        Op::Eq => (equal, value.to_owned()),
        Op::Ne => (format!("(NOT {equal})"), value.to_owned()),
        Op::Co => (like, format!("%{escaped}%")),
        Op::Sw => (like, format!("{escaped}%")),
        Op::Ew => (like, format!("%{escaped}")),
    }
}

const EMAILS: &str = "jsonb_array_elements(CASE jsonb_typeof(users.scim->'emails') WHEN 'array' \
     THEN users.scim->'emails' ELSE '[]'::jsonb END)";

fn leaf<QS: 'static>(
    column: Column,
    cond_op: Option<(Op, &FilterValue)>,
) -> Result<Expr<QS>, ScimInputError> {
    let Some((op, value)) = cond_op else {
        // `pr`
        let present = match column {
            Column::Text { sql, .. } => format!("({sql} IS NOT NULL AND ({sql})::text <> '')"),
            Column::Uuid(_) | Column::Active => "true".to_owned(),
            Column::Emails { .. } => {
                format!("(users.email IS NOT NULL OR EXISTS (SELECT 1 FROM {EMAILS} e))")
            }
            Column::Members => {
                "EXISTS (SELECT 1 FROM group_members m WHERE m.customer_id = groups.customer_id \
                 AND m.group_id = groups.id)"
                    .to_owned()
            }
        };
        return Ok(templated(&present, String::new()));
    };
    let text = match value {
        FilterValue::Text(text) => Some(text.clone()),
        FilterValue::Bool(b) => Some(b.to_string()),
        FilterValue::Null => None,
    };
    if let Column::Active = column {
        let FilterValue::Bool(wanted) = value else {
            return Err(ScimInputError::invalid_filter("active compares with true or false"));
        };
        let active = match op {
            Op::Eq => *wanted,
            Op::Ne => !*wanted,
            _ => return Err(ScimInputError::invalid_filter("active takes only eq and ne")),
        };
        let sql = if active { "(users.status = 'active')" } else { "(users.status <> 'active')" };
        return Ok(templated(sql, String::new()));
    }
    let Some(text) = text else {
        // `eq null`: not present; `ne null`: present.
        let present = leaf::<QS>(column, None)?;
        return Ok(match op {
            Op::Eq => Box::new(diesel::dsl::not(present)),
            Op::Ne => present,
            _ => return Err(ScimInputError::invalid_filter("null compares only with eq and ne")),
        });
    };
    Ok(match column {
        Column::Text { sql, indexed } => {
            let (template, bound) = compare_text(sql, op, &text, indexed);
            templated(&template, bound)
        }
        Column::Uuid(sql) => match (op, uuid::Uuid::parse_str(text.trim())) {
            (Op::Eq, Ok(id)) => templated(&format!("({sql} = $v::uuid)"), id.to_string()),
            (Op::Eq, Err(_)) => templated("false", String::new()),
            (Op::Ne, Ok(id)) => templated(&format!("({sql} <> $v::uuid)"), id.to_string()),
            (Op::Ne, Err(_)) => templated("true", String::new()),
            _ => {
                let (template, bound) = compare_text(sql, op, &text, false);
                templated(&template, bound)
            }
        },
        Column::Emails { work_only } => {
            let (positive, negate) = match op {
                Op::Ne => (Op::Eq, true),
                other => (other, false),
            };
            let (login, bound) = compare_text("users.email", positive, &text, false);
            let (element, _) = compare_text("(e->>'value')", positive, &text, false);
            let work = if work_only { " AND lower(e->>'type') = 'work'" } else { "" };
            let any = format!("({login} OR EXISTS (SELECT 1 FROM {EMAILS} e WHERE {element}{work}))");
            let sql = if negate { format!("(NOT {any})") } else { any };
            templated(&sql, bound)
        }
        Column::Members => {
            let (positive, negate) = match op {
                Op::Ne => (Op::Eq, true),
                other => (other, false),
            };
            let (element, bound) = compare_text("(m.user_id::text)", positive, &text, false);
            let any = format!(
                "EXISTS (SELECT 1 FROM group_members m WHERE m.customer_id = groups.customer_id \
                 AND m.group_id = groups.id AND {element})"
            );
            let sql = if negate { format!("(NOT {any})") } else { any };
            templated(&sql, bound)
        }
        Column::Active => templated("false", String::new()),
    })
}

fn condition<A: Copy, QS: 'static>(
    cond: &Cond<A>,
    column: &dyn Fn(A) -> Column,
) -> Result<Expr<QS>, ScimInputError> {
    Ok(match cond {
        Cond::Compare(attr, op, value) => leaf(column(*attr), Some((*op, value)))?,
        Cond::Present(attr) => leaf(column(*attr), None)?,
        Cond::And(items) => {
            let mut parts = items.iter().map(|c| condition(c, column));
            let first = parts.next().transpose()?.unwrap_or_else(|| templated("true", String::new()));
            parts.try_fold(first, |acc, next| -> Result<Expr<QS>, ScimInputError> {
                Ok(Box::new(acc.and(next?)))
            })?
        }
        Cond::Or(items) => {
            let mut parts = items.iter().map(|c| condition(c, column));
            let first = parts.next().transpose()?.unwrap_or_else(|| templated("false", String::new()));
            parts.try_fold(first, |acc, next| -> Result<Expr<QS>, ScimInputError> {
                Ok(Box::new(acc.or(next?)))
            })?
        }
        Cond::Not(inner) => Box::new(diesel::dsl::not(condition(inner, column)?)),
    })
}

use diesel::BoolExpressionMethods;

/// A Users filter as a condition on `users`.
pub fn users_condition(
    cond: &Cond<UserAttr>,
) -> Result<Expr<crate::db::schema::users::table>, ScimInputError> {
    condition(cond, &user_column)
}

/// A Groups filter as a condition on `groups`.
pub fn groups_condition(
    cond: &Cond<GroupAttr>,
) -> Result<Expr<crate::db::schema::groups::table>, ScimInputError> {
    condition(cond, &group_column)
}

/// One attribute path of `attributes`/`excludedAttributes`: the top-level key (the extension's
/// URN for its attributes) and a sub-attribute, if any.
fn path_of(raw: &str) -> (String, Option<String>) {
    let lower = raw.to_ascii_lowercase();
    let enterprise = ENTERPRISE_USER_SCHEMA.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix(&enterprise) {
        let sub = raw[raw.len() - rest.len()..].trim_start_matches(':');
        return (ENTERPRISE_USER_SCHEMA.to_owned(), (!sub.is_empty()).then(|| sub.to_owned()));
    }
    let mut rest = raw;
    for core in [USER_SCHEMA, GROUP_SCHEMA] {
        if lower.starts_with(&format!("{}:", core.to_ascii_lowercase())) {
            rest = &raw[core.len() + 1..];
        }
    }
    match rest.split_once('.') {
        Some((top, sub)) => (top.to_owned(), Some(sub.to_owned())),
        None => (rest.to_owned(), None),
    }
}

fn key_in(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Only the sub-attribute `sub` of a complex or multi-valued complex value.
fn only_sub(value: &Value, sub: &str) -> Option<Value> {
    match value {
        Value::Object(map) => {
            let key = key_in(map, sub)?;
            let mut out = Map::new();
            out.insert(key.clone(), map[&key].clone());
            Some(Value::Object(out))
        }
        Value::Array(items) => {
            Some(Value::Array(items.iter().filter_map(|item| only_sub(item, sub)).collect()))
        }
        _ => None,
    }
}

fn without_sub(value: &mut Value, sub: &str) {
    match value {
        Value::Object(map) => {
            if let Some(key) = key_in(map, sub) {
                map.remove(&key);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| without_sub(item, sub)),
        _ => {}
    }
}

/// `resource` (with `meta`) as `attributes`/`excludedAttributes` ask (RFC 7644 §3.4.2.5);
/// `id`, `schemas` and `meta` are always returned.
pub fn project(resource: Map<String, Value>, params: &ListParams) -> Map<String, Value> {
    const ALWAYS: [&str; 3] = ["id", "schemas", "meta"];
    if !params.attributes.is_empty() {
        let mut out = Map::new();
        for key in ALWAYS {
            if let Some(value) = resource.get(key) {
                out.insert(key.to_owned(), value.clone());
            }
        }
        for raw in &params.attributes {
            let (top, sub) = path_of(raw);
            let Some(key) = key_in(&resource, &top) else { continue };
            let value = &resource[&key];
            match sub {
                None => {
                    out.insert(key, value.clone());
                }
                Some(sub) => {
                    if let Some(part) = only_sub(value, &sub) {
                        match (out.get_mut(&key), part) {
                            (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
                            (_, part) => {
                                out.insert(key, part);
                            }
                        }
                    }
                }
            }
        }
        return out;
    }
    let mut out = resource;
    for raw in &params.excluded {
        let (top, sub) = path_of(raw);
        if ALWAYS.iter().any(|k| k.eq_ignore_ascii_case(&top)) {
            continue;
        }
        let Some(key) = key_in(&out, &top) else { continue };
        match sub {
            None => {
                out.remove(&key);
            }
            Some(sub) => {
                if let Some(value) = out.get_mut(&key) {
                    without_sub(value, &sub);
                }
            }
        }
    }
    out
}
