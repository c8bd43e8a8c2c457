//! The rules of contract section 6 that are not about who the caller is (that is
//! [`crate::policy`]): which permissions a role may be given, which references are valid, and
//! what a user with login needs. Invitations (and the ERP import) apply the same rules.

use diesel::prelude::*;
use uuid::Uuid;

use super::queries;
use crate::error::{AppError, FieldCode, FieldError};
use crate::permissions::{self, DEFAULT_USER_PERMISSIONS, Permission, Role};

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
            let mut granted = requested.to_vec();
            granted.sort();
            granted.dedup();
            Ok(granted)
        }
        _ => {
            if let Some(requested) = requested {
                let mut asked = requested.to_vec();
                asked.sort();
                asked.dedup();
                if asked != permissions::effective(role, &[]) {
                    return Err(AppError::field(
                        "permissions",
                        FieldCode::FixedByRole,
                        "owners and admins hold their role's permissions; omit the field",
                    ));
                }
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
    customer_id: Uuid,
    within: Option<&[Uuid]>,
    address: Option<Uuid>,
    cost_center: Option<Uuid>,
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
