//! Listing and ending sessions: one's own, a customer user's (its admins) and a staff member's
//! (`staff.manage`). The person is found the way its own endpoints find it, so what an admin
//! cannot see there (another group's people, the owner for an admin) it cannot see here.

use actix_web::{delete, get, web};
use diesel::PgConnection;
use uuid::Uuid;

use super::dto::SessionView;
use crate::accounts::Actor;
use crate::audit::{self, Author, Event, Target, Visibility};
use crate::db::{
    self,
    ids::{CustomerId, SessionId, UserId},
};
use crate::error::AppError;
use crate::identity::challenges;
use crate::identity::sessions::{self, EndReason};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::Deleted;
use crate::{staff, users};

/// Whose sessions: the person, and how its audit events are filed and seen.
struct Holder {
    user_id: UserId,
    customer_id: Option<Uuid>,
    target: Target,
    visibility: Visibility,
}

impl Holder {
    fn of_actor(actor: &Actor) -> Result<Self, AppError> {
        let account = actor.require_person()?;
        Ok(Self {
            user_id: account.id.into(),
            customer_id: account.customer_id,
            target: if account.customer_id.is_some() { Target::User } else { Target::Staff },
            visibility: Visibility::person(actor.data_scope, &actor.groups),
        })
    }

    fn of_user(user: &users::models::User) -> Self {
        Self {
            user_id: user.row.id.into(),
            customer_id: user.row.customer_id,
            target: Target::User,
            visibility: Visibility::person(user.row.data_scope, &user.groups),
        }
    }

    fn of_staff(staff_id: UserId) -> Self {
        Self { user_id: staff_id, customer_id: None, target: Target::Staff, visibility: Visibility::Everyone }
    }

    fn ended(&self, ended: &[SessionId]) -> Event {
        Event {
            action: audit::Action::UserSessionEnded,
            target_type: self.target,
            target_id: self.user_id.into(),
            customer_id: self.customer_id,
            changes: serde_json::json!({ "session_ids": {"from": ended, "to": []} }),
            visibility: self.visibility.clone(),
            data: None,
            before: None,
        }
    }
}

const SUPPORT_ENDS_ITSELF: &str = "Not in a support session: a support session can end only itself.";

/// Under impersonation only the support session itself may be ended (`own`: the one asked to
/// end, `None` for several).
fn refuse_impersonated_unless(actor: &Actor, only: Option<SessionId>) -> Result<(), AppError> {
    if actor.impersonator().is_some() && (only.is_none() || only != actor.session_id()) {
        return Err(AppError::Forbidden(SUPPORT_ENDS_ITSELF.into()));
    }
    Ok(())
}

type Resolve = Box<dyn FnOnce(&mut PgConnection, &Actor) -> Result<Holder, AppError> + Send>;

async fn list(
    state: &AppState,
    actor: Actor,
    resolve: Resolve,
    page: Page,
) -> Result<web::Json<List<SessionView>>, AppError> {
    let (lifetimes, now) = (state.config.sessions, state.config.clock.now());
    let current = actor.session_id();
    let rows = db::run(&state.pool, move |conn| {
        let holder = resolve(conn, &actor)?;
        Ok::<_, AppError>(sessions::list_live(conn, holder.user_id, &lifetimes, now, page)?)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |s| s.id.into(), |s| SessionView::of(s, current))))
}

async fn end_one(
    state: &AppState,
    actor: Actor,
    resolve: Resolve,
    session_id: SessionId,
) -> Result<Deleted, AppError> {
    refuse_impersonated_unless(&actor, Some(session_id))?;
    let (lifetimes, now) = (state.config.sessions, state.config.clock.now());
    let author = Author::from(&actor);
    db::transaction(&state.pool, move |conn| {
        let holder = resolve(conn, &actor)?;
        sessions::find_live(conn, holder.user_id, session_id, &lifetimes, now)?.ok_or(AppError::NotFound)?;
        sessions::revoke(conn, session_id, EndReason::Ended)?;
        audit::record(conn, &author, holder.ended(&[session_id]))?;
        Ok(())
    })
    .await?;
    Ok(Deleted)
}

