//! The public side of an invitation, authenticated by the link's token alone:
//! `GET /v1/invitations/lookup` for the portal's accept page and `POST /v1/invitations/accept`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::dto::{AcceptInvitation, AcceptedInvitation, InvitationLookup, LookupParams};
use super::models::{InvitationRow, InvitationStatus};
use super::queries;
use crate::accounts::{AccountStatus, Amr, UserRow, queries as accounts};
use crate::audit::{self, Author, Event};
use crate::db;
use crate::error::AppError;
use crate::extract::{Json, Query};
use crate::identity::steps::{self, SignInResponse};
use crate::openapi::sets;
use crate::origin::Origin;
use crate::state::AppState;
use crate::users::dto::UserView;
use crate::users::{queries as users, rules, views};

const EXPIRED: &str = "The invitation has expired; ask the person who invited you to send it again.";

/// The live invitation of a token: 404 when the token is unknown, replaced by a resend,
/// revoked or used; 410 when it expired.
fn live(conn: &mut PgConnection, token_hash: &[u8], now: DateTime<Utc>) -> Result<InvitationRow, AppError> {
    let invitation = queries::by_token(conn, token_hash)?.ok_or(AppError::NotFound)?;
    match invitation.status_at(now) {
        InvitationStatus::Pending => Ok(invitation),
        InvitationStatus::Expired => Err(AppError::Gone(EXPIRED.into())),
        InvitationStatus::Accepted | InvitationStatus::Revoked => Err(AppError::NotFound),
    }
}

/// What the accept page of a live token shows.
fn lookup(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<InvitationLookup, AppError> {
    let invitation = live(conn, token_hash, now)?;
    let customer_name = users::customer_name(conn, invitation.customer_id)?;
    Ok(InvitationLookup {
        email: invitation.email.to_string(),
        customer_name,
        expires_at: invitation.expires_at,
    })
}

/// The invited person a live token lets join (404 once it joined), while its customer takes
/// logins (409): read before the (slow) hashing of the password it chose.
fn joining(conn: &mut PgConnection, token_hash: &[u8], now: DateTime<Utc>) -> Result<UserRow, AppError> {
    let invitation = live(conn, token_hash, now)?;
    rules::require_logins_open(conn, invitation.customer_id)?;
    let account = accounts::find(conn, invitation.user_id.ok_or(AppError::NotFound)?.into())?;
    if account.status != AccountStatus::Invited {
        return Err(AppError::NotFound);
    }
    Ok(account)
}

/// Uses the token up and makes its invited person an active user with `name` and the
/// password; of two concurrent accepts exactly one gets here.
fn join(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
    (name, password_hash): (&str, &str),
) -> Result<(InvitationRow, UserRow), AppError> {
    let Some(invitation) = queries::consume(conn, token_hash, now)? else {
        return Err(live(conn, token_hash, now).err().unwrap_or(AppError::NotFound));
    };
    rules::require_logins_open(conn, invitation.customer_id)?;
    let user_id = invitation.user_id.ok_or(AppError::NotFound)?;
    let joined = users::activate_invited(conn, invitation.customer_id, user_id, name, password_hash)?;
    joined.map(|account| (invitation, account)).ok_or(AppError::NotFound)
}

/// The invitation was accepted: as hidden as the person who joined.
fn accepted(invitation: &InvitationRow, now: DateTime<Utc>) -> Event {
    let view = super::dto::InvitationView::new(invitation, now);
    Event {
        action: audit::Action::InvitationAccepted,
        target_type: audit::Target::Invitation,
        target_id: invitation.id.into(),
        customer_id: Some(invitation.customer_id.into()),
        changes: serde_json::json!({
            "status": {"from": "pending", "to": "accepted"},
            "user_id": {"to": invitation.user_id},
        }),
        visibility: audit::Visibility::person(invitation.terms.data_scope, &invitation.terms.groups()),
        data: serde_json::to_value(view).ok(),
        before: None,
    }
}

/// The person the invitation made, for webhooks only (`user.created`, and the groups it
/// joined): the audit log has it as the invitation's `user_id`.
fn person_joined(user: &UserView) -> Event {
    Event {
        action: audit::Action::UserCreated,
        target_type: audit::Target::User,
        target_id: user.id,
        customer_id: Some(user.customer_id),
        changes: serde_json::json!({}),
        visibility: audit::Visibility::person(user.data_scope, &user.group_ids),
        data: serde_json::to_value(user).ok(),
        before: None,
    }
}

/// Look up an invitation
///
/// What the portal needs to render the accept page of `{PORTAL_URL}/invitations/accept?token=`.
/// No authentication: the token is the credential. 404 for a token that is unknown, revoked,
/// replaced by a resend or already accepted; 410 once it expired.
#[utoipa::path(
    tag = "invitations",
    operation_id = "lookupInvitation",
    params(LookupParams),
    responses(
        (status = 200, description = "The invitation is open.", body = InvitationLookup),
        sets::Query, sets::Served, sets::Missing, sets::Expiring,
    )
)]
#[get("/v1/invitations/lookup")]
pub async fn lookup_invitation(
    state: web::Data<AppState>,
    Query(params): Query<LookupParams>,
) -> Result<HttpResponse, AppError> {
    let token_hash = crate::secrets::hash_secret(&params.token);
    let now = state.config.clock.now();
    let lookup = db::run(&state.pool, move |conn| lookup(conn, &token_hash, now)).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(lookup))
}

/// Accept an invitation
///
/// The invited user becomes `active` with this name and password (12 to 128 characters, not
/// the e-mail address, not common or easy to guess) and is signed in: the answer holds the user and
/// a token pair. The token works once, also when two accepts race. 404 for a token that is
/// unknown, revoked, replaced by a resend or already used; 410 once it expired; 409 while the
/// customer is suspended or its portal is off.
#[utoipa::path(
    tag = "invitations",
    operation_id = "acceptInvitation",
    request_body(content = AcceptInvitation, content_type = "application/json"),
    responses(
        (status = 201, description = "Joined and signed in.", body = AcceptedInvitation),
        sets::Body, sets::Served, sets::Missing, sets::Conflicting, sets::Expiring,
    )
)]
#[post("/v1/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<AcceptInvitation>,
) -> Result<HttpResponse, AppError> {
    let token_hash = crate::secrets::hash_secret(&body.token);
    let clock = state.config.clock.clone();
    let (lookup_hash, now) = (token_hash.clone(), clock.now());
    // Checked before the (slow) hashing; the write below re-checks under the row lock.
    let account = db::run(&state.pool, move |conn| joining(conn, &lookup_hash, now)).await?;
    let login = account.email.as_ref().map(ToString::to_string);
    let password_hash = rules::hash_password(&state.hasher, body.password, login.as_deref()).await?;
    let origin = Origin::of(&req);
    let author = Author::person(&origin, &account);
    let name = body.name.trim().to_owned();
    let config = state.config.clone();
    let (user, account, proceed) = db::transaction(&state.pool, move |conn| {
        let now = clock.now();
        let (invitation, joined) = join(conn, &token_hash, now, (&name, &password_hash))?;
        let proceed = steps::proceed(conn, &config, &joined, vec![Amr::Pwd], &origin)?;
        let account = accounts::find(conn, joined.id)?;
        let user = views::one(conn, &account)?;
        audit::record(conn, &author, accepted(&invitation, now))?;
        audit::announce(conn, &person_joined(&user))?;
        Ok((user, account, proceed))
    })
    .await?;
    tracing::info!(user_id = %account.id, "invitation accepted");
    let tokens = SignInResponse::of(&state, &account, proceed).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(AcceptedInvitation { user, tokens }))
}
