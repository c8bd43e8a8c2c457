//! `/v1/customers/{customer_id}/invitations[/{invitation_id}[/resend]]`: listing and reading
//! invitations, inviting people in bulk (its steps are [`super::invite`]), resending and
//! revoking invitations.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::dto::{CreateInvitations, InvitationFilters, InvitationView, InviteResults};
use super::invite::{self, Sender, send_mail};
use super::models::{Invitation, InvitationRow, InvitationStatus};
use super::queries;
use super::{TOKEN_PREFIX, VALIDITY};
use crate::accounts::Actor;
use crate::audit::{self, Author};
use crate::config::Config;
use crate::db::{self, ids::CustomerId, ids::InvitationId};
use crate::error::{AppError, ConflictKind};
use crate::etag::{self, IfMatch};
use crate::extract::{Json, NoBody, Query};
use crate::idempotency::{self, Idempotent, KeyHeader, Recorded};
use crate::mail::throttle;
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::users::{queries as users, rules};
use crate::write::{self, Deleted, Tagged};

/// The invitation `actor` may act on: 404 unless it is within `actor`'s visibility
/// ([`policy::covers`]), so another group's invitation, or one without groups, is as absent to
/// a group-limited admin as a missing one; an owner's invitation is staff's and the owner's
/// only (403).
fn require_may_act(actor: &Actor, row: InvitationRow, now: DateTime<Utc>) -> Result<Invitation, AppError> {
    policy::require_covers(actor, row.terms.data_scope, &row.terms.groups())?;
    rules::require_owner_rights(actor, row.terms.role, row.customer_id)?;
    Ok(Invitation { row, now })
}

/// The write path's lock step: the invitation, locked, as `actor` may act on it, seen at `now`.
fn locking(
    actor: &Actor,
    (customer_id, invitation_id): (CustomerId, InvitationId),
    now: DateTime<Utc>,
) -> impl FnOnce(&mut PgConnection) -> Result<Invitation, AppError> + Send + 'static {
    let actor = actor.clone();
    move |conn| require_may_act(&actor, queries::lock(conn, customer_id, invitation_id)?, now)
}

/// 409 unless the invitation is still open (pending or expired): `accepted` and `revoked` say
/// what to do instead.
fn require_open(invitation: &Invitation, accepted: &str, revoked: &str) -> Result<(), AppError> {
    let refused = match invitation.row.status_at(invitation.now) {
        InvitationStatus::Accepted => accepted,
        InvitationStatus::Revoked => revoked,
        InvitationStatus::Pending | InvitationStatus::Expired => return Ok(()),
    };
    Err(AppError::Conflict(ConflictKind::InvitationState, refused.into()))
}

/// List a customer's invitations
///
/// `status` filters by the status clients see (`expired`: pending past `expires_at`). A caller
/// limited to groups lists only invitations whose groups are all its own (an invitation without
/// groups is for someone who would see everything, so it is not listed).
#[utoipa::path(
    tag = "invitations",
    operation_id = "listInvitations",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), InvitationFilters, PageParams),
    responses(
        (status = 200, description = "A page of invitations.", body = List<InvitationView>),
        sets::SignedIn, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Query(filters): Query<InvitationFilters>,
    page: Page,
) -> Result<web::Json<List<InvitationView>>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let now = state.config.clock.now();
    let within = policy::group_scope(&actor);
    let rows = db::run(&state.pool, move |conn| {
        users::customer_name(conn, customer_id)?;
        queries::list(conn, customer_id, within.as_deref(), filters.status, now, page)
    })
    .await?;
    Ok(web::Json(List::from_rows(rows, page, |row| row.id.into(), |row| InvitationView::new(&row, now))))
}

/// Invite people
///
/// One result per address, in request order: `invited` (the person now exists as an `invited`
/// user and gets a mail with a link valid 7 days) or `skipped` with a `reason` (nothing created
/// or sent): `invalid_email`, `already_a_user` (a person of this customer has the address; or,
/// for a caller limited to groups, an invited person outside them whose invitation expired),
/// `already_invited` (a pending invitation of this customer that has not expired),
/// `not_invitable` (a disposable mail domain, or an address not available to this customer:
/// one reason for both, so the answer never tells whether the address is registered elsewhere),
/// `duplicate_in_request` (the first occurrence counts; case-insensitive). An address whose
/// invitation expired is invited again (same invited user). Role, permissions, groups, address
/// and cost center follow the rules of user creation; a violation is one 422 (or 403: only
/// staff and the owner may invite an owner) for the whole request, and a suspended customer or
/// one with the portal off is one 409. All or nothing: one transaction.
#[utoipa::path(
    tag = "invitations",
    operation_id = "createInvitations",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), KeyHeader),
    request_body(content = CreateInvitations, content_type = "application/json"),
    responses(
        (status = 200, description = "One result per address.", body = InviteResults),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/invitations")]
pub async fn create_invitations(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Idempotent(key, Json(body)): Idempotent<Json<CreateInvitations>>,
) -> Result<Recorded, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let invite::Request { terms, candidates } = invite::validate(&actor, customer_id, body)?;
    let author = Author::from(&actor);
    let sender = Sender::new(actor, &state.config, customer_id, terms);
    idempotency::run(&state, &author, key, move |conn| {
        let sender = Sender::check(conn, sender)?;
        let results = sender.results(conn, candidates)?;
        Recorded::json(StatusCode::OK, None, None, &InviteResults { results })
    })
    .await
}

