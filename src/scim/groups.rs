//! SCIM Groups: the customer's groups. `displayName` is the group's name (unique per customer),
//! `externalId` its own column, `members` the memberships (only users of the same customer;
//! unknown or foreign ids are ignored, never linked, never an error). The client's
//! representation is kept in `groups.scim`, so a member element comes back as it was put.
//!
//! Joining a group narrows what a person sees (an `all` person becomes `groups`); leaving one
//! never widens it. Either way the person's tokens carry other groups, so its sessions end.

use diesel::prelude::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::errors::ScimInputError;
use super::filter::{Cond, GroupAttr};
use super::flow::Kind;
use super::query;
use super::request::input;
use super::resource::{Represented, Resource, Times};
use super::schema::{GROUP_SCHEMA, ResourceKind};
use crate::accounts::Actor;
use crate::audit::{Action, Target, Visibility};
use crate::db::ids::{CustomerId, GroupId, UserId};
use crate::db::schema::{group_members as gm, groups, users};
use crate::error::AppError;
use crate::groups::models::{GroupChanges, GroupRow, NewGroup};
use crate::users::rules;
use crate::write::{Removed, Viewed};

/// The longest group name (the REST API's limit).
const NAME_MAX: usize = 100;

#[derive(Debug, Clone)]
pub struct ScimGroup {
    pub row: GroupRow,
    pub external_id: Option<String>,
    pub stored: Option<Map<String, Value>>,
    /// Its members, with their names.
    pub members: Vec<(Uuid, String)>,
    pub base: String,
}

type Selected = (GroupRow, Option<String>, Option<Value>);

/// A Group as answered, and as the write path audits it and tags it.
pub type GroupResource = Resource<ScimGroup>;

impl Represented for ScimGroup {
    const TARGET: Target = Target::Group;
    const RESOURCE_TYPE: &'static str = "Group";
    const KIND: ResourceKind = ResourceKind::Group;
    type Desired = Desired;

    fn body(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let stored = self.stored.clone().unwrap_or_default();
        let kept: Vec<&Map<String, Value>> = stored
            .get("members")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        for (key, value) in &stored {
            if !matches!(key.as_str(), "displayName" | "externalId" | "members" | "id" | "meta" | "schemas") {
                out.insert(key.clone(), value.clone());
            }
        }
        out.insert("schemas".into(), json!([GROUP_SCHEMA]));
        out.insert("id".into(), json!(self.row.id));
        out.insert("displayName".into(), json!(self.row.name));
        if let Some(external_id) = &self.external_id {
            out.insert("externalId".into(), json!(external_id));
        }
        if !self.members.is_empty() {
            let members: Vec<Value> = self
                .members
                .iter()
                .map(|(id, name)| {
                    let as_put = kept.iter().find(|m| {
                        m.get("value").and_then(Value::as_str).and_then(|v| Uuid::parse_str(v).ok())
                            == Some(*id)
                    });
                    match as_put {
                        // As put, without the `null`s that mean "unassigned".
                        Some(element) => Value::Object(
                            element
                                .iter()
                                .filter(|(_, v)| !v.is_null())
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        ),
                        None => {
                            json!({"value": id, "display": name, "$ref": format!("{}/Users/{id}", self.base)})
                        }
                    }
                })
                .collect();
            out.insert("members".into(), Value::Array(members));
        }
        out
    }

    fn resource(&self) -> GroupResource {
        let id = Uuid::from(self.row.id);
        let times = Times { created: self.row.created_at, last_modified: self.row.updated_at };
        // Events about a group are its members' to read, like the data tagged with it.
        let visibility = Visibility::tag(Some(id));
        Resource::new((id, self.row.customer_id.into()), &self.base, times, visibility, self.body())
    }
}

impl Viewed for ScimGroup {
    type View = GroupResource;

    fn view(&self, _: &mut PgConnection) -> Result<GroupResource, AppError> {
        Ok(self.resource())
    }

    /// Webhooks show the group as the REST API does (all its members counted), not as SCIM
    /// represents it.
    fn data(&self, conn: &mut PgConnection, _: &GroupResource) -> Result<Option<Value>, AppError> {
        let seen = crate::groups::dto::SeenGroup { row: self.row.clone(), within: None };
        Ok(serde_json::to_value(seen.view(conn)?).ok())
    }
}

/// A group as a client's representation asks for it.
#[derive(Debug, Clone)]
pub struct Desired {
    pub display_name: String,
    pub external_id: Option<String>,
    /// The ids the members name that are ids at all (whose they are is checked when written).
    pub member_ids: Vec<Uuid>,
    pub stored: Map<String, Value>,
}

