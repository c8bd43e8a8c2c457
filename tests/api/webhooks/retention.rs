//! The delivery log keeps `WEBHOOK_LOG_RETENTION` of history: older events whose deliveries are
//! all done go with them, an event that still waits for an attempt stays whatever its age.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use super::{World, deliveries, log_until};
use crate::helpers::Receiver;

#[tokio::test]
async fn the_purge_takes_old_finished_events_and_keeps_what_still_waits() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let heard = w.endpoint(&receiver.url("/hook"), Some(&["user.created"])).await;
    // Nothing listens on port 9: its deliveries stay pending, retried later.
    let waiting = w.endpoint("http://127.0.0.1:9/hook", Some(&["user.updated"])).await;

    let ada = w.add_person("Ada").await;
    log_until(&w.admin, &heard, "the creation delivered", |log| {
        log.first().is_some_and(|d| d["status"] == "delivered")
    })
    .await;
    let path = format!("/v1/customers/{}/users/{}", w.customer, ada["id"].as_str().expect("an id"));
    w.admin.patch(&path, &json!({"name": "Ada L."}), None).await;
    log_until(&w.admin, &waiting, "the update attempted", |log| {
        log.first().is_some_and(|d| d["status"] == "pending" && d["attempts"] == 1)
    })
    .await;

    let retention = Duration::from_secs(30 * 24 * 3600);
    let purge =
        |now| dockgate::webhooks::deliveries::purge(&mut w.app.conn(), now, retention).expect("purge");
    assert_eq!(purge(Utc::now() + chrono::Duration::days(29)), 0, "younger than the retention: kept");
    assert_eq!(deliveries(&w.admin, &heard).await.len(), 1);

    assert_eq!(purge(Utc::now() + chrono::Duration::days(31)), 1, "only the finished event goes");
    assert!(deliveries(&w.admin, &heard).await.is_empty(), "its delivery went with it");
    let kept = deliveries(&w.admin, &waiting).await;
    assert_eq!(kept.len(), 1, "a delivery still waiting for an attempt stays: {kept:?}");
    assert_eq!(kept[0]["status"], "pending");
}
