//! The rules of API clients: a client never gets more than its creator holds (scopes) or sees
//! (groups, with the same meaning and rules as a person's); a platform client has no groups;
//! revocation is for good.

use uuid::Uuid;

use crate::accounts::Actor;
use crate::error::{AppError, ConflictKind, FieldCode, FieldError};
use crate::identity::clients::ClientStatus;
use crate::permissions::Permission;
use crate::policy;

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

/// The groups a new client of `owner` gets (see [`crate::users::rules::groups_for`]); a
/// platform client (`owner` none) has none.
pub fn groups_for(
    actor: &Actor,
    owner: Option<Uuid>,
    requested: Option<Vec<Uuid>>,
) -> Result<Vec<Uuid>, AppError> {
    match owner {
        Some(_) => crate::users::rules::groups_for(actor, requested),
        None if requested.as_ref().is_none_or(Vec::is_empty) => Ok(Vec::new()),
        None => Err(AppError::field(
            "group_ids",
            FieldCode::NotAllowed,
            "a platform client belongs to no customer, so it has no groups",
        )),
    }
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
