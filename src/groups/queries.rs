//! Queries on `groups` and `group_members`; every one is keyed by `customer_id` first.
//!
//! Group limits (`within`) and the group ids of request bodies stay plain UUIDs: that is how the
//! policy and the users' `group_ids` name them.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::models::{GroupChanges, GroupRow, NewGroup};
use crate::accounts::UserRow;
use crate::db::ids::{CustomerId, GroupId, UserId};
use crate::db::schema::{group_members as gm, groups, users};
use crate::pagination::Page;

/// A page of a customer's groups; `within` a group limit, only those groups.
pub fn list(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    within: Option<&[Uuid]>,
    page: Page,
) -> QueryResult<Vec<GroupRow>> {
    let mut query =
        groups::table.filter(groups::customer_id.eq(customer_id)).select(GroupRow::as_select()).into_boxed();
    if let Some(own) = within {
        query = query.filter(groups::id.eq_any(own.to_vec()));
    }
    if let Some(after) = page.after {
        query = query.filter(groups::id.gt(after));
    }
    query.order(groups::id.asc()).limit(page.fetch()).load(conn)
}

pub fn find(conn: &mut PgConnection, customer_id: CustomerId, id: GroupId) -> QueryResult<GroupRow> {
    groups::table.find((customer_id, id)).select(GroupRow::as_select()).first(conn)
}

