//! A database outage under load, on a PostgreSQL cluster of the test's own: while the server is
//! down every answer is a 503 with `Retry-After` (never a 500), dockgate recovers by itself
//! when the server is back, and every write it acknowledged is in the database.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use dockgate::error::UNAVAILABLE_RETRY_AFTER_SECS;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, PrivateCluster, TestApp, problem};

const WRITERS: usize = 4;
/// Longer than the 5 s a request waits for a pool connection, so requests made during the
/// outage are answered while it lasts, not only those cut off when it begins.
const OUTAGE: Duration = Duration::from_secs(7);
/// How many writes of each writer must succeed after the restart before the writers stop.
const WRITES_AFTER_RESTART: usize = 2;

/// What one `POST /v1/customers` got back.
#[derive(Debug)]
struct Outcome {
    writer: usize,
    started: Instant,
    finished: Instant,
    /// `None`: no HTTP answer at all (the error is in `body`).
    status: Option<StatusCode>,
    retry_after: Option<String>,
    content_type: String,
    body: Value,
}

type Outcomes = Arc<Mutex<Vec<Outcome>>>;

/// Creates customers as `staff`, one after the other, until `stop` is set.
async fn write_until_stopped(writer: usize, staff: Actor, stop: Arc<AtomicBool>, outcomes: Outcomes) {
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let started = Instant::now();
        let body = json!({"name": format!("Outage writer {writer}"), "code": format!("W{writer}-{n}")});
        let sent =
            staff.request(Method::POST, "/v1/customers").json(&body).timeout(Duration::from_secs(20)).send();
        let outcome = match sent.await {
            Ok(response) => {
                let header = |name: &str| {
                    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
                };
                let (retry_after, content_type) = (header("retry-after"), header("content-type"));
                let status = Some(response.status());
                let body = response.json().await.unwrap_or(Value::Null);
                let content_type = content_type.unwrap_or_default();
                Outcome { writer, started, finished: Instant::now(), status, retry_after, content_type, body }
            }
            Err(error) => Outcome {
                writer,
                started,
                finished: Instant::now(),
                status: None,
                retry_after: None,
                content_type: String::new(),
                body: json!(error.to_string()),
            },
        };
        outcomes.lock().unwrap().push(outcome);
    }
}

/// How many writers have had [`WRITES_AFTER_RESTART`] writes started `since` succeed.
fn writers_recovered(outcomes: &Outcomes, since: Instant) -> usize {
    let outcomes = outcomes.lock().unwrap();
    let succeeded = |writer| {
        let started_since = outcomes.iter().filter(|o| o.writer == writer && o.started >= since);
        started_since.filter(|o| o.status == Some(StatusCode::CREATED)).count()
    };
    (0..WRITERS).filter(|&writer| succeeded(writer) >= WRITES_AFTER_RESTART).count()
}

