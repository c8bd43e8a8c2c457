//! When a delivery is attempted again: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
//! and 24 h (eight attempts over about 42 hours), each wait moved by up to 10 % either way so
//! deliveries that failed together do not come back together. A receiver's `Retry-After` makes a
//! wait longer, never shorter, and at most [`LONGEST_WAIT`].

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The waits after the first, second, ... failed attempt; after the last one the delivery fails.
pub const WAITS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(24 * 3600),
];

/// Attempts a delivery gets: the first, and one after each wait.
pub const MAX_ATTEMPTS: i32 = WAITS.len() as i32 + 1;

/// The longest a `Retry-After` can push an attempt out.
pub const LONGEST_WAIT: Duration = Duration::from_secs(24 * 3600);

/// The wait after the `attempts`-th attempt failed, or `None` when it was the last.
/// `retry_after` is what the receiver asked for, if anything.
pub fn next_wait(attempts: i32, retry_after: Option<Duration>) -> Option<Duration> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let wait = jittered(*WAITS.get(index)?, random_unit());
    Some(match retry_after {
        Some(asked) => wait.max(asked.min(LONGEST_WAIT)),
        None => wait,
    })
}

/// `wait` scaled by a factor between 0.9 and 1.1 (`unit` is in [0, 1]).
fn jittered(wait: Duration, unit: f64) -> Duration {
    wait.mul_f64(0.9 + 0.2 * unit.clamp(0.0, 1.0))
}

/// A number in [0, 1] from the operating system's generator; the middle (no jitter) when it has
/// none to give, which costs nothing but the spreading.
fn random_unit() -> f64 {
    getrandom::u32().map_or(0.5, |n| f64::from(n) / f64::from(u32::MAX))
}

/// A `Retry-After` value: delay seconds, or an HTTP date (a date in the past asks for nothing).
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is RFC 2822 with the zone spelt GMT.
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    (at - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_attempts_then_none_each_wait_within_ten_percent() {
        for (attempts, expected) in (1..).zip(WAITS) {
            let wait = next_wait(attempts, None).unwrap();
            assert!(wait >= expected.mul_f64(0.9) && wait <= expected.mul_f64(1.1), "{attempts}: {wait:?}");
        }
        assert_eq!(next_wait(MAX_ATTEMPTS, None), None);
        assert_eq!(next_wait(0, None), None);
        assert_eq!(jittered(Duration::from_secs(100), 0.0), Duration::from_secs(90));
        assert_eq!(jittered(Duration::from_secs(100), 1.0), Duration::from_secs(110));
    }

    #[test]
    fn retry_after_lengthens_never_shortens_and_is_capped() {
        let asked = next_wait(1, Some(Duration::from_secs(120))).unwrap();
        assert_eq!(asked, Duration::from_secs(120));
        let shorter = next_wait(2, Some(Duration::from_secs(1))).unwrap();
        assert!(shorter >= Duration::from_secs(270), "{shorter:?}");
        assert_eq!(next_wait(1, Some(Duration::from_secs(7 * 86_400))).unwrap(), LONGEST_WAIT);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(retry_after(" 30 ", now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Tue, 01 Dec 2026 10:02:00 GMT", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("Tue, 01 Dec 2026 09:00:00 GMT", now), None);
        assert_eq!(retry_after("soon", now), None);
    }
}
