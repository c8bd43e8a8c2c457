//! Failover of the database under load: a primary and a synchronous streaming standby made from
//! the PostgreSQL server binaries, `dockgate serve` on the two-host URL, writers that keep
//! creating people and refreshing a session, the primary killed (`pg_ctl stop -m immediate`),
//! the standby promoted. While there is no primary every answer is a 503 with `Retry-After`,
//! none takes longer than the pool wait, dockgate resumes without a restart, and every write it
//! acknowledged is on the new primary.
//!
//! Slow (two servers, a base backup, about 15 s of load), so ignored in `cargo test`; `.ci/run`
//! runs it: `cargo test --test api -- --ignored failover --nocapture`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

/// The pool's wait for a connection (db::POOL_WAIT) plus the time to answer.
const LONGEST_ANSWER: Duration = Duration::from_secs(7);
const ADMIN_EMAIL: &str = "failover-admin@operator.example";
const ADMIN_PASSWORD: &str = "failover admin passphrase 42";

/// A primary and its standby on loopback ports, under one folder; stopped and removed on drop,
/// also when the test panics.
struct Replicated {
    root: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    primary: u16,
    standby: u16,
}

impl Replicated {
    fn start() -> Self {
        let bin = server_binaries();
        let as_postgres = nix::unistd::Uid::effective().is_root();
        let id = Uuid::new_v4().simple().to_string();
        let root = std::env::temp_dir().join(format!("dockgate-failover-{}", &id[..12]));
        std::fs::create_dir_all(&root).expect("folder");
        let set = Self { root, bin, as_postgres, primary: free_port(), standby: free_port() };
        if as_postgres {
            set.run_plain("chown", &["postgres", set.root_str()]);
        }
        set.pg(
            "initdb",
            &["-D", &set.dir("primary"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        );
        let hba = set.root.join("primary/pg_hba.conf");
        let mut lines = std::fs::read_to_string(&hba).expect("pg_hba.conf");
        lines.push_str("\nhost replication all 127.0.0.1/32 trust\n");
        std::fs::write(&hba, lines).expect("pg_hba.conf");
        set.start_server(
            "primary",
            set.primary,
            "-c wal_level=replica -c max_wal_senders=5 -c synchronous_commit=on",
        );
        set.admin(set.primary).batch_execute("CREATE DATABASE dockgate").expect("create the database");
        set.pg(
            "pg_basebackup",
            &[
                "-D",
                &set.dir("standby"),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "-h",
                "127.0.0.1",
                "-p",
                &set.primary.to_string(),
                "-U",
                "postgres",
            ],
        );
        set.start_server("standby", set.standby, "");
        // Synchronous only now that the standby streams (before, every commit would wait).
        let mut admin = set.admin(set.primary);
        // Two statements: a multi-statement string is one implicit transaction, which ALTER
        // SYSTEM refuses.
        for statement in ["ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()"] {
            admin.batch_execute(statement).expect("synchronous standby");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            #[derive(QueryableByName)]
            struct State {
                #[diesel(sql_type = diesel::sql_types::Text)]
                sync_state: String,
            }
            let states: Vec<State> = diesel::sql_query("SELECT sync_state FROM pg_stat_replication")
                .load(&mut admin)
                .expect("replication");
            if states.iter().any(|s| s.sync_state == "sync") {
                break;
            }
            assert!(Instant::now() < deadline, "the standby never became synchronous");
            std::thread::sleep(Duration::from_millis(100));
        }
        set
    }

    fn root_str(&self) -> &str {
        self.root.to_str().expect("utf-8 path")
    }

    fn dir(&self, name: &str) -> String {
        self.root.join(name).to_string_lossy().into_owned()
    }

    fn url(&self, port: u16, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{database}")
    }

    fn admin(&self, port: u16) -> PgConnection {
        PgConnection::establish(&self.url(port, "postgres")).expect("connect as postgres")
    }

    fn start_server(&self, name: &str, port: u16, extra: &str) {
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off {extra}",
            self.root_str()
        );
        let log = format!("{}/{name}.log", self.root_str());
        self.pg("pg_ctl", &["start", "-w", "-t", "60", "-D", &self.dir(name), "-l", &log, "-o", &options]);
    }

    /// Runs a server binary (as `postgres` when we are root, which PostgreSQL refuses to be).
    fn pg(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).current_dir("/").output().expect("run a PostgreSQL binary");
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn run_plain(&self, program: &str, args: &[&str]) {
        let status = Command::new(program).args(args).status().expect("run");
        assert!(status.success(), "{program} {args:?}");
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        for name in ["primary", "standby"] {
            if self.root.join(name).join("postmaster.pid").exists() {
                let path = self.bin.join("pg_ctl");
                let data = self.dir(name);
                let args = ["stop", "-m", "immediate", "-D", &data];
                let _ = if self.as_postgres {
                    Command::new("runuser").args(["-u", "postgres", "--"]).arg(&path).args(args).output()
                } else {
                    Command::new(&path).args(args).output()
                };
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The newest installed PostgreSQL's server binaries (Debian's layout, else `pg_ctl` on PATH).
fn server_binaries() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(Result::ok)
                .map(|d| d.path().join("bin"))
                .filter(|p| p.join("pg_ctl").exists())
                .collect()
        })
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.parent().and_then(Path::file_name).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok())
    });
    if let Some(newest) = versions.pop() {
        return newest;
    }
    let which = Command::new("sh").args(["-c", "command -v pg_ctl"]).output().expect("sh");
    let pg_ctl = String::from_utf8_lossy(&which.stdout).trim().to_owned();
    assert!(!pg_ctl.is_empty(), "no PostgreSQL server binaries (pg_ctl) found");
    PathBuf::from(pg_ctl).parent().expect("bin").to_path_buf()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// `dockgate serve` on the two-host URL.
