//! The bounded password hashing pool as a client sees it: a burst beyond its queue is turned
//! away with a 503 rather than queued without end.

use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{TestApp, problem};

#[tokio::test]
async fn a_burst_of_sign_ins_beyond_the_hashing_queue_gets_503_with_retry_after() {
    let app = TestApp::spawn_with(|config| {
        config.password_hash_concurrency = 1;
        config.password_hash_queue = 1;
    })
    .await;

    let emails: Vec<String> =
        (0..30).map(|_| format!("nobody-{}@example.com", Uuid::new_v4().simple())).collect();
    let responses = futures_util::future::join_all(
        emails.iter().map(|email| app.login(email, "wrong horse battery staple")),
    )
    .await;

    let mut refused = 0;
    let mut turned_away = Vec::new();
    for response in responses {
        match response.status() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::SERVICE_UNAVAILABLE => turned_away.push(response),
            other => panic!("unexpected {other}"),
        }
    }
    // One verifying and one waiting at any moment: some sign-ins are checked, and of 30 at once
    // most are turned away.
    assert!(refused >= 2, "{refused} checked");
    assert!(turned_away.len() >= 10, "{} turned away", turned_away.len());
    for response in turned_away {
        assert_eq!(response.headers()["retry-after"], "1");
        let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
        assert_eq!(body["type"], "urn:dockgate:problem:overloaded");
    }

    // Once the burst has passed, signing in works again.
    let admin = app.admin().await;
    let me = admin.get("/v1/me").await;
    assert_eq!(me.status(), StatusCode::OK);
}
