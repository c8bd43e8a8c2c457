//! What changes emit: the event is written in the change's own transaction (a change that rolls
//! back emits nothing), a person's lifecycle in the catalog's words, and never a secret, hash
//! or token in any body.

use std::collections::BTreeSet;
use std::time::Duration;

use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{World, log_until, of_type, stays_at};
use crate::helpers::{MEMBER_PASSWORD, Receiver, SmtpSink, id_of, json_of, user_path, users_of};

/// Waits until the requests after the first `from` include every type of `expected`.
async fn until_heard(receiver: &Receiver, from: usize, expected: &[&str], what: &str) {
    crate::helpers::eventually(&format!("{expected:?} after {what}"), || {
        let heard: BTreeSet<String> = receiver.received()[from..]
            .iter()
            .map(|r| r.json()["type"].as_str().expect("a type").to_owned())
            .collect();
        expected.iter().all(|t| heard.contains(*t)).then_some(())
    })
    .await;
}

/// The event types of the bodies received, in order of arrival.
fn types(receiver: &Receiver) -> Vec<String> {
    receiver.received().iter().map(|r| r.json()["type"].as_str().expect("a type").to_owned()).collect()
}

#[tokio::test]
async fn a_change_that_rolls_back_emits_nothing() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/atomic"), None).await;
    let kept = w.add_person("Kept").await;
    receiver.wait_for(1).await;

    // A check PostgreSQL runs at COMMIT: every statement of the change (and whatever it emits)
    // has run when the transaction fails, so only an event in that same transaction vanishes.
    let mut conn = w.app.conn();
    diesel::sql_query(
        "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.name LIKE 'Rolled back%' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$",
    )
    .execute(&mut conn)
    .expect("function");
    diesel::sql_query(
        "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT OR UPDATE ON users \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()",
    )
    .execute(&mut conn)
    .expect("trigger");

    let body =
        json!({"name": "Rolled back", "email": "rolled.back@acme.example", "password": MEMBER_PASSWORD});
    let created = w.admin.post(&users_of(w.customer), &body).await;
    assert!(created.status().is_server_error(), "the commit fails: {}", created.status());
    let renamed =
        w.admin.patch(&user_path(w.customer, id_of(&kept)), &json!({"name": "Rolled back too"}), None).await;
    assert!(renamed.status().is_server_error(), "the commit fails: {}", renamed.status());
    let deactivated =
        w.admin.post(&format!("{}/deactivate", user_path(w.customer, id_of(&kept))), &json!({})).await;
    assert!(deactivated.status().is_success(), "a change the check lets through: {}", deactivated.status());

    // The next change's events arrive; none of the rolled-back ones ever does.
    let log = log_until(&w.admin, &endpoint, "the deactivation delivered", |log| {
        log.iter().all(|d| d["status"] == "delivered")
            && log.iter().any(|d| d["event_type"] == "user.deactivated")
    })
    .await;
    receiver.wait_for(log.len()).await;
    stays_at(&receiver, log.len(), Duration::from_millis(1500), "nothing else arrives").await;
    let bodies: Vec<String> = receiver.received().iter().map(|r| r.text()).collect();
    assert!(bodies.iter().all(|b| !b.contains("Rolled back")), "{bodies:#?}");
    assert_eq!(of_type(&receiver.received(), "user.created").len(), 1, "only Kept's: {:?}", types(&receiver));
    assert_eq!(event_count(&w), log.len(), "one endpoint: one delivery per event, and no other event row");
    let stored: Vec<Payload> =
        diesel::sql_query("SELECT payload FROM webhook_events").load(&mut conn).expect("events");
    assert!(stored.iter().all(|e| !e.payload.contains("Rolled back")));
}

