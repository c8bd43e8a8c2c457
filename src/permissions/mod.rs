//! The permission catalog and roles of contract section 2, and the one function that computes a
//! person's effective permissions (used by tokens, `/v1/me` and the policy).

use crate::text_enum;

text_enum! {
    /// The role of a person: staff roles first, then customer-user roles.
    pub enum Role {
        PlatformAdmin = "platform_admin",
        Dispatcher = "dispatcher",
        Owner = "owner",
        Admin = "admin",
        User = "user",
    }
}

text_enum! {
    /// Which of its customer's data a person, an invitation or an API client sees: `all` of it
    /// (staff and platform clients always), or only the data of its `groups` and untagged data
    /// (possibly no group at all: then untagged data only). Someone with `all` is in no group;
    /// only an explicit `all` widens, so leaving groups never does.
    pub enum DataScope as "DataScope" {
        All = "all",
        Groups = "groups",
    }
}

text_enum! {
    /// What kind of subject a token is for.
    pub enum Kind {
        Staff = "staff",
        CustomerUser = "customer_user",
    }
}

text_enum! {
    /// One permission of the catalog.
    pub enum Permission {
        OrdersView = "orders.view",
        OrdersCreate = "orders.create",
        TrackingView = "tracking.view",
        PodDownload = "pod.download",
        SchedulingBook = "scheduling.book",
        ReportsView = "reports.view",
        MessagesViewBody = "messages.view_body",
        AddressesManage = "addresses.manage",
        CostCentersManage = "cost_centers.manage",
        UsersManage = "users.manage",
        PricingView = "pricing.view",
        PaymentsManage = "payments.manage",
    }
}

impl Role {
    pub fn kind(self) -> Kind {
        match self {
            Role::PlatformAdmin | Role::Dispatcher => Kind::Staff,
            Role::Owner | Role::Admin | Role::User => Kind::CustomerUser,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "Operator staff: everything, including staff management.",
            Role::Dispatcher => {
                "Operator staff: customers and everything under them, optionally limited to a list of customers."
            }
            Role::Owner => {
                "Everything for its own customer, including pricing and payments; at most one per customer."
            }
            Role::Admin => {
                "Everything for its own customer except pricing and payments; includes user management."
            }
            Role::User => "Only the permissions granted to it, chosen from the user-grantable set.",
        }
    }

    /// Whether a person of this role may hold `permission` at all.
    pub fn may_hold(self, permission: Permission) -> bool {
        match self {
            Role::PlatformAdmin | Role::Dispatcher | Role::Owner => true,
            Role::Admin => !matches!(permission, Permission::PricingView | Permission::PaymentsManage),
            Role::User => permission.grantable_to_user(),
        }
    }
}

impl Permission {
    pub fn grantable_to_user(self) -> bool {
        !matches!(self, Permission::UsersManage | Permission::PricingView | Permission::PaymentsManage)
    }

    pub fn description(self) -> &'static str {
        match self {
            Permission::OrdersView => "View own orders and their statuses.",
            Permission::OrdersCreate => "Create orders.",
            Permission::TrackingView => "Open tracking pages.",
            Permission::PodDownload => "Download proof of delivery.",
            Permission::SchedulingBook => "Book route-scheduling intervals.",
            Permission::ReportsView => "View reports.",
            Permission::MessagesViewBody => "See the body of SMS and e-mail messages (confidential).",
            Permission::AddressesManage => "Manage the customer's warehouse addresses.",
            Permission::CostCentersManage => "Manage the customer's cost centers.",
            Permission::UsersManage => "Manage users, invitations and groups.",
            Permission::PricingView => "View pricing.",
            Permission::PaymentsManage => "Manage payments.",
        }
    }
}

/// "All of the customer's data" in `groups`, and "every customer" in a dispatcher's
/// `customer_ids`: an explicit marker, never an empty list a consumer could misread.
pub const ALL: &str = "*";

/// What a `user` gets when created without explicit permissions.
pub const DEFAULT_USER_PERMISSIONS: &[Permission] =
    &[Permission::OrdersView, Permission::TrackingView, Permission::PodDownload];

/// The permissions a person actually has: the role's whole set for staff, owners and admins,
/// the granted ones (that the role may hold) for users. Sorted, without duplicates.
pub fn effective(role: Role, granted: &[Permission]) -> Vec<Permission> {
    let mut permissions: Vec<Permission> = match role {
        Role::User => granted.iter().copied().filter(|p| role.may_hold(*p)).collect(),
        _ => Permission::ALL.iter().copied().filter(|p| role.may_hold(*p)).collect(),
    };
    permissions.sort();
    permissions.dedup();
    permissions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_hold_everything_and_admins_all_but_money() {
        assert_eq!(effective(Role::Owner, &[]).len(), Permission::ALL.len());
        let admin = effective(Role::Admin, &[]);
        assert!(admin.contains(&Permission::UsersManage));
        assert!(!admin.contains(&Permission::PricingView));
        assert!(!admin.contains(&Permission::PaymentsManage));
    }

    #[test]
    fn users_hold_only_grantable_permissions_they_were_given() {
        let granted = [Permission::OrdersCreate, Permission::UsersManage, Permission::PricingView];
        assert_eq!(effective(Role::User, &granted), vec![Permission::OrdersCreate]);
    }

    #[test]
    fn roles_belong_to_one_kind() {
        assert_eq!(Role::Dispatcher.kind(), Kind::Staff);
        assert_eq!(Role::User.kind(), Kind::CustomerUser);
        assert_eq!("payments.manage".parse::<Permission>(), Ok(Permission::PaymentsManage));
    }
}
