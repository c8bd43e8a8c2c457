//! A real SMTP server for the tests: mailin speaks the protocol (parser and state machine), this
//! file only moves lines between a tokio socket and a mailin session, and keeps what arrives.
//!
//! ```ignore
//! let sink = SmtpSink::start().await;
//! let app = TestApp::spawn_with_mail(&sink).await;
//! // ... something that sends mail to ada@example.com ...
//! let mail = sink.wait_for("ada@example.com").await;
//! let token = mail.token("/password-reset");
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dockgate::config::MailTransport;
use mail_parser::{MessageParser, PartType};
use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// How long [`SmtpSink::wait_for`] waits.
const WAIT: Duration = Duration::from_secs(10);

/// One accepted message, parsed.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    pub subject: String,
    /// The decoded text/plain part ("" if there is none).
    pub text: String,
    /// The decoded text/html part ("" if there is none).
    pub html: String,
    /// The message as it came over the wire (dot-unstuffed).
    pub raw: String,
}

impl ReceivedMail {
    /// Parses a whole message (from SMTP or an `.eml` file).
    pub fn parse(to: Vec<String>, from: String, raw: &[u8]) -> Self {
        let message = MessageParser::default().parse(raw).expect("a parseable mail message");
        let mut text = None;
        let mut html = None;
        for part in &message.parts {
            match &part.body {
                PartType::Text(body) if text.is_none() => text = Some(body.to_string()),
                PartType::Html(body) if html.is_none() => html = Some(body.to_string()),
                _ => {}
            }
        }
        Self {
            to,
            from,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: text.unwrap_or_default(),
            html: html.unwrap_or_default(),
            raw: String::from_utf8_lossy(raw).into_owned(),
        }
    }

    /// The first URL in the text part whose path starts with `path_prefix` (e.g.
    /// `/password-reset`), or that starts with it when it is a whole URL
    /// (`http://localhost:3000/password-reset?token=`).
    pub fn link(&self, path_prefix: &str) -> String {
        self.text
            .split_whitespace()
            .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
            .map(|word| word.trim_end_matches(['.', ',', ')', '>', '"']))
            .find(|word| {
                word.starts_with(path_prefix)
                    || Url::parse(word).is_ok_and(|url| url.path().starts_with(path_prefix))
            })
            .unwrap_or_else(|| panic!("no link to {path_prefix} in the mail text:\n{}", self.text))
            .to_owned()
    }

    /// The `token` query value of [`link`](Self::link)`(path_prefix)`, decoded.
    pub fn token(&self, path_prefix: &str) -> String {
        let link = Url::parse(&self.link(path_prefix)).expect("the link is a URL");
        link.query_pairs()
            .find(|(key, _)| key == "token")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no token in {link}"))
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<ReceivedMail>>,
    /// Transactions still to refuse with a temporary failure.
    fail_next: Mutex<usize>,
    arrived: tokio::sync::Notify,
}

/// A listening SMTP server on 127.0.0.1; stops when dropped.
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    accepting: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on a free port.
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// A port that nothing listens on (yet): point dockgate at it, then [`start_on`] it later
    /// to play a mail server that was down.
    ///
    /// [`start_on`]: Self::start_on
    pub fn reserve() -> u16 {
        let probe = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a probe port");
        probe.local_addr().expect("probe address").port()
    }

    /// Listens on `port` (0: any free one).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .unwrap_or_else(|e| panic!("the SMTP sink cannot listen on port {port}: {e}"));
        let port = listener.local_addr().expect("sink address").port();
        let shared = Arc::new(Shared::default());
        let accepting = tokio::spawn(accept(listener, shared.clone()));
        Self { port, shared, accepting }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        smtp_url(self.port)
    }

    /// The `Config::mail` that sends here.
    pub fn transport(&self) -> MailTransport {
        transport_to(self.port)
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared.received.lock().expect("sink state").clone()
    }

    /// Answers the next `n` `DATA` commands with `451` (a temporary failure). (Not after the
    /// data: mailin stays in its data state after a refused message, which no real server does.)
    pub fn fail_next(&self, n: usize) {
        *self.shared.fail_next.lock().expect("sink state") = n;
    }

    /// The first message for `recipient`, waiting up to 10 seconds for it.
    pub async fn wait_for(&self, recipient: &str) -> ReceivedMail {
        self.wait_until(|mails| mails.iter().find(|m| m.to.iter().any(|to| to == recipient)).cloned())
            .await
            .unwrap_or_else(|| {
                panic!("no mail for {recipient} within {WAIT:?}; received: {:?}", self.recipients())
            })
    }

    /// Waits up to 10 seconds until at least `n` messages arrived; returns them all.
    pub async fn wait_for_count(&self, n: usize) -> Vec<ReceivedMail> {
        self.wait_until(|mails| (mails.len() >= n).then(|| mails.to_vec())).await.unwrap_or_else(|| {
            panic!("{n} mails expected within {WAIT:?}; received {}", self.received().len())
        })
    }

    async fn wait_until<T>(&self, found: impl Fn(&[ReceivedMail]) -> Option<T>) -> Option<T> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            // Registered before looking, so an arrival between the look and the wait still wakes us.
            let arrived = self.shared.arrived.notified();
            if let Some(value) = found(&self.shared.received.lock().expect("sink state")) {
                return Some(value);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    fn recipients(&self) -> Vec<Vec<String>> {
        self.received().into_iter().map(|m| m.to).collect()
    }
}

/// `smtp://127.0.0.1:PORT` for a port that may have no server yet.
pub fn smtp_url(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}")
}

/// The `Config::mail` for an SMTP server on `port` of 127.0.0.1.
pub fn transport_to(port: u16) -> MailTransport {
    MailTransport::Smtp(Url::parse(&smtp_url(port)).expect("an SMTP URL"))
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = tokio::task::JoinSet::new();
    while let Ok((stream, peer)) = listener.accept().await {
        sessions.spawn(converse(stream, peer.ip(), shared.clone()));
    }
}

/// One client connection: greeting, then each line to mailin and its reply back.
async fn converse(stream: TcpStream, peer: IpAddr, shared: Arc<Shared>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut session = SessionBuilder::new("sink.dockgate.test").build(peer, Transaction::new(shared));
    writer.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            Action::Reply => writer.write_all(&response.buffer()?).await?,
            Action::Close => {
                writer.write_all(&response.buffer()?).await?;
                return writer.shutdown().await;
            }
            Action::NoReply => {}
            // STARTTLS is never offered, so a client cannot ask for it.
            Action::UpgradeTls => return Ok(()),
        }
    }
}

/// mailin's callbacks for one connection: collects the envelope and data of each transaction.
struct Transaction {
    shared: Arc<Shared>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Transaction {
    fn new(shared: Arc<Shared>) -> Self {
        Self { shared, from: String::new(), to: Vec::new(), data: Vec::new() }
    }
}

impl Handler for Transaction {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        {
            let mut fail_next = self.shared.fail_next.lock().expect("sink state");
            if *fail_next > 0 {
                *fail_next -= 1;
                return Response::custom(451, "Temporary failure, try again later".to_owned());
            }
        }
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = ReceivedMail::parse(std::mem::take(&mut self.to), self.from.clone(), &self.data);
        self.shared.received.lock().expect("sink state").push(mail);
        self.shared.arrived.notify_waiters();
        mailin::response::OK
    }
}
