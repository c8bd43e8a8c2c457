//! The one write path. Every create, change and delete of a resource is one transaction here:
//! lock the row (or, for a create, whatever the insert holds), check `If-Match` against the view
//! the client read, make the change, write the audit event from the views before and after, and
//! answer with the view and its ETag. A handler reads as extract -> authorize -> validate -> one
//! call of [`create`], [`update`] or [`delete`].

use actix_web::body::BoxBody;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder};
use diesel::PgConnection;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::audit::{self, Action, Author, Event, Target, Visibility};
use crate::db;
use crate::error::AppError;
use crate::etag::{self, IfMatch};
use crate::idempotency::{self, Key, Recorded};
use crate::state::AppState;

mod upsert;

pub use upsert::{UpsertActions, Upserted, upsert, upsert_in};

/// A view the write path can audit and answer with.
pub trait Tracked: Serialize + Send + 'static {
    /// What audit events about it name as their target type.
    const TARGET: Target;
    /// Whom audit events are about: its id, and the customer it belongs to (none for staff).
    fn subject(&self) -> (Uuid, Option<Uuid>);
    /// The resource's own path, for `Location`.
    fn location(&self) -> String;
    /// Which readers of the customer's audit log may see events about it.
    fn visibility(&self) -> Visibility {
        Visibility::Everyone
    }

    /// Its ETag: a hash of all of it ([`etag::of_view`]), unless it shows something that moves
    /// without the resource changing (a person's last sign-in), which its ETag then leaves out,
    /// so that an edit begun before does not fail with 412.
    fn etag(&self) -> String
    where
        Self: Sized,
    {
        etag::of_view(self)
    }
}

/// A row (or a row with what belongs to it) that can be shown to a client.
pub trait Viewed: Send + 'static {
    type View: Tracked;
    fn view(&self, conn: &mut PgConnection) -> Result<Self::View, AppError>;

    /// Its public REST view as webhooks send it ([`Event::data`]): `view` itself, unless the
    /// view is another shape (SCIM's representation, `/v1/me`), which then reads the REST one.
    fn data(&self, _: &mut PgConnection, view: &Self::View) -> Result<Option<Value>, AppError> {
        Ok(serde_json::to_value(view).ok())
    }
}

/// A row whose view is made from it alone (`View::from(&row)`), with no query.
pub trait Plain: Send + 'static {
    type View: Tracked + for<'a> From<&'a Self>;
}

impl<R: Plain> Viewed for R {
    type View = R::View;

    fn view(&self, _: &mut PgConnection) -> Result<R::View, AppError> {
        Ok(R::View::from(self))
    }
}

/// A view answered with its ETag (and, when created, `201` and `Location`); or, for a create,
/// the response recorded for its `Idempotency-Key` (the same bytes the first time and on a
/// replay, see [`create_once`]).
pub struct Tagged<T>(Answer<T>);

enum Answer<T> {
    View { status: StatusCode, location: Option<String>, etag: String, view: T },
    Recorded(Recorded),
}

impl<T: Tracked> Tagged<T> {
    /// 200 with the view and its ETag ([`Tracked::etag`]): the one the write path checks
    /// `If-Match` against, so a GET and a PATCH agree.
    pub fn ok(view: T) -> Self {
        Self(Answer::View { status: StatusCode::OK, location: None, etag: view.etag(), view })
    }

    pub fn created(view: T, location: String) -> Self {
        Self(Answer::View { status: StatusCode::CREATED, location: Some(location), etag: view.etag(), view })
    }

    /// The view, unless this is a recorded response (only its bytes are kept).
    pub fn view(&self) -> Option<&T> {
        match &self.0 {
            Answer::View { view, .. } => Some(view),
            Answer::Recorded(_) => None,
        }
    }
}

impl<T: Serialize> Responder for Tagged<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        let (status, location, etag, view) = match self.0 {
            Answer::View { status, location, etag, view } => (status, location, etag, view),
            Answer::Recorded(recorded) => return recorded.respond_to(req),
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::ETAG, etag));
        if let Some(location) = location {
            response.insert_header((header::LOCATION, location));
        }
        response.json(view)
    }
}

/// The answer to a delete: 204, nothing else.
pub struct Deleted;

impl Responder for Deleted {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }
}

