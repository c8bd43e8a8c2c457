//! `GET|PATCH /v1/me`, `POST /v1/me/password`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::dto::{ChangePassword, MeCustomer, MePatch, MeView};
use super::models::{Me, ProfileChanges};
use super::queries;
use crate::accounts::{Actor, queries as accounts};
use crate::audit::{self, Author, Event, Visibility};
use crate::db::{self, ids::UserId, types::Email};
use crate::error::{AppError, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::identity::{passwords, rate_limit, sessions};
use crate::openapi::sets;
use crate::origin::client_addr;
use crate::state::AppState;
use crate::write::{self, Tagged};

/// Who am I
///
/// The signed-in person with its role, effective permissions, data scope and groups and (for
/// staff) customer scope — what the access token says, read fresh from the database. `groups`
/// is `["*"]` for data scope `all`, else the group ids — possibly `[]`: untagged data only.
#[utoipa::path(
    tag = "me",
    operation_id = "getMe",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller.", body = MeView,
            headers(("ETag" = String, description = "Send it back in `If-Match` to PATCH safely."))),
        sets::SignedIn, sets::Forbidden,
    )
)]
#[get("/v1/me")]
pub async fn get_me(actor: Actor) -> Result<Tagged<MeView>, AppError> {
    // Everything shown was read with the session: no statement, no trip to a blocking thread.
    let groups = actor.groups.clone();
    let (row, customer) = actor.into_person_and_customer()?;
    let customer = match (row.customer_id, customer) {
        (Some(id), Some(label)) => Some(MeCustomer { id, name: label.name, code: label.code }),
        _ => None,
    };
    Ok(Tagged::ok(MeView::new(&row, &groups, customer)))
}

/// Update my profile
///
/// JSON merge-patch of `name` and `phone` (`null` clears the phone). Honours `If-Match`.
#[utoipa::path(
    tag = "me",
    operation_id = "patchMe",
    security(("bearer" = [])),
    params(etag::IfMatchHeader),
    request_body(content = MePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated caller.", body = MeView,
            headers(("ETag" = String, description = "The new ETag."))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden,
    )
)]
#[patch("/v1/me")]
pub async fn patch_me(
    state: web::Data<AppState>,
    actor: Actor,
    if_match: IfMatch,
    Json(patch): Json<MePatch>,
) -> Result<Tagged<MeView>, AppError> {
    let user_id = UserId::from(actor.require_person()?.id);
    // The groups the request was authenticated with, as GET /v1/me shows them.
    let groups = actor.groups.clone();
    let changes = ProfileChanges::from(patch);
    let lock = move |conn: &mut _| queries::lock(conn, user_id).map(|row| Me { row, groups });
    let change = move |conn: &mut _, before: Me| {
        queries::update_profile(conn, user_id, &changes).map(|row| Me { row, groups: before.groups })
    };
    write::update(&state, &actor, audit::Action::MeUpdated, if_match, lock, change).await
}

/// Change my password
///
/// Needs the current password. The new one must be 12 to 128 characters, not the e-mail
/// address and not common or easy to guess. Every session of the caller ends, this one included:
/// sign in again with the new password. Wrong current passwords count as failed sign-ins.
/// Not in a support session (403).
#[utoipa::path(
    tag = "me",
    operation_id = "changeMyPassword",
    security(("bearer" = [])),
    request_body(content = ChangePassword, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed; every session is signed out."),
        sets::SignedIn, sets::Body, sets::Limited, sets::Forbidden,
    )
)]
#[post("/v1/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    Json(body): Json<ChangePassword>,
) -> Result<HttpResponse, AppError> {
    crate::policy::refuse_impersonated(&actor)?;
    let author = Author::from(&actor);
    let visibility = Visibility::person(actor.data_scope, &actor.groups);
    let account = actor.require_person()?.clone();
    let email = account.email.clone().unwrap_or_else(|| Email::lookup(""));
    passwords::check_policy(&body.new_password, Some(email.as_str()), "new_password")
        .map_err(|e| AppError::Validation(vec![e]))?;

    // Taken first: a full hashing queue is then a 503 that costs no query and counts no attempt.
    let slot = state.hasher.admit()?;
    // Counted before the current password is checked, so guesses through this endpoint stay
    // within the sign-in limits however many arrive at once.
    let client = client_addr(&req);
    let limits = state.config.login_limits;
    let (check_email, check_client) = (email.clone(), client.clone());
    let reserved = db::run(&state.pool, move |conn| {
        rate_limit::reserve(conn, &limits, &check_email, &check_client)?.admitted()
    })
    .await?;

    let verified = slot.verify(account.password_hash.clone(), body.current_password).await?;
    let new_hash = if verified { Some(slot.hash(body.new_password).await?) } else { None };
    // A wrong current password keeps its reservation: it is the counted failure.
    let Some(new_hash) = new_hash else {
        return Err(AppError::field(
            "current_password",
            FieldCode::Incorrect,
            "is not your current password",
        ));
    };

    let user_id = account.id;
    let customer_id = account.customer_id;
    db::transaction(&state.pool, move |conn| {
        rate_limit::release(conn, reserved, &email, &client)?;
        accounts::set_password_hash(conn, user_id, &new_hash)?;
        sessions::end_all_for_user(conn, user_id, sessions::reason::PASSWORD_CHANGED)?;
        // The log says that the password changed, never anything about it.
        let event = Event {
            action: audit::Action::MePasswordChanged,
            target_type: audit::Target::User,
            target_id: user_id,
            customer_id,
            changes: serde_json::json!({}),
            visibility,
            data: None,
            before: None,
        };
        Ok(audit::record(conn, &author, event)?)
    })
    .await?;
    tracing::info!(user_id = %user_id, "password changed; sessions ended");
    Ok(HttpResponse::NoContent().finish())
}
