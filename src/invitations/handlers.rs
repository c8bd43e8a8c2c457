//! `/v1/customers/{customer_id}/invitations[/{invitation_id}[/resend]]`: listing and reading
//! invitations, resending and revoking them (inviting is [`super::invite`]).

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{InvitationFilters, InvitationView};
use super::models::{InvitationRow, InvitationStatus};
use super::queries;
use super::{TOKEN_PREFIX, VALIDITY};
use crate::accounts::Actor;
use crate::accounts::{AccountStatus, queries as accounts};
use crate::audit::{self, Author, Event, Visibility};
use crate::config::Config;
use crate::customers::queries as customers;
use crate::db::{self, schema::users};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::NoBody;
use crate::mail::{self, Mail, throttle};
use crate::openapi::sets;
use crate::pagination::{List, PageParams};
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;

pub(super) const LOGINS_CLOSED: &str =
    "The customer is suspended or its portal is switched off, so nobody can be invited to it or join it.";

fn respond(mut response: HttpResponseBuilder, invitation: InvitationView) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of(invitation.updated_at))).json(invitation)
}

pub(super) fn event(
    action: audit::Action,
    before: Option<&InvitationView>,
    after: Option<&InvitationView>,
) -> Event {
    let any = after.or(before);
    Event {
        action,
        target_type: audit::Target::Invitation,
        target_id: any.map(|v| v.id).unwrap_or_default(),
        customer_id: any.map(|v| v.customer_id),
        changes: audit::changes(before, after),
        // An invitation's groups never change: they are the invited person's.
        visibility: Visibility::person(any.map_or(&[][..], |v| &v.group_ids)),
    }
}

/// 404 unless `invitation` is within `actor`'s visibility ([`policy::covers`]): every handler
/// that shows or acts on one invitation checks here, so another group's invitation, or one
/// without groups, is as absent to a group-limited admin as a missing one.
pub(super) fn require_visible_invitation(actor: &Actor, invitation: &InvitationRow) -> Result<(), AppError> {
    policy::require_covers(actor, &invitation.groups())
}

/// A group-limited person may only hand out its own groups (see [`policy::covers`]).
pub(super) fn check_assignable(actor: &Actor, group_ids: &[Uuid]) -> Result<(), AppError> {
    if policy::covers(actor, group_ids) {
        Ok(())
    } else {
        Err(AppError::field(
            "group_ids",
            FieldCode::NotAllowed,
            "you are limited to groups, so you may only assign some of your own groups",
        ))
    }
}

/// Owner invitations are the owner's and staff's business (an admin never may).
pub(super) fn require_for_role(actor: &Actor, role: Role, customer_id: Uuid) -> Result<(), AppError> {
    if role == Role::Owner {
        policy::require(actor, Action::ManageOwner, customer_id)?;
    }
    Ok(())
}

/// "30 November 2026": the day the link stops working, for the mail.
pub(super) fn expires_on(expires_at: DateTime<Utc>) -> String {
    expires_at.format("%-d %B %Y").to_string()
}

