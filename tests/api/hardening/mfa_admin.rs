//! Issue 16: MFA required of a customer's people or of staff, the admin's MFA reset, and
//! passwords set by someone else (temporary passwords and the password change at sign-in).
//! Where a story needs someone with MFA on, it is switched on in the database: TOTP enrolment
//! has its own tests.

use chrono::Utc;
use diesel::prelude::*;
use dockgate::db::schema::{mfa_recovery_codes, sign_in_challenges, users};
use dockgate::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, MEMBER_PASSWORD, PASSWORD, SmtpSink, TestApp, TestDatabase, customer_path, id_of, json_of,
    problem, test_config, unique_email, user_path,
};

const OWN_PASSWORD: &str = "my very own passphrase";

fn reset_path(customer: Uuid, user: Uuid) -> String {
    format!("{}/mfa/reset", user_path(customer, user))
}

/// Switches MFA on for `user` as a confirmed enrolment leaves it, with two recovery codes.
fn mfa_on(app: &TestApp, user: Uuid) {
    let mut conn = app.conn();
    diesel::update(users::table.find(user))
        .set((users::mfa_secret.eq(Some(vec![1u8; 40])), users::mfa_enabled_at.eq(Some(Utc::now()))))
        .execute(&mut conn)
        .expect("MFA on");
    for n in 0..2u8 {
        diesel::insert_into(mfa_recovery_codes::table)
            .values((
                mfa_recovery_codes::id.eq(Uuid::now_v7()),
                mfa_recovery_codes::user_id.eq(user),
                mfa_recovery_codes::code_hash.eq(vec![n; 32]),
            ))
            .execute(&mut conn)
            .expect("a recovery code");
    }
}

fn recovery_codes_of(app: &TestApp, user: Uuid) -> i64 {
    mfa_recovery_codes::table
        .filter(mfa_recovery_codes::user_id.eq(user))
        .count()
        .get_result(&mut app.conn())
        .expect("count")
}

fn password_changed_at(app: &TestApp, user: Uuid) -> Option<chrono::DateTime<Utc>> {
    users::table.find(user).select(users::password_changed_at).first(&mut app.conn()).expect("user")
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    json_of(app.login(email, password).await, StatusCode::OK).await
}

async fn post_empty(actor: &Actor, path: &str) -> reqwest::Response {
    actor.request(Method::POST, path).send().await.expect("request")
}

async fn change_password(app: &TestApp, token: &str, new_password: &str) -> reqwest::Response {
    app.post_json(
        "/v1/auth/password/change",
        &json!({"password_change_token": token, "new_password": new_password}),
    )
    .await
}

/// A customer (made by a platform admin, who is returned too) with an owner and an admin.
async fn customer_with_owner_and_admin(app: &TestApp) -> (Actor, Uuid, Actor, Actor) {
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let owner = staff.add_person(customer, "Olga", json!({"role": "owner"})).await;
    let admin = staff.add_person(customer, "Adam", json!({"role": "admin"})).await;
    let owner = app.sign_in_member(&owner).await;
    let admin = app.sign_in_member(&admin).await;
    (staff, customer, owner, admin)
}

async fn patch_mfa_required(actor: &Actor, customer: Uuid, required: bool) -> reqwest::Response {
    let etag = actor.get(&customer_path(customer)).await.headers()["etag"].to_str().expect("etag").to_owned();
    actor.patch(&customer_path(customer), &json!({"mfa_required": required}), Some(&etag)).await
}

