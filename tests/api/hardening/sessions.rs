//! Sessions people can see and end (issue 16): one's own list, ending one or all others, an
//! admin's and staff's view of someone's sessions, support sessions in the list, and the two
//! lifetimes (`SESSION_IDLE_TIMEOUT`, `SESSION_MAX_AGE`) on refresh and on a request.

use std::time::Duration;

use base64::Engine;
use diesel::prelude::*;
use dockgate::clock::Clock;
use dockgate::db::schema::{audit_events, sessions};
use dockgate::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, json_of};

async fn app_with_clock(adjust: impl FnOnce(&mut dockgate::Config)) -> (TestApp, Clock) {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| {
        clock = Some(config.clock.clone());
        adjust(config);
    })
    .await;
    (app, clock.expect("the clock"))
}

/// The session (`sid`) an actor's access token belongs to.
fn sid(actor: &Actor) -> String {
    let payload = actor.access_token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64");
    let claims: Value = serde_json::from_slice(&bytes).expect("claims");
    claims["sid"].as_str().expect("a sid").to_owned()
}

async fn sessions_of(actor: &Actor, path: &str) -> Vec<Value> {
    let list = json_of(actor.get(path).await, StatusCode::OK).await;
    list["items"].as_array().expect("items").clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|s| s["id"].as_str().expect("an id").to_owned()).collect()
}

fn ended_events(app: &TestApp, target: Uuid) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq("user.session_ended"))
        .filter(audit_events::target_id.eq(target))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

/// A customer with one person who signs in on a laptop and a phone.
async fn person_on_two_devices(app: &TestApp) -> (Uuid, Uuid, Actor, Actor) {
    let staff = app.admin().await;
    let customer = crate::helpers::id_of(&staff.create_customer("Depot North").await);
    let user = staff.add_person(customer, "pia", json!({})).await;
    let laptop = app.sign_in_member(&user).await;
    let phone = app.sign_in_member(&user).await;
    (customer, crate::helpers::id_of(&user), laptop, phone)
}

