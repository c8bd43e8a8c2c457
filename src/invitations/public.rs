//! The public side of an invitation, authenticated by the link's token alone:
//! `GET /v1/invitations/lookup` for the portal's accept page and `POST /v1/invitations/accept`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::dto::{AcceptInvitation, AcceptedInvitation, InvitationLookup, LookupParams};
use super::handlers::LOGINS_CLOSED;
use super::models::{InvitationRow, InvitationStatus};
use super::queries;
use crate::accounts::{AccountStatus, UserRow, queries as accounts};
use crate::audit::{self, Author, Event};
use crate::customers::queries as customers;
use crate::db::{self, schema::users};
use crate::error::{AppError, ConflictKind};
use crate::extract::Json;
use crate::identity::passwords;
use crate::identity::sessions;
use crate::openapi::sets;
use crate::origin::Origin;
use crate::state::AppState;

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
    params: web::Query<LookupParams>,
) -> Result<HttpResponse, AppError> {
    validator::Validate::validate(&*params)?;
    let token_hash = crate::secrets::hash_secret(&params.token);
    let now = state.config.clock.now();
    let lookup = db::run(&state.pool, move |conn| {
        let invitation = live(conn, &token_hash, now)?;
        let customer = customers::find(conn, invitation.customer_id)?;
        Ok::<_, AppError>(InvitationLookup {
            email: invitation.email.to_string(),
            customer_name: customer.row.name,
            expires_at: invitation.expires_at,
        })
    })
    .await?;
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
    let (lookup_hash, lookup_clock) = (token_hash.clone(), clock.clone());
    // Checked before the (slow) hashing; the write below re-checks under the row lock.
    let account = db::run(&state.pool, move |conn| {
        let invitation = live(conn, &lookup_hash, lookup_clock.now())?;
        if !accounts::customer_allows_logins(conn, invitation.customer_id)? {
            return Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()));
        }
        let account = accounts::find(conn, invitation.user_id.ok_or(AppError::NotFound)?)?;
        if account.status != AccountStatus::Invited {
            return Err(AppError::NotFound);
        }
        Ok::<_, AppError>(account)
    })
    .await?;
    let email = account.email.as_ref().map(ToString::to_string);
    passwords::check_policy(&body.password, email.as_deref(), "password")
        .map_err(|e| AppError::Validation(vec![e]))?;
    let password_hash = state.hasher.hash(body.password).await?;
    let origin = Origin::of(&req);
    let author = Author::person(&Origin::of(&req), &account);
    let name = body.name.trim().to_owned();
    let lifetimes = state.config.sessions;
    let (user, account, issued) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let now = clock.now();
            // Used up here: of two concurrent accepts exactly one gets the row back.
            let Some(invitation) = queries::consume(conn, &token_hash, now)? else {
                return Err(live(conn, &token_hash, now).err().unwrap_or(AppError::NotFound));
            };
            if !accounts::customer_allows_logins(conn, invitation.customer_id)? {
                return Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()));
            }
            let user_id = invitation.user_id.ok_or(AppError::NotFound)?;
            let activated = diesel::update(
                users::table
                    .find(user_id)
                    .filter(users::customer_id.eq(invitation.customer_id))
                    .filter(users::status.eq(AccountStatus::Invited)),
            )
            .set((
                users::name.eq(&name),
                users::password_hash.eq(&password_hash),
                users::status.eq(AccountStatus::Active),
                users::login_enabled.eq(true),
                users::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
            if activated != 1 {
                return Err(AppError::NotFound);
            }
            let issued = sessions::start(conn, user_id, &origin, &lifetimes, now)?;
            accounts::record_sign_in(conn, user_id)?;
            let account: UserRow = accounts::find(conn, user_id)?;
            let user = crate::users::views::one(conn, &account)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::InvitationAccepted,
                    target_type: audit::Target::Invitation,
                    target_id: invitation.id,
                    customer_id: Some(invitation.customer_id),
                    changes: serde_json::json!({
                        "status": {"from": "pending", "to": "accepted"},
                        "user_id": {"to": user_id},
                    }),
                    visibility: audit::Visibility::person(&invitation.groups()),
                },
            )?;
            Ok::<_, AppError>((user, account, issued))
        })
    })
    .await?;
    tracing::info!(user_id = %account.id, "invitation accepted");
    let tokens = crate::identity::tokens::issue_pair(&state, &account, issued).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(AcceptedInvitation { user, tokens }))
}
