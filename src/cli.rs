//! The command line: `serve` (the default), `migrate`, `create-admin`, `rotate-keys`, `openapi`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diesel::{Connection, PgConnection};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::accounts::{AccountStatus, NewAccount, queries as accounts};
use crate::audit::{self, Author, Event};
use crate::config::Config;
use crate::db::{self, embedded::EmbeddedPostgres, embedded::ServerOptions, types::Email};
use crate::identity::{keys, passwords};
use crate::permissions::{DataScope, Kind, Role};
use crate::staff::dto::StaffView;
use crate::startup::Application;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "dockgate",
    version,
    about = "Customer access service of the dispatch platform",
    after_help = "Configuration comes from environment variables only (DATABASE_URL, BIND_ADDR, PORTAL_URL, \
MAIL_URL, ...; see .env.example and the README). With no DATABASE_URL, an embedded PostgreSQL under \
DOCKGATE_DATA_DIR (default .dockgate) is started."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default); applies pending migrations first.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Create a platform admin (the first staff user).
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// The password (visible in the process list; prefer --password-stdin).
        #[arg(long, required_unless_present = "password_stdin", conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, default_value = "Platform admin")]
        name: String,
    },
    /// Add a new signing key and retire the current one (kept in the JWKS until its tokens expire).
    RotateKeys,
    /// Print the OpenAPI document.
    Openapi,
    /// Exit 0 when the server on BIND_ADDR answers /health/ready with 200 (a container probe).
    Healthcheck,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        return match openapi_json() {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string()),
    };
    if let Command::Healthcheck = command {
        return match healthcheck(&config.bind_addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        };
    }
    telemetry::init(config.log_format);
    let result = match command {
        Command::Serve => serve(config),
        Command::Migrate => with_database(&config, |conn| {
            let applied = db::migrate(conn)?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }),
        Command::CreateAdmin { email, password, password_stdin, name } => {
            let password = match (password, password_stdin) {
                (Some(password), _) => Ok(SecretString::from(password)),
                (None, _) => read_password_line(),
            };
            password.and_then(|password| {
                with_database(&config, |conn| create_admin(conn, &email, &password, &name))
            })
        }
        Command::RotateKeys => with_database(&config, |conn| {
            db::migrate(conn)?;
            let kid = keys::rotate(conn).map_err(|e| e.to_string())?;
            println!("new signing key {kid}; the previous one stays published until its tokens expire");
            Ok(())
        }),
        // Both answered above, before the configuration's side effects (logging, the database).
        Command::Healthcheck | Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("dockgate: {message}");
    ExitCode::FAILURE
}

pub fn openapi_json() -> Result<String, String> {
    serde_json::to_string_pretty(&crate::routes::document_json()).map_err(|e| e.to_string())
}

/// Asks the server this configuration serves on whether it is ready. A wildcard bind address
/// (`0.0.0.0`, `[::]`, as in a container) is asked on loopback.
fn healthcheck(bind_addr: &str) -> Result<(), String> {
    let port = bind_addr.rsplit(':').next().unwrap_or("8080");
    let host = bind_addr[..bind_addr.len() - port.len()].trim_end_matches(':');
    let host = match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "[::]" => "[::1]",
        other => other,
    };
    let url = format!("http://{host}:{port}/health/ready");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(&url).call() {
        Ok(response) if response.status() == 200 => Ok(()),
        Ok(response) => Err(format!("{url} answered {}", response.status())),
        Err(e) => Err(format!("{url} did not answer: {e}")),
    }
}

fn read_password_line() -> Result<SecretString, String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// The embedded cluster while a command runs; stopped on drop if this process started it.
struct EmbeddedGuard {
    cluster: EmbeddedPostgres,
    started_here: bool,
}

impl Drop for EmbeddedGuard {
    fn drop(&mut self) {
        if self.started_here {
            match self.cluster.stop() {
                Ok(()) => tracing::info!("embedded PostgreSQL stopped"),
                Err(e) => tracing::warn!(error = %e, "stopping the embedded PostgreSQL failed"),
            }
        }
    }
}

const EMBEDDED_DATABASE: &str = "dockgate";
/// The embedded database's MFA key, in `DOCKGATE_DATA_DIR` next to `pgdata`.
const MFA_KEY_FILE: &str = "mfa_encryption_key";

