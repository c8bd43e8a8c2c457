//! `/v1/me/mfa/*`: a person sets up TOTP, confirms it (and gets recovery codes), switches it
//! off, and renews the recovery codes. The two enrolment endpoints also take the
//! `mfa_enrolment` step token of a sign-in ([`Enrolling`]); confirming with one signs in.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, post, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::accounts::{Actor, Amr, UserRow, queries as accounts};
use crate::audit::{self, Author, Event, Target, Visibility};
use crate::db::{self, schema::sessions as sessions_table, types::Email};
use crate::error::{AppError, FieldCode};
use crate::extract::Json;
use crate::identity::challenges::{self, Purpose};
use crate::identity::mfa::{self, BAD_STEP_TOKEN, Enrolling};
use crate::identity::steps::{self, SignInResponse};
use crate::identity::{rate_limit, sessions};
use crate::openapi::sets;
use crate::origin::{Origin, client_addr};
use crate::permissions::Kind;
use crate::state::AppState;

/// A new TOTP secret to put into an authenticator app. Shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/dockgate:jana.berg%40acme.example?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=dockgate",
    "qr_svg": "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" ...</svg>"
}))]
pub struct TotpEnrolment {
    /// The shared secret, base32 (RFC 4648, no padding), for typing into an app.
    pub secret: String,
    /// The `otpauth://` URI (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// A code of the authenticator app.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "492039"}))]
pub struct TotpCode {
    /// The six digits the app shows now.
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
}

/// A code of the new authenticator app, and the password where a session turns MFA on.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "492039", "password": "correct horse battery staple"}))]
pub struct ConfirmTotp {
    /// The six digits the app shows now.
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    /// Your current password: required with an access token (a stolen token alone must not
    /// bind an attacker's app to the account), not taken with the `mfa_token` of an
    /// `mfa_enrolment_required` sign-in (that sign-in has just checked it).
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: Option<String>,
}

/// The password and a second factor, to switch MFA off.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "correct horse battery staple", "code": "492039"}))]
pub struct DisableMfa {
    /// The current password.
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// A code of the authenticator app, or an unused recovery code.
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
}

/// MFA is on: the recovery codes, shown this once (and the sign-in, for an enrolment token).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": ["k7mq-3xtd-9wfa-hp2c-cz6e-p34v", "a4nz-8rve-u6js-c2gq-k5dm-3yj8",
    "f9bw-t3ky-m5dh-q7xe-34ff-494k", "p2cs-6jan-w8rt-z4mf-f3vm-5z9p", "h5ud-9qgk-b3ye-s7wp-pmz3-mme3", "x8rf-2mwc-k6tn-v9ad-93kw-6bf6",
    "e3jy-7pbs-q4hm-u2zk-k5mb-kvq7", "n6wa-5cxf-d9rg-t3jq-5mmp-8d5k", "s2ke-8ytm-w4fn-b7hc-r4m3-n8hq", "g9pz-3dqu-r6xa-m5ey-kftc-gmyg"],
    "tokens": null}))]
pub struct MfaConfirmed {
    /// Ten single-use codes, each works once instead of an app code. Store them safely.
    pub recovery_codes: Vec<String>,
    /// Only when confirmed with an enrolment token: the sign-in, usually a token pair; else
    /// null.
    pub tokens: Option<SignInResponse>,
}

/// New recovery codes, shown this once; the old ones no longer work.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": ["k7mq-3xtd-9wfa-hp2c-cz6e-p34v", "a4nz-8rve-u6js-c2gq-k5dm-3yj8",
    "f9bw-t3ky-m5dh-q7xe-34ff-494k", "p2cs-6jan-w8rt-z4mf-f3vm-5z9p", "h5ud-9qgk-b3ye-s7wp-pmz3-mme3", "x8rf-2mwc-k6tn-v9ad-93kw-6bf6",
    "e3jy-7pbs-q4hm-u2zk-k5mb-kvq7", "n6wa-5cxf-d9rg-t3jq-5mmp-8d5k", "s2ke-8ytm-w4fn-b7hc-r4m3-n8hq", "g9pz-3dqu-r6xa-m5ey-kftc-gmyg"]}))]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A support session proves nothing about the person: nothing MFA happens in one.
