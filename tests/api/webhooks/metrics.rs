//! `/metrics`: webhook deliveries pending and failed (shared by all instances), and attempts'
//! duration. The issue names what is measured, not the names; these are the service's.

use std::time::Duration;

use reqwest::StatusCode;

use super::{World, log_until};
use crate::helpers::{Receiver, Reply};

#[tokio::test]
async fn metrics_count_pending_and_failed_deliveries_and_time_attempts() {
    let w = World::new().await;
    let busy = Receiver::start().await;
    busy.always(Reply::WithHeaders(503, vec![("retry-after".into(), "3600".into())]));
    let gone = Receiver::start().await;
    gone.always(Reply::Status(410));
    let pending = w.endpoint(&busy.url("/busy"), Some(&["user.created"])).await;
    let failed = w.endpoint(&gone.url("/gone"), Some(&["user.created"])).await;
    w.add_person("Counted").await;
    log_until(&w.admin, &pending, "the 503 recorded", |log| {
        log.first().is_some_and(|d| d["attempts"] == 1 && d["last_response_status"] == 503)
    })
    .await;
    log_until(&w.admin, &failed, "the 410 recorded", |log| log[0]["status"] == "failed").await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = w.app.client.get(w.app.url("/metrics")).send().await.expect("metrics");
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.expect("text");
        let has = |line: &str| text.lines().any(|l| l == line);
        if has("webhook_deliveries_pending 1")
            && has("webhook_deliveries_failed 1")
            && text.lines().any(|l| l.starts_with("webhook_delivery_duration_seconds_count"))
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "webhook metrics:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