#[derive(diesel::QueryableByName)]
struct Payload {
    #[diesel(sql_type = diesel::sql_types::Text)]
    payload: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn event_count(w: &World) -> usize {
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM webhook_events")
        .get_result(&mut w.app.conn())
        .expect("count");
    usize::try_from(count.n).expect("a count")
}

#[tokio::test]
async fn a_persons_lifecycle_arrives_in_the_catalogs_words() {
    let w = World::new().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/lifecycle"), None).await;
    let person = w.add_person("Life").await;
    let path = user_path(w.customer, id_of(&person));
    let group = w.admin.add_group(w.customer, "Night shift").await;

    until_heard(&receiver, 0, &["user.created", "group.created"], "the person and the group").await;
    let steps: [(&str, Value, &[&str]); 4] = [
        ("PATCH name", json!({"name": "Life renamed"}), &["user.updated"]),
        (
            "PATCH groups",
            json!({"group_ids": [group], "data_scope": "groups"}),
            &["user.updated", "user.access_changed", "group.members_changed"],
        ),
        ("deactivate", Value::Null, &["user.deactivated"]),
        ("reactivate", Value::Null, &["user.reactivated"]),
    ];
    for (step, body, expected) in steps {
        let before = receiver.received().len();
        let response = match step {
            "deactivate" | "reactivate" => w.admin.post(&format!("{path}/{step}"), &json!({})).await,
            _ => w.admin.patch(&path, &body, None).await,
        };
        assert!(response.status().is_success(), "{step}: {}", response.status());
        until_heard(&receiver, before, expected, step).await;
    }
    let members = of_type(&receiver.received(), "group.members_changed");
    let data = &members.last().expect("group.members_changed").json()["data"];
    assert_eq!(data["group_id"], json!(group));
    assert_eq!(data["customer_id"], json!(w.customer));
    assert_eq!(data["added_user_ids"], json!([person["id"]]));
    assert_eq!(data["removed_user_ids"], json!([]));
    let deactivated = of_type(&receiver.received(), "user.deactivated");
    assert_eq!(deactivated[0].json()["data"]["status"], "deactivated", "data is the view after the change");

    // Deleted: `data` is the person as they were.
    let before = receiver.received().len();
    assert_eq!(w.admin.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    until_heard(&receiver, before, &["user.deleted"], "the deletion").await;
    let deleted = of_type(&receiver.received(), "user.deleted");
    assert_eq!(deleted.len(), 1, "{:?}", types(&receiver));
    assert_eq!(deleted[0].json()["data"]["id"], person["id"]);
    assert_eq!(deleted[0].json()["data"]["name"], "Life renamed");

    // Every event has its own message id, and each is in the log once.
    let all = receiver.received();
    let ids: BTreeSet<&str> = all.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), all.len(), "one webhook-id per event");
    log_until(&w.admin, &endpoint, "all delivered", |log| {
        log.len() == all.len() && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
}

/// Keys no payload may have, at any depth.
const SECRET_KEYS: &[&str] =
    &["secret", "client_secret", "password", "password_hash", "token", "hash", "link"];

fn secret_keys(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if SECRET_KEYS.contains(&key.as_str())
                    || key.ends_with("_hash")
                    || key.ends_with("_token")
                    || key.ends_with("_secret")
                {
                    found.push(format!("{at}.{key}"));
                }
                secret_keys(inner, &format!("{at}.{key}"), found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| secret_keys(item, at, found)),
        _ => {}
    }
}

#[tokio::test]
async fn no_payload_carries_a_secret_a_hash_or_a_token() {
    let sink = SmtpSink::start().await;
    let transport = sink.transport();
    let w = World::with(move |config| config.mail = transport).await;
    w.staff.add_address(w.customer, "Main", None).await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url("/everything"), None).await;
    let mut secrets = vec![endpoint.secret.clone(), MEMBER_PASSWORD.to_owned()];

