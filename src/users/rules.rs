//! Every rule about a customer's people (contract sections 2 and 6) besides who the caller is
//! (that is [`crate::policy`]): which permissions a role may be given, which references and
//! groups are valid and who may hand them out, what a user with login needs, when a customer
//! takes logins, who may act on the owner, and that a person whose access changes loses its
//! sessions. User creation, invitations, sign-up and the other resources apply them from here.

use diesel::prelude::*;
use uuid::Uuid;

use super::dto::CustomerRole;
use super::models::User;
pub use super::models::{Access, AccessRequest};
use super::queries;
use crate::accounts::{AccountStatus, Actor, UserRow, password_tokens, queries as accounts};
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::types::Email;
use crate::db::{self, DbPool};
use crate::error::{AppError, ConflictKind, FieldCode, FieldError};
use crate::identity::{hasher::Hasher, passwords, sessions};
use crate::permissions::{self, DEFAULT_USER_PERMISSIONS, DataScope, Permission, Role};
use crate::policy::{self, Action};

/// The permissions to store for a person of `role`: nothing for owners and admins (the role
/// decides; asking for exactly the role's set is allowed), the grants for users — `requested`,
/// else what the user already had, else the defaults. Anything the role may not hold is a 422.
pub fn grants(
    role: Role,
    requested: Option<&[Permission]>,
    current: Option<&[Permission]>,
) -> Result<Vec<Permission>, AppError> {
    match role {
        Role::User => {
            let Some(requested) = requested else {
                return Ok(current.map_or_else(|| DEFAULT_USER_PERMISSIONS.to_vec(), <[_]>::to_vec));
            };
            let refused: Vec<FieldError> = requested
                .iter()
                .enumerate()
                .filter(|(_, p)| !role.may_hold(**p))
                .map(|(i, p)| {
                    FieldError::new(
                        format!("permissions[{i}]"),
                        FieldCode::NotGrantable,
                        format!("{p} cannot be granted to a user (owner and admin only)"),
                    )
                })
                .collect();
            if !refused.is_empty() {
                return Err(AppError::Validation(refused));
            }
            Ok(sorted(requested.to_vec()))
        }
        _ => {
            if let Some(requested) = requested
                && sorted(requested.to_vec()) != permissions::effective(role, &[])
            {
                return Err(AppError::field(
                    "permissions",
                    FieldCode::FixedByRole,
                    "owners and admins hold their role's permissions; omit the field",
                ));
            }
            Ok(Vec::new())
        }
    }
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}

