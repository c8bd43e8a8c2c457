//! A person's access as sessions and data see it: the data scope and group memberships someone
//! is given or changed to (who may give what, and the invariant "`all` is in no group"), and
//! which sessions end when access changes. [`super::rules`] re-exports all of it, so the rest of
//! the code says `rules::set_access` and `rules::track_access` as before.

use diesel::prelude::*;
use uuid::Uuid;

use super::models::{Access, AccessRequest, User};
use super::queries;
use crate::accounts::{AccountStatus, Actor, password_tokens};
use crate::db::ids::{CustomerId, UserId};
use crate::error::{AppError, FieldCode};
use crate::identity::sessions;
use crate::permissions::DataScope;
use crate::policy;

/// The data scope and groups of someone new (a person, an invitation, an API client) that
/// `actor` creates: the groups asked for, else the caller's own when it is limited to groups
/// (its people join them); the scope asked for, else `groups` when there are groups to join or
/// the caller is limited to groups, else `all` (today's "no group sees everything", now said
/// explicitly; `group_ids: []` alone is that too). See [`check_access`] for the 422s.
pub fn access_for(actor: &Actor, asked: AccessRequest) -> Result<Access, AppError> {
    let limited = policy::group_scope(actor);
    let group_ids = match (asked.group_ids, &limited) {
        (Some(ids), _) => ids,
        // A limited caller asking for `all` is refused below, not given its groups.
        (None, Some(own)) if asked.data_scope != Some(DataScope::All) => own.clone(),
        (None, _) => Vec::new(),
    };
    let data_scope = asked.data_scope.unwrap_or(if group_ids.is_empty() && limited.is_none() {
        DataScope::All
    } else {
        DataScope::Groups
    });
    check_access(actor, data_scope, &group_ids)?;
    Ok(Access { data_scope, group_ids: sorted(group_ids) })
}

/// The data scope and groups someone has after a change that asks for `asked`, `None` when
/// nothing about them changes:
/// - `data_scope: "all"` widens (its memberships go; `group_ids` with it must be empty);
/// - `data_scope: "groups"` narrows or stays, with the `group_ids` given, else the current
///   groups (none for someone who saw `all`);
/// - `group_ids` alone: joining a group makes someone who saw `all` `groups` (the safe
///   direction); `[]` keeps the scope — leaving groups never widens.
///
/// The result passes [`check_access`] (422s) for `actor`.
pub fn access_after(
    actor: &Actor,
    current: &Access,
    asked: AccessRequest,
) -> Result<Option<Access>, AppError> {
    let after = match (asked.data_scope, asked.group_ids) {
        (None, None) => return Ok(None),
        (Some(DataScope::All), group_ids) => {
            check_access(actor, DataScope::All, group_ids.as_deref().unwrap_or_default())?;
            Access::all()
        }
        (Some(DataScope::Groups), group_ids) => {
            Access::groups(group_ids.unwrap_or_else(|| current.group_ids.clone()))
        }
        (None, Some(group_ids)) if group_ids.is_empty() => {
            Access { data_scope: current.data_scope, group_ids: Vec::new() }
        }
        (None, Some(group_ids)) => Access::groups(group_ids),
    };
    check_access(actor, after.data_scope, &after.group_ids)?;
    Ok(Some(after))
}

/// 422 unless `actor` may give the data scope `data_scope` with `group_ids`: `all` comes with
/// no groups (on `data_scope`); a caller limited to groups gives only `groups` (on
/// `data_scope`) and only some of its own groups, possibly none (on `group_ids`).
pub fn check_access(actor: &Actor, data_scope: DataScope, group_ids: &[Uuid]) -> Result<(), AppError> {
    if data_scope == DataScope::All && !group_ids.is_empty() {
        return Err(AppError::field(
            "data_scope",
            FieldCode::NotAllowed,
            "all sees every group's data and is in no group: omit group_ids, or use groups",
        ));
    }
    if policy::covers(actor, data_scope, group_ids) {
        return Ok(());
    }
    Err(match data_scope {
        DataScope::All => AppError::field(
            "data_scope",
            FieldCode::NotAllowed,
            "you are limited to groups, so you cannot give anyone all of the customer's data",
        ),
        DataScope::Groups => AppError::field(
            "group_ids",
            FieldCode::NotAllowed,
            "you are limited to groups, so you may only assign some of your own groups",
        ),
    })
}

