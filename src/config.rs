//! Configuration, from environment variables only, validated at start.
//!
//! Every variable is listed in `.env.example` and the README. A bad value stops the process with
//! a message that names the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use secrecy::SecretString;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where mail goes (`MAIL_URL`, or the default of [`MailTransport::default_for`]).
#[derive(Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// `smtp://` (STARTTLS when offered; `?tls=required` insists, `?tls=none` never tries) or
    /// `smtps://` (TLS from the first byte); `user:password@` are the SMTP AUTH credentials.
    Smtp(Url),
    /// One `<outbox id>.eml` file per mail in this folder.
    File(PathBuf),
    /// Recipient, subject and text body as an info log line.
    Log,
}

impl MailTransport {
    /// The transport when `MAIL_URL` is unset: on the embedded database (a developer's machine)
    /// mail lands in files next to its data, to be opened in a mail program; with
    /// `DATABASE_URL` (a deployment) it is logged, so nothing is written to a container's disk.
    pub fn default_for(database_url: Option<&SecretString>, data_dir: &std::path::Path) -> Self {
        match database_url {
            None => Self::File(data_dir.join("mail")),
            Some(_) => Self::Log,
        }
    }
}

// By hand, so the SMTP password in the URL never reaches a log line.
impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(url) => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    let _ = shown.set_password(Some("***"));
                }
                f.debug_tuple("Smtp").field(&shown.as_str()).finish()
            }
            Self::File(dir) => f.debug_tuple("File").field(dir).finish(),
            Self::Log => f.write_str("Log"),
        }
    }
}

/// How long a session's refresh tokens live: each one `refresh_token_ttl` from its issue, and
/// none past `max_age` from the sign-in (refreshing slides the first, never the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    pub refresh_token_ttl: Duration,
    /// `SESSION_MAX_AGE` (default 30 days): no session outlives it, however recently used.
    pub max_age: Duration,
    /// `SESSION_IDLE_TIMEOUT` (default 8 hours): a session unused (no request, no refresh) this
    /// long is over.
    pub idle_timeout: Duration,
}

/// The AES-256-GCM key TOTP secrets are sealed with (`MFA_ENCRYPTION_KEY`: 32 bytes, base64 or
/// hex). Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaKey(pub [u8; 32]);

impl MfaKey {
    /// 32 bytes written as 64 hex digits or in base64 (standard, or URL-safe without padding).
    pub fn parse(raw: &str) -> Option<Self> {
        use base64::Engine as _;
        let raw = raw.trim();
        let bytes: Vec<u8> = if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&raw[2 * i..2 * i + 2], 16).unwrap_or(0)).collect()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(raw)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
                .unwrap_or_default()
        };
        <[u8; 32]>::try_from(bytes).ok().map(MfaKey)
    }

    /// The key kept in `path`, made (32 random bytes, base64, readable by the owner only) the
    /// first time: for a developer's embedded database, whose data lives next to it, so MFA
    /// works out of the box and keeps working across restarts. Never used with `DATABASE_URL`:
    /// a real deployment's key is the operator's to keep.
    pub fn load_or_create(path: &std::path::Path) -> Result<Self, String> {
        use base64::Engine as _;
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let shown = path.display();
        match std::fs::read_to_string(path) {
            Ok(raw) => {
                return Self::parse(&raw).ok_or_else(|| format!("{shown} does not hold a 32-byte MFA key"));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {shown}: {e}")),
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no randomness for the MFA key: {e}"))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot create {shown}: {e}"))?;
        writeln!(file, "{}", base64::engine::general_purpose::STANDARD.encode(key))
            .map_err(|e| format!("cannot write {shown}: {e}"))?;
        Ok(MfaKey(key))
    }
}

impl std::fmt::Debug for MfaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaKey(..)")
    }
}

