//! The test harness: the real application on a random port, against its own database, driven
//! over HTTP by typed actors.

pub mod actor;
pub mod cluster;
pub mod paths;
pub mod read;
pub mod receiver;
pub mod smtp;

use diesel::PgConnection;
use dockgate::accounts::{AccountStatus, NewAccount, UserRow, queries as accounts};
use dockgate::config::MailTransport;
use dockgate::db::types::Email;
use dockgate::identity::passwords;
use dockgate::permissions::{DataScope, Kind, Permission, Role};
use dockgate::{Application, Config};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

pub use actor::{Actor, address};
pub use cluster::{PrivateCluster, TestDatabase};
pub use paths::*;
pub use read::{answer, error_fields, etag_of, field_errors, id_of, json_of, problem, set};
pub use receiver::{Received, Receiver, Reply};
pub use smtp::{ReceivedMail, SmtpSink};

/// The password of the people the harness inserts.
pub const PASSWORD: &str = "correct horse battery staple";

/// The password of the people tests add through the API (see [`Actor::add_person`]).
pub const MEMBER_PASSWORD: &str = "a long depot passphrase";

/// An e-mail address nobody has yet, starting with `prefix`.
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@acme.example", &Uuid::new_v4().simple().to_string()[..8])
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: std::sync::Arc<TestDatabase>,
    handle: actix_web::dev::ServerHandle,
}

/// The configuration every test app starts from: no environment, port 0, a small pool. Mail
/// goes to the log (which tests do not show) unless a test sends it to an [`SmtpSink`]; the
/// worker polls often and retries soon, so mail tests are quick.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("default configuration");
    config.database_url = Some(database_url.to_owned().into());
    config.bind_addr = "127.0.0.1:0".into();
    config.db_pool_size = 4;
    config.http_workers = 1;
    // Every response says how many statements it took (tests hold endpoints to their budget).
    config.server_timing = true;
    config.mail = MailTransport::Log;
    config.mail_poll_interval = Duration::from_millis(100);
    config.mail_retry_base = Duration::from_millis(200);
    // Webhook receivers in tests listen on this machine: http, and loopback allowed. SSRF tests
    // put the defaults back (https only, nothing inside allowed).
    config.webhooks.allow_http = true;
    config.webhooks.allowed_cidrs =
        vec!["127.0.0.0/8".parse().expect("a CIDR"), "::1/128".parse().expect("a CIDR")];
    config.webhooks.poll_interval = Duration::from_millis(100);
    // TOTP secrets are sealed with this key (tests that check the missing-key refusal unset it).
    config.sign_in.mfa_encryption_key = Some(dockgate::config::MfaKey([7; 32]));
    // Many stories move the clock by days and go on with the same people; the idle-timeout
    // tests set it short themselves.
    config.sessions.idle_timeout = Duration::from_secs(365 * 24 * 3600);
    config
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An app whose mail goes to `sink`.
    pub async fn spawn_with_mail(sink: &SmtpSink) -> Self {
        Self::spawn_with(|config| config.mail = sink.transport()).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let db = std::sync::Arc::new(TestDatabase::create());
        Self::spawn_on(db, adjust).await
    }

    /// Another instance on the same database: what two replicas behind a load balancer share.
    pub async fn spawn_on(db: std::sync::Arc<TestDatabase>, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config(&db.url);
        adjust(&mut config);
        let app = Application::build(config).await.expect("the application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { address, client, db, handle }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn conn(&self) -> PgConnection {
        self.db.connect()
    }

    /// Whoever bears `access_token` (a forged one, or a key that is no JWT), to send with.
    pub fn bearer(&self, access_token: &str) -> Actor {
        Actor::new(&self.client, &self.address, access_token, "")
    }

    /// Whoever holds the token pair `pair` (`{"access_token", "refresh_token"}`, as sign-in,
    /// refresh, sign-up and accepting an invitation answer it). Its `email` and `password` are
    /// unknown (empty).
    pub fn holder_of(&self, pair: &Value) -> Actor {
        let (access_token, refresh_token) = actor::tokens_of(pair);
        Actor::new(&self.client, &self.address, access_token, refresh_token)
    }

    /// `POST` a JSON body without a token.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request")
    }

    /// Inserts a staff person directly (as `create-admin` does) and returns its row.
    pub fn insert_staff(&self, role: Role, email: &str, password: &str, customer_ids: &[Uuid]) -> UserRow {
        let account = NewAccount {
            id: Uuid::now_v7(),
            kind: Kind::Staff,
            customer_id: None,
            email: Some(Email::parse(email).expect("a valid e-mail")),
            name: format!("{role} {email}"),
            phone: None,
            password_hash: Some(passwords::hash(password).expect("hash")),
            role,
            status: AccountStatus::Active,
            login_enabled: true,
            customer_ids: customer_ids.iter().copied().map(Some).collect(),
            permissions: Vec::new(),
            data_scope: DataScope::All,
            valid_until: None,
        };
        accounts::insert(&mut self.conn(), &account).expect("insert staff")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json("/v1/auth/login", &json!({"email": email, "password": password})).await
    }

    /// Signs `email` in, which must work.
    pub async fn sign_in(&self, user_id: Uuid, email: &str, password: &str) -> Actor {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {email} works");
        let pair: Value = response.json().await.expect("token json");
        let mut actor = self.holder_of(&pair);
        assert_eq!(actor.user_id, user_id, "the token of {email} names its person");
        (actor.email, actor.password) = (email.to_owned(), password.to_owned());
        actor
    }

    /// Signs in the person of the user view `user` (added with [`MEMBER_PASSWORD`]).
    pub async fn sign_in_member(&self, user: &Value) -> Actor {
        self.sign_in(id_of(user), user["email"].as_str().expect("an e-mail"), MEMBER_PASSWORD).await
    }

    /// The same person signed in again: a new session.
    pub async fn sign_in_again(&self, actor: &Actor) -> Actor {
        self.sign_in(actor.user_id, &actor.email, &actor.password).await
    }

    /// A platform admin, signed in.
    pub async fn admin(&self) -> Actor {
        self.staff(Role::PlatformAdmin, &[]).await
    }

    /// A staff person of `role` (dispatchers optionally scoped to customers), signed in.
    pub async fn staff(&self, role: Role, customer_ids: &[Uuid]) -> Actor {
        let email = format!("{}-{}@operator.example", role, Uuid::new_v4().simple());
        let row = self.insert_staff(role, &email, PASSWORD, customer_ids);
        self.sign_in(row.id, &email, PASSWORD).await
    }
}