/// 422 unless every id names a group of `customer_id` (no query for none).
pub fn check_groups(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_ids: &[Uuid],
) -> Result<(), AppError> {
    if group_ids.is_empty() || crate::groups::queries::unknown(conn, customer_id, group_ids)?.is_empty() {
        Ok(())
    } else {
        Err(unknown_groups())
    }
}

/// The 422 for groups that are not the customer's.
pub(super) fn unknown_groups() -> AppError {
    AppError::field("group_ids", FieldCode::Unknown, "names groups that are not this customer's")
}

/// THE place a person's data scope and memberships are stored together: [`check_groups`]
/// (422), then the person of `customer_id` sees `access` — its `data_scope` column and exactly
/// its groups (none for `all`). Returns the groups as its view shows them. Every write of a
/// person's scope or groups goes through here, [`set_access_of`] or [`join_groups`] /
/// [`leave_groups`], so the invariant "`all` is in no group" holds.
pub fn set_access(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    user_id: UserId,
    access: &Access,
) -> Result<Vec<Uuid>, AppError> {
    check_groups(conn, customer_id, &wanted(access))?;
    Ok(set_access_of(conn, customer_id, &[], &[user_id], access)?)
}

/// [`set_access`] for many people at once, whose groups the caller has checked
/// ([`super::rules::admit`]): `fresh` people, just inserted with `access`'s data scope and in
/// no group, only join its groups; `existing` ones get its data scope and exactly its groups.
/// A statement per kind of change, none that has nothing to do.
pub fn set_access_of(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    fresh: &[UserId],
    existing: &[UserId],
    access: &Access,
) -> QueryResult<Vec<Uuid>> {
    let wanted = wanted(access);
    queries::set_data_scope(conn, customer_id, existing, access.data_scope)?;
    crate::groups::queries::set_memberships_of(conn, customer_id, fresh, existing, &wanted)?;
    Ok(wanted)
}

/// The groups someone with `access` is in: none for `all`.
fn wanted(access: &Access) -> Vec<Uuid> {
    match access.data_scope {
        DataScope::All => Vec::new(),
        DataScope::Groups => sorted(access.group_ids.clone()),
    }
}

/// Adds the person to `group_ids` (422 unless they are `customer_id`'s), keeping its other
/// groups; someone who saw `all` becomes `groups` (joining a group narrows: the safe direction).
/// For `POST .../groups/{group_id}/members` and a directory's group membership (SCIM). Ends
/// the person's sessions when its access changed (tokens carry `groups`); returns whether it did.
pub fn join_groups(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    user_id: UserId,
    group_ids: &[Uuid],
) -> Result<bool, AppError> {
    check_groups(conn, customer_id, group_ids)?;
    let row = queries::lock(conn, customer_id, user_id)?;
    let before = User::load(conn, row.clone())?;
    let mut groups = before.groups.clone();
    groups.extend_from_slice(group_ids);
    let after = Access::groups(groups);
    if after.data_scope == before.row.data_scope && after.group_ids == before.groups {
        return Ok(false);
    }
    set_access(conn, customer_id, user_id, &after)?;
    access_changed(conn, user_id, AccessChange::Rights)?;
    announce_access(conn, customer_id, user_id)?;
    Ok(true)
}

/// `user.access_changed` for a person whose groups changed through a group (a directory's
/// membership, the group's removal), with the person as a GET shows it now; the group's own
/// event announces `group.members_changed`. A change made to the person itself is announced
/// from its update event ([`crate::audit::record`]). Call in the change's transaction.
pub fn announce_access(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    user_id: UserId,
) -> Result<(), AppError> {
    use crate::write::Viewed;
    let row = queries::find(conn, customer_id, user_id)?;
    let view = User::load(conn, row)?.view(conn)?;
    let data = serde_json::to_value(&view).map_err(AppError::internal)?;
    crate::webhooks::emit(
        conn,
        Some(customer_id.into()),
        crate::webhooks::EventType::UserAccessChanged,
        &data,
    )?;
    Ok(())
}

