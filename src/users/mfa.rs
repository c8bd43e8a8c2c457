//! An admin's MFA reset of a customer user: for the person who lost its authenticator and its
//! recovery codes. The person signs in with its password again and enrols anew (at once, when
//! the customer requires MFA).

use actix_web::{post, web};
use diesel::PgConnection;

use super::dto::UserView;
use super::models::User;
use super::rules;
use crate::accounts::{Actor, mails, queries as accounts};
use crate::audit;
use crate::config::Config;
use crate::db::ids::{CustomerId, UserId};
use crate::error::AppError;
use crate::etag::IfMatch;
use crate::extract::NoBody;
use crate::identity::{challenges, sessions};
use crate::openapi::sets;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Tagged};

/// Switches `before`'s MFA off, ends its sessions and step tokens and mails it; a person
/// without MFA is left as it is (no event, no mail).
fn reset(conn: &mut PgConnection, config: &Config, before: User) -> Result<User, AppError> {
    if !before.row.mfa_enabled() {
        return Ok(before);
    }
    let row = accounts::clear_mfa(conn, before.row.id)?;
    sessions::end_all_for_user(conn, before.id(), sessions::reason::MFA_CHANGED)?;
    challenges::end_all_for_user(conn, before.row.id)?;
    mails::send_mfa_reset(conn, config, &row)?;
    Ok(User { row, groups: before.groups })
}

/// Reset a user's MFA
///
/// Switches the user's TOTP off: its secret and recovery codes are deleted, every session and
/// open sign-in step ends, and the user is mailed. It signs in with its password again and sets
/// MFA up anew (at its next sign-in, when the customer requires MFA). A user without MFA is
/// answered as it is (200, nothing changes, no mail). The owner only by staff or the owner
/// (403); your own MFA is switched off with `DELETE /v1/me/mfa/totp` (409); never in a support
/// session (403). For a caller limited to groups, a user outside them is a 404.
#[utoipa::path(
    tag = "users",
    operation_id = "resetUserMfa",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The user, MFA off.", body = UserView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/users/{user_id}/mfa/reset")]
pub async fn reset_user_mfa(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, UserId)>,
    _body: NoBody,
) -> Result<Tagged<UserView>, AppError> {
    let (customer_id, user_id) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    policy::refuse_impersonated(&actor)?;
    rules::not_self(&actor, user_id, "Switch your own MFA off with DELETE /v1/me/mfa/totp.")?;
    let config = state.config.clone();
    let lock = rules::locking(&actor, customer_id, user_id);
    let change = move |conn: &mut _, before| reset(conn, &config, before);
    // Not conditional: switching MFA off twice is switching it off once.
    write::update(&state, &actor, audit::Action::UserMfaReset, IfMatch::default(), lock, change).await
}
