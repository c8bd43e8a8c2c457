//! Mail that lets people choose a password, over a real SMTP conversation: the welcome mail of
//! `send_mail`, an admin's reset link, and "forgot password".

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, SmtpSink, TestApp, eventually, id_of, problem};

const NEW_PASSWORD: &str = "a freshly chosen passphrase";

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json("/v1/auth/password/reset", &json!({"token": token, "password": password})).await
}

#[tokio::test]
async fn a_user_created_with_send_mail_gets_a_welcome_whose_link_sets_the_password() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let customer = admin.customer_with_address("Acme Logistics").await;

    let response = admin
        .post(
            &format!("/v1/customers/{customer}/users"),
            &json!({"name": "Jana <Berg>", "email": "Jana.Berg@acme.example", "send_mail": true}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let jana: Value = response.json().await.expect("user");
    assert_eq!(jana["login_enabled"], true);
    assert_eq!(jana["password_set"], false);
    // Active, but no password yet: nothing signs in.
    assert_eq!(app.login("jana.berg@acme.example", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    // The address as it was given (sign-in ignores case).
    let mail = sink.wait_for("Jana.Berg@acme.example").await;
    assert!(mail.text.contains("Jana.Berg@acme.example"), "names the login:\n{}", mail.text);
    assert!(mail.text.contains("http://localhost:3000"), "names the portal:\n{}", mail.text);
    assert!(mail.text.contains("Acme Logistics"), "names the customer:\n{}", mail.text);
    assert!(mail.text.contains("7 days"), "says how long the link works:\n{}", mail.text);
    assert!(mail.html.contains("Jana &lt;Berg&gt;"), "the HTML part escapes the name:\n{}", mail.html);
    let token = mail.token("/password-reset");
    assert!(token.starts_with("dgp_") && token.len() >= 43, "a 256-bit token: {token}");

    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    app.sign_in(id_of(&jana), "jana.berg@acme.example", NEW_PASSWORD).await;
    let user: Value = admin
        .get(&format!("/v1/customers/{customer}/users/{}", id_of(&jana)))
        .await
        .json()
        .await
        .expect("user");
    assert_eq!(user["password_set"], true);

    // The link works once.
    let again =
        problem(reset(&app, &token, "yet another passphrase").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(again["errors"][0]["field"], "token");
    assert!(
        app.audit_actions()
            .iter()
            .any(|(action, id)| action == "user.password_reset" && *id == Some(id_of(&jana)))
    );
}

#[tokio::test]
async fn a_welcome_for_a_user_with_a_password_has_no_link_and_never_the_password() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let customer = admin.customer_with_address("Acme Logistics").await;
    let response = admin
        .post(
            &format!("/v1/customers/{customer}/users"),
            &json!({"name": "Piet", "email": "piet@acme.example", "password": PASSWORD, "send_mail": true}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let mail = sink.wait_for("piet@acme.example").await;
    assert!(mail.text.contains("piet@acme.example"));
    assert!(!mail.raw.contains(PASSWORD), "the password is never e-mailed");
    assert!(!mail.text.contains("token="), "no set-password link when a password exists:\n{}", mail.text);
}

#[tokio::test]
async fn an_admin_sends_a_reset_link_that_works_once_and_ends_every_session() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let customer = admin.customer_with_address("Acme Logistics").await;
    let created = admin
        .add_user(customer, json!({"name": "Kim", "email": "kim@acme.example", "password": PASSWORD}))
        .await;
    let kim = app.sign_in(id_of(&created), "kim@acme.example", PASSWORD).await;

    let path = format!("/v1/customers/{customer}/users/{}/password-reset", id_of(&created));
    let response = admin.post(&path, &json!({})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let mail = sink.wait_for("kim@acme.example").await;
    assert!(mail.text.contains("1 hour"), "{}", mail.text);
    assert!(
        app.audit_actions().contains(&("user.password_reset_sent".to_owned(), Some(id_of(&created)))),
        "the admin's reset link is audited"
    );
    // Until the link is used, the old password still works.
    assert_eq!(app.login("kim@acme.example", PASSWORD).await.status(), StatusCode::OK);

    let token = mail.token("/password-reset");
    // Two people racing with one link: exactly one wins.
    let (a, b) =
        tokio::join!(reset(&app, &token, NEW_PASSWORD), reset(&app, &token, "the other racer's passphrase"));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::UNPROCESSABLE_ENTITY]);

    assert_eq!(kim.refresh().await.status(), StatusCode::UNAUTHORIZED, "the reset ended the old session");
    assert_eq!(kim.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("kim@acme.example", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_everyone_and_mails_only_who_can_sign_in() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let customer = admin.customer_with_address("Acme Logistics").await;
    let users = format!("/v1/customers/{customer}/users");
    let known = admin
        .add_user(customer, json!({"name": "Ola", "email": "ola@acme.example", "password": PASSWORD}))
        .await;
    let gone = admin
        .add_user(customer, json!({"name": "Gone", "email": "gone@acme.example", "password": PASSWORD}))
        .await;
    let deactivate = admin.post(&format!("{users}/{}/deactivate", id_of(&gone)), &json!({})).await;
    assert_eq!(deactivate.status(), StatusCode::OK);
    let contact = admin
        .post(&users, &json!({"name": "Contact", "email": "contact@acme.example", "login_enabled": false}))
        .await;
    assert_eq!(contact.status(), StatusCode::CREATED);

    let mut answers = Vec::new();
    for email in ["nobody@acme.example", "gone@acme.example", "contact@acme.example", "OLA@acme.example"] {
        let response = app.post_json("/v1/auth/password/forgot", &json!({"email": email})).await;
        answers.push((response.status(), response.text().await.expect("body")));
    }
    assert!(answers.iter().all(|a| *a == (StatusCode::ACCEPTED, String::new())), "{answers:?}");

    let mail = sink.wait_for("ola@acme.example").await;
    let requested: Vec<Option<Uuid>> = app
        .audit_actions()
        .into_iter()
        .filter(|(action, _)| action == "user.password_reset_requested")
        .map(|(_, target)| target)
        .collect();
    assert_eq!(requested, vec![Some(id_of(&known))], "only the request that sent a link is audited");
    let token = mail.token("/password-reset");
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    app.sign_in(id_of(&known), "ola@acme.example", NEW_PASSWORD).await;
    // The others' requests were made first and are cheaper; none of them queued a mail.
    let recipients: Vec<String> = {
        use diesel::prelude::*;
        use dockgate::db::schema::mail_outbox;
        mail_outbox::table.select(mail_outbox::recipient).load(&mut app.conn()).expect("outbox")
    };
    assert_eq!(recipients, vec!["ola@acme.example".to_owned()]);
}

#[tokio::test]
async fn expired_links_and_links_of_deactivated_people_do_not_work() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let customer = admin.customer_with_address("Acme Logistics").await;
    let users = format!("/v1/customers/{customer}/users");
    let created = admin
        .add_user(customer, json!({"name": "Eva", "email": "eva@acme.example", "send_mail": true}))
        .await;
    let token = sink.wait_for("eva@acme.example").await.token("/password-reset");

    // Time passes: the link's hour (here: seven days) is over.
    {
        use diesel::prelude::*;
        use dockgate::db::schema::password_tokens;
        diesel::update(password_tokens::table)
            .set(password_tokens::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)))
            .execute(&mut app.conn())
            .expect("expire");
    }
    problem(reset(&app, &token, NEW_PASSWORD).await, StatusCode::UNPROCESSABLE_ENTITY).await;

    // A fresh link dies with deactivation.
    let response = admin.post(&format!("{users}/{}/password-reset", id_of(&created)), &json!({})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let mails = sink.wait_for_count(2).await;
    let token = mails[1].token("/password-reset");
    let deactivate = admin.post(&format!("{users}/{}/deactivate", id_of(&created)), &json!({})).await;
    assert_eq!(deactivate.status(), StatusCode::OK);
    problem(reset(&app, &token, NEW_PASSWORD).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    // A reset link cannot be sent to a deactivated user either.
    let response = admin.post(&format!("{users}/{}/password-reset", id_of(&created)), &json!({})).await;
    problem(response, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn staff_created_with_send_mail_choose_their_password_through_the_link() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let response = admin.post("/v1/staff", &json!({"name": "Dana", "email": "dana@operator.example", "role": "dispatcher", "send_mail": true}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let dana: Value = response.json().await.expect("staff");
    let missing = admin
        .post("/v1/staff", &json!({"name": "Nope", "email": "nope@operator.example", "role": "dispatcher"}))
        .await;
    assert_eq!(problem(missing, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"], "password");

    let mail = sink.wait_for("dana@operator.example").await;
    let token = mail.token("/password-reset");
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    app.sign_in(id_of(&dana), "dana@operator.example", NEW_PASSWORD).await;
}

/// Reset mails are throttled per person, from one record that survives link replacement: ten
/// admin requests give one mail (the rest 429), and forgot-password within the same minute
/// sends nothing more (with the same silent 202).
#[tokio::test]
async fn reset_links_are_throttled_to_one_mail_a_minute_per_person() {
    let mut clock = None;
    let app = TestApp::spawn_with(|c| clock = Some(c.clock.clone())).await;
    let clock = clock.expect("the clock");
    let admin = app.admin().await;
    let customer = admin.customer_with_address("Acme Logistics").await;
    let created = admin
        .add_user(customer, json!({"name": "Kim", "email": "kim@acme.example", "password": PASSWORD}))
        .await;

    let path = format!("/v1/customers/{customer}/users/{}/password-reset", id_of(&created));
    let empty = json!({});
    let requests = futures_util::future::join_all((0..10).map(|_| admin.post(&path, &empty)));
    let mut statuses: Vec<u16> = requests.await.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 429, 429, 429, 429, 429, 429, 429, 429, 429]);
    assert_eq!(app.mails_to("kim@acme.example"), 1);

    for _ in 0..10 {
        let forgot = app.post_json("/v1/auth/password/forgot", &json!({"email": "kim@acme.example"})).await;
        assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.mails_to("kim@acme.example"), 1, "forgot-password shares the person's minute");

    // A minute later, ten forgot-password requests at once still mail once.
    clock.advance(chrono::Duration::seconds(61));
    let kim = json!({"email": "kim@acme.example"});
    let forgot = (0..10).map(|_| app.post_json("/v1/auth/password/forgot", &kim));
    assert!(futures_util::future::join_all(forgot).await.iter().all(|r| r.status() == StatusCode::ACCEPTED));
    eventually("the second reset mail", || (app.mails_to("kim@acme.example") == 2).then_some(())).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.mails_to("kim@acme.example"), 2);
}