/// Records `access.widened` when `before` went from `groups` to `all` in `after` (see
/// [`crate::audit::widened`]); call in the transaction of the change, next to its ordinary
/// update event.
pub fn record_widening(
    conn: &mut PgConnection,
    author: &crate::audit::Author,
    before: &User,
    after: &User,
) -> QueryResult<()> {
    let event = crate::audit::widened(
        crate::audit::Target::User,
        after.row.id,
        after.row.customer_id,
        (before.row.data_scope, &before.groups),
        (after.row.data_scope, &after.groups),
    );
    match event {
        Some(event) => crate::audit::record(conn, author, event),
        None => Ok(()),
    }
}

/// Takes the person out of `group_ids`; its data scope stays (leaving groups never widens: a
/// `groups`-scoped person in no group sees untagged data only). Ends its sessions when it was
/// in any of them; returns whether it was.
pub fn leave_groups(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    user_id: UserId,
    group_ids: &[Uuid],
) -> Result<bool, AppError> {
    let left = crate::groups::queries::remove_memberships(conn, customer_id, user_id, group_ids)?;
    if left {
        access_changed(conn, user_id, AccessChange::Rights)?;
        announce_access(conn, customer_id, user_id)?;
    }
    Ok(left)
}

/// What changed about a person's access, which decides what of its sign-ins survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    /// Its role, data scope, groups, e-mail address, ownership or customer scope: tokens carry these, so
    /// its sessions end. An open password link still leads to the same person and stays.
    Rights,
    /// A new password: sessions end, and so do open password links (they would replace it).
    Password,
    /// It can no longer sign in (deactivated, login turned off, removed): sessions and open
    /// password links end.
    Closed,
}

impl AccessChange {
    /// What changed between two states of a person (staff or a customer user), if anything
    /// its sign-ins depend on: the strongest change wins.
    pub fn between(before: &User, after: &User) -> Option<Self> {
        let (was, is) = (&before.row, &after.row);
        let closed = (was.login_enabled && !is.login_enabled)
            || (was.status == AccountStatus::Active && is.status != AccountStatus::Active);
        if closed {
            Some(Self::Closed)
        } else if was.password_hash != is.password_hash {
            Some(Self::Password)
        } else if was.role != is.role
            || was.email != is.email
            || was.customer_scope() != is.customer_scope()
            || was.data_scope != is.data_scope
            || before.groups != after.groups
        {
            Some(Self::Rights)
        } else {
            None
        }
    }
}

/// Sessions end when access changes: the one place that says what ends for which change.
/// Call it in the transaction that makes the change (or use [`track_access`]).
pub fn access_changed(conn: &mut PgConnection, user_id: UserId, change: AccessChange) -> QueryResult<()> {
    let reason = match change {
        AccessChange::Password => sessions::reason::PASSWORD_CHANGED,
        AccessChange::Rights | AccessChange::Closed => sessions::reason::ACCESS_CHANGED,
    };
    sessions::end_all_for_user(conn, user_id, reason)?;
    if change != AccessChange::Rights {
        password_tokens::revoke_all(conn, user_id.into())?;
    }
    Ok(())
}

/// [`access_changed`] for whatever [`AccessChange::between`] finds changed from `before` to
/// `after`.
pub fn track_access(conn: &mut PgConnection, before: &User, after: &User) -> QueryResult<()> {
    match AccessChange::between(before, after) {
        Some(change) => access_changed(conn, after.id(), change),
        None => Ok(()),
    }
}

/// [`access_changed`] for every person of a customer that stopped taking logins (suspended,
/// portal switched off), so switching it back on does not revive old sign-ins.
pub fn customer_access_changed(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<()> {
    sessions::end_all_for_customer(conn, customer_id, None, sessions::reason::CUSTOMER_CLOSED).map(drop)
}

/// Ids in order, each once: how a view shows a set.
pub(super) fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}
