//! The one place that decides who may do what (contract section 2). Every handler calls
//! [`require`] first; `/v1/authz/check` will ask the same functions, so the two cannot disagree.
//!
//! Order matters: visibility first, then permission. A customer the caller cannot see is a 404
//! (never a 403, which would confirm it exists); a visible customer on which the caller may not
//! act is a 403.

use uuid::Uuid;

use crate::accounts::Actor;
use crate::error::AppError;
use crate::permissions::{DataScope, Kind, Permission, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Staff management (platform admins only).
    ManageStaff,
    /// Creating customers: platform admins and dispatchers without a customer scope.
    CreateCustomer,
    /// Deleting a customer and changing its code, status and portal flags: staff.
    ManageCustomer,
    /// A customer's name, contact e-mail and phone: staff, and the customer's owner and admins.
    UpdateCustomerProfile,
    /// Reading a customer, its warehouse addresses and cost centers: everyone who sees it.
    ReadCustomer,
    ManageAddresses,
    ManageCostCenters,
    /// Reading the audit log of a customer: staff, and customer users with `users.manage`.
    ReadAudit,
    /// Listing, reading and managing a customer's users: staff, and customer users with
    /// `users.manage` (owners and admins).
    ManageUsers,
    /// Acting on the owner, or making someone owner (creating one, transferring ownership):
    /// staff and the current owner; never an admin.
    ManageOwner,
    /// Turning the customer's `mfa_required` on or off: staff and the owner; never an admin,
    /// who could otherwise switch off the second factor the owner demands of the admins too.
    RequireMfa,
    /// Ending every session of a customer's people at once: staff and the owner; never an
    /// admin, who would sign the owner out too.
    EndCustomerSessions,
    /// Finding users across customers (`GET /v1/users`): staff, within their scope.
    FindUsers,
    /// A customer's groups and their members: staff, and customer users with `users.manage`.
    ManageGroups,
    /// A customer's API clients and their tokens: staff, and customer users with
    /// `users.manage` (a client may never get more than its creator holds, see
    /// [`may_grant`]).
    ManageApiClients,
    /// Platform-wide API clients: platform admins only.
    ManagePlatformClients,
    /// A customer's webhook endpoints and their deliveries: staff, and customer users with
    /// `users.manage` who see all of its data (an endpoint hears about every group's people).
    ManageWebhooks,
    /// Platform webhook endpoints, which hear every customer's events: platform admins only.
    ManagePlatformWebhooks,
    /// Starting a support session as one of a customer's people: staff people only (platform
    /// admins, dispatchers within their scope), never an API client or a customer's own
    /// people. Acting as the owner needs a platform admin besides (the handler checks).
    Impersonate,
    /// A customer's access review (every person and client with what it may do) and
    /// recording that it was done: staff, and customer users with `users.manage` who see all of
    /// its data (the review lists every group's people).
    ReviewAccess,
}

/// Which customers a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Only(Vec<Uuid>),
}

impl Scope {
    pub fn contains(&self, customer_id: Uuid) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(ids) => ids.contains(&customer_id),
        }
    }
}

/// The customers `actor` can see at all. A platform client sees every customer (it acts as
/// staff with its scopes); a customer's client only its customer.
pub fn scope(actor: &Actor) -> Scope {
    match (actor.kind(), actor.role()) {
        (Kind::Staff, Some(Role::PlatformAdmin) | None) => Scope::All,
        (Kind::Staff, Some(_)) => {
            let ids = actor.customer_scope();
            if ids.is_empty() { Scope::All } else { Scope::Only(ids) }
        }
        (Kind::CustomerUser, _) => Scope::Only(actor.customer_id().into_iter().collect()),
    }
}

/// The caller's effective permissions (role set for staff, owners and admins; grants for users;
/// scopes for API clients).
pub fn permissions(actor: &Actor) -> Vec<Permission> {
    actor.permissions()
}

fn has(actor: &Actor, permission: Permission) -> bool {
    permissions(actor).contains(&permission)
}

/// Whether `actor` sees data tagged with `group` (`None`: untagged data, which everyone of the
/// customer sees). Whoever has the data scope `all` (staff always) sees every group; a
/// `groups`-scoped caller only its own groups, possibly none. Call after [`require`] has
/// established the customer is visible.
pub fn sees_group(actor: &Actor, group: Option<Uuid>) -> bool {
    match group {
        None => true,
        Some(group) => group_scope(actor).is_none_or(|own| own.contains(&group)),
    }
}

/// The groups whose data `actor` sees: `None` for all of them (data scope `all`, and staff
/// whatever a row says), else its groups — possibly none, then it sees untagged data only.
pub fn group_scope(actor: &Actor) -> Option<Vec<Uuid>> {
    (actor.kind() == Kind::CustomerUser && actor.data_scope == DataScope::Groups)
        .then(|| actor.groups.clone())
}