    // A person with a password; an invitation, accepted; a group and a membership.
    let person = w.add_person("Secretive").await;
    let path = user_path(w.customer, id_of(&person));
    w.admin.invite_one(w.customer, "invited.person@acme.example").await;
    let invitation_token = sink.wait_for("invited.person@acme.example").await.token("/invitations/accept");
    secrets.push(invitation_token.clone());
    let chosen = "the invited person's own passphrase";
    secrets.push(chosen.to_owned());
    let accepted = w
        .app
        .post_json(
            "/v1/invitations/accept",
            &json!({"token": invitation_token, "name": "Invited", "password": chosen}),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let group = w.admin.add_group(w.customer, "Secret keepers").await;
    let patched = w.admin.patch(&path, &json!({"group_ids": [group], "data_scope": "groups"}), None).await;
    assert!(patched.status().is_success());
    // A password set by an admin, and a reset link mailed.
    let set = "a replacement passphrase, long enough";
    secrets.push(set.to_owned());
    assert!(w.admin.post(&format!("{path}/password"), &json!({"password": set})).await.status().is_success());
    assert!(w.admin.post(&format!("{path}/password-reset"), &json!({})).await.status().is_success());
    let person_email = person["email"].as_str().expect("email").to_owned();
    crate::helpers::eventually("the reset mail", || {
        sink.received()
            .iter()
            .any(|m| m.to.contains(&person_email) && m.text.contains("/password-reset"))
            .then_some(())
    })
    .await;
    // Every link token mailed so far (welcome, invitation, reset).
    for mail in sink.received() {
        for word in mail.text.split_whitespace() {
            if let Some((_, token)) = word.split_once("token=") {
                secrets.push(token.trim_end_matches(['.', ',', ')', '>']).to_owned());
            }
        }
    }

    // An API client with a token, then revoked.
    let clients = format!("/v1/customers/{}/api-clients", w.customer);
    let client = json_of(
        w.admin.post(&clients, &json!({"name": "Sync", "scopes": ["users.manage"]})).await,
        StatusCode::CREATED,
    )
    .await;
    secrets.push(client["client_secret"].as_str().expect("client secret").to_owned());
    let client_path = format!("{clients}/{}", id_of(&client));
    let token = json_of(
        w.admin.post(&format!("{client_path}/tokens"), &json!({"name": "t"})).await,
        StatusCode::CREATED,
    )
    .await;
    secrets.push(token["token"].as_str().expect("dgt token").to_owned());
    let revoked = w.admin.patch(&client_path, &json!({"status": "revoked"}), None).await;
    assert!(revoked.status().is_success());
    // The endpoint's secret rotated: neither the old nor the new one shows up.
    let rotated =
        json_of(w.admin.post(&format!("{}/secret", endpoint.path), &json!({})).await, StatusCode::OK).await;
    secrets.push(rotated["secret"].as_str().expect("secret").to_owned());
    // The customer itself changes.
    let customer_path = format!("/v1/customers/{}", w.customer);
    assert!(
        w.staff.patch(&customer_path, &json!({"name": "Acme Renamed"}), None).await.status().is_success()
    );

    let log = log_until(&w.admin, &endpoint, "everything delivered", |log| {
        log.iter().all(|d| d["status"] == "delivered")
            && log.iter().any(|d| d["event_type"] == "customer.updated")
    })
    .await;
    let received = receiver.wait_for(log.len()).await;
    let heard: BTreeSet<String> =
        received.iter().map(|r| r.json()["type"].as_str().expect("type").to_owned()).collect();
    for event_type in [
        "user.created",
        "invitation.created",
        "invitation.accepted",
        "api_client.revoked",
        "customer.updated",
    ] {
        assert!(heard.contains(event_type), "{event_type} in {heard:?}");
    }
    for request in &received {
        let text = request.text();
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret in a {} body: {text}", request.json()["type"]);
        }
        assert!(!text.contains("$argon2"), "a password hash: {text}");
        assert!(!text.contains("dgi_") && !text.contains("dgt_"), "a token: {text}");
        let mut found = Vec::new();
        secret_keys(&request.json(), "", &mut found);
        assert!(found.is_empty(), "secret-looking keys {found:?} in {text}");
        assert!(text.len() <= 20 * 1024, "under 20 kB");
        assert!(!request.headers.values().any(|v| secrets.iter().any(|s| v.contains(s.as_str()))));
    }
}
