//! The second factor: TOTP (RFC 6238, through `totp-rs`) with single-use recovery codes.
//!
//! A TOTP secret is stored only sealed with AES-256-GCM under `MFA_ENCRYPTION_KEY`: a random
//! 96-bit nonce, then the ciphertext, with the user id as associated data so a sealed secret
//! copied to another row does not open. A code is accepted only for a step later than the last
//! one accepted, and the step is recorded by the same UPDATE that checks it, so a replay —
//! even a concurrent one — is refused. Recovery codes are stored as SHA-256 hashes and used
//! once. Neither a secret nor a code is ever logged.
//!
//! [`Enrolling`] is the caller of the two enrolment endpoints: a signed-in person, or someone
//! holding the `mfa_enrolment` step token a sign-in answered with (and nothing else takes it).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use aes_gcm::aead::{Aead, Payload as AeadPayload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use chrono::{DateTime, Utc};
use diesel::dsl::now as db_now;
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

use super::challenges::{self, Purpose};
use crate::accounts::{Actor, UserRow, queries as accounts};
use crate::config::{Config, MfaKey};
use crate::db::{self, schema::mfa_recovery_codes, schema::users};
use crate::error::{AppError, ConflictKind};
use crate::secrets::hash_secret;
use crate::state::AppState;

/// Seconds per TOTP step.
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Steps of clock drift accepted either way.
pub const SKEW: i64 = 1;
/// How many recovery codes a person gets.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a TOTP secret (160 bits, RFC 4226's recommendation).
const SECRET_BYTES: usize = 20;
const NONCE_BYTES: usize = 12;
/// No 0/O, 1/I/L: a code read off paper is typed right.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

pub const NOT_AVAILABLE: &str = "MFA is not available: MFA_ENCRYPTION_KEY is not set.";
/// A wrong, replayed or expired code (and a wrong or used recovery code): one answer.
pub const BAD_CODE: AppError = AppError::Unauthorized("The code is wrong or was already used.");
/// A step token that is no (longer a) token for this step.
pub const BAD_STEP_TOKEN: AppError =
    AppError::Unauthorized("The sign-in step token is invalid, expired or already used.");

/// The encryption key, or the 409 that says MFA cannot be used here.
pub fn key(config: &Config) -> Result<&MfaKey, AppError> {
    config
        .sign_in
        .mfa_encryption_key
        .as_ref()
        .ok_or_else(|| AppError::Conflict(ConflictKind::MfaUnavailable, NOT_AVAILABLE.into()))
}

fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// Seals `secret` for `user_id`: nonce || ciphertext.
pub fn seal(key: &MfaKey, user_id: Uuid, secret: &[u8]) -> Result<Vec<u8>, AppError> {
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(AppError::internal)?;
    let nonce = random::<NONCE_BYTES>()?;
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), AeadPayload { msg: secret, aad: user_id.as_bytes() })
        .map_err(|_| AppError::internal("sealing a TOTP secret failed"))?;
    Ok([nonce.as_slice(), &sealed].concat())
}

/// Opens a secret sealed for `user_id`; fails for another key, another row, or a changed byte.
pub fn open(key: &MfaKey, user_id: Uuid, sealed: &[u8]) -> Result<Vec<u8>, AppError> {
    if sealed.len() <= NONCE_BYTES {
        return Err(AppError::internal("a sealed TOTP secret is too short"));
    }
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(AppError::internal)?;
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(AppError::internal)?;
    cipher
        .decrypt(&Nonce::from(nonce), AeadPayload { msg: ciphertext, aad: user_id.as_bytes() })
        .map_err(|_| AppError::internal("a TOTP secret does not open with MFA_ENCRYPTION_KEY"))
}

/// The TOTP of a secret, labelled for `account` in authenticator apps.
pub fn totp(config: &Config, secret: Vec<u8>, account: &UserRow) -> Result<TOTP, AppError> {
    let issuer = if config.jwt_issuer.is_empty() { "dockgate".to_owned() } else { config.jwt_issuer.clone() };
    // The otpauth label separates issuer and account with ':', so neither may hold one.
    let issuer = issuer.replace(':', "");
    let name = account.email.as_ref().map(|e| e.as_str().replace(':', "")).unwrap_or_default();
    TOTP::new(Algorithm::SHA1, DIGITS, SKEW as u8, STEP_SECONDS, secret, Some(issuer), name)
        .map_err(|e| AppError::internal(format!("TOTP parameters refused: {e}")))
}

/// What a person gets to set up an authenticator app.
pub struct Enrolment {
    /// Base32, for typing in.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as a QR code.
    pub qr_svg: String,
    /// The secret sealed for the account's row.
    pub sealed: Vec<u8>,
}

