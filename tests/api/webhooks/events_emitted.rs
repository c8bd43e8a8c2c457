//! Webhook emission (issue 15): every change the catalog names writes its event(s) in the
//! change's transaction, with the REST view as `data`, for the customer's endpoints and the
//! platform's. Endpoints are rows put in the database (their REST API is another story); what
//! was emitted is read back from `webhook_events` and `webhook_deliveries` after each change made
//! over HTTP.

use std::collections::BTreeSet;

use diesel::prelude::*;
use dockgate::db::schema::{webhook_deliveries, webhook_endpoints, webhook_events};
use dockgate::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, SmtpSink, TestApp, customer_path, etag_of, group_path, groups_of, id_of, invitations_of, json_of,
    problem, user_path,
};
use crate::scim::{Directory, scim_of, uid, user as scim_user};

const HOOK_URL: &str = "http://127.0.0.1:9/hooks";

/// An active endpoint of `customer` (none: the platform's) hearing `types` (none: all).
fn listen(app: &TestApp, customer: Option<Uuid>, types: Option<&[&str]>) -> Uuid {
    let id = Uuid::now_v7();
    let types: Option<Vec<Option<String>>> = types.map(|t| t.iter().map(|s| Some((*s).to_owned())).collect());
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(id),
            webhook_endpoints::customer_id.eq(customer),
            webhook_endpoints::url.eq(HOOK_URL),
            webhook_endpoints::event_types.eq(types),
            webhook_endpoints::secret.eq(dockgate::webhooks::new_secret().expect("secret")),
        ))
        .execute(&mut app.conn())
        .expect("an endpoint");
    id
}

fn disabled(app: &TestApp, customer: Uuid) -> Uuid {
    let id = listen(app, Some(customer), None);
    diesel::update(webhook_endpoints::table.find(id))
        .set((webhook_endpoints::status.eq("disabled"), webhook_endpoints::disabled_reason.eq("manual")))
        .execute(&mut app.conn())
        .expect("disabled");
    id
}

/// One stored event: its id, customer, type and the body it sends, parsed.
#[derive(Debug, Clone)]
struct Emitted {
    id: Uuid,
    customer_id: Option<Uuid>,
    event_type: String,
    body: Value,
}

impl Emitted {
    fn data(&self) -> &Value {
        &self.body["data"]
    }
}

fn emitted(app: &TestApp) -> Vec<Emitted> {
    let rows: Vec<(Uuid, Option<Uuid>, String, String)> = webhook_events::table
        .order((webhook_events::created_at.asc(), webhook_events::id.asc()))
        .select((
            webhook_events::id,
            webhook_events::customer_id,
            webhook_events::event_type,
            webhook_events::payload,
        ))
        .load(&mut app.conn())
        .expect("events");
    rows.into_iter()
        .map(|(id, customer_id, event_type, payload)| {
            let body: Value = serde_json::from_str(&payload).expect("a JSON body");
            assert_eq!(body["type"], event_type.as_str(), "the body names its type");
            assert!(payload.len() < dockgate::webhooks::MAX_PAYLOAD, "{event_type}: {} bytes", payload.len());
            Emitted { id, customer_id, event_type, body }
        })
        .collect()
}

/// The events emitted since `seen` of them were, by type.
fn since(app: &TestApp, seen: usize) -> Vec<Emitted> {
    emitted(app).into_iter().skip(seen).collect()
}

fn types(events: &[Emitted]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn one<'a>(events: &'a [Emitted], event_type: &str) -> &'a Emitted {
    let found: Vec<&Emitted> = events.iter().filter(|e| e.event_type == event_type).collect();
    assert_eq!(found.len(), 1, "one {event_type} in {:?}", types(events));
    found[0]
}

fn delivered_to(app: &TestApp, endpoint: Uuid) -> BTreeSet<Uuid> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .select(webhook_deliveries::event_id)
        .load::<Uuid>(&mut app.conn())
        .expect("deliveries")
        .into_iter()
        .collect()
}

