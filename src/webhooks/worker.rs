//! The delivery worker that runs in every instance, beside the mail worker: every
//! `WEBHOOK_POLL_INTERVAL` it claims due deliveries ([`deliveries::claim`]), sends each outside
//! any transaction ([`Sender`]) and records the outcome: delivered (2xx); the endpoint disabled
//! as gone (410); another attempt on the [`schedule`]; or, after the last attempt, failed, which
//! counts against the endpoint until `WEBHOOK_DISABLE_AFTER` disables it.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::watch;

use super::deliveries::{self, Due};
use super::sender::{self, Answer, Message, Sender};
use super::{schedule, target};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::outbox::{Queue, poll};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::telemetry::Metrics;

/// Deliveries claimed at once and sent concurrently (to different receivers, mostly). A full
/// batch is followed by another claim at once.
const BATCH: i64 = 10;
/// How long a claimed delivery stays away from other workers: longer than a lookup plus an
/// attempt plus recording the outcome, so a delivery is attempted by one worker at a time.
const LEASE: Duration = Duration::from_secs(60);
const _: () = assert!(LEASE.as_secs() > sender::TIMEOUT.as_secs() + target::RESOLVE_TIMEOUT.as_secs() + 30);

pub struct Worker {
    pool: DbPool,
    sender: Sender,
    poll_interval: Duration,
    disable_after: i32,
    clock: Clock,
    metrics: Metrics,
}

/// What an attempt came to, as the metrics label it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retry,
    Failed,
    Gone,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retry => "retry",
            Self::Failed => "failed",
            Self::Gone => "gone",
        }
    }
}

impl Worker {
    /// Fails when the HTTP client cannot be built.
    pub fn new(config: &Config, pool: DbPool, metrics: Metrics) -> Result<Self, String> {
        Ok(Self {
            pool,
            sender: Sender::new(target::Policy::from(&config.webhooks))?,
            poll_interval: config.webhooks.poll_interval,
            disable_after: config.webhooks.disable_after,
            clock: config.clock.clone(),
            metrics,
        })
    }

    /// Delivers until `stop` turns true; a batch being sent is finished first.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        poll(Queue::Webhooks, self.poll_interval, BATCH as usize, stop, || self.deliver_due()).await;
    }

    /// Claims one batch and delivers it; returns how many deliveries it claimed.
    async fn deliver_due(&self) -> Result<usize, AppError> {
        let offset = self.clock.offset();
        let claimed = db::run(&self.pool, move |conn| deliveries::claim(conn, BATCH, LEASE, offset)).await?;
        let count = claimed.len();
        join_all(claimed.into_iter().map(|due| self.deliver(due))).await;
        Ok(count)
    }

    async fn deliver(&self, due: Due) {
        let (id, endpoint_id, attempts) = (due.id, due.endpoint_id, due.attempts);
        if !due.endpoint_active {
            let recorded = db::run(&self.pool, move |conn| deliveries::endpoint_disabled(conn, &due)).await;
            return report(id, recorded);
        }
        let msg_id = due.msg_id();
        let message = Message {
            url: &due.url,
            msg_id: &msg_id,
            body: &due.payload,
            secret: &due.secret,
            previous_secret: due.previous_secret.as_deref(),
        };
        let (answer, elapsed) = self.sender.send(&message).await;
        let (offset, disable_after) = (self.clock.offset(), self.disable_after);
        let (status, error, retry_after) = match answer {
            Answer::Status { code, .. } if (200..300).contains(&code) => {
                self.metrics.webhook_attempt(Outcome::Delivered.as_str(), elapsed);
                let recorded =
                    db::run(&self.pool, move |conn| deliveries::delivered(conn, &due, code.into(), offset))
                        .await;
                return report(id, recorded);
            }
            Answer::Status { code: 410, .. } => {
                self.metrics.webhook_attempt(Outcome::Gone.as_str(), elapsed);
                tracing::warn!(delivery_id = %id, %endpoint_id, "webhook receiver answered 410; endpoint disabled");
                let recorded = db::run(&self.pool, move |conn| deliveries::gone(conn, &due, offset)).await;
                return report(id, recorded);
            }
            Answer::Status { code, retry_after } => (Some(i32::from(code)), answered(code), retry_after),
            Answer::NoAnswer(error) => (None, error, None),
        };
        let recorded = match schedule::next_wait(attempts, retry_after) {
            Some(wait) => {
                self.metrics.webhook_attempt(Outcome::Retry.as_str(), elapsed);
                tracing::info!(
                    delivery_id = %id, %endpoint_id, attempts, retry_in_s = wait.as_secs_f64(), %error,
                    "webhook not delivered; will try again"
                );
                let retry =
                    move |conn: &mut _| deliveries::retry_later(conn, &due, wait, offset, status, &error);
                db::run(&self.pool, retry).await
            }
            None => {
                self.metrics.webhook_attempt(Outcome::Failed.as_str(), elapsed);
                tracing::warn!(delivery_id = %id, %endpoint_id, attempts, %error, "webhook delivery given up");
                let give_up = move |conn: &mut _| {
                    deliveries::give_up(conn, &due, offset, status, &error, disable_after)
                };
                db::run(&self.pool, give_up).await
            }
        };
        report(id, recorded);
    }
}

/// The stored error of an answer that was not a success.
fn answered(code: u16) -> String {
    if (300..400).contains(&code) {
        format!("the receiver answered {code} (redirects are not followed)")
    } else {
        format!("the receiver answered {code}")
    }
}

fn report(id: uuid::Uuid, recorded: Result<usize, AppError>) {
    match recorded {
        Ok(1) => {}
        Ok(_) => {
            tracing::warn!(delivery_id = %id, "delivery was claimed again before its outcome was recorded")
        }
        Err(error) => tracing::warn!(
            delivery_id = %id, %error,
            "cannot record the outcome of a webhook attempt; it is attempted again once its claim lapses"
        ),
    }
}