#[tokio::test]
async fn an_owner_requires_mfa_and_its_people_without_it_must_enrol_after_the_password() {
    let app = TestApp::spawn().await;
    let (staff, customer, owner, admin) = customer_with_owner_and_admin(&app).await;
    let view = json_of(owner.get(&customer_path(customer)).await, StatusCode::OK).await;
    assert_eq!(view["mfa_required"], false, "off by default");

    // An admin may not decide it: the owner's rule binds the admins too.
    let refused = problem(patch_mfa_required(&admin, customer, true).await, StatusCode::FORBIDDEN).await;
    assert!(refused["detail"].as_str().unwrap().contains("MFA"), "{refused}");

    let response = patch_mfa_required(&owner, customer, true).await;
    assert!(response.headers().contains_key("etag"));
    assert_eq!(json_of(response, StatusCode::OK).await["mfa_required"], true);
    assert!(app.actions_on(customer).contains(&"customer.updated".to_owned()));

    // Someone without MFA gets no tokens, only the way to enrol.
    let user = staff.add_person(customer, "Uwe", json!({})).await;
    let email = user["email"].as_str().unwrap();
    let answer = login(&app, email, MEMBER_PASSWORD).await;
    assert_eq!(answer["mfa_enrolment_required"], true, "{answer}");
    assert!(answer["mfa_token"].as_str().unwrap().starts_with("dgs_"), "{answer}");
    assert_eq!(answer["expires_in"], 300);
    assert!(answer.get("access_token").is_none(), "{answer}");

    // Someone with MFA is asked for the code, as everywhere.
    mfa_on(&app, id_of(&user));
    let answer = login(&app, email, MEMBER_PASSWORD).await;
    assert_eq!(answer["mfa_required"], true, "{answer}");
    assert!(answer.get("access_token").is_none(), "{answer}");

    // Staff switch it off again, and the password alone is enough once more.
    let other = staff.add_person(customer, "Vera", json!({})).await;
    assert_eq!(
        json_of(patch_mfa_required(&staff, customer, false).await, StatusCode::OK).await["mfa_required"],
        false
    );
    let answer = login(&app, other["email"].as_str().unwrap(), MEMBER_PASSWORD).await;
    assert!(answer["access_token"].is_string(), "{answer}");
}

