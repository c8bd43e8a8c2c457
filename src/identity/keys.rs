//! Ed25519 signing keys, kept in PostgreSQL so every instance signs and verifies with the same
//! ones. The newest unretired key signs. `dockgate rotate-keys` adds a key and retires the old
//! one, which stays in the JWKS until every token it signed has expired.
//!
//! Each instance caches keys: the signing key for [`SIGNING_KEY_REFRESH`] (so a rotation is
//! picked up everywhere within that time), verification keys by `kid` (keys never change; an
//! unknown `kid` reloads the published set at most once a second). [`KeyStore::keep_fresh`]
//! reloads the signing key in the background at half that age, so no sign-in pays for it (a
//! request reloads it itself only when the background could not, the database being away).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::clock::Clock;
use crate::db::{self, DbPool, schema::signing_keys};
use crate::error::AppError;

const SIGNING_KEY_REFRESH: Duration = Duration::from_secs(30);
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);
/// Clock skew allowed between instances and token consumers.
pub const LEEWAY: Duration = Duration::from_secs(60);
/// Serializes key creation between instances starting at the same time.
const KEY_LOCK: i64 = 0x646f_636b_6b65_7973; // "dockkeys"

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys, check_for_backend(diesel::pg::Pg))]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// A public key as published in the JWKS (RFC 8037 OKP key).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "use": "sig", "alg": "EdDSA"}))]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub key_use: &'static str,
    pub alg: &'static str,
}

/// The JSON Web Key Set other services verify access tokens with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

fn jwk(public_key: &[u8], kid: &str) -> Jwk {
    Jwk {
        kty: "OKP",
        crv: "Ed25519",
        x: URL_SAFE_NO_PAD.encode(public_key),
        kid: kid.to_owned(),
        key_use: "sig",
        alg: "EdDSA",
    }
}

/// The RFC 7638 thumbprint of the public key: a `kid` anyone can recompute.
fn thumbprint(public_key: &[u8]) -> String {
    let canonical =
        format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, URL_SAFE_NO_PAD.encode(public_key));
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn generate() -> Result<(String, Vec<u8>, Vec<u8>), String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let private = signing.to_pkcs8_der().map_err(|e| format!("cannot encode key: {e}"))?;
    let public = signing.verifying_key().to_bytes().to_vec();
    Ok((thumbprint(&public), private.as_bytes().to_vec(), public))
}

fn insert_new(conn: &mut PgConnection) -> QueryResult<String> {
    let (kid, private, public) =
        generate().map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&kid),
            signing_keys::private_key.eq(private),
            signing_keys::public_key.eq(public),
        ))
        .execute(conn)?;
    Ok(kid)
}

fn lock(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::BigInt, _>(KEY_LOCK)
        .execute(conn)
        .map(drop)
}

/// Creates the first signing key unless one exists; safe when several instances start at once.
pub fn ensure_signing_key(conn: &mut PgConnection) -> QueryResult<()> {
    conn.transaction(|conn| {
        lock(conn)?;
        let active: i64 =
            signing_keys::table.filter(signing_keys::retired_at.is_null()).count().get_result(conn)?;
        if active == 0 {
            insert_new(conn)?;
        }
        Ok(())
    })
}

/// Adds a new signing key and retires the current ones; returns the new `kid`. The retirement
/// is stamped by the database's clock, which is the service's outside tests that move theirs.
pub fn rotate(conn: &mut PgConnection) -> QueryResult<String> {
    conn.transaction(|conn| {
        lock(conn)?;
        diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
            .set(signing_keys::retired_at.eq(diesel::dsl::now))
            .execute(conn)?;
        insert_new(conn)
    })
}

fn current(conn: &mut PgConnection) -> QueryResult<SigningKeyRow> {
    signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .order(signing_keys::created_at.desc())
        .select(SigningKeyRow::as_select())
        .first(conn)
}

