//! Where a rendered mail goes (`MAIL_URL`): an SMTP server through lettre, a folder of `.eml`
//! files, or the log. Also builds the message itself: multipart/alternative, text and HTML.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;
use url::Url;
use uuid::Uuid;

use super::templates::Rendered;
use crate::config::MailTransport;

/// Longest wait for one SMTP reply (lettre's default is a minute).
const SMTP_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a whole delivery may take. The worker's claim lease is longer, so no other worker
/// takes a mail while this one may still be sending it.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(PathBuf),
    Log,
}

/// Why a delivery did not happen; the text is stored with the mail, so it never holds secrets
/// (lettre's errors name the failing step and the server's reply, not the credentials).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(String);

impl Transport {
    pub fn new(setting: &MailTransport) -> Result<Self, String> {
        match setting {
            MailTransport::Smtp(url) => smtp(url).map(Self::Smtp),
            MailTransport::File(dir) => Ok(Self::File(dir.clone())),
            MailTransport::Log => {
                tracing::warn!(
                    "MAIL_URL=log:// writes every mail, sign-in links included, to the log instead of \
                     sending it; set MAIL_URL to an smtp:// server outside development"
                );
                Ok(Self::Log)
            }
        }
    }

    /// Delivers `message` (built from `content`) once; `id` is the outbox row's.
    pub async fn send(&self, id: Uuid, message: Message, content: &Rendered) -> Result<(), SendError> {
        match self {
            Self::Smtp(smtp) => match tokio::time::timeout(SEND_TIMEOUT, smtp.send(message)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(SendError(e.to_string())),
                Err(_) => {
                    Err(SendError(format!("no answer from the mail server in {}s", SEND_TIMEOUT.as_secs())))
                }
            },
            Self::File(dir) => write_eml(dir, id, &message.formatted())
                .await
                .map_err(|e| SendError(format!("cannot write to {}: {e}", dir.display()))),
            Self::Log => {
                let to: Vec<String> = message.envelope().to().iter().map(ToString::to_string).collect();
                tracing::info!(
                    mail_id = %id,
                    to = %to.join(", "),
                    subject = %content.subject,
                    text = %content.text,
                    "mail (MAIL_URL=log://, not sent)"
                );
                Ok(())
            }
        }
    }
}

fn smtp(url: &Url) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = url.host_str().ok_or("MAIL_URL: an smtp:// URL needs a host")?;
    let tls_mode = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
    let parameters = || TlsParameters::new(host.to_owned()).map_err(|e| format!("MAIL_URL: TLS setup: {e}"));
    let (tls, default_port) = match (url.scheme(), tls_mode.as_deref()) {
        ("smtps", _) => (Tls::Wrapper(parameters()?), 465),
        (_, Some("required")) => (Tls::Required(parameters()?), 25),
        (_, Some("none")) => (Tls::None, 25),
        _ => (Tls::Opportunistic(parameters()?), 25),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(SMTP_COMMAND_TIMEOUT));
    if !url.username().is_empty() {
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        builder = builder.credentials(Credentials::new(
            decode(url.username()),
            decode(url.password().unwrap_or_default()),
        ));
    }
    Ok(builder.build())
}

/// `<id>.eml`, written under a temporary name and renamed, so a reader never sees half a mail.
/// A retry of the same mail overwrites its file rather than adding one.
async fn write_eml(dir: &Path, id: Uuid, formatted: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let partial = dir.join(format!(".{id}.eml.partial"));
    tokio::fs::write(&partial, formatted).await?;
    tokio::fs::rename(&partial, dir.join(format!("{id}.eml"))).await
}

/// The message for `content`: text and HTML as alternatives, with a Message-ID made from the
/// outbox id, so a mail server that sees a retry of a mail it already has can tell.
pub fn message(
    id: Uuid,
    from: &Mailbox,
    to: Mailbox,
    content: &Rendered,
) -> Result<Message, lettre::error::Error> {
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(content.subject.clone())
        .message_id(Some(format!("<{id}@{}>", from.email.domain())))
        .multipart(MultiPart::alternative_plain_html(content.text.clone(), content.html.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Rendered {
        Rendered { subject: "Hi".into(), text: "plain body".into(), html: "<p>html body</p>".into() }
    }

    fn mailbox(raw: &str) -> Mailbox {
        raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    #[test]
    fn a_message_has_both_parts_and_a_stable_id() {
        let id = Uuid::now_v7();
        let built =
            message(id, &mailbox("dockgate <no-reply@localhost>"), mailbox("a@b.example"), &content())
                .unwrap();
        let text = String::from_utf8_lossy(&built.formatted()).into_owned();
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("text/plain") && text.contains("text/html"), "{text}");
        assert!(text.contains(&format!("Message-ID: <{id}@localhost>")), "{text}");
    }

    #[test]
    fn smtp_urls_build_transports() {
        for raw in
            ["smtp://localhost:2525", "smtp://u:p%40ss@relay.example?tls=required", "smtps://relay.example"]
        {
            let url = Url::parse(raw).unwrap();
            assert!(smtp(&url).is_ok(), "{raw}");
        }
    }
}
