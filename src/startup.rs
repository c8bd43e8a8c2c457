//! Building and running the HTTP application.
//!
//! [`Application::build`] migrates the database, makes sure a signing key exists, binds the
//! listener (port 0 works: tests use it), starts the background tasks (the mail and webhook
//! workers, the sign-in failure pruner) and returns; [`Application::run_until_stopped`] serves until
//! SIGINT/SIGTERM.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, ErrorHandlers, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use secrecy::ExposeSecret;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::db::{self, DbPool};
use crate::error::{self, AppError};
use crate::identity::hasher::Hasher;
use crate::identity::{keys, passwords, rate_limit};
use crate::mail::worker::Worker;
use crate::openapi::ApiDoc;
use crate::routes::KnownRoutes;
use crate::state::AppState;
use crate::telemetry::{self, Metrics};
use crate::webhooks::worker::Worker as WebhookWorker;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("DATABASE_URL is not set (and no embedded database was started)")]
    NoDatabase,
    #[error("cannot reach the database: {0}")]
    Database(String),
    #[error(
        "MFA_ENCRYPTION_KEY is not set, but {0}: without it nobody can sign in with MFA. Set it to 32 random bytes (openssl rand -base64 32), the same key as before if MFA was set up with one"
    )]
    MfaKeyMissing(&'static str),
    #[error("{0}")]
    Other(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

pub struct Application {
    port: u16,
    server: Server,
    pruner: tokio::task::JoinHandle<()>,
    key_refresher: tokio::task::JoinHandle<()>,
    mailer: tokio::task::JoinHandle<()>,
    webhooks: tokio::task::JoinHandle<()>,
    stop_workers: tokio::sync::watch::Sender<bool>,
}

/// How often each instance deletes sign-in failures and mail-throttle records that no longer
/// count, and idempotency keys past their time.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// How long a stopping instance lets requests in flight finish (SIGINT or SIGTERM).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a stopping instance lets the mail and webhook workers finish what they are sending;
/// a mail or delivery cut off mid-attempt is attempted again once its claim lapses.
const MAILER_GRACE: Duration = Duration::from_secs(10);

/// Refuses to start without `MFA_ENCRYPTION_KEY` while MFA is enforced or in use anywhere:
/// the TOTP secrets could not be opened, and whoever must or does use MFA could not sign in.
async fn mfa_key_present(config: &Config, pool: &DbPool) -> Result<(), StartupError> {
    if config.sign_in.mfa_encryption_key.is_some() {
        return Ok(());
    }
    if config.sign_in.staff_mfa_required {
        return Err(StartupError::MfaKeyMissing("STAFF_MFA_REQUIRED is on"));
    }
    let in_use = db::run(pool, crate::accounts::queries::mfa_in_use)
        .await
        .map_err(|e| StartupError::Database(e.to_string()))?;
    match in_use {
        Some(why) => Err(StartupError::MfaKeyMissing(why)),
        None => Ok(()),
    }
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let url = config.database_url.as_ref().ok_or(StartupError::NoDatabase)?.expose_secret().to_owned();
        let pool = db::pool(&url, config.db_pool_size);
        let mail_worker = Worker::new(&config, pool.clone()).map_err(StartupError::Other)?;
        let setup_pool = pool.clone();
        db::blocking(move || {
            let mut conn = setup_pool.get().map_err(|e| AppError::Unavailable(e.to_string()))?;
            let applied = db::migrate(&mut conn).map_err(AppError::Internal)?;
            if !applied.is_empty() {
                tracing::info!(migrations = ?applied, "applied migrations");
            }
            keys::ensure_signing_key(&mut conn)?;
            passwords::warm_up();
            Ok(())
        })
        .await
        .map_err(|e| StartupError::Database(e.to_string()))?;
        mfa_key_present(&config, &pool).await?;

        let metrics = Metrics::new().map_err(|e| StartupError::Other(e.to_string()))?;
        let webhook_worker =
            WebhookWorker::new(&config, pool.clone(), metrics.clone()).map_err(StartupError::Other)?;
        let hasher = Hasher::start(config.password_hash_concurrency, config.password_hash_queue)
            .await
            .map_err(|e| StartupError::Other(e.to_string()))?;
        let state = web::Data::new(AppState {
            keys: keys::KeyStore::new(pool.clone(), config.access_token_ttl, config.clock.clone()),
            pool: pool.clone(),
            metrics: metrics.clone(),
            hasher,
            config: config.clone(),
        });
        let keys_state = state.clone();
        let openapi = crate::routes::document();
        let served = crate::routes::document_json();
        let known_routes = web::Data::new(KnownRoutes::from_openapi(&openapi));
        let metrics = web::Data::new(metrics);
        let server_timing = telemetry::ServerTiming(config.server_timing);

        let listener = TcpListener::bind(&config.bind_addr)
            .map_err(|source| StartupError::Bind { addr: config.bind_addr.clone(), source })?;
        let port = listener.local_addr().map_err(|e| StartupError::Other(e.to_string()))?.port();
        let cors_origins = config.cors_allowed_origins.clone();
        let cors_enabled = !cors_origins.is_empty();
        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .app_data(state.clone())
                .app_data(metrics.clone())
                .configure(crate::routes::routes)
                .split_for_parts();
            app.service(web::redirect("/docs", "/docs/"))
                .service(
                    SwaggerUi::new("/docs/{_:.*}")
                        .external_urls_from_iter_unchecked([("/openapi.json", served.clone())]),
                )
                .app_data(known_routes.clone())
                .app_data(server_timing)
                .default_service(web::to(unmatched))
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|e, _| AppError::BadRequest(e.to_string()).into()),
                )
                .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
                .wrap(Condition::new(cors_enabled, crate::cors::middleware(&cors_origins)))
                .wrap(Condition::new(cors_enabled, from_fn(crate::cors::narrow)))
                .wrap(ErrorHandlers::new().default_handler(error::normalize))
                // Outside the problem normalizer: every error under /scim/v2 in SCIM's shape.
                .wrap(ErrorHandlers::new().default_handler(crate::scim::response::normalize))
                .wrap(from_fn(crate::response_headers::apply))
                .wrap(from_fn(telemetry::observe))
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind { addr: config.bind_addr.clone(), source })?
        .workers(config.http_workers)
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        // Our own handler (see `stop_on_signals`): actix stops at once on SIGINT.
        .disable_signals()
        .run();

        let pruner = tokio::spawn(prune(pool, Keep::from(&config), config.clock.clone()));
        let key_refresher = tokio::spawn(async move { keys_state.keys.keep_fresh().await });
        let (stop_workers, stopping) = tokio::sync::watch::channel(false);
        let mailer = tokio::spawn(mail_worker.run(stopping.clone()));
        let webhooks = tokio::spawn(webhook_worker.run(stopping));
        Ok(Self { port, server, pruner, key_refresher, mailer, webhooks, stop_workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (tests stop theirs when they end).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// On SIGINT (Ctrl-C) or SIGTERM (a container stop), stop accepting connections and let the
    /// requests in flight finish, for up to [`SHUTDOWN_GRACE`]: the same graceful stop for both.
    pub fn stop_on_signals(&self) {
        let handle = self.server.handle();
        tokio::spawn(async move {
            let interrupt = tokio::signal::ctrl_c();
            let terminate = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for SIGTERM");
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                _ = interrupt => tracing::info!("SIGINT: finishing the requests in flight, then stopping"),
                () = terminate => tracing::info!("SIGTERM: finishing the requests in flight, then stopping"),
            }
            handle.stop(true).await;
        });
    }

    /// Serves until the server is stopped (by [`Application::stop_on_signals`] or the handle).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.pruner.abort();
        self.key_refresher.abort();
        let _ = self.stop_workers.send(true);
        let (mut mailer, mut webhooks) = (self.mailer, self.webhooks);
        let both = async { tokio::join!(&mut mailer, &mut webhooks) };
        if tokio::time::timeout(MAILER_GRACE, both).await.is_err() {
            mailer.abort();
            webhooks.abort();
        }
        result
    }
}

