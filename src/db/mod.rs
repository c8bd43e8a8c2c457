//! The database: the connection pool, the one helper that runs diesel off the async executor,
//! the embedded migrations, and the embedded PostgreSQL for a machine without `DATABASE_URL`.

pub mod embedded;
pub mod fixed;
pub mod ids;
pub mod outbox;
pub mod purge;
pub mod schema;
pub mod statements;
pub mod types;

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

pub type DbPool = Pool<Manager>;
pub type DbConn = PooledConnection<Manager>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a request waits for a free connection before it gets a 503.
const POOL_WAIT: Duration = Duration::from_secs(5);

/// A pool that does not connect until first use, so the process can start (and report itself
/// not ready) while the database is still coming up.
///
/// Connections are not tested on checkout; [`run`] retires those of a server that has gone
/// away instead (see [`Manager`]).
pub fn pool(database_url: &str, max_size: u32) -> DbPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(POOL_WAIT)
        .test_on_check_out(false)
        .build_unchecked(Manager(ConnectionManager::new(database_url)))
}

/// A pooled connection that [`run`] can retire: the pool drops it instead of handing it out
/// again.
pub struct PoolConnection {
    pg: PgConnection,
    retired: bool,
}

impl Deref for PoolConnection {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.pg
    }
}

impl DerefMut for PoolConnection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.pg
    }
}

/// diesel's connection manager, plus retirement. diesel drops a connection only when it is
/// left inside a transaction or its transaction bookkeeping saw the failure; a connection
/// whose server went away while a statement was being prepared (the first use of a
/// statement on that connection) looks healthy to it and would fail every request that gets
/// it, with "no connection to the server", long after the server is back.
pub struct Manager(ConnectionManager<PgConnection>);

impl ManageConnection for Manager {
    type Connection = PoolConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolConnection, Self::Error> {
        use diesel::Connection;
        let mut pg = self.0.connect()?;
        // Never hand out a connection to a server in recovery (a standby, or a primary that
        // was just demoted): every write on it would fail. Asked before the instrumentation
        // is installed, so the statement budgets do not count it; the pool then waits and
        // retries, and a request that gets nothing within the wait is a 503.
        if in_recovery(&mut pg)? {
            return Err(diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(
                "the server is in recovery (read-only); looking for the primary".into(),
            )));
        }
        pg.set_instrumentation(statements::Counting);
        Ok(PoolConnection { pg, retired: false })
    }

    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), Self::Error> {
        self.0.is_valid(&mut conn.pg)
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        conn.retired || self.0.has_broken(&mut conn.pg)
    }
}

/// `SELECT pg_is_in_recovery()`: true on a standby (read-only).
pub fn in_recovery(conn: &mut PgConnection) -> Result<bool, diesel::r2d2::Error> {
    use diesel::RunQueryDsl;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>("pg_is_in_recovery()"))
        .get_result(conn)
        .map_err(diesel::r2d2::Error::QueryError)
}

/// Runs `work` with a pooled connection on the blocking thread pool: every diesel call goes
/// through here, so none blocks an async worker. The connection is taken inside the blocking
/// task, so waiting for one does not block either. A panic inside becomes a logged 500 rather
/// than taking an HTTP worker down.
pub async fn run<T, E, F>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<AppError> + Send + 'static,
{
    run_waiting(pool, POOL_WAIT, work).await
}

/// [`run`] inside one transaction: committed when `work` returns `Ok`, rolled back when it
/// returns an error (of any kind: a 404, a 409, a rule's 422). Every multi-statement change
/// goes through here, so no handler nests `conn.transaction` in [`run`].
pub async fn transaction<T, F>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| {
        use diesel::Connection;
        conn.transaction(work)
    })
    .await
}