/// Sign-in hardening settings (issue 16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInSettings {
    /// `MFA_ENCRYPTION_KEY`; without it nobody can enrol in MFA, and the service refuses to
    /// start when MFA is on for anyone or required anywhere.
    pub mfa_encryption_key: Option<MfaKey>,
    /// `STAFF_MFA_REQUIRED=true`: every staff member must have MFA (default false).
    pub staff_mfa_required: bool,
    /// `OPERATOR_PASSWORDS_TEMPORARY=true`: a password someone else sets is temporary unless the
    /// request says `temporary: false` (default false).
    pub operator_passwords_temporary: bool,
    /// `ACCESS_REVIEW_PASSWORD_MAX_AGE` (default 365 days): the access review flags passwords
    /// older than this.
    pub access_review_password_max_age: Duration,
}

/// Failed sign-in limits (contract section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub window: Duration,
    pub per_account_and_client: i64,
    pub per_account: i64,
    pub per_client: i64,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: run on the embedded PostgreSQL under `data_dir`.
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub bind_addr: String,
    pub portal_url: Url,
    /// `MAIL_URL`, or the default for the database in use ([`MailTransport::default_for`]).
    pub mail: MailTransport,
    /// `From` of every mail.
    pub mail_from: Mailbox,
    /// How often each instance's worker looks for due mail.
    pub mail_poll_interval: Duration,
    /// The wait after the first failed attempt; each further failure doubles it, up to an hour.
    pub mail_retry_base: Duration,
    /// Attempts before a mail is marked failed.
    pub mail_max_attempts: i32,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub sessions: SessionLifetimes,
    pub db_pool_size: u32,
    /// HTTP worker threads (default: one per CPU core).
    pub http_workers: usize,
    /// Password hashes and verifications running at once (default: one per CPU core).
    pub password_hash_concurrency: usize,
    /// Requests that may wait for a hashing thread; beyond that a 503 (default: 32 per thread).
    pub password_hash_queue: usize,
    pub log_format: LogFormat,
    /// `SERVER_TIMING=true`: every response says how many SQL statements it took
    /// (`Server-Timing: db;desc="3 statements"`), for the benchmark and for tests; off by default, as it tells
    /// strangers something about the inside.
    pub server_timing: bool,
    pub metrics_token: Option<SecretString>,
    /// `CORS_ALLOWED_ORIGINS`: the exact origins (`https://portal.example.com`) whose pages may
    /// call the API from a browser; empty: no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    pub login_limits: LoginLimits,
    /// How long a password-reset link works (contract: 1 hour).
    pub password_reset_ttl: Duration,
    /// How long the set-password link of a welcome mail works (contract: 7 days).
    pub set_password_link_ttl: Duration,
    /// `IDEMPOTENCY_KEY_TTL`: how long an `Idempotency-Key` and its response are kept (at least
    /// 24 hours, the promise the API document makes; default 24 hours).
    pub idempotency_key_ttl: Duration,
    /// `API_CLIENT_SECRET_OVERLAP`: how long an API client's previous secret keeps working
    /// after a rotation (default 0: it stops at once).
    pub api_client_secret_overlap: Duration,
    /// `SCIM_REQUESTS_PER_MINUTE`: SCIM requests one API client may make per minute, counted
    /// across instances (default 10,000: a directory's full sync or a conformance run stays well
    /// under it).
    pub scim_requests_per_minute: u32,
    /// Where webhooks may be delivered, and how often each instance looks for due deliveries.
    pub webhooks: WebhookSettings,
    /// MFA, temporary passwords, the access review.
    pub sign_in: SignInSettings,
    /// "Now" for expiring invitations and sign-up links; tests move it forward.
    pub clock: crate::clock::Clock,
}