/// 422 unless the address and cost center (when given) belong to `customer_id`; an inactive
/// cost center cannot be assigned either. For a caller limited to the groups `within`, another
/// group's address is as unknown as another customer's: it may not hand it to anyone.
pub fn check_references(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    within: Option<&[Uuid]>,
    address: Option<AddressId>,
    cost_center: Option<CostCenterId>,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if let Some(address) = address
        && !queries::address_belongs(conn, customer_id, within, address)?
    {
        errors.push(FieldError::new(
            "warehouse_address_id",
            FieldCode::Unknown,
            "names no warehouse address of this customer",
        ));
    }
    if let Some(cost_center) = cost_center {
        match queries::cost_center_active(conn, customer_id, cost_center)? {
            None => errors.push(FieldError::new(
                "cost_center_id",
                FieldCode::Unknown,
                "names no cost center of this customer",
            )),
            Some(false) => errors.push(FieldError::new(
                "cost_center_id",
                FieldCode::Inactive,
                "the cost center is inactive",
            )),
            Some(true) => {}
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

/// What a person with login needs: an e-mail, and a password or a welcome mail with a link.
/// `has_password` counts a password already stored.
pub fn check_login(
    login_enabled: bool,
    has_email: bool,
    has_password: bool,
    send_mail: bool,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if login_enabled {
        if !has_email {
            errors.push(FieldError::new(
                "email",
                FieldCode::Required,
                "a user with login needs an e-mail address",
            ));
        }
        if !has_password && !send_mail {
            errors.push(FieldError::new(
                "password",
                FieldCode::Required,
                "a user with login needs a password, or send_mail: true to let the user choose one",
            ));
        }
    } else {
        if has_password {
            errors.push(FieldError::new(
                "password",
                FieldCode::NotAllowed,
                "only users with login have a password",
            ));
        }
        if send_mail {
            errors.push(FieldError::new(
                "send_mail",
                FieldCode::NotAllowed,
                "only users with login get a welcome mail",
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

/// What a new person (or an invitation) is given under the rules of user creation.
pub struct Grant {
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub data_scope: DataScope,
    pub group_ids: Vec<Uuid>,
}

/// The role (`user` unless asked; an owner only by staff and the owner, 403), the grants the
/// role may hold ([`grants`], 422) and the data scope and groups `actor` may hand out
/// ([`access_for`], 422) of a new person or invitation of `customer_id`.
pub fn grant(
    actor: &Actor,
    customer_id: CustomerId,
    role: Option<CustomerRole>,
    permissions: Option<&[Permission]>,
    access: AccessRequest,
) -> Result<Grant, AppError> {
    let role = Role::from(role.unwrap_or(CustomerRole::User));
    require_owner_rights(actor, role, customer_id)?;
    let permissions = grants(role, permissions, None)?;
    let Access { data_scope, group_ids } = access_for(actor, access)?;
    Ok(Grant { role, permissions, data_scope, group_ids })
}

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

/// 422 unless every id names a group of `customer_id`.
pub fn check_groups(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_ids: &[Uuid],
) -> Result<(), AppError> {
    if crate::groups::queries::unknown(conn, customer_id, group_ids)?.is_empty() {
        Ok(())
    } else {
        Err(AppError::field("group_ids", FieldCode::Unknown, "names groups that are not this customer's"))
    }
}

/// THE place a person's data scope and memberships are stored together: [`check_groups`]
/// (422), then the person of `customer_id` sees `access` — its `data_scope` column and exactly
/// its groups (none for `all`). Returns the groups as its view shows them. Every write of a
/// person's scope or groups goes through here or [`join_groups`] / [`leave_groups`], so the
/// invariant "`all` is in no group" holds.
pub fn set_access(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    user_id: UserId,
    access: &Access,
) -> Result<Vec<Uuid>, AppError> {
    let wanted = match access.data_scope {
        DataScope::All => Vec::new(),
        DataScope::Groups => sorted(access.group_ids.clone()),
    };
    check_groups(conn, customer_id, &wanted)?;
    queries::set_data_scope(conn, customer_id, user_id, access.data_scope)?;
    crate::groups::queries::set_memberships(conn, customer_id, user_id, &wanted)?;
    Ok(wanted)
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
    Ok(true)
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
    }
    Ok(left)
}

const LOGINS_CLOSED: &str = "The customer is suspended or its portal is switched off: its users cannot \
     sign in, and nobody can be given a login or invited.";

/// 409 unless `customer_id` takes logins (active, portal on): nobody gets a login, an
/// invitation or a reset link of a customer whose people cannot sign in.
pub fn require_logins_open(conn: &mut PgConnection, customer_id: CustomerId) -> Result<(), AppError> {
    if accounts::customer_allows_logins(conn, customer_id.into())? {
        Ok(())
    } else {
        Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()))
    }
}

/// Acting on the owner, on an owner's invitation, or making someone owner needs
/// [`Action::ManageOwner`]: staff and the owner, never an admin (403).
pub fn require_owner_rights(actor: &Actor, role: Role, customer_id: CustomerId) -> Result<(), AppError> {
    if role == Role::Owner {
        policy::require(actor, Action::ManageOwner, customer_id)?;
    }
    Ok(())
}

/// 404 unless `row` is within `actor`'s visibility ([`policy::covers`]): everything that acts
/// on or shows one user checks here, so a person of another group, or one who sees all, is
/// exactly as absent to a group-limited admin as a missing one.
pub fn require_visible(conn: &mut PgConnection, actor: &Actor, row: UserRow) -> Result<User, AppError> {
    let user = User::load(conn, row)?;
    policy::require_covers(actor, user.row.data_scope, &user.groups)?;
    Ok(user)
}

/// `row` as a user `actor` may act on: visible to it ([`require_visible`]) and, for the owner,
/// only to staff and the owner ([`require_owner_rights`]).
pub fn require_may_act(conn: &mut PgConnection, actor: &Actor, row: UserRow) -> Result<User, AppError> {
    let user = require_visible(conn, actor, row)?;
    require_owner_rights(actor, user.row.role, user.customer_id())?;
    Ok(user)
}

/// [`require_may_act`] on the user, locked for the rest of the transaction.
pub fn lock_for(
    conn: &mut PgConnection,
    actor: &Actor,
    customer_id: CustomerId,
    user_id: UserId,
) -> Result<User, AppError> {
    let row = queries::lock(conn, customer_id, user_id)?;
    require_may_act(conn, actor, row)
}

/// [`lock_for`] as the write path's lock step.
pub fn locking(
    actor: &Actor,
    customer_id: CustomerId,
    user_id: UserId,
) -> impl FnOnce(&mut PgConnection) -> Result<User, AppError> + Send + 'static {
    let actor = actor.clone();
    move |conn| lock_for(conn, &actor, customer_id, user_id)
}

/// [`require_may_act`] on the user as read before a write's slow part (hashing a password);
/// the write re-checks under its lock.
pub async fn read_for(pool: &DbPool, actor: &Actor, ids: (CustomerId, UserId)) -> Result<User, AppError> {
    let actor = actor.clone();
    db::run(pool, move |conn| {
        let row = queries::find(conn, ids.0, ids.1)?;
        require_may_act(conn, &actor, row)
    })
    .await
}

/// 409 when `actor` would act on itself (its own role, status, password or existence are not
/// changed this way); `detail` says what to do instead.
pub fn not_self(actor: &Actor, user_id: UserId, detail: &str) -> Result<(), AppError> {
    if Uuid::from(user_id) == actor.id() {
        Err(AppError::Conflict(ConflictKind::OwnAccount, detail.into()))
    } else {
        Ok(())
    }
}

/// 409 unless the person has a login (and so an e-mail address) to set a password for.
pub fn require_login(user: &UserRow) -> Result<(), AppError> {
    if user.login_enabled && user.email.is_some() {
        Ok(())
    } else {
        Err(AppError::Conflict(ConflictKind::UserState, "The user has no login; enable it first.".into()))
    }
}

/// 409 unless the person is `active` (invited people accept their invitation instead;
/// deactivated ones are reactivated first); `detail` says what was refused.
pub fn require_active(user: &UserRow, detail: &str) -> Result<(), AppError> {
    if user.status == AccountStatus::Active {
        Ok(())
    } else {
        Err(AppError::Conflict(ConflictKind::UserState, detail.into()))
    }
}

/// 409 while the person has not accepted its invitation: its status is the invitation's to
/// change (revoke it instead).
pub fn require_joined(user: &UserRow) -> Result<(), AppError> {
    if user.status == AccountStatus::Invited {
        Err(AppError::Conflict(
            ConflictKind::UserState,
            "The user has not accepted its invitation yet; revoke the invitation instead.".into(),
        ))
    } else {
        Ok(())
    }
}

/// 422 when a role change asks for `owner`: ownership moves with the owner transfer.
pub fn not_made_owner(asked: Option<CustomerRole>) -> Result<(), AppError> {
    if asked == Some(CustomerRole::Owner) {
        Err(AppError::field(
            "role",
            FieldCode::UseOwnerTransfer,
            "make someone owner with POST /v1/customers/{customer_id}/owner",
        ))
    } else {
        Ok(())
    }
}

/// 409 when the owner's role is to change: it keeps it until it transfers ownership.
pub fn owner_keeps_role(was: Role, asked: Option<CustomerRole>) -> Result<(), AppError> {
    if was == Role::Owner && asked.is_some() {
        Err(AppError::Conflict(
            ConflictKind::OwnerRole,
            "The owner keeps its role; transfer ownership to someone else first.".into(),
        ))
    } else {
        Ok(())
    }
}

/// 409 unless the person can own the customer: an active user with a login (or its owner).
pub fn require_may_own(user: &UserRow) -> Result<(), AppError> {
    let eligible = user.status == AccountStatus::Active && user.login_enabled;
    if user.role == Role::Owner || eligible {
        Ok(())
    } else {
        Err(AppError::Conflict(
            ConflictKind::UserState,
            "Only an active user with a login can become the owner.".into(),
        ))
    }
}

/// A login: a well-formed e-mail address, or a 422 on `email`.
pub fn email(value: &str) -> Result<Email, AppError> {
    Email::parse(value).ok_or_else(|| AppError::field("email", FieldCode::Email, "must be an e-mail address"))
}

/// The hash of a password someone chose or was given for the login `email`, once it passes
/// the policy (422 on `password` otherwise); hashed off the executor.
pub async fn hash_password(
    hasher: &Hasher,
    password: String,
    email: Option<&str>,
) -> Result<String, AppError> {
    passwords::check_policy(&password, email, "password").map_err(|e| AppError::Validation(vec![e]))?;
    hasher.hash(password).await
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
    sessions::end_all_for_customer(conn, customer_id, sessions::reason::CUSTOMER_CLOSED).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_get_defaults_or_their_grants_but_nothing_beyond_the_grantable_set() {
        assert_eq!(grants(Role::User, None, None).ok(), Some(DEFAULT_USER_PERMISSIONS.to_vec()));
        let kept = [Permission::ReportsView];
        assert_eq!(grants(Role::User, None, Some(&kept)).ok(), Some(kept.to_vec()));
        let asked = [Permission::OrdersCreate, Permission::OrdersCreate];
        assert_eq!(grants(Role::User, Some(&asked), None).ok(), Some(vec![Permission::OrdersCreate]));
        for refused in [Permission::UsersManage, Permission::PricingView, Permission::PaymentsManage] {
            assert!(grants(Role::User, Some(&[refused]), None).is_err(), "{refused}");
        }
    }

    #[test]
    fn owners_and_admins_take_their_role_set_only() {
        assert_eq!(grants(Role::Admin, None, None).ok(), Some(vec![]));
        let admin_set = permissions::effective(Role::Admin, &[]);
        assert!(grants(Role::Admin, Some(&admin_set), None).is_ok());
        assert!(grants(Role::Admin, Some(&[Permission::OrdersView]), None).is_err());
        assert!(grants(Role::Admin, Some(&[Permission::PricingView]), None).is_err());
    }

    #[test]
    fn a_login_needs_an_email_and_a_way_to_a_password() {
        assert!(check_login(true, true, true, false).is_ok());
        assert!(check_login(true, true, false, true).is_ok());
        assert!(check_login(true, false, true, false).is_err());
        assert!(check_login(true, true, false, false).is_err());
        assert!(check_login(false, false, false, false).is_ok());
        assert!(check_login(false, true, true, false).is_err());
    }
}