fn ids(events: &[Emitted]) -> BTreeSet<Uuid> {
    events.iter().map(|e| e.id).collect()
}

/// No stored body holds a secret, hash, token or password, by value or by name. `password_set`
/// and `password_change_required` (booleans) and `previous_secret_valid_until` (a time) are
/// public fields of the REST views.
fn assert_no_secrets(app: &TestApp) {
    fn walk(value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let k = key.to_ascii_lowercase();
                    let public = matches!(
                        k.as_str(),
                        "password_set" | "password_change_required" | "previous_secret_valid_until"
                    );
                    let named = ["token", "password", "secret", "hash"].iter().any(|w| k.contains(w));
                    assert!(public || !named, "{at}: a key `{key}`");
                    walk(inner, at);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, at)),
            Value::String(text) => {
                for marker in ["whsec_", "dgcs_", "dgt_", "dgi_", "$argon2"] {
                    assert!(!text.contains(marker), "{at}: `{marker}` in {text}");
                }
            }
            _ => {}
        }
    }
    let events = emitted(app);
    assert!(!events.is_empty(), "something was emitted to scan");
    for event in events {
        walk(&event.body, &event.event_type);
    }
}

fn members_changed(group: Uuid, customer: Uuid, added: &[Uuid], removed: &[Uuid]) -> Value {
    json!({"group_id": group, "customer_id": customer, "added_user_ids": added, "removed_user_ids": removed})
}

async fn tag_of(actor: &Actor, path: &str) -> String {
    let response = actor.get(path).await;
    assert_eq!(response.status(), StatusCode::OK);
    etag_of(&response)
}

async fn post_empty(actor: &Actor, path: &str) -> reqwest::Response {
    actor.request(Method::POST, path).send().await.expect("request")
}

#[tokio::test]
async fn a_persons_life_over_rest_emits_each_event_with_the_user_as_get_shows_it() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let (ours, platform) = (listen(&app, Some(acme), None), listen(&app, None, None));
    let depot = staff.add_group(acme, "Depot").await;
    let yard = staff.add_group(acme, "Yard").await;
    let seen = emitted(&app).len();
    assert_eq!(types(&since(&app, 0)), ["group.created", "group.created"]);

    let jana = staff.add_person(acme, "Jana", json!({"group_ids": [depot], "data_scope": "groups"})).await;
    let id = id_of(&jana);
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.created", "group.members_changed"]);
    assert_eq!(one(&events, "user.created").data(), &staff.get_user(acme, id).await);
    assert_eq!(one(&events, "group.members_changed").data(), &members_changed(depot, acme, &[id], &[]));
    assert!(events.iter().all(|e| e.customer_id == Some(acme)));

    let seen = emitted(&app).len();
    let renamed = staff.patch(&user_path(acme, id), &json!({"name": "Jana Berg"}), None).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.updated"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, id).await);

    let seen = emitted(&app).len();
    let moved = staff.patch(&user_path(acme, id), &json!({"group_ids": [yard]}), None).await;
    assert_eq!(moved.status(), StatusCode::OK, "{}", moved.text().await.unwrap_or_default());
    let events = since(&app, seen);
    let now = staff.get_user(acme, id).await;
    assert_eq!(
        types(&events),
        ["user.updated", "user.access_changed", "group.members_changed", "group.members_changed"]
    );
    assert_eq!(events[0].data(), &now);
    assert_eq!(events[1].data(), &now);
    assert_eq!(events[2].data(), &members_changed(yard, acme, &[id], &[]));
    assert_eq!(events[3].data(), &members_changed(depot, acme, &[], &[id]));

    let seen = emitted(&app).len();
    assert_eq!(
        post_empty(&staff, &format!("{}/deactivate", user_path(acme, id))).await.status(),
        StatusCode::OK
    );
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.deactivated"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, id).await);
    assert_eq!(events[0].data()["status"], "deactivated");
    // Deactivating someone deactivated changes nothing: no event.
    assert_eq!(
        post_empty(&staff, &format!("{}/deactivate", user_path(acme, id))).await.status(),
        StatusCode::OK
    );
    assert_eq!(since(&app, seen).len(), 1);

    let seen = emitted(&app).len();
    assert_eq!(
        post_empty(&staff, &format!("{}/reactivate", user_path(acme, id))).await.status(),
        StatusCode::OK
    );
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.reactivated"]);
    let before_delete = staff.get_user(acme, id).await;
    assert_eq!(events[0].data(), &before_delete);

    let seen = emitted(&app).len();
    assert_eq!(staff.delete(&user_path(acme, id), None).await.status(), StatusCode::NO_CONTENT);
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.deleted", "group.members_changed"]);
    assert_eq!(events[0].data(), &before_delete, "a deletion sends the view as it was");
    assert_eq!(events[1].data(), &members_changed(yard, acme, &[], &[id]));

    // A person changing their own profile is a user.updated with the REST user view.
    let member = app.customer_user(acme, Role::User, &[]).await;
    let seen = emitted(&app).len();
    assert_eq!(member.patch("/v1/me", &json!({"name": "Piet"}), None).await.status(), StatusCode::OK);
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.updated"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, member.user_id).await);

    let all = ids(&emitted(&app));
    assert_eq!(delivered_to(&app, ours), all, "the customer's endpoint hears all of its events");
    assert_eq!(delivered_to(&app, platform), all, "the platform's endpoint hears every event");
    assert_no_secrets(&app);
}

