//! A real webhook receiver: an HTTP server on a random local port that records every request
//! and answers as the test scripts it (200 unless told otherwise). Stopping it and starting
//! another on the same port is a receiver that was down and came back.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lower-case header names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status, empty body.
    Status(u16),
    /// This status with these headers (`Retry-After`, `Location` for a redirect).
    WithHeaders(u16, Vec<(String, String)>),
    /// Answers 200 only after this long (longer than the sender's timeout: a timeout).
    Hang(Duration),
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    once: VecDeque<Reply>,
    always: Option<Reply>,
}

pub struct Receiver {
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// On `port` (0: any free one).
    pub async fn start_on(port: u16) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = web::Data::new(shared.clone());
        let server =
            HttpServer::new(move || App::new().app_data(state.clone()).default_service(web::to(answer)))
                .workers(1)
                .disable_signals()
                .shutdown_timeout(0)
                .bind(("127.0.0.1", port))
                .expect("the receiver binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { port, shared, handle }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Answer every later request so (until told otherwise).
    pub fn always(&self, reply: Reply) {
        self.shared.lock().expect("receiver state").always = Some(reply);
    }

    /// Answer the next request so, then as before.
    pub fn once(&self, reply: Reply) {
        self.shared.lock().expect("receiver state").once.push_back(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().expect("receiver state").received.clone()
    }

    /// Waits (up to 10 s) until at least `n` requests arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        super::eventually(&format!("{n} webhook request(s)"), || {
            let received = self.received();
            (received.len() >= n).then_some(received)
        })
        .await
    }

    /// Stops listening (the port refuses connections until another receiver starts on it).
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn answer(req: HttpRequest, body: web::Bytes, shared: web::Data<Arc<Mutex<Shared>>>) -> HttpResponse {
    let reply = {
        let mut shared = shared.lock().expect("receiver state");
        shared.received.push(Received {
            method: req.method().to_string(),
            path: req.uri().path_and_query().map_or_else(String::new, ToString::to_string),
            headers: req
                .headers()
                .iter()
                .map(|(name, value)| {
                    (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned())
                })
                .collect(),
            body: body.to_vec(),
            at: Instant::now(),
        });
        shared.once.pop_front().or_else(|| shared.always.clone()).unwrap_or(Reply::Status(200))
    };
    let status = |code: u16| actix_web::http::StatusCode::from_u16(code).expect("a status code");
    match reply {
        Reply::Status(code) => HttpResponse::build(status(code)).finish(),
        Reply::WithHeaders(code, headers) => {
            let mut response = HttpResponse::build(status(code));
            for (name, value) in headers {
                response.insert_header((name, value));
            }
            response.finish()
        }
        Reply::Hang(wait) => {
            tokio::time::sleep(wait).await;
            HttpResponse::Ok().finish()
        }
    }
}
