//! What every handler can reach: the configuration (with the clock), the database pool, the
//! signing keys, the metrics and the password-hashing pool.

use crate::config::Config;
use crate::db::DbPool;
use crate::identity::hasher::Hasher;
use crate::identity::keys;
use crate::telemetry::Metrics;

pub struct AppState {
    pub config: Config,
    pub pool: DbPool,
    pub keys: keys::KeyStore,
    pub metrics: Metrics,
    /// Every password hash and verification of a request goes through it.
    pub hasher: Hasher,
}
