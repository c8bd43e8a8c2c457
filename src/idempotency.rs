//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header, with Stripe's semantics) for
//! the requests that create: a client that lost the answer sends the same request with the same
//! key again and gets the first answer, byte for byte, instead of a second resource.
//!
//! A creating handler takes its body as [`Idempotent`]`<Json<T>>` (which reads the key and
//! fingerprints the request) and hands the [`Key`] to the write path (`write::create_once`, or
//! [`run`] for a handler with a transaction of its own). [`run`] then:
//!
//! 1. claims the key for the caller in a short transaction of its own (an `in_flight` row,
//!    `INSERT .. ON CONFLICT DO NOTHING`, so two instances cannot both win), or answers from
//!    what is there: the recorded response (`Idempotent-Replayed: true`), 422
//!    `idempotency-key-reused` for another request, 409 `idempotency-key-in-flight` while the
//!    first is running. A claim whose lock ran out (its request died) is taken over;
//! 2. runs the change and records the response **in the change's own transaction**, so the
//!    change and its record commit together or not at all, and answers with the recorded bytes;
//! 3. on a failure the same request would meet again (a 4xx but 401, 403, 408, 429) records
//!    the problem in a short transaction (the change rolled back: nothing was created); on
//!    anything else (5xx, 429, 401, 403) gives the key up, so a retry runs again.
//!
//! What fails before the claim (a malformed header, an unreadable body, authentication,
//! authorization, a rule checked before the transaction) records nothing: nothing ran, and the
//! same request meets the same answer.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder, ResponseError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::Author;
use crate::db::{self, schema::idempotency_keys as keys};
use crate::error::AppError;
use crate::extract;
use crate::state::AppState;

/// The request header (lower case, as actix looks it up).
pub const HEADER: &str = "idempotency-key";
/// The response header of a replay.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a claim holds the key before a retry may take it over (its request died).
pub const LOCK: Duration = Duration::from_secs(60);
/// The longest key (the draft leaves it to the server; Stripe takes 255).
const MAX_KEY_LEN: usize = 255;

/// The key a request came with and the fingerprint of the request; none: not idempotent.
#[derive(Debug, Clone, Default)]
pub struct Key(Option<Keyed>);

#[derive(Debug, Clone)]
struct Keyed {
    value: String,
    fingerprint: [u8; 32],
}

impl Key {
    /// No key: the request runs as if the header were absent (a PUT, an internal create).
    pub fn none() -> Self {
        Self(None)
    }

    /// The key as sent (unquoted), if any.
    pub fn value(&self) -> Option<&str> {
        self.0.as_ref().map(|keyed| keyed.value.as_str())
    }
}

/// The body extractor `T` (`Json<CreateUser>`) of a request that may carry an
/// `Idempotency-Key`: the key (400 when malformed or repeated) with the request's fingerprint,
/// and the body as `T` reads it. Without the header it is `T` alone.
pub struct Idempotent<T>(pub Key, pub T);

impl<T> FromRequest for Idempotent<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = match header_value(req) {
            Ok(Some(value)) => value,
            Ok(None) => {
                let body = T::from_request(req, payload);
                return Box::pin(async move {
                    body.await.map(|t| Idempotent(Key::none(), t)).map_err(Into::into)
                });
            }
            Err(error) => return Box::pin(std::future::ready(Err(error.into()))),
        };
        let (req, body) = (req.clone(), extract::read(req, payload));
        Box::pin(async move {
            let body = body.await?.freeze();
            let fingerprint = fingerprint(&req, &body);
            let inner = T::from_request(&req, &mut Payload::from(body)).await.map_err(Into::into)?;
            Ok(Idempotent(Key(Some(Keyed { value, fingerprint })), inner))
        })
    }
}

/// The header's key: none, or one value of 1-255 printable ASCII characters (0x20-0x7E), bare
/// or as an RFC 8941 string (`"..."`, with `\"` and `\\`), whose content is the key.
fn header_value(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let mut values = req.headers().get_all(HEADER);
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(malformed("Send Idempotency-Key once."));
    }
    parse_key(value.as_bytes()).map(Some)
}

fn malformed(why: &str) -> AppError {
    AppError::BadRequest(format!(
        "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable ASCII characters, bare or as a quoted string: {why}"
    ))
}