/// `DATABASE_URL`, or the embedded cluster under `DOCKGATE_DATA_DIR` (started if needed).
fn database(config: &Config) -> Result<(String, Option<EmbeddedGuard>), String> {
    if let Some(url) = &config.database_url {
        return Ok((url.expose_secret().to_owned(), None));
    }
    let cluster = EmbeddedPostgres::init(&config.data_dir).map_err(|e| e.to_string())?;
    let started_here = cluster.start(&ServerOptions::default()).map_err(|e| e.to_string())?;
    let guard = EmbeddedGuard { cluster, started_here };
    guard.cluster.ensure_database(EMBEDDED_DATABASE).map_err(|e| e.to_string())?;
    tracing::info!(
        data_dir = %guard.cluster.data_dir().display(),
        reused = !started_here,
        "using the embedded PostgreSQL (no DATABASE_URL); its data lives in {}",
        guard.cluster.data_dir().display()
    );
    if !started_here {
        tracing::info!(
            "the embedded PostgreSQL was already running (another dockgate, or one that was killed): \
             using it, and leaving it running when this process exits"
        );
    }
    Ok((guard.cluster.url(EMBEDDED_DATABASE), Some(guard)))
}

fn with_database(
    config: &Config,
    work: impl FnOnce(&mut PgConnection) -> Result<(), String>,
) -> Result<(), String> {
    let (url, _guard) = database(config)?;
    let mut conn =
        PgConnection::establish(&url).map_err(|e| format!("cannot connect to the database: {e}"))?;
    work(&mut conn)
}

fn create_admin(
    conn: &mut PgConnection,
    email: &str,
    password: &SecretString,
    name: &str,
) -> Result<(), String> {
    let email = Email::parse(email).ok_or_else(|| format!("{email:?} is not an e-mail address"))?;
    passwords::check_policy(password.expose_secret(), Some(email.as_str()), "password")
        .map_err(|e| format!("password {}", e.message))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err("--name must be 1 to 200 characters".into());
    }
    db::migrate(conn)?;
    let hash =
        passwords::hash(password.expose_secret()).map_err(|e| format!("cannot hash the password: {e}"))?;
    let account = NewAccount {
        id: Uuid::now_v7(),
        kind: Kind::Staff,
        customer_id: None,
        email: Some(email.clone()),
        name: name.to_owned(),
        phone: None,
        password_hash: Some(hash),
        role: Role::PlatformAdmin,
        status: AccountStatus::Active,
        login_enabled: true,
        customer_ids: Vec::new(),
        permissions: Vec::new(),
        data_scope: DataScope::All,
        valid_until: None,
    };
    let created = conn.transaction(|conn| {
        let row = accounts::insert(conn, &account)?;
        let author = Author {
            actor_id: None,
            actor_kind: Some(audit::ActorKind::Cli),
            request_id: None,
            client_addr: None,
        };
        audit::record(
            conn,
            &author,
            Event {
                action: audit::Action::StaffCreated,
                target_type: audit::Target::Staff,
                target_id: row.id,
                customer_id: None,
                changes: audit::changes(None, Some(&StaffView::try_from(&row)?)),
                visibility: audit::Visibility::Everyone,
                data: None,
                before: None,
            },
        )?;
        Ok(row)
    });
    match created {
        Ok(row) => {
            println!("created platform admin {} ({})", email, row.id);
            Ok(())
        }
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(format!("a user with e-mail {email} already exists; nothing was changed"))
        }
        Err(e) => Err(format!("cannot create the admin: {e}")),
    }
}

fn serve(mut config: Config) -> Result<(), String> {
    let (url, guard) = database(&config)?;
    config.database_url = Some(SecretString::from(url));
    // The embedded database is a developer's: its MFA key lives beside it, made once.
    if guard.is_some() && config.sign_in.mfa_encryption_key.is_none() {
        let path = config.data_dir.join(MFA_KEY_FILE);
        config.sign_in.mfa_encryption_key = Some(crate::config::MfaKey::load_or_create(&path)?);
        tracing::info!(path = %path.display(), "no MFA_ENCRYPTION_KEY: using the embedded database's own key");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = runtime.block_on(async {
        let app = Application::build(config.clone()).await.map_err(|e| e.to_string())?;
        tracing::info!(addr = %config.bind_addr, port = app.port(), "dockgate is listening");
        app.stop_on_signals();
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    drop(runtime);
    drop(guard);
    result
}
