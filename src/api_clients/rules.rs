//! The rules of API clients: a client never gets more than its creator holds (scopes) or sees
//! (groups, with the same meaning and rules as a person's); a platform client has no groups;
//! revocation is for good.

use uuid::Uuid;

use crate::accounts::Actor;
use crate::error::{AppError, ConflictKind, FieldCode, FieldError};
use crate::identity::clients::ClientStatus;
use crate::permissions::{DataScope, Permission};
use crate::policy;
use crate::users::models::{Access, AccessRequest};

/// 422 naming every `scopes[i]` the caller does not hold itself.
pub fn check_scopes(actor: &Actor, scopes: &[Permission]) -> Result<(), AppError> {
    let refused: Vec<FieldError> = scopes
        .iter()
        .enumerate()
        .filter(|(_, scope)| !policy::may_grant(actor, **scope))
        .map(|(i, scope)| {
            FieldError::new(
                format!("scopes[{i}]"),
                FieldCode::NotGrantable,
                format!("you do not hold {scope} yourself, so you cannot give it to a client"),
            )
        })
        .collect();
    if refused.is_empty() { Ok(()) } else { Err(AppError::Validation(refused)) }
}

/// The scopes as stored: sorted, without duplicates.
pub fn stored(scopes: &[Permission]) -> Vec<Option<Permission>> {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    scopes.into_iter().map(Some).collect()
}

/// The data scope and groups of a new client of `owner`, by the rules of a new person (see
/// [`crate::users::rules::access_for`]); a platform client (`owner` none) sees `all` and has no
/// groups.
pub fn access_for(actor: &Actor, owner: Option<Uuid>, asked: AccessRequest) -> Result<Access, AppError> {
    match owner {
        Some(_) => crate::users::rules::access_for(actor, asked),
        None => platform_access(asked).map(|()| Access::all()),
    }
}

/// The data scope and groups of a client of `owner` after a change asking for `asked` (see
/// [`crate::users::rules::access_after`]); `None` when they do not change.
pub fn access_after(
    actor: &Actor,
    owner: Option<Uuid>,
    current: &Access,
    asked: AccessRequest,
) -> Result<Option<Access>, AppError> {
    match owner {
        Some(_) => crate::users::rules::access_after(actor, current, asked),
        None => platform_access(asked).map(|()| None),
    }
}

/// 422 unless a platform client is asked for nothing but `all` without groups.
fn platform_access(asked: AccessRequest) -> Result<(), AppError> {
    if !asked.group_ids.as_ref().is_none_or(Vec::is_empty) {
        return Err(AppError::field(
            "group_ids",
            FieldCode::NotAllowed,
            "a platform client belongs to no customer, so it has no groups",
        ));
    }
    if asked.data_scope == Some(DataScope::Groups) {
        return Err(AppError::field(
            "data_scope",
            FieldCode::NotAllowed,
            "a platform client acts as staff and sees all data",
        ));
    }
    Ok(())
}

/// 409 for a change of a revoked client other than deleting it: revocation is final, so
/// tokens it once had can never come back to life.
pub fn require_active(status: ClientStatus) -> Result<(), AppError> {
    match status {
        ClientStatus::Active => Ok(()),
        ClientStatus::Revoked => Err(AppError::Conflict(
            ConflictKind::ClientRevoked,
            "The API client is revoked; that is final. Create a new one.".into(),
        )),
    }
}
