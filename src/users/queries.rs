//! Queries on customer-user rows of `users`. Every one is bounded by `customer_id`, so a user
//! of another customer is simply not found. Every insert of a customer user (creation,
//! invitation, self sign-up) is [`insert`].

use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text};
use uuid::Uuid;

use super::dto::UserFilters;
use super::models::{NewUser, UserChanges};
use crate::accounts::{AccountStatus, UserRow};
use crate::db::fixed::{Fixed, fixed};
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::schema::{cost_centers, customers, users, warehouse_addresses};
use crate::db::types::Email;
use crate::pagination::Page;
use crate::permissions::{DataScope, Kind, Role};
use crate::policy::Scope;

/// A listed user with what its view needs beside its row: its customer's default address and
/// its groups, read in the same statement as the page.
pub type Listed = (UserRow, Option<Uuid>, Vec<Uuid>);

type ListedSql = (
    diesel::dsl::AsSelect<UserRow, Pg>,
    diesel::sql_types::Nullable<diesel::sql_types::Uuid>,
    Array<diesel::sql_types::Uuid>,
);

type Query = users::BoxedQuery<'static, Pg, ListedSql>;

/// The page query's columns: the row, the customer's default address (one index probe on the
/// partial unique index) and the memberships (only a `groups`-scoped person has any).
type ListedColumns = (
    diesel::dsl::AsSelect<UserRow, Pg>,
    Fixed<diesel::sql_types::Nullable<diesel::sql_types::Uuid>>,
    Fixed<Array<diesel::sql_types::Uuid>>,
);

fn listed() -> ListedColumns {
    (
        UserRow::as_select(),
        fixed(
            "(SELECT a.id FROM warehouse_addresses a WHERE a.customer_id = users.customer_id AND a.is_default)",
        ),
        fixed(
            "CASE WHEN users.data_scope = 'groups' THEN ARRAY(SELECT m.group_id FROM group_members m \
             WHERE m.customer_id = users.customer_id AND m.user_id = users.id ORDER BY m.group_id) \
             ELSE '{}'::uuid[] END",
        ),
    )
}

