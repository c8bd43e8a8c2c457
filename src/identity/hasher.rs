//! The password hashing pool: every Argon2 hash and verification a request needs runs here, on a
//! fixed set of OS threads of its own, behind a bounded queue.
//!
//! Why not `spawn_blocking` like the database calls: argon2's own entry points allocate and zero
//! a fresh 19 MiB working buffer per call, tokio's blocking pool grows to hundreds of threads
//! under a burst, and glibc keeps a heap arena per thread that ever allocated; a burst of
//! sign-ins left gigabytes resident, starved the database calls of threads, and more hashing
//! threads than cores only made each hash slower. Here at most `concurrency` hashes run at once,
//! each thread reuses one buffer for its whole life, at most `queue` more requests wait, and a
//! caller beyond that gets a 503 at once ([`AppError::Overloaded`]) instead of memory.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use argon2::password_hash::Error as HashError;
use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::AppError;

/// One thread's Argon2 working memory, grown once to the block count of the parameters.
type Memory = Vec<Block>;
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// What a caller turned away is told to wait: a full queue at the default length
/// (32 per thread, about 25 ms each) drains in under a second.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Length of the salt of a new hash, as `passwords::hash` makes it (the PHC recommendation).
const SALT_LEN: usize = 16;

/// Admits callers to the hashing pool; cheap to clone (all clones share one pool).
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// `concurrency + queue` permits: one per job running or waiting.
    admission: Arc<Semaphore>,
    /// Verified against for accounts without a (readable) hash, so they cost the same work.
    dummy: String,
}

/// A place in the pool, taken before the work that leads up to hashing so that a caller who
/// would be turned away learns it first. Run one job at a time through it; the place is given
/// back when the slot is dropped and no job of it is left.
pub struct HashSlot {
    hasher: Hasher,
    permit: Arc<OwnedSemaphorePermit>,
}

impl Hasher {
    /// Starts `concurrency` hashing threads (at least one) that at most `queue` further jobs
    /// wait for, and makes the dummy hash on them.
    pub async fn start(concurrency: usize, queue: usize) -> Result<Self, AppError> {
        let concurrency = concurrency.max(1);
        let pool = Pool::start(concurrency)?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
        let password = hex(&random);
        let dummy = pool.run(move |memory| hash(memory, &password)).await?.map_err(AppError::internal)?;
        let admission = Arc::new(Semaphore::new(concurrency + queue));
        Ok(Self { inner: Arc::new(Inner { pool, admission, dummy }) })
    }

    /// Takes a place in the pool, or fails with a 503 when every place is taken.
    pub fn admit(&self) -> Result<HashSlot, AppError> {
        let permit = self
            .inner
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Overloaded { retry_after_secs: RETRY_AFTER_SECS })?;
        Ok(HashSlot { hasher: self.clone(), permit: Arc::new(permit) })
    }

    /// [`HashSlot::verify`] with a place taken now.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool, AppError> {
        self.admit()?.verify(stored, password).await
    }

    /// [`HashSlot::hash`] with a place taken now.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.admit()?.hash(password).await
    }

    /// The most jobs that have run at the same moment since the pool started.
    pub fn peak_running(&self) -> usize {
        self.inner.pool.stats.peak.load(Ordering::SeqCst)
    }
}

impl HashSlot {
    /// Verifies `password` against `stored`, or against the dummy hash when there is none (or it
    /// cannot be read); true only for a real match. The work done is the same either way.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool, AppError> {
        let dummy = self.hasher.inner.dummy.clone();
        self.run(move |memory| verify(memory, stored.as_deref(), &dummy, &password)).await
    }

    /// Argon2id with the crate's defaults (m=19 MiB, t=2, p=1) and a fresh salt, as a PHC string:
    /// the same as `passwords::hash` makes.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move |memory| hash(memory, &password)).await?.map_err(AppError::internal)
    }

    /// Runs `work` on a hashing thread; the place stays taken until it has finished, even if
    /// the caller stops waiting.
    async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.permit);
        self.hasher
            .inner
            .pool
            .run(move |memory| {
                let _permit = permit;
                work(memory)
            })
            .await
    }
}