fn parse_key(raw: &[u8]) -> Result<String, AppError> {
    if !raw.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(malformed("it holds a character outside 0x20-0x7E."));
    }
    let text = String::from_utf8_lossy(raw).trim_matches(' ').to_owned();
    let key = match text.strip_prefix('"') {
        Some(quoted) => unquote(quoted).ok_or_else(|| malformed("the quoted string is not well formed."))?,
        None => text,
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(malformed("it is empty or too long."));
    }
    Ok(key)
}

/// The content of an RFC 8941 sf-string after its opening quote: `\` escapes only `"` and `\`,
/// and the closing quote ends the value.
fn unquote(quoted: &str) -> Option<String> {
    let mut key = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                escaped @ ('"' | '\\') => key.push(escaped),
                _ => return None,
            },
            '"' => return chars.next().is_none().then_some(key),
            c => key.push(c),
        }
    }
    None
}

/// SHA-256 over the method, the route template, the path parameters and the body (canonical
/// JSON when it is JSON: keys sorted, no white space, so a re-serialized retry is the same
/// request), each part length-prefixed so that no two requests run together.
/// The key of a request whose handler reads its body itself (a bulk import, beyond the
/// extractor's limit): the body is fingerprinted as the bytes sent, not as canonical JSON
/// (no second copy of 16 MiB in memory).
pub fn key_of(req: &HttpRequest, body: &[u8]) -> Result<Key, AppError> {
    Ok(Key(header_value(req)?.map(|value| Keyed { value, fingerprint: fingerprint_as(req, body, false) })))
}

fn fingerprint(req: &HttpRequest, body: &[u8]) -> [u8; 32] {
    fingerprint_as(req, body, true)
}

/// SHA-256 over method, route, path parameters, query, `Accept` (which form the answer takes)
/// and the body, as canonical JSON when `canonical_json` and it is JSON, else its bytes.
fn fingerprint_as(req: &HttpRequest, body: &[u8], canonical_json: bool) -> [u8; 32] {
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    part(req.method().as_str().as_bytes());
    part(req.match_pattern().unwrap_or_else(|| req.path().to_owned()).as_bytes());
    for (name, value) in req.match_info().iter() {
        part(name.as_bytes());
        part(value.as_bytes());
    }
    part(req.query_string().as_bytes());
    part(req.headers().get(header::ACCEPT).map_or(&b""[..], |accept| accept.as_bytes()));
    match canonical_json.then(|| serde_json::from_slice::<Value>(body).ok()).flatten() {
        Some(json) => {
            part(b"json");
            part(&canonical(&json));
        }
        None => {
            part(b"raw");
            part(body);
        }
    }
    hash.finalize().into()
}

