//! The mail that says an endpoint was disabled for failing: to the customer's owner and admins
//! (active, with a login e-mail), or for a platform endpoint to the platform admins. Queued in
//! the transaction that disables the endpoint.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{customers, users};
use crate::db::types::Email;
use crate::mail::{self, Mail};

/// Queues the mail for everyone who should hear of it; returns how many were queued.
pub fn disabled(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    url: &str,
    failures: i32,
) -> QueryResult<usize> {
    let people = users::table
        .filter(users::status.eq("active"))
        .filter(users::email.is_not_null())
        .select((users::name, users::email))
        .into_boxed();
    let (people, customer_name) = match customer_id {
        Some(customer_id) => {
            let name: String = customers::table.find(customer_id).select(customers::name).get_result(conn)?;
            let people = people
                .filter(users::kind.eq("customer_user"))
                .filter(users::customer_id.eq(customer_id))
                .filter(users::role.eq_any(["owner", "admin"]));
            (people, Some(name))
        }
        None => (people.filter(users::kind.eq("staff")).filter(users::role.eq("platform_admin")), None),
    };
    let people: Vec<(String, Option<Email>)> = people.order(users::id.asc()).load(conn)?;
    let mut queued = 0;
    for (name, email) in people {
        let Some(email) = email else { continue };
        let mail = Mail::WebhookDisabled {
            name,
            url: url.to_owned(),
            customer_name: customer_name.clone(),
            failures,
        };
        mail::enqueue(conn, customer_id, &email, &mail)?;
        queued += 1;
    }
    Ok(queued)
}
