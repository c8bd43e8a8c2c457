//! SCIM Users: every customer user of the caller's customer, also one an admin created by
//! hand, so a directory can match the people who were there before it.
//!
//! Storage: the directory's `userName` in `users.user_name` (people it never named show their
//! e-mail, else their external id, else their id), and the client's representation as
//! [`sanitize`] made it in `users.scim`. The attributes dockgate has columns for are also
//! written there: `name` (displayName, else name.formatted, else given and family name, else
//! userName), the login e-mail (the primary e-mail, else the `work` one, else userName when it
//! is an e-mail; none: a person without login), the phone, `active` (the status) and
//! `externalId`. On read the stored representation is returned verbatim, except where a
//! column no longer says what the representation says (the REST API changed it since): the
//! column wins.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::errors::ScimInputError;
use super::filter::{Cond, UserAttr};
use super::query::{self, USER_NAME_SQL};
use super::schema::{ENTERPRISE_USER_SCHEMA, ResourceKind, USER_SCHEMA, sanitize};
use crate::accounts::{AccountStatus, UserRow};
use crate::audit::{Target, Visibility};
use crate::db::ids::{CustomerId, UserId};
use crate::db::schema::{group_members as gm, groups, users};
use crate::db::types::Email;
use crate::error::{AppError, ConflictKind};
use crate::permissions::DataScope;
use crate::users::models::{NewUser, User, UserChanges};
use crate::write::{Tracked, Viewed};

/// The longest display name dockgate keeps (the REST API's limit).
const NAME_MAX: usize = 200;

/// A person with what its SCIM representation needs.
#[derive(Debug, Clone)]
pub struct ScimUser {
    pub row: UserRow,
    pub user_name: Option<String>,
    pub stored: Option<Map<String, Value>>,
    /// The groups it is a member of, with their names.
    pub groups: Vec<(Uuid, String)>,
    /// `https://host/scim/v2`.
    pub base: String,
}

type Selected = (UserRow, Option<String>, Option<Value>);

fn selection() -> (diesel::dsl::AsSelect<UserRow, diesel::pg::Pg>, users::user_name, users::scim) {
    (UserRow::as_select(), users::user_name, users::scim)
}

fn object(value: Option<Value>) -> Option<Map<String, Value>> {
    match value {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    }
}

impl ScimUser {
    pub fn id(&self) -> UserId {
        self.row.id.into()
    }

    /// The house's view of the person (for the rules on sessions and ownership).
    pub fn user(&self) -> User {
        User { row: self.row.clone(), groups: self.groups.iter().map(|(id, _)| *id).collect() }
    }

    /// The `userName` it has: the directory's, else its e-mail, external id or id.
    pub fn effective_user_name(&self) -> String {
        effective_user_name(&self.row, self.user_name.as_deref())
    }

    /// The resource as a client reads it, without `meta`.
    pub fn body(&self) -> Map<String, Value> {
        let row = &self.row;
        let user_name = self.effective_user_name();
        let mut out = Map::new();
        let stored = self.stored.clone().unwrap_or_default();
        let directory_made = self.stored.is_some();
        let mut schemas = vec![json!(USER_SCHEMA)];
        if stored.contains_key(ENTERPRISE_USER_SCHEMA) {
            schemas.push(json!(ENTERPRISE_USER_SCHEMA));
        }
        let derived = Derived::of(&stored, &user_name);
        for (key, value) in stored {
            if !matches!(
                key.as_str(),
                "userName" | "externalId" | "active" | "id" | "meta" | "schemas" | "groups"
            ) {
                out.insert(key, value);
            }
        }
        out.insert("schemas".into(), Value::Array(schemas));
        out.insert("id".into(), json!(row.id));
        out.insert("userName".into(), json!(user_name));
        if let Some(external_id) = &row.external_id {
            out.insert("externalId".into(), json!(external_id));
        }
        if !directory_made || derived.name != row.name {
            out.insert("displayName".into(), json!(row.name));
        }
        if !directory_made || derived.email.as_ref() != row.email.as_ref() {
            match &row.email {
                Some(email) => {
                    out.insert(
                        "emails".into(),
                        json!([{"value": email.as_str(), "type": "work", "primary": true}]),
                    );
                }
                None => {
                    out.remove("emails");
                }
            }
        }
        if !directory_made || derived.phone != row.phone {
            match &row.phone {
                Some(phone) => {
                    out.insert("phoneNumbers".into(), json!([{"value": phone, "type": "work"}]));
                }
                None => {
                    out.remove("phoneNumbers");
                }
            }
        }
        out.insert("active".into(), json!(row.status == AccountStatus::Active));
        if !self.groups.is_empty() {
            let groups: Vec<Value> = self
                .groups
                .iter()
                .map(|(id, name)| {
                    json!({"value": id, "display": name, "$ref": format!("{}/Groups/{id}", self.base), "type": "direct"})
                })
                .collect();
            out.insert("groups".into(), Value::Array(groups));
        }
        out
    }