/// JSON with object keys sorted and no white space, whichever order the client sent (and
/// whether or not serde_json preserves order in this build).
fn canonical(value: &Value) -> Vec<u8> {
    fn write(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
                    out.push(b':');
                    write(item, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

/// A response as recorded for a key and answered from it: status, `Location`, `ETag`,
/// `Content-Type` and the exact body; a replay adds `Idempotent-Replayed: true`.
#[derive(Debug, Clone)]
pub struct Recorded {
    status: StatusCode,
    location: Option<String>,
    etag: Option<String>,
    content_type: String,
    body: Bytes,
    /// What the first answer shows instead of `body`, when that holds a secret that is shown
    /// once and never kept (see [`Recorded::revealing`]).
    answer: Option<Bytes>,
    replayed: bool,
}

impl Recorded {
    /// `view` as JSON, serialized once: these bytes are both recorded and answered.
    pub fn json(
        status: StatusCode,
        location: Option<String>,
        etag: Option<String>,
        view: &impl Serialize,
    ) -> Result<Self, AppError> {
        let body = serde_json::to_vec(view).map_err(AppError::internal)?;
        let content_type = "application/json".to_owned();
        Ok(Self { status, location, etag, content_type, body: body.into(), answer: None, replayed: false })
    }

    /// An answer of another content type (a CSV report), as these bytes.
    pub fn bytes(status: StatusCode, content_type: &str, body: Vec<u8>) -> Self {
        let content_type = content_type.to_owned();
        Self {
            status,
            location: None,
            etag: None,
            content_type,
            body: body.into(),
            answer: None,
            replayed: false,
        }
    }

    /// Like [`json`](Self::json), for an answer that shows a secret once (an API client's
    /// secret, a long-lived token): `answered` is the first answer, `kept` (the same without
    /// the secret) is what is recorded and replayed, since secrets are kept only as hashes.
    pub fn revealing(
        status: StatusCode,
        location: Option<String>,
        etag: Option<String>,
        kept: &impl Serialize,
        answered: &impl Serialize,
    ) -> Result<Self, AppError> {
        let answer = serde_json::to_vec(answered).map_err(AppError::internal)?;
        Ok(Self { answer: Some(answer.into()), ..Self::json(status, location, etag, kept)? })
    }

    /// The problem `error` is answered with, as bytes.
    async fn of_error(error: &AppError) -> Option<Self> {
        let response = error.error_response();
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE)?.to_str().ok()?.to_owned();
        let body = actix_web::body::to_bytes(response.into_body()).await.ok()?;
        Some(Self { status, location: None, etag: None, content_type, body, answer: None, replayed: false })
    }

    /// Its status: the view's, or the recorded problem's.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl Responder for Recorded {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, self.content_type));
        if let Some(etag) = self.etag {
            response.insert_header((header::ETAG, etag));
        }
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        if self.replayed {
            response.insert_header((REPLAYED, "true"));
        }
        response.body(self.answer.unwrap_or(self.body).boxed())
    }
}

/// Whether a failure is recorded for replay: a client error the same request would meet again.
/// Not 401/403 (credentials and grants change), 408 or 429 (a matter of timing).
fn recorded_failure(status: StatusCode) -> bool {
    status.is_client_error()
        && ![
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::TOO_MANY_REQUESTS,
        ]
        .contains(&status)
}

/// Whose keys: the id and kind of the author (a key is the caller's own).
#[derive(Debug, Clone)]
struct Caller {
    id: Uuid,
    kind: String,
}

impl Caller {
    fn of(author: &Author) -> Option<Self> {
        let kind = author.actor_kind.map_or("unknown", |kind| kind.as_str()).to_owned();
        author.actor_id.map(|id| Self { id, kind })
    }
}

/// Runs `change` in one transaction, once per key of the caller `author` (see the module):
/// the recorded response on a replay, otherwise `change`'s, recorded in `change`'s transaction.
/// Without a key (or an anonymous author) it is a plain `db::transaction`.
pub async fn run<F>(state: &AppState, author: &Author, key: Key, change: F) -> Result<Recorded, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<Recorded, AppError> + Send + 'static,
{
    let (Some(keyed), Some(caller)) = (key.0, Caller::of(author)) else {
        return db::transaction(&state.pool, change).await;
    };
    let attempt = match take(state, &caller, &keyed).await? {
        Ok(attempt) => attempt,
        Err(answer) => return answer,
    };
    let (id, value) = (caller.id, keyed.value.clone());
    let outcome = db::transaction(&state.pool, move |conn| {
        let recorded = change(conn)?;
        if !complete(conn, id, &value, attempt, &recorded)? {
            // Taken over by a retry while this ran (past its lock): the retry creates, not us.
            return Err(AppError::IdempotencyKeyInFlight);
        }
        Ok(recorded)
    })
    .await;
    settle(state, caller.id, keyed.value, attempt, outcome).await
}

/// [`run`] for work that is not one transaction (a bulk import, written in batches that each
/// are one): the answer is recorded in a short transaction of its own once `work` is done. A
/// crash in between leaves the key in flight until its lock runs out; a retry then runs the
/// work again (which an import in `upsert` mode makes harmless).
pub async fn around<W, Fut>(
    state: &AppState,
    author: &Author,
    key: Key,
    work: W,
) -> Result<Recorded, AppError>
where
    W: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Recorded, AppError>>,
{
    let (Some(keyed), Some(caller)) = (key.0, Caller::of(author)) else {
        return work().await;
    };
    let attempt = match take(state, &caller, &keyed).await? {
        Ok(attempt) => attempt,
        Err(answer) => return answer,
    };
    let outcome = match work().await {
        Ok(recorded) => {
            let (id, value, record) = (caller.id, keyed.value.clone(), recorded.clone());
            match db::run(&state.pool, move |conn| complete(conn, id, &value, attempt, &record)).await {
                Ok(true) => Ok(recorded),
                Ok(false) => Err(AppError::IdempotencyKeyInFlight),
                Err(cause) => Err(cause),
            }
        }
        Err(error) => Err(error),
    };
    settle(state, caller.id, keyed.value, attempt, outcome).await
}

/// Claims the key: `Ok(attempt)` when this request is to run, else the answer to give
/// (a replay, 422 reused, 409 in flight).
async fn take(
    state: &AppState,
    caller: &Caller,
    keyed: &Keyed,
) -> Result<Result<Uuid, Result<Recorded, AppError>>, AppError> {
    let now = state.config.clock.now();
    let (claim_caller, claim_key) = (caller.clone(), keyed.clone());
    Ok(match db::run(&state.pool, move |conn| claim(conn, &claim_caller, &claim_key, now)).await? {
        Claim::Won(attempt) => Ok(attempt),
        Claim::Replay(recorded) => Err(Ok(*recorded)),
        Claim::Reused => Err(Err(AppError::IdempotencyKeyReused)),
        Claim::InFlight => Err(Err(AppError::IdempotencyKeyInFlight)),
    })
}

/// After the work: its recorded answer, or for a failure the same request would meet again
/// that failure recorded, or (anything else) the key given up so that a retry runs again.
async fn settle(
    state: &AppState,
    id: Uuid,
    value: String,
    attempt: Uuid,
    outcome: Result<Recorded, AppError>,
) -> Result<Recorded, AppError> {
    let error = match outcome {
        Ok(recorded) => return Ok(recorded),
        // The key is another attempt's now: leave it alone.
        Err(AppError::IdempotencyKeyInFlight) => return Err(AppError::IdempotencyKeyInFlight),
        Err(error) => error,
    };
    if recorded_failure(error.status())
        && let Some(recorded) = Recorded::of_error(&error).await
    {
        let (record, key) = (recorded.clone(), value.clone());
        match db::run(&state.pool, move |conn| complete(conn, id, &key, attempt, &record)).await {
            Ok(_) => return Ok(recorded),
            Err(cause) => tracing::warn!(%cause, "recording a failure for its Idempotency-Key failed"),
        }
    }
    // Nothing was created; a retry must run again. Should this fail too, the lock runs out.
    if let Err(cause) = db::run(&state.pool, move |conn| release(conn, id, &value, attempt)).await {
        tracing::warn!(%cause, "giving up an Idempotency-Key failed; it is free once its lock runs out");
    }
    Err(error)
}

/// What a claim found.
enum Claim {
    /// The key is this request's to run (`attempt` names it).
    Won(Uuid),
    Replay(Box<Recorded>),
    Reused,
    InFlight,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = keys)]
