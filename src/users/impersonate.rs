//! Support impersonation (RFC 8693 `act`): a staff member signs in as one of a customer's
//! people for at most 15 minutes, for a stated reason the customer's admins can read.

use std::time::Duration;

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};

use super::dto::{Impersonate, ImpersonationToken};
use super::rules;
use crate::accounts::{Actor, queries as accounts};
use crate::audit::{self, Author, Event, Visibility};
use crate::db::ids::{CustomerId, SessionId, UserId};
use crate::db::{self};
use crate::error::{AppError, ConflictKind};
use crate::extract::Json;
use crate::identity::sessions;
use crate::identity::tokens::{self, AccessClaims, ActClaim, TokenType};
use crate::openapi::sets;
use crate::origin::Origin;
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;

/// The longest a support session lives, whatever `ACCESS_TOKEN_TTL` says: long enough to
/// look at a problem, short enough that a forgotten token is soon worthless.
const SUPPORT_SESSION: Duration = Duration::from_secs(15 * 60);

/// Impersonate a user
///
/// Starts a support session as the user and answers its access token: `sub` is the user,
/// `act.sub` the staff member, `amr` is `[]` (the user proved nothing), and it has the user's
/// role, permissions and groups. No refresh token; the session ends after 15 minutes (or
/// `ACCESS_TOKEN_TTL` when shorter), or at once when the staff member can no longer sign in,
/// and it shows in the user's session list. Platform
/// admins, and dispatchers for the customers of their scope; a customer's own people and API
/// clients get 403, and so does a dispatcher for the owner (a platform admin only). The user
/// must be able to sign in (active, with a login, of an active customer with its portal on;
/// else 409). Audited as `user.impersonated` with the reason, which the customer's admins
/// read in its audit log. With a support session's token, passwords, MFA and ownership
/// cannot be changed and nobody can be impersonated (403).
#[utoipa::path(
    tag = "users",
    operation_id = "impersonateUser",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    request_body(content = Impersonate, content_type = "application/json"),
    responses(
        (status = 201, description = "The support session's access token.", body = ImpersonationToken),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/users/{user_id}/impersonate")]
pub async fn impersonate_user(
    state: web::Data<AppState>,
    actor: Actor,
    origin: Origin,
    path: web::Path<(CustomerId, UserId)>,
    Json(body): Json<Impersonate>,
) -> Result<HttpResponse, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::Impersonate, customer_id)?;
    policy::refuse_impersonated(&actor)?;
    let reason = body.reason.trim().to_owned();
    let config = state.config.clone();
    let now = config.clock.now();
    let ttl = SUPPORT_SESSION.min(config.access_token_ttl);
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(15));
    let author = Author::from(&actor);
    let staff_id = actor.id();
    let (account, groups, session_id) = db::transaction(&state.pool, move |conn| {
        let user = rules::lock_for(conn, &actor, customer_id, user_id)?;
        if user.row.role == Role::Owner && actor.role() != Some(Role::PlatformAdmin) {
            return Err(AppError::Forbidden("Only a platform admin may impersonate the owner.".into()));
        }
        if !accounts::may_sign_in(conn, &user.row, now)? {
            return Err(AppError::Conflict(
                ConflictKind::UserState,
                "The user cannot sign in (not active, no login, or its customer closed): there is nobody to act as."
                    .into(),
            ));
        }
        let session_id =
            sessions::start_support(conn, user_id, staff_id, &reason, &origin, now, expires_at)?;
        audit::record(conn, &author, impersonated(&user, &reason, session_id, expires_at))?;
        let groups = accounts::groups_of(conn, &user.row)?;
        Ok((user.row, groups, session_id))
    })
    .await?;
    let mut claims = AccessClaims::for_account(
        &account,
        &groups,
        session_id,
        &[],
        &config.jwt_issuer,
        &config.jwt_audience,
        ttl,
        now,
    );
    claims.exp = expires_at.timestamp();
    claims.act = Some(ActClaim { sub: staff_id });
    let access_token = tokens::sign(&state.keys, &claims).await?;
    Ok(HttpResponse::Created().json(ImpersonationToken {
        access_token,
        token_type: TokenType::Bearer,
        expires_in: ttl.as_secs(),
    }))
}

/// The event names the user and says why; as visible as the user, so the customer's admins
/// who see the person see who acted as it and why.
fn impersonated(
    user: &super::models::User,
    reason: &str,
    session_id: SessionId,
    until: DateTime<Utc>,
) -> Event {
    Event {
        action: audit::Action::UserImpersonated,
        target_type: audit::Target::User,
        target_id: user.row.id,
        customer_id: user.row.customer_id,
        changes: serde_json::json!({
            "reason": {"to": reason},
            "session_id": {"to": session_id},
            "expires_at": {"to": until},
        }),
        visibility: Visibility::person(user.row.data_scope, &user.groups),
        data: None,
        before: None,
    }
}