#[tokio::test]
async fn endpoints_hear_their_customer_only_the_platform_hears_all_and_types_filter() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let globex = id_of(&staff.create_customer("Globex").await);
    let initech = id_of(&staff.create_customer("Initech").await);
    let acme_all = listen(&app, Some(acme), None);
    let acme_off_only = listen(&app, Some(acme), Some(&["user.deactivated", "invitation.revoked"]));
    let globex_all = listen(&app, Some(globex), None);
    let platform = listen(&app, None, None);
    let platform_created = listen(&app, None, Some(&["user.created"]));
    let initech_off = disabled(&app, initech);

    let jana = id_of(&staff.add_person(acme, "Jana", json!({})).await);
    let piet = id_of(&staff.add_person(globex, "Piet", json!({})).await);
    assert_eq!(
        post_empty(&staff, &format!("{}/deactivate", user_path(acme, jana))).await.status(),
        StatusCode::OK
    );
    staff.patch(&user_path(globex, piet), &json!({"name": "Piet de Vries"}), None).await;

    let events = emitted(&app);
    assert_eq!(types(&events), ["user.created", "user.created", "user.deactivated", "user.updated"]);
    let of = |customer: Uuid| -> BTreeSet<Uuid> {
        events.iter().filter(|e| e.customer_id == Some(customer)).map(|e| e.id).collect()
    };
    assert_eq!(delivered_to(&app, acme_all), of(acme));
    assert_eq!(delivered_to(&app, globex_all), of(globex), "never another customer's events");
    assert_eq!(delivered_to(&app, platform), ids(&events));
    let deactivated: BTreeSet<Uuid> = [one(&events, "user.deactivated").id].into();
    assert_eq!(delivered_to(&app, acme_off_only), deactivated, "event_types filters");
    let created: BTreeSet<Uuid> =
        events.iter().filter(|e| e.event_type == "user.created").map(|e| e.id).collect();
    assert_eq!(delivered_to(&app, platform_created), created);
    assert!(delivered_to(&app, initech_off).is_empty());

    // Initech's one endpoint is disabled: only the platform's hear its people.
    let seen = events.len();
    staff.add_person(initech, "Nobody", json!({})).await;
    let late = since(&app, seen);
    assert_eq!(types(&late), ["user.created"]);
    assert!(delivered_to(&app, platform).contains(&late[0].id));
    assert!(delivered_to(&app, platform_created).contains(&late[0].id));
    assert!(delivered_to(&app, initech_off).is_empty(), "a disabled endpoint gets nothing");
    assert!(!delivered_to(&app, acme_all).contains(&late[0].id));
    assert_no_secrets(&app);
}

