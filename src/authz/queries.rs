//! What the check needs from the database: whether the customer and the group exist.

use diesel::prelude::*;

use crate::db::ids::{CustomerId, GroupId};
use crate::db::schema::customers;
use crate::policy::CheckReason;

/// Why an otherwise allowed check is not: staff see every customer id, existing or not, and
/// the endpoints answer 404 for a customer that does not exist, so the check calls it one the
/// caller cannot see; a group the customer does not have is `unknown_group`.
pub fn missing(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    group_id: Option<GroupId>,
) -> QueryResult<Option<CheckReason>> {
    let customer: bool =
        diesel::select(diesel::dsl::exists(customers::table.find(customer_id))).get_result(conn)?;
    if !customer {
        return Ok(Some(CheckReason::CustomerNotVisible));
    }
    let Some(group_id) = group_id else { return Ok(None) };
    let group = crate::groups::queries::find(conn, customer_id, group_id).optional()?;
    Ok(group.is_none().then_some(CheckReason::UnknownGroup))
}
