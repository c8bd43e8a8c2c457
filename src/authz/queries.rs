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
    use crate::db::schema::groups;
    use diesel::dsl::exists;
    // One statement whether or not a group is asked about: a missing group id matches no row.
    let group =
        groups::table.filter(groups::customer_id.eq(customer_id)).filter(groups::id.nullable().eq(group_id));
    let (customer, group): (bool, bool) =
        diesel::select((exists(customers::table.find(customer_id)), exists(group))).get_result(conn)?;
    Ok(if !customer {
        Some(CheckReason::CustomerNotVisible)
    } else if group_id.is_some() && !group {
        Some(CheckReason::UnknownGroup)
    } else {
        None
    })
}