#[tokio::test]
async fn nothing_is_written_when_nobody_listens() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let jana = id_of(&staff.add_person(acme, "Jana", json!({})).await);
    staff.patch(&user_path(acme, jana), &json!({"name": "Jana Berg"}), None).await;
    assert_eq!(staff.delete(&user_path(acme, jana), None).await.status(), StatusCode::NO_CONTENT);
    assert!(emitted(&app).is_empty());
    let deliveries: i64 = webhook_deliveries::table.count().get_result(&mut app.conn()).expect("count");
    assert_eq!(deliveries, 0);
}

#[tokio::test]
async fn a_change_that_rolls_back_emits_nothing() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    listen(&app, None, None);
    let jana = staff.add_person(acme, "Jana", json!({})).await;
    let seen = emitted(&app).len();

    // A dry-run import writes every row in its transaction, then rolls it back.
    let rows =
        json!([{"name": "Row One", "external_id": "ERP-1"}, {"name": "Row Two", "external_id": "ERP-2"}]);
    let path = format!("/v1/customers/{acme}/users/import?dry_run=true");
    let report =
        json_of(staff.request(Method::POST, &path).json(&rows).send().await.expect("import"), StatusCode::OK)
            .await;
    assert_eq!(report["summary"]["created"], 2, "{report}");
    assert_eq!(emitted(&app).len(), seen, "the rolled-back rows emitted nothing");

    // A stale If-Match (412) and a group still tagging an address (409) change nothing.
    let stale = staff.patch(&user_path(acme, id_of(&jana)), &json!({"name": "X"}), Some("\"stale\"")).await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let depot = staff.add_group(acme, "Depot").await;
    staff.add_address(acme, "Depot gate", Some(depot)).await;
    let seen = emitted(&app).len();
    let tag = tag_of(&staff, &group_path(acme, depot)).await;
    problem(staff.delete(&group_path(acme, depot), Some(&tag)).await, StatusCode::CONFLICT).await;
    assert_eq!(emitted(&app).len(), seen);

    // The same import for real emits one user.created per row.
    let path = format!("/v1/customers/{acme}/users/import");
    let report =
        json_of(staff.request(Method::POST, &path).json(&rows).send().await.expect("import"), StatusCode::OK)
            .await;
    assert_eq!(report["summary"]["created"], 2, "{report}");
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.created", "user.created"]);
    for event in &events {
        let id = Uuid::parse_str(event.data()["id"].as_str().expect("id")).expect("uuid");
        assert_eq!(event.data(), &staff.get_user(acme, id).await);
    }

    // A replace by the ERP key is an update.
    let seen = emitted(&app).len();
    let by_key = format!("/v1/customers/{acme}/users/by-external-id/ERP-1");
    let put = staff
        .request(Method::PUT, &by_key)
        .json(&json!({"name": "Row One Renamed"}))
        .send()
        .await
        .expect("put");
    let put_status = put.status();
    let answered: Value = put.json().await.expect("json");
    assert_eq!(put_status, StatusCode::OK, "{answered}");
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.updated"]);
    assert_eq!(events[0].data(), &answered);
    assert_no_secrets(&app);
}

