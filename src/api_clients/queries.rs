//! Queries on `api_clients` and its tables. Every one is keyed by the owner first: the
//! customer, or "no customer" for platform clients, so another owner's client is simply not
//! found.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{ApiClient, ApiClientChanges, ApiClientRow, NewApiClient, NewToken, TokenRow};
use crate::db::ids::{ApiClientId, ApiClientTokenId};
use crate::db::schema::{api_client_groups as acg, api_client_tokens as act, api_clients as ac};
use crate::identity::clients::ClientStatus;
use crate::pagination::Page;
use crate::permissions::DataScope;
use crate::users::models::Access;

type Owned<'a> = ac::BoxedQuery<'a, diesel::pg::Pg>;

/// The clients of `owner` (a customer, or `None`: the platform's).
fn owned<'a>(owner: Option<Uuid>) -> Owned<'a> {
    match owner {
        Some(customer_id) => ac::table.filter(ac::customer_id.eq(customer_id)).into_boxed(),
        None => ac::table.filter(ac::customer_id.is_null()).into_boxed(),
    }
}

fn with_groups(conn: &mut PgConnection, rows: Vec<ApiClientRow>) -> QueryResult<Vec<ApiClient>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id.into()).collect();
    let memberships: Vec<(Uuid, Uuid)> = acg::table
        .filter(acg::api_client_id.eq_any(&ids))
        .order((acg::api_client_id.asc(), acg::group_id.asc()))
        .select((acg::api_client_id, acg::group_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = Uuid::from(row.id);
            let groups = memberships.iter().filter(|(c, _)| *c == id).map(|(_, g)| *g).collect();
            ApiClient { row, groups }
        })
        .collect())
}

/// A page of `owner`'s clients, oldest first; `within` keeps only those for which it is true
/// (a group-limited caller sees only clients it covers).
pub fn list(
    conn: &mut PgConnection,
    owner: Option<Uuid>,
    page: Page,
    within: impl Fn(&ApiClient) -> bool,
) -> QueryResult<Vec<ApiClient>> {
    // Which of them the caller covers depends on their groups, so that is decided first; a
    // customer has few clients.
    let all = owned(owner).order(ac::id.asc()).select(ApiClientRow::as_select()).load(conn)?;
    let visible: Vec<ApiClientId> =
        with_groups(conn, all)?.into_iter().filter(|c| within(c)).map(|c| c.row.id).collect();
    let mut query = owned(owner).filter(ac::id.eq_any(visible)).select(ApiClientRow::as_select());
    if let Some(after) = page.after {
        query = query.filter(ac::id.gt(ApiClientId::from(after)));
    }
    let rows = query.order(ac::id.asc()).limit(page.fetch()).load(conn)?;
    with_groups(conn, rows)
}

pub fn find(conn: &mut PgConnection, owner: Option<Uuid>, id: ApiClientId) -> QueryResult<ApiClient> {
    let row = owned(owner).filter(ac::id.eq(id)).select(ApiClientRow::as_select()).first(conn)?;
    let mut found = with_groups(conn, vec![row])?;
    found.pop().ok_or(diesel::result::Error::NotFound)
}

/// Locks the client for the rest of the transaction.
pub fn lock(conn: &mut PgConnection, owner: Option<Uuid>, id: ApiClientId) -> QueryResult<ApiClient> {
    // Locking cannot be boxed, so the two owners are two queries.
    let query = ac::table.filter(ac::id.eq(id)).select(ApiClientRow::as_select()).for_update();
    let row = match owner {
        Some(customer_id) => query.filter(ac::customer_id.eq(customer_id)).first(conn)?,
        None => query.filter(ac::customer_id.is_null()).first(conn)?,
    };
    let mut found = with_groups(conn, vec![row])?;
    found.pop().ok_or(diesel::result::Error::NotFound)
}

pub fn insert(conn: &mut PgConnection, new: &NewApiClient) -> QueryResult<ApiClientRow> {
    diesel::insert_into(ac::table).values(new).returning(ApiClientRow::as_returning()).get_result(conn)
}