fn target_of(account: &UserRow) -> Target {
    match account.kind {
        Kind::Staff => Target::Staff,
        Kind::CustomerUser => Target::User,
    }
}

fn event(action: audit::Action, account: &UserRow, visibility: Visibility) -> Event {
    // Never the secret or a code: only that it happened.
    Event {
        action,
        target_type: target_of(account),
        target_id: account.id,
        customer_id: account.customer_id,
        changes: serde_json::json!({}),
        visibility,
        data: None,
        before: None,
    }
}

fn wrong_code() -> AppError {
    AppError::field("code", FieldCode::Incorrect, "is wrong or was already used")
}

fn email_of(account: &UserRow) -> Email {
    account.email.clone().unwrap_or_else(|| Email::lookup(""))
}

/// Start TOTP enrolment
///
/// Creates a new TOTP secret and answers it with its `otpauth://` URI and a QR code of it, for
/// an authenticator app. Nothing changes until `POST /v1/me/mfa/totp/confirm` with a code of
/// the app; calling this again replaces the pending secret. Takes a person's access token or
/// the `mfa_token` of an `mfa_enrolment_required` sign-in. 409 when MFA is already on, or when
/// the server has no `MFA_ENCRYPTION_KEY`.
#[utoipa::path(
    tag = "me",
    operation_id = "startTotpEnrolment",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The secret, shown this once.", body = TotpEnrolment),
        sets::SignedIn, sets::Forbidden, sets::Conflicting,
    )
)]
#[post("/v1/me/mfa/totp")]
pub async fn start_enrolment(
    state: web::Data<AppState>,
    caller: Enrolling,
) -> Result<HttpResponse, AppError> {
    if let Enrolling::Person(actor) = &caller {
        crate::policy::refuse_impersonated(actor)?;
    }
    let account = caller.account()?.clone();
    if account.mfa_enabled() {
        return Err(mfa::already_on());
    }
    let enrolment = mfa::new_enrolment(&state.config, &account)?;
    let (user_id, sealed) = (account.id, enrolment.sealed);
    db::run(&state.pool, move |conn| mfa::store_pending(conn, user_id, &sealed)).await?;
    let body = TotpEnrolment {
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    };
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
}

