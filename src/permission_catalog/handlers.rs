//! `GET /v1/permissions`: the catalog of contract section 2, generated from the same enums the
//! policy and the tokens use, so the description can never drift from the behaviour.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::Actor;
use crate::openapi::sets;
use crate::permissions::{DEFAULT_USER_PERMISSIONS, Kind, Permission, Role, effective};

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"key": "orders.create", "description": "Create orders.", "roles": ["owner", "admin", "user"], "grantable_to_user": true}))]
pub struct PermissionEntry {
    pub key: Permission,
    pub description: &'static str,
    /// The customer roles that may hold it (staff hold every permission).
    pub roles: Vec<Role>,
    /// Whether it can be granted to a `user`.
    pub grantable_to_user: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"key": "user", "kind": "customer_user", "description": "Only the permissions granted to it, chosen from the user-grantable set.", "permissions": [], "default_permissions": ["orders.view", "pod.download", "tracking.view"]}))]
pub struct RoleEntry {
    pub key: Role,
    pub kind: Kind,
    pub description: &'static str,
    /// What the role always holds (empty for `user`, whose permissions are granted).
    pub permissions: Vec<Permission>,
    /// What a new person of this role gets when none are given (`user` only).
    pub default_permissions: Vec<Permission>,
}

/// The permission catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalog {
    pub permissions: Vec<PermissionEntry>,
    pub roles: Vec<RoleEntry>,
}

pub fn catalog() -> Catalog {
    let customer_roles = [Role::Owner, Role::Admin, Role::User];
    Catalog {
        permissions: Permission::ALL
            .iter()
            .map(|&key| PermissionEntry {
                key,
                description: key.description(),
                roles: customer_roles.iter().copied().filter(|r| r.may_hold(key)).collect(),
                grantable_to_user: key.grantable_to_user(),
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|&key| RoleEntry {
                key,
                kind: key.kind(),
                description: key.description(),
                permissions: if key == Role::User { Vec::new() } else { effective(key, &[]) },
                default_permissions: if key == Role::User {
                    let mut defaults = DEFAULT_USER_PERMISSIONS.to_vec();
                    defaults.sort();
                    defaults
                } else {
                    Vec::new()
                },
            })
            .collect(),
    }
}

/// The permission catalog
///
/// Every permission with its description and the customer roles that may hold it, and every
/// role with what it holds. Any signed-in caller.
#[utoipa::path(
    tag = "permissions",
    operation_id = "getPermissions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The catalog.", body = Catalog),
        sets::SignedIn,
    )
)]
#[get("/v1/permissions")]
pub async fn get_permissions(_actor: Actor) -> HttpResponse {
    HttpResponse::Ok().insert_header(("cache-control", "private, max-age=300")).json(catalog())
}