/// Webhook delivery settings (issue 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOW_HTTP=true`: `http://` endpoint URLs are accepted too (default: `https` only).
    pub allow_http: bool,
    /// `WEBHOOK_ALLOWED_CIDRS`: addresses otherwise refused (loopback, private, link-local, ...)
    /// that endpoints may resolve to anyway, for tests and internal deployments
    /// (`10.20.0.0/16,127.0.0.1/32`); empty by default.
    pub allowed_cidrs: Vec<ipnet::IpNet>,
    /// `WEBHOOK_POLL_INTERVAL`: how often each instance's worker looks for due deliveries.
    pub poll_interval: Duration,
    /// `WEBHOOK_DISABLE_AFTER`: deliveries given up in a row after which an endpoint is disabled
    /// and its customer's admins are told (default 20).
    pub disable_after: i32,
    /// `WEBHOOK_LOG_RETENTION`: how long an event and its deliveries stay in the delivery log
    /// once none of them waits for an attempt (default 30 days, at least a day).
    pub log_retention: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let database_url = database_url(&get)?;
        let data_dir = get("DOCKGATE_DATA_DIR").map_or_else(|| PathBuf::from(".dockgate"), PathBuf::from);
        let mail = match get("MAIL_URL") {
            Some(raw) => parse_mail_url(&raw)?,
            None => MailTransport::default_for(database_url.as_ref(), &data_dir),
        };
        let (access_token_ttl, sessions) = token_lifetimes(&get)?;
        let password_hash_concurrency = number(&get, "PASSWORD_HASH_CONCURRENCY", default_workers(), 1, 256)?;
        let queue = QUEUE_PER_HASH_THREAD * password_hash_concurrency;
        Ok(Self {
            database_url,
            data_dir,
            bind_addr: bind_addr(&get)?,
            portal_url: portal_url(&get)?,
            mail,
            mail_from: mail_from(&get)?,
            mail_poll_interval: duration(&get, "MAIL_POLL_INTERVAL", Duration::from_secs(2))?,
            mail_retry_base: mail_retry_base(&get)?,
            mail_max_attempts: number(&get, "MAIL_MAX_ATTEMPTS", 12, 1, 100)? as i32,
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "dockgate".into()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "dispatch-platform".into()),
            access_token_ttl,
            sessions,
            db_pool_size: number(&get, "DB_POOL_SIZE", 10, 1, 1000)? as u32,
            http_workers: number(&get, "HTTP_WORKERS", default_workers(), 1, 256)? as usize,
            password_hash_concurrency: password_hash_concurrency as usize,
            password_hash_queue: number(&get, "PASSWORD_HASH_QUEUE", queue, 0, 100_000)? as usize,
            log_format: log_format(&get)?,
            server_timing: boolean(&get, "SERVER_TIMING")?,
            metrics_token: get("METRICS_TOKEN").map(SecretString::from),
            cors_allowed_origins: get("CORS_ALLOWED_ORIGINS")
                .map(|v| origins(&v))
                .transpose()?
                .unwrap_or_default(),
            login_limits: login_limits(&get)?,
            password_reset_ttl: duration(&get, "PASSWORD_RESET_TTL", Duration::from_secs(3600))?,
            set_password_link_ttl: duration(
                &get,
                "SET_PASSWORD_LINK_TTL",
                Duration::from_secs(7 * 24 * 3600),
            )?,
            idempotency_key_ttl: idempotency_key_ttl(&get)?,
            api_client_secret_overlap: match get("API_CLIENT_SECRET_OVERLAP").as_deref() {
                None | Some("0") => Duration::ZERO,
                Some(_) => duration(&get, "API_CLIENT_SECRET_OVERLAP", Duration::ZERO)?,
            },
            scim_requests_per_minute: number(&get, "SCIM_REQUESTS_PER_MINUTE", 10_000, 1, 10_000_000)? as u32,
            webhooks: webhook_settings(&get)?,
            sign_in: sign_in_settings(&get)?,
            clock: crate::clock::Clock::default(),
        })
    }
}

/// A variable source after trimming, with empty values as unset.
type Get<'a> = dyn Fn(&str) -> Option<String> + 'a;