struct Dockgate {
    child: Child,
    base: String,
}

impl Drop for Dockgate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dockgate(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dockgate"))
        .env("DATABASE_URL", database_url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dockgate");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("dockgate ends");
    assert!(output.status.success(), "dockgate {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

async fn serve(database_url: &str) -> Dockgate {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_dockgate"))
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_FORMAT", "json")
        .env("MAIL_URL", "log://")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dockgate serve");
    let server = Dockgate { child, base: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(answer) = client.get(format!("{}/health/ready", server.base)).send().await
            && answer.status() == StatusCode::OK
        {
            return server;
        }
        assert!(Instant::now() < deadline, "dockgate never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One answer as the writers saw it.
#[derive(Debug)]
struct Answer {
    what: &'static str,
    status: u16,
    retry_after: bool,
    took: Duration,
    /// When the request was sent and when its answer came.
    sent: Instant,
    at: Instant,
    body: String,
}

async fn send(what: &'static str, request: reqwest::RequestBuilder) -> (Answer, Value) {
    let started = Instant::now();
    let response = request.send().await.unwrap_or_else(|e| panic!("{what}: no answer at all: {e}"));
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key(reqwest::header::RETRY_AFTER);
    let body = response.text().await.unwrap_or_default();
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    (
        Answer {
            what,
            status,
            retry_after,
            took: started.elapsed(),
            sent: started,
            at: Instant::now(),
            body,
        },
        json,
    )
}

async fn sign_in(client: &reqwest::Client, base: &str) -> Value {
    loop {
        let request = client
            .post(format!("{base}/v1/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}));
        let (answer, body) = send("sign-in", request).await;
        if answer.status == 200 {
            return body;
        }
        assert_eq!(answer.status, 503, "sign-in: {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "starts a primary and a standby PostgreSQL; .ci/run runs it"]
async fn failover_keeps_every_acknowledged_write() {
    let began = Instant::now();
    let db = Replicated::start();
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/dockgate?target_session_attrs=read-write&connect_timeout=2",
        db.primary, db.standby
    );
    dockgate(&url, &["migrate"], None);
    dockgate(&url, &["create-admin", "--email", ADMIN_EMAIL, "--password-stdin"], Some(ADMIN_PASSWORD));
    let server = serve(&url).await;
    let base = server.base.clone();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");

    let admin = sign_in(&client, &base).await;
    let token = admin["access_token"].as_str().expect("access token").to_owned();
    let (created, customer) = send(
        "create customer",
        client
            .post(format!("{base}/v1/customers"))
            .bearer_auth(&token)
            .json(&json!({"name": "Failover Freight", "code": "FO-1"})),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let customer = customer["id"].as_str().expect("customer id").to_owned();

    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let acknowledged = Arc::new(Mutex::new(Vec::<(Uuid, Instant)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for writer in 0..3 {
        let (client, base, token, customer) = (client.clone(), base.clone(), token.clone(), customer.clone());
        let (answers, acknowledged, stop) = (answers.clone(), acknowledged.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let request = client
                    .post(format!("{base}/v1/customers/{customer}/users"))
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("Writer {writer} person {n}")}));
                let (answer, body) = send("create user", request).await;
                if answer.status == 201 {
                    let id = body["id"].as_str().and_then(|id| id.parse().ok()).expect("the new person's id");
                    acknowledged.lock().await.push((id, answer.at));
                } else if answer.status == 503 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                answers.lock().await.push(answer);
            }
        }));
    }
    // A session refreshed over and over: rotation writes on every call.
    let refreshes = {
        let (client, base, answers, stop) = (client.clone(), base.clone(), answers.clone(), stop.clone());
        tokio::spawn(async move {
            let mut pair = sign_in(&client, &base).await;
            let (mut ok, mut signed_in_again, mut ambiguous) = (0u32, 0u32, false);
            while !stop.load(Ordering::Relaxed) {
                let refresh = pair["refresh_token"].as_str().expect("refresh token").to_owned();
                let request =
                    client.post(format!("{base}/v1/auth/refresh")).json(&json!({"refresh_token": refresh}));
                let (mut answer, body) = send("refresh", request).await;
                match answer.status {
                    200 => {
                        ok += 1;
                        ambiguous = false;
                        pair = body;
                    }
                    503 => {
                        // The rotation may have committed before the connection broke: the old
                        // token is then spent, and presenting it again is (rightly) reuse.
                        ambiguous = true;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    401 if ambiguous => {
                        signed_in_again += 1;
                        answer.what = "refresh refused after an ambiguous 503";
                        pair = sign_in(&client, &base).await;
                        ambiguous = false;
                    }
                    _ => {}
                }
                answers.lock().await.push(answer);
            }
            (ok, signed_in_again)
        })
    };

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = acknowledged.lock().await.len();
    assert!(before > 0, "no write was acknowledged before the failover");
    // The primary is gone once pg_ctl returns (it waits for the postmaster to exit). Until then
    // a write may still commit on it, its synchronous standby acknowledging: on a loaded machine
    // that took over a second once, so the window without a primary starts here, not before.
    let stopping = Instant::now();
    db.pg("pg_ctl", &["stop", "-m", "immediate", "-D", &db.dir("primary")]);
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    db.pg("pg_ctl", &["promote", "-w", "-t", "60", "-D", &db.dir("standby")]);
    let promoted = stopped.elapsed();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let after = acknowledged.lock().await.iter().filter(|(_, at)| *at > stopped).count();
        if after >= 30 {
            break;
        }
        assert!(Instant::now() < deadline, "only {after} writes acknowledged within 60 s of the failover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("writer");
    }
    let (refreshed, signed_in_again) = refreshes.await.expect("refresher");

    let answers = answers.lock().await;
    let mut unavailable = 0;
    for answer in answers.iter() {
        assert!(answer.took <= LONGEST_ANSWER, "an answer took {:?}: {answer:?}", answer.took);
        match answer.status {
            200..=299 => {}
            503 => {
                assert!(answer.retry_after, "a 503 without Retry-After: {answer:?}");
                assert!(!answer.body.contains("SQLSTATE") && !answer.body.contains("postgres"), "{answer:?}");
                unavailable += 1;
            }
            401 if answer.what == "refresh refused after an ambiguous 503" => {}
            _ => panic!("during the failover only 2xx and 503 are acceptable: {answer:?}"),
        }
    }
    let first_after = answers
        .iter()
        // sent once the primary was gone: a request sent before may still have committed on it
        .filter(|a| a.sent > stopped && (200..300).contains(&a.status))
        .map(|a| a.at)
        .min()
        .expect("a 2xx after the failover");
    // the promotion was asked for 1 s after the primary was gone: no write can succeed before
    assert!(first_after - stopped >= Duration::from_secs(1), "a write succeeded while there was no primary");
    let acknowledged = acknowledged.lock().await;
    let ids: Vec<Uuid> = acknowledged.iter().map(|(id, _)| *id).collect();

    // The new primary, asked directly: every acknowledged person is there.
    let mut new_primary =
        PgConnection::establish(&db.url(db.standby, "dockgate")).expect("connect to the new primary");
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found = diesel::sql_query("SELECT count(*) AS n FROM users WHERE id = ANY($1)")
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
        .get_result::<Count>(&mut new_primary)
        .expect("count the acknowledged people")
        .n;
    println!(
        "failover: acknowledged {} user writes, found {found} on the new primary; {refreshed} refreshes ok, \
         {signed_in_again} re-sign-ins after an ambiguous 503; {unavailable} answers were 503 with Retry-After; \
         pg_ctl stop took {} ms; promote issued {} ms after the primary was gone; \
         switch-over (primary gone -> first 2xx to a request sent after it) {} ms; test took {:.1} s",
        ids.len(),
        (stopped - stopping).as_millis(),
        promoted.as_millis(),
        (first_after - stopped).as_millis(),
        began.elapsed().as_secs_f64()
    );
    assert_eq!(found, ids.len() as i64, "every acknowledged write is on the new primary");
    drop(server);
}