/// Whether `actor`'s visibility covers someone (a person, an invitation, an API client) of data
/// scope `scope` in `groups`, and so whether it may act on them or give them that access.
/// Anyone who sees every group covers everyone of the customer; a caller limited to groups G
/// covers only a `groups`-scoped target whose groups are all in G (none at all included: that
/// one sees untagged data only, which G's callers see too). Someone who sees `all`, or who is
/// also in another group, sees more than G, so acting on them (a password, a reset link, a
/// role) or giving such access would hand over more than the caller has.
pub fn covers(actor: &Actor, scope: DataScope, groups: &[Uuid]) -> bool {
    match group_scope(actor) {
        None => true,
        Some(own) => scope == DataScope::Groups && groups.iter().all(|g| own.contains(g)),
    }
}

/// 404 unless `actor` covers the target of `scope` in `groups` (see [`covers`]): a person,
/// invitation or client outside the caller's groups is not there for it, exactly like a
/// missing one.
pub fn require_covers(actor: &Actor, scope: DataScope, groups: &[Uuid]) -> Result<(), AppError> {
    if covers(actor, scope, groups) { Ok(()) } else { Err(AppError::NotFound) }
}

/// 404 unless `actor` may manage groups of `customer_id` and sees `group` (a person limited to
/// groups sees only its own).
pub fn require_group(
    actor: &Actor,
    customer_id: impl Into<Uuid>,
    group: impl Into<Uuid>,
) -> Result<(), AppError> {
    require(actor, Action::ManageGroups, customer_id)?;
    if sees_group(actor, Some(group.into())) { Ok(()) } else { Err(AppError::NotFound) }
}

/// Creating a group needs [`Action::ManageGroups`] and no group limit: a new group is outside
/// every group the caller is limited to.
pub fn require_group_creation(actor: &Actor, customer_id: impl Into<Uuid>) -> Result<(), AppError> {
    require(actor, Action::ManageGroups, customer_id)?;
    match group_scope(actor) {
        None => Ok(()),
        Some(_) => Err(AppError::Forbidden("A person limited to groups cannot create groups.".into())),
    }
}

/// Deleting `group`: a person limited to groups sees only its own groups, and deleting one of
/// them would take that group's data away from its members (itself included; they keep the
/// data scope `groups` and see less, never more); managing the customer's group structure is
/// for someone who sees it all, so it may not (403), and another group is not there for it
/// (404).
pub fn require_group_deletion(
    actor: &Actor,
    customer_id: impl Into<Uuid>,
    group: impl Into<Uuid>,
) -> Result<(), AppError> {
    require_group(actor, customer_id, group)?;
    match group_scope(actor) {
        None => Ok(()),
        Some(_) => Err(AppError::Forbidden(
            "A person limited to groups cannot delete a group it belongs to: its members would lose its data."
                .into(),
        )),
    }
}

/// Whether `actor` holds `permission` itself, and so may hand it to an API client it creates:
/// nobody gives more than it has.
pub fn may_grant(actor: &Actor, permission: Permission) -> bool {
    has(actor, permission)
}

crate::text_enum! {
    /// Why `POST /v1/authz/check` answered as it did: the closed set of its `reason`.
    pub enum CheckReason as "AuthzReason" {
        /// The caller may.
        Allowed = "allowed",
        /// Another customer, one outside a dispatcher's scope, or no such customer.
        CustomerNotVisible = "customer_not_visible",
        /// The caller does not hold the permission.
        PermissionNotHeld = "permission_not_held",
        /// The caller is limited to other groups.
        GroupNotVisible = "group_not_visible",
        /// The customer has no such group.
        UnknownGroup = "unknown_group",
    }
}

/// The answer of `POST /v1/authz/check`: may `actor` use `permission` on the data of
/// `customer_id` (and of `group`, when given)? The same functions decide for dockgate itself.
/// Whether the customer and the group exist is the caller's to add (it needs the database).
pub fn check(actor: &Actor, permission: Permission, customer_id: Uuid, group: Option<Uuid>) -> CheckReason {
    if !scope(actor).contains(customer_id) {
        return CheckReason::CustomerNotVisible;
    }
    if !permissions(actor).contains(&permission) {
        return CheckReason::PermissionNotHeld;
    }
    if !sees_group(actor, group) {
        return CheckReason::GroupNotVisible;
    }
    CheckReason::Allowed
}

