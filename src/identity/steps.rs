//! What happens after a correct password (or an accepted invitation, or a confirmed sign-up):
//! the one place that decides whether the person gets a token pair now or has a step left —
//! a second factor, a password change, an MFA enrolment — in that order. Every way in
//! (`/v1/auth/login`, `/v1/auth/login/mfa`, `/v1/auth/password/change`, MFA confirmation
//! with an enrolment token, invitation and sign-up completion) ends in [`proceed`], so no way
//! in skips a step.

use actix_web::HttpResponse;
use actix_web::http::header;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::challenges::{self, Purpose, TTL_SECONDS};
use super::sessions::{self, Issued};
use super::tokens::{self, TokenResponse};
use crate::accounts::{Amr, CustomerGate, UserRow};
use crate::config::Config;
use crate::db::schema::customers;
use crate::error::AppError;
use crate::origin::Origin;
use crate::permissions::Kind;
use crate::state::AppState;

/// Whether `account` must have MFA: staff when `STAFF_MFA_REQUIRED`, a customer's people when
/// the customer's `mfa_required` is on.
pub fn mfa_required(conn: &mut PgConnection, config: &Config, account: &UserRow) -> QueryResult<bool> {
    match (account.kind, account.customer_id) {
        (Kind::Staff, _) | (_, None) => Ok(config.sign_in.staff_mfa_required),
        (_, Some(customer_id)) => customers::table
            .find(customer_id)
            .select(customers::mfa_required)
            .first::<bool>(conn)
            .optional()
            .map(|required| required.unwrap_or(false)),
    }
}

/// [`mfa_required`] with the customer's gate read with the account (`None`: staff, or no such
/// customer).
fn mfa_required_through(config: &Config, account: &UserRow, gate: Option<&CustomerGate>) -> bool {
    match (account.kind, account.customer_id) {
        (Kind::Staff, _) | (_, None) => config.sign_in.staff_mfa_required,
        (_, Some(_)) => gate.is_some_and(|gate| gate.mfa_required),
    }
}

/// The next step for a person who has proven `amr`; `mfa_required` is asked only when it
/// decides (it may cost a statement).
fn next(
    account: &UserRow,
    amr: &[Amr],
    mfa_required: impl FnOnce() -> QueryResult<bool>,
) -> QueryResult<Option<Purpose>> {
    if account.mfa_enabled() && !amr.contains(&Amr::Otp) {
        return Ok(Some(Purpose::Mfa));
    }
    if account.password_change_required {
        return Ok(Some(Purpose::PasswordChange));
    }
    if !account.mfa_enabled() && mfa_required()? {
        return Ok(Some(Purpose::MfaEnrolment));
    }
    Ok(None)
}

/// Where a sign-in stands after [`proceed`].
pub enum Proceed {
    /// Signed in: a session was started.
    Session(Issued),
    /// A step is left; the token lets the person take it.
    Step { purpose: Purpose, token: String },
}

/// Moves a person who has proven `amr` (and may sign in) on: issues the token of the next step,
/// or starts the session (and records the sign-in). Call it inside the transaction that
/// consumed whatever the person presented.
pub fn proceed(
    conn: &mut PgConnection,
    config: &Config,
    account: &UserRow,
    amr: Vec<Amr>,
    origin: &Origin,
) -> QueryResult<Proceed> {
    let purpose = next(account, &amr, || mfa_required(conn, config, account))?;
    take(conn, config, account, purpose, amr, origin)
}

/// [`proceed`] for a sign-in that read the customer's gate with the account (`None`: staff, or
/// no such customer), so deciding the step costs no statement.
pub fn proceed_through(
    conn: &mut PgConnection,
    config: &Config,
    account: &UserRow,
    gate: Option<&CustomerGate>,
    amr: Vec<Amr>,
    origin: &Origin,
) -> QueryResult<Proceed> {
    let purpose = next(account, &amr, || Ok(mfa_required_through(config, account, gate)))?;
    take(conn, config, account, purpose, amr, origin)
}