/// Answers that need the database but come from outside the handlers: readiness, the key set,
/// the `Actor` extractor (behind `/v1/me`) and sign-in. Each must be a 503 with `Retry-After`.
async fn probe_during_the_outage(app: &TestApp, staff: &Actor) {
    let ready = app.client.get(app.url("/health/ready")).send();
    let jwks = app.client.get(app.url("/.well-known/jwks.json")).send();
    let me = staff.request(Method::GET, "/v1/me").send();
    let login =
        app.client.post(app.url("/v1/auth/login")).json(&json!({"email": "x@y.example", "password": "p"}));
    let (ready, jwks, me, login) = tokio::join!(ready, jwks, me, login.send());
    for (what, response) in [("ready", ready), ("jwks", jwks), ("me", me), ("login", login)] {
        let response = response.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(response.headers().contains_key("retry-after"), "{what} carries Retry-After");
        let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        assert_eq!(body["type"], "urn:dockgate:problem:unavailable", "{what}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_under_load_is_503_with_retry_after_and_recovers_without_losing_writes() {
    let cluster = Arc::new(PrivateCluster::start());
    // The production pool size: more connections than writers, so some sit idle meanwhile.
    let app = TestApp::spawn_on(Arc::new(cluster.database()), |config| config.db_pool_size = 10).await;
    let admin = app.admin().await;

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Outcomes = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            tokio::spawn(write_until_stopped(writer, admin.clone(), stop.clone(), outcomes.clone()))
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping = cluster.clone();
    tokio::task::spawn_blocking(move || stopping.stop_server()).await.unwrap();
    let stopped_at = Instant::now();
    probe_during_the_outage(&app, &admin).await;
    tokio::time::sleep(OUTAGE.saturating_sub(stopped_at.elapsed())).await;
    let starting = cluster.clone();
    tokio::task::spawn_blocking(move || starting.start_server()).await.unwrap();
    let restarted_at = Instant::now();

    let deadline = restarted_at + Duration::from_secs(10);
    while writers_recovered(&outcomes, restarted_at) < WRITERS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());

    let by_status = |status: StatusCode| outcomes.iter().filter(move |o| o.status == Some(status));
    let unexpected: Vec<_> = outcomes
        .iter()
        .filter(|o| !matches!(o.status, Some(StatusCode::CREATED | StatusCode::SERVICE_UNAVAILABLE)))
        .collect();
    assert!(unexpected.is_empty(), "only 201 and 503 answers (no 500): {unexpected:#?}");
    assert!(by_status(StatusCode::SERVICE_UNAVAILABLE).count() > 0, "the outage was seen");
    for unavailable in by_status(StatusCode::SERVICE_UNAVAILABLE) {
        assert_eq!(unavailable.content_type, "application/problem+json", "{unavailable:?}");
        assert_eq!(unavailable.body["type"], "urn:dockgate:problem:unavailable", "{unavailable:?}");
        let retry_after = unavailable.retry_after.as_deref().and_then(|v| v.parse::<u64>().ok());
        assert_eq!(retry_after, Some(UNAVAILABLE_RETRY_AFTER_SECS), "Retry-After: {unavailable:?}");
    }

    // Recovered without a restart of dockgate: every writer's writes succeed again, and so did
    // the last one each made (started after its own writes had succeeded again).
    for writer in 0..WRITERS {
        let since_restart: Vec<_> =
            outcomes.iter().filter(|o| o.writer == writer && o.started >= restarted_at).collect();
        let succeeded = since_restart.iter().filter(|o| o.status == Some(StatusCode::CREATED)).count();
        assert!(succeeded >= WRITES_AFTER_RESTART, "writer {writer} recovered: {since_restart:#?}");
        let last = outcomes.iter().rev().find(|o| o.writer == writer).expect("the writer wrote");
        assert_eq!(last.status, Some(StatusCode::CREATED), "writer {writer} recovered: {last:?}");
    }
    let ready = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "ready again");

    // Nothing acknowledged is lost; a 503 may or may not have committed (a commit cut off
    // mid-way), so at most those come on top.
    use dockgate::db::schema::customers;
    let stored: HashSet<Uuid> =
        customers::table.select(customers::id).load(&mut app.conn()).unwrap().into_iter().collect();
    let acknowledged: HashSet<Uuid> = by_status(StatusCode::CREATED)
        .map(|o| o.body["id"].as_str().and_then(|id| id.parse().ok()).expect("a created id"))
        .collect();
    let missing: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(missing.is_empty(), "acknowledged writes are stored: {missing:?} missing");
    let unacknowledged = stored.len() - acknowledged.len();
    assert!(unacknowledged <= by_status(StatusCode::SERVICE_UNAVAILABLE).count(), "no write from nowhere");
    let back_after = by_status(StatusCode::CREATED)
        .filter(|o| o.finished >= restarted_at)
        .map(|o| o.finished - restarted_at)
        .min();
    eprintln!(
        "outage: {} writes, {} acknowledged, {} answered 503, {} stored without acknowledgement; \
         first write acknowledged {back_after:?} after the restart",
        outcomes.len(),
        acknowledged.len(),
        by_status(StatusCode::SERVICE_UNAVAILABLE).count(),
        unacknowledged
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_whose_server_went_away_is_not_used_again() {
    let cluster = Arc::new(PrivateCluster::start());
    // The mail worker keeps away from the pool, so what the pool holds is what the start and
    // the sign-in used.
    let app = TestApp::spawn_on(Arc::new(cluster.database()), |config| {
        config.mail_poll_interval = Duration::from_secs(3600)
    })
    .await;
    let admin = app.admin().await;
    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || {
        restarting.stop_server();
        restarting.start_server();
    })
    .await
    .unwrap();

    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(admin.get("/v1/me").await.status());
    }
    // The first request may be the one that finds a pooled connection dead; none after it.
    assert!(matches!(statuses[0], StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
}