async fn unmatched(req: HttpRequest, routes: web::Data<KnownRoutes>) -> Result<HttpResponse, AppError> {
    match routes.methods_of(req.path()) {
        Some(allow) => Err(AppError::MethodNotAllowed { allow: allow.to_owned() }),
        None => Err(AppError::NotFound),
    }
}

/// How long what [`prune`] deletes is kept.
#[derive(Clone, Copy)]
struct Keep {
    /// The sign-in limits' window.
    window: Duration,
    key_ttl: Duration,
    webhook_log: Duration,
}

impl From<&Config> for Keep {
    fn from(config: &Config) -> Self {
        Self {
            window: config.login_limits.window,
            key_ttl: config.idempotency_key_ttl,
            webhook_log: config.webhooks.log_retention,
        }
    }
}

/// Deletes sign-in failures that no limit counts any more, mail-throttle records that no
/// longer throttle anything, SCIM request counts of past minutes, idempotency keys older
/// than their TTL, webhook events past the delivery log's retention, sign-in step tokens and
/// refresh tokens a day past their end (in batches).
async fn prune(pool: DbPool, keep: Keep, clock: crate::clock::Clock) {
    let Keep { window, key_ttl, webhook_log } = keep;
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    loop {
        tick.tick().await;
        let keep_secs = window.as_secs_f64() * 2.0;
        if let Err(error) = db::run(&pool, move |conn| rate_limit::prune(conn, keep_secs)).await {
            tracing::warn!(%error, "pruning sign-in failures failed");
        }
        let now = clock.now();
        if let Err(error) = db::run(&pool, move |conn| crate::mail::throttle::prune(conn, now)).await {
            tracing::warn!(%error, "pruning mail-throttle records failed");
        }
        if let Err(error) = db::run(&pool, crate::scim::limits::prune).await {
            tracing::warn!(%error, "pruning SCIM request counts failed");
        }
        let purge = move |conn: &mut _| crate::idempotency::purge(conn, now, key_ttl);
        if let Err(error) = db::run(&pool, purge).await {
            tracing::warn!(%error, "purging idempotency keys failed");
        }
        let purge = move |conn: &mut _| crate::webhooks::deliveries::purge(conn, now, webhook_log);
        if let Err(error) = db::run(&pool, purge).await {
            tracing::warn!(%error, "purging the webhook delivery log failed");
        }
        // Sign-in step tokens live five minutes; a day later nobody asks about them.
        let purge =
            move |conn: &mut _| crate::identity::challenges::purge(conn, now - chrono::Duration::days(1));
        if let Err(error) = db::run(&pool, purge).await {
            tracing::warn!(%error, "purging sign-in step tokens failed");
        }
        // A day past its end a refresh token is refused anyway; reuse detection needs only
        // the tokens that could still be exchanged.
        let purge = move |conn: &mut _| {
            crate::identity::sessions::purge_refresh_tokens(conn, now - chrono::Duration::days(1))
        };
        if let Err(error) = db::run(&pool, purge).await {
            tracing::warn!(%error, "purging ended refresh tokens failed");
        }
    }
}