/// A new random secret for `account`.
pub fn new_enrolment(config: &Config, account: &UserRow) -> Result<Enrolment, AppError> {
    let key = key(config)?;
    let secret = random::<SECRET_BYTES>()?.to_vec();
    let sealed = seal(key, account.id, &secret)?;
    let totp = totp(config, secret, account)?;
    let otpauth_uri = totp.get_url();
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| AppError::internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment { secret: totp.get_secret_base32(), otpauth_uri, qr_svg, sealed })
}

/// The step (within ±[`SKEW`] of `now`) whose code is `code`, if any; the latest if several.
pub fn matching_step(totp: &TOTP, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.timestamp().div_euclid(STEP_SECONDS as i64);
    (current - SKEW..=current + SKEW).rev().filter(|step| *step >= 0).find(|step| {
        let generated = totp.generate(*step as u64 * STEP_SECONDS);
        // Constant time: an early exit would tell how many leading digits were right.
        generated.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// Records `step` as the last accepted one, unless it (or a later one) was already: `false`
/// is a replay.
fn claim_step(conn: &mut PgConnection, user_id: Uuid, step: i64) -> QueryResult<bool> {
    diesel::update(
        users::table.find(user_id).filter(users::mfa_last_step.is_null().or(users::mfa_last_step.lt(step))),
    )
    .set(users::mfa_last_step.eq(step))
    .execute(conn)
    .map(|rows| rows == 1)
}

/// Checks a TOTP code of `account`'s active secret at `now` and records its step: the step,
/// or `None` for a wrong or replayed code (or MFA off).
pub fn verify(
    conn: &mut PgConnection,
    config: &Config,
    account: &UserRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AppError> {
    let sealed: Option<Vec<u8>> =
        users::table.find(account.id).select(users::mfa_secret).first(conn).optional()?.flatten();
    let Some(sealed) = sealed else { return Ok(None) };
    let secret = open(key(config)?, account.id, &sealed)?;
    let Some(step) = matching_step(&totp(config, secret, account)?, code, now) else { return Ok(None) };
    Ok(claim_step(conn, account.id, step)?.then_some(step))
}

/// Turns MFA on with the pending secret if `code` is one of its codes: records the step,
/// moves the secret, clears the pending one. `None` for a wrong code; 409 when nothing is
/// pending or MFA is already on.
pub fn confirm(
    conn: &mut PgConnection,
    config: &Config,
    account: &UserRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AppError> {
    let (secret, pending): (Option<Vec<u8>>, Option<Vec<u8>>) = users::table
        .find(account.id)
        .select((users::mfa_secret, users::mfa_pending_secret))
        .for_update()
        .first(conn)?;
    if secret.is_some() {
        return Err(already_on());
    }
    let Some(pending) = pending else {
        return Err(AppError::Conflict(
            ConflictKind::MfaState,
            "No enrolment is pending: start one with POST /v1/me/mfa/totp.".into(),
        ));
    };
    let opened = open(key(config)?, account.id, &pending)?;
    let Some(step) = matching_step(&totp(config, opened, account)?, code, now) else { return Ok(None) };
    if !claim_step(conn, account.id, step)? {
        return Ok(None);
    }
    diesel::update(users::table.find(account.id))
        .set((
            users::mfa_secret.eq(Some(pending)),
            users::mfa_pending_secret.eq(None::<Vec<u8>>),
            users::mfa_enabled_at.eq(Some(now)),
            users::updated_at.eq(db_now),
        ))
        .execute(conn)?;
    Ok(Some(step))
}

pub fn already_on() -> AppError {
    AppError::Conflict(
        ConflictKind::MfaState,
        "MFA is already on: switch it off first to enrol again.".into(),
    )
}

pub fn not_on() -> AppError {
    AppError::Conflict(ConflictKind::MfaState, "MFA is not on.".into())
}

/// Stores a new pending secret for `user_id` (replacing a pending one), unless MFA is on.
pub fn store_pending(conn: &mut PgConnection, user_id: Uuid, sealed: &[u8]) -> Result<(), AppError> {
    let rows = diesel::update(users::table.find(user_id).filter(users::mfa_secret.is_null()))
        .set(users::mfa_pending_secret.eq(Some(sealed)))
        .execute(conn)?;
    if rows == 1 { Ok(()) } else { Err(already_on()) }
}

/// Switches MFA off for `user_id`: secret, pending secret, last step and recovery codes go.
pub fn switch_off(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::mfa_secret.eq(None::<Vec<u8>>),
            users::mfa_pending_secret.eq(None::<Vec<u8>>),
            users::mfa_enabled_at.eq(None::<DateTime<Utc>>),
            users::mfa_last_step.eq(None::<i64>),
            users::updated_at.eq(db_now),
        ))
        .execute(conn)?;
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(())
}

/// Codes are compared in one form: lower case, without separators or spaces.
fn normalize(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// Symbols of a recovery code: 24 of 31 are about 119 bits. From 112 bits ASVS 5.0 (6.5.2)
/// lets a lookup secret be stored under a plain SHA-256, which finds a code in one indexed
/// comparison; fewer bits would need a salted password hash per stored code.
const RECOVERY_SYMBOLS: usize = 24;

fn new_recovery_code() -> Result<String, AppError> {
    let n = RECOVERY_ALPHABET.len();
    // Bytes from 248 = 8 * 31 up are dropped, so every symbol is equally likely.
    let limit = 256 - 256 % n;
    let mut chars = Vec::with_capacity(RECOVERY_SYMBOLS);
    while chars.len() < RECOVERY_SYMBOLS {
        for b in random::<32>()? {
            if usize::from(b) < limit && chars.len() < RECOVERY_SYMBOLS {
                chars.push(RECOVERY_ALPHABET[usize::from(b) % n] as char);
            }
        }
    }
    Ok(chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
}

/// Replaces `user_id`'s recovery codes with [`RECOVERY_CODES`] new ones, returned once.
pub fn new_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    let codes = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<_> = codes
        .iter()
        .map(|code| {
            (
                mfa_recovery_codes::id.eq(Uuid::now_v7()),
                mfa_recovery_codes::user_id.eq(user_id),
                mfa_recovery_codes::code_hash.eq(hash_secret(&normalize(code))),
                mfa_recovery_codes::created_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(mfa_recovery_codes::table).values(rows).execute(conn)?;
    Ok(codes)
}

/// Uses one of `user_id`'s recovery codes: `true` if it was unused (it is used now).
pub fn use_recovery_code(conn: &mut PgConnection, user_id: Uuid, code: &str) -> QueryResult<bool> {
    let normalized = normalize(code);
    if normalized.is_empty() {
        return Ok(false);
    }
    diesel::update(
        mfa_recovery_codes::table
            .filter(mfa_recovery_codes::user_id.eq(user_id))
            .filter(mfa_recovery_codes::code_hash.eq(hash_secret(&normalized)))
            .filter(mfa_recovery_codes::used_at.is_null()),
    )
    .set(mfa_recovery_codes::used_at.eq(db_now))
    .returning(mfa_recovery_codes::id)
    .get_result::<Uuid>(conn)
    .optional()
    .map(|used| used.is_some())
}

/// A TOTP code or a recovery code of `account` (a code of six digits is taken as TOTP).
pub fn verify_any(
    conn: &mut PgConnection,
    config: &Config,
    account: &UserRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let trimmed = code.trim();
    if trimmed.len() == DIGITS && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(verify(conn, config, account, trimmed, now)?.is_some());
    }
    Ok(use_recovery_code(conn, account.id, trimmed)?)
}

/// The caller of `POST /v1/me/mfa/totp` and `POST /v1/me/mfa/totp/confirm`: a signed-in
/// person, or the holder of an `mfa_enrolment` step token (checked live, not consumed here).
pub enum Enrolling {
    Person(Actor),
    StepToken { token: String, account: UserRow },
}

impl Enrolling {
    pub fn account(&self) -> Result<&UserRow, AppError> {
        match self {
            Self::Person(actor) => actor.require_person(),
            Self::StepToken { account, .. } => Ok(account),
        }
    }
}

impl FromRequest for Enrolling {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let token = super::actor::bearer(req).filter(|t| t.starts_with(challenges::PREFIX));
        let Some(token) = token else {
            let actor = Actor::from_request(req, payload);
            return Box::pin(async move { actor.await.map(Self::Person) });
        };
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let now = state.config.clock.now();
            let presented = token.clone();
            let account = db::run(&state.pool, move |conn| -> Result<_, AppError> {
                let Some(challenge) = challenges::find(conn, &presented, Purpose::MfaEnrolment, now)? else {
                    return Ok(None);
                };
                let account = accounts::find(conn, challenge.user_id)?;
                Ok(accounts::may_sign_in(conn, &account, now)?.then_some(account))
            })
            .await?
            .ok_or(BAD_STEP_TOKEN)?;
            Ok(Self::StepToken { token, account })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_row_and_key() {
        let key = MfaKey([7; 32]);
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = seal(&key, alice, b"0123456789abcdefghij").unwrap();
        assert_eq!(open(&key, alice, &sealed).unwrap(), b"0123456789abcdefghij");
        assert!(open(&key, bob, &sealed).is_err());
        assert!(open(&MfaKey([8; 32]), alice, &sealed).is_err());
        assert_ne!(seal(&key, alice, b"0123456789abcdefghij").unwrap(), sealed, "random nonce");
    }

    #[test]
    fn recovery_codes_are_six_groups_of_an_unambiguous_alphabet() {
        let code = new_recovery_code().unwrap();
        assert_eq!(code.len(), 29);
        assert_eq!(code.split('-').count(), 6);
        assert!(code.split('-').all(|g| g.len() == 4));
        assert!(!code.contains(['0', 'o', '1', 'l', 'i']));
        assert_eq!(normalize(&code.to_uppercase()), normalize(&code));
    }
}