fn database_url(get: &Get<'_>) -> Result<Option<SecretString>, ConfigError> {
    let Some(url) = get("DATABASE_URL") else { return Ok(None) };
    // libpq takes several hosts (`postgres://h1:5432,h2:5432/db?target_session_attrs=read-write`,
    // for failover), which no WHATWG URL parser accepts ("5432,h2:5432" is no port): only the
    // scheme is checked for those; libpq reports anything else wrong when it connects.
    let authority = url.split_once("://").map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or_default());
    if authority.is_some_and(|authority| authority.contains(',')) {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("postgres" | "postgresql")) {
            return Err(err("DATABASE_URL", "must be a postgres:// or postgresql:// URL"));
        }
        return Ok(Some(SecretString::from(url)));
    }
    let parsed = Url::parse(&url)
        .map_err(|e| err("DATABASE_URL", not_a_url(&e, "postgres://user:password@host:5432/dockgate")))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(err("DATABASE_URL", "must be a postgres:// or postgresql:// URL"));
    }
    Ok(Some(SecretString::from(url)))
}

fn bind_addr(get: &Get<'_>) -> Result<String, ConfigError> {
    let bind_addr = get("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
    if bind_addr.parse::<SocketAddr>().is_err() && !bind_addr.contains(':') {
        return Err(err("BIND_ADDR", "must be host:port, e.g. 127.0.0.1:8080"));
    }
    Ok(bind_addr)
}

fn portal_url(get: &Get<'_>) -> Result<Url, ConfigError> {
    let portal_url = get("PORTAL_URL").unwrap_or_else(|| "http://localhost:3000".into());
    let portal_url = Url::parse(&portal_url)
        .map_err(|e| err("PORTAL_URL", not_a_url(&e, "https://portal.example.com")))?;
    if !matches!(portal_url.scheme(), "http" | "https") {
        return Err(err("PORTAL_URL", "must be an http:// or https:// URL"));
    }
    Ok(portal_url)
}

fn mail_from(get: &Get<'_>) -> Result<Mailbox, ConfigError> {
    get("MAIL_FROM").unwrap_or_else(|| "dockgate <no-reply@localhost>".into()).parse::<Mailbox>().map_err(
        |e| err("MAIL_FROM", format!("must be a mailbox such as dockgate <no-reply@example.com> ({e})")),
    )
}

fn mail_retry_base(get: &Get<'_>) -> Result<Duration, ConfigError> {
    let base = duration(get, "MAIL_RETRY_BASE", Duration::from_secs(30))?;
    if base > MAIL_RETRY_CAP {
        return Err(err("MAIL_RETRY_BASE", "must be at most 1h"));
    }
    Ok(base)
}

fn log_format(get: &Get<'_>) -> Result<LogFormat, ConfigError> {
    if let Some(filter) = get("RUST_LOG") {
        tracing_subscriber::EnvFilter::try_new(&filter).map_err(|e| err("RUST_LOG", e))?;
    }
    match get("LOG_FORMAT").as_deref() {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(_) => Err(err("LOG_FORMAT", "must be text or json")),
    }
}

/// `ACCESS_TOKEN_TTL` and the session lifetimes, each longer than an access token.
fn token_lifetimes(get: &Get<'_>) -> Result<(Duration, SessionLifetimes), ConfigError> {
    let access_token_ttl = duration(get, "ACCESS_TOKEN_TTL", Duration::from_secs(15 * 60))?;
    if access_token_ttl < Duration::from_secs(10) || access_token_ttl > Duration::from_secs(24 * 3600) {
        return Err(err("ACCESS_TOKEN_TTL", "must be between 10s and 24h"));
    }
    let refresh_token_ttl = duration(get, "REFRESH_TOKEN_TTL", Duration::from_secs(30 * 24 * 3600))?;
    if refresh_token_ttl <= access_token_ttl {
        return Err(err("REFRESH_TOKEN_TTL", "must be longer than ACCESS_TOKEN_TTL"));
    }
    let max_age = duration(get, "SESSION_MAX_AGE", Duration::from_secs(30 * 24 * 3600))?;
    if max_age <= access_token_ttl {
        return Err(err("SESSION_MAX_AGE", "must be longer than ACCESS_TOKEN_TTL"));
    }
    let idle_timeout = duration(get, "SESSION_IDLE_TIMEOUT", Duration::from_secs(8 * 3600))?;
    if idle_timeout <= access_token_ttl {
        return Err(err("SESSION_IDLE_TIMEOUT", "must be longer than ACCESS_TOKEN_TTL"));
    }
    Ok((access_token_ttl, SessionLifetimes { refresh_token_ttl, max_age, idle_timeout }))
}

fn login_limits(get: &Get<'_>) -> Result<LoginLimits, ConfigError> {
    let limit = |name, default| number(get, name, default, 1, 1_000_000);
    Ok(LoginLimits {
        window: duration(get, "LOGIN_FAILURE_WINDOW", Duration::from_secs(15 * 60))?,
        per_account_and_client: limit("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", 10)?,
        per_account: limit("LOGIN_MAX_FAILURES_PER_ACCOUNT", 50)?,
        per_client: limit("LOGIN_MAX_FAILURES_PER_CLIENT", 100)?,
    })
}

/// The longest wait between two attempts of one mail.
pub const MAIL_RETRY_CAP: Duration = Duration::from_secs(3600);

/// Default waiting places per hashing thread: at about 25 ms a hash, a full queue is under a
/// second of waiting, enough to absorb a burst without piling up requests nobody waits for.
const QUEUE_PER_HASH_THREAD: i64 = 32;

fn default_workers() -> i64 {
    std::thread::available_parallelism().map_or(2, |n| n.get() as i64)
}

/// What to say for a value that does not parse as a URL: the parser's words for a missing scheme
/// ("relative URL without a base") mean nothing to someone setting a variable.
fn not_a_url(error: &url::ParseError, example: &str) -> String {
    match error {
        url::ParseError::RelativeUrlWithoutBase => format!("must be a full URL such as {example}"),
        other => format!("is not a URL ({other}); expected something like {example}"),
    }
}

/// Comma-separated exact origins: a scheme (`http`/`https`), a host and maybe a port, nothing
/// else (no path, no `*`): a browser compares its `Origin` header with them letter for letter.
fn origins(list: &str) -> Result<Vec<String>, ConfigError> {
    let invalid = |origin: &str| {
        err("CORS_ALLOWED_ORIGINS", format!("{origin:?} is not an origin such as https://portal.example.com"))
    };
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let url = Url::parse(origin).map_err(|_| invalid(origin))?;
            let exact = url.origin().ascii_serialization();
            let http = matches!(url.scheme(), "http" | "https");
            if http && exact == origin.trim_end_matches('/') { Ok(exact) } else { Err(invalid(origin)) }
        })
        .collect()
}