#[tokio::test]
async fn people_see_their_sessions_and_end_one_or_all_others() {
    let app = TestApp::spawn().await;
    let (customer, _, laptop, phone) = person_on_two_devices(&app).await;
    let tablet = app.sign_in_again(&laptop).await;

    let listed = sessions_of(&laptop, "/v1/me/sessions").await;
    assert_eq!(ids(&listed), [sid(&tablet), sid(&phone), sid(&laptop)], "newest first");
    let current: Vec<_> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], sid(&laptop));
    assert_eq!(listed[0]["amr"], json!(["pwd"]));
    assert_eq!(listed[0]["impersonated_by"], Value::Null);
    assert!(listed[0]["last_used_at"].is_string() && listed[0]["created_at"].is_string());

    // The phone was lost: ended from the laptop, its access token stops at once.
    let ended = laptop.delete(&format!("/v1/me/sessions/{}", sid(&phone)), None).await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(phone.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(phone.refresh().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(ids(&sessions_of(&laptop, "/v1/me/sessions").await), [sid(&tablet), sid(&laptop)]);
    // Ended already: gone.
    let again = laptop.delete(&format!("/v1/me/sessions/{}", sid(&phone)), None).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // Someone else's session is not the caller's to end, nor to learn about.
    let staff = app.admin().await;
    let other = staff.add_person(customer, "otto", json!({})).await;
    let other = app.sign_in_member(&other).await;
    let foreign = laptop.delete(&format!("/v1/me/sessions/{}", sid(&other)), None).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.get("/v1/me").await.status(), StatusCode::OK);

    // Signing out everywhere else keeps the laptop.
    assert_eq!(laptop.delete("/v1/me/sessions", None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(tablet.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/v1/me").await.status(), StatusCode::OK);
    assert_eq!(ids(&sessions_of(&laptop, "/v1/me/sessions").await), [sid(&laptop)]);
    assert_eq!(ended_events(&app, laptop.user_id), 2, "each end is audited");
}

#[tokio::test]
async fn admins_see_and_end_a_users_sessions_but_not_the_owners() {
    let app = TestApp::spawn().await;
    let (customer, user, laptop, phone) = person_on_two_devices(&app).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let path = format!("/v1/customers/{customer}/users/{user}/sessions");

    let listed = sessions_of(&admin, &path).await;
    assert_eq!(ids(&listed), [sid(&phone), sid(&laptop)]);
    assert!(listed.iter().all(|s| s["current"] == false), "neither is the admin's");

    let one = admin.delete(&format!("{path}/{}", sid(&phone)), None).await;
    assert_eq!(one.status(), StatusCode::NO_CONTENT);
    assert_eq!(phone.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/v1/me").await.status(), StatusCode::OK);
    // The admin's own session is not one of the user's.
    let mine = admin.delete(&format!("{path}/{}", sid(&admin)), None).await;
    assert_eq!(mine.status(), StatusCode::NOT_FOUND);

    assert_eq!(admin.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(laptop.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert!(sessions_of(&admin, &path).await.is_empty());
    assert_eq!(ended_events(&app, user), 2);

    // The owner's sessions are for staff and the owner only.
    let owner = app.customer_user(customer, Role::Owner, &[]).await;
    let owners = format!("/v1/customers/{customer}/users/{}/sessions", owner.user_id);
    assert_eq!(admin.get(&owners).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.delete(&owners, None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(owner.get("/v1/me").await.status(), StatusCode::OK);
    let staff = app.admin().await;
    assert_eq!(ids(&sessions_of(&staff, &owners).await), [sid(&owner)]);

    // A plain user manages nobody's sessions.
    let plain = app.customer_user(customer, Role::User, &[]).await;
    assert_eq!(plain.get(&path).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn staff_sessions_are_seen_and_ended_by_staff_managers() {
    let app = TestApp::spawn().await;
    let manager = app.admin().await;
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    let path = format!("/v1/staff/{}/sessions", dispatcher.user_id);

    assert_eq!(ids(&sessions_of(&manager, &path).await), [sid(&dispatcher)]);
    assert_eq!(dispatcher.get(&path).await.status(), StatusCode::FORBIDDEN, "staff.manage only");

    let ended = manager.delete(&format!("{path}/{}", sid(&dispatcher)), None).await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(dispatcher.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(ended_events(&app, dispatcher.user_id), 1);

    let back = app.sign_in_again(&dispatcher).await;
    assert_eq!(manager.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(back.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    // A customer user is no staff member.
    let (customer, user, ..) = person_on_two_devices(&app).await;
    let _ = customer;
    assert_eq!(manager.get(&format!("/v1/staff/{user}/sessions")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_support_session_shows_in_the_users_list_with_who_and_why() {
    let (app, clock) = app_with_clock(|_| {}).await;
    let (_, user, laptop, _) = person_on_two_devices(&app).await;
    let support = app.admin().await;
    let now = clock.now();
    let support_session = Uuid::now_v7();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(support_session),
            sessions::user_id.eq(user),
            sessions::created_at.eq(now),
            sessions::last_used_at.eq(now),
            sessions::amr.eq(Vec::<String>::new()),
            sessions::impersonator_id.eq(support.user_id),
            sessions::impersonation_reason.eq("Ticket 4711: order stuck"),
            sessions::expires_at.eq(now + chrono::Duration::minutes(15)),
        ))
        .execute(&mut app.conn())
        .expect("a support session");

    let listed = sessions_of(&laptop, "/v1/me/sessions").await;
    assert_eq!(listed[0]["id"], support_session.to_string());
    assert_eq!(listed[0]["impersonated_by"], support.user_id.to_string());
    assert_eq!(listed[0]["impersonation_reason"], "Ticket 4711: order stuck");
    assert_eq!(listed[0]["amr"], json!([]));
    assert!(listed[0]["expires_at"].is_string());

    // Past its hard end it is no longer live.
    clock.advance(chrono::Duration::minutes(16));
    let laptop = laptop.refreshed().await;
    assert!(!ids(&sessions_of(&laptop, "/v1/me/sessions").await).contains(&support_session.to_string()));
}

/// Access tokens outlive the idle timeout here, so a request alone meets it.
fn short_lifetimes(config: &mut dockgate::Config) {
    config.access_token_ttl = Duration::from_secs(2 * 3600);
    config.sessions.idle_timeout = Duration::from_secs(3600);
    config.sessions.max_age = Duration::from_secs(3 * 3600);
}

#[tokio::test]
async fn a_session_left_unused_past_the_idle_timeout_is_over() {
    let (app, clock) = app_with_clock(short_lifetimes).await;
    let (_, _, laptop, phone) = person_on_two_devices(&app).await;
    clock.advance(chrono::Duration::minutes(61));
    // On a request, with an access token still within its own lifetime.
    assert_eq!(laptop.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    // And on refresh.
    assert_eq!(phone.refresh().await.status(), StatusCode::UNAUTHORIZED);
    let reasons: Vec<Option<String>> = sessions::table
        .filter(sessions::user_id.eq(laptop.user_id))
        .select(sessions::revoked_reason)
        .load(&mut app.conn())
        .expect("sessions");
    assert_eq!(reasons, [Some("idle_timeout".to_owned()), Some("idle_timeout".to_owned())]);
}

#[tokio::test]
async fn a_session_used_regularly_survives_the_idle_timeout_but_not_its_maximum_age() {
    let (app, clock) = app_with_clock(short_lifetimes).await;
    let (_, _, laptop, phone) = person_on_two_devices(&app).await;
    let mut phone = phone;
    // Every 40 minutes: the laptop makes a request, the phone refreshes.
    for _ in 0..4 {
        clock.advance(chrono::Duration::minutes(40));
        assert_eq!(laptop.get("/v1/me").await.status(), StatusCode::OK, "used within the idle timeout");
        phone = phone.refreshed().await;
    }
    // 2 h 40 in: well past one idle timeout, both alive. At 3 h 20 both are past their maximum age.
    clock.advance(chrono::Duration::minutes(40));
    assert_eq!(phone.refresh().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn staff_or_the_owner_end_every_session_of_a_customer_at_once() {
    let app = TestApp::spawn().await;
    let (customer, _, laptop, phone) = person_on_two_devices(&app).await;
    let owner = app.customer_user(customer, Role::Owner, &[]).await;
    let admin = app.customer_user(customer, Role::Admin, &[]).await;
    let staff = app.admin().await;
    let other = crate::helpers::id_of(&staff.create_customer("Depot South").await);
    let bystander = app.customer_user(other, Role::User, &[]).await;
    let path = format!("/v1/customers/{customer}/sessions");

    // An admin may not: it would sign the owner out too.
    assert_eq!(admin.delete(&path, None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(laptop.get("/v1/me").await.status(), StatusCode::OK);
    // Nor may a support session, even one acting as the owner.
    let support = json_of(
        staff
            .post(
                &format!("/v1/customers/{customer}/users/{}/impersonate", owner.user_id),
                &json!({"reason": "Ticket 4712: the owner cannot sign everyone out."}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let support = app.bearer(support["access_token"].as_str().expect("a support token"));
    assert_eq!(support.delete(&path, None).await.status(), StatusCode::FORBIDDEN);

    // The owner can: everyone else's tokens stop at once, its own session stays.
    assert_eq!(owner.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    for signed_out in [&laptop, &phone, &admin, &support] {
        assert_eq!(signed_out.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(laptop.refresh().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(owner.get("/v1/me").await.status(), StatusCode::OK);
    // Another customer's people are not touched.
    assert_eq!(bystander.get("/v1/me").await.status(), StatusCode::OK);

    // One event, with how many ended: the laptop, the phone, the admin and the support session.
    let log =
        owner.get(&format!("/v1/audit-events?customer_id={customer}&action=customer.sessions_ended")).await;
    let events = json_of(log, StatusCode::OK).await;
    let events = events["items"].as_array().expect("items").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor_id"], json!(owner.user_id));
    assert_eq!(events[0]["target_id"], json!(customer));
    assert_eq!(events[0]["changes"], json!({"sessions": {"from": 4, "to": 0}}));

    // Staff who see the customer may too, and then the owner is signed out as well.
    assert_eq!(staff.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(owner.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(staff.get("/v1/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_pruner_deletes_refresh_tokens_a_day_past_their_end_and_keeps_the_rest() {
    use dockgate::db::schema::refresh_tokens;
    let app = TestApp::spawn().await;
    let (_, _, laptop, _) = person_on_two_devices(&app).await;
    let before = sid(&laptop).parse::<Uuid>().expect("a session id");
    // Three refreshes: three used tokens of the laptop's session and its current one.
    let mut current = laptop;
    for _ in 0..3 {
        current = current.refreshed().await;
    }
    let of_session = || refresh_tokens::table.filter(refresh_tokens::session_id.eq(before));
    let tokens: Vec<Uuid> = of_session()
        .order(refresh_tokens::created_at)
        .select(refresh_tokens::id)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(tokens.len(), 4);
    // The two oldest ended two days ago, the third an hour ago.
    let ended = |id: Uuid, ago: chrono::Duration| {
        diesel::update(refresh_tokens::table.find(id))
            .set(refresh_tokens::expires_at.eq(chrono::Utc::now() - ago))
            .execute(&mut app.conn())
            .unwrap();
    };
    ended(tokens[0], chrono::Duration::days(2));
    ended(tokens[1], chrono::Duration::days(2));
    ended(tokens[2], chrono::Duration::hours(1));

    let cutoff = chrono::Utc::now() - chrono::Duration::days(1);
    let purged = dockgate::identity::sessions::purge_refresh_tokens(&mut app.conn(), cutoff).expect("purge");
    assert_eq!(purged, 2, "only the tokens a day past their end");
    let left: Vec<Uuid> = of_session().select(refresh_tokens::id).load(&mut app.conn()).unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&tokens[2]) && left.contains(&tokens[3]));
    // The session goes on.
    assert_eq!(current.refresh().await.status(), StatusCode::OK);
}