impl TestApp {
    /// A customer user of `customer_id` with `role` and granted `permissions`, signed in.
    pub async fn customer_user(&self, customer_id: Uuid, role: Role, permissions: &[Permission]) -> Actor {
        let email = format!("{}-{}@customer.example", role, Uuid::new_v4().simple());
        let account = NewAccount {
            id: Uuid::now_v7(),
            kind: Kind::CustomerUser,
            customer_id: Some(customer_id),
            email: Some(Email::parse(&email).expect("a valid e-mail")),
            name: format!("{role} of {customer_id}"),
            phone: None,
            password_hash: Some(passwords::hash(PASSWORD).expect("hash")),
            role,
            status: AccountStatus::Active,
            login_enabled: true,
            customer_ids: Vec::new(),
            permissions: permissions.iter().copied().map(Some).collect(),
            // In no group: all of its customer's data, until a test gives it groups.
            data_scope: DataScope::All,
            valid_until: None,
        };
        let row = accounts::insert(&mut self.conn(), &account).expect("insert customer user");
        self.sign_in(row.id, &email, PASSWORD).await
    }

    /// The audit events of the database, oldest first, as (action, target_id) pairs.
    pub fn audit_actions(&self) -> Vec<(String, Option<Uuid>)> {
        use diesel::prelude::*;
        use dockgate::db::schema::audit_events;
        audit_events::table
            .order(audit_events::id.asc())
            .select((audit_events::action, audit_events::target_id))
            .load(&mut self.conn())
            .expect("audit events")
    }

    /// The audit actions of the database, oldest first.
    pub fn actions(&self) -> Vec<String> {
        self.audit_actions().into_iter().map(|(action, _)| action).collect()
    }

    /// The audit actions recorded about `target`, oldest first.
    pub fn actions_on(&self, target: Uuid) -> Vec<String> {
        self.audit_actions()
            .into_iter()
            .filter(|(_, t)| *t == Some(target))
            .map(|(action, _)| action)
            .collect()
    }
}

/// A row of the mail outbox, as the tests look at it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: Uuid,
    pub template: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
    pub payload: Value,
    pub last_error: Option<String>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TestApp {
    /// Every outbox row, oldest first.
    pub fn outbox(&self) -> Vec<OutboxRow> {
        use diesel::prelude::*;
        use dockgate::db::schema::mail_outbox as o;
        type Row =
            (Uuid, String, String, String, i32, Value, Option<String>, Option<chrono::DateTime<chrono::Utc>>);
        let rows: Vec<Row> = o::table
            .order(o::id.asc())
            .select((
                o::id,
                o::template,
                o::recipient,
                o::status,
                o::attempts,
                o::payload,
                o::last_error,
                o::sent_at,
            ))
            .load(&mut self.conn())
            .expect("outbox rows");
        rows.into_iter()
            .map(|(id, template, recipient, status, attempts, payload, last_error, sent_at)| OutboxRow {
                id,
                template,
                recipient,
                status,
                attempts,
                payload,
                last_error,
                sent_at,
            })
            .collect()
    }

    /// How many mails the outbox holds for `recipient`.
    pub fn mails_to(&self, recipient: &str) -> usize {
        self.outbox().iter().filter(|row| row.recipient == recipient).count()
    }

    /// The outbox row `id`.
    pub fn outbox_row(&self, id: Uuid) -> OutboxRow {
        self.outbox().into_iter().find(|row| row.id == id).unwrap_or_else(|| panic!("no outbox row {id}"))
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for up to 10 seconds; panics naming `what`.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the workers wind down on their own.
        drop(self.handle.stop(false));
    }
}