#[tokio::test]
async fn mfa_cannot_be_required_while_the_server_has_no_key() {
    let app = TestApp::spawn_with(|config| config.sign_in.mfa_encryption_key = None).await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let refused = problem(patch_mfa_required(&staff, customer, true).await, StatusCode::CONFLICT).await;
    assert!(refused["detail"].as_str().unwrap().contains("MFA_ENCRYPTION_KEY"), "{refused}");
    let view = json_of(staff.get(&customer_path(customer)).await, StatusCode::OK).await;
    assert_eq!(view["mfa_required"], false, "nothing changed");
    // Saying it is off is fine.
    assert_eq!(patch_mfa_required(&staff, customer, false).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn staff_without_mfa_must_enrol_when_staff_mfa_is_required() {
    let app = TestApp::spawn_with(|config| config.sign_in.staff_mfa_required = true).await;
    let email = unique_email("dispatcher");
    app.insert_staff(Role::Dispatcher, &email, PASSWORD, &[]);
    let answer = login(&app, &email, PASSWORD).await;
    assert_eq!(answer["mfa_enrolment_required"], true, "{answer}");
    assert!(answer.get("access_token").is_none(), "{answer}");
}

/// What `Application::build` says on `db` without a key, with `staff_mfa_required`.
async fn start_without_key(db: &TestDatabase, staff_mfa_required: bool) -> Result<(), String> {
    let mut config = test_config(&db.url);
    config.sign_in.mfa_encryption_key = None;
    config.sign_in.staff_mfa_required = staff_mfa_required;
    dockgate::Application::build(config).await.map(drop).map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_service_refuses_to_start_without_the_key_while_mfa_is_enforced_or_in_use() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    assert!(start_without_key(&db, false).await.is_ok(), "no MFA anywhere: no key needed");

    let refused = start_without_key(&db, true).await.expect_err("STAFF_MFA_REQUIRED needs the key");
    assert!(refused.contains("MFA_ENCRYPTION_KEY") && refused.contains("STAFF_MFA_REQUIRED"), "{refused}");

    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    assert_eq!(patch_mfa_required(&staff, customer, true).await.status(), StatusCode::OK);
    let refused = start_without_key(&db, false).await.expect_err("a customer requiring MFA needs the key");
    assert!(refused.contains("MFA_ENCRYPTION_KEY") && refused.contains("mfa_required"), "{refused}");

    assert_eq!(patch_mfa_required(&staff, customer, false).await.status(), StatusCode::OK);
    mfa_on(&app, staff.user_id);
    let refused = start_without_key(&db, false).await.expect_err("someone with MFA needs the key");
    assert!(refused.contains("MFA_ENCRYPTION_KEY") && refused.contains("MFA on"), "{refused}");
}

#[tokio::test]
async fn an_admin_resets_a_users_mfa_which_ends_its_sessions_and_mails_it() {
    let app = TestApp::spawn().await;
    let (staff, customer, owner, admin) = customer_with_owner_and_admin(&app).await;
    let user = staff.add_person(customer, "Uwe", json!({})).await;
    let (user_id, email) = (id_of(&user), user["email"].as_str().unwrap().to_owned());
    let signed_in = app.sign_in_member(&user).await;
    mfa_on(&app, user_id);
    // A sign-in half-way (password given, code not yet) holds a step token.
    assert_eq!(login(&app, &email, MEMBER_PASSWORD).await["mfa_required"], true);
    assert!(admin.get_user(customer, user_id).await["mfa_enabled"].as_bool().unwrap());

    let response = post_empty(&admin, &reset_path(customer, user_id)).await;
    assert!(response.headers().contains_key("etag"));
    let view = json_of(response, StatusCode::OK).await;
    assert_eq!(view["mfa_enabled"], false, "{view}");
    assert_eq!(recovery_codes_of(&app, user_id), 0, "the recovery codes are gone");
    let live_steps: i64 = sign_in_challenges::table
        .filter(sign_in_challenges::user_id.eq(user_id))
        .filter(sign_in_challenges::used_at.is_null())
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(live_steps, 0, "the half-way sign-in ended");
    assert_eq!(signed_in.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED, "its sessions ended");
    assert_eq!(app.actions_on(user_id).iter().filter(|a| *a == "user.mfa_reset").count(), 1);
    let mails: Vec<_> = app.outbox().into_iter().filter(|m| m.template == "mfa_reset").collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipient, email);

    // The password alone signs in again (the customer does not require MFA).
    assert!(login(&app, &email, MEMBER_PASSWORD).await["access_token"].is_string());

    // Resetting someone without MFA changes nothing: 200 with the view, no event, no mail.
    let again = json_of(post_empty(&admin, &reset_path(customer, user_id)).await, StatusCode::OK).await;
    assert_eq!(again["mfa_enabled"], false);
    assert_eq!(app.actions_on(user_id).iter().filter(|a| *a == "user.mfa_reset").count(), 1);
    assert_eq!(app.outbox().iter().filter(|m| m.template == "mfa_reset").count(), 1);

    // The owner's MFA is for staff and the owner; nobody resets their own here.
    mfa_on(&app, owner.user_id);
    problem(post_empty(&admin, &reset_path(customer, owner.user_id)).await, StatusCode::FORBIDDEN).await;
    problem(post_empty(&owner, &reset_path(customer, owner.user_id)).await, StatusCode::CONFLICT).await;
    let view = json_of(post_empty(&staff, &reset_path(customer, owner.user_id)).await, StatusCode::OK).await;
    assert_eq!(view["mfa_enabled"], false);

    // A plain user may not reset anyone.
    let plain = app.sign_in_member(&staff.add_person(customer, "Pia", json!({})).await).await;
    problem(post_empty(&plain, &reset_path(customer, admin.user_id)).await, StatusCode::FORBIDDEN).await;

    // Another customer's admin does not even see the user.
    let other = id_of(&staff.create_customer("Globex").await);
    let stranger = app.sign_in_member(&staff.add_person(other, "Sam", json!({"role": "admin"})).await).await;
    problem(post_empty(&stranger, &reset_path(customer, user_id)).await, StatusCode::NOT_FOUND).await;
    problem(post_empty(&stranger, &reset_path(other, user_id)).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_reset_where_mfa_is_required_sends_the_person_to_enrol_again() {
    let app = TestApp::spawn().await;
    let (staff, customer, owner, _) = customer_with_owner_and_admin(&app).await;
    let user = staff.add_person(customer, "Uwe", json!({})).await;
    mfa_on(&app, id_of(&user));
    assert_eq!(patch_mfa_required(&owner, customer, true).await.status(), StatusCode::OK);
    json_of(post_empty(&staff, &reset_path(customer, id_of(&user))).await, StatusCode::OK).await;
    let answer = login(&app, user["email"].as_str().unwrap(), MEMBER_PASSWORD).await;
    assert_eq!(answer["mfa_enrolment_required"], true, "{answer}");
}

#[tokio::test]
async fn a_platform_admin_resets_a_staff_members_mfa() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    mfa_on(&app, dispatcher.user_id);
    let path = format!("/v1/staff/{}/mfa/reset", dispatcher.user_id);

    problem(post_empty(&dispatcher, &path).await, StatusCode::FORBIDDEN).await;
    let response = post_empty(&admin, &path).await;
    assert!(response.headers().contains_key("etag"));
    let view = json_of(response, StatusCode::OK).await;
    assert_eq!(view["mfa_enabled"], false, "{view}");
    assert_eq!(recovery_codes_of(&app, dispatcher.user_id), 0);
    assert_eq!(dispatcher.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.actions_on(dispatcher.user_id), ["user.mfa_reset"]);
    assert_eq!(app.mails_to(&dispatcher.email), 1);

    let own = format!("/v1/staff/{}/mfa/reset", admin.user_id);
    problem(post_empty(&admin, &own).await, StatusCode::CONFLICT).await;
    problem(
        post_empty(&admin, &format!("/v1/staff/{}/mfa/reset", Uuid::now_v7())).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn a_password_reset_never_switches_mfa_off() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let user = staff.add_person(customer, "Uwe", json!({})).await;
    let email = user["email"].as_str().unwrap().to_owned();
    mfa_on(&app, id_of(&user));

    let asked = app.post_json("/v1/auth/password/forgot", &json!({"email": email})).await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let token = sink.wait_for(&email).await.token("/password-reset");
    let reset =
        app.post_json("/v1/auth/password/reset", &json!({"token": token, "password": OWN_PASSWORD})).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);

    let answer = login(&app, &email, OWN_PASSWORD).await;
    assert_eq!(answer["mfa_required"], true, "{answer}");
    assert!(answer.get("access_token").is_none(), "{answer}");
    assert_eq!(recovery_codes_of(&app, id_of(&user)), 2, "the recovery codes stay");
}

#[tokio::test]
async fn a_temporary_password_ends_in_a_password_change_before_any_token() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let email = unique_email("tina");
    let user = staff
        .add_user(
            customer,
            json!({"name": "Tina", "email": email, "password": MEMBER_PASSWORD, "temporary": true}),
        )
        .await;
    let user_id = id_of(&user);
    assert_eq!(user["password_change_required"], true, "{user}");
    let given_at = password_changed_at(&app, user_id).expect("stamped when the password was given");

    let answer = login(&app, &email, MEMBER_PASSWORD).await;
    assert_eq!(answer["password_change_required"], true, "{answer}");
    assert_eq!(answer["expires_in"], 300);
    assert!(answer.get("access_token").is_none(), "{answer}");
    let token = answer["password_change_token"].as_str().unwrap().to_owned();

    // The same rules as everywhere, and not the password that was given.
    for (bad, why) in
        [(MEMBER_PASSWORD, "the given one"), (email.as_str(), "the e-mail"), ("short", "too short")]
    {
        let refused =
            problem(change_password(&app, &token, bad).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refused["errors"][0]["field"], "new_password", "{why}: {refused}");
    }
    problem(change_password(&app, "dgs_not-a-token", OWN_PASSWORD).await, StatusCode::UNAUTHORIZED).await;

    let pair = json_of(change_password(&app, &token, OWN_PASSWORD).await, StatusCode::OK).await;
    assert!(pair["access_token"].is_string() && pair["refresh_token"].is_string(), "{pair}");
    let me = app.holder_of(&pair);
    assert_eq!(me.user_id, user_id);
    assert_eq!(staff.get_user(customer, user_id).await["password_change_required"], false);
    assert!(password_changed_at(&app, user_id).expect("stamped") > given_at);
    assert!(app.actions_on(user_id).contains(&"me.password_changed".to_owned()));

    // The token worked once; the given password is gone, the own one signs in.
    problem(change_password(&app, &token, "yet another passphrase").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.login(&email, MEMBER_PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert!(login(&app, &email, OWN_PASSWORD).await["access_token"].is_string());
}

#[tokio::test]
async fn the_password_change_ends_the_other_sessions_and_moves_on_to_an_enrolment() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);
    let user = staff.add_person(customer, "Uwe", json!({})).await;
    let earlier = app.sign_in_member(&user).await;
    diesel::update(users::table.find(id_of(&user)))
        .set(users::password_change_required.eq(true))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(
        json_of(patch_mfa_required(&staff, customer, true).await, StatusCode::OK).await["mfa_required"],
        true
    );

    let answer = login(&app, user["email"].as_str().unwrap(), MEMBER_PASSWORD).await;
    let token = answer["password_change_token"].as_str().expect("a password change first").to_owned();
    let next = json_of(change_password(&app, &token, OWN_PASSWORD).await, StatusCode::OK).await;
    assert_eq!(next["mfa_enrolment_required"], true, "then the enrolment: {next}");
    assert_eq!(earlier.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED, "the other session ended");
}

#[tokio::test]
async fn a_password_set_by_an_admin_is_temporary_when_asked_or_by_the_servers_default() {
    let app = TestApp::spawn_with(|config| config.sign_in.operator_passwords_temporary = true).await;
    let staff = app.admin().await;
    let customer = id_of(&staff.create_customer("Acme").await);

    // OPERATOR_PASSWORDS_TEMPORARY makes it the default; `temporary: false` says otherwise.
    let by_default = staff.add_person(customer, "Dora", json!({})).await;
    assert_eq!(by_default["password_change_required"], true);
    let kept = staff.add_person(customer, "Karl", json!({"temporary": false})).await;
    assert_eq!(kept["password_change_required"], false);
    let without_login = staff.add_user(customer, json!({"name": "Contact"})).await;
    assert_eq!(without_login["password_change_required"], false, "no password, nothing to change");

    let user_id = id_of(&kept);
    let before = password_changed_at(&app, user_id).expect("stamped");
    let path = format!("{}/password", user_path(customer, user_id));
    let set = staff.post(&path, &json!({"password": "a temporary passphrase"})).await;
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    assert_eq!(staff.get_user(customer, user_id).await["password_change_required"], true);
    assert!(password_changed_at(&app, user_id).expect("stamped") > before);
    let answer = login(&app, kept["email"].as_str().unwrap(), "a temporary passphrase").await;
    assert_eq!(answer["password_change_required"], true, "{answer}");

    let set = staff.post(&path, &json!({"password": "a permanent passphrase", "temporary": false})).await;
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    let answer = login(&app, kept["email"].as_str().unwrap(), "a permanent passphrase").await;
    assert!(answer["access_token"].is_string(), "{answer}");
}

#[tokio::test]
async fn staff_passwords_set_by_a_platform_admin_can_be_temporary_too() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let email = unique_email("dana");
    let body = json!({"name": "Dana", "email": email, "role": "dispatcher", "password": PASSWORD, "temporary": true});
    let created = json_of(admin.post("/v1/staff", &body).await, StatusCode::CREATED).await;
    assert_eq!(created["password_change_required"], true, "{created}");
    let staff_id = id_of(&created);
    let answer = login(&app, &email, PASSWORD).await;
    let token = answer["password_change_token"].as_str().expect("a password change first").to_owned();
    let pair = json_of(change_password(&app, &token, OWN_PASSWORD).await, StatusCode::OK).await;
    assert!(pair["access_token"].is_string(), "{pair}");

    // A platform admin sets it again, temporary; the person changes it once more.
    let path = format!("/v1/staff/{staff_id}/password");
    let set = admin.post(&path, &json!({"password": "a temporary passphrase", "temporary": true})).await;
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.holder_of(&pair).get("/v1/me").await.status(), StatusCode::UNAUTHORIZED, "sessions ended");
    let view = json_of(admin.get(&format!("/v1/staff/{staff_id}")).await, StatusCode::OK).await;
    assert_eq!(view["password_change_required"], true);
    assert_eq!(login(&app, &email, "a temporary passphrase").await["password_change_required"], true);
    assert!(app.actions_on(staff_id).contains(&"user.password_set".to_owned()));

    // Without `temporary` (and the server's default false) it is the person's password.
    let set = admin.post(&path, &json!({"password": "a permanent passphrase"})).await;
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    assert!(login(&app, &email, "a permanent passphrase").await["access_token"].is_string());

    // Only platform admins, never their own, and the password rules hold.
    let dispatcher = app.staff(Role::Dispatcher, &[]).await;
    problem(
        dispatcher.post(&path, &json!({"password": "a dispatcher's passphrase"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let own = format!("/v1/staff/{}/password", admin.user_id);
    problem(admin.post(&own, &json!({"password": "a new admin passphrase"})).await, StatusCode::CONFLICT)
        .await;
    let weak =
        problem(admin.post(&path, &json!({"password": email})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(weak["errors"][0]["field"], "password");
}

/// Makes `actor`'s session a support session of `staff` (as impersonation leaves one).
fn as_support_session(app: &TestApp, actor: &Actor, staff: Uuid) {
    use dockgate::db::schema::sessions;
    let session: Uuid = crate::helpers::read::claims(&actor.access_token)["sid"]
        .as_str()
        .and_then(|sid| sid.parse().ok())
        .expect("the token names its session");
    diesel::update(sessions::table.find(session))
        .set((
            sessions::impersonator_id.eq(Some(staff)),
            sessions::impersonation_reason.eq(Some("ticket 4711")),
            sessions::expires_at.eq(Some(Utc::now() + chrono::Duration::minutes(15))),
        ))
        .execute(&mut app.conn())
        .expect("a support session");
}

#[tokio::test]
async fn a_support_session_resets_no_mfa_and_sets_no_password() {
    let app = TestApp::spawn().await;
    let (staff, customer, _, admin) = customer_with_owner_and_admin(&app).await;
    let user = staff.add_person(customer, "Uwe", json!({})).await;
    mfa_on(&app, id_of(&user));
    as_support_session(&app, &admin, staff.user_id);

    let refused =
        problem(post_empty(&admin, &reset_path(customer, id_of(&user))).await, StatusCode::FORBIDDEN).await;
    assert!(refused["detail"].as_str().unwrap().contains("support session"), "{refused}");
    let path = format!("{}/password", user_path(customer, id_of(&user)));
    problem(admin.post(&path, &json!({"password": "a support passphrase"})).await, StatusCode::FORBIDDEN)
        .await;
    assert!(staff.get_user(customer, id_of(&user)).await["mfa_enabled"].as_bool().unwrap(), "MFA stays on");
}