/// Confirm TOTP enrolment
///
/// Turns MFA on with the pending secret when `code` is a current code of it, and answers ten
/// single-use recovery codes, this once. With an access token it also needs the current
/// `password`. With the `mfa_token` of an `mfa_enrolment_required` sign-in as the bearer token
/// it takes no password and also finishes the sign-in: `tokens` is then the sign-in's answer
/// (usually a token pair, with `amr: ["pwd", "otp"]`). A wrong code or password is a 422 and
/// counts as a failed sign-in.
#[utoipa::path(
    tag = "me",
    operation_id = "confirmTotpEnrolment",
    security(("bearer" = [])),
    request_body(content = ConfirmTotp, content_type = "application/json"),
    responses(
        (status = 200, description = "MFA is on.", body = MfaConfirmed),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Conflicting, sets::Limited,
    )
)]
#[post("/v1/me/mfa/totp/confirm")]
pub async fn confirm_enrolment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Enrolling,
    Json(body): Json<ConfirmTotp>,
) -> Result<HttpResponse, AppError> {
    if let Enrolling::Person(actor) = &caller {
        crate::policy::refuse_impersonated(actor)?;
    }
    let password = match (&caller, body.password) {
        (Enrolling::Person(_), Some(password)) => Some(password),
        (Enrolling::Person(_), None) => {
            return Err(AppError::field("password", FieldCode::Required, "is needed to turn MFA on"));
        }
        (Enrolling::StepToken { .. }, Some(_)) => {
            return Err(AppError::field(
                "password",
                FieldCode::NotAllowed,
                "is not taken with an enrolment token: its sign-in has checked it",
            ));
        }
        (Enrolling::StepToken { .. }, None) => None,
    };
    let account = caller.account()?.clone();
    // Taken first: a full hashing queue is a 503 that counts no attempt.
    let slot = match password {
        Some(password) => Some((state.hasher.admit()?, password)),
        None => None,
    };
    let origin = Origin::of(&req);
    let (email, client) = (email_of(&account), client_addr(&req));
    let (limits, now, config) = (state.config.login_limits, state.config.clock.now(), state.config.clone());
    let (check_email, check_client) = (email.clone(), client.clone());
    let reserved = db::run(&state.pool, move |conn| {
        rate_limit::reserve(conn, &limits, &check_email, &check_client)?.admitted()
    })
    .await?;
    // A wrong password keeps its reservation: it is the counted failure.
    if let Some((slot, password)) = slot {
        if !slot.verify(account.password_hash.clone(), password).await? {
            return Err(AppError::field("password", FieldCode::Incorrect, "is not your current password"));
        }
    }

    let (author, visibility, step_token) = match &caller {
        Enrolling::Person(actor) => {
            (Author::from(actor), Some(Visibility::person(actor.data_scope, &actor.groups)), None)
        }
        Enrolling::StepToken { token, account } => {
            (Author::person(&origin, account), None, Some(token.clone()))
        }
    };
    let signing_in = account.clone();
    let (codes, proceed) = db::transaction(&state.pool, move |conn| {
        let challenge = match &step_token {
            Some(token) => {
                Some(challenges::find(conn, token, Purpose::MfaEnrolment, now)?.ok_or(BAD_STEP_TOKEN)?)
            }
            None => None,
        };
        mfa::confirm(conn, &config, &signing_in, &body.code, now)?.ok_or_else(wrong_code)?;
        rate_limit::release(conn, reserved, &email, &client)?;
        let codes = mfa::new_recovery_codes(conn, signing_in.id, now)?;
        let visibility = match visibility {
            Some(visibility) => visibility,
            None => Visibility::person(signing_in.data_scope, &accounts::groups_of(conn, &signing_in)?),
        };
        audit::record(conn, &author, event(audit::Action::UserMfaEnabled, &signing_in, visibility))?;
        let proceed = match challenge {
            Some(challenge) => {
                challenges::consume(conn, challenge.id)?;
                // Read again: MFA is on now, so the steps do not ask for an enrolment again.
                let fresh = accounts::find(conn, signing_in.id)?;
                let mut amr = challenge.amr;
                if !amr.contains(&Amr::Otp) {
                    amr.push(Amr::Otp);
                }
                Some((steps::proceed(conn, &config, &fresh, amr, &origin)?, fresh))
            }
            None => None,
        };
        Ok((codes, proceed))
    })
    .await?;
    tracing::info!(user_id = %account.id, "MFA switched on");
    let tokens = match proceed {
        Some((proceed, fresh)) => Some(SignInResponse::of(&state, &fresh, proceed).await?),
        None => None,
    };
    let body = MfaConfirmed { recovery_codes: codes, tokens };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
}

