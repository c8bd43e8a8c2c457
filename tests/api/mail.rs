//! The mail outbox's sending side: real PostgreSQL, the real app's worker, a real SMTP server.
//! No endpoint sends mail yet, so the tests queue mail the way handlers will: `mail::enqueue`.

use std::path::PathBuf;

use diesel::prelude::*;
use dockgate::config::MailTransport;
use dockgate::db::types::Email;
use dockgate::mail::{self, Mail};
use serde_json::json;
use url::Url;
use uuid::Uuid;

use crate::helpers::smtp::transport_to;
use crate::helpers::{ReceivedMail, SmtpSink, TestApp, eventually};

fn portal() -> Url {
    Url::parse("http://localhost:3000").unwrap()
}

fn reset(token: &str) -> Mail {
    Mail::PasswordReset {
        name: "Ada Lovelace".into(),
        link: mail::link(&portal(), "password-reset", token),
        link_valid_for: "1 hour".into(),
    }
}

fn enqueue(conn: &mut PgConnection, recipient: &str, mail: &Mail) -> Uuid {
    mail::enqueue(conn, None, &Email::parse(recipient).unwrap(), mail).unwrap()
}

fn recipient() -> String {
    format!("person-{}@customer.example", Uuid::new_v4().simple())
}

/// How minijinja writes a URL into HTML.
fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;").replace('/', "&#x2f;")
}

/// Waits until outbox row `id` has left `pending`, and returns it.
async fn settled(app: &TestApp, id: Uuid) -> crate::helpers::OutboxRow {
    eventually("the mail to be sent or given up", || {
        Some(app.outbox_row(id)).filter(|r| r.status != "pending")
    })
    .await
}

#[tokio::test]
async fn a_queued_reset_mail_arrives_over_smtp_with_both_parts_and_is_marked_sent() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let to = recipient();
    let id = enqueue(&mut app.conn(), &to, &reset("dgp_a+b/c"));

    let received = sink.wait_for(&to).await;
    assert_eq!(received.to, vec![to.clone()]);
    assert_eq!(received.from, "no-reply@localhost");
    assert_eq!(received.subject, "Choose a new password");
    let link = "http://localhost:3000/password-reset?token=dgp_a%2Bb%2Fc";
    assert_eq!(received.link("http://localhost:3000/password-reset?token="), link);
    assert_eq!(received.link("/password-reset"), link);
    assert_eq!(received.token("/password-reset"), "dgp_a+b/c");
    assert!(received.text.contains("1 hour"), "{}", received.text);
    assert!(received.html.contains(&html_escaped(link)), "{}", received.html);
    assert!(received.raw.contains("multipart/alternative"), "{}", received.raw);
    assert!(received.raw.contains(&format!("Message-ID: <{id}@localhost>")), "{}", received.raw);
    assert!(received.raw.contains("Ada Lovelace"), "the recipient is named: {}", received.raw);

    let row = settled(&app, id).await;
    assert_eq!((row.template.as_str(), row.recipient.as_str()), ("password_reset", to.as_str()));
    assert_eq!(row.status, "sent");
    assert_eq!(row.attempts, 1);
    assert_eq!(row.payload, json!({}), "the link's token is not kept");
    assert_eq!(row.last_error, None);
    assert!(row.sent_at.is_some());
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_welcome_mail_names_login_customer_and_portal_and_carries_the_set_password_link() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let to = recipient();
    let welcome = Mail::Welcome {
        name: "Grace <Admin>".into(),
        login: to.clone(),
        portal_url: portal().to_string(),
        customer_name: Some("Acme & Sons".into()),
        set_password_link: Some(mail::link(&portal(), "set-password", "dgp_first")),
        link_valid_for: Some("7 days".into()),
    };
    enqueue(&mut app.conn(), &to, &welcome);

    let received = sink.wait_for(&to).await;
    assert_eq!(received.subject, "Your login for Acme & Sons on the customer portal");
    for part in [&received.text, &received.html] {
        assert!(part.contains(&to), "the login is named: {part}");
        assert!(part.contains("7 days"), "{part}");
    }
    assert!(received.text.contains("http://localhost:3000/"), "{}", received.text);
    assert!(received.text.contains("Acme & Sons") && received.html.contains("Acme &amp; Sons"));
    assert!(received.html.contains("Grace &lt;Admin&gt;"), "{}", received.html);
    assert_eq!(received.token("/set-password"), "dgp_first");
}