impl TryFrom<Map<String, Value>> for Desired {
    type Error = ScimInputError;

    /// 400 for a representation dockgate cannot keep: no displayName, text longer than the
    /// columns take.
    fn try_from(mut rep: Map<String, Value>) -> Result<Self, ScimInputError> {
        let raw = rep.get("displayName").and_then(Value::as_str).unwrap_or_default();
        if raw.chars().count() > NAME_MAX {
            return Err(ScimInputError::invalid_value(format!(
                "displayName must be at most {NAME_MAX} characters"
            )));
        }
        let display_name = rep
            .get("displayName")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ScimInputError::invalid_value("displayName is required"))?;
        if display_name.chars().count() > NAME_MAX {
            return Err(ScimInputError::invalid_value(format!(
                "displayName must be at most {NAME_MAX} characters"
            )));
        }
        let external_id = rep
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if external_id.as_ref().is_some_and(|id| id.chars().count() > 255) {
            return Err(ScimInputError::invalid_value("externalId must be at most 255 characters"));
        }
        let mut member_ids: Vec<Uuid> = rep
            .get("members")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|m| m.get("value").and_then(Value::as_str))
                    .filter_map(|v| Uuid::parse_str(v.trim()).ok())
                    .collect()
            })
            .unwrap_or_default();
        member_ids.sort();
        member_ids.dedup();
        rep.remove("displayName");
        rep.remove("externalId");
        Ok(Self { display_name, external_id, member_ids, stored: rep })
    }
}

fn load(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    rows: Vec<Selected>,
    base: &str,
) -> QueryResult<Vec<ScimGroup>> {
    let ids: Vec<GroupId> = rows.iter().map(|(row, _, _)| row.id).collect();
    let members: Vec<(GroupId, Uuid, String)> = gm::table
        .inner_join(users::table.on(users::id.eq(gm::user_id)))
        .filter(gm::customer_id.eq(customer_id))
        .filter(gm::group_id.eq_any(&ids))
        .order((gm::group_id.asc(), users::id.asc()))
        .select((gm::group_id, users::id, users::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, external_id, stored)| {
            let members =
                members.iter().filter(|(g, _, _)| *g == row.id).map(|(_, u, n)| (*u, n.clone())).collect();
            let stored = match stored {
                Some(Value::Object(map)) => Some(map),
                _ => None,
            };
            ScimGroup { row, external_id, stored, members, base: base.to_owned() }
        })
        .collect())
}

fn selection() -> (diesel::dsl::AsSelect<GroupRow, diesel::pg::Pg>, groups::external_id, groups::scim) {
    (GroupRow::as_select(), groups::external_id, groups::scim)
}

/// The customer's groups matching `cond` (which [`Kind::check_filter`] accepted).
fn matching(
    customer_id: CustomerId,
    cond: Option<&Cond<GroupAttr>>,
) -> Result<groups::BoxedQuery<'static, diesel::pg::Pg>, AppError> {
    let mut q = groups::table.filter(groups::customer_id.eq(customer_id)).into_boxed();
    if let Some(cond) = cond {
        q = q.filter(query::groups_condition(cond).map_err(input)?);
    }
    Ok(q)
}

/// `row` with what its representation needs.
fn one(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    row: Selected,
    base: &str,
) -> QueryResult<ScimGroup> {
    load(conn, customer_id, vec![row], base)?.pop().ok_or(diesel::result::Error::NotFound)
}

impl Kind for ScimGroup {
    type Id = GroupId;
    type Attr = GroupAttr;
    const CREATED: Action = Action::GroupCreated;
    const DELETED: Action = Action::GroupDeleted;

    fn parse_filter(raw: &str) -> Result<Cond<GroupAttr>, ScimInputError> {
        super::filter::parse_groups(raw)
    }

    fn check_filter(cond: &Cond<GroupAttr>) -> Result<(), ScimInputError> {
        query::groups_condition(cond).map(drop)
    }

    fn update_action(_: &Self, _: &Desired) -> Action {
        Action::GroupUpdated
    }

    fn count(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        cond: Option<&Cond<GroupAttr>>,
    ) -> Result<i64, AppError> {
        Ok(matching(customer_id, cond)?.count().get_result(conn)?)
    }

