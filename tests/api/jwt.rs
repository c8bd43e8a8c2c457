//! Access tokens: what they say, how other services verify them, and the attacks they resist.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use dockgate::db::schema::signing_keys;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, jwk::JwkSet};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Actor, TestApp, problem};

fn parts(token: &str) -> (Value, Value) {
    let mut pieces = token.split('.');
    let header = pieces.next().and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).expect("header");
    let payload = pieces.next().and_then(|p| URL_SAFE_NO_PAD.decode(p).ok()).expect("payload");
    (
        serde_json::from_slice(&header).expect("header json"),
        serde_json::from_slice(&payload).expect("payload json"),
    )
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
}

/// The current private key, read from the database as only dockgate itself could.
fn signing_key(app: &TestApp) -> (String, EncodingKey, Vec<u8>) {
    let (kid, private, public): (String, Vec<u8>, Vec<u8>) = signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .select((signing_keys::kid, signing_keys::private_key, signing_keys::public_key))
        .first(&mut app.conn())
        .expect("a signing key");
    (kid, EncodingKey::from_ed_der(&private), public)
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    let response = app.bearer(token).get("/v1/me").await;
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        problem(response, status).await;
    }
    status
}

#[tokio::test]
async fn access_tokens_carry_the_documented_claims() {
    let app = TestApp::spawn().await;
    let admin: Actor = app.admin().await;
    let (header, claims) = parts(&admin.access_token);
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], "dockgate");
    assert_eq!(claims["aud"], "dispatch-platform");
    assert_eq!(claims["sub"], json!(admin.user_id));
    assert_eq!(claims["kind"], "staff");
    assert_eq!(claims["role"], "platform_admin");
    assert_eq!(claims["customer_id"], Value::Null);
    assert_eq!(claims["customer_ids"], json!(["*"]));
    assert_eq!(claims["groups"], json!(["*"]));
    assert!(claims["permissions"].as_array().is_some_and(|p| p.contains(&json!("users.manage"))));
    let (exp, iat) = (claims["exp"].as_i64().expect("exp"), claims["iat"].as_i64().expect("iat"));
    assert_eq!(exp - iat, 900);
    assert!(claims["jti"].is_string() && claims["sid"].is_string());
}

#[tokio::test]
async fn another_service_verifies_a_token_offline_with_the_jwks() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("jwks");
    assert_eq!(response.status(), StatusCode::OK);
    let jwks: JwkSet = response.json().await.expect("a JWK set");

    let header = jsonwebtoken::decode_header(&admin.access_token).expect("header");
    let jwk = jwks.find(header.kid.as_deref().expect("kid")).expect("the token's key is published");
    let key = DecodingKey::from_jwk(jwk).expect("usable key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["dispatch-platform"]);
    validation.set_issuer(&["dockgate"]);
    let data = jsonwebtoken::decode::<Value>(&admin.access_token, &key, &validation).expect("verifies");
    assert_eq!(data.claims["sub"], json!(admin.user_id));
}

#[tokio::test]
async fn forged_tokens_are_all_401() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (header, claims) = parts(&admin.access_token);
    let signature = admin.access_token.rsplit('.').next().expect("signature").to_owned();
    let (kid, key, public) = signing_key(&app);
    assert_eq!(me_status(&app, &admin.access_token).await, StatusCode::OK);

    // alg: none, no signature.
    let none = format!("{}.{}.", encode_part(&json!({"alg": "none", "typ": "JWT"})), encode_part(&claims));
    assert_eq!(me_status(&app, &none).await, StatusCode::UNAUTHORIZED);

    // A changed payload under the real signature.
    let mut escalated = claims.clone();
    escalated["role"] = json!("platform_admin");
    escalated["sub"] = json!(uuid::Uuid::now_v7());
    let forged = format!("{}.{}.{signature}", encode_part(&header), encode_part(&escalated));
    assert_eq!(me_status(&app, &forged).await, StatusCode::UNAUTHORIZED);

    // HS256 keyed with the public key (algorithm confusion).
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let confused =
        jsonwebtoken::encode(&hs_header, &claims, &EncodingKey::from_secret(&public)).expect("hs256");
    assert_eq!(me_status(&app, &confused).await, StatusCode::UNAUTHORIZED);

    // Real key, but expired.
    let mut expired = claims.clone();
    expired["iat"] = json!(claims["iat"].as_i64().unwrap_or_default() - 7200);
    expired["exp"] = json!(claims["iat"].as_i64().unwrap_or_default() - 3600);
    let mut ed = Header::new(Algorithm::EdDSA);
    ed.kid = Some(kid.clone());
    let token = jsonwebtoken::encode(&ed, &expired, &key).expect("sign");
    assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);

    // Real key, wrong audience; wrong issuer.
    for (claim, value) in [("aud", "another-platform"), ("iss", "someone-else")] {
        let mut wrong = claims.clone();
        wrong[claim] = json!(value);
        let token = jsonwebtoken::encode(&ed, &wrong, &key).expect("sign");
        assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED, "{claim}");
    }

    // A key of our own under an unknown kid; and a missing kid.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&stranger).expect("der");
    let mut unknown = Header::new(Algorithm::EdDSA);
    unknown.kid = Some("not-our-key".into());
    let token =
        jsonwebtoken::encode(&unknown, &claims, &EncodingKey::from_ed_der(der.as_bytes())).expect("sign");
    assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).expect("sign");
    assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);

    // Garbage, and no token at all.
    assert_eq!(me_status(&app, "not.a.jwt").await, StatusCode::UNAUTHORIZED);
    let response = app.client.get(app.url("/v1/me")).send().await.expect("request");
    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn rotating_keys_keeps_old_tokens_valid_and_new_instances_sign_with_the_new_key() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let old_kid = jsonwebtoken::decode_header(&admin.access_token).expect("header").kid.expect("kid");

    let new_kid = dockgate::identity::keys::rotate(&mut app.conn()).expect("rotate");
    assert_ne!(new_kid, old_kid);

    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let kids: Vec<&str> =
        jwks["keys"].as_array().expect("keys").iter().filter_map(|k| k["kid"].as_str()).collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()), "{kids:?}");
    assert_eq!(me_status(&app, &admin.access_token).await, StatusCode::OK);

    // A second instance on the same database signs with the new key, and the first accepts it.
    let second = TestApp::spawn_on(app.db.clone(), |_| {}).await;
    let fresh = second.sign_in_again(&admin).await;

    assert_eq!(jsonwebtoken::decode_header(&fresh.access_token).expect("header").kid, Some(new_kid));
    assert_eq!(me_status(&app, &fresh.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn keys_retired_longer_than_a_token_lifetime_leave_the_jwks() {
    let app = TestApp::spawn().await;
    let old_kid: String = signing_keys::table.select(signing_keys::kid).first(&mut app.conn()).expect("kid");
    dockgate::identity::keys::rotate(&mut app.conn()).expect("rotate");
    diesel::update(signing_keys::table.find(&old_kid))
        .set(signing_keys::retired_at.eq(chrono::Utc::now() - chrono::Duration::hours(2)))
        .execute(&mut app.conn())
        .expect("age the old key");
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let kids: Vec<&str> =
        jwks["keys"].as_array().expect("keys").iter().filter_map(|k| k["kid"].as_str()).collect();
    assert_eq!(kids.len(), 1);
    assert!(!kids.contains(&old_kid.as_str()));
}
