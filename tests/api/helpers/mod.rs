//! The test harness: the real application on a random port, against its own database, driven
//! over HTTP by typed actors.

pub mod cluster;
pub mod smtp;

use diesel::PgConnection;
use dockgate::accounts::{AccountStatus, NewAccount, UserRow, queries as accounts};
use dockgate::config::MailTransport;
use dockgate::db::types::Email;
use dockgate::identity::passwords;
use dockgate::permissions::{Kind, Permission, Role};
use dockgate::{Application, Config};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

pub use cluster::{PrivateCluster, TestDatabase};
pub use smtp::{ReceivedMail, SmtpSink};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: std::sync::Arc<TestDatabase>,
    handle: actix_web::dev::ServerHandle,
}

/// A signed-in person as the tests use it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
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
    config.mail = MailTransport::Log;
    config.mail_poll_interval = Duration::from_millis(100);
    config.mail_retry_base = Duration::from_millis(200);
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

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

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
        };
        accounts::insert(&mut self.conn(), &account).expect("insert staff")
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json("/v1/auth/login", &json!({"email": email, "password": password})).await
    }

    pub async fn sign_in(&self, user_id: Uuid, email: &str, password: &str) -> Session {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {email} works");
        let body: Value = response.json().await.expect("token json");
        Session {
            user_id,
            email: email.to_owned(),
            password: password.to_owned(),
            access_token: body["access_token"].as_str().expect("access token").to_owned(),
            refresh_token: body["refresh_token"].as_str().expect("refresh token").to_owned(),
        }
    }

    /// A platform admin, signed in.
    pub async fn admin(&self) -> Session {
        self.staff(Role::PlatformAdmin, &[]).await
    }

    /// A staff person of `role` (dispatchers optionally scoped to customers), signed in.
    pub async fn staff(&self, role: Role, customer_ids: &[Uuid]) -> Session {
        let email = format!("{}-{}@operator.example", role, Uuid::new_v4().simple());
        let row = self.insert_staff(role, &email, PASSWORD, customer_ids);
        self.sign_in(row.id, &email, PASSWORD).await
    }
}

impl TestApp {
    /// `POST` a JSON body with a bearer token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    /// `PATCH` a merge-patch body with a bearer token and an optional `If-Match`.
    pub async fn patch(&self, path: &str, token: &str, body: &Value, if_match: Option<&str>) -> Response {
        let mut request = self
            .client
            .patch(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send().await.expect("request")
    }

    /// `DELETE` with a bearer token and an optional `If-Match`.
    pub async fn delete(&self, path: &str, token: &str, if_match: Option<&str>) -> Response {
        let mut request = self.client.delete(self.url(path)).bearer_auth(token);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send().await.expect("request")
    }

    /// Creates a customer as `token` (a platform admin's) and returns its JSON.
    pub async fn create_customer(&self, token: &str, name: &str) -> Value {
        let code = format!("C-{}", &Uuid::new_v4().simple().to_string()[..10]);
        let response = self.post("/v1/customers", token, &json!({"name": name, "code": code})).await;
        assert_eq!(response.status(), StatusCode::CREATED, "customer {name} is created");
        response.json().await.expect("customer json")
    }

    /// A customer user of `customer_id` with `role` and granted `permissions`, signed in.
    pub async fn customer_user(&self, customer_id: Uuid, role: Role, permissions: &[Permission]) -> Session {
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

/// The id field of a JSON resource.
pub fn id_of(value: &Value) -> Uuid {
    value["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()).expect("an id")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the workers wind down on their own.
        drop(self.handle.stop(false));
    }
}

/// Reads a problem+json body, checking the content type and that the status agrees.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(content_type, "application/problem+json", "problem content type");
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], json!(status.as_u16()));
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("urn:dockgate:problem:")), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}
