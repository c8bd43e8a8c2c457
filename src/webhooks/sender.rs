//! One HTTP attempt of one delivery: a POST of the stored body, signed, to the endpoint's URL.
//!
//! The client is built once per worker: rustls, a 15 s limit per attempt, no redirects (a 3xx is
//! a failed attempt, as Standard Webhooks asks), no proxy from the environment (a proxy would
//! resolve the host itself), and a resolver that answers only with addresses the SSRF policy
//! approved in the same lookup, so the connection goes to exactly the addresses that were
//! checked. A URL with an IP literal is never resolved; it is checked before the request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

use super::target::{self, Policy, Refused};
use super::{schedule, signature};

/// Longest an attempt may take, from connecting to the response's head.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// What the worker knows of the message it sends.
pub struct Message<'a> {
    pub url: &'a str,
    /// `msg_<event id>`: the `webhook-id`.
    pub msg_id: &'a str,
    pub body: &'a str,
    pub secret: &'a str,
    /// The rotated-out secret while it still signs.
    pub previous_secret: Option<&'a str>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The receiver answered with this status (and maybe a `Retry-After`).
    Status { code: u16, retry_after: Option<Duration> },
    /// No answer: refused by the policy, unreachable, timed out. The text is stored.
    NoAnswer(String),
}

pub struct Sender {
    client: reqwest::Client,
    policy: Arc<Policy>,
}

/// The resolver of the client: the system's, then the policy.
struct Checked(Arc<Policy>);

impl Resolve for Checked {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let found = target::resolve(name.as_str(), 0).await?;
            let approved: Vec<SocketAddr> = policy.approve(found)?;
            Ok(Box::new(approved.into_iter()) as Addrs)
        })
    }
}

impl Sender {
    pub fn new(policy: Policy) -> Result<Self, String> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(Checked(policy.clone())))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self { client, policy })
    }

    /// One attempt; also returns how long it took (for the metrics).
    pub async fn send(&self, message: &Message<'_>) -> (Answer, Duration) {
        let started = Instant::now();
        let answer = self.attempt(message).await;
        (answer, started.elapsed())
    }

    async fn attempt(&self, message: &Message<'_>) -> Answer {
        let refused = |e: Refused| Answer::NoAnswer(format!("refused: {e}"));
        let url = match self.policy.parse(message.url) {
            Ok(url) => url,
            Err(e) => return refused(e),
        };
        if matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
            if let Err(e) = self.policy.addresses(&url).await {
                return refused(e);
            }
        }
        // System time, not the service clock: receivers compare it with theirs (5 minutes).
        let timestamp = Utc::now().timestamp();
        let signed = match signature::header(
            message.secret,
            message.previous_secret,
            message.msg_id,
            timestamp,
            message.body,
        ) {
            Ok(signed) => signed,
            Err(e) => return Answer::NoAnswer(e.to_string()),
        };
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("dockgate-webhooks/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", message.msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(message.body.to_owned());
        match request.send().await {
            Ok(response) => {
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| schedule::retry_after(v, Utc::now()));
                Answer::Status { code: response.status().as_u16(), retry_after }
            }
            Err(error) => Answer::NoAnswer(failure(&error)),
        }
    }
}

/// The reason an attempt got no answer: the innermost cause (reqwest's own text names the URL,
/// which the delivery log already shows), never a body.
fn failure(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let mut deepest = String::from("the request failed");
    let mut source = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return format!("refused: {refused}");
        }
        deepest = current.to_string();
        source = current.source();
    }
    if error.is_connect() { format!("cannot connect: {deepest}") } else { deepest }
}