fn err(variable: &'static str, message: impl ToString) -> ConfigError {
    ConfigError { variable, message: message.to_string() }
}

/// Clients are promised a day to retry in: a shorter time would break that promise.
fn idempotency_key_ttl(get: &Get<'_>) -> Result<Duration, ConfigError> {
    const DAY: Duration = Duration::from_secs(24 * 3600);
    let ttl = duration(get, "IDEMPOTENCY_KEY_TTL", DAY)?;
    if ttl < DAY {
        return Err(err("IDEMPOTENCY_KEY_TTL", "must be at least 24h (clients are promised a day)"));
    }
    Ok(ttl)
}

fn boolean(get: &Get<'_>, variable: &'static str) -> Result<bool, ConfigError> {
    match get(variable).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(err(variable, "must be true or false")),
    }
}

fn sign_in_settings(get: &Get<'_>) -> Result<SignInSettings, ConfigError> {
    let mfa_encryption_key = get("MFA_ENCRYPTION_KEY")
        .map(|raw| {
            MfaKey::parse(&raw).ok_or_else(|| {
                err("MFA_ENCRYPTION_KEY", "must be 32 random bytes, base64 or hex (openssl rand -base64 32)")
            })
        })
        .transpose()?;
    Ok(SignInSettings {
        mfa_encryption_key,
        staff_mfa_required: boolean(get, "STAFF_MFA_REQUIRED")?,
        operator_passwords_temporary: boolean(get, "OPERATOR_PASSWORDS_TEMPORARY")?,
        access_review_password_max_age: duration(
            get,
            "ACCESS_REVIEW_PASSWORD_MAX_AGE",
            Duration::from_secs(365 * 24 * 3600),
        )?,
    })
}