/// The threads and the queue they take jobs from. Dropping it lets the threads finish the jobs
/// already queued and exit.
struct Pool {
    queue: Arc<Queue>,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Stats {
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Pool {
    fn start(threads: usize) -> Result<Self, AppError> {
        let pool = Self { queue: Arc::new(Queue::default()), stats: Arc::new(Stats::default()) };
        for index in 0..threads {
            let (queue, stats) = (Arc::clone(&pool.queue), Arc::clone(&pool.stats));
            std::thread::Builder::new()
                .name(format!("dockgate-hash-{index}"))
                .spawn(move || serve(&queue, &stats))
                .map_err(|e| AppError::internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(pool)
    }

    /// Queues `work` (unbounded here: admission bounds it) and waits for its result. A panic
    /// in it drops the reply, which its caller sees as a 500.
    async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // The caller went away while the job waited (a client that hung up): skip the work.
            if reply.is_closed() {
                return;
            }
            let _ = reply.send(work(memory));
        });
        if !self.queue.push(job) {
            return Err(AppError::internal("the password hashing pool has stopped"));
        }
        result.await.map_err(|_| AppError::internal("a password hashing job panicked"))
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// The loop of one hashing thread: its buffer lives as long as the thread, so the allocator
/// sees one 19 MiB allocation per thread, ever.
fn serve(queue: &Queue, stats: &Stats) {
    let mut memory = Memory::new();
    while let Some(job) = queue.pop() {
        let running = stats.running.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak.fetch_max(running, Ordering::SeqCst);
        // A panic ends only the job: the buffer holds nothing the next hash does not overwrite.
        let _ = catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
        stats.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A FIFO many threads wait on (std's channel has a single receiver).
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Queue {
    // No job runs under the lock, so a poisoned lock still guards a consistent queue.
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, job: Job) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.jobs.push_back(job);
        drop(state);
        self.ready.notify_one();
        true
    }

    /// The next job; `None` once the queue is closed and empty.
    fn pop(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// Same parameters, salt length and PHC string as `passwords::hash` (`Argon2::default()`), with
/// the thread's buffer instead of a fresh one.
fn hash(memory: &mut Memory, password: &str) -> Result<String, HashError> {
    let params = Params::default();
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|_| HashError::RngFailure)?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut output, sized(memory, &params))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(Salt::new(&salt)?),
        hash: Some(Output::new(&output)?),
    };
    Ok(hash.to_string())
}

fn verify(memory: &mut Memory, stored: Option<&str>, dummy: &str, password: &str) -> bool {
    let matched = match stored.map(PasswordHash::new) {
        Some(Ok(parsed)) => matches(memory, &parsed, password).unwrap_or(false),
        // No hash, or one we cannot read: the same work against the dummy, never a match.
        _ => {
            let _ = PasswordHash::new(dummy).map(|parsed| matches(memory, &parsed, password));
            false
        }
    };
    matched && stored.is_some()
}

/// Recomputes `hash` from `password` with the hash's own algorithm, version, parameters and
/// salt, and compares the outputs in constant time (`Output`'s `PartialEq` is `ct_eq`).
fn matches(memory: &mut Memory, hash: &PasswordHash, password: &str) -> Result<bool, HashError> {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return Ok(false) };
    let algorithm = Algorithm::try_from(hash.algorithm.as_str())?;
    let version = hash.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let params = Params::try_from(hash)?;
    let mut computed = [0u8; Output::MAX_LENGTH];
    let computed = computed.get_mut(..expected.len()).ok_or(HashError::OutputSize)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    argon2.hash_password_into_with_memory(password.as_bytes(), salt, computed, sized(memory, &params))?;
    Ok(Output::new(computed)? == *expected)
}

/// The thread's buffer, grown (once, for the default parameters) to what `params` need.
fn sized<'a>(memory: &'a mut Memory, params: &Params) -> &'a mut [Block] {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::new());
    }
    memory
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::passwords;

    const PASSWORD: &str = "correct horse battery staple";

    async fn started(concurrency: usize, queue: usize) -> Hasher {
        Hasher::start(concurrency, queue).await.unwrap()
    }

    fn parsed(hash: &str) -> PasswordHash {
        PasswordHash::new(hash).unwrap()
    }

    #[tokio::test]
    async fn pool_hashes_and_the_synchronous_ones_verify_each_other() {
        let hasher = started(2, 4).await;
        let pooled = hasher.hash(PASSWORD.into()).await.unwrap();
        assert!(passwords::verify(Some(&pooled), PASSWORD));
        assert!(!passwords::verify(Some(&pooled), "wrong horse battery staple"));

        let synchronous = passwords::hash(PASSWORD).unwrap();
        let verify =
            |stored: Option<&str>, password: &str| hasher.verify(stored.map(Into::into), password.into());
        assert!(verify(Some(&synchronous), PASSWORD).await.unwrap());
        assert!(!verify(Some(&synchronous), "wrong horse battery staple").await.unwrap());
        assert!(verify(Some(&pooled), PASSWORD).await.unwrap());
        assert!(!verify(None, PASSWORD).await.unwrap());
        assert!(!verify(Some("not a phc string"), PASSWORD).await.unwrap());

        let (pooled, synchronous) = (parsed(&pooled), parsed(&synchronous));
        assert_eq!(pooled.algorithm, synchronous.algorithm);
        assert_eq!(pooled.version, synchronous.version);
        assert_eq!(pooled.params, synchronous.params);
        assert_eq!(pooled.salt.map(|s| s.len()), synchronous.salt.map(|s| s.len()));
        assert_eq!(pooled.hash.map(|h| h.len()), synchronous.hash.map(|h| h.len()));
    }

    /// The dummy is a real hash with the same parameters, so an unknown account costs a full
    /// verification.
    #[tokio::test]
    async fn the_dummy_hash_has_the_parameters_of_a_real_one() {
        let hasher = started(1, 0).await;
        let real = passwords::hash(PASSWORD).unwrap();
        let (dummy, real) = (parsed(&hasher.inner.dummy), parsed(&real));
        assert_eq!(
            (dummy.algorithm, dummy.version, dummy.params),
            (real.algorithm, real.version, real.params)
        );
    }

    #[tokio::test]
    async fn beyond_the_queue_callers_are_turned_away_and_never_more_than_the_concurrency_runs() {
        let hasher = started(1, 1).await;
        let attempts = (0..20).map(|_| hasher.verify(None, PASSWORD.into()));
        let outcomes = futures_util::future::join_all(attempts).await;

        let checked = outcomes.iter().filter(|o| matches!(o, Ok(false))).count();
        let turned_away = outcomes
            .iter()
            .filter(|o| matches!(o, Err(AppError::Overloaded { retry_after_secs: 1 })))
            .count();
        assert_eq!((checked, turned_away), (2, 18), "one running and one waiting; {outcomes:?}");
        assert_eq!(hasher.peak_running(), 1);
        // The places are given back: the next caller gets one.
        assert!(hasher.hash(PASSWORD.into()).await.is_ok());
    }

    /// The peak is a real observation: with more threads it sees them run side by side.
    #[tokio::test]
    async fn the_peak_sees_threads_running_side_by_side() {
        let hasher = started(3, 0).await;
        let outcomes =
            futures_util::future::join_all((0..3).map(|_| hasher.verify(None, PASSWORD.into()))).await;
        assert!(outcomes.iter().all(|o| matches!(o, Ok(false))), "{outcomes:?}");
        assert!((2..=3).contains(&hasher.peak_running()), "peak {}", hasher.peak_running());
    }

    #[tokio::test]
    async fn a_slot_holds_its_place_until_it_is_dropped() {
        let hasher = started(1, 0).await;
        let slot = hasher.admit().unwrap();
        assert!(matches!(hasher.admit(), Err(AppError::Overloaded { .. })));
        assert!(slot.verify(None, PASSWORD.into()).await.is_ok());
        assert!(matches!(hasher.admit(), Err(AppError::Overloaded { .. })), "still held between jobs");
        drop(slot);
        assert!(hasher.admit().is_ok());
    }

    #[tokio::test]
    async fn a_panicking_job_is_a_500_and_its_thread_keeps_serving() {
        let hasher = started(1, 0).await;
        let slot = hasher.admit().unwrap();
        let outcome: Result<(), AppError> = slot.run(|_| panic!("a bug in a hashing job")).await;
        assert!(matches!(outcome, Err(AppError::Internal(_))), "{outcome:?}");
        drop(slot);

        let stored = passwords::hash(PASSWORD).unwrap();
        assert!(hasher.verify(Some(stored), PASSWORD.into()).await.unwrap());
    }
}