struct KeyRow {
    fingerprint: Vec<u8>,
    state: String,
    locked_until: DateTime<Utc>,
    status: Option<i16>,
    location: Option<String>,
    etag: Option<String>,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
}

const IN_FLIGHT: &str = "in_flight";
const COMPLETED: &str = "completed";

fn lock_until(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(LOCK).unwrap_or(chrono::Duration::MAX)
}

/// Inserts the key in flight, or reads what is there and decides; takes over a claim past its
/// lock with a conditional update (one winner). Each statement commits on its own: the claim
/// must be visible to other instances before the change begins.
fn claim(conn: &mut PgConnection, caller: &Caller, keyed: &Keyed, now: DateTime<Utc>) -> QueryResult<Claim> {
    // A row deleted between our insert and our read (its attempt gave up) is tried again.
    for _ in 0..3 {
        let attempt = Uuid::now_v7();
        let inserted = diesel::insert_into(keys::table)
            .values((
                keys::caller_id.eq(caller.id),
                keys::caller_kind.eq(&caller.kind),
                keys::key.eq(&keyed.value),
                keys::fingerprint.eq(&keyed.fingerprint[..]),
                keys::state.eq(IN_FLIGHT),
                keys::attempt.eq(attempt),
                keys::locked_until.eq(lock_until(now)),
                keys::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 1 {
            return Ok(Claim::Won(attempt));
        }
        let this = keys::table.find((caller.id, &keyed.value));
        let Some(row) = this.select(KeyRow::as_select()).first(conn).optional()? else { continue };
        if row.fingerprint != keyed.fingerprint {
            return Ok(Claim::Reused);
        }
        if row.state == COMPLETED {
            return Ok(replay(row).map_or(Claim::InFlight, |r| Claim::Replay(Box::new(r))));
        }
        if row.locked_until > now {
            return Ok(Claim::InFlight);
        }
        let taken = diesel::update(this)
            .filter(keys::state.eq(IN_FLIGHT))
            .filter(keys::locked_until.le(now))
            .set((keys::attempt.eq(attempt), keys::locked_until.eq(lock_until(now))))
            .execute(conn)?;
        if taken == 1 {
            return Ok(Claim::Won(attempt));
        }
    }
    Ok(Claim::InFlight)
}

fn replay(row: KeyRow) -> Option<Recorded> {
    Some(Recorded {
        status: StatusCode::from_u16(u16::try_from(row.status?).ok()?).ok()?,
        location: row.location,
        etag: row.etag,
        content_type: row.content_type?,
        body: row.body?.into(),
        answer: None,
        replayed: true,
    })
}

/// Records `recorded` for the key, if `attempt` still holds it.
fn complete(
    conn: &mut PgConnection,
    caller_id: Uuid,
    key: &str,
    attempt: Uuid,
    recorded: &Recorded,
) -> QueryResult<bool> {
    let updated = diesel::update(keys::table.find((caller_id, key)))
        .filter(keys::attempt.eq(attempt))
        .filter(keys::state.eq(IN_FLIGHT))
        .set((
            keys::state.eq(COMPLETED),
            keys::status.eq(recorded.status.as_u16() as i16),
            keys::location.eq(recorded.location.as_deref()),
            keys::etag.eq(recorded.etag.as_deref()),
            keys::content_type.eq(&recorded.content_type),
            keys::body.eq(&recorded.body[..]),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Gives the key up (a retry runs again), if `attempt` still holds it.
fn release(conn: &mut PgConnection, caller_id: Uuid, key: &str, attempt: Uuid) -> QueryResult<usize> {
    diesel::delete(keys::table.find((caller_id, key)))
        .filter(keys::attempt.eq(attempt))
        .filter(keys::state.eq(IN_FLIGHT))
        .execute(conn)
}

/// Deletes the keys created before `now - ttl`, in batches ([`crate::db::purge`]); returns how
/// many went.
pub fn purge(conn: &mut PgConnection, now: DateTime<Utc>, ttl: Duration) -> QueryResult<usize> {
    let cutoff = now - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    crate::db::purge::in_batches(
        conn,
        "DELETE FROM idempotency_keys WHERE ctid IN \
         (SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
        cutoff,
    )
}

/// The `Idempotency-Key` request header as documented on every creating operation.
#[derive(utoipa::IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct KeyHeader(
    /// Makes a retry safe: a unique value per intended request (a UUID), 1-255 printable ASCII
    /// characters, bare or as a quoted string. The first response to it (a success, or a client
    /// error other than 401, 403, 408 and 429) is kept for at least 24 hours; the same request
    /// with the same key is answered with exactly that response and `Idempotent-Replayed: true`,
    /// and nothing is done again (no second resource, audit event or mail). The key with another
    /// request (body, path or operation) is a 422 (`idempotency-key-reused`); while its first
    /// request is still running, a 409 (`idempotency-key-in-flight`, `Retry-After: 1`). Keys are
    /// the caller's own; a malformed or repeated header is a 400.
    #[param(
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r#"^([\x21\x23-\x7E][\x20-\x7E]*|"([\x20\x21\x23-\x5B\x5D-\x7E]|\\["\\])+")$"#
    )]
    pub Option<String>,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_bare_or_quoted() {
        assert_eq!(parse_key(b"order-4711").ok().as_deref(), Some("order-4711"));
        assert_eq!(parse_key(b"\"order 4711\"").ok().as_deref(), Some("order 4711"));
        assert_eq!(parse_key(br#""a\"b\\c""#).ok().as_deref(), Some(r#"a"b\c"#));
        assert_eq!(parse_key(&[b'k'; 255]).ok().map(|k| k.len()), Some(255));
        for bad in [&b""[..], b"\"\"", b"\"open", b"\"a\"b\"", br#""a\x""#, "schlüssel".as_bytes(), b"a\tb"]
        {
            assert!(parse_key(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse_key(&[b'k'; 256]).is_err());
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": null}}"#).unwrap();
        assert_eq!(canonical(&a), br#"{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}"#);
    }

    #[test]
    fn failures_that_depend_on_timing_or_grants_are_not_recorded() {
        for status in [400, 404, 409, 410, 412, 422] {
            assert!(recorded_failure(StatusCode::from_u16(status).unwrap()), "{status}");
        }
        for status in [200, 201, 401, 403, 408, 429, 500, 503] {
            assert!(!recorded_failure(StatusCode::from_u16(status).unwrap()), "{status}");
        }
    }
}