/// Whether `actor` may perform `action`, visibility aside. Staff people act by their role; every
/// other caller (customer users, and API clients of a customer or of the platform) by its
/// permissions, so a client is decided exactly like a person holding its scopes. Only a role
/// gives what no permission names (an owner's rights, the customer's profile, staff management).
pub fn allows(actor: &Actor, action: Action) -> bool {
    match (actor.kind(), actor.role()) {
        (Kind::Staff, Some(role)) => match action {
            Action::ManageStaff | Action::ManagePlatformClients | Action::ManagePlatformWebhooks => {
                role == Role::PlatformAdmin
            }
            Action::CreateCustomer => scope(actor) == Scope::All,
            Action::ManageCustomer
            | Action::UpdateCustomerProfile
            | Action::ReadCustomer
            | Action::ManageAddresses
            | Action::ManageCostCenters
            | Action::ReadAudit
            | Action::ManageUsers
            | Action::ManageOwner
            | Action::RequireMfa
            | Action::EndCustomerSessions
            | Action::FindUsers
            | Action::ManageGroups
            | Action::ManageApiClients
            | Action::ManageWebhooks
            | Action::Impersonate
            | Action::ReviewAccess => true,
        },
        (kind, role) => match action {
            Action::ReadCustomer => true,
            Action::UpdateCustomerProfile => matches!(role, Some(Role::Owner | Role::Admin)),
            Action::ManageAddresses => has(actor, Permission::AddressesManage),
            Action::ManageCostCenters => has(actor, Permission::CostCentersManage),
            Action::ReadAudit | Action::ManageUsers | Action::ManageGroups | Action::ManageApiClients => {
                has(actor, Permission::UsersManage)
            }
            // An endpoint hears about everyone of the customer, whatever their groups, so a
            // caller limited to groups would learn of people it does not see.
            Action::ManageWebhooks | Action::ReviewAccess => {
                has(actor, Permission::UsersManage) && group_scope(actor).is_none()
            }
            Action::ManageOwner | Action::RequireMfa | Action::EndCustomerSessions => {
                role == Some(Role::Owner)
            }
            // A platform client with users.manage finds users like staff do.
            Action::FindUsers => kind == Kind::Staff && has(actor, Permission::UsersManage),
            Action::ManageStaff
            | Action::CreateCustomer
            | Action::ManageCustomer
            | Action::ManagePlatformClients
            | Action::ManagePlatformWebhooks
            | Action::Impersonate => false,
        },
    }
}

/// 404 unless `actor` sees `customer_id`; then 403 unless it may perform `action` there.
pub fn require(actor: &Actor, action: Action, customer_id: impl Into<Uuid>) -> Result<(), AppError> {
    if !scope(actor).contains(customer_id.into()) {
        return Err(AppError::NotFound);
    }
    require_global(actor, action)
}

/// For actions that are not about one customer (staff management, creating a customer).
pub fn require_global(actor: &Actor, action: Action) -> Result<(), AppError> {
    if allows(actor, action) { Ok(()) } else { Err(AppError::Forbidden(forbidden_detail(action).into())) }
}

fn forbidden_detail(action: Action) -> &'static str {
    match action {
        Action::ManageStaff => "Only a platform admin may manage staff.",
        Action::CreateCustomer => {
            "Only a platform admin or a dispatcher for all customers may create customers."
        }
        Action::ManageCustomer => {
            "Only staff may change a customer's code, status or portal settings, or delete it."
        }
        Action::UpdateCustomerProfile => {
            "Only staff and the customer's owner or admins may update the customer."
        }
        Action::ReadCustomer => "You may not read this customer.",
        Action::ManageAddresses => "Managing warehouse addresses needs the addresses.manage permission.",
        Action::ManageCostCenters => "Managing cost centers needs the cost_centers.manage permission.",
        Action::ReadAudit => "Reading the audit log needs the users.manage permission.",
        Action::ManageUsers => "Managing users needs the users.manage permission.",
        Action::ManageOwner => {
            "Only staff and the customer's owner may change the owner or make someone owner."
        }
        Action::RequireMfa => "Only staff and the customer's owner may change whether MFA is required.",
        Action::EndCustomerSessions => {
            "Only staff and the customer's owner may end every session of the customer's people."
        }
        Action::FindUsers => "Only staff may search users across customers.",
        Action::ManageGroups => "Managing groups needs the users.manage permission.",
        Action::ManageApiClients => "Managing API clients needs the users.manage permission.",
        Action::ManagePlatformClients => "Only a platform admin may manage platform API clients.",
        Action::ManageWebhooks => {
            "Managing webhooks needs the users.manage permission and the data scope all: an endpoint hears about every group's people."
        }
        Action::ManagePlatformWebhooks => "Only a platform admin may manage platform webhooks.",
        Action::Impersonate => "Only a platform admin or a dispatcher may start a support session.",
        Action::ReviewAccess => {
            "The access review needs the users.manage permission and the data scope all: it lists every group's people."
        }
    }
}

/// 403 in a support session (an access token with `act`): a staff member acting as a person
/// may look and help, never take the account over — change its password, its MFA or the
/// ownership of its customer, end its other sessions, or impersonate in turn. Call right after
/// [`require`] in every handler of such an action.
pub fn refuse_impersonated(actor: &Actor) -> Result<(), AppError> {
    match actor.impersonator() {
        Some(_) => Err(AppError::Forbidden("This is not allowed in a support session.".into())),
        None => Ok(()),
    }
}