/// The event of a change from `before` to `after` (`None`: did not exist), as the write path
/// records it; for changes of many rows in one request (a bulk invitation) that record their
/// own. Its webhook `data` is the view after (before, for a deletion).
pub fn event<V: Tracked>(action: Action, before: Option<&V>, after: Option<&V>) -> Event {
    let (target_id, customer_id) = after.or(before).map(Tracked::subject).unwrap_or_default();
    let visibility = |view: Option<&V>| view.map_or(Visibility::Everyone, Tracked::visibility);
    let json = |view: Option<&V>| view.and_then(|v| serde_json::to_value(v).ok());
    Event {
        action,
        target_type: V::TARGET,
        target_id,
        customer_id,
        changes: audit::changes(before, after),
        visibility: visibility(before).join(visibility(after)),
        data: json(after.or(before)),
        before: if after.is_some() { json(before) } else { None },
    }
}

/// [`event`] with the webhook `data` its rows give ([`Viewed::data`]): the REST views before
/// and after, whatever shape the views have.
fn event_of<R: Viewed>(
    action: Action,
    before: Option<(&R::View, Option<Value>)>,
    after: Option<(&R::View, Option<Value>)>,
) -> Event {
    let mut event = event(action, before.as_ref().map(|b| b.0), after.as_ref().map(|a| a.0));
    let (before, after) = (before.map(|b| b.1), after.map(|a| a.1));
    event.data = match (&before, after) {
        (_, Some(after)) => {
            event.before = before.flatten();
            after
        }
        (Some(before), None) => before.clone(),
        (None, None) => None,
    };
    event
}

/// The one create, inside the caller's transaction: inserts (and whatever `insert` writes with
/// it), audits `action` with the view it made, and gives that view back for the caller to
/// render ([`create_once`] as the REST API's JSON, SCIM as `application/scim+json`).
pub fn created<R: Viewed, E: Into<AppError>>(
    conn: &mut PgConnection,
    author: &Author,
    action: Action,
    insert: impl FnOnce(&mut PgConnection) -> Result<R, E>,
) -> Result<R::View, AppError> {
    let row = insert(conn).map_err(Into::into)?;
    let view = row.view(conn)?;
    let data = row.data(conn, &view)?;
    audit::record(conn, author, event_of::<R>(action, None, Some((&view, data))))?;
    Ok(view)
}

/// [`created`] in a transaction of its own, for a caller that answers the view in its own
/// shape (SCIM: no idempotency keys, its own media type and `meta`).
pub async fn create_view<R, E, F>(
    state: &AppState,
    author: impl Into<Author>,
    action: Action,
    insert: F,
) -> Result<R::View, AppError>
where
    R: Viewed,
    E: Into<AppError>,
    F: FnOnce(&mut PgConnection) -> Result<R, E> + Send + 'static,
{
    let author = author.into();
    db::transaction(&state.pool, move |conn| created(conn, &author, action, insert)).await
}

/// Inserts (and whatever `insert` writes with it), audits `action`, answers 201 with the view.
/// A creating `POST` calls [`create_once`] instead, with the key of its `Idempotent` body.
pub async fn create<R, E, F>(
    state: &AppState,
    author: impl Into<Author>,
    action: Action,
    insert: F,
) -> Result<Tagged<R::View>, AppError>
where
    R: Viewed,
    E: Into<AppError>,
    F: FnOnce(&mut PgConnection) -> Result<R, E> + Send + 'static,
{
    create_once(state, author, Key::none(), action, insert).await
}

/// [`create`], once per `Idempotency-Key` of the caller (see [`idempotency`]): the view is
/// serialized inside the transaction, recorded for the key in it, and answered as those bytes;
/// a retry with the key gets them again (`Idempotent-Replayed: true`) and creates nothing.
pub async fn create_once<R, E, F>(
    state: &AppState,
    author: impl Into<Author>,
    key: Key,
    action: Action,
    insert: F,
) -> Result<Tagged<R::View>, AppError>
where
    R: Viewed,
    E: Into<AppError>,
    F: FnOnce(&mut PgConnection) -> Result<R, E> + Send + 'static,
{
    let author = author.into();
    let caller = author.clone();
    let recorded = idempotency::run(state, &caller, key, move |conn| {
        let view = created(conn, &author, action, insert)?;
        Recorded::json(StatusCode::CREATED, Some(view.location()), Some(view.etag()), &view)
    })
    .await?;
    Ok(Tagged(Answer::Recorded(recorded)))
}

