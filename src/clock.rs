//! The service's idea of "now" for things that expire (invitations, sign-up links): the system
//! clock, which tests can move forward instead of sleeping for seven days.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Shared by every clone (the configuration is cloned into each app), so a test that advances
/// its handle moves the clock of the running service.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    /// How far this clock is ahead of the system's: what a schedule kept on the database's clock
    /// (the webhook outbox) adds to `now()`, so a test that moves this clock makes retries due.
    pub fn offset(&self) -> Duration {
        Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    /// Moves this clock forward (tests only; production never calls it).
    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::default();
        let copy = clock.clone();
        copy.advance(Duration::days(8));
        assert!(clock.now() - Utc::now() >= Duration::days(8) - Duration::seconds(1));
    }
}
