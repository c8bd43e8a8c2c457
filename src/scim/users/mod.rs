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

use diesel::PgConnection;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::errors::ScimInputError;
use super::resource::{Represented, Resource, Times};
use super::schema::{ENTERPRISE_USER_SCHEMA, ResourceKind, USER_SCHEMA};
use crate::accounts::{AccountStatus, UserRow};
use crate::audit::{Target, Visibility};
use crate::db::ids::UserId;
use crate::db::types::Email;
use crate::error::AppError;
use crate::users::models::User;
use crate::write::Viewed;

pub mod queries;

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
}

pub fn effective_user_name(row: &UserRow, user_name: Option<&str>) -> String {
    user_name
        .map(str::to_owned)
        .or_else(|| row.email.as_ref().map(|e| e.as_str().to_owned()))
        .or_else(|| row.external_id.clone())
        .unwrap_or_else(|| row.id.to_string())
}

/// A User as answered, and as the write path audits it and tags it.
pub type UserResource = Resource<ScimUser>;

impl Represented for ScimUser {
    const TARGET: Target = Target::User;
    const RESOURCE_TYPE: &'static str = "User";
    const KIND: ResourceKind = ResourceKind::User;
    type Desired = Desired;

    /// The resource as a client reads it, without `meta`.
    fn body(&self) -> Map<String, Value> {
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

    fn resource(&self) -> UserResource {
        let group_ids: Vec<Uuid> = self.groups.iter().map(|(id, _)| *id).collect();
        let times = Times { created: self.row.created_at, last_modified: self.row.updated_at };
        Resource::new(
            (self.row.id, self.row.customer_id.unwrap_or_default()),
            &self.base,
            times,
            Visibility::person(self.row.data_scope, &group_ids),
            self.body(),
        )
    }
}

impl Viewed for ScimUser {
    type View = UserResource;

    fn view(&self, _: &mut PgConnection) -> Result<UserResource, AppError> {
        Ok(self.resource())
    }

    /// Webhooks show the person as the REST API does, not as SCIM represents it.
    fn data(&self, conn: &mut PgConnection, _: &UserResource) -> Result<Option<Value>, AppError> {
        Ok(serde_json::to_value(self.user().view(conn)?).ok())
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

impl TryFrom<Map<String, Value>> for Desired {
    type Error = ScimInputError;

    /// 400 for a representation dockgate cannot keep: no userName, a login e-mail that is not
    /// one, text longer than the columns take.
    fn try_from(mut rep: Map<String, Value>) -> Result<Self, ScimInputError> {
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