async fn end_all(state: &AppState, actor: Actor, resolve: Resolve) -> Result<Deleted, AppError> {
    refuse_impersonated_unless(&actor, None)?;
    let author = Author::from(&actor);
    db::transaction(&state.pool, move |conn| {
        let holder = resolve(conn, &actor)?;
        // The caller's own session stays: "sign out everywhere else".
        let ended = sessions::end_all_but(conn, holder.user_id, actor.session_id(), EndReason::Ended)?;
        if !ended.is_empty() {
            audit::record(conn, &author, holder.ended(&ended))?;
        }
        Ok(())
    })
    .await?;
    Ok(Deleted)
}

fn me() -> Resolve {
    Box::new(|_, actor| Holder::of_actor(actor))
}

/// The user as its own endpoints find it: of the customer, visible to the caller, the owner
/// only for staff and the owner; locked when the caller ends sessions.
fn customer_user(customer_id: CustomerId, user_id: UserId, lock: bool) -> Resolve {
    Box::new(move |conn, actor| {
        let user = if lock {
            users::rules::lock_for(conn, actor, customer_id, user_id)?
        } else {
            let row = users::queries::find(conn, customer_id, user_id)?;
            users::rules::require_may_act(conn, actor, row)?
        };
        Ok(Holder::of_user(&user))
    })
}

fn staff_member(staff_id: UserId) -> Resolve {
    Box::new(move |conn, _| {
        staff::queries::find(conn, staff_id)?;
        Ok(Holder::of_staff(staff_id))
    })
}

// ----- one's own -----------------------------------------------------------------------

/// List my sessions
///
/// The caller's live sessions (not ended, younger than `SESSION_MAX_AGE`, used within
/// `SESSION_IDLE_TIMEOUT`, before a support session's end), newest first; `current` marks the
/// one asking. A support session opened by staff shows here with `impersonated_by` and its
/// reason.
#[utoipa::path(
    tag = "me",
    operation_id = "listMySessions",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of sessions.", body = List<SessionView>),
        sets::SignedIn, sets::Query, sets::Forbidden,
    )
)]
#[get("/v1/me/sessions")]
pub async fn list_my_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    page: Page,
) -> Result<web::Json<List<SessionView>>, AppError> {
    list(&state, actor, me(), page).await
}

/// End one of my sessions
///
/// Its access and refresh tokens stop working at once. Another person's session id is a 404.
/// In a support session only that session itself can be ended (403).
#[utoipa::path(
    tag = "me",
    operation_id = "endMySession",
    security(("bearer" = [])),
    params(("session_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/me/sessions/{session_id}")]
pub async fn end_my_session(
    state: web::Data<AppState>,
    actor: Actor,
    session_id: web::Path<SessionId>,
) -> Result<Deleted, AppError> {
    end_one(&state, actor, me(), session_id.into_inner()).await
}

/// End my other sessions
///
/// Signs out everywhere else: every session but the one asking ends at once. Not in a
/// support session (403).
#[utoipa::path(
    tag = "me",
    operation_id = "endMyOtherSessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every other session ended."),
        sets::SignedIn, sets::Forbidden,
    )
)]
#[delete("/v1/me/sessions")]
pub async fn end_my_other_sessions(state: web::Data<AppState>, actor: Actor) -> Result<Deleted, AppError> {
    end_all(&state, actor, me()).await
}

// ----- a customer's users ----------------------------------------------------------------

/// List a user's sessions
///
/// The user's live sessions, newest first, as in `GET /v1/me/sessions`. Owner and admins
/// (`users.manage`); the owner's sessions only for staff and the owner (403). For a caller
/// limited to groups, a user outside them is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "listUserSessions",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of sessions.", body = List<SessionView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/users/{user_id}/sessions")]
pub async fn list_user_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
    page: Page,
) -> Result<web::Json<List<SessionView>>, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    list(&state, actor, customer_user(customer_id, user_id, false), page).await
}

/// End a user's session
///
/// Its access and refresh tokens stop working at once; audited as `user.session_ended`.
/// Rights as for listing them; a session of someone else is a 404.
#[utoipa::path(
    tag = "users",
    operation_id = "endUserSession",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/users/{user_id}/sessions/{session_id}")]