#[tokio::test]
async fn groups_customers_and_api_clients_emit_their_events() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    listen(&app, Some(acme), None);

    let created =
        json_of(staff.post(&groups_of(acme), &json!({"name": "Depot"})).await, StatusCode::CREATED).await;
    let depot = id_of(&created);
    let events = emitted(&app);
    assert_eq!(types(&events), ["group.created"]);
    assert_eq!(events[0].data(), &json_of(staff.get(&group_path(acme, depot)).await, StatusCode::OK).await);

    let seen = emitted(&app).len();
    staff.patch(&group_path(acme, depot), &json!({"description": "North"}), None).await;
    let events = since(&app, seen);
    assert_eq!(types(&events), ["group.updated"]);
    let group = json_of(staff.get(&group_path(acme, depot)).await, StatusCode::OK).await;
    assert_eq!(events[0].data(), &group);

    let jana = id_of(&staff.add_person(acme, "Jana", json!({"group_ids": [depot]})).await);
    let group = json_of(staff.get(&group_path(acme, depot)).await, StatusCode::OK).await;
    let seen = emitted(&app).len();
    let tag = tag_of(&staff, &group_path(acme, depot)).await;
    assert_eq!(staff.delete(&group_path(acme, depot), Some(&tag)).await.status(), StatusCode::NO_CONTENT);
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.access_changed", "group.deleted", "group.members_changed"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, jana).await, "the member, out of the group");
    assert_eq!(events[1].data(), &group, "the group as it was");
    assert_eq!(events[2].data(), &members_changed(depot, acme, &[], &[jana]));

    let seen = emitted(&app).len();
    staff.patch(&customer_path(acme), &json!({"name": "Acme Logistics"}), None).await;
    staff.patch(&customer_path(acme), &json!({"status": "suspended"}), None).await;
    let events = since(&app, seen);
    assert_eq!(types(&events), ["customer.updated", "customer.updated", "customer.suspended"]);
    let customer = json_of(staff.get(&customer_path(acme)).await, StatusCode::OK).await;
    assert_eq!(events[2].data(), &customer);
    assert_eq!(events[1].data(), &customer);
    assert_eq!(events[0].data()["name"], "Acme Logistics");
    staff.patch(&customer_path(acme), &json!({"status": "active"}), None).await;

    let clients = format!("/v1/customers/{acme}/api-clients");
    let client = json_of(
        staff.post(&clients, &json!({"name": "ERP", "scopes": ["users.manage"]})).await,
        StatusCode::CREATED,
    )
    .await;
    let client_path = format!("{clients}/{}", id_of(&client));
    let seen = emitted(&app).len();
    let revoked = staff.patch(&client_path, &json!({"status": "revoked"}), None).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let events = since(&app, seen);
    assert_eq!(types(&events), ["api_client.revoked"]);
    assert_eq!(events[0].data(), &json_of(staff.get(&client_path).await, StatusCode::OK).await);
    assert_no_secrets(&app);
}

#[tokio::test]
async fn invitations_single_and_bulk_revoke_and_accept_emit_without_their_token() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let staff = app.admin().await;
    let acme = staff.customer_with_address("Acme").await;
    listen(&app, None, None);
    let admin = app.customer_user(acme, Role::Admin, &[]).await;

    let results = admin.invite(acme, json!({"emails": ["jana@acme.example", "piet@acme.example"]})).await;
    let events = emitted(&app);
    assert_eq!(types(&events), ["invitation.created", "invitation.created"]);
    for (event, result) in events.iter().zip(&results) {
        let path = format!("{}/{}", invitations_of(acme), id_of(&result["invitation"]));
        assert_eq!(event.data(), &json_of(admin.get(&path).await, StatusCode::OK).await);
    }

    let piet = format!("{}/{}", invitations_of(acme), id_of(&results[1]["invitation"]));
    let seen = emitted(&app).len();
    assert!(admin.delete(&piet, None).await.status().is_success());
    let events = since(&app, seen);
    assert_eq!(types(&events), ["invitation.revoked"]);
    assert_eq!(events[0].data()["status"], "revoked");

    let token = sink.wait_for("jana@acme.example").await.token("/invitations/accept");
    let seen = emitted(&app).len();
    let joined = app
        .post_json(
            "/v1/invitations/accept",
            &json!({"token": token, "name": "Jana Berg", "password": "a passphrase of my own"}),
        )
        .await;
    let joined = json_of(joined, StatusCode::CREATED).await;
    let events = since(&app, seen);
    assert_eq!(types(&events), ["invitation.accepted", "user.created"]);
    let jana = format!("{}/{}", invitations_of(acme), id_of(&results[0]["invitation"]));
    assert_eq!(events[0].data(), &json_of(admin.get(&jana).await, StatusCode::OK).await);
    assert_eq!(events[1].data(), &staff.get_user(acme, id_of(&joined["user"])).await);
    assert!(emitted(&app).iter().all(|e| !e.body.to_string().contains(&token)), "never the link's token");
    assert_no_secrets(&app);
}

