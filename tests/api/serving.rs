//! `dockgate serve` as operators run it: a stop by SIGINT or SIGTERM lets the requests in flight
//! finish, and the logs are plain in a pipe and JSON with the request id at the top level.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

use crate::helpers::TestDatabase;

/// A `dockgate serve` process on its own database and a free port, ready to answer.
struct Server {
    child: Child,
    base: String,
    _db: TestDatabase,
}

impl Server {
    async fn start(log_format: &str) -> Self {
        let db = TestDatabase::create();
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let child = Command::new(env!("CARGO_BIN_EXE_dockgate"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db.url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("LOG_FORMAT", log_format)
            .env("HTTP_WORKERS", "2")
            // One hashing thread: sign-ins queue, so some are surely in flight at a signal.
            .env("PASSWORD_HASH_CONCURRENCY", "1")
            .env("LOGIN_MAX_FAILURES_PER_CLIENT", "10000")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dockgate");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = client.get(format!("{base}/health/ready")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "dockgate did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, base, _db: db }
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(i32::try_from(self.child.id()).expect("pid")), signal).expect("signal");
    }

    /// Waits for the process to exit; its exit status and every stderr line.
    fn finish(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let stderr = self.child.stderr.take().expect("stderr");
        let lines: Vec<String> = BufReader::new(stderr).lines().map_while(Result::ok).collect();
        let status = self.child.wait().expect("wait");
        (status, lines)
    }
}

#[tokio::test]
async fn sigint_and_sigterm_both_let_the_requests_in_flight_finish() {
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let server = Server::start("text").await;
        let client = reqwest::Client::new();
        // Open the connections first, so every sign-in below is sent on one the server has
        // accepted: the test is about requests in flight, not about connecting while it stops.
        let warm = (0..24).map(|_| client.get(format!("{}/health/live", server.base)).send());
        assert!(futures_util::future::join_all(warm).await.iter().all(Result::is_ok));
        // Sign-ins of unknown people: each costs a full Argon2 verification, so 24 of them on
        // the pool's threads are still being served when the signal arrives.
        let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sign_ins = (0..24).map(|n| {
            let request = client
                .post(format!("{}/v1/auth/login", server.base))
                .json(&json!({"email": format!("nobody{n}@nowhere.example"), "password": "a long wrong passphrase"}))
                .send();
            let answered = answered.clone();
            async move {
                let response = request.await;
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (Instant::now(), response.map(|r| r.status().as_u16()))
            }
        });
        let all = tokio::spawn(futures_util::future::join_all(sign_ins));
        // Signal once the first answer is back: all 24 were written together, so the rest are
        // then in the server's hands, queued for the one hashing thread (a fixed sleep was
        // too short on a loaded machine, and the requests were not sent yet).
        let deadline = Instant::now() + Duration::from_secs(30);
        while answered.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "no sign-in was answered");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let signalled = Instant::now();
        server.signal(signal);
        let answers = all.await.expect("requests");
        let refused: Vec<String> =
            answers.iter().filter_map(|(_, r)| r.as_ref().err().map(|e| e.to_string())).collect();
        assert!(refused.is_empty(), "{signal}: requests dropped: {refused:?}");
        assert!(answers.iter().all(|(_, r)| matches!(r, Ok(401 | 503))), "{signal}: {answers:?}");
        let after = answers.iter().filter(|(at, _)| *at > signalled).count();
        assert!(
            after > 0,
            "{signal}: some answers came after the signal, so they were in flight: {answers:?}"
        );
        let (status, _) = server.finish();
        assert!(status.success(), "{signal}: exits cleanly: {status}");
    }
}

#[tokio::test]
async fn json_logs_carry_the_request_id_at_the_top_level_and_text_logs_no_colours_in_a_pipe() {
    let server = Server::start("json").await;
    let response = reqwest::Client::new()
        .get(format!("{}/health/ready", server.base))
        .header("x-request-id", "story-42")
        .send()
        .await
        .expect("ready");
    assert!(response.status().is_success());
    server.signal(Signal::SIGTERM);
    let (_, lines) = server.finish();
    let served: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "served" && line["request_id"] == "story-42")
        .collect();
    assert_eq!(served.len(), 1, "one access line for the request, with its id on top: {lines:#?}");
    assert!(served[0].get("span").is_none() && served[0]["path"] == "/health/ready", "{}", served[0]);
    assert!(
        lines.iter().all(|line| serde_json::from_str::<Value>(line).is_ok()),
        "every line is JSON: {lines:#?}"
    );

    let server = Server::start("text").await;
    server.signal(Signal::SIGINT);
    let (_, lines) = server.finish();
    assert!(lines.iter().any(|line| line.contains("dockgate is listening")), "{lines:#?}");
    assert!(lines.iter().all(|line| !line.contains('\u{1b}')), "no ANSI colours in a pipe: {lines:#?}");
}

#[tokio::test]
async fn healthcheck_exits_zero_only_while_the_server_is_ready() {
    let app = crate::helpers::TestApp::spawn().await;
    let port = app.address.rsplit(':').next().expect("port").to_owned();
    // Off the test's runtime, which also runs the server being probed.
    let probe = |bind: String| {
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_dockgate"))
                .env_clear()
                .env("BIND_ADDR", bind)
                .arg("healthcheck")
                .output()
                .expect("run healthcheck")
        })
    };
    let ready = probe(format!("0.0.0.0:{port}")).await.expect("probe");
    assert!(ready.status.success(), "{}", String::from_utf8_lossy(&ready.stderr));
    drop(app);
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let down = probe(format!("127.0.0.1:{free}")).await.expect("probe");
    assert!(!down.status.success());
    assert!(String::from_utf8_lossy(&down.stderr).contains("/health/ready"));
}

#[test]
fn help_says_configuration_comes_from_the_environment_and_bad_urls_are_named() {
    let help = Command::new(env!("CARGO_BIN_EXE_dockgate")).arg("--help").output().expect("help");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("environment variables") && text.contains("healthcheck"), "{text}");
    let bad = Command::new(env!("CARGO_BIN_EXE_dockgate"))
        .env_clear()
        .env("DATABASE_URL", "localhost/dockgate")
        .arg("migrate")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(stderr.contains("DATABASE_URL: must be a full URL such as postgres://"), "{stderr}");
}