pub async fn end_user_session(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId, SessionId)>,
) -> Result<Deleted, AppError> {
    let (customer_id, user_id, session_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    end_one(&state, actor, customer_user(customer_id, user_id, true), session_id).await
}

/// End all of a user's sessions
///
/// Signs the user out everywhere (the caller's own session stays, if it is the user's);
/// audited as `user.session_ended`. Rights as for listing them.
#[utoipa::path(
    tag = "users",
    operation_id = "endUserSessions",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/users/{user_id}/sessions")]
pub async fn end_user_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
) -> Result<Deleted, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    end_all(&state, actor, customer_user(customer_id, user_id, true)).await
}

/// End every session of a customer's people
///
/// Signs everyone of the customer out everywhere at once, without suspending it: after a
/// leak, or to make everyone sign in again under a new rule. Their access tokens stop at once,
/// and sign-ins half done (a password given, the code not yet) cannot complete. The caller's
/// own session stays. API clients hold no sessions: revoke their tokens under
/// `/api-clients`. Staff who see the customer, and its owner (an admin gets 403: it would sign
/// the owner out); never from a support session. Audited once as `customer.sessions_ended`
/// with how many ended (`changes.sessions`), even when none.
#[utoipa::path(
    tag = "customers",
    operation_id = "endCustomerSessions",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/customers/{customer_id}/sessions")]
pub async fn end_customer_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
) -> Result<Deleted, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::EndCustomerSessions, customer_id)?;
    refuse_impersonated_unless(&actor, None)?;
    let author = Author::from(&actor);
    let keep = actor.session_id();
    db::transaction(&state.pool, move |conn| {
        // Under the customer's lock, so a deletion racing it leaves nothing half done.
        crate::customers::queries::lock(conn, customer_id)?;
        let ended = sessions::end_all_for_customer(conn, customer_id, keep, EndReason::Ended)?;
        challenges::end_all_for_customer(conn, customer_id.into())?;
        let event = Event {
            action: audit::Action::CustomerSessionsEnded,
            target_type: Target::Customer,
            target_id: customer_id.into(),
            customer_id: Some(customer_id.into()),
            changes: serde_json::json!({"sessions": {"from": ended, "to": 0}}),
            // A count over every group's people: for readers who see them all.
            visibility: Visibility::Unlimited,
            data: None,
            before: None,
        };
        audit::record(conn, &author, event)?;
        Ok(())
    })
    .await?;
    Ok(Deleted)
}

// ----- staff ---------------------------------------------------------------------------------

/// List a staff member's sessions
///
/// As `GET /v1/me/sessions`, for a staff member (`staff.manage`).
#[utoipa::path(
    tag = "staff",
    operation_id = "listStaffSessions",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path), PageParams),
    responses(
        (status = 200, description = "A page of sessions.", body = List<SessionView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/staff/{staff_id}/sessions")]
pub async fn list_staff_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    staff_id: web::Path<UserId>,
    page: Page,
) -> Result<web::Json<List<SessionView>>, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    list(&state, actor, staff_member(staff_id.into_inner()), page).await
}

/// End a staff member's session
///
/// Its tokens stop working at once; audited as `user.session_ended` (target staff).
#[utoipa::path(
    tag = "staff",
    operation_id = "endStaffSession",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/staff/{staff_id}/sessions/{session_id}")]
pub async fn end_staff_session(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(UserId, SessionId)>,
) -> Result<Deleted, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let (staff_id, session_id) = path.into_inner();
    end_one(&state, actor, staff_member(staff_id), session_id).await
}

/// End all of a staff member's sessions
///
/// Signs the staff member out everywhere (the caller's own session stays); audited.
#[utoipa::path(
    tag = "staff",
    operation_id = "endStaffSessions",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Ended."),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[delete("/v1/staff/{staff_id}/sessions")]
pub async fn end_staff_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    staff_id: web::Path<UserId>,
) -> Result<Deleted, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    end_all(&state, actor, staff_member(staff_id.into_inner())).await
}
