//! Invitations (contract section 7), over HTTP against PostgreSQL with a real SMTP conversation:
//! bulk outcomes, the mailed link, lookup and accept, expiry on an injected clock, resend,
//! revoke, who may invite, tenant isolation and closed portals.

use dockgate::clock::Clock;
use dockgate::permissions::{Permission, Role};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, PASSWORD, ReceivedMail, SmtpSink, TestApp, eventually, id_of, invitations_of, json_of, problem,
    users_of,
};

const CHOSEN: &str = "a passphrase of my own";

struct World {
    sink: SmtpSink,
    app: TestApp,
    clock: Clock,
    staff: Actor,
    customer: Uuid,
}

/// An app mailing to an SMTP sink, with a handle on its clock, a platform admin and a customer
/// "Acme Logistics" with a default warehouse address.
async fn world() -> World {
    let sink = SmtpSink::start().await;
    let mut clock = None;
    let app = TestApp::spawn_with(|c| {
        c.mail = sink.transport();
        clock = Some(c.clock.clone());
    })
    .await;
    let staff = app.admin().await;
    let customer = staff.customer_with_address("Acme Logistics").await;
    World { sink, app, clock: clock.expect("the clock"), staff, customer }
}

async fn lookup(app: &TestApp, token: &str) -> Response {
    app.client
        .get(app.url("/v1/invitations/lookup"))
        .query(&[("token", token)])
        .send()
        .await
        .expect("request")
}

async fn accept(app: &TestApp, token: &str, name: &str) -> Response {
    app.post_json("/v1/invitations/accept", &json!({"token": token, "name": name, "password": CHOSEN})).await
}

/// The `n`-th (1-based) mail to `recipient`, waiting for it.
async fn nth_mail(sink: &SmtpSink, recipient: &str, n: usize) -> ReceivedMail {
    eventually(&format!("mail {n} to {recipient}"), || {
        sink.received().into_iter().filter(|m| m.to.iter().any(|to| to == recipient)).nth(n - 1)
    })
    .await
}

async fn invited_users(actor: &Actor, customer: Uuid) -> Vec<Value> {
    actor.list(&format!("{}?status=invited", users_of(customer))).await
}

fn count(app: &TestApp, action: &str) -> usize {
    app.actions().iter().filter(|a| *a == action).count()
}

