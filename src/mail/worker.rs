//! The outbox worker that runs in every instance: every `MAIL_POLL_INTERVAL` it claims due mail
//! ([`outbox::claim`]), renders and sends each outside any transaction, and records the outcome:
//! sent; or another attempt later, waiting `MAIL_RETRY_BASE` doubled per failure up to an hour;
//! or, after `MAIL_MAX_ATTEMPTS` (or at once for a mail that cannot be rendered), failed.

use std::time::Duration;

use futures_util::future::join_all;
use lettre::Address;
use lettre::message::Mailbox;
use tokio::sync::watch;

use super::outbox::{self, Claimed};
use super::transport::{self, SEND_TIMEOUT, Transport};
use super::{Mail, templates};
use crate::clock::Clock;
use crate::config::{Config, MAIL_RETRY_CAP};
use crate::db::outbox::{Queue, poll, short};
use crate::db::{self, DbPool};
use crate::error::AppError;

/// Mails claimed at once, and sent concurrently (each over its own connection: mail servers
/// commonly allow a client a handful). A full batch is followed by another claim at once.
const BATCH: i64 = 5;
/// How long a claimed mail stays away from other workers. Longer than [`SEND_TIMEOUT`] (the
/// batch is sent concurrently) plus recording the outcome, so a mail is sent by one worker only.
const LEASE: Duration = Duration::from_secs(120);
const _: () = assert!(LEASE.as_secs() > SEND_TIMEOUT.as_secs() + 30);

pub struct Worker {
    pool: DbPool,
    transport: Transport,
    from: Mailbox,
    poll_interval: Duration,
    retry_base: Duration,
    max_attempts: i32,
    clock: Clock,
}

/// Why an attempt did not deliver.
enum Failure {
    /// The stored mail itself is unusable (bad payload, bad address): no retry can help.
    Permanent(String),
    /// The transport failed; a later attempt may work.
    Temporary(String),
}

impl Worker {
    /// Fails when the transport cannot be set up or a template does not parse.
    pub fn new(config: &Config, pool: DbPool) -> Result<Self, String> {
        templates::check().map_err(|e| e.to_string())?;
        tracing::info!(transport = ?config.mail, from = %config.mail_from, "mail worker configured");
        Ok(Self {
            pool,
            transport: Transport::new(&config.mail)?,
            from: config.mail_from.clone(),
            poll_interval: config.mail_poll_interval,
            retry_base: config.mail_retry_base,
            max_attempts: config.mail_max_attempts,
            clock: config.clock.clone(),
        })
    }

    /// Delivers until `stop` turns true; a batch being sent is finished first.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        poll(Queue::Mail, self.poll_interval, BATCH as usize, stop, || self.deliver_due()).await;
    }

    /// Claims one batch and delivers it; returns how many mails it claimed.
    async fn deliver_due(&self) -> Result<usize, AppError> {
        let offset = self.clock.offset();
        let claimed = db::run(&self.pool, move |conn| outbox::claim(conn, BATCH, LEASE, offset)).await?;
        let count = claimed.len();
        join_all(claimed.into_iter().map(|mail| self.deliver(mail))).await;
        Ok(count)
    }

    async fn deliver(&self, mail: Claimed) {
        let outcome = self.attempt(&mail).await;
        let (id, template, attempts) = (mail.id, mail.template.clone(), mail.attempts);
        let recorded = match outcome {
            Ok(()) => db::run(&self.pool, move |conn| outbox::mark_sent(conn, &mail)).await,
            Err(Failure::Temporary(error)) if attempts < self.max_attempts => {
                let wait = backoff(self.retry_base, attempts);
                tracing::warn!(
                    mail_id = %id, %template, attempts, retry_in_s = wait.as_secs_f64(), %error,
                    "mail not delivered; will try again"
                );
                let offset = self.clock.offset();
                db::run(&self.pool, move |conn| outbox::retry_later(conn, &mail, wait, offset, &error)).await
            }
            Err(Failure::Temporary(error) | Failure::Permanent(error)) => {
                tracing::error!(mail_id = %id, %template, attempts, %error, "mail given up");
                db::run(&self.pool, move |conn| outbox::mark_failed(conn, &mail, &error)).await
            }
        };
        match recorded {
            Ok(1) => {}
            Ok(_) => tracing::warn!(mail_id = %id, "mail was claimed again before its outcome was recorded"),
            Err(error) => tracing::warn!(
                mail_id = %id, %error,
                "cannot record the outcome of a mail attempt; it is attempted again once its claim lapses"
            ),
        }
    }

    async fn attempt(&self, mail: &Claimed) -> Result<(), Failure> {
        let permanent =
            |what: &str, e: &dyn std::fmt::Display| Failure::Permanent(short(&format!("{what}: {e}")));
        let content: Mail =
            serde_json::from_value(mail.payload.clone()).map_err(|e| permanent("unreadable payload", &e))?;
        let rendered = templates::render(&content).map_err(|e| permanent("cannot render", &e))?;
        let address: Address = mail.recipient.parse().map_err(|e| permanent("bad recipient", &e))?;
        // The recipient's display name, when the mail knows it (an invitee has none yet).
        let name = match &content {
            Mail::Welcome { name, .. }
            | Mail::PasswordReset { name, .. }
            | Mail::MfaReset { name, .. }
            | Mail::SignupVerification { name, .. }
            | Mail::WebhookDisabled { name, .. } => Some(name.clone()),
            Mail::Invitation { .. } => None,
        };
        let message = transport::message(mail.id, &self.from, Mailbox::new(name, address), &rendered)
            .map_err(|e| permanent("cannot build the message", &e))?;
        self.transport
            .send(mail.id, message, &rendered)
            .await
            .map_err(|e| Failure::Temporary(short(&e.to_string())))
    }
}

/// The wait after the `attempts`-th failure: `base`, then doubling, at most an hour.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(31);
    base.saturating_mul(1u32 << doublings).min(MAIL_RETRY_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let base = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=9).map(|n| backoff(base, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(base, i32::MAX), MAIL_RETRY_CAP);
    }
}
