//! The access review's reads: one query each for the customer, its people, their group
//! memberships, its API clients and their groups, whatever the number of people.

use chrono::{DateTime, Utc};
use diesel::dsl::now as db_now;
use diesel::prelude::*;
use uuid::Uuid;

use crate::accounts::UserRow;
use crate::api_clients::models::ApiClientRow;
use crate::db::ids::CustomerId;
use crate::db::schema::{api_client_groups, api_clients, customers, group_members, users};

/// When the customer's access was last reviewed, and by whom (a 404 for no such customer).
pub fn last_review(
    conn: &mut PgConnection,
    customer_id: CustomerId,
) -> QueryResult<(Option<DateTime<Utc>>, Option<Uuid>)> {
    customers::table
        .find(customer_id)
        .select((customers::access_reviewed_at, customers::access_reviewed_by))
        .first(conn)
}

/// Records a review by `reviewer` now; `None` for no such customer.
pub fn mark_reviewed(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    reviewer: Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    diesel::update(customers::table.find(customer_id))
        .set((customers::access_reviewed_at.eq(db_now), customers::access_reviewed_by.eq(reviewer)))
        .returning(customers::access_reviewed_at)
        .get_result::<Option<DateTime<Utc>>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Every person of the customer, by name.
pub fn people(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<Vec<UserRow>> {
    users::table
        .filter(users::customer_id.eq(customer_id))
        .order((users::name, users::id))
        .select(UserRow::as_select())
        .load(conn)
}

/// Every group membership of the customer's people: `(user, group)`.
pub fn memberships(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<Vec<(Uuid, Uuid)>> {
    group_members::table
        .filter(group_members::customer_id.eq(customer_id))
        .order((group_members::user_id, group_members::group_id))
        .select((group_members::user_id, group_members::group_id))
        .load(conn)
}

/// Every API client of the customer, by name.
pub fn clients(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<Vec<ApiClientRow>> {
    api_clients::table
        .filter(api_clients::customer_id.eq(customer_id))
        .order((api_clients::name, api_clients::id))
        .select(ApiClientRow::as_select())
        .load(conn)
}

/// Every group of the customer's API clients: `(client, group)`.
pub fn client_groups(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<Vec<(Uuid, Uuid)>> {
    api_client_groups::table
        .filter(api_client_groups::customer_id.eq(customer_id))
        .order((api_client_groups::api_client_id, api_client_groups::group_id))
        .select((api_client_groups::api_client_id, api_client_groups::group_id))
        .load(conn)
}
