//! The PostgreSQL server the tests run against, and a fresh database per test.
//!
//! With `TEST_DATABASE_URL` (or `DATABASE_URL`) set, that server is used: the tests need the
//! right to create databases there. Otherwise one private cluster (under the system temp
//! folder) serves the whole run, shared by every test process (`cargo test` binaries, `cargo nextest`'s process per
//! test): a setup lock serializes starting it, every process holds a shared lock while it runs,
//! and a detached reaper waiting for an exclusive lock stops the cluster once the last one exits.
//!
//! Each test gets its own database cloned from a migrated template (`CREATE DATABASE ..
//! TEMPLATE`), dropped when the test ends. A test that stops the server takes a
//! [`PrivateCluster`] of its own instead.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use diesel::{Connection, PgConnection, RunQueryDsl};
use dockgate::db::embedded::{EmbeddedPostgres, ServerOptions};
use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

enum Server {
    External(url::Url),
    Embedded(EmbeddedPostgres),
}

struct Shared {
    server: Server,
    template: String,
    // Held for the life of the process: the reaper waits for every holder to be gone.
    _users_lock: Option<Flock<File>>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

impl Server {
    fn url(&self, database: &str) -> String {
        match self {
            Server::External(base) => {
                let mut url = base.clone();
                url.set_path(&format!("/{database}"));
                url.to_string()
            }
            Server::Embedded(cluster) => cluster.url(database),
        }
    }
}

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let external = std::env::var("TEST_DATABASE_URL")
            .ok()
            .or_else(|| std::env::var("DATABASE_URL").ok())
            .filter(|url| !url.trim().is_empty());
        let template = template_name();
        match external {
            Some(url) => {
                let server = Server::External(url::Url::parse(&url).expect("TEST_DATABASE_URL is a URL"));
                // Another process may be building the same template: a Postgres advisory lock
                // serializes that on an external server.
                let mut admin =
                    PgConnection::establish(&server.url("postgres")).expect("connect to the test server");
                diesel::sql_query("SELECT pg_advisory_lock(7312001)").execute(&mut admin).expect("lock");
                build_template(&server, &mut admin, &template);
                diesel::sql_query("SELECT pg_advisory_unlock(7312001)").execute(&mut admin).expect("unlock");
                Shared { server, template, _users_lock: None }
            }
            None => embedded(template),
        }
    })
}

fn lock_file(path: &Path) -> File {
    OpenOptions::new().create(true).truncate(false).write(true).open(path).expect("open lock file")
}

fn embedded(template: String) -> Shared {
    // Under the system temp folder rather than target/: the server may run as `postgres`, which
    // must be able to reach it, and the socket path must stay short. One per checkout.
    let checkout = Sha256::digest(env!("CARGO_TARGET_TMPDIR").as_bytes());
    let root = std::env::temp_dir().join(format!(
        "dockgate-test-{}",
        checkout.iter().take(4).map(|b| format!("{b:02x}")).collect::<String>()
    ));
    fs::create_dir_all(&root).expect("create the test cluster folder");
    let setup = Flock::lock(lock_file(&root.join("setup.lock")), FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("setup lock: {e}"));
    let users_lock_path = root.join("users.lock");
    let users = Flock::lock(lock_file(&users_lock_path), FlockArg::LockShared)
        .unwrap_or_else(|(_, e)| panic!("users lock: {e}"));
    let cluster = EmbeddedPostgres::init(&root.join("cluster")).unwrap_or_else(|e| panic!("{e}"));
    cluster.start(&ServerOptions::for_tests()).unwrap_or_else(|e| panic!("{e}"));
    ensure_reaper(&root, &users_lock_path, &cluster);
    let server = Server::Embedded(cluster);
    let mut admin = PgConnection::establish(&server.url("postgres")).expect("connect to the test cluster");
    build_template(&server, &mut admin, &template);
    drop(admin);
    drop(setup);
    Shared { server, template, _users_lock: Some(users) }
}