/// The filters and the keyset page both user lists share.
fn filtered(mut query: Query, filters: &UserFilters, page: Page) -> Query {
    if let Some(status) = filters.status {
        query = query.filter(users::status.eq(status));
    }
    if let Some(before) = filters.expiring_before {
        query = query.filter(users::valid_until.lt(before));
    }
    if let Some(role) = filters.role {
        query = query.filter(users::role.eq(Role::from(role)));
    }
    if let Some(group_id) = filters.group_id {
        use crate::db::schema::group_members as gm;
        let members = gm::table.filter(gm::group_id.eq(group_id)).select(gm::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    if let Some(q) = filters.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // The same expression as the trigram index `users_search`.
        query = query.filter(
            sql::<Bool>("(users.name || ' ' || coalesce(users.email::text, '')) ILIKE ")
                .bind::<Text, _>(crate::db::contains_pattern(q)),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(users::id.gt(after));
    }
    query.order(users::id.asc()).limit(page.fetch())
}

/// A page of a customer's users; `within` a group limit, only the people it covers.
pub fn list(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    within: Option<&[Uuid]>,
    filters: &UserFilters,
    page: Page,
) -> QueryResult<Vec<Listed>> {
    let mut query = users::table.filter(users::customer_id.eq(customer_id)).select(listed()).into_boxed();
    if let Some(groups) = within {
        query = query.filter(covered_by(groups));
    }
    filtered(query, filters, page).load(conn)
}

/// The people a person limited to `groups` covers ([`crate::policy::covers`]): `groups`-scoped
/// and in no group outside `groups` (in none at all included: they see untagged data only).
pub fn covered_by<QS: 'static>(groups: &[Uuid]) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    let covered = sql::<Bool>(
        "(users.data_scope = 'groups' AND NOT EXISTS (SELECT 1 FROM group_members m \
         WHERE m.customer_id = users.customer_id AND m.user_id = users.id AND m.group_id <> ALL(",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(groups.to_vec())
    .sql(")))");
    Box::new(covered)
}

/// Sets the people's data scope column alone; `rules::set_access` keeps their
/// memberships in line and is what everything else calls. Nothing to do for no ids.
pub fn set_data_scope(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    ids: &[UserId],
    data_scope: DataScope,
) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(users::table.filter(users::id.eq_any(ids)).filter(users::customer_id.eq(customer_id)))
        .set((users::data_scope.eq(data_scope), users::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .map(drop)
}

/// What adding people to a customer depends on, read in one statement: see
/// [`crate::users::rules::admit`].
#[derive(QueryableByName)]
pub struct Admission {
    #[diesel(sql_type = Text)]
    pub customer_name: String,
    #[diesel(sql_type = Bool)]
    pub logins_open: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    pub default_address: Option<Uuid>,
    /// Whether the address asked for is the customer's (and within the caller's groups).
    #[diesel(sql_type = diesel::sql_types::Nullable<Bool>)]
    pub address_known: Option<bool>,
    /// Whether the cost center asked for is active; `None` when it is not the customer's.
    #[diesel(sql_type = diesel::sql_types::Nullable<Bool>)]
    pub cost_center_active: Option<bool>,
    /// How many of the groups asked for are the customer's.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub known_groups: i64,
}

/// The customer's name, whether it takes logins and its default address, and what of the
/// address, cost center and groups (each only when asked for) is the customer's; `None` when
/// there is no such customer. Holds the customer (`FOR KEY SHARE`, as [`hold_customer`]) so
/// people inserted for it cannot fail on the foreign key.
pub fn admission(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    within: Option<&[Uuid]>,
    address: Option<AddressId>,
    cost_center: Option<CostCenterId>,
    group_ids: &[Uuid],
) -> QueryResult<Option<Admission>> {
    use diesel::sql_types::{Array, Uuid as SqlUuid};
    let mut next = 1;
    let mut param = || {
        next += 1;
        format!("${next}")
    };
    let address_known = match address {
        None => "NULL::boolean".to_owned(),
        Some(_) => {
            let id = param();
            let limit = match within {
                Some(_) => format!(" AND (a.group_id IS NULL OR a.group_id = ANY ({}))", param()),
                None => String::new(),
            };
            format!(
                "EXISTS (SELECT 1 FROM warehouse_addresses a WHERE a.customer_id = c.id AND a.id = {id}{limit})"
            )
        }
    };
    let cost_center_active = match cost_center {
        None => "NULL::boolean".to_owned(),
        Some(_) => {
            format!("(SELECT k.active FROM cost_centers k WHERE k.customer_id = c.id AND k.id = {})", param())
        }
    };
    let known_groups = if group_ids.is_empty() {
        "0::bigint".to_owned()
    } else {
        format!("(SELECT count(*) FROM groups g WHERE g.customer_id = c.id AND g.id = ANY ({}))", param())
    };
    let sql = format!(
        "SELECT c.name AS customer_name, (c.status = 'active' AND c.portal_enabled) AS logins_open,
             (SELECT w.id FROM warehouse_addresses w WHERE w.customer_id = c.id AND w.is_default LIMIT 1)
                 AS default_address,
             {address_known} AS address_known, {cost_center_active} AS cost_center_active,
             {known_groups} AS known_groups
         FROM customers c WHERE c.id = $1 FOR KEY SHARE OF c"
    );
    let mut query = diesel::sql_query(sql).into_boxed().bind::<SqlUuid, _>(Uuid::from(customer_id));
    if let Some(address) = address {
        query = query.bind::<SqlUuid, _>(Uuid::from(address));
        if let Some(groups) = within {
            query = query.bind::<Array<SqlUuid>, _>(groups.to_vec());
        }
    }
    if let Some(cost_center) = cost_center {
        query = query.bind::<SqlUuid, _>(Uuid::from(cost_center));
    }
    if !group_ids.is_empty() {
        query = query.bind::<Array<SqlUuid>, _>(group_ids.to_vec());
    }
    query.get_result(conn).optional()
}

/// Customer users across the customers of `scope` (staff search).
pub fn find_across(
    conn: &mut PgConnection,
    scope: &Scope,
    filters: &UserFilters,
    page: Page,
) -> QueryResult<Vec<Listed>> {
    let mut query = users::table.filter(users::kind.eq(Kind::CustomerUser)).select(listed()).into_boxed();
    if let Scope::Only(ids) = scope {
        query = query.filter(users::customer_id.eq_any(ids.clone()));
    }
    filtered(query, filters, page).load(conn)
}

pub fn find(conn: &mut PgConnection, customer_id: CustomerId, id: UserId) -> QueryResult<UserRow> {
    users::table.find(id).filter(users::customer_id.eq(customer_id)).select(UserRow::as_select()).first(conn)
}

/// Locks the user row for the rest of the transaction.
pub fn lock(conn: &mut PgConnection, customer_id: CustomerId, id: UserId) -> QueryResult<UserRow> {
    users::table
        .find(id)
        .filter(users::customer_id.eq(customer_id))
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
}

/// The user with the ERP's key `external_id` (compared case-insensitively: the column is
/// `citext`), if any.
pub fn find_by_external_id(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    external_id: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::customer_id.eq(customer_id))
        .filter(users::external_id.eq(external_id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// [`find_by_external_id`], locked for the rest of the transaction.
pub fn lock_by_external_id(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    external_id: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::customer_id.eq(customer_id))
        .filter(users::external_id.eq(external_id))
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The customer's user with the login `email`, locked, if any.
pub fn lock_by_email(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    email: &Email,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::customer_id.eq(customer_id))
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The customer's owner, locked, if it has one.
pub fn lock_owner(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::customer_id.eq(customer_id))
        .filter(users::role.eq(Role::Owner))
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Whether the customer has anyone who manages its users (an owner or an admin, whatever their
/// status): self sign-up then never makes an owner, so an admin cannot become one through it.
pub fn has_user_managers(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table
            .filter(users::customer_id.eq(customer_id))
            .filter(users::role.eq_any([Role::Owner, Role::Admin])),
    ))
    .get_result(conn)
}

/// Many [`insert`]s in one statement; the rows in no particular order (match them by id).
pub fn insert_all(conn: &mut PgConnection, new: &[NewUser]) -> QueryResult<Vec<UserRow>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    diesel::insert_into(users::table).values(new).returning(UserRow::as_returning()).get_results(conn)
}

/// The same [`update`] of the customer's users `ids` in one statement (none for no ids); the
/// rows in no particular order.
pub fn update_all(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    ids: &[UserId],
    changes: &UserChanges,
) -> QueryResult<Vec<UserRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(users::table.filter(users::customer_id.eq(customer_id)).filter(users::id.eq_any(ids)))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(UserRow::as_returning())
        .get_results(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewUser) -> QueryResult<UserRow> {
    diesel::insert_into(users::table).values(new).returning(UserRow::as_returning()).get_result(conn)
}

/// [`insert`] of a person with an `external_id`, unless the customer has one with that key
/// already (`None`), also one inserted by a concurrent transaction, which this waits for:
/// the create-or-replace then replaces it instead of failing.
pub fn insert_keyed(conn: &mut PgConnection, new: &NewUser) -> QueryResult<Option<UserRow>> {
    diesel::insert_into(users::table)
        .values(new)
        .on_conflict((users::customer_id, users::external_id))
        .do_nothing()
        .returning(UserRow::as_returning())
        .get_result(conn)
        .optional()
}

pub fn update(conn: &mut PgConnection, id: UserId, changes: &UserChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(diesel::dsl::now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

/// An invited person joins: active, with its name and password. `None` when it is not (or no
/// longer) an invited user of `customer_id`.
pub fn activate_invited(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    id: UserId,
    name: &str,
    password_hash: &str,
) -> QueryResult<Option<UserRow>> {
    diesel::update(invited(customer_id, id))
        .set((
            users::name.eq(name),
            users::password_hash.eq(password_hash),
            users::status.eq(AccountStatus::Active),
            users::login_enabled.eq(true),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Removes a person who was invited and never joined (a revoked invitation); anyone else stays.
pub fn delete_invited(conn: &mut PgConnection, customer_id: CustomerId, id: UserId) -> QueryResult<()> {
    diesel::delete(invited(customer_id, id)).execute(conn).map(drop)
}

type Invited = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Find<users::table, UserId>,
        diesel::dsl::Eq<users::customer_id, CustomerId>,
    >,
    diesel::dsl::Eq<users::status, AccountStatus>,
>;

fn invited(customer_id: CustomerId, id: UserId) -> Invited {
    users::table
        .find(id)
        .filter(users::customer_id.eq(customer_id))
        .filter(users::status.eq(AccountStatus::Invited))
}

/// Sessions, refresh tokens, password links and memberships go with the row.
pub fn delete(conn: &mut PgConnection, customer_id: CustomerId, id: UserId) -> QueryResult<()> {
    diesel::delete(users::table.find(id).filter(users::customer_id.eq(customer_id))).execute(conn).map(drop)
}

/// The customer's name; `NotFound` when there is no such customer.
pub fn customer_name(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<String> {
    customers::table.find(customer_id).select(customers::name).first(conn)
}

/// [`customer_name`], and the customer cannot be deleted until the transaction ends, so a
/// person inserted for it meanwhile cannot fail on the foreign key. `FOR KEY SHARE` does not
/// block changes to the customer's other columns.
pub fn hold_customer(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<String> {
    customers::table.find(customer_id).select(customers::name).for_key_share().first(conn)
}

/// Locks the customer row: ownership transfers of one customer take their turns.
pub fn lock_customer(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<()> {
    customers::table.find(customer_id).select(customers::id).for_update().first::<Uuid>(conn).map(drop)
}

/// Whether `address_id` is a warehouse address of `customer_id`.
/// `within` a group limit, only an untagged address or one of those groups counts.
pub fn address_belongs(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    within: Option<&[Uuid]>,
    address_id: AddressId,
) -> QueryResult<bool> {
    let mut address = warehouse_addresses::table
        .find((customer_id, address_id))
        .select(warehouse_addresses::id)
        .into_boxed();
    if let Some(groups) = within {
        address = address.filter(
            warehouse_addresses::group_id.is_null().or(warehouse_addresses::group_id.eq_any(groups.to_vec())),
        );
    }
    diesel::select(diesel::dsl::exists(address)).get_result(conn)
}

/// `Some(active)` when `cost_center_id` is a cost center of `customer_id`.
pub fn cost_center_active(
    conn: &mut PgConnection,
    customer_id: CustomerId,
    cost_center_id: CostCenterId,
) -> QueryResult<Option<bool>> {
    cost_centers::table
        .find((customer_id, cost_center_id))
        .select(cost_centers::active)
        .first(conn)
        .optional()
}

/// The default warehouse address of each of `customer_ids` (for the users' views).
pub fn default_addresses(
    conn: &mut PgConnection,
    customer_ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, Uuid>> {
    Ok(warehouse_addresses::table
        .filter(warehouse_addresses::customer_id.eq_any(customer_ids))
        .filter(warehouse_addresses::is_default)
        .select((warehouse_addresses::customer_id, warehouse_addresses::id))
        .load::<(Uuid, Uuid)>(conn)?
        .into_iter()
        .collect())
}

/// The default warehouse address of one customer.
pub fn default_address(conn: &mut PgConnection, customer_id: CustomerId) -> QueryResult<Option<Uuid>> {
    Ok(default_addresses(conn, &[customer_id.into()])?.get(&customer_id.into()).copied())
}
