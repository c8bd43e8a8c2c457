//! When a delivery is attempted again, and what giving up does.

use std::time::Duration;

use diesel::prelude::*;
use dockgate::db::schema::webhook_endpoints as e;
use dockgate::permissions::Role;
use dockgate::webhooks::schedule;

use super::*;

#[tokio::test]
async fn a_500_is_retried_on_the_schedule_when_the_clock_moves_and_a_success_resets_the_failures() {
    let (app, clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    diesel::update(e::table.find(hook)).set(e::consecutive_failures.eq(3)).execute(&mut app.conn()).unwrap();
    emit(&app, customer, "Ada");

    let first = after_attempt(&app, hook, 1).await;
    assert_eq!((first.status.as_str(), first.last_response_status), ("pending", Some(500)));
    assert_eq!(first.last_error.as_deref(), Some("the receiver answered 500"));
    let wait = (first.next_attempt_at - first.last_attempt_at.unwrap()).to_std().unwrap();
    assert!(wait >= Duration::from_millis(4500) && wait <= Duration::from_millis(5500), "{wait:?}");
    assert_eq!(receiver.received().len(), 1, "nothing more until the clock moves");

    past_wait(&clock, 1);
    let second = after_attempt(&app, hook, 2).await;
    let wait = (second.next_attempt_at - second.last_attempt_at.unwrap()).to_std().unwrap();
    assert!(wait >= Duration::from_secs(270) && wait <= Duration::from_secs(330), "{wait:?}");
    let requests = receiver.wait_for(2).await;
    assert_eq!(requests[0].header("webhook-id"), requests[1].header("webhook-id"), "stable across retries");

    receiver.always(Reply::Status(204));
    past_wait(&clock, 2);
    let done =
        eventually("delivered", || Some(delivery(&app, hook)).filter(|r| r.status == "delivered")).await;
    assert_eq!((done.attempts, done.last_response_status, done.last_error), (3, Some(204), None));
    assert_eq!(endpoint_state(&app, hook), ("active".into(), None, 0));
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_delivery_once_it_is_back_on_its_port() {
    let (app, clock, customer) = world(|_| {}).await;
    let down = Receiver::start().await;
    let (port, url) = (down.port, down.url("/hook"));
    down.stop().await;
    let hook = endpoint(&app, customer, &url);
    emit(&app, customer, "Ada");
    let refused = after_attempt(&app, hook, 1).await;
    assert_eq!((refused.status.as_str(), refused.last_response_status), ("pending", None));
    assert!(refused.last_error.as_deref().unwrap().starts_with("cannot connect"), "{refused:?}");

    let back = Receiver::start_on(port).await;
    past_wait(&clock, 1);
    back.wait_for(1).await;
    let row =
        eventually("delivered", || Some(delivery(&app, hook)).filter(|r| r.status == "delivered")).await;
    assert_eq!((row.attempts, row.last_response_status), (2, Some(200)));
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_within_15_seconds_is_a_timeout() {
    let (app, _clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::Hang(Duration::from_secs(30)));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    let request = receiver.wait_for(1).await.remove(0);
    // Longer than `eventually` waits: the sender's limit is 15 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let row = loop {
        let row = delivery(&app, hook);
        if recorded(&row, 1) {
            break row;
        }
        assert!(tokio::time::Instant::now() < deadline, "the attempt ended: {row:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(request.at.elapsed() >= Duration::from_millis(14_500), "it waited the whole limit");
    assert_eq!((row.status.as_str(), row.last_response_status), ("pending", None));
    assert_eq!(row.last_error.as_deref(), Some("no answer within 15 s"));
}

#[tokio::test]
async fn retry_after_lengthens_the_wait() {
    let (app, clock, customer) = world(|_| {}).await;
    let receiver = Receiver::start().await;
    receiver.once(Reply::WithHeaders(503, vec![("retry-after".into(), "120".into())]));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    let row = after_attempt(&app, hook, 1).await;
    assert_eq!(row.last_response_status, Some(503));
    // 120 s instead of about 5 s (both times come from one statement).
    assert_eq!((row.next_attempt_at - row.last_attempt_at.unwrap()).num_seconds(), 120);

    clock.advance(chrono::Duration::seconds(121));
    receiver.wait_for(2).await;
    let done =
        eventually("delivered", || Some(delivery(&app, hook)).filter(|r| r.status == "delivered")).await;
    assert_eq!(done.attempts, 2);
}

#[tokio::test]
async fn after_the_last_attempt_deliveries_fail_and_enough_of_them_disable_the_endpoint_with_a_mail() {
    let (app, clock, customer) = world(|config| config.webhooks.disable_after = 2).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let member = app.customer_user(customer, Role::User, &[]).await;
    let receiver = Receiver::start().await;
    receiver.always(Reply::Status(500));
    let hook = endpoint(&app, customer, &receiver.url("/hook"));
    emit(&app, customer, "Ada");
    emit(&app, customer, "Grace");

    for n in 1..=schedule::MAX_ATTEMPTS {
        receiver.wait_for(2 * n as usize).await;
        eventually(&format!("attempt {n} of both"), || {
            let rows = deliveries(&app, hook);
            (rows.len() == 2 && rows.iter().all(|row| recorded(row, n))).then_some(())
        })
        .await;
        if n < schedule::MAX_ATTEMPTS {
            assert!(deliveries(&app, hook).iter().all(|row| row.status == "pending"));
            past_wait(&clock, n);
        }
    }
    let rows = deliveries(&app, hook);
    assert!(rows.iter().all(|row| row.status == "failed" && row.attempts == 8), "{rows:?}");
    assert!(rows.iter().all(|row| row.last_response_status == Some(500)));
    assert_eq!(receiver.received().len(), 16, "eight attempts each");
    assert_eq!(endpoint_state(&app, hook), ("disabled".into(), Some("failing".into()), 2));

    let mails: Vec<_> = app.outbox().into_iter().filter(|row| row.template == "webhook_disabled").collect();
    assert_eq!(mails.iter().map(|m| m.recipient.as_str()).collect::<Vec<_>>(), [admin.email.as_str()]);
    assert_eq!(app.mails_to(&member.email), 0);

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"webhook_delivery_attempts_total{outcome="failed"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"webhook_delivery_attempts_total{outcome="retry"} 14"#), "{metrics}");
    assert!(metrics.contains("webhook_deliveries_failed 2"), "{metrics}");
}