    fn rows(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        cond: Option<&Cond<GroupAttr>>,
        (offset, limit): (i64, i64),
        base: &str,
    ) -> Result<Vec<Self>, AppError> {
        let rows: Vec<Selected> = matching(customer_id, cond)?
            .select(selection())
            .order(groups::id.asc())
            .offset(offset)
            .limit(limit)
            .load(conn)?;
        Ok(load(conn, customer_id, rows, base)?)
    }

    fn find(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        id: GroupId,
        base: &str,
    ) -> QueryResult<ScimGroup> {
        let row: Selected = groups::table.find((customer_id, id)).select(selection()).first(conn)?;
        one(conn, customer_id, row, base)
    }

    /// Any client of the customer may act on any of its groups.
    fn lock(
        conn: &mut PgConnection,
        _: &Actor,
        customer_id: CustomerId,
        id: GroupId,
        base: &str,
    ) -> Result<ScimGroup, AppError> {
        let row: Selected =
            groups::table.find((customer_id, id)).select(selection()).for_update().first(conn)?;
        Ok(one(conn, customer_id, row, base)?)
    }

    fn insert(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        desired: Desired,
        base: &str,
    ) -> Result<ScimGroup, AppError> {
        crate::users::queries::hold_customer(conn, customer_id)?;
        let new = NewGroup {
            customer_id,
            id: GroupId::new(),
            name: desired.display_name.clone(),
            description: None,
        };
        let row = crate::groups::queries::insert(conn, &new)?;
        store(conn, customer_id, row.id, &desired)?;
        set_members(conn, customer_id, row.id, &desired.member_ids)?;
        Ok(Self::find(conn, customer_id, row.id, base)?)
    }

    fn replace(conn: &mut PgConnection, before: ScimGroup, desired: Desired) -> Result<ScimGroup, AppError> {
        let (customer_id, id) = (before.row.customer_id, before.row.id);
        let mut members = known_users(conn, customer_id, &desired.member_ids)?;
        members.sort();
        let mut current: Vec<Uuid> = before.members.iter().map(|(id, _)| *id).collect();
        current.sort();
        if members == current
            && before.row.name == desired.display_name
            && before.external_id == desired.external_id
            && before.stored.as_ref() == Some(&desired.stored)
        {
            // Nothing a client reads would change: no write, no new lastModified, no event.
            return Ok(before);
        }
        let changes = GroupChanges { name: Some(desired.display_name.clone()), description: None };
        crate::groups::queries::update(conn, customer_id, id, &changes)?;
        store(conn, customer_id, id, &desired)?;
        set_members(conn, customer_id, id, &desired.member_ids)?;
        Ok(Self::find(conn, customer_id, id, &before.base)?)
    }

    /// Removes the group (its memberships go with it; its members keep seeing only their
    /// groups' data, and their sessions end). A group that still tags warehouse addresses is a 409.
    fn remove(conn: &mut PgConnection, customer_id: CustomerId, id: GroupId) -> Result<Removed, AppError> {
        crate::groups::rules::remove(conn, customer_id, id)
    }
}

fn store(conn: &mut PgConnection, customer_id: CustomerId, id: GroupId, d: &Desired) -> QueryResult<()> {
    diesel::update(groups::table.find((customer_id, id)))
        .set((groups::external_id.eq(&d.external_id), groups::scim.eq(Value::Object(d.stored.clone()))))
        .execute(conn)
        .map(drop)
}

/// Makes the group's members exactly those of `wanted` that are users of the customer
/// (anything else is ignored). Whoever joins is narrowed to its groups' data when it saw all
/// ([`rules::join_groups`]); whoever leaves keeps its data scope ([`rules::leave_groups`]);
/// both lose their sessions.
pub fn set_members(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_id: GroupId,
    wanted: &[Uuid],
) -> Result<(), AppError> {
    let known = known_users(conn, customer_id, wanted)?;
    let current: Vec<Uuid> = crate::groups::queries::member_ids(conn, customer_id, group_id)?
        .into_iter()
        .map(Uuid::from)
        .collect();
    let group = [Uuid::from(group_id)];
    for user_id in current.iter().filter(|id| !known.contains(id)) {
        rules::leave_groups(conn, customer_id, UserId::from(*user_id), &group)?;
    }
    for user_id in known.iter().filter(|id| !current.contains(id)) {
        rules::join_groups(conn, customer_id, UserId::from(*user_id), &group)?;
    }
    Ok(())
}

/// The ids among `ids` that are users of `customer_id`.
fn known_users(conn: &mut PgConnection, customer_id: CustomerId, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    users::table
        .filter(users::customer_id.eq(customer_id))
        .filter(users::id.eq_any(ids))
        .select(users::id)
        .load(conn)
}