    /// What a client may write back: the body without read-only parts, as stored.
    pub fn writable(&self) -> Result<Map<String, Value>, ScimInputError> {
        sanitize(ResourceKind::User, &Value::Object(self.body()))
    }

    pub fn resource(&self) -> UserResource {
        UserResource {
            id: self.row.id,
            customer_id: self.row.customer_id.unwrap_or_default(),
            data_scope: self.row.data_scope,
            group_ids: self.groups.iter().map(|(id, _)| *id).collect(),
            location: format!("{}/Users/{}", self.base, self.row.id),
            created: self.row.created_at,
            last_modified: self.row.updated_at,
            body: self.body(),
        }
    }
}

pub fn effective_user_name(row: &UserRow, user_name: Option<&str>) -> String {
    user_name
        .map(str::to_owned)
        .or_else(|| row.email.as_ref().map(|e| e.as_str().to_owned()))
        .or_else(|| row.external_id.clone())
        .unwrap_or_else(|| row.id.to_string())
}

/// A User as answered, and as the write path audits it and tags it.
#[derive(Debug, Clone)]
pub struct UserResource {
    pub id: Uuid,
    pub customer_id: Uuid,
    data_scope: DataScope,
    group_ids: Vec<Uuid>,
    pub location: String,
    created: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    pub body: Map<String, Value>,
}

/// `meta` (RFC 7643 §3.1), with `version` the ETag.
pub fn meta(
    resource_type: &str,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
    location: &str,
    version: &str,
) -> Value {
    json!({
        "resourceType": resource_type,
        "created": created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "lastModified": modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "location": location,
        "version": version,
    })
}

impl UserResource {
    /// The whole resource with `meta`.
    pub fn full(&self) -> Map<String, Value> {
        let mut body = self.body.clone();
        let version = self.etag();
        body.insert("meta".into(), meta("User", self.created, self.last_modified, &self.location, &version));
        body
    }
}

impl Serialize for UserResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.full().serialize(serializer)
    }
}

impl Tracked for UserResource {
    const TARGET: Target = Target::User;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.customer_id))
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn visibility(&self) -> Visibility {
        Visibility::person(self.data_scope, &self.group_ids)
    }

    /// A hash of the body: not of `meta`, which holds the ETag itself and the host the client
    /// used.
    fn etag(&self) -> String {
        crate::etag::of_view(&self.body)
    }
}

impl Viewed for ScimUser {
    type View = UserResource;

    fn view(&self, _: &mut PgConnection) -> Result<UserResource, AppError> {
        Ok(self.resource())
    }
}

/// What the mapped columns are, by the representation: the one computation for writes and for
/// telling on read whether the REST API changed a column since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub name: String,
    pub email: Option<Email>,
    pub phone: Option<String>,
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn entries<'a>(stored: &'a Map<String, Value>, key: &str) -> Vec<&'a Map<String, Value>> {
    stored
        .get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

fn truncated(name: &str) -> String {
    name.chars().take(NAME_MAX).collect()
}

impl Derived {
    /// The e-mail that is the login, as the representation names it (before validation).
    fn login_candidate(stored: &Map<String, Value>, user_name: &str) -> Option<String> {
        let emails = entries(stored, "emails");
        let primary = emails.iter().find(|e| e.get("primary").and_then(Value::as_bool) == Some(true));
        let work =
            emails.iter().find(|e| text(e.get("type")).is_some_and(|t| t.eq_ignore_ascii_case("work")));
        primary
            .or(work)
            .and_then(|e| text(e.get("value")))
            .map(str::to_owned)
            .or_else(|| Email::parse(user_name).map(|e| e.as_str().to_owned()))
    }

    pub fn of(stored: &Map<String, Value>, user_name: &str) -> Self {
        let name_parts = stored.get("name").and_then(Value::as_object);
        let formatted = name_parts.and_then(|n| text(n.get("formatted")));
        let given_family = name_parts.map(|n| {
            [text(n.get("givenName")), text(n.get("familyName"))]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        });
        let name = text(stored.get("displayName"))
            .or(formatted)
            .map(str::to_owned)
            .or(given_family.filter(|n| !n.is_empty()))
            .unwrap_or_else(|| user_name.trim().to_owned());
        let phones = entries(stored, "phoneNumbers");
        let phone = phones
            .iter()
            .find(|p| p.get("primary").and_then(Value::as_bool) == Some(true))
            .or(phones.first())
            .and_then(|p| text(p.get("value")))
            .filter(|p| crate::validation::validate_phone(p).is_ok())
            .map(str::to_owned);
        Self {
            name: truncated(&name),
            email: Self::login_candidate(stored, user_name).and_then(|e| Email::parse(&e)),
            phone,
        }
    }
}