/// Queues the invitation mail with the link of `token`.
pub(super) fn send_mail(
    conn: &mut PgConnection,
    config: &Config,
    invitation: &InvitationRow,
    customer_name: &str,
    inviter_name: &str,
    token: &str,
) -> QueryResult<()> {
    let invitation_mail = Mail::Invitation {
        customer_name: customer_name.to_owned(),
        inviter_name: inviter_name.to_owned(),
        link: mail::link(&config.portal_url, "invitations/accept", token),
        expires_on: expires_on(invitation.expires_at),
    };
    mail::enqueue(conn, Some(invitation.customer_id), &invitation.email, &invitation_mail).map(drop)
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
    customer_id: web::Path<Uuid>,
    filters: web::Query<InvitationFilters>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let page = page.page()?;
    let status = filters.status;
    let now = state.config.clock.now();
    let within = policy::group_scope(&actor);
    let rows = db::run(&state.pool, move |conn| {
        customers::find(conn, customer_id)?;
        Ok::<_, AppError>(queries::list(conn, customer_id, within.as_deref(), status, now, page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(List::from_rows(
        rows,
        page,
        |row| row.id,
        |row| InvitationView::new(&row, now),
    )))
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
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, invitation_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let row = db::run(&state.pool, move |conn| queries::find(conn, customer_id, invitation_id)).await?;
    require_visible_invitation(&actor, &row)?;
    Ok(respond(HttpResponse::Ok(), InvitationView::new(&row, state.config.clock.now())))
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
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let (customer_id, invitation_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let author = Author::from(&actor);
    let inviter_name = actor.account.name.clone();
    let config = state.config.clone();
    let view = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let now = config.clock.now();
            let before = queries::lock(conn, customer_id, invitation_id)?;
            require_visible_invitation(&actor, &before)?;
            require_for_role(&actor, before.role, customer_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            match before.status_at(now) {
                InvitationStatus::Accepted => {
                    return Err(AppError::Conflict(
                        ConflictKind::InvitationState,
                        "The invitation was accepted already.".into(),
                    ));
                }
                InvitationStatus::Revoked => {
                    return Err(AppError::Conflict(
                        ConflictKind::InvitationState,
                        "The invitation was revoked; invite the person again.".into(),
                    ));
                }
                InvitationStatus::Pending | InvitationStatus::Expired => {}
            }
            if queries::superseded(conn, &before)? {
                return Err(AppError::Conflict(
                    ConflictKind::InvitationState,
                    "A newer invitation of this person exists; resend that one.".into(),
                ));
            }
            if !accounts::customer_allows_logins(conn, customer_id)? {
                return Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()));
            }
            if let Err(retry_after_secs) =
                throttle::admit(conn, &before.email, throttle::Kind::Invitation, now)?
            {
                return Err(AppError::RateLimited { retry_after_secs });
            }
            let customer = customers::find(conn, customer_id)?;
            let (token, token_hash) = crate::secrets::new_secret(TOKEN_PREFIX)?;
            let after = queries::renew(conn, &before, &token_hash, now, now + VALIDITY)?;
            send_mail(conn, &config, &after, &customer.row.name, &inviter_name, &token)?;
            let (before, after) = (InvitationView::new(&before, now), InvitationView::new(&after, now));
            audit::record(
                conn,
                &author,
                event(audit::Action::InvitationResent, Some(&before), Some(&after)),
            )?;
            Ok::<_, AppError>(after)
        })
    })
    .await?;
    Ok(respond(HttpResponse::Ok(), view))
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
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let (customer_id, invitation_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let author = Author::from(&actor);
    let clock = state.config.clock.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let now = clock.now();
            let before = queries::lock(conn, customer_id, invitation_id)?;
            require_visible_invitation(&actor, &before)?;
            require_for_role(&actor, before.role, customer_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            match before.status_at(now) {
                InvitationStatus::Accepted => {
                    return Err(AppError::Conflict(
                        ConflictKind::InvitationState,
                        "The invitation was accepted; delete the user instead.".into(),
                    ));
                }
                InvitationStatus::Revoked => {
                    return Err(AppError::Conflict(
                        ConflictKind::InvitationState,
                        "The invitation was revoked already.".into(),
                    ));
                }
                InvitationStatus::Pending | InvitationStatus::Expired => {}
            }
            if let Some(user_id) = before.user_id {
                // Only a person who never joined; the foreign key clears `user_id`.
                diesel::delete(
                    users::table
                        .find(user_id)
                        .filter(users::customer_id.eq(customer_id))
                        .filter(users::status.eq(AccountStatus::Invited)),
                )
                .execute(conn)?;
            }
            let after = queries::revoke(conn, &before, now)?;
            let (before, after) = (InvitationView::new(&before, now), InvitationView::new(&after, now));
            audit::record(
                conn,
                &author,
                event(audit::Action::InvitationRevoked, Some(&before), Some(&after)),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
