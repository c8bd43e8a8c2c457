//! A private PostgreSQL cluster for a machine with no `DATABASE_URL`: `cargo run` and the test
//! harness use it. It runs from the server binaries already on the machine, listens only on a
//! unix socket inside its own folder, and runs as the `postgres` user when we are root (the
//! server refuses to run as root).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::{Connection, PgConnection, RunQueryDsl, sql_query};

/// The port only names the socket file (`.s.PGSQL.<port>`); nothing listens on TCP.
pub const PORT: u16 = 54329;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries found (looked in `pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH): install the PostgreSQL server package (e.g. `apt-get install postgresql`) or set DATABASE_URL"
    )]
    NoBinaries,
    #[error(
        "running as root, but there is no `postgres` user to run the server as: create it (the PostgreSQL server package does) or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{0}")]
    Io(String),
}

/// Extra server settings, e.g. durability off for throw-away test clusters.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    pub settings: Vec<(String, String)>,
}

impl ServerOptions {
    /// Fast and unsafe: for test clusters whose data nobody needs after a crash.
    pub fn for_tests() -> Self {
        let settings = [
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("max_connections", "300"),
        ];
        Self { settings: settings.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect() }
    }
}

#[derive(Debug)]
pub struct EmbeddedPostgres {
    bindir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    as_postgres_user: bool,
}

impl EmbeddedPostgres {
    /// Prepares (but does not start) a cluster under `root`: `root/pgdata` holds the data,
    /// `root/run` the socket. Creates the cluster with `initdb` the first time.
    pub fn init(root: &Path) -> Result<Self, EmbeddedError> {
        let bindir = find_bindir().ok_or(EmbeddedError::NoBinaries)?;
        let as_postgres_user = nix::unistd::Uid::effective().is_root();
        let owner = if as_postgres_user {
            Some(
                nix::unistd::User::from_name("postgres")
                    .ok()
                    .flatten()
                    .ok_or(EmbeddedError::NoPostgresUser)?,
            )
        } else {
            None
        };
        fs::create_dir_all(root).map_err(|e| io(root, e))?;
        let root = root.canonicalize().map_err(|e| io(root, e))?;
        if owner.is_some() {
            reachable_by_others(&root)?;
        }
        let cluster = Self {
            bindir,
            data_dir: root.join("pgdata"),
            socket_dir: root.join("run"),
            log_file: root.join("postgres.log"),
            as_postgres_user,
        };
        for dir in [&cluster.data_dir, &cluster.socket_dir] {
            fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| io(dir, e))?;
        }
        if let Some(owner) = &owner {
            // The server runs as `postgres`: it must own its folders and reach them.
            fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).map_err(|e| io(&root, e))?;
            for path in [&cluster.data_dir, &cluster.socket_dir] {
                nix::unistd::chown(path.as_path(), Some(owner.uid), Some(owner.gid))
                    .map_err(|e| io(path, e))?;
            }
            if !cluster.log_file.exists() {
                fs::write(&cluster.log_file, b"").map_err(|e| io(&cluster.log_file, e))?;
            }
            nix::unistd::chown(cluster.log_file.as_path(), Some(owner.uid), Some(owner.gid))
                .map_err(|e| io(&cluster.log_file, e))?;
        }
        if !cluster.data_dir.join("PG_VERSION").exists() {
            let data_dir = path_str(&cluster.data_dir);
            cluster.run(
                "initdb",
                &["-D", &data_dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                "initdb (creating the embedded PostgreSQL cluster; its parent folders must be readable by the server's user)",
            )?;
        }
        Ok(cluster)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn is_running(&self) -> bool {
        let data_dir = path_str(&self.data_dir);
        self.command("pg_ctl", &["status", "-D", &data_dir]).is_ok_and(|out| out.status.success())
    }

    /// Starts the server unless it already runs; returns whether this call started it.
    pub fn start(&self, options: &ServerOptions) -> Result<bool, EmbeddedError> {
        if self.is_running() {
            return Ok(false);
        }
        let mut server_args = format!(
            "-c listen_addresses='' -k {} -p {PORT} -c unix_socket_permissions=0700",
            path_str(&self.socket_dir)
        );
        for (name, value) in &options.settings {
            server_args.push_str(&format!(" -c {name}={value}"));
        }
        let data_dir = path_str(&self.data_dir);
        let log_file = path_str(&self.log_file);
        self.run(
            "pg_ctl",
            &["start", "-w", "-t", "60", "-D", &data_dir, "-l", &log_file, "-o", &server_args],
            "starting the embedded PostgreSQL",
        )?;
        Ok(true)
    }

    pub fn stop(&self) -> Result<(), EmbeddedError> {
        let data_dir = path_str(&self.data_dir);
        self.run("pg_ctl", &["stop", "-w", "-m", "fast", "-D", &data_dir], "stopping the embedded PostgreSQL")
            .map(drop)
    }

    /// The argv that stops this cluster, for a process that outlives us (the test reaper).
    pub fn stop_command(&self) -> Vec<String> {
        let mut argv = self.prefix();
        argv.extend([
            path_str(&self.bindir.join("pg_ctl")),
            "stop".into(),
            "-w".into(),
            "-m".into(),
            "fast".into(),
            "-D".into(),
            path_str(&self.data_dir),
        ]);
        argv
    }

    /// A libpq URL for `database` over the cluster's socket.
    pub fn url(&self, database: &str) -> String {
        let host = percent_encoding::utf8_percent_encode(
            &path_str(&self.socket_dir),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        format!("postgres://postgres@{host}:{PORT}/{database}")
    }

    /// Creates `database` unless it exists.
    pub fn ensure_database(&self, database: &str) -> Result<(), EmbeddedError> {
        let mut conn =
            PgConnection::establish(&self.url("postgres")).map_err(|e| EmbeddedError::Command {
                what: "connecting to the embedded PostgreSQL".into(),
                detail: e.to_string(),
            })?;
        let exists =
            diesel::select(diesel::dsl::exists(pg_database::table.filter(pg_database::datname.eq(database))))
                .get_result::<bool>(&mut conn);
        if !exists.unwrap_or(false) {
            let quoted = database.replace('"', "\"\"");
            sql_query(format!("CREATE DATABASE \"{quoted}\"")).execute(&mut conn).map_err(|e| {
                EmbeddedError::Command {
                    what: format!("creating database {database}"),
                    detail: e.to_string(),
                }
            })?;
        }
        Ok(())
    }

    fn prefix(&self) -> Vec<String> {
        if self.as_postgres_user {
            vec!["runuser".into(), "-u".into(), "postgres".into(), "--".into()]
        } else {
            Vec::new()
        }
    }

    fn command(&self, program: &str, args: &[&str]) -> std::io::Result<Output> {
        let binary = path_str(&self.bindir.join(program));
        let mut argv = self.prefix();
        argv.push(binary);
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        let (head, tail) = argv.split_first().ok_or_else(|| std::io::Error::other("empty command"))?;
        // The server must not inherit our stdin/out: it outlives this call.
        Command::new(head).args(tail).current_dir("/").stdin(std::process::Stdio::null()).output()
    }

    fn run(&self, program: &str, args: &[&str], what: &str) -> Result<Output, EmbeddedError> {
        let output = self
            .command(program, args)
            .map_err(|e| EmbeddedError::Command { what: what.into(), detail: e.to_string() })?;
        if output.status.success() {
            Ok(output)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stdout = String::from_utf8_lossy(&output.stdout);
            Err(EmbeddedError::Command {
                what: what.into(),
                detail: format!(
                    "{} {} (server log: {})",
                    stderr.trim(),
                    stdout.trim(),
                    self.log_file.display()
                ),
            })
        }
    }
}

diesel::table! {
    pg_database (datname) {
        datname -> Text,
    }
}

use diesel::{ExpressionMethods, QueryDsl};

/// The server runs as `postgres`: every folder above the cluster must let others through.
fn reachable_by_others(root: &Path) -> Result<(), EmbeddedError> {
    for dir in root.ancestors().skip(1) {
        let mode = fs::metadata(dir).map_err(|e| io(dir, e))?.permissions().mode();
        if mode & 0o001 == 0 {
            return Err(EmbeddedError::Io(format!(
                "the embedded PostgreSQL runs as the `postgres` user, which cannot enter {} (mode {:o}); set DOCKGATE_DATA_DIR to a folder it can reach (e.g. /var/tmp/dockgate) or set DATABASE_URL",
                dir.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn io(path: &Path, error: impl std::fmt::Display) -> EmbeddedError {
    EmbeddedError::Io(format!("{}: {error}", path.display()))
}

/// `pg_config --bindir` when it has a server, else the newest `/usr/lib/postgresql/*/bin`,
/// else `PATH`.
fn find_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("pg_ctl").is_file() && dir.join("initdb").is_file();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| has_server(dir))
}
