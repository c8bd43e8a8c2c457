//! Create-or-replace by a caller's key: one `PUT` ([`upsert`]) and every row of a bulk import
//! ([`upsert_in`]) decide between the two here.

use diesel::PgConnection;

use super::{Tagged, Tracked, Viewed, event_of};
use crate::audit::{self, Action, Author};
use crate::db;
use crate::error::AppError;
use crate::etag::IfMatch;
use crate::state::AppState;

/// What a create-or-replace ([`upsert`], [`upsert_in`]) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    /// The body asked for exactly what there was: nothing was written, no event recorded.
    Unchanged,
}

/// The audit actions of a create-or-replace: one for each way it can write.
#[derive(Debug, Clone, Copy)]
pub struct UpsertActions {
    pub created: Action,
    pub updated: Action,
}

/// Create-or-replace by a key of the caller's (an ERP's id), inside the caller's transaction:
/// the one place that decides between the two, for a single `PUT` ([`upsert`]) and for every
/// row of a bulk import (each in its own savepoint). `find` locks the row with the key (`None`:
/// there is none); `insert` creates it, and answers `None` when a concurrent request created
/// the key first (an `ON CONFLICT DO NOTHING` that waited for it), which is then found again
/// and replaced, so two racing creates give one 201 and one 200, never a 500. `replace`
/// changes the locked row, or returns it untouched when nothing differs: that is
/// [`Upserted::Unchanged`], no event and no new `updated_at`. `If-Match` is checked against
/// the current view; sent for a key that does not exist, it fails (412), as RFC 9110 says.
pub fn upsert_in<R, L, I, C>(
    conn: &mut PgConnection,
    author: &Author,
    actions: UpsertActions,
    if_match: &IfMatch,
    mut find: L,
    insert: I,
    replace: C,
) -> Result<(Upserted, R::View), AppError>
where
    R: Viewed,
    L: FnMut(&mut PgConnection) -> Result<Option<R>, AppError>,
    I: FnOnce(&mut PgConnection) -> Result<Option<R>, AppError>,
    C: FnOnce(&mut PgConnection, R) -> Result<R, AppError>,
{
    let before = match find(conn)? {
        Some(row) => row,
        None => {
            if if_match.is_present() {
                return Err(AppError::PreconditionFailed);
            }
            if let Some(row) = insert(conn)? {
                let view = row.view(conn)?;
                let data = row.data(conn, &view)?;
                audit::record(conn, author, event_of::<R>(actions.created, None, Some((&view, data))))?;
                return Ok((Upserted::Created, view));
            }
            find(conn)?.ok_or_else(|| {
                AppError::Conflict(
                    crate::error::ConflictKind::Conflict,
                    "Another request wrote this key at the same moment; retry.".into(),
                )
            })?
        }
    };
    let before_view = before.view(conn)?;
    let before_tag = before_view.etag();
    if_match.check(&before_tag)?;
    let before_data = before.data(conn, &before_view)?;
    let row = replace(conn, before)?;
    let after = row.view(conn)?;
    if after.etag() == before_tag {
        return Ok((Upserted::Unchanged, after));
    }
    let data = row.data(conn, &after)?;
    let event = event_of::<R>(actions.updated, Some((&before_view, before_data)), Some((&after, data)));
    audit::record(conn, author, event)?;
    Ok((Upserted::Updated, after))
}

/// [`upsert_in`] in a transaction of its own, answered as HTTP: 201 with `Location` when it
/// created, 200 otherwise, with the view and its ETag.
pub async fn upsert<R, L, I, C>(
    state: &AppState,
    author: impl Into<Author>,
    actions: UpsertActions,
    if_match: IfMatch,
    find: L,
    insert: I,
    replace: C,
) -> Result<Tagged<R::View>, AppError>
where
    R: Viewed,
    L: FnMut(&mut PgConnection) -> Result<Option<R>, AppError> + Send + 'static,
    I: FnOnce(&mut PgConnection) -> Result<Option<R>, AppError> + Send + 'static,
    C: FnOnce(&mut PgConnection, R) -> Result<R, AppError> + Send + 'static,
{
    let author = author.into();
    db::transaction(&state.pool, move |conn| {
        let (outcome, view) = upsert_in(conn, &author, actions, &if_match, find, insert, replace)?;
        Ok(match outcome {
            Upserted::Created => {
                let location = view.location();
                Tagged::created(view, location)
            }
            Upserted::Updated | Upserted::Unchanged => Tagged::ok(view),
        })
    })
    .await
}
