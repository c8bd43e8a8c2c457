//! Multi-factor sign-in: a person enrols an authenticator app, confirms it with a code and gets
//! recovery codes, signs in with password and code (amr pwd+otp), and switches it off again.
//! Codes are computed here from the returned secret at the app clock's time; the clock is moved
//! to the next step instead of sleeping.

use chrono::{DateTime, Duration, Utc};
use dockgate::clock::Clock;
use dockgate::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use crate::helpers::read::claims;
use crate::helpers::{Actor, PASSWORD, TestApp, field_errors, json_of};

/// The code of the base32 `secret` at `at`, as an authenticator app computes it.
fn code_at(secret: &str, at: DateTime<Utc>) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().expect("a base32 secret");
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).generate(at.timestamp() as u64)
}

/// Moves the clock to one second into the next 30 s step: a fresh code, and no step boundary
/// between computing a code here and the server checking it.
fn next_step(clock: &Clock) {
    let now = clock.now().timestamp();
    clock.advance(Duration::seconds(30 - now.rem_euclid(30) + 1));
}

async fn spawn_with_clock(adjust: impl FnOnce(&mut dockgate::Config)) -> (TestApp, Clock) {
    let mut clock = None;
    let app = TestApp::spawn_with(|config| {
        clock = Some(config.clock.clone());
        adjust(config);
    })
    .await;
    (app, clock.expect("the clock"))
}