#[tokio::test]
async fn a_self_sign_up_is_a_user_created() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let staff = app.admin().await;
    let settings = json!({"contact_email": "jana@acme.example", "self_signup_enabled": true});
    let acme = id_of(&staff.create_customer_with("Acme", settings).await);
    listen(&app, Some(acme), None);
    let body = json!({"email": "jana@acme.example", "name": "Jana", "password": crate::helpers::PASSWORD});
    assert_eq!(app.post_json("/v1/auth/signup", &body).await.status(), StatusCode::ACCEPTED);
    assert!(emitted(&app).is_empty(), "a request to sign up is no user yet");
    let token = sink.wait_for("jana@acme.example").await.token("/signup/verify");
    let verified = app.post_json("/v1/auth/signup/verify", &json!({"token": token})).await;
    let verified = json_of(verified, StatusCode::CREATED).await;
    let events = emitted(&app);
    assert_eq!(types(&events), ["user.created"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, id_of(&verified["user"])).await);
    assert_no_secrets(&app);
}

#[tokio::test]
async fn scim_users_and_groups_emit_the_rest_views() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let directory = Directory::connect(&app, &staff, "Acme").await;
    let acme = directory.customer;
    listen(&app, Some(acme), None);

    let created = directory.create_user(scim_user("jana@acme.example")).await;
    let jana = Uuid::parse_str(&uid(&created)).expect("uuid");
    let events = emitted(&app);
    assert_eq!(types(&events), ["user.created"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, jana).await, "the REST view, not SCIM's");

    let seen = emitted(&app).len();
    let mut renamed = scim_user("jana@acme.example");
    renamed["name"] = json!({"givenName": "Jana", "familyName": "de Vries"});
    scim_of(directory.put(&format!("/Users/{jana}"), &renamed).await, StatusCode::OK).await;
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.updated"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, jana).await);

    let seen = emitted(&app).len();
    let off = json!([{"op": "replace", "path": "active", "value": false}]);
    scim_of(directory.patch(&format!("/Users/{jana}"), off).await, StatusCode::OK).await;
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.deactivated"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, jana).await);
    let on = json!([{"op": "replace", "path": "active", "value": true}]);
    scim_of(directory.patch(&format!("/Users/{jana}"), on).await, StatusCode::OK).await;
    assert_eq!(types(&since(&app, seen)), ["user.deactivated", "user.reactivated"]);

    let seen = emitted(&app).len();
    let group = directory
        .create_group(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Depot",
            "members": [{"value": jana}],
        }))
        .await;
    let depot = Uuid::parse_str(&uid(&group)).expect("uuid");
    let events = since(&app, seen);
    assert_eq!(types(&events), ["user.access_changed", "group.created", "group.members_changed"]);
    assert_eq!(events[0].data(), &staff.get_user(acme, jana).await, "the member, in the group");
    let rest_group = json_of(staff.get(&group_path(acme, depot)).await, StatusCode::OK).await;
    assert_eq!(events[1].data(), &rest_group);
    assert_eq!(events[2].data(), &members_changed(depot, acme, &[jana], &[]));

    let seen = emitted(&app).len();
    let emptied = json!([{"op": "replace", "path": "members", "value": []}]);
    let answer = directory.patch(&format!("/Groups/{depot}"), emptied).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    let events = since(&app, seen);
    assert_eq!(
        types(&events),
        ["user.access_changed", "group.members_changed"],
        "a members-only change is no group.updated"
    );
    assert_eq!(events[0].data(), &staff.get_user(acme, jana).await);
    assert_eq!(events[1].data(), &members_changed(depot, acme, &[], &[jana]));

    let seen = emitted(&app).len();
    let rest_group = json_of(staff.get(&group_path(acme, depot)).await, StatusCode::OK).await;
    assert_eq!(directory.delete(&format!("/Groups/{depot}")).await.status(), StatusCode::NO_CONTENT);
    let before = staff.get_user(acme, jana).await;
    assert_eq!(directory.delete(&format!("/Users/{jana}")).await.status(), StatusCode::NO_CONTENT);
    let events = since(&app, seen);
    assert_eq!(types(&events), ["group.deleted", "user.deleted"]);
    assert_eq!(events[0].data(), &rest_group);
    assert_eq!(events[1].data(), &before);
    assert_no_secrets(&app);
}

