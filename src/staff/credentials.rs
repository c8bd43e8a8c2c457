//! A staff member's credentials as a platform admin manages them: a password set for the
//! person (temporary or not) and an MFA reset.

use actix_web::{HttpResponse, post, web};
use diesel::PgConnection;
use uuid::Uuid;

use super::dto::StaffView;
use super::models::Staff;
use super::queries;
use crate::accounts::{Actor, mails, password_tokens, queries as accounts};
use crate::audit::{self, Author, Event, Visibility};
use crate::config::Config;
use crate::db::{self, ids::UserId, types::Email};
use crate::error::{AppError, ConflictKind};
use crate::etag::IfMatch;
use crate::extract::{Json, NoBody};
use crate::identity::{challenges, passwords, sessions};
use crate::openapi::sets;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::users::dto::SetPassword;
use crate::write::{self, Tagged};

fn not_self(actor: &Actor, staff_id: UserId, detail: &str) -> Result<(), AppError> {
    if Uuid::from(staff_id) == actor.id() {
        return Err(AppError::Conflict(ConflictKind::OwnAccount, detail.into()));
    }
    Ok(())
}

/// Set a staff member's password
///
/// A platform admin sets the password directly (policy: 12 to 128 characters, not the e-mail,
/// not common or easy to guess). The person's sessions and open password links end.
/// `temporary` (default `OPERATOR_PASSWORDS_TEMPORARY`) makes the person replace it at its next
/// sign-in (`password_change_required`, `POST /v1/auth/password/change`). For your own
/// password use `POST /v1/me/password` (409).
#[utoipa::path(
    tag = "staff",
    operation_id = "setStaffPassword",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path)),
    request_body(content = SetPassword, content_type = "application/json"),
    responses(
        (status = 204, description = "The password is set."),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/staff/{staff_id}/password")]
pub async fn set_staff_password(
    state: web::Data<AppState>,
    actor: Actor,
    staff_id: web::Path<UserId>,
    Json(body): Json<SetPassword>,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    policy::refuse_impersonated(&actor)?;
    let staff_id = staff_id.into_inner();
    not_self(&actor, staff_id, "Change your own password with POST /v1/me/password.")?;
    // Read before the (slow) hashing, which needs the login.
    let Staff(target) = db::run(&state.pool, move |conn| queries::find(conn, staff_id)).await?;
    let login = target.email.as_ref().map(Email::as_str);
    passwords::check_policy(&body.password, login, "password").map_err(|e| AppError::Validation(vec![e]))?;
    let hash = state.hasher.hash(body.password).await?;
    let temporary = body.temporary.unwrap_or(state.config.sign_in.operator_passwords_temporary);
    let author = Author::from(&actor);
    db::transaction(&state.pool, move |conn| {
        let Staff(row) = queries::lock(conn, staff_id)?;
        accounts::set_given_password(conn, row.id, &hash, temporary)?;
        sessions::end_all_for_user(conn, staff_id, sessions::reason::PASSWORD_CHANGED)?;
        password_tokens::revoke_all(conn, row.id)?;
        // The log says that the password was set, never anything about it.
        let event = Event {
            action: audit::Action::UserPasswordSet,
            target_type: audit::Target::Staff,
            target_id: row.id,
            customer_id: None,
            changes: serde_json::json!({}),
            visibility: Visibility::Everyone,
            data: None,
            before: None,
        };
        audit::record(conn, &author, event)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Switches the staff member's MFA off (see [`reset_staff_mfa`]); one without MFA stays as it is.
fn reset(conn: &mut PgConnection, config: &Config, Staff(before): Staff) -> Result<Staff, AppError> {
    if !before.mfa_enabled() {
        return Ok(Staff(before));
    }
    let row = accounts::clear_mfa(conn, before.id)?;
    sessions::end_all_for_user(conn, before.id, sessions::reason::MFA_CHANGED)?;
    challenges::end_all_for_user(conn, before.id)?;
    mails::send_mfa_reset(conn, config, &row)?;
    Ok(Staff(row))
}

/// Reset a staff member's MFA
///
/// Switches the person's TOTP off: its secret and recovery codes are deleted, every session
/// and open sign-in step ends, and the person is mailed. It signs in with its password again
/// and sets MFA up anew (at its next sign-in, when `STAFF_MFA_REQUIRED`). Someone without MFA
/// is answered as they are (200, nothing changes, no mail). Platform admins only; your own MFA
/// is switched off with `DELETE /v1/me/mfa/totp` (409); never in a support session (403).
#[utoipa::path(
    tag = "staff",
    operation_id = "resetStaffMfa",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The staff member, MFA off.", body = StaffView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/staff/{staff_id}/mfa/reset")]
pub async fn reset_staff_mfa(
    state: web::Data<AppState>,
    actor: Actor,
    staff_id: web::Path<UserId>,
    _body: NoBody,
) -> Result<Tagged<StaffView>, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    policy::refuse_impersonated(&actor)?;
    let staff_id = staff_id.into_inner();
    not_self(&actor, staff_id, "Switch your own MFA off with DELETE /v1/me/mfa/totp.")?;
    let config = state.config.clone();
    let lock = move |conn: &mut _| queries::lock(conn, staff_id);
    let change = move |conn: &mut _, before| reset(conn, &config, before);
    // Not conditional: switching MFA off twice is switching it off once.
    write::update(&state, &actor, audit::Action::UserMfaReset, IfMatch::default(), lock, change).await
}
