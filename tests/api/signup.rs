//! Self sign-up over a real SMTP conversation: the request answers the same for everyone, the
//! mailed link creates the user (the first one the customer's owner) and signs it in, once.

use dockgate::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, SmtpSink, TestApp, answer, id_of, problem};

async fn signup(app: &TestApp, email: &str, name: &str) -> reqwest::Response {
    app.post_json("/v1/auth/signup", &json!({"email": email, "name": name, "password": PASSWORD})).await
}

async fn verify(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/v1/auth/signup/verify", &json!({"token": token})).await
}

fn recipients(app: &TestApp) -> Vec<String> {
    app.outbox().into_iter().map(|row| row.recipient).collect()
}

#[tokio::test]
async fn the_first_sign_up_becomes_the_owner_and_later_ones_users_with_the_defaults() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let acme = id_of(
        &admin
            .create_customer_with(
                "Acme <Logistics>",
                json!({"contact_email": "Jana.Berg@acme.example", "self_signup_enabled": true}),
            )
            .await,
    );

    // The address in another case still matches (citext).
    let response = signup(&app, "jana.berg@ACME.example", "Jana Berg").await;
    assert_eq!(answer(response).await, (StatusCode::ACCEPTED, String::new()));
    let mail = sink.wait_for("jana.berg@ACME.example").await;
    assert!(mail.text.contains("Acme <Logistics>"), "names the customer:\n{}", mail.text);
    assert!(mail.html.contains("Acme &lt;Logistics&gt;"), "the HTML part escapes it:\n{}", mail.html);
    assert!(mail.text.contains("1 day"), "says how long the link works:\n{}", mail.text);
    assert!(mail.text.contains("http://localhost:3000/signup/verify?token="), "{}", mail.text);
    assert!(!mail.raw.contains(PASSWORD), "the password is never e-mailed");
    let token = mail.token("/signup/verify");
    assert!(token.starts_with("dgs_") && token.len() >= 47, "a 256-bit token: {token}");
    // Nothing exists before the link is followed.
    assert_eq!(app.login("jana.berg@acme.example", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    let response = verify(&app, &token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let body: Value = response.json().await.expect("body");
    let jana = &body["user"];
    assert_eq!(location, format!("/v1/customers/{acme}/users/{}", id_of(jana)));
    assert_eq!(jana["role"], "owner");
    assert_eq!(jana["customer_id"], acme.to_string());
    assert_eq!(jana["name"], "Jana Berg");
    assert_eq!(jana["email"], "jana.berg@ACME.example");
    assert_eq!(jana["status"], "active");
    assert_eq!(jana["login_enabled"], true);
    assert_eq!(jana["password_set"], true);
    assert!(!body.to_string().contains("argon2"), "no hash in the response");
    let tokens = &body["tokens"];
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_u64().is_some_and(|s| s > 0));
    let signed_up = app.holder_of(tokens);
    let me = signed_up.me().await;
    assert!(me.to_string().contains(&id_of(jana).to_string()), "{me}");
    assert_eq!(signed_up.refresh().await.status(), StatusCode::OK, "the refresh token works");
    // The password chosen at sign-up signs in.
    app.sign_in(id_of(jana), "jana.berg@acme.example", PASSWORD).await;

    // The link works once.
    let again = problem(verify(&app, &token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(again["errors"][0]["field"], "token");

    // The contact, now with a login, signing up again gets nothing.
    assert_eq!(signup(&app, "jana.berg@acme.example", "Jana again").await.status(), StatusCode::ACCEPTED);

    // The customer names another contact, who signs up next: a user with the defaults.
    let patch = admin
        .patch(&format!("/v1/customers/{acme}"), &json!({"contact_email": "piet@acme.example"}), None)
        .await;
    assert_eq!(patch.status(), StatusCode::OK);
    assert_eq!(signup(&app, "piet@acme.example", "Piet").await.status(), StatusCode::ACCEPTED);
    let token = sink.wait_for("piet@acme.example").await.token("/signup/verify");
    let response = verify(&app, &token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("body");
    let piet = &body["user"];
    assert_eq!(piet["role"], "user");
    let mut permissions: Vec<&str> =
        piet["permissions"].as_array().expect("permissions").iter().filter_map(Value::as_str).collect();
    permissions.sort_unstable();
    assert_eq!(permissions, ["orders.view", "pod.download", "tracking.view"]);
    assert_eq!(app.holder_of(&body["tokens"]).get("/v1/me").await.status(), StatusCode::OK);

    let actions = app.audit_actions();
    for (action, target) in [("user.signed_up", id_of(jana)), ("user.signed_up", id_of(piet))] {
        assert!(
            actions.iter().any(|(a, id)| a == action && *id == Some(target)),
            "{action} {target}: {actions:?}"
        );
    }
    assert_eq!(actions.iter().filter(|(a, _)| a == "user.signup_requested").count(), 2, "{actions:?}");
    // The audit records the new user as the actor of its sign-up.
    let actor: Option<Uuid> = {
        use diesel::prelude::*;
        use dockgate::db::schema::audit_events as a;
        a::table
            .filter(a::action.eq("user.signed_up"))
            .filter(a::target_id.eq(id_of(piet)))
            .select(a::actor_id)
            .first(&mut app.conn())
            .expect("event")
    };
    assert_eq!(actor, Some(id_of(piet)));
    // Jana's second request came before Piet's mail and is cheaper: still only the two links.
    assert_eq!(recipients(&app), ["jana.berg@ACME.example", "piet@acme.example"]);
}

#[tokio::test]
async fn sign_up_answers_the_same_for_everyone_and_mails_only_a_customer_that_allows_it() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    id_of(&admin.create_customer_with("Closed", json!({"contact_email": "closed@closed.example"})).await);
    id_of(&admin.create_customer_with("No portal", json!({"contact_email": "off@off.example", "self_signup_enabled": true, "portal_enabled": false})).await);
    id_of(&admin.create_customer_with("Suspended", json!({"contact_email": "paused@paused.example", "self_signup_enabled": true, "status": "suspended"})).await);
    for name in ["Twin A", "Twin B"] {
        id_of(
            &admin
                .create_customer_with(
                    name,
                    json!({"contact_email": "twins@twins.example", "self_signup_enabled": true}),
                )
                .await,
        );
    }
    id_of(
        &admin
            .create_customer_with(
                "Open",
                json!({"contact_email": "open@open.example", "self_signup_enabled": true}),
            )
            .await,
    );

    let mut answers = Vec::new();
    for email in [
        "nobody@nowhere.example",
        "closed@closed.example",
        "off@off.example",
        "paused@paused.example",
        "twins@twins.example",
        "open@open.example",
    ] {
        answers.push(answer(signup(&app, email, "Someone").await).await);
    }
    assert!(answers.iter().all(|a| *a == (StatusCode::ACCEPTED, String::new())), "{answers:?}");
    let mail = sink.wait_for("open@open.example").await;
    assert!(mail.text.contains("Open"), "{}", mail.text);
    // The others were asked first and are cheaper; none of them queued a mail.
    assert_eq!(recipients(&app), ["open@open.example"]);
    let requests: i64 = {
        use diesel::prelude::*;
        use dockgate::db::schema::signup_requests;
        signup_requests::table.count().get_result(&mut app.conn()).expect("count")
    };
    assert_eq!(requests, 1);
    let actions = app.audit_actions();
    assert_eq!(actions.iter().filter(|(a, _)| a == "user.signup_requested").count(), 1, "{actions:?}");

    // Invalid input is a 422 that says nothing about any customer.
    let bad_email = app
        .post_json("/v1/auth/signup", &json!({"email": "not-an-address", "name": "X", "password": PASSWORD}))
        .await;
    assert_eq!(problem(bad_email, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"], "email");
    let weak = app
        .post_json(
            "/v1/auth/signup",
            &json!({"email": "open@open.example", "name": "X", "password": "password1234"}),
        )
        .await;
    assert_eq!(problem(weak, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"], "password");
    let blank = app
        .post_json(
            "/v1/auth/signup",
            &json!({"email": "open@open.example", "name": "  ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(problem(blank, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"], "name");
    let token = problem(verify(&app, "dgs_nonsense").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(token["errors"][0]["field"], "token");
}

#[tokio::test]
async fn an_expired_link_does_not_work_and_a_closed_customer_is_a_conflict() {
    let sink = SmtpSink::start().await;
    let clock = Clock::default();
    let app = {
        let clock = clock.clone();
        let transport = sink.transport();
        TestApp::spawn_with(move |config| {
            config.mail = transport;
            config.clock = clock;
        })
        .await
    };
    let admin = app.admin().await;
    let acme = id_of(
        &admin
            .create_customer_with(
                "Acme",
                json!({"contact_email": "ops@acme.example", "self_signup_enabled": true}),
            )
            .await,
    );
    assert_eq!(signup(&app, "ops@acme.example", "Ops").await.status(), StatusCode::ACCEPTED);
    let token = sink.wait_for("ops@acme.example").await.token("/signup/verify");

    clock.advance(chrono::Duration::hours(25));
    let expired = problem(verify(&app, &token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(expired["errors"][0]["field"], "token");

    // A new link; meanwhile staff switch self sign-up off: 409, and nobody was created.
    assert_eq!(signup(&app, "ops@acme.example", "Ops").await.status(), StatusCode::ACCEPTED);
    let token = sink.wait_for_count(2).await[1].token("/signup/verify");
    let patch =
        admin.patch(&format!("/v1/customers/{acme}"), &json!({"self_signup_enabled": false}), None).await;
    assert_eq!(patch.status(), StatusCode::OK);
    problem(verify(&app, &token).await, StatusCode::CONFLICT).await;
    assert_eq!(app.login("ops@acme.example", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    // Switched back on, the same link still works (it was not used up by the conflict).
    let patch =
        admin.patch(&format!("/v1/customers/{acme}"), &json!({"self_signup_enabled": true}), None).await;
    assert_eq!(patch.status(), StatusCode::OK);
    assert_eq!(verify(&app, &token).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn two_concurrent_verifications_of_one_link_create_one_user() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let acme = id_of(
        &admin
            .create_customer_with(
                "Acme",
                json!({"contact_email": "race@acme.example", "self_signup_enabled": true}),
            )
            .await,
    );
    assert_eq!(signup(&app, "race@acme.example", "Racer").await.status(), StatusCode::ACCEPTED);
    let token = sink.wait_for("race@acme.example").await.token("/signup/verify");

    let (a, b) = tokio::join!(verify(&app, &token), verify(&app, &token));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY]);
    let users: Value = admin.get(&format!("/v1/customers/{acme}/users")).await.json().await.expect("users");
    assert_eq!(users["items"].as_array().map(Vec::len), Some(1), "{users}");
}

#[tokio::test]
async fn sign_up_requests_count_against_the_client_limit() {
    let sink = SmtpSink::start().await;
    let transport = sink.transport();
    let app = TestApp::spawn_with(move |config| {
        config.mail = transport;
        config.login_limits.per_client = 3;
    })
    .await;
    for i in 0..3 {
        let response = signup(&app, &format!("someone{i}@nowhere.example"), "Someone").await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let response = signup(&app, "someone-else@nowhere.example", "Someone").await;
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(retry_after.and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s > 0), "a Retry-After");
}

#[tokio::test]
async fn concurrent_sign_ups_are_counted_before_they_are_answered() {
    let app = TestApp::spawn_with(|config| config.login_limits.per_account_and_client = 4).await;
    let requests = (0..12).map(|_| signup(&app, "same.person@nowhere.example", "Someone"));
    let statuses: Vec<StatusCode> =
        futures_util::future::join_all(requests).await.iter().map(reqwest::Response::status).collect();
    let accepted = statuses.iter().filter(|s| **s == StatusCode::ACCEPTED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((accepted, refused), (4, 8), "{statuses:?}");
}

/// The break-in found from outside: a customer with self sign-up and no owner; its admin points
/// the contact address at a mailbox it controls, signs up and verifies. It gets a plain user,
/// never the owner.
#[tokio::test]
async fn an_admin_cannot_become_owner_by_signing_up_as_the_contact() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let staff = app.admin().await;
    let acme = id_of(
        &staff
            .create_customer_with(
                "Acme",
                json!({"contact_email": "office@acme.example", "self_signup_enabled": true}),
            )
            .await,
    );
    let admin = app.customer_user(acme, dockgate::permissions::Role::Admin, &[]).await;

    let patch = admin
        .patch(&format!("/v1/customers/{acme}"), &json!({"contact_email": "mallory@attacker.example"}), None)
        .await;
    assert_eq!(patch.status(), StatusCode::OK, "admins may still edit the contact address");
    assert_eq!(signup(&app, "mallory@attacker.example", "Mallory").await.status(), StatusCode::ACCEPTED);
    let token = sink.wait_for("mallory@attacker.example").await.token("/signup/verify");
    let response = verify(&app, &token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("body");
    assert_eq!(body["user"]["role"], "user", "{body}");
    let me = app.holder_of(&body["tokens"]).me().await;
    assert!(!me["permissions"].to_string().contains("users.manage"), "{me}");
    let owners: i64 = {
        use diesel::prelude::*;
        use dockgate::db::schema::users;
        users::table
            .filter(users::customer_id.eq(acme))
            .filter(users::role.eq(dockgate::permissions::Role::Owner))
            .count()
            .get_result(&mut app.conn())
            .expect("count")
    };
    assert_eq!(owners, 0, "the customer still has no owner");
}

/// A deactivated admin still manages the customer's users on paper: sign-up does not make an
/// owner past it either.
#[tokio::test]
async fn a_customer_with_only_a_deactivated_admin_gets_no_owner_by_sign_up() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let staff = app.admin().await;
    let acme = id_of(
        &staff
            .create_customer_with(
                "Acme",
                json!({"contact_email": "office@acme.example", "self_signup_enabled": true}),
            )
            .await,
    );
    let admin = app.customer_user(acme, dockgate::permissions::Role::Admin, &[]).await;
    let deactivate =
        staff.post(&format!("/v1/customers/{acme}/users/{}/deactivate", admin.user_id), &json!({})).await;
    assert_eq!(deactivate.status(), StatusCode::OK);
    assert_eq!(signup(&app, "office@acme.example", "Office").await.status(), StatusCode::ACCEPTED);
    let token = sink.wait_for("office@acme.example").await.token("/signup/verify");
    let body: Value = verify(&app, &token).await.json().await.expect("body");
    assert_eq!(body["user"]["role"], "user", "{body}");
}