/// Get an invitation
///
/// For a caller limited to groups, an invitation whose groups are not all its own (or that has
/// none: its person would see everything) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "invitations",
    operation_id = "getInvitation",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("invitation_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The invitation.", body = InvitationView, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/invitations/{invitation_id}")]
pub async fn get_invitation(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, InvitationId)>,
) -> Result<Tagged<InvitationView>, AppError> {
    let (customer_id, invitation_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let row = db::run(&state.pool, move |conn| queries::find(conn, customer_id, invitation_id)).await?;
    policy::require_covers(&actor, row.terms.data_scope, &row.terms.groups())?;
    Ok(Tagged::ok(InvitationView::new(&row, state.config.clock.now())))
}

/// A new link for an open invitation that no newer one replaced, mailed (at most one a minute
/// to one address).
fn renew(
    conn: &mut PgConnection,
    config: &Config,
    inviter_name: &str,
    before: Invitation,
) -> Result<Invitation, AppError> {
    let now = before.now;
    require_open(
        &before,
        "The invitation was accepted already.",
        "The invitation was revoked; invite the person again.",
    )?;
    if queries::superseded(conn, &before.row)? {
        return Err(AppError::Conflict(
            ConflictKind::InvitationState,
            "A newer invitation of this person exists; resend that one.".into(),
        ));
    }
    rules::require_logins_open(conn, before.row.customer_id)?;
    if let Err(retry_after_secs) = throttle::admit(conn, &before.row.email, throttle::Kind::Invitation, now)?
    {
        return Err(AppError::RateLimited { retry_after_secs });
    }
    let customer_name = users::customer_name(conn, before.row.customer_id)?;
    let (token, token_hash) = crate::secrets::new_secret(TOKEN_PREFIX)?;
    let row = queries::renew(conn, &before.row, &token_hash, now, now + VALIDITY)?;
    send_mail(conn, config, &row, (&customer_name, inviter_name), &token)?;
    Ok(Invitation { row, now })
}

/// Resend an invitation
///
/// A pending or expired invitation gets a new link, valid 7 days from now, mailed again; the
/// old link stops working. 409 for an accepted or revoked invitation, for one replaced by a
/// newer invitation of the same person, and while the customer is suspended or its portal is
/// off. Only staff and the owner may resend an owner's invitation (403). At most one mail a
/// minute goes to one address (429 with `Retry-After`, counting the first invitation). Honours
/// `If-Match`. For a caller limited to groups, an invitation whose groups are not all its own
/// (or that has none: its person would see everything) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "invitations",
    operation_id = "resendInvitation",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("invitation_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 200, description = "The invitation with its new expiry.", body = InvitationView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting, sets::Limited,
    )
)]
#[post("/v1/customers/{customer_id}/invitations/{invitation_id}/resend")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, InvitationId)>,
    if_match: IfMatch,
    _body: NoBody,
) -> Result<Tagged<InvitationView>, AppError> {
    let (customer_id, invitation_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let lock = locking(&actor, (customer_id, invitation_id), state.config.clock.now());
    let (config, inviter_name) = (state.config.clone(), actor.name().to_owned());
    let change = move |conn: &mut _, before| renew(conn, &config, &inviter_name, before);
    write::update(&state, &actor, audit::Action::InvitationResent, if_match, lock, change).await
}

/// The link of an open invitation dies, and the person it invited, who never joined, goes.
fn withdraw(conn: &mut PgConnection, before: Invitation) -> Result<Invitation, AppError> {
    require_open(
        &before,
        "The invitation was accepted; delete the user instead.",
        "The invitation was revoked already.",
    )?;
    // Only a person still `invited`; the foreign key then clears `user_id`.
    if let Some(user_id) = before.row.user_id {
        users::delete_invited(conn, before.row.customer_id, user_id)?;
    }
    let row = queries::revoke(conn, &before.row)?;
    Ok(Invitation { row, now: before.now })
}

/// Revoke an invitation
///
/// The link stops working and the invited user (still `invited`) is removed; the invitation
/// stays listed as `revoked`. 409 for an invitation that was accepted or revoked already. Only
/// staff and the owner may revoke an owner's invitation (403). Honours `If-Match`.
/// For a caller limited to groups, an invitation whose groups are not all its own (or that has
/// none: its person would see everything) is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "invitations",
    operation_id = "revokeInvitation",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("invitation_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Revoked."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[delete("/v1/customers/{customer_id}/invitations/{invitation_id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, InvitationId)>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    let (customer_id, invitation_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let lock = locking(&actor, (customer_id, invitation_id), state.config.clock.now());
    // The invitation stays on record, revoked: audited as the change it is.
    write::update(&state, &actor, audit::Action::InvitationRevoked, if_match, lock, withdraw)
        .await
        .map(|_| Deleted)
}