/// Switch MFA off
///
/// Needs the current password and a code of the app (or an unused recovery code). The secret
/// and the recovery codes are deleted, and every other session of the caller ends. A wrong
/// password or code is a 422 (field `password` or `code`) and counts as a failed sign-in.
#[utoipa::path(
    tag = "me",
    operation_id = "disableTotp",
    security(("bearer" = [])),
    request_body(content = DisableMfa, content_type = "application/json"),
    responses(
        (status = 204, description = "MFA is off; the caller's other sessions are over."),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Conflicting, sets::Limited,
    )
)]
#[delete("/v1/me/mfa/totp")]
pub async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    Json(body): Json<DisableMfa>,
) -> Result<HttpResponse, AppError> {
    crate::policy::refuse_impersonated(&actor)?;
    let author = Author::from(&actor);
    let visibility = Visibility::person(actor.data_scope, &actor.groups);
    let current = actor.session_id();
    let account = actor.require_person()?.clone();
    if !account.mfa_enabled() {
        return Err(mfa::not_on());
    }
    // Taken first: a full hashing queue is a 503 that counts no attempt.
    let slot = state.hasher.admit()?;
    let (email, client) = (email_of(&account), client_addr(&req));
    let (limits, now, config) = (state.config.login_limits, state.config.clock.now(), state.config.clone());
    let (check_email, check_client) = (email.clone(), client.clone());
    let reserved = db::run(&state.pool, move |conn| {
        rate_limit::reserve(conn, &limits, &check_email, &check_client)?.admitted()
    })
    .await?;
    // A wrong password keeps its reservation: it is the counted failure.
    if !slot.verify(account.password_hash.clone(), body.password).await? {
        return Err(AppError::field("password", FieldCode::Incorrect, "is not your current password"));
    }
    let target = account.clone();
    db::transaction(&state.pool, move |conn| {
        if !mfa::verify_any(conn, &config, &target, &body.code, now)? {
            return Err(wrong_code());
        }
        rate_limit::release(conn, reserved, &email, &client)?;
        mfa::switch_off(conn, target.id)?;
        challenges::end_all_for_user(conn, target.id)?;
        let others = sessions_table::table
            .filter(sessions_table::user_id.eq(target.id))
            .filter(sessions_table::revoked_at.is_null())
            .filter(sessions_table::id.nullable().ne(current.map(uuid::Uuid::from)));
        diesel::update(others)
            .set((
                sessions_table::revoked_at.eq(diesel::dsl::now),
                sessions_table::revoked_reason.eq(sessions::reason::MFA_CHANGED),
            ))
            .execute(conn)?;
        audit::record(conn, &author, event(audit::Action::UserMfaDisabled, &target, visibility))?;
        Ok(())
    })
    .await?;
    tracing::info!(user_id = %account.id, "MFA switched off; other sessions ended");
    Ok(HttpResponse::NoContent().finish())
}

/// Renew my recovery codes
///
/// Needs a code of the app (or an unused recovery code); answers ten new recovery codes, this
/// once, and the old ones stop working. A wrong code is a 422 and counts as a failed sign-in.
#[utoipa::path(
    tag = "me",
    operation_id = "renewRecoveryCodes",
    security(("bearer" = [])),
    request_body(content = TotpCode, content_type = "application/json"),
    responses(
        (status = 200, description = "The new codes.", body = RecoveryCodes),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Conflicting, sets::Limited,
    )
)]
#[post("/v1/me/mfa/recovery-codes")]
pub async fn renew_recovery_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    actor: Actor,
    Json(body): Json<TotpCode>,
) -> Result<HttpResponse, AppError> {
    crate::policy::refuse_impersonated(&actor)?;
    let author = Author::from(&actor);
    let visibility = Visibility::person(actor.data_scope, &actor.groups);
    let account = actor.require_person()?.clone();
    if !account.mfa_enabled() {
        return Err(mfa::not_on());
    }
    let (email, client) = (email_of(&account), client_addr(&req));
    let (limits, now, config) = (state.config.login_limits, state.config.clock.now(), state.config.clone());
    let (check_email, check_client) = (email.clone(), client.clone());
    let reserved = db::run(&state.pool, move |conn| {
        rate_limit::reserve(conn, &limits, &check_email, &check_client)?.admitted()
    })
    .await?;
    let codes = db::transaction(&state.pool, move |conn| {
        if !mfa::verify_any(conn, &config, &account, &body.code, now)? {
            return Err(wrong_code());
        }
        rate_limit::release(conn, reserved, &email, &client)?;
        let codes = mfa::new_recovery_codes(conn, account.id, now)?;
        let event = event(audit::Action::UserMfaRecoveryCodesRegenerated, &account, visibility);
        audit::record(conn, &author, event)?;
        Ok(codes)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodes { recovery_codes: codes }))
}
