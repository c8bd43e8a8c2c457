//! What removing a group means, for the REST API and for a directory (SCIM) alike.

use diesel::PgConnection;
use serde_json::json;

use super::queries;
use crate::db::ids::{CustomerId, GroupId};
use crate::error::{AppError, ConflictKind};
use crate::users::rules::{self as user_rules, AccessChange};
use crate::write::Removed;

/// Deletes the group (its row must be locked by the caller's write): a 409 while it still tags
/// warehouse addresses (untagging them silently would show them to everyone). Its members keep
/// the data scope `groups` (nobody is widened, they see less), but their tokens name the group,
/// so their sessions end. The audit event keeps who the members were.
pub fn remove(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_id: GroupId,
) -> Result<Removed, AppError> {
    let tagged = queries::tagged_addresses(conn, customer_id, group_id)?;
    if tagged > 0 {
        return Err(AppError::Conflict(
            ConflictKind::StillReferenced,
            format!("The group still tags {tagged} warehouse address(es); untag them in dockgate first."),
        ));
    }
    let members = queries::member_ids(conn, customer_id, group_id)?;
    queries::delete(conn, customer_id, group_id)?;
    for member in &members {
        user_rules::access_changed(conn, *member, AccessChange::Rights)?;
        user_rules::announce_access(conn, customer_id, *member)?;
    }
    Ok(Removed::default().with("members", json!(members)))
}