/// [`transaction`] for a dry run: `work` runs with every check and write it would make, and
/// all of it is rolled back however it ends, so a bulk import's `dry_run` sees exactly what a
/// real run would (database constraints included) and leaves nothing behind, no mail either.
pub async fn rolled_back<T, F>(pool: &DbPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    /// Why the transaction ended: always an "error", so diesel rolls it back.
    enum Undone<T> {
        Done(T),
        Failed(AppError),
    }
    impl<T> From<diesel::result::Error> for Undone<T> {
        fn from(error: diesel::result::Error) -> Self {
            Self::Failed(error.into())
        }
    }
    run(pool, move |conn| {
        use diesel::Connection;
        let undone = conn.transaction::<(), Undone<T>, _>(|conn| match work(conn) {
            Ok(done) => Err(Undone::Done(done)),
            Err(error) => Err(Undone::Failed(error)),
        });
        match undone {
            Err(Undone::Done(done)) => Ok(done),
            Err(Undone::Failed(error)) => Err(error),
            Ok(()) => Err(AppError::internal("a rolled-back transaction committed")),
        }
    })
    .await
}

/// [`run`], waiting at most `wait` for a connection (readiness answers sooner than requests).
pub async fn run_waiting<T, E, F>(pool: &DbPool, wait: Duration, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<AppError> + Send + 'static,
{
    let pool = pool.clone();
    let counter = statements::current();
    blocking(move || {
        let mut conn = pool.get_timeout(wait)?;
        let result = statements::carrying(counter, || work(&mut conn)).map_err(Into::into);
        if let Err(AppError::Unavailable(_)) = &result {
            retire_if_lost(&pool, &mut conn);
        }
        result
    })
    .await
}

/// Tests a connection after a 503 (not on every checkout, which would cost every request a
/// round trip). A lost connection fails the test at once, without touching the network:
/// libpq already knows it is closed. One whose server is now read-only (a demoted primary,
/// SQLSTATE 25006 on a write) answers `true` and goes too, so the pool reconnects and libpq
/// finds the new primary. A healthy one (the 503 was pending migrations, say) stays.
fn retire_if_lost(pool: &DbPool, conn: &mut PoolConnection) {
    if matches!(in_recovery(&mut conn.pg), Ok(false)) {
        return;
    }
    conn.retired = true;
    // The idle connections went to the same server and are most likely lost too; testing
    // each could hang on a network that drops packets, and retiring a healthy one only costs
    // a reconnect. Bounded, as connections returned meanwhile may be fresh.
    for _ in 0..pool.max_size() {
        let Some(mut idle) = pool.try_get() else { break };
        idle.retired = true;
    }
}

/// Runs CPU-heavy or blocking work (Argon2, process management) off the async executor.
pub async fn blocking<T, F>(work: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(AppError::internal("a blocking task panicked")),
        Err(join) => Err(AppError::internal(format!("a blocking task was cancelled: {join}"))),
    }
}

/// A `LIKE`/`ILIKE` pattern matching `q` anywhere, with `%`, `_` and `\` in `q` taken literally
/// (the search parameters are substrings, not patterns).
pub fn contains_pattern(q: &str) -> String {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Serializes migrations between instances starting at the same time (diesel takes no lock).
const MIGRATION_LOCK: i64 = 0x646f_636b_6d69_6772; // "dockmigr"

/// Applies every pending migration; returns the versions applied.
pub fn migrate(conn: &mut PgConnection) -> Result<Vec<String>, String> {
    use diesel::RunQueryDsl;
    let lock = |sql: &str, conn: &mut PgConnection| {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
            .execute(conn)
            .map_err(|e| format!("cannot lock the migrations: {e}"))
    };
    lock("SELECT pg_advisory_lock($1)", conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| format!("migrations failed: {e}"));
    lock("SELECT pg_advisory_unlock($1)", conn)?;
    applied
}

/// True when the database has every migration this build knows.
pub fn migrations_applied(conn: &mut PgConnection) -> Result<bool, AppError> {
    conn.has_pending_migration(MIGRATIONS)
        .map(|pending| !pending)
        .map_err(|e| AppError::Unavailable(format!("cannot read migrations: {e}")))
}