#[tokio::test]
async fn mail_waits_for_a_mail_server_that_is_down_and_then_arrives_once() {
    let port = SmtpSink::reserve();
    let app = TestApp::spawn_with(|config| config.mail = transport_to(port)).await;
    let to = recipient();
    let id = enqueue(&mut app.conn(), &to, &reset("dgp_later"));

    let failing = eventually("two refused attempts", || {
        Some(app.outbox_row(id)).filter(|row| row.attempts >= 2 && row.last_error.is_some())
    })
    .await;
    assert_eq!(failing.status, "pending");
    assert!(failing.last_error.as_deref().unwrap().to_lowercase().contains("connect"), "{failing:?}");
    assert_ne!(failing.payload, json!({}), "the mail is kept until it is sent");

    let sink = SmtpSink::start_on(port).await;
    assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", sink.port()));
    let received = sink.wait_for(&to).await;
    assert_eq!(received.token("/password-reset"), "dgp_later");
    let row = settled(&app, id).await;
    assert_eq!(row.status, "sent");
    assert_eq!(row.last_error, None);
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_mail_exactly_once() {
    let sink = SmtpSink::start().await;
    let first = TestApp::spawn_with_mail(&sink).await;
    let _second = TestApp::spawn_on(first.db.clone(), |config| config.mail = sink.transport()).await;
    let recipients: Vec<String> = (0..20).map(|_| recipient()).collect();
    // One transaction: both workers see all twenty at once and compete for them.
    first
        .conn()
        .transaction(|conn| {
            for to in &recipients {
                enqueue(conn, to, &reset("dgp_many"));
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();

    sink.wait_for_count(recipients.len()).await;
    let rows = eventually("all twenty sent", || {
        let rows = first.outbox();
        rows.iter().all(|row| row.status == "sent").then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|row| row.attempts == 1), "each mail was claimed once: {rows:?}");
    let received = sink.received();
    for to in &recipients {
        let copies = received.iter().filter(|mail| mail.to.contains(to)).count();
        assert_eq!(copies, 1, "{to} got {copies} copies");
    }
    assert_eq!(received.len(), 20);
}

#[tokio::test]
async fn a_temporary_smtp_failure_is_retried() {
    let sink = SmtpSink::start().await;
    sink.fail_next(2);
    let app = TestApp::spawn_with_mail(&sink).await;
    let to = recipient();
    let id = enqueue(&mut app.conn(), &to, &reset("dgp_retry"));
    sink.wait_for(&to).await;
    let row = settled(&app, id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 3));
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn the_file_transport_writes_one_parseable_eml_per_mail() {
    let dir = TempDir::new();
    let folder = dir.0.join("not-there-yet");
    let app = TestApp::spawn_with(|config| config.mail = MailTransport::File(folder.clone())).await;
    let to = recipient();
    let id = enqueue(&mut app.conn(), &to, &reset("dgp_file"));

    let row = settled(&app, id).await;
    assert_eq!(row.status, "sent");
    let raw = std::fs::read(folder.join(format!("{id}.eml"))).unwrap();
    let mail = ReceivedMail::parse(Vec::new(), String::new(), &raw);
    assert_eq!(mail.subject, "Choose a new password");
    assert_eq!(mail.token("/password-reset"), "dgp_file");
    assert!(!mail.html.is_empty());
    assert!(mail.raw.contains(&format!("To: \"Ada Lovelace\" <{to}>")), "{}", mail.raw);
    let files: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files.len(), 1, "no partial files stay behind: {files:?}");
}

#[tokio::test]
async fn mail_is_given_up_after_the_last_attempt_and_its_payload_dropped() {
    let port = SmtpSink::reserve();
    let app = TestApp::spawn_with(|config| {
        config.mail = transport_to(port);
        config.mail_max_attempts = 3;
    })
    .await;
    let id = enqueue(&mut app.conn(), &recipient(), &reset("dgp_never"));

    let row = settled(&app, id).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 3);
    assert_eq!(row.payload, json!({}));
    assert!(row.last_error.is_some());
    assert_eq!(row.sent_at, None);
}

#[tokio::test]
async fn a_mail_that_cannot_be_rendered_fails_at_once() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let id = Uuid::now_v7();
    {
        use dockgate::db::schema::mail_outbox as o;
        diesel::insert_into(o::table)
            .values((
                o::id.eq(id),
                o::template.eq("welcome"),
                o::recipient.eq(recipient()),
                o::payload.eq(json!({"template": "welcome", "name": "no other fields"})),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }

    let row = settled(&app, id).await;
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
    assert!(row.last_error.as_deref().unwrap().contains("unreadable payload"), "{row:?}");
    assert_eq!(row.payload, json!({}));
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn with_the_log_transport_mail_counts_as_sent() {
    let app = TestApp::spawn().await;
    let id = enqueue(&mut app.conn(), &recipient(), &reset("dgp_log"));
    assert_eq!(settled(&app, id).await.status, "sent");
}

/// A fresh folder under the system temp folder, removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("dockgate-mail-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
