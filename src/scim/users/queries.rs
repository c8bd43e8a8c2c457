//! The storage of SCIM Users: the queries that load people with their groups, and the writes
//! a directory's representation makes (see the parent module for what is kept where).

use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Desired, ScimUser};
use crate::accounts::{AccountStatus, Actor, UserRow};
use crate::audit::Action;
use crate::db::ids::{CustomerId, UserId};
use crate::db::schema::{group_members as gm, groups, users};
use crate::error::{AppError, ConflictKind};
use crate::permissions::DataScope;
use crate::scim::errors::ScimInputError;
use crate::scim::filter::{Cond, UserAttr};
use crate::scim::flow::Kind;
use crate::scim::query::{self, USER_NAME_SQL};
use crate::scim::request::input;
use crate::scim::resource::Represented;
use crate::users::models::{NewUser, UserChanges};
use crate::users::rules::{self, AccessChange};
use crate::write::Removed;

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

/// The customer's people matching `cond` (which [`Kind::check_filter`] accepted).
fn matching(
    customer_id: CustomerId,
    cond: Option<&Cond<UserAttr>>,
) -> Result<users::BoxedQuery<'static, diesel::pg::Pg>, AppError> {
    let mut q = users::table.filter(users::customer_id.eq(customer_id)).into_boxed();
    if let Some(cond) = cond {
        q = q.filter(query::users_condition(cond).map_err(input)?);
    }
    Ok(q)
}

/// `row` with what its representation needs.
fn one(conn: &mut PgConnection, customer_id: CustomerId, row: Selected, base: &str) -> QueryResult<ScimUser> {
    with_groups(conn, customer_id, vec![row], base)?.pop().ok_or(diesel::result::Error::NotFound)
}

impl Kind for ScimUser {
    type Id = UserId;
    type Attr = UserAttr;
    const CREATED: Action = Action::UserCreated;
    const DELETED: Action = Action::UserDeleted;

    fn parse_filter(raw: &str) -> Result<Cond<UserAttr>, ScimInputError> {
        crate::scim::filter::parse_users(raw)
    }

    fn check_filter(cond: &Cond<UserAttr>) -> Result<(), ScimInputError> {
        query::users_condition(cond).map(drop)
    }

    /// A change of `active` is a deactivation or reactivation, anything else an update.
    fn update_action(before: &Self, desired: &Desired) -> Action {
        match (before.row.status, desired.active) {
            (AccountStatus::Active, false) => Action::UserDeactivated,
            (AccountStatus::Deactivated, true) => Action::UserReactivated,
            _ => Action::UserUpdated,
        }
    }

    fn count(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        cond: Option<&Cond<UserAttr>>,
    ) -> Result<i64, AppError> {
        Ok(matching(customer_id, cond)?.count().get_result(conn)?)
    }

    fn rows(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        cond: Option<&Cond<UserAttr>>,
        (offset, limit): (i64, i64),
        base: &str,
    ) -> Result<Vec<Self>, AppError> {
        let rows: Vec<Selected> = matching(customer_id, cond)?
            .select(selection())
            .order(users::id.asc())
            .offset(offset)
            .limit(limit)
            .load(conn)?;
        Ok(with_groups(conn, customer_id, rows, base)?)
    }

    fn find(
        conn: &mut PgConnection,
        customer_id: CustomerId,
        id: UserId,
        base: &str,
    ) -> QueryResult<ScimUser> {
        let row: Selected = users::table
            .find(id)
            .filter(users::customer_id.eq(customer_id))
            .select(selection())
            .first(conn)?;
        one(conn, customer_id, row, base)
    }

    /// [`Kind::find`], locked for the rest of the transaction; the owner only for staff and the
    /// owner: never a directory.
    fn lock(
        conn: &mut PgConnection,
        actor: &Actor,
        customer_id: CustomerId,
        id: UserId,
        base: &str,
    ) -> Result<ScimUser, AppError> {
        let row: Selected = users::table
            .find(id)
            .filter(users::customer_id.eq(customer_id))
            .select(selection())
            .for_update()
            .first(conn)?;
        let user = one(conn, customer_id, row, base)?;
        rules::require_may_act(conn, actor, user.row.clone())?;
        Ok(user)
    }

    /// Creates the person `desired` describes: role `user` with the default grants, seeing only
    /// its groups' data (it has none yet: only untagged data), a login when it has a login
    /// e-mail, no password (it chooses one with "forgot password"; dockgate sends no mail).
    fn insert(
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
        Ok(Self::find(conn, customer_id, id, base)?)
    }

    /// Replaces the person `before` (locked) by `desired`. Its sessions end when its access
    /// changes (deactivated, another login e-mail); an invited person's status stays its
    /// invitation's.
    fn replace(conn: &mut PgConnection, before: ScimUser, desired: Desired) -> Result<ScimUser, AppError> {
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
        let after = Self::find(conn, customer_id, id, &before.base)?;
        rules::track_access(conn, &before.user(), &after.user())?;
        Ok(after)
    }

    /// Like the REST API's DELETE: its sessions end, it leaves its groups, its e-mail address is
    /// free again.
    fn remove(conn: &mut PgConnection, customer_id: CustomerId, id: UserId) -> Result<Removed, AppError> {
        rules::access_changed(conn, id, AccessChange::Closed)?;
        crate::users::queries::delete(conn, customer_id, id)?;
        Ok(Removed::default())
    }
}