/// The client sees `access`: its data scope column, and its groups become exactly those (of
/// its customer; a foreign key refuses others; none for `all`). Returns the groups.
pub fn set_access(
    conn: &mut PgConnection,
    customer_id: Uuid,
    id: ApiClientId,
    access: &Access,
) -> QueryResult<Vec<Uuid>> {
    let group_ids = match access.data_scope {
        DataScope::All => &[][..],
        DataScope::Groups => &access.group_ids[..],
    };
    diesel::update(ac::table.find(id).filter(ac::customer_id.eq(customer_id)))
        .set(ac::data_scope.eq(access.data_scope))
        .execute(conn)?;
    diesel::delete(acg::table.filter(acg::customer_id.eq(customer_id)).filter(acg::api_client_id.eq(id)))
        .execute(conn)?;
    let rows: Vec<_> = group_ids
        .iter()
        .map(|g| (acg::customer_id.eq(customer_id), acg::api_client_id.eq(id), acg::group_id.eq(*g)))
        .collect();
    diesel::insert_into(acg::table).values(rows).execute(conn)?;
    Ok(group_ids.to_vec())
}

pub fn update(
    conn: &mut PgConnection,
    id: ApiClientId,
    changes: &ApiClientChanges,
) -> QueryResult<ApiClientRow> {
    diesel::update(ac::table.find(id))
        .set((changes.clone(), ac::updated_at.eq(diesel::dsl::now)))
        .returning(ApiClientRow::as_returning())
        .get_result(conn)
}

/// A new secret; the one it replaces keeps working until `previous_valid_until` (`None`: it
/// stops at once).
pub fn rotate_secret(
    conn: &mut PgConnection,
    id: ApiClientId,
    secret_hash: &[u8],
    previous_valid_until: Option<DateTime<Utc>>,
) -> QueryResult<ApiClientRow> {
    // The secret being replaced becomes the previous one, or nothing when it ends at once.
    if previous_valid_until.is_some() {
        diesel::update(ac::table.find(id))
            .set(ac::previous_secret_hash.eq(ac::secret_hash.nullable()))
            .execute(conn)?;
    } else {
        diesel::update(ac::table.find(id)).set(ac::previous_secret_hash.eq(None::<Vec<u8>>)).execute(conn)?;
    }
    diesel::update(ac::table.find(id))
        .set((
            ac::previous_secret_valid_until.eq(previous_valid_until),
            ac::secret_hash.eq(secret_hash),
            ac::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ApiClientRow::as_returning())
        .get_result(conn)
}

/// Revocation: the client is revoked, its previous secret and every long-lived token end.
pub fn revoke(conn: &mut PgConnection, id: ApiClientId) -> QueryResult<ApiClientRow> {
    diesel::update(act::table.filter(act::api_client_id.eq(id))).set(act::revoked.eq(true)).execute(conn)?;
    diesel::update(ac::table.find(id))
        .set((
            ac::status.eq(ClientStatus::Revoked),
            ac::previous_secret_hash.eq(None::<Vec<u8>>),
            ac::previous_secret_valid_until.eq(None::<DateTime<Utc>>),
            ac::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ApiClientRow::as_returning())
        .get_result(conn)
}

/// Deletes the client; its groups and tokens go with it (cascade).
pub fn delete(conn: &mut PgConnection, id: ApiClientId) -> QueryResult<()> {
    diesel::delete(ac::table.find(id)).execute(conn).map(drop)
}

/// The live (not revoked) tokens of a client, oldest first.
pub fn tokens(conn: &mut PgConnection, id: ApiClientId, page: Page) -> QueryResult<Vec<TokenRow>> {
    let mut query = act::table
        .filter(act::api_client_id.eq(id))
        .filter(act::revoked.eq(false))
        .select(TokenRow::as_select())
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(act::id.gt(ApiClientTokenId::from(after)));
    }
    query.order(act::id.asc()).limit(page.fetch()).load(conn)
}

pub fn insert_token(conn: &mut PgConnection, new: &NewToken) -> QueryResult<TokenRow> {
    diesel::insert_into(act::table).values(new).returning(TokenRow::as_returning()).get_result(conn)
}

/// Locks a live token of the client.
pub fn lock_token(
    conn: &mut PgConnection,
    id: ApiClientId,
    token: ApiClientTokenId,
) -> QueryResult<TokenRow> {
    act::table
        .filter(act::api_client_id.eq(id))
        .filter(act::id.eq(token))
        .filter(act::revoked.eq(false))
        .select(TokenRow::as_select())
        .for_update()
        .first(conn)
}

pub fn revoke_token(conn: &mut PgConnection, token: ApiClientTokenId) -> QueryResult<()> {
    diesel::update(act::table.find(token)).set(act::revoked.eq(true)).execute(conn).map(drop)
}