/// [`create_once`] for a resource whose creation shows a secret once (an API client's secret,
/// a long-lived token): the first answer is `shown(view, Some(secret))`; a replay gets
/// `shown(view, None)`, because a secret is kept only as its hash, never in a recorded answer.
pub async fn create_revealing<R, E, F, S>(
    state: &AppState,
    author: impl Into<Author>,
    key: Key,
    action: Action,
    secret: String,
    insert: F,
    shown: fn(R::View, Option<String>) -> S,
) -> Result<Recorded, AppError>
where
    R: Viewed,
    R::View: Clone,
    E: Into<AppError>,
    F: FnOnce(&mut PgConnection) -> Result<R, E> + Send + 'static,
    S: Serialize + 'static,
{
    let author = author.into();
    let caller = author.clone();
    idempotency::run(state, &caller, key, move |conn| {
        let view = created(conn, &author, action, insert)?;
        let (location, etag) = (Some(view.location()), Some(view.etag()));
        let kept = shown(view.clone(), None);
        Recorded::revealing(StatusCode::CREATED, location, etag, &kept, &shown(view, Some(secret)))
    })
    .await
}

/// Locks the row, checks `If-Match` against its view, changes it, audits `action` with both
/// views, answers 200 with the new view. A change that leaves the view exactly as it was (a
/// deactivation of someone deactivated: `change` returns the row untouched) is no event.
pub async fn update<R, E1, E2, L, C>(
    state: &AppState,
    author: impl Into<Author>,
    action: Action,
    if_match: IfMatch,
    lock: L,
    change: C,
) -> Result<Tagged<R::View>, AppError>
where
    R: Viewed,
    E1: Into<AppError>,
    E2: Into<AppError>,
    L: FnOnce(&mut PgConnection) -> Result<R, E1> + Send + 'static,
    C: FnOnce(&mut PgConnection, R) -> Result<R, E2> + Send + 'static,
{
    let author = author.into();
    db::transaction(&state.pool, move |conn| {
        let before = lock(conn).map_err(Into::into)?;
        let before_view = before.view(conn)?;
        let before_tag = before_view.etag();
        if_match.check(&before_tag)?;
        let before_data = before.data(conn, &before_view)?;
        let row = change(conn, before).map_err(Into::into)?;
        let after = row.view(conn)?;
        let after_tag = after.etag();
        if after_tag != before_tag {
            let data = row.data(conn, &after)?;
            let event = event_of::<R>(action, Some((&before_view, before_data)), Some((&after, data)));
            audit::record(conn, &author, event)?;
        }
        Ok(Tagged(Answer::View { status: StatusCode::OK, location: None, etag: after_tag, view: after }))
    })
    .await
}

/// What a removal adds to its audit event besides the view the resource had: nothing (`()`),
/// or what went with it that the view does not show (a group's former members).
#[derive(Debug, Default)]
pub struct Removed(Map<String, Value>);

impl Removed {
    /// Records that `field` was `from` and is gone with the resource.
    pub fn with(mut self, field: &str, from: Value) -> Self {
        self.0.insert(field.to_owned(), serde_json::json!({ "from": from }));
        self
    }
}

impl From<()> for Removed {
    fn from(_: ()) -> Self {
        Self::default()
    }
}

/// Locks the row, checks `If-Match` against its view, removes it, audits `action` with the view
/// it had (and whatever `remove` says went with it, see [`Removed`]), answers 204.
pub async fn delete<R, E1, E2, L, D, G>(
    state: &AppState,
    author: impl Into<Author>,
    action: Action,
    if_match: IfMatch,
    lock: L,
    remove: D,
) -> Result<Deleted, AppError>
where
    R: Viewed,
    E1: Into<AppError>,
    E2: Into<AppError>,
    G: Into<Removed>,
    L: FnOnce(&mut PgConnection) -> Result<R, E1> + Send + 'static,
    D: FnOnce(&mut PgConnection, R) -> Result<G, E2> + Send + 'static,
{
    let author = author.into();
    db::transaction(&state.pool, move |conn| {
        let before = lock(conn).map_err(Into::into)?;
        let before_view = before.view(conn)?;
        if_match.check(&before_view.etag())?;
        let before_data = before.data(conn, &before_view)?;
        let Removed(gone) = remove(conn, before).map_err(Into::into)?.into();
        let mut event = event_of::<R>(action, Some((&before_view, before_data)), None);
        if let Value::Object(changes) = &mut event.changes {
            changes.extend(gone);
        }
        audit::record(conn, &author, event)?;
        Ok(Deleted)
    })
    .await
}