/// Locks the group for the rest of the transaction (the If-Match check and the change).
pub fn lock(conn: &mut PgConnection, customer_id: CustomerId, id: GroupId) -> QueryResult<GroupRow> {
    groups::table.find((customer_id, id)).select(GroupRow::as_select()).for_update().first(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewGroup) -> QueryResult<GroupRow> {
    diesel::insert_into(groups::table).values(new).returning(GroupRow::as_returning()).get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: GroupId,
    changes: &GroupChanges,
) -> QueryResult<GroupRow> {
    diesel::update(groups::table.find((customer_id, id)))
        .set((changes, groups::updated_at.eq(diesel::dsl::now)))
        .returning(GroupRow::as_returning())
        .get_result(conn)
}

/// Removes the group; its memberships go with it (`ON DELETE CASCADE`).
pub fn delete(conn: &mut PgConnection, customer_id: CustomerId, id: GroupId) -> QueryResult<()> {
    diesel::delete(groups::table.find((customer_id, id))).execute(conn).map(drop)
}

/// How many people are in each of `group_ids`; `within` a group limit, counting only the
/// people it covers (the ones its members list shows).
pub fn member_counts(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_ids: &[GroupId],
    within: Option<&[Uuid]>,
) -> QueryResult<HashMap<GroupId, i64>> {
    let mut query = gm::table
        .filter(gm::customer_id.eq(customer_id))
        .filter(gm::group_id.eq_any(group_ids))
        .group_by(gm::group_id)
        .select((gm::group_id, diesel::dsl::count_star()))
        .into_boxed();
    if let Some(own) = within {
        let covered = users::table
            .filter(users::customer_id.eq(customer_id))
            .filter(crate::users::queries::covered_by(own))
            .select(users::id);
        query = query.filter(gm::user_id.eq_any(covered));
    }
    Ok(query.load::<(GroupId, i64)>(conn)?.into_iter().collect())
}

/// Every member of a group, by user id (what its deletion takes away from them).
pub fn member_ids(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_id: GroupId,
) -> QueryResult<Vec<UserId>> {
    gm::table
        .filter(gm::customer_id.eq(customer_id))
        .filter(gm::group_id.eq(group_id))
        .order(gm::user_id.asc())
        .select(gm::user_id)
        .load(conn)
}

/// A page of a group's members, by user id; `within` a group limit, only the people it covers.
pub fn members(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_id: GroupId,
    within: Option<&[Uuid]>,
    page: Page,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table
        .inner_join(
            gm::table
                .on(gm::customer_id.eq(users::customer_id.assume_not_null()).and(gm::user_id.eq(users::id))),
        )
        .filter(gm::customer_id.eq(customer_id))
        .filter(gm::group_id.eq(group_id))
        .select(UserRow::as_select())
        .into_boxed();
    if let Some(own) = within {
        query = query.filter(crate::users::queries::covered_by(own));
    }
    if let Some(after) = page.after {
        query = query.filter(users::id.gt(after));
    }
    query.order(users::id.asc()).limit(page.fetch()).load(conn)
}

/// The groups of each of `user_ids` (for a page of users).
pub fn of_users(
    conn: &mut PgConnection,
    customer_ids: &[Uuid],
    user_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Uuid>>> {
    let rows: Vec<(Uuid, Uuid)> = gm::table
        .filter(gm::customer_id.eq_any(customer_ids))
        .filter(gm::user_id.eq_any(user_ids))
        .order((gm::user_id.asc(), gm::group_id.asc()))
        .select((gm::user_id, gm::group_id))
        .load(conn)?;
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (user_id, group_id) in rows {
        out.entry(user_id).or_default().push(group_id);
    }
    Ok(out)
}

/// The ids among `group_ids` that are not groups of `customer_id`.
pub fn unknown(
    conn: &mut PgConnection,
    customer_id: impl Into<CustomerId>,
    group_ids: &[Uuid],
) -> QueryResult<Vec<Uuid>> {
    let known: Vec<Uuid> = groups::table
        .filter(groups::customer_id.eq(customer_id.into()))
        .filter(groups::id.eq_any(group_ids))
        .select(groups::id)
        .load(conn)?;
    Ok(group_ids.iter().copied().filter(|id| !known.contains(id)).collect())
}

/// Makes `user_id` a member of exactly `group_ids` (already checked to be the customer's). Its
/// data scope is not this query's: call `users::rules::set_access`.
pub fn set_memberships(
    conn: &mut PgConnection,
    customer_id: impl Into<CustomerId>,
    user_id: impl Into<UserId>,
    group_ids: &[Uuid],
) -> QueryResult<()> {
    set_memberships_of(conn, customer_id.into(), &[], &[user_id.into()], group_ids)
}

/// [`set_memberships`] for many people: `fresh` ones (just inserted, in no group yet) and
/// `existing` ones (their other memberships go), in one statement each, none that has nothing
/// to do.
pub fn set_memberships_of(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    fresh: &[UserId],
    existing: &[UserId],
    group_ids: &[Uuid],
) -> QueryResult<()> {
    if !existing.is_empty() {
        diesel::delete(
            gm::table.filter(gm::customer_id.eq(customer_id)).filter(gm::user_id.eq_any(existing)),
        )
        .execute(conn)?;
    }
    let rows: Vec<_> = fresh
        .iter()
        .chain(existing)
        .flat_map(|user_id| {
            group_ids.iter().map(move |group_id| {
                (gm::customer_id.eq(customer_id), gm::group_id.eq(*group_id), gm::user_id.eq(*user_id))
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(gm::table).values(rows).on_conflict_do_nothing().execute(conn).map(drop)
}

/// Takes `user_id` out of `group_ids`; whether it was in any. Its data scope is not this
/// query's: call `users::rules::leave_groups`.
pub fn remove_memberships(
    conn: &mut PgConnection,
    customer_id: impl Into<CustomerId>,
    user_id: impl Into<UserId>,
    group_ids: &[Uuid],
) -> QueryResult<bool> {
    let (customer_id, user_id) = (customer_id.into(), user_id.into());
    let removed = diesel::delete(
        gm::table
            .filter(gm::customer_id.eq(customer_id))
            .filter(gm::user_id.eq(user_id))
            .filter(gm::group_id.eq_any(group_ids)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

/// How many warehouse addresses `group_id` tags (a group that tags any cannot be deleted).
pub fn tagged_addresses(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_id: GroupId,
) -> QueryResult<i64> {
    use crate::db::schema::warehouse_addresses as wa;
    wa::table
        .filter(wa::customer_id.eq(customer_id))
        .filter(wa::group_id.eq(group_id))
        .count()
        .get_result(conn)
}
