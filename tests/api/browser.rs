//! A real browser on a portal's origin: headless Chromium (Debian's `chromium`) opens a page
//! served from an allowed origin, which signs in and reads `/v1/me` with `fetch`; the same page
//! from another origin cannot. Needs the browser, so it is run by `.ci/run`
//! (`cargo test --test api -- --ignored browser`), not by a plain `cargo test`.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{PASSWORD, TestApp};

/// A page server on its own port (so its own origin), serving the portal page that calls
/// dockgate and reports what happened back to `/result`.
struct Portal {
    origin: String,
    results: mpsc::UnboundedReceiver<Value>,
    handle: actix_web::dev::ServerHandle,
}

impl Portal {
    fn start() -> Portal {
        let (sender, results) = mpsc::unbounded_channel();
        let sender = Arc::new(Mutex::new(sender));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let origin = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let server = HttpServer::new(move || {
            let sender = sender.clone();
            App::new()
                .route(
                    "/",
                    web::get().to(|| async {
                        HttpResponse::Ok().content_type("text/html").body(include_str!("browser.html"))
                    }),
                )
                .route(
                    "/result",
                    web::post().to(move |body: web::Bytes| {
                        let sender = sender.clone();
                        async move {
                            let result: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                            let _ = sender.lock().map(|s| s.send(result));
                            HttpResponse::NoContent().finish()
                        }
                    }),
                )
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Portal { origin, results, handle }
    }

    /// Opens the page in headless Chromium and returns what it reported.
    async fn open(mut self, api: &str, email: &str) -> Value {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("api", api)
            .append_pair("email", email)
            .append_pair("password", PASSWORD)
            .finish();
        let profile =
            std::env::temp_dir().join(format!("dockgate-chromium-{}", uuid::Uuid::new_v4().simple()));
        let mut browser = chromium(&format!("{}/?{query}", self.origin), &profile);
        let result = tokio::time::timeout(Duration::from_secs(60), self.results.recv()).await;
        let _ = browser.kill();
        let _ = browser.wait();
        let _ = std::fs::remove_dir_all(&profile);
        self.handle.stop(false).await;
        result.expect("the page reported back in time").expect("a result")
    }
}

/// Headless Chromium on `url`, with a throw-away profile and nothing phoning home.
fn chromium(url: &str, profile: &std::path::Path) -> Child {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium (apt-get install chromium)")
}

#[tokio::test]
#[ignore = "needs Debian's chromium; .ci/run runs it"]
async fn a_page_on_an_allowed_origin_signs_in_and_reads_me_and_another_origin_cannot() {
    let allowed = Portal::start();
    let origin = allowed.origin.clone();
    let app = TestApp::spawn_with(|config| config.cors_allowed_origins = vec![origin]).await;
    let admin = app.admin().await;

    let seen = allowed.open(&app.address, &admin.email).await;
    assert_eq!(seen["ok"], json!(true), "{seen}");
    assert_eq!(seen["status"], json!(200), "{seen}");
    assert_eq!(seen["email"], json!(admin.email), "{seen}");
    assert!(seen["etag"].as_str().is_some_and(|e| e.starts_with('"')), "the ETag is readable: {seen}");

    let seen = Portal::start().open(&app.address, &admin.email).await;
    assert_eq!(seen["ok"], json!(false), "the same page on another origin gets nothing: {seen}");
    assert!(seen["error"].as_str().is_some_and(|e| e.contains("Failed to fetch")), "refused by CORS: {seen}");
}