#[tokio::test]
async fn a_person_in_the_most_groups_stays_under_the_size_limit_whole() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let mut groups = Vec::new();
    for n in 0..100 {
        groups.push(staff.add_group(acme, &format!("Group {n:03}")).await);
    }
    listen(&app, None, None);
    let body =
        json!({"name": "Jana", "external_id": "x".repeat(100), "group_ids": groups, "data_scope": "groups"});
    let jana = staff.add_user(acme, body).await;
    let events = emitted(&app);
    assert_eq!(events.len(), 101, "user.created and one group.members_changed per group");
    let created = one(&events, "user.created");
    assert_eq!(created.data(), &staff.get_user(acme, id_of(&jana)).await, "whole, not truncated");
    assert!(created.data().get("truncated").is_none());
}

#[tokio::test]
async fn an_owner_transfer_is_an_access_change_of_both_people() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let old = id_of(&staff.add_person(acme, "Olga", json!({"role": "owner"})).await);
    let new = id_of(&staff.add_person(acme, "Nina", json!({})).await);
    listen(&app, Some(acme), None);
    let moved = staff.post(&format!("/v1/customers/{acme}/owner"), &json!({"user_id": new})).await;
    assert_eq!(moved.status(), StatusCode::OK);
    let events = emitted(&app);
    assert_eq!(
        types(&events),
        ["user.updated", "user.access_changed", "user.updated", "user.access_changed"]
    );
    assert_eq!(events[0].data(), &staff.get_user(acme, old).await);
    assert_eq!(events[0].data()["role"], "admin");
    assert_eq!(events[2].data(), &staff.get_user(acme, new).await);
    assert_eq!(events[2].data()["role"], "owner");
}

#[tokio::test]
async fn a_group_changed_by_an_admin_limited_to_groups_is_sent_whole() {
    let app = TestApp::spawn().await;
    let staff = app.admin().await;
    let acme = id_of(&staff.create_customer("Acme").await);
    let (depot, yard) = (staff.add_group(acme, "Depot").await, staff.add_group(acme, "Yard").await);
    let admin = staff.add_person(acme, "Admin", json!({"role": "admin", "group_ids": [depot]})).await;
    let admin = app.sign_in_member(&admin).await;
    // In Depot and Yard: outside the admin's limit, so its view of Depot does not count them.
    staff.add_person(acme, "Both", json!({"group_ids": [depot, yard]})).await;
    listen(&app, Some(acme), None);
    let tag = tag_of(&admin, &group_path(acme, depot)).await;
    let renamed = admin.patch(&group_path(acme, depot), &json!({"name": "Depot North"}), Some(&tag)).await;
    let seen_by_admin = json_of(renamed, StatusCode::OK).await;
    let whole = json_of(staff.get(&group_path(acme, depot)).await, StatusCode::OK).await;
    assert!(
        seen_by_admin["member_count"].as_i64() < whole["member_count"].as_i64(),
        "{seen_by_admin} {whole}"
    );
    let events = emitted(&app);
    assert_eq!(types(&events), ["group.updated"]);
    assert_eq!(events[0].data(), &whole);
}
