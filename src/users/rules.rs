//! Every rule about a customer's people (contract sections 2 and 6) besides who the caller is
//! (that is [`crate::policy`]): which permissions a role may be given, which references and
//! groups are valid and who may hand them out, what a user with login needs, when a customer
//! takes logins, who may act on the owner. A person's data scope, memberships and the sessions
//! that end when access changes are [`super::access`], re-exported here. User creation,
//! invitations, sign-up and the other resources apply them from here.

use diesel::prelude::*;
use uuid::Uuid;

use super::access::sorted;
pub use super::access::{
    AccessChange, access_after, access_changed, access_for, announce_access, check_access, check_groups,
    customer_access_changed, join_groups, leave_groups, record_widening, set_access, set_access_of,
    track_access,
};
use super::dto::CustomerRole;
use super::models::User;
pub use super::models::{Access, AccessRequest};
use super::queries;
use crate::accounts::{AccountStatus, Actor, UserRow, queries as accounts};
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::types::Email;
use crate::db::{self, DbPool};
use crate::error::{AppError, ConflictKind, FieldCode, FieldError};
use crate::identity::{hasher::Hasher, passwords};
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
    let address_known = match address {
        Some(address) => Some(queries::address_belongs(conn, customer_id, within, address)?),
        None => None,
    };
    let cost_center_active = match cost_center {
        Some(cost_center) => Some(queries::cost_center_active(conn, customer_id, cost_center)?),
        None => None,
    };
    let errors = reference_errors(address_known, cost_center_active);
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

/// The 422s of the references asked for. `address_known`: whether the address asked for is the
/// customer's (`None`: none asked for); `cost_center_active`: whether the cost center asked for
/// is active, `Some(None)` when it is not the customer's.
fn reference_errors(
    address_known: Option<bool>,
    cost_center_active: Option<Option<bool>>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if address_known == Some(false) {
        errors.push(FieldError::new(
            "warehouse_address_id",
            FieldCode::Unknown,
            "names no warehouse address of this customer",
        ));
    }
    match cost_center_active {
        Some(None) => errors.push(FieldError::new(
            "cost_center_id",
            FieldCode::Unknown,
            "names no cost center of this customer",
        )),
        Some(Some(false)) => {
            errors.push(FieldError::new("cost_center_id", FieldCode::Inactive, "the cost center is inactive"))
        }
        Some(Some(true)) | None => {}
    }
    errors
}

/// What people may be added to a customer with: its name and default address (for their
/// views), once [`admit`] let them in.
pub struct Admitted {
    pub customer_name: String,
    pub default_address: Option<Uuid>,
}

/// Whether people may be added to `customer_id` with the address, cost center and groups
/// asked for, in one statement: 404 for no such customer, 409 when `with_login` and it takes
/// no logins ([`require_logins_open`]), 422 as [`check_references`] and [`check_groups`] say,
/// in that order. The customer is held until the transaction ends.
pub fn admit(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    with_login: bool,
    within: Option<&[Uuid]>,
    (address, cost_center): (Option<AddressId>, Option<CostCenterId>),
    group_ids: &[Uuid],
) -> Result<Admitted, AppError> {
    let group_ids = sorted(group_ids.to_vec());
    let found = queries::admission(conn, customer_id, within, address, cost_center, &group_ids)?
        .ok_or(diesel::result::Error::NotFound)?;
    if with_login && !found.logins_open {
        return Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()));
    }
    let address_known = address.map(|_| found.address_known == Some(true));
    let errors = reference_errors(address_known, cost_center.map(|_| found.cost_center_active));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if usize::try_from(found.known_groups).ok() != Some(group_ids.len()) {
        return Err(super::access::unknown_groups());
    }
    Ok(Admitted { customer_name: found.customer_name, default_address: found.default_address })
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