/// Enrols `person` and confirms it: the secret and the recovery codes.
async fn enrol(clock: &Clock, person: &Actor) -> (String, Vec<String>) {
    let started = json_of(person.post("/v1/me/mfa/totp", &json!({})).await, StatusCode::CREATED).await;
    let secret = started["secret"].as_str().expect("a secret").to_owned();
    assert!(started["otpauth_uri"].as_str().expect("a URI").starts_with("otpauth://totp/"));
    assert!(started["qr_svg"].as_str().expect("an SVG").contains("<svg"));
    next_step(clock);
    let code = code_at(&secret, clock.now());
    let confirmed = json_of(
        person.post("/v1/me/mfa/totp/confirm", &json!({"code": code, "password": person.password})).await,
        StatusCode::OK,
    )
    .await;
    assert!(confirmed["tokens"].is_null(), "a signed-in person is signed in already");
    let codes: Vec<String> = serde_json::from_value(confirmed["recovery_codes"].clone()).expect("codes");
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// Signs in with the password: the `mfa_token` of the second step.
async fn password_step(app: &TestApp, email: &str, password: &str) -> String {
    let step = json_of(app.login(email, password).await, StatusCode::OK).await;
    assert_eq!(step["mfa_required"], json!(true), "{step}");
    assert!(step.get("access_token").is_none());
    step["mfa_token"].as_str().expect("an mfa_token").to_owned()
}

async fn second_step(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/v1/auth/login/mfa", &body).await
}

#[tokio::test]
async fn a_person_enrols_and_signs_in_with_password_and_code() {
    let (app, clock) = spawn_with_clock(|_| {}).await;
    let admin = app.admin().await;
    let (secret, _) = enrol(&clock, &admin).await;
    assert!(app.actions_on(admin.user_id).contains(&"user.mfa_enabled".to_owned()));

    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    next_step(&clock);
    let code = code_at(&secret, clock.now());
    let pair =
        json_of(second_step(&app, json!({"mfa_token": mfa_token, "code": code})).await, StatusCode::OK).await;
    assert_eq!(claims(pair["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));

    // The session remembers it: a refresh keeps amr.
    let signed_in = app.holder_of(&pair);
    let refreshed = json_of(signed_in.refresh().await, StatusCode::OK).await;
    assert_eq!(claims(refreshed["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));

    // The step token was used.
    let again = second_step(&app, json!({"mfa_token": mfa_token, "code": code})).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_stolen_access_token_alone_cannot_turn_mfa_on() {
    let (app, clock) = spawn_with_clock(|_| {}).await;
    let admin = app.admin().await;
    let started = json_of(admin.post("/v1/me/mfa/totp", &json!({})).await, StatusCode::CREATED).await;
    let secret = started["secret"].as_str().expect("a secret").to_owned();
    next_step(&clock);
    let code = code_at(&secret, clock.now());
    let path = "/v1/me/mfa/totp/confirm";

    let without =
        json_of(admin.post(path, &json!({"code": code})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&without), [("password".to_owned(), "required".to_owned())]);
    let wrong = admin.post(path, &json!({"code": code, "password": "not the password at all"})).await;
    let wrong = json_of(wrong, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&wrong), [("password".to_owned(), "incorrect".to_owned())]);

    // MFA stayed off: the password alone still signs in.
    let pair = json_of(app.login(&admin.email, &admin.password).await, StatusCode::OK).await;
    assert!(pair["access_token"].is_string(), "{pair}");
    assert!(!app.actions_on(admin.user_id).contains(&"user.mfa_enabled".to_owned()));

    // With it, the same code turns it on.
    let on = admin.post(path, &json!({"code": code, "password": admin.password})).await;
    let on = json_of(on, StatusCode::OK).await;
    assert_eq!(on["recovery_codes"].as_array().map(Vec::len), Some(10));
}

#[tokio::test]
async fn wrong_passwords_on_the_confirmation_count_as_failed_sign_ins() {
    let (app, clock) = spawn_with_clock(|config| config.login_limits.per_account_and_client = 3).await;
    let admin = app.admin().await;
    let started = json_of(admin.post("/v1/me/mfa/totp", &json!({})).await, StatusCode::CREATED).await;
    next_step(&clock);
    let code = code_at(started["secret"].as_str().expect("a secret"), clock.now());
    let path = "/v1/me/mfa/totp/confirm";
    for _ in 0..3 {
        let wrong = admin.post(path, &json!({"code": code, "password": "not the password at all"})).await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Guessing stops there, for the right password too, and so does signing in.
    let limited = admin.post(path, &json!({"code": code, "password": admin.password})).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(app.login(&admin.email, &admin.password).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_code_works_once_and_within_one_step_of_drift() {
    let (app, clock) = spawn_with_clock(|_| {}).await;
    let admin = app.admin().await;
    let (secret, _) = enrol(&clock, &admin).await;

    // The code that confirmed the enrolment was recorded: replaying it is refused...
    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    let confirmed_code = code_at(&secret, clock.now());
    let replay = second_step(&app, json!({"mfa_token": mfa_token, "code": confirmed_code})).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);

    // ...two steps either way is too far...
    next_step(&clock);
    for far in [Duration::seconds(60), Duration::seconds(-60)] {
        let code = code_at(&secret, clock.now() + far);
        let refused = second_step(&app, json!({"mfa_token": mfa_token, "code": code})).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "a code {far} away");
    }
    // ...one step ahead is drift, and the token survived the wrong tries.
    let ahead = code_at(&secret, clock.now() + Duration::seconds(30));
    let pair = second_step(&app, json!({"mfa_token": mfa_token, "code": ahead})).await;
    assert_eq!(pair.status(), StatusCode::OK);

    // One step behind works too (once the last accepted step is older).
    clock.advance(Duration::seconds(90));
    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    let behind = code_at(&secret, clock.now() - Duration::seconds(30));
    let pair = second_step(&app, json!({"mfa_token": mfa_token, "code": behind})).await;
    assert_eq!(pair.status(), StatusCode::OK);

    // And the same code again, on a new sign-in, is a replay.
    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    let replay = second_step(&app, json!({"mfa_token": mfa_token, "code": behind})).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_recovery_code_works_once_and_exactly_one_code_is_given() {
    let (app, clock) = spawn_with_clock(|_| {}).await;
    let admin = app.admin().await;
    let (secret, codes) = enrol(&clock, &admin).await;

    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    let both =
        second_step(&app, json!({"mfa_token": mfa_token, "code": "123456", "recovery_code": codes[0]})).await;
    assert_eq!(both.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let neither = second_step(&app, json!({"mfa_token": mfa_token})).await;
    assert_eq!(neither.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Recovery codes are typed off paper: case and separators do not matter.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let pair = json_of(
        second_step(&app, json!({"mfa_token": mfa_token, "recovery_code": typed})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(claims(pair["access_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));

    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    let used = second_step(&app, json!({"mfa_token": mfa_token, "recovery_code": codes[0]})).await;
    assert_eq!(used.status(), StatusCode::UNAUTHORIZED, "a recovery code works once");
    let other = second_step(&app, json!({"mfa_token": mfa_token, "recovery_code": codes[1]})).await;
    assert_eq!(other.status(), StatusCode::OK);

    // New codes (with a code of the app) replace the old ones.
    next_step(&clock);
    let signed_in = app.holder_of(&json_of(other, StatusCode::OK).await);
    let renewed = json_of(
        signed_in.post("/v1/me/mfa/recovery-codes", &json!({"code": code_at(&secret, clock.now())})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renewed["recovery_codes"].as_array().unwrap().len(), 10);
    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    let old = second_step(&app, json!({"mfa_token": mfa_token, "recovery_code": codes[2]})).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "the old codes are gone");
}

#[tokio::test]
async fn wrong_codes_count_as_failed_sign_ins() {
    let (app, clock) = spawn_with_clock(|config| config.login_limits.per_account_and_client = 3).await;
    let admin = app.admin().await;
    let (secret, _) = enrol(&clock, &admin).await;

    let mfa_token = password_step(&app, &admin.email, &admin.password).await;
    next_step(&clock);
    let right = code_at(&secret, clock.now());
    let wrong = if right == "000000" { "000001" } else { "000000" };
    for _ in 0..3 {
        let refused = second_step(&app, json!({"mfa_token": mfa_token, "code": wrong})).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = second_step(&app, json!({"mfa_token": mfa_token, "code": right})).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn an_enrolment_token_enrols_and_signs_in_and_opens_nothing_else() {
    let (app, clock) = spawn_with_clock(|config| config.sign_in.staff_mfa_required = true).await;
    let email = format!("dispatch-{}@operator.example", Uuid::new_v4().simple());
    let row = app.insert_staff(Role::Dispatcher, &email, PASSWORD, &[]);

    let step = json_of(app.login(&email, PASSWORD).await, StatusCode::OK).await;
    assert_eq!(step["mfa_enrolment_required"], json!(true), "{step}");
    let token = step["mfa_token"].as_str().unwrap().to_owned();
    let holder = app.bearer(&token);

    // It is no access token anywhere else.
    assert_eq!(holder.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        holder.post("/v1/me/mfa/recovery-codes", &json!({"code": "123456"})).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let disable = holder
        .request(reqwest::Method::DELETE, "/v1/me/mfa/totp")
        .json(&json!({"password": PASSWORD, "code": "123456"}));
    assert_eq!(disable.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // On the two enrolment endpoints it is.
    let started = json_of(holder.post("/v1/me/mfa/totp", &json!({})).await, StatusCode::CREATED).await;
    let secret = started["secret"].as_str().unwrap();
    next_step(&clock);
    let code = code_at(secret, clock.now());
    // Its sign-in has just checked the password: it takes none.
    let with_password =
        holder.post("/v1/me/mfa/totp/confirm", &json!({"code": code, "password": PASSWORD})).await;
    let with_password = json_of(with_password, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&with_password), [("password".to_owned(), "not_allowed".to_owned())]);
    let confirmed =
        json_of(holder.post("/v1/me/mfa/totp/confirm", &json!({"code": code})).await, StatusCode::OK).await;
    assert_eq!(confirmed["recovery_codes"].as_array().unwrap().len(), 10);
    let access = confirmed["tokens"]["access_token"].as_str().expect("signed in");
    assert_eq!(claims(access)["amr"], json!(["pwd", "otp"]));
    assert_eq!(claims(access)["sub"], json!(row.id));

    // Used up.
    assert_eq!(holder.post("/v1/me/mfa/totp", &json!({})).await.status(), StatusCode::UNAUTHORIZED);
    // And the next sign-in asks for a code, not an enrolment.
    let step = json_of(app.login(&email, PASSWORD).await, StatusCode::OK).await;
    assert_eq!(step["mfa_required"], json!(true));
    // A second-step token is not an enrolment token.
    let mfa_token = step["mfa_token"].as_str().unwrap();
    let refused = app.bearer(mfa_token).post("/v1/me/mfa/totp", &json!({})).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.bearer(mfa_token).get("/v1/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_secret_is_never_shown_again() {
    let (app, clock) = spawn_with_clock(|_| {}).await;
    let admin = app.admin().await;
    let acme = admin.create_customer("Acme").await;
    let acme_id = crate::helpers::id_of(&acme);
    let jana = admin.add_person(acme_id, "jana", json!({})).await;
    let jana_actor = app.sign_in_member(&jana).await;
    let (secret, _) = enrol(&clock, &jana_actor).await;

    let me = jana_actor.get("/v1/me").await.text().await.unwrap();
    let view = admin
        .get(&format!("/v1/customers/{acme_id}/users/{}", jana_actor.user_id))
        .await
        .text()
        .await
        .unwrap();
    for body in [&me, &view] {
        assert!(!body.contains(&secret), "no secret in {body}");
        assert!(!body.contains("mfa_secret"));
    }
    let view: Value = serde_json::from_str(&view).unwrap();
    assert_eq!(view["mfa_enabled"], json!(true));
    // Enrolling again while MFA is on is a conflict, not a new secret.
    let again = jana_actor.post("/v1/me/mfa/totp", &json!({})).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn switching_mfa_off_needs_the_password_and_a_code_and_ends_other_sessions() {
    let (app, clock) = spawn_with_clock(|_| {}).await;
    let admin = app.admin().await;
    let other_session = app.sign_in_again(&admin).await;
    let (secret, codes) = enrol(&clock, &admin).await;

    let off = |body: Value| admin.request(reqwest::Method::DELETE, "/v1/me/mfa/totp").json(&body).send();
    let wrong_password = off(json!({"password": "not the password at all", "code": codes[0]})).await.unwrap();
    assert_eq!(wrong_password.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&wrong_password.json().await.unwrap()),
        [("password".into(), "incorrect".into())]
    );
    let wrong_code = off(json!({"password": PASSWORD, "code": "nope-nope-nope-nope"})).await.unwrap();
    assert_eq!(wrong_code.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&wrong_code.json().await.unwrap()), [("code".into(), "incorrect".into())]);

    next_step(&clock);
    let done = off(json!({"password": PASSWORD, "code": code_at(&secret, clock.now())})).await.unwrap();
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    assert!(app.actions_on(admin.user_id).contains(&"user.mfa_disabled".to_owned()));
    assert_eq!(admin.get("/v1/me").await.status(), StatusCode::OK, "this session goes on");
    assert_eq!(other_session.get("/v1/me").await.status(), StatusCode::UNAUTHORIZED, "the other one ended");
    // Sign-in is back to a password.
    let pair = json_of(app.login(&admin.email, PASSWORD).await, StatusCode::OK).await;
    assert_eq!(claims(pair["access_token"].as_str().unwrap())["amr"], json!(["pwd"]));
    let off_again = off(json!({"password": PASSWORD, "code": "123456"})).await.unwrap();
    assert_eq!(off_again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn without_an_encryption_key_nobody_can_enrol() {
    let (app, _) = spawn_with_clock(|config| config.sign_in.mfa_encryption_key = None).await;
    let admin = app.admin().await;
    let refused = json_of(admin.post("/v1/me/mfa/totp", &json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(refused["detail"], json!("MFA is not available: MFA_ENCRYPTION_KEY is not set."));
    assert_eq!(refused["type"], json!("urn:dockgate:problem:mfa-unavailable"));
}
