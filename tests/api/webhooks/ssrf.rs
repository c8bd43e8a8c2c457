//! Server-side request forgery (OWASP API7): with the defaults (https only, nothing inside
//! allowed) every inside range is a 422 naming `url`, on create and on PATCH; the allow-list
//! opens exactly its blocks; a name resolving to loopback is judged by its address; and the
//! check runs again at delivery.
//!
//! No test here lets an event happen while an endpoint points outside this machine: the
//! endpoints the allow-list accepts listen to `group.deleted` only and are deleted at once.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{World, app_with_clock, create, deliveries, hooks_of, log_until, stays_at};
use crate::helpers::{Receiver, TestApp, id_of, problem};

/// One address of every range the issue names, as a URL (the port is never reached).
const INSIDE: &[(&str, &str)] = &[
    ("loopback v4", "https://127.0.0.1/hook"),
    ("loopback v4, elsewhere in 127/8", "https://127.10.20.30:8443/hook"),
    ("loopback v6", "https://[::1]/hook"),
    ("RFC 1918 10/8", "https://10.0.0.7/hook"),
    ("RFC 1918 172.16/12", "https://172.20.1.1/hook"),
    ("RFC 1918 192.168/16", "https://192.168.1.10/hook"),
    ("link-local / cloud metadata", "https://169.254.169.254/latest/meta-data/"),
    ("CGNAT 100.64/10", "https://100.64.0.1/hook"),
    ("IPv6 unique local fc00::/7", "https://[fd12:3456:789a::1]/hook"),
    ("IPv6 link-local fe80::/10", "https://[fe80::1]/hook"),
    ("IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/hook"),
    ("IPv4-mapped metadata", "https://[::ffff:169.254.169.254]/hook"),
    ("IPv4-mapped RFC 1918", "https://[::ffff:10.0.0.1]/hook"),
    ("unspecified", "https://0.0.0.0/hook"),
    ("localhost (DNS: loopback)", "https://localhost/hook"),
    ("localhost with a port", "https://localhost:8443/hook"),
];

async fn refused(actor: &crate::helpers::Actor, collection: &str, url: &str, what: &str) {
    let response = actor.post(collection, &json!({"url": url})).await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("{what}: errors in {body}"));
    assert_eq!(errors.len(), 1, "{what}: {body}");
    assert_eq!(errors[0]["field"], "url", "{what}: {body}");
    assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: a reason: {body}");
}

#[tokio::test]
async fn every_inside_range_is_refused_with_the_defaults() {
    let w = World::with(|config| {
        config.webhooks.allow_http = false;
        config.webhooks.allowed_cidrs = vec![];
    })
    .await;
    let collection = w.path("");
    for (what, url) in INSIDE {
        refused(&w.admin, &collection, url, what).await;
    }
    // http is not https; nor are other schemes, credentials or fragments.
    for (what, url) in [
        ("http", "http://hooks.example.com/hook"),
        ("ftp", "ftp://hooks.example.com/hook"),
        ("credentials", "https://user:pw@hooks.example.com/hook"),
        ("a fragment", "https://hooks.example.com/hook#x"),
        ("not a URL", "hooks.example.com/hook"),
    ] {
        refused(&w.admin, &collection, url, what).await;
    }
    // The platform's endpoints are judged alike.
    for (what, url) in INSIDE {
        refused(&w.staff, "/v1/webhooks", url, what).await;
    }
    assert!(w.admin.list(&collection).await.is_empty(), "nothing was created");
    assert!(w.staff.list("/v1/webhooks").await.is_empty(), "nothing was created");
}

#[tokio::test]
async fn the_allow_list_opens_exactly_its_blocks() {
    let blocks = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
        "fe80::/10",
        "127.0.0.0/8",
        "::1/128",
    ];
    let w = World::with(|config| {
        config.webhooks.allow_http = false;
        config.webhooks.allowed_cidrs = blocks.iter().map(|b| b.parse().expect("a CIDR")).collect();
    })
    .await;
    let collection = w.path("");
    let allowed = [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://10.0.0.7/hook",
        "https://172.20.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[fd12:3456:789a::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://localhost/hook",
    ];
    for url in allowed {
        let endpoint = create(&w.admin, &collection, url, Some(&["group.deleted"])).await;
        // As the URL standard writes it (`[::ffff:10.0.0.1]` is `[::ffff:a00:1]`).
        assert_eq!(endpoint.view["url"], url::Url::parse(url).expect("a URL").as_str());
        assert_eq!(w.admin.delete(&endpoint.path, None).await.status(), StatusCode::NO_CONTENT);
    }
    // 192.168/16 is not in the list, and http stays refused.
    refused(&w.admin, &collection, "https://192.168.1.10/hook", "outside the list").await;
    refused(&w.admin, &collection, "https://[::ffff:192.168.1.10]/hook", "mapped, outside").await;
    refused(&w.admin, &collection, "http://10.0.0.7/hook", "http without WEBHOOK_ALLOW_HTTP").await;
    assert!(w.admin.list(&collection).await.is_empty());
}

#[tokio::test]
async fn a_new_url_is_checked_on_patch_too() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/patched"), Some(&["group.deleted"])).await;
    for url in [
        "http://10.0.0.7/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "http://169.254.169.254/",
        "ftp://x.example/",
    ] {
        let response = w.admin.patch(&endpoint.path, &json!({"url": url}), None).await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
    }
    let shown = w.admin.get(&endpoint.path).await.json::<serde_json::Value>().await.expect("view");
    assert_eq!(shown["url"], receiver.url("/patched"), "unchanged");
}

/// The check runs at every attempt: an endpoint made while loopback was allowed is not called
/// by an instance that does not allow it. (One database, two instances: the first created the
/// endpoint and looks for due deliveries only hourly; the second delivers.)
#[tokio::test]
async fn the_target_is_checked_again_at_every_attempt() {
    let receiver = Receiver::start().await;
    let (lenient, clock) =
        app_with_clock(|config| config.webhooks.poll_interval = Duration::from_secs(3600)).await;
    let strict = TestApp::spawn_on(lenient.db.clone(), |config| {
        config.clock = clock.clone();
        config.webhooks.allowed_cidrs = vec![];
    })
    .await;
    let staff = lenient.admin().await;
    let customer = id_of(&staff.create_customer("Rebound").await);
    let endpoint =
        create(&staff, &hooks_of(customer, ""), &receiver.url("/inside"), Some(&["user.created"])).await;
    // The strict instance refuses the same URL on create.
    let strict_staff = strict.sign_in(staff.user_id, &staff.email, &staff.password).await;
    refused(&strict_staff, &hooks_of(customer, ""), &receiver.url("/inside"), "loopback on strict").await;

    strict_staff.add_person(customer, "Unreached", json!({})).await;
    let log = log_until(&strict_staff, &endpoint, "a refused attempt recorded", |log| {
        log.first().is_some_and(|d| d["attempts"] == 1 && d["last_error"].is_string())
    })
    .await;
    assert_eq!(log[0]["status"], "pending", "{log:#?}");
    assert_eq!(log[0]["last_response_status"], serde_json::Value::Null);
    assert!(log[0]["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{log:#?}");
    stays_at(&receiver, 0, Duration::from_millis(1000), "never connected").await;
    assert_eq!(deliveries(&strict_staff, &endpoint).await.len(), 1);
}