fn webhook_settings(get: &Get<'_>) -> Result<WebhookSettings, ConfigError> {
    let allow_http = boolean(get, "WEBHOOK_ALLOW_HTTP")?;
    let allowed_cidrs = get("WEBHOOK_ALLOWED_CIDRS")
        .map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|cidr| !cidr.is_empty())
                .map(|cidr| {
                    cidr.parse::<ipnet::IpNet>()
                        .or_else(|_| cidr.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            err("WEBHOOK_ALLOWED_CIDRS", format!("{cidr:?} is not an address or CIDR block"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(WebhookSettings {
        allow_http,
        allowed_cidrs,
        poll_interval: duration(get, "WEBHOOK_POLL_INTERVAL", Duration::from_secs(1))?,
        disable_after: number(get, "WEBHOOK_DISABLE_AFTER", 20, 1, 10_000)? as i32,
        log_retention: match duration(get, "WEBHOOK_LOG_RETENTION", Duration::from_secs(30 * 24 * 3600))? {
            short if short < Duration::from_secs(24 * 3600) => {
                return Err(err(
                    "WEBHOOK_LOG_RETENTION",
                    "must be at least 1d (a failed delivery needs a day to be retried)",
                ));
            }
            kept => kept,
        },
    })
}

/// `900`, `900s`, `15m`, `1h 30m`, `30d`.
fn duration(get: &Get<'_>, variable: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    let Some(raw) = get(variable) else { return Ok(default) };
    let parsed = match raw.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(&raw)
            .map_err(|_| err(variable, "must be a duration such as 900, 15m or 30d"))?,
    };
    if parsed.is_zero() {
        return Err(err(variable, "must be longer than zero"));
    }
    Ok(parsed)
}

fn number(
    get: &Get<'_>,
    variable: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    let Some(raw) = get(variable) else { return Ok(default) };
    match raw.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(err(variable, format!("must be a whole number from {min} to {max}"))),
    }
}

fn parse_mail_url(raw: &str) -> Result<MailTransport, ConfigError> {
    let url = Url::parse(raw).map_err(|e| err("MAIL_URL", e))?;
    match url.scheme() {
        "smtp" | "smtps" if url.host_str().is_none_or(str::is_empty) => {
            Err(err("MAIL_URL", "an smtp:// URL needs a host"))
        }
        "smtp" | "smtps" => {
            for (key, value) in url.query_pairs() {
                match (key.as_ref(), value.as_ref()) {
                    ("tls", "required" | "opportunistic" | "none") if url.scheme() == "smtp" => {}
                    ("tls", _) if url.scheme() == "smtp" => {
                        return Err(err("MAIL_URL", "tls must be required, opportunistic or none"));
                    }
                    _ => return Err(err("MAIL_URL", format!("unknown parameter {key:?}"))),
                }
            }
            Ok(MailTransport::Smtp(url))
        }
        // A host in a file URL (file://mail/dir) would silently drop its first folder.
        "file" if url.host_str().is_some_and(|host| !host.is_empty() && host != "localhost") => {
            Err(err("MAIL_URL", "must be file:///absolute/folder (three slashes)"))
        }
        "file" => Ok(MailTransport::File(PathBuf::from(url.path()))),
        "log" => Ok(MailTransport::Log),
        _ => Err(err("MAIL_URL", "must be smtp://host:port, smtps://host:port, file:///dir or log://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_databases_mfa_key_is_made_once_and_kept_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("dockgate-mfa-key-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mfa_encryption_key");
        let made = MfaKey::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(MfaKey::load_or_create(&path).unwrap(), made, "the same key at the next start");
        std::fs::write(&path, "not a key").unwrap();
        assert!(MfaKey::load_or_create(&path).unwrap_err().contains("32-byte"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_variables() {
        let config = config(&[]).unwrap();
        assert!(config.database_url.is_none());
        assert_eq!(config.bind_addr, "127.0.0.1:8080");
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.idempotency_key_ttl, Duration::from_secs(24 * 3600));
        assert_eq!(config.login_limits.per_account_and_client, 10);
        assert_eq!(config.login_limits.per_account, 50);
        assert_eq!(config.login_limits.per_client, 100);
        assert!(config.password_hash_concurrency >= 1);
        assert_eq!(config.password_hash_queue, 32 * config.password_hash_concurrency);
    }

    #[test]
    fn the_hashing_queue_follows_the_concurrency_unless_set() {
        let four = config(&[("PASSWORD_HASH_CONCURRENCY", "4")]).unwrap();
        assert_eq!((four.password_hash_concurrency, four.password_hash_queue), (4, 128));
        let set = config(&[("PASSWORD_HASH_CONCURRENCY", "1"), ("PASSWORD_HASH_QUEUE", "0")]).unwrap();
        assert_eq!((set.password_hash_concurrency, set.password_hash_queue), (1, 0));
    }

    #[test]
    fn a_database_url_may_name_several_hosts_for_libpq() {
        let url = "postgres://u:p@10.0.0.1:5432,10.0.0.2:5432/dockgate?target_session_attrs=read-write";
        let config = config(&[("DATABASE_URL", url)]).unwrap();
        assert_eq!(
            config
                .database_url
                .as_ref()
                .map(|u| secrecy::ExposeSecret::expose_secret(u).to_owned())
                .as_deref(),
            Some(url)
        );
        assert!(super::database_url(&|_: &str| Some("mysql://a:1,b:2/x".into())).is_err());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (variable, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("ACCESS_TOKEN_TTL", "soon"),
            ("LOG_FORMAT", "xml"),
            ("DB_POOL_SIZE", "0"),
            ("MAIL_URL", "carrier-pigeon://coop"),
            ("PORTAL_URL", "not a url"),
            ("RUST_LOG", "dockgate=loud["),
            ("SESSION_MAX_AGE", "1s"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("DATABASE_URL", "localhost/dockgate"),
            ("CORS_ALLOWED_ORIGINS", "https://portal.example.com/app"),
            ("PASSWORD_HASH_CONCURRENCY", "0"),
            ("PASSWORD_HASH_CONCURRENCY", "257"),
            ("PASSWORD_HASH_QUEUE", "-1"),
            ("IDEMPOTENCY_KEY_TTL", "23h"),
            ("WEBHOOK_ALLOW_HTTP", "yes"),
            ("WEBHOOK_ALLOWED_CIDRS", "10.0.0.0/33"),
            ("WEBHOOK_ALLOWED_CIDRS", "intranet"),
            ("WEBHOOK_DISABLE_AFTER", "0"),
            ("WEBHOOK_LOG_RETENTION", "23h"),
        ] {
            let error = config(&[(variable, value)]).err();
            assert_eq!(error.map(|e| e.variable), Some(variable), "{variable}={value}");
        }
    }

    #[test]
    fn webhooks_default_to_https_and_public_addresses_only() {
        let defaults = config(&[]).unwrap().webhooks;
        assert!(!defaults.allow_http && defaults.allowed_cidrs.is_empty());
        assert_eq!(
            (defaults.disable_after, defaults.log_retention),
            (20, Duration::from_secs(30 * 24 * 3600))
        );
        let open =
            config(&[("WEBHOOK_ALLOW_HTTP", "true"), ("WEBHOOK_ALLOWED_CIDRS", "10.20.0.0/16, 127.0.0.1")])
                .unwrap()
                .webhooks;
        assert!(open.allow_http);
        assert_eq!(open.allowed_cidrs, ["10.20.0.0/16".parse().unwrap(), "127.0.0.1/32".parse().unwrap()]);
    }

    #[test]
    fn cors_origins_are_exact_and_unset_means_none() {
        let none = config(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(none.cors_allowed_origins.is_empty());
        let two = config(&[("CORS_ALLOWED_ORIGINS", "https://portal.example.com, http://localhost:3000/")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(two.cors_allowed_origins, ["https://portal.example.com", "http://localhost:3000"]);
    }

    #[test]
    fn durations_accept_seconds_and_units() {
        let config = config(&[("ACCESS_TOKEN_TTL", "5m"), ("REFRESH_TOKEN_TTL", "86400")]).unwrap();
        assert_eq!(config.access_token_ttl, Duration::from_secs(300));
        assert_eq!(config.sessions.refresh_token_ttl, Duration::from_secs(86400));
    }

    #[test]
    fn mail_urls_pick_a_transport() {
        let smtp = config(&[("MAIL_URL", "smtp://localhost:2525")]).unwrap();
        assert!(matches!(smtp.mail, MailTransport::Smtp(_)));
        let file = config(&[("MAIL_URL", "file:///tmp/mail")]).unwrap();
        assert_eq!(file.mail, MailTransport::File(PathBuf::from("/tmp/mail")));
        let log = config(&[("MAIL_URL", "log://")]).unwrap();
        assert_eq!(log.mail, MailTransport::Log);
        for bad in
            ["smtp://relay?tls=maybe", "smtps://relay?debug=1", "file://relative/dir", "smtp:///nohost"]
        {
            assert_eq!(config(&[("MAIL_URL", bad)]).err().map(|e| e.variable), Some("MAIL_URL"), "{bad}");
        }
    }

    #[test]
    fn mail_defaults_to_files_on_the_embedded_database_and_to_the_log_with_database_url() {
        let embedded = config(&[("DOCKGATE_DATA_DIR", "/var/tmp/dg")]).unwrap();
        assert_eq!(embedded.mail, MailTransport::File(PathBuf::from("/var/tmp/dg/mail")));
        let external = config(&[("DATABASE_URL", "postgres://localhost/dockgate")]).unwrap();
        assert_eq!(external.mail, MailTransport::Log);
        assert_eq!(external.mail_from.to_string(), "dockgate <no-reply@localhost>");
        assert_eq!(external.mail_poll_interval, Duration::from_secs(2));
        assert_eq!(external.mail_retry_base, Duration::from_secs(30));
        assert_eq!(external.mail_max_attempts, 12);
    }

    #[test]
    fn mail_settings_are_validated() {
        for (variable, value) in [
            ("MAIL_FROM", "not a mailbox"),
            ("MAIL_POLL_INTERVAL", "often"),
            ("MAIL_RETRY_BASE", "2h"),
            ("MAIL_MAX_ATTEMPTS", "0"),
        ] {
            let error = config(&[(variable, value)]).err();
            assert_eq!(error.map(|e| e.variable), Some(variable), "{variable}={value}");
        }
        let custom =
            config(&[("MAIL_FROM", "Dispatch <dispatch@example.com>"), ("MAIL_POLL_INTERVAL", "250ms")])
                .unwrap();
        assert_eq!(custom.mail_from.email.to_string(), "dispatch@example.com");
        assert_eq!(custom.mail_poll_interval, Duration::from_millis(250));
    }

    #[test]
    fn the_smtp_password_stays_out_of_debug_output() {
        let smtp = config(&[("MAIL_URL", "smtp://mailer:hunter2secret@relay.example:587")]).unwrap();
        let shown = format!("{:?}", smtp.mail);
        assert!(!shown.contains("hunter2secret") && shown.contains("relay.example"), "{shown}");
    }
}