/// A person as a client's (sanitized) representation asks for it.
#[derive(Debug, Clone)]
pub struct Desired {
    pub user_name: String,
    pub derived: Derived,
    pub active: bool,
    pub external_id: Option<String>,
    /// What is stored: the representation without the attributes that live in columns only.
    pub stored: Map<String, Value>,
}

impl Desired {
    /// 400 for a representation dockgate cannot keep: no userName, a login e-mail that is not
    /// one, text longer than the columns take.
    pub fn from_representation(mut rep: Map<String, Value>) -> Result<Self, ScimInputError> {
        let user_name = text(rep.get("userName"))
            .map(str::to_owned)
            .ok_or_else(|| ScimInputError::invalid_value("userName is required"))?;
        if rep.get("userName").and_then(Value::as_str).is_some_and(|raw| raw.chars().count() > 255) {
            return Err(ScimInputError::invalid_value("userName must be at most 255 characters"));
        }
        let external_id = text(rep.get("externalId")).map(str::to_owned);
        if external_id.as_ref().is_some_and(|id| id.chars().count() > 255) {
            return Err(ScimInputError::invalid_value("externalId must be at most 255 characters"));
        }
        if let Some(candidate) = Derived::login_candidate(&rep, &user_name)
            && Email::parse(&candidate).is_none()
        {
            return Err(ScimInputError::invalid_value(format!("{candidate:?} is not an e-mail address")));
        }
        let active = rep.get("active").and_then(Value::as_bool).unwrap_or(true);
        let derived = Derived::of(&rep, &user_name);
        for column_only in ["userName", "externalId", "active"] {
            rep.remove(column_only);
        }
        Ok(Self { user_name, derived, active, external_id, stored: rep })
    }
}

/// Loads the groups of `rows` (with their names) and makes them [`ScimUser`]s.
fn with_groups(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    rows: Vec<Selected>,
    base: &str,
) -> QueryResult<Vec<ScimUser>> {
    let ids: Vec<Uuid> = rows.iter().map(|(row, _, _)| row.id).collect();
    let memberships: Vec<(Uuid, Uuid, String)> = gm::table
        .inner_join(
            groups::table.on(groups::customer_id.eq(gm::customer_id).and(groups::id.eq(gm::group_id))),
        )
        .filter(gm::customer_id.eq(customer_id))
        .filter(gm::user_id.eq_any(&ids))
        .order((gm::user_id.asc(), groups::name.asc()))
        .select((gm::user_id, gm::group_id, groups::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, user_name, stored)| {
            let groups = memberships
                .iter()
                .filter(|(u, _, _)| *u == row.id)
                .map(|(_, g, n)| (*g, n.clone()))
                .collect();
            ScimUser { row, user_name, stored: object(stored), groups, base: base.to_owned() }
        })
        .collect())
}

pub fn find(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: UserId,
    base: &str,
) -> QueryResult<ScimUser> {
    let row: Selected =
        users::table.find(id).filter(users::customer_id.eq(customer_id)).select(selection()).first(conn)?;
    with_groups(conn, customer_id, vec![row], base)?.pop().ok_or(diesel::result::Error::NotFound)
}

/// [`find`], locked for the rest of the transaction.
pub fn lock(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: UserId,
    base: &str,
) -> QueryResult<ScimUser> {
    let row: Selected = users::table
        .find(id)
        .filter(users::customer_id.eq(customer_id))
        .select(selection())
        .for_update()
        .first(conn)?;
    with_groups(conn, customer_id, vec![row], base)?.pop().ok_or(diesel::result::Error::NotFound)
}

/// 409 `uniqueness` when another person of the customer has `user_name` (as theirs or as the
/// e-mail, external id or id it falls back to).
pub fn check_user_name(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    user_name: &str,
    except: Option<UserId>,
) -> Result<(), AppError> {
    let mut query = users::table
        .filter(users::customer_id.eq(customer_id))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("{USER_NAME_SQL} = "))
                .bind::<diesel::sql_types::Citext, _>(user_name.to_owned()),
        )
        .select(users::id)
        .into_boxed();
    if let Some(except) = except {
        query = query.filter(users::id.ne(except));
    }
    let taken: Option<Uuid> = query.first(conn).optional()?;
    match taken {
        Some(_) => Err(AppError::Conflict(
            ConflictKind::Conflict,
            "Another user of this customer has this userName.".into(),
        )),
        None => Ok(()),
    }
}