/// Keys whose tokens may still be alive at `now`: unretired, or retired less than a token
/// lifetime ago.
pub fn published(
    conn: &mut PgConnection,
    access_token_ttl: Duration,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SigningKeyRow>> {
    // An instance may sign with a retired key until its cache refreshes, and consumers allow
    // clock skew: keep the key published for all of that.
    let horizon = now
        - chrono::Duration::from_std(access_token_ttl + LEEWAY + SIGNING_KEY_REFRESH)
            .unwrap_or_else(|_| chrono::Duration::days(1));
    signing_keys::table
        .filter(signing_keys::retired_at.is_null().or(signing_keys::retired_at.gt(horizon)))
        .order(signing_keys::created_at.desc())
        .select(SigningKeyRow::as_select())
        .load(conn)
}

struct Cache {
    signing: Option<(String, EncodingKey, Instant)>,
    verifying: HashMap<String, DecodingKey>,
    last_reload: Option<Instant>,
}

/// The per-instance cache in front of the `signing_keys` table.
pub struct KeyStore {
    pool: DbPool,
    access_token_ttl: Duration,
    /// Decides which retired keys are still published.
    clock: Clock,
    cache: RwLock<Cache>,
}

impl KeyStore {
    pub fn new(pool: DbPool, access_token_ttl: Duration, clock: Clock) -> Self {
        Self {
            pool,
            access_token_ttl,
            clock,
            cache: RwLock::new(Cache { signing: None, verifying: HashMap::new(), last_reload: None }),
        }
    }

    /// The key new tokens are signed with, and its `kid`.
    pub async fn signing_key(&self) -> Result<(String, EncodingKey), AppError> {
        if let Ok(cache) = self.cache.read() {
            if let Some((kid, key, fetched)) = &cache.signing {
                if fetched.elapsed() < SIGNING_KEY_REFRESH {
                    return Ok((kid.clone(), key.clone()));
                }
            }
        }
        self.reload_signing_key().await
    }

    async fn reload_signing_key(&self) -> Result<(String, EncodingKey), AppError> {
        let row = db::run(&self.pool, current).await?;
        let key = EncodingKey::from_ed_der(&row.private_key);
        if let Ok(mut cache) = self.cache.write() {
            cache.signing = Some((row.kid.clone(), key.clone(), Instant::now()));
        }
        Ok((row.kid, key))
    }

    /// Reloads the signing key every half [`SIGNING_KEY_REFRESH`], for as long as it runs (the
    /// application aborts it when it stops). A failure is left to the next round, or to the
    /// request that finds the key too old.
    pub async fn keep_fresh(&self) {
        let mut every = tokio::time::interval(SIGNING_KEY_REFRESH / 2);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(error) = self.reload_signing_key().await {
                tracing::debug!(%error, "signing key not reloaded; a request will try");
            }
        }
    }

    /// The verification key for `kid`, if it is published.
    pub async fn decoding_key(&self, kid: &str) -> Result<Option<DecodingKey>, AppError> {
        let recently_reloaded = match self.cache.read() {
            Ok(cache) => {
                if let Some(key) = cache.verifying.get(kid) {
                    return Ok(Some(key.clone()));
                }
                cache.last_reload.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD)
            }
            Err(_) => false,
        };
        if recently_reloaded {
            return Ok(None);
        }
        let rows = self.published().await?;
        let mut keys = HashMap::new();
        for row in rows {
            let x = URL_SAFE_NO_PAD.encode(&row.public_key);
            if let Ok(key) = DecodingKey::from_ed_components(&x) {
                keys.insert(row.kid, key);
            }
        }
        let found = keys.get(kid).cloned();
        if let Ok(mut cache) = self.cache.write() {
            cache.verifying = keys;
            cache.last_reload = Some(Instant::now());
        }
        Ok(found)
    }

    pub async fn jwks(&self) -> Result<Jwks, AppError> {
        let rows = self.published().await?;
        Ok(Jwks { keys: rows.iter().map(|row| jwk(&row.public_key, &row.kid)).collect() })
    }

    async fn published(&self) -> Result<Vec<SigningKeyRow>, AppError> {
        let (ttl, now) = (self.access_token_ttl, self.clock.now());
        db::run(&self.pool, move |conn| published(conn, ttl, now)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_through_jsonwebtoken() {
        let (kid, private, public) = generate().unwrap();
        assert_eq!(kid, thumbprint(&public));
        let encoding = EncodingKey::from_ed_der(&private);
        let decoding = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(&public)).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(b"payload", &encoding, jsonwebtoken::Algorithm::EdDSA).unwrap();
        let valid =
            jsonwebtoken::crypto::verify(&signature, b"payload", &decoding, jsonwebtoken::Algorithm::EdDSA)
                .unwrap();
        assert!(valid);
    }
}