/// Starts the process that stops the cluster when no test process holds the users lock, unless
/// one is already waiting. It is meant to outlive this process, so it is never waited for.
#[allow(clippy::zombie_processes)]
fn ensure_reaper(root: &Path, users_lock: &Path, cluster: &EmbeddedPostgres) {
    let pid_file = root.join("reaper.pid");
    let alive = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|pid| fs::read_to_string(format!("/proc/{}/cmdline", pid.trim())).ok())
        .is_some_and(|cmdline| cmdline.contains("flock"));
    if alive {
        return;
    }
    let child = Command::new("setsid")
        .arg("flock")
        .arg("-x")
        .arg(users_lock)
        .args(cluster.stop_command())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the test cluster reaper (needs setsid and flock from util-linux)");
    fs::write(&pid_file, child.id().to_string()).expect("write reaper pid");
}

/// The template's name carries a hash of the migrations, so editing one builds a new template.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut entries: Vec<PathBuf> = walk(&dir);
    entries.sort();
    for path in entries {
        hasher.update(path.strip_prefix(&dir).unwrap_or(&path).to_string_lossy().as_bytes());
        hasher.update(fs::read(&path).unwrap_or_default());
    }
    let digest = hasher.finalize();
    format!("dockgate_template_{}", digest.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

fn build_template(server: &Server, admin: &mut PgConnection, template: &str) {
    let _ = diesel::sql_query(format!("CREATE DATABASE {template}")).execute(admin);
    let mut conn = PgConnection::establish(&server.url(template)).expect("connect to the template");
    dockgate::db::migrate(&mut conn).unwrap_or_else(|e| panic!("{e}"));
}

/// A database of the test's own, dropped with it.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    /// The server's `postgres` database, to drop this one from.
    admin_url: String,
}

impl TestDatabase {
    pub fn create() -> Self {
        let shared = shared();
        let name = format!("dockgate_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            PgConnection::establish(&shared.server.url("postgres")).expect("connect to the test server");
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {}", shared.template))
            .execute(&mut admin)
            .expect("clone the template");
        Self { url: shared.server.url(&name), admin_url: shared.server.url("postgres"), name }
    }

    /// An empty database (no migrations), for tests of the migrations themselves.
    pub fn create_empty() -> Self {
        let shared = shared();
        let name = format!("dockgate_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            PgConnection::establish(&shared.server.url("postgres")).expect("connect to the test server");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
        Self { url: shared.server.url(&name), admin_url: shared.server.url("postgres"), name }
    }

    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the test database")
    }

    /// Drops the database now, with every connection to it (the app's pool included).
    pub fn drop_now(&self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut admin);
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// A PostgreSQL cluster of one test's own, for a test that stops and starts the server (the
/// shared one must keep serving every other test). Stopped and removed when dropped, so also
/// when the test panics.
pub struct PrivateCluster {
    root: PathBuf,
    server: EmbeddedPostgres,
}

impl PrivateCluster {
    pub fn start() -> Self {
        // Short: the socket path inside it must fit in a unix socket address.
        let id = uuid::Uuid::new_v4().simple().to_string();
        let root = std::env::temp_dir().join(format!("dockgate-own-{}", &id[..12]));
        let server = EmbeddedPostgres::init(&root).unwrap_or_else(|e| {
            let _ = fs::remove_dir_all(&root);
            panic!("{e}")
        });
        let cluster = Self { root, server };
        cluster.start_server();
        cluster
    }

    /// Stops the server the way an operator's restart does (`pg_ctl stop -m fast`: sessions
    /// are terminated, new connections refused); returns once it is down.
    pub fn stop_server(&self) {
        self.server.stop().unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn start_server(&self) {
        self.server.start(&ServerOptions::for_tests()).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A new, empty database on this cluster (the app migrates it when it starts).
    pub fn database(&self) -> TestDatabase {
        let name = "dockgate".to_owned();
        self.server.ensure_database(&name).unwrap_or_else(|e| panic!("{e}"));
        TestDatabase { url: self.server.url(&name), admin_url: self.server.url("postgres"), name }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if self.server.is_running() {
            let _ = self.server.stop();
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}