/// Creates the person `desired` describes: role `user` with the default grants, seeing only
/// its groups' data (it has none yet: only untagged data), a login when it has a login
/// e-mail, no password (it chooses one with "forgot password"; dockgate sends no mail).
pub fn insert(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    desired: Desired,
    base: &str,
) -> Result<ScimUser, AppError> {
    check_user_name(conn, customer_id, &desired.user_name, None)?;
    crate::users::queries::hold_customer(conn, customer_id)?;
    let d = desired;
    let new = NewUser {
        email: d.derived.email.clone(),
        phone: d.derived.phone.clone(),
        login_enabled: d.derived.email.is_some(),
        status: if d.active { AccountStatus::Active } else { AccountStatus::Deactivated },
        external_id: d.external_id.clone(),
        ..NewUser::new(
            customer_id,
            d.derived.name.clone(),
            crate::permissions::Role::User,
            crate::permissions::DEFAULT_USER_PERMISSIONS.to_vec(),
            DataScope::Groups,
        )
    };
    let row = crate::users::queries::insert(conn, &new)?;
    let id = UserId::from(row.id);
    store(conn, id, &d.user_name, &d.stored)?;
    Ok(find(conn, customer_id, id, base)?)
}

fn store(
    conn: &mut PgConnection,
    id: UserId,
    user_name: &str,
    stored: &Map<String, Value>,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::user_name.eq(user_name), users::scim.eq(Value::Object(stored.clone()))))
        .execute(conn)
        .map(drop)
}

/// Whether `desired` is what `before` already shows.
fn unchanged(before: &ScimUser, d: &Desired) -> bool {
    let mut after = before.clone();
    after.row.name = d.derived.name.clone();
    after.row.phone = d.derived.phone.clone();
    after.row.email = d.derived.email.clone();
    after.row.external_id = d.external_id.clone();
    if after.row.status != AccountStatus::Invited {
        after.row.status = if d.active { AccountStatus::Active } else { AccountStatus::Deactivated };
    }
    after.user_name = Some(d.user_name.clone());
    after.stored = Some(d.stored.clone());
    after.body() == before.body()
}

/// Replaces the person `before` (locked) by `desired`. Its sessions end when its access
/// changes (deactivated, another login e-mail); an invited person's status stays its
/// invitation's.
pub fn replace(conn: &mut PgConnection, before: ScimUser, desired: Desired) -> Result<ScimUser, AppError> {
    let customer_id = CustomerId::from(before.row.customer_id.unwrap_or_default());
    let id = before.id();
    check_user_name(conn, customer_id, &desired.user_name, Some(id))?;
    let d = desired;
    if unchanged(&before, &d) {
        // Nothing a client reads would change: no write, no new lastModified, no event.
        return Ok(before);
    }
    let row = &before.row;
    let email_changes = d.derived.email.as_ref() != row.email.as_ref();
    let status = match row.status {
        AccountStatus::Invited => None,
        _ => Some(if d.active { AccountStatus::Active } else { AccountStatus::Deactivated }),
    };
    let changes = UserChanges {
        name: Some(d.derived.name.clone()),
        phone: Some(d.derived.phone.clone()),
        email: email_changes.then(|| d.derived.email.clone()),
        login_enabled: email_changes.then_some(d.derived.email.is_some()),
        external_id: Some(d.external_id.clone()),
        status,
        ..Default::default()
    };
    crate::users::queries::update(conn, id, &changes)?;
    store(conn, id, &d.user_name, &d.stored)?;
    let after = find(conn, customer_id, id, &before.base)?;
    crate::users::rules::track_access(conn, &before.user(), &after.user())?;
    Ok(after)
}

/// A page of the customer's people matching `cond` (ordered by id, `start` 1-based), and how
/// many match in all.
pub fn page(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    cond: Option<&Cond<UserAttr>>,
    start: i64,
    count: i64,
    base: &str,
) -> Result<(i64, Vec<ScimUser>), AppError> {
    let filtered = || -> Result<users::BoxedQuery<'static, diesel::pg::Pg>, AppError> {
        let mut q = users::table.filter(users::customer_id.eq(customer_id)).into_boxed();
        if let Some(cond) = cond {
            q = q.filter(query::users_condition(cond).map_err(|e| AppError::BadRequest(e.detail))?);
        }
        Ok(q)
    };
    let total: i64 = filtered()?.count().get_result(conn)?;
    if count == 0 {
        return Ok((total, Vec::new()));
    }
    let rows: Vec<Selected> =
        filtered()?.select(selection()).order(users::id.asc()).offset(start - 1).limit(count).load(conn)?;
    Ok((total, with_groups(conn, customer_id, rows, base)?))
}
