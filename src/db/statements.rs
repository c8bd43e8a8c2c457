//! Counts the SQL statements each request sends (`BEGIN` and `COMMIT` included: every round
//! trip to PostgreSQL), so the access log and, when `SERVER_TIMING=true`, the `Server-Timing`
//! header say how many a request took, and tests can hold each endpoint to its budget.
//!
//! The count follows the request, not the connection: [`counted`] scopes a counter over the
//! request's future (a task-local), [`super::run`] carries it onto the blocking thread that
//! holds the connection (a thread-local for the length of the work), and every pooled
//! connection's instrumentation adds its statements to whatever counter that thread carries.
//! Background work (mail, webhooks, the pruner) runs outside any request and is not counted.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The statements of one request so far.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU32>);

impl Counter {
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static REQUEST: Counter;
}

thread_local! {
    static CARRIED: RefCell<Option<Counter>> = const { RefCell::new(None) };
}

/// Runs `work` (a request) with a fresh counter, returned beside its output.
pub async fn counted<T>(work: impl Future<Output = T>) -> (T, Counter) {
    let counter = Counter::default();
    let output = REQUEST.scope(counter.clone(), work).await;
    (output, counter)
}

/// The counter of the request being served, if any: taken before work moves to another thread.
pub(super) fn current() -> Option<Counter> {
    REQUEST.try_with(Counter::clone).ok()
}

/// Runs `work` on this thread with `counter` carried, so the statements it sends are counted.
pub(super) fn carrying<T>(counter: Option<Counter>, work: impl FnOnce() -> T) -> T {
    let Some(counter) = counter else { return work() };
    let previous = CARRIED.with(|carried| carried.replace(Some(counter)));
    let output = work();
    CARRIED.with(|carried| *carried.borrow_mut() = previous);
    output
}

/// The instrumentation every pooled connection gets.
pub(super) struct Counting;

impl Instrumentation for Counting {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            CARRIED.with(|carried| {
                if let Some(counter) = carried.borrow().as_ref() {
                    counter.0.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    }
}