/// Issues the token of step `purpose`, or, with none left, starts the session.
fn take(
    conn: &mut PgConnection,
    config: &Config,
    account: &UserRow,
    purpose: Option<Purpose>,
    amr: Vec<Amr>,
    origin: &Origin,
) -> QueryResult<Proceed> {
    let now = config.clock.now();
    if let Some(purpose) = purpose {
        let token = challenges::issue(conn, account.id, purpose, &amr, now)?;
        return Ok(Proceed::Step { purpose, token });
    }
    let issued = sessions::start(conn, account.id, origin, &config.sessions, now, amr)?;
    Ok(Proceed::Session(issued))
}

/// The answer of every sign-in endpoint: a token pair, or the step that is left.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SignInResponse {
    /// Signed in.
    Tokens(TokenResponse),
    /// MFA is on: present a code at `POST /v1/auth/login/mfa` with `mfa_token`.
    Mfa(MfaRequired),
    /// MFA is required and not set up: enrol with `mfa_token` as the bearer token of
    /// `POST /v1/me/mfa/totp` and `POST /v1/me/mfa/totp/confirm`.
    MfaEnrolment(MfaEnrolmentRequired),
    /// The password was set by someone else: set a new one at `POST /v1/auth/password/change`.
    PasswordChange(PasswordChangeRequired),
}

/// A second factor is needed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"mfa_required": true, "mfa_token": "dgs_Wq3...", "expires_in": 300}))]
pub struct MfaRequired {
    /// Always `true`.
    pub mfa_required: bool,
    /// Single use, for `POST /v1/auth/login/mfa`.
    pub mfa_token: String,
    /// Seconds until `mfa_token` expires.
    pub expires_in: u64,
}

/// MFA must be set up before the person may sign in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"mfa_enrolment_required": true, "mfa_token": "dgs_Wq3...", "expires_in": 300}))]
pub struct MfaEnrolmentRequired {
    /// Always `true`.
    pub mfa_enrolment_required: bool,
    /// The bearer token for `POST /v1/me/mfa/totp` and `POST /v1/me/mfa/totp/confirm`, and
    /// nothing else.
    pub mfa_token: String,
    /// Seconds until `mfa_token` expires.
    pub expires_in: u64,
}

/// A new password must be set before the person may sign in.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"password_change_required": true, "password_change_token": "dgs_Zr8...", "expires_in": 300}))]
pub struct PasswordChangeRequired {
    /// Always `true`.
    pub password_change_required: bool,
    /// Single use, for `POST /v1/auth/password/change`.
    pub password_change_token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

impl SignInResponse {
    /// The answer for `proceed`'s outcome: signs the token pair of a started session.
    pub async fn of(state: &AppState, account: &UserRow, proceed: Proceed) -> Result<Self, AppError> {
        let expires_in = TTL_SECONDS.unsigned_abs();
        Ok(match proceed {
            Proceed::Session(issued) => Self::Tokens(tokens::issue_pair(state, account, issued).await?),
            Proceed::Step { purpose: Purpose::Mfa, token } => {
                Self::Mfa(MfaRequired { mfa_required: true, mfa_token: token, expires_in })
            }
            Proceed::Step { purpose: Purpose::MfaEnrolment, token } => {
                Self::MfaEnrolment(MfaEnrolmentRequired {
                    mfa_enrolment_required: true,
                    mfa_token: token,
                    expires_in,
                })
            }
            Proceed::Step { purpose: Purpose::PasswordChange, token } => {
                Self::PasswordChange(PasswordChangeRequired {
                    password_change_required: true,
                    password_change_token: token,
                    expires_in,
                })
            }
        })
    }

    /// As a 200 that no cache keeps.
    pub async fn respond(
        state: &AppState,
        account: &UserRow,
        proceed: Proceed,
    ) -> Result<HttpResponse, AppError> {
        let body = Self::of(state, account, proceed).await?;
        Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
    }
}