#[tokio::test]
async fn a_bulk_invitation_reports_every_outcome_and_reason_in_request_order() {
    let World { app, staff, customer, .. } = world().await;
    let users = format!("/v1/customers/{customer}/users");
    let active = json_of(
        staff.post(&users, &json!({"name": "Ann", "email": "ann@acme.example", "password": PASSWORD})).await,
        StatusCode::CREATED,
    )
    .await;
    let gone = json_of(
        staff
            .post(&users, &json!({"name": "Dirk", "email": "dirk@acme.example", "password": PASSWORD}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let deactivate = staff.post(&format!("{users}/{}/deactivate", id_of(&gone)), &json!({})).await;
    assert!(deactivate.status().is_success(), "{}", deactivate.status());
    let other = id_of(&staff.create_customer("Other").await);
    let elsewhere = app.customer_user(other, Role::User, &[Permission::OrdersView]).await;
    staff.invite_one(customer, "pending@acme.example").await;

    let emails = json!([
        "New.Person@acme.example",
        "not an address",
        "ANN@acme.example",
        "dirk@acme.example",
        staff.email,
        elsewhere.email,
        "pending@acme.example",
        "someone@mailinator.com",
        "new.person@ACME.example",
        "second@acme.example",
    ]);
    let results = staff.invite(customer, json!({"emails": emails, "role": "user"})).await;
    let outcomes: Vec<(String, String, Option<String>)> = results
        .iter()
        .map(|r| {
            (
                r["email"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
                r["reason"].as_str().map(String::from),
            )
        })
        .collect();
    let expected = [
        ("invited", None),
        ("skipped", Some("invalid_email")),
        ("skipped", Some("already_a_user")),
        ("skipped", Some("already_a_user")),
        // Staff, and a person of another customer: taken, but not said to be.
        ("skipped", Some("not_invitable")),
        ("skipped", Some("not_invitable")),
        ("skipped", Some("already_invited")),
        ("skipped", Some("not_invitable")),
        ("skipped", Some("duplicate_in_request")),
        ("invited", None),
    ];
    assert_eq!(outcomes.len(), expected.len());
    for ((email, outcome, reason), (want, want_reason)) in outcomes.iter().zip(expected) {
        assert_eq!((outcome.as_str(), reason.as_deref()), (want, want_reason), "{email}");
    }
    assert_eq!(outcomes[0].0, "New.Person@acme.example", "the address as given");
    let invitation = &results[0]["invitation"];
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["email"], "New.Person@acme.example");
    assert_eq!(invitation["role"], "user");
    assert_eq!(invitation["send_count"], 1);
    assert_eq!(invitation["invited_by"], json!(staff.user_id));
    assert_eq!(invitation["permissions"], json!(["orders.view", "tracking.view", "pod.download"]));
    assert!(results[1]["invitation"].is_null() && results[0]["reason"].is_null(), "sent as null");
    assert!(results[1].get("invitation").is_some(), "always sent");
    assert!(!active["id"].is_null());

    let invited = invited_users(&staff, customer).await;
    let mut emails: Vec<&str> = invited.iter().map(|u| u["email"].as_str().unwrap()).collect();
    emails.sort();
    assert_eq!(emails, ["New.Person@acme.example", "pending@acme.example", "second@acme.example"]);
    let user = invited.iter().find(|u| u["id"] == invitation["user_id"]).expect("the invited user");
    assert_eq!(user["status"], "invited");
    assert_eq!(user["login_enabled"], true);
    assert_eq!(user["password_set"], false);
    assert_eq!(count(&app, "invitation.created"), 3, "one event per invited address");

    let listed =
        json_of(staff.get(&format!("{}?status=pending", invitations_of(customer))).await, StatusCode::OK)
            .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
    let one = staff.get(&format!("{}/{}", invitations_of(customer), id_of(invitation))).await;
    assert!(one.headers().get("etag").is_some());
    assert_eq!(json_of(one, StatusCode::OK).await["id"], invitation["id"]);
}

#[tokio::test]
async fn the_mailed_link_names_customer_and_inviter_and_accepting_it_signs_the_person_in() {
    let World { sink, app, staff, customer, .. } = world().await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let invitation = admin.invite_one(customer, "jana@acme.example").await;

    let mail = sink.wait_for("jana@acme.example").await;
    let inviter = format!("admin of {customer}");
    assert!(mail.subject.contains("Acme Logistics"), "{}", mail.subject);
    assert!(mail.text.contains("Acme Logistics") && mail.text.contains(&inviter), "{}", mail.text);
    let link = mail.link("http://localhost:3000/invitations/accept?token=");
    let token = mail.token("/invitations/accept");
    assert!(link.ends_with(&token));
    assert!(mail.html.contains("Acme Logistics") && mail.html.contains(&token), "{}", mail.html);
    let expires: chrono::DateTime<chrono::Utc> = invitation["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(mail.text.contains(&expires.format("%-d %B %Y").to_string()), "a human date:\n{}", mail.text);
    assert!(token.starts_with("dgi_") && token.len() >= 47, "a 256-bit token: {token}");

    let found = json_of(lookup(&app, &token).await, StatusCode::OK).await;
    assert_eq!(
        found,
        json!({"email": "jana@acme.example", "customer_name": "Acme Logistics", "expires_at": invitation["expires_at"]})
    );
    problem(lookup(&app, "dgi_nothing-like-this").await, StatusCode::NOT_FOUND).await;
    let weak = app
        .post_json(
            "/v1/invitations/accept",
            &json!({"token": token, "name": "Jana", "password": "jana@acme.example"}),
        )
        .await;
    assert_eq!(problem(weak, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"], "password");

    let joined = json_of(accept(&app, &token, "Jana Berg").await, StatusCode::CREATED).await;
    assert_eq!(joined["user"]["id"], invitation["user_id"]);
    assert_eq!(joined["user"]["status"], "active");
    assert_eq!(joined["user"]["name"], "Jana Berg");
    assert_eq!(joined["tokens"]["token_type"], "Bearer");
    let jana = app.holder_of(&joined["tokens"]);
    assert_eq!(jana.me().await["email"], "jana@acme.example");
    assert_eq!(jana.refresh().await.status(), StatusCode::OK);

    app.sign_in(id_of(&joined["user"]), "jana@acme.example", CHOSEN).await;

    // The link works once.
    problem(accept(&app, &token, "Jana again").await, StatusCode::NOT_FOUND).await;
    problem(lookup(&app, &token).await, StatusCode::NOT_FOUND).await;
    let path = format!("{}/{}", invitations_of(customer), id_of(&invitation));
    let now = json_of(staff.get(&path).await, StatusCode::OK).await;
    assert_eq!(now["status"], "accepted");
    problem(staff.delete(&path, None).await, StatusCode::CONFLICT).await;
    problem(staff.post(&format!("{path}/resend"), &json!({})).await, StatusCode::CONFLICT).await;
    assert!(invited_users(&staff, customer).await.is_empty());
    let accepted = app.audit_actions();
    assert!(accepted.iter().any(|(a, id)| a == "invitation.accepted" && *id == Some(id_of(&invitation))));
    let actor: Option<Uuid> = {
        use diesel::prelude::*;
        use dockgate::db::schema::audit_events as ae;
        ae::table
            .filter(ae::action.eq("invitation.accepted"))
            .select(ae::actor_id)
            .first(&mut app.conn())
            .expect("the event")
    };
    assert_eq!(actor, Some(id_of(&joined["user"])), "the accepting person is the actor");
}

#[tokio::test]
async fn two_concurrent_accepts_of_one_link_make_exactly_one_member() {
    let World { sink, app, staff, customer, .. } = world().await;
    staff.invite_one(customer, "racer@acme.example").await;
    let token = sink.wait_for("racer@acme.example").await.token("/invitations/accept");
    let (a, b) = tokio::join!(accept(&app, &token, "One"), accept(&app, &token, "Two"));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::NOT_FOUND]);
    assert_eq!(count(&app, "invitation.accepted"), 1);
}

#[tokio::test]
async fn a_link_expires_after_seven_days_and_the_address_can_then_be_invited_again() {
    let World { sink, app, clock, staff, customer } = world().await;
    let first = staff.invite_one(customer, "late@acme.example").await;
    let old = sink.wait_for("late@acme.example").await.token("/invitations/accept");

    clock.advance(chrono::Duration::days(6));
    assert_eq!(lookup(&app, &old).await.status(), StatusCode::OK, "still open on day 6");
    clock.advance(chrono::Duration::days(2));
    let gone = problem(lookup(&app, &old).await, StatusCode::GONE).await;
    assert_eq!(gone["type"], "urn:dockgate:problem:gone");
    problem(accept(&app, &old, "Late").await, StatusCode::GONE).await;
    let expired =
        json_of(staff.get(&format!("{}?status=expired", invitations_of(customer))).await, StatusCode::OK)
            .await;
    assert_eq!(expired["items"][0]["id"], first["id"]);
    assert_eq!(expired["items"][0]["status"], "expired");

    let again = staff.invite_one(customer, "late@acme.example").await;
    assert_ne!(again["id"], first["id"], "a new invitation");
    assert_eq!(again["user_id"], first["user_id"], "for the same invited user");
    assert_eq!(again["status"], "pending");
    let fresh = nth_mail(&sink, "late@acme.example", 2).await.token("/invitations/accept");
    assert_eq!(lookup(&app, &fresh).await.status(), StatusCode::OK);
    // The replaced invitation cannot be revived.
    let stale = format!("{}/{}/resend", invitations_of(customer), id_of(&first));
    problem(staff.post(&stale, &json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(
        json_of(accept(&app, &fresh, "Late").await, StatusCode::CREATED).await["user"]["id"],
        first["user_id"]
    );
}

#[tokio::test]
async fn resending_mails_a_new_link_and_kills_the_old_one() {
    let World { sink, app, clock, staff, customer } = world().await;
    let invitation = staff.invite_one(customer, "again@acme.example").await;
    let old = sink.wait_for("again@acme.example").await.token("/invitations/accept");
    clock.advance(chrono::Duration::days(8));

    let path = format!("{}/{}/resend", invitations_of(customer), id_of(&invitation));
    let resent = staff.post(&path, &json!({})).await;
    assert!(resent.headers().get("etag").is_some());
    let resent = json_of(resent, StatusCode::OK).await;
    assert_eq!(resent["send_count"], 2);
    assert_eq!(resent["status"], "pending");
    let expires: chrono::DateTime<chrono::Utc> = resent["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires > clock.now() + chrono::Duration::days(6), "7 days from the resend");

    let new = nth_mail(&sink, "again@acme.example", 2).await.token("/invitations/accept");
    assert_ne!(new, old);
    problem(lookup(&app, &old).await, StatusCode::NOT_FOUND).await;
    problem(accept(&app, &old, "Old link").await, StatusCode::NOT_FOUND).await;
    assert_eq!(lookup(&app, &new).await.status(), StatusCode::OK);
    assert_eq!(count(&app, "invitation.resent"), 1);
    json_of(accept(&app, &new, "New link").await, StatusCode::CREATED).await;
}

#[tokio::test]
async fn revoking_removes_the_invited_user_and_kills_the_link() {
    let World { sink, app, staff, customer, .. } = world().await;
    let invitation = staff.invite_one(customer, "nope@acme.example").await;
    let link = sink.wait_for("nope@acme.example").await.token("/invitations/accept");
    let path = format!("{}/{}", invitations_of(customer), id_of(&invitation));

    problem(staff.delete(&path, Some("\"0\"")).await, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(staff.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    problem(lookup(&app, &link).await, StatusCode::NOT_FOUND).await;
    problem(accept(&app, &link, "Nope").await, StatusCode::NOT_FOUND).await;
    let user_path = format!("/v1/customers/{customer}/users/{}", invitation["user_id"].as_str().unwrap());
    problem(staff.get(&user_path).await, StatusCode::NOT_FOUND).await;
    assert!(invited_users(&staff, customer).await.is_empty());
    let revoked = json_of(staff.get(&path).await, StatusCode::OK).await;
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["user_id"], Value::Null);
    problem(staff.delete(&path, None).await, StatusCode::CONFLICT).await;
    problem(staff.post(&format!("{path}/resend"), &json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(count(&app, "invitation.revoked"), 1);
    // The address is free again.
    staff.invite_one(customer, "nope@acme.example").await;
}

#[tokio::test]
async fn an_admin_cannot_invite_an_owner_and_a_user_cannot_invite_at_all() {
    let World { app, staff, customer, .. } = world().await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let user = app.customer_user(customer, Role::User, &[Permission::OrdersView]).await;
    let body = json!({"emails": ["boss@acme.example"], "role": "owner"});
    problem(admin.post(&invitations_of(customer), &body).await, StatusCode::FORBIDDEN).await;
    let body = json!({"emails": ["someone@acme.example"]});
    problem(user.post(&invitations_of(customer), &body).await, StatusCode::FORBIDDEN).await;
    problem(user.get(&invitations_of(customer)).await, StatusCode::FORBIDDEN).await;

    // The rules of user creation apply to the whole request: nothing is created.
    let bad = json!({"emails": ["a@acme.example", "b@acme.example"], "permissions": ["users.manage"]});
    problem(admin.post(&invitations_of(customer), &bad).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    let bad = json!({"emails": ["a@acme.example"], "group_ids": [Uuid::now_v7()]});
    let body =
        problem(admin.post(&invitations_of(customer), &bad).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "group_ids");
    let empty = json!({"emails": []});
    problem(admin.post(&invitations_of(customer), &empty).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(invited_users(&staff, customer).await.is_empty());

    // Staff may invite the owner.
    let owner = staff.invite(customer, json!({"emails": ["boss@acme.example"], "role": "owner"})).await;
    assert_eq!(owner[0]["invitation"]["role"], "owner");
}

#[tokio::test]
async fn another_customers_admin_gets_404_on_every_invitation_endpoint() {
    let World { app, staff, customer, .. } = world().await;
    let invitation = staff.invite_one(customer, "mine@acme.example").await;
    let other = id_of(&staff.create_customer("Other").await);
    let stranger = app.customer_user(other, Role::Admin, &[]).await;
    let one = format!("{}/{}", invitations_of(customer), id_of(&invitation));
    problem(stranger.get(&invitations_of(customer)).await, StatusCode::NOT_FOUND).await;
    problem(
        stranger.post(&invitations_of(customer), &json!({"emails": ["x@acme.example"]})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(stranger.get(&one).await, StatusCode::NOT_FOUND).await;
    problem(stranger.post(&format!("{one}/resend"), &json!({})).await, StatusCode::NOT_FOUND).await;
    problem(stranger.delete(&one, None).await, StatusCode::NOT_FOUND).await;
    // Nor through its own customer's path.
    let own = format!("{}/{}", invitations_of(other), id_of(&invitation));
    problem(stranger.get(&own).await, StatusCode::NOT_FOUND).await;
    problem(stranger.post(&format!("{own}/resend"), &json!({})).await, StatusCode::NOT_FOUND).await;
    problem(stranger.delete(&own, None).await, StatusCode::NOT_FOUND).await;
    let listed = json_of(stranger.get(&invitations_of(other)).await, StatusCode::OK).await;
    assert!(listed["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_customer_with_the_portal_off_can_neither_invite_nor_be_joined() {
    let World { sink, app, staff, customer, .. } = world().await;
    staff.invite_one(customer, "early@acme.example").await;
    let link = sink.wait_for("early@acme.example").await.token("/invitations/accept");
    let off =
        staff.patch(&format!("/v1/customers/{customer}"), &json!({"portal_enabled": false}), None).await;
    assert_eq!(off.status(), StatusCode::OK);

    let body = json!({"emails": ["late@acme.example", "later@acme.example"]});
    let refused = problem(staff.post(&invitations_of(customer), &body).await, StatusCode::CONFLICT).await;
    assert!(refused["detail"].as_str().unwrap().contains("portal"), "{refused}");
    problem(accept(&app, &link, "Early").await, StatusCode::CONFLICT).await;
    assert_eq!(invited_users(&staff, customer).await.len(), 1, "nothing new was created");

    let on = staff.patch(&format!("/v1/customers/{customer}"), &json!({"portal_enabled": true}), None).await;
    assert_eq!(on.status(), StatusCode::OK);
    json_of(accept(&app, &link, "Early").await, StatusCode::CREATED).await;
}

/// Ten resends at once right after the invitation: one mail in all (the invitation's own), the
/// resends 429 with `Retry-After`; a minute later a resend goes through.
#[tokio::test]
async fn resends_are_throttled_to_one_mail_a_minute_per_address() {
    let World { sink: _sink, app, clock, staff, customer } = world().await;
    let invitation = staff.invite_one(customer, "flooded@acme.example").await;
    let path = format!("{}/{}/resend", invitations_of(customer), id_of(&invitation));
    let empty = json!({});
    let resends = futures_util::future::join_all((0..10).map(|_| staff.post(&path, &empty))).await;
    for response in resends {
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    }
    assert_eq!(app.mails_to("flooded@acme.example"), 1);

    clock.advance(chrono::Duration::seconds(61));
    let resends = futures_util::future::join_all((0..5).map(|_| staff.post(&path, &empty))).await;
    let mut statuses: Vec<u16> = resends.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429, 429, 429, 429], "one of five concurrent resends goes through");
    assert_eq!(app.mails_to("flooded@acme.example"), 2);
}
