//! Issue 14: a person's, an invitation's and an API client's data scope is explicit. `all`
//! sees every group's data of its customer (in no group; tokens say `groups: ["*"]`);
//! `groups` sees its groups' data and untagged data — in no group at all, untagged data only
//! (tokens say `groups: []`). Created without groups someone sees `all`; joining a group
//! narrows; leaving groups never widens; only an explicit `data_scope: "all"` does, audited as
//! `access.widened`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Actor, SmtpSink, TestApp, address_path, addresses_of, error_fields, group_path, id_of, json_of, problem,
    unique_email, user_path, users_of,
};
use dockgate::permissions::Role;

/// A customer with groups X and Y and the addresses Main (untagged), North (X) and South (Y).
struct Acme {
    customer: Uuid,
    x: Uuid,
    y: Uuid,
    north: Uuid,
    south: Uuid,
}

async fn acme(staff: &Actor) -> Acme {
    let customer = id_of(&staff.create_customer("Acme").await);
    let (x, y) = (staff.add_group(customer, "X").await, staff.add_group(customer, "Y").await);
    staff.add_address(customer, "Main", None).await;
    let north = id_of(&staff.add_address(customer, "North", Some(x)).await);
    let south = id_of(&staff.add_address(customer, "South", Some(y)).await);
    Acme { customer, x, y, north, south }
}

async fn patch_user(actor: &Actor, customer: Uuid, user: Uuid, body: Value) -> reqwest::Response {
    actor.patch(&user_path(customer, user), &body, None).await
}

/// The labels of the addresses `actor` lists.
async fn labels(actor: &Actor, customer: Uuid) -> Vec<String> {
    let mut labels: Vec<String> = actor
        .walk(&addresses_of(customer), 50)
        .await
        .iter()
        .map(|a| a["label"].as_str().expect("a label").to_owned())
        .collect();
    labels.sort();
    labels
}

fn scope_of(view: &Value) -> (Value, Value) {
    (view["data_scope"].clone(), view["group_ids"].clone())
}

#[tokio::test]
async fn created_without_groups_a_person_sees_all_and_with_groups_only_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;

    let everyone = admin.add_person(d.customer, "ann", json!({})).await;
    assert_eq!(scope_of(&everyone), (json!("all"), json!([])));
    let ann = app.sign_in_member(&everyone).await;
    assert_eq!(ann.claims()["groups"], json!(["*"]));
    let me = ann.me().await;
    assert_eq!((&me["data_scope"], &me["groups"]), (&json!("all"), &json!(["*"])));
    assert_eq!(labels(&ann, d.customer).await, ["Main", "North", "South"]);

    let in_x = admin.add_person(d.customer, "xena", json!({"group_ids": [d.x]})).await;
    assert_eq!(scope_of(&in_x), (json!("groups"), json!([d.x])));
    let xena = app.sign_in_member(&in_x).await;
    assert_eq!(xena.claims()["groups"], json!([d.x.to_string()]));
    assert_eq!(labels(&xena, d.customer).await, ["Main", "North"]);

    // Explicit: `groups` without groups sees untagged data only; `all` with groups is a 422.
    let untagged = admin.add_person(d.customer, "una", json!({"data_scope": "groups"})).await;
    assert_eq!(scope_of(&untagged), (json!("groups"), json!([])));
    let una = app.sign_in_member(&untagged).await;
    assert_eq!(una.claims()["groups"], json!([]));
    assert_eq!(labels(&una, d.customer).await, ["Main"]);
    let body = json!({"name": "Wrong", "data_scope": "all", "group_ids": [d.x]});
    let refused =
        problem(admin.post(&users_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    let explicit_all =
        admin.add_person(d.customer, "al", json!({"data_scope": "all", "group_ids": []})).await;
    assert_eq!(scope_of(&explicit_all), (json!("all"), json!([])));
}

#[tokio::test]
async fn removing_the_last_group_leaves_a_person_seeing_untagged_data_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let view = admin.add_person(d.customer, "xena", json!({"group_ids": [d.x]})).await;
    let xena = app.sign_in_member(&view).await;

    let left =
        json_of(patch_user(&admin, d.customer, id_of(&view), json!({"group_ids": []})).await, StatusCode::OK)
            .await;
    assert_eq!(scope_of(&left), (json!("groups"), json!([])), "leaving groups never widens");
    // Her sessions ended (tokens carry groups); signed in again, her token says [].
    problem(xena.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let xena = app.sign_in_again(&xena).await;
    assert_eq!(xena.claims()["groups"], json!([]));
    let me = xena.me().await;
    assert_eq!((&me["data_scope"], &me["groups"]), (&json!("groups"), &json!([])));

    // Untagged data only: North (X) and South (Y) are not there for her.
    assert_eq!(labels(&xena, d.customer).await, ["Main"]);
    problem(xena.get(&address_path(d.customer, d.north)).await, StatusCode::NOT_FOUND).await;
    problem(xena.get(&address_path(d.customer, d.south)).await, StatusCode::NOT_FOUND).await;
    // The authz check says the same.
    let untagged = xena.check("orders.view", d.customer, None).await;
    assert_eq!(untagged, json!({"allowed": true, "reason": "allowed"}));
    let tagged = xena.check("orders.view", d.customer, Some(d.x)).await;
    assert_eq!(tagged, json!({"allowed": false, "reason": "group_not_visible"}));
}

#[tokio::test]
async fn only_an_explicit_all_widens_and_it_is_audited_as_access_widened() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let view = admin.add_person(d.customer, "xena", json!({"group_ids": [d.x]})).await;
    let user = id_of(&view);

    // `all` with groups is refused, and nothing changed.
    let refused = problem(
        patch_user(&admin, d.customer, user, json!({"data_scope": "all", "group_ids": [d.x]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    assert_eq!(scope_of(&admin.get_user(d.customer, user).await), (json!("groups"), json!([d.x])));

    let session = app.sign_in_member(&view).await;
    let widened =
        json_of(patch_user(&admin, d.customer, user, json!({"data_scope": "all"})).await, StatusCode::OK)
            .await;
    assert_eq!(scope_of(&widened), (json!("all"), json!([])), "widening drops the memberships");
    problem(session.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let session = app.sign_in_again(&session).await;
    assert_eq!(session.claims()["groups"], json!(["*"]));
    assert_eq!(labels(&session, d.customer).await, ["Main", "North", "South"]);

    let events = admin.events_about(user).await;
    let widening: Vec<&Value> = events.iter().filter(|e| e["action"] == "access.widened").collect();
    assert_eq!(widening.len(), 1, "{events:?}");
    assert_eq!(widening[0]["actor_id"], json!(admin.user_id));
    assert_eq!(
        widening[0]["changes"],
        json!({"data_scope": {"from": "groups", "to": "all"}, "group_ids": {"from": [d.x], "to": []}})
    );
    let update = events.iter().find(|e| e["action"] == "user.updated").expect("the ordinary update event");
    assert_eq!(update["changes"]["data_scope"], json!({"from": "groups", "to": "all"}));

    // Joining a group narrows again (no access.widened); `data_scope: groups` alone narrows to none.
    let narrowed =
        json_of(patch_user(&admin, d.customer, user, json!({"group_ids": [d.y]})).await, StatusCode::OK)
            .await;
    assert_eq!(scope_of(&narrowed), (json!("groups"), json!([d.y])));
    json_of(patch_user(&admin, d.customer, user, json!({"data_scope": "all"})).await, StatusCode::OK).await;
    let none =
        json_of(patch_user(&admin, d.customer, user, json!({"data_scope": "groups"})).await, StatusCode::OK)
            .await;
    assert_eq!(scope_of(&none), (json!("groups"), json!([])));
    let widenings = admin.events_about(user).await.iter().filter(|e| e["action"] == "access.widened").count();
    assert_eq!(widenings, 2, "each widening, and only widenings");
}

#[tokio::test]
async fn a_group_limited_admin_can_neither_widen_anyone_nor_create_an_all_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let x_admin = admin.add_person(d.customer, "xadmin", json!({"role": "admin", "group_ids": [d.x]})).await;
    let x_admin = app.sign_in_member(&x_admin).await;
    let in_x = admin.add_person(d.customer, "xena", json!({"group_ids": [d.x]})).await;
    let everyone = admin.add_person(d.customer, "ann", json!({})).await;

    // Someone who sees all is not there for it (404), so it cannot touch its scope either.
    problem(x_admin.get(&user_path(d.customer, id_of(&everyone))).await, StatusCode::NOT_FOUND).await;
    problem(
        patch_user(&x_admin, d.customer, id_of(&everyone), json!({"data_scope": "groups"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Someone it covers it may not widen (422 on data_scope).
    let refused = problem(
        patch_user(&x_admin, d.customer, id_of(&in_x), json!({"data_scope": "all"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    // Nor create an `all` user; what it creates is `groups`.
    let body = json!({"name": "Wide", "data_scope": "all"});
    let refused =
        problem(x_admin.post(&users_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    let made = x_admin.add_user(d.customer, json!({"name": "Narrow"})).await;
    assert_eq!(scope_of(&made), (json!("groups"), json!([d.x])));
    // Leaving someone in no group is within what it sees: untagged data only.
    let emptied = json_of(
        patch_user(&x_admin, d.customer, id_of(&made), json!({"group_ids": []})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(scope_of(&emptied), (json!("groups"), json!([])));
    assert_eq!(scope_of(&admin.get_user(d.customer, id_of(&in_x)).await), (json!("groups"), json!([d.x])));
}

#[tokio::test]
async fn deleting_a_group_leaves_its_members_groups_scoped_and_seeing_less() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let view = admin.add_person(d.customer, "yuri", json!({"group_ids": [d.y]})).await;
    let yuri = app.sign_in_member(&view).await;
    assert_eq!(labels(&yuri, d.customer).await, ["Main", "South"]);

    // The 409 for a group that tags addresses stays.
    let path = group_path(d.customer, d.y);
    problem(admin.delete(&format!("{path}?confirm=true"), None).await, StatusCode::CONFLICT).await;
    json_of(
        admin.patch(&address_path(d.customer, d.south), &json!({"group_id": null}), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(admin.delete(&format!("{path}?confirm=true"), None).await.status(), StatusCode::NO_CONTENT);

    assert_eq!(scope_of(&admin.get_user(d.customer, id_of(&view)).await), (json!("groups"), json!([])));
    problem(yuri.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let yuri = app.sign_in_again(&yuri).await;
    assert_eq!(yuri.claims()["groups"], json!([]));
    // South is untagged now, so she sees it; North (X) she never saw and still does not.
    assert_eq!(labels(&yuri, d.customer).await, ["Main", "South"]);
    problem(yuri.get(&address_path(d.customer, d.north)).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_full_replace_by_the_erps_key_never_widens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let path = format!("/v1/customers/{}/users/by-external-id/ERP-1", d.customer);
    let put = |body: Value| {
        let (admin, path) = (admin.clone(), path.clone());
        async move { admin.request(reqwest::Method::PUT, &path).json(&body).send().await.expect("request") }
    };

    let created = json_of(put(json!({"name": "Erp", "group_ids": [d.x]})).await, StatusCode::CREATED).await;
    assert_eq!(scope_of(&created), (json!("groups"), json!([d.x])));
    // The body names no group now: a create would give `all`, a replace leaves it `groups`.
    let replaced = json_of(put(json!({"name": "Erp"})).await, StatusCode::OK).await;
    assert_eq!(scope_of(&replaced), (json!("groups"), json!([])));
    // Only an explicit `all` widens, audited.
    let widened = json_of(put(json!({"name": "Erp", "data_scope": "all"})).await, StatusCode::OK).await;
    assert_eq!(scope_of(&widened), (json!("all"), json!([])));
    let events = admin.events_about(id_of(&created)).await;
    assert_eq!(events.iter().filter(|e| e["action"] == "access.widened").count(), 1, "{events:?}");
}

/// A client of `customer` created by `creator` with `body`: its view and secret.
async fn create_client(creator: &Actor, customer: Uuid, body: Value) -> Value {
    let collection = format!("/v1/customers/{customer}/api-clients");
    json_of(creator.post(&collection, &body).await, StatusCode::CREATED).await
}

/// Whoever holds a fresh client-credentials token of `client`.
async fn as_client(app: &TestApp, client: &Value) -> Actor {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client["client_id"].as_str().expect("client_id")),
        ("client_secret", client["client_secret"].as_str().expect("client_secret")),
    ];
    let response = app.client.post(app.url("/v1/oauth/token")).form(&form).send().await.expect("request");
    let token = json_of(response, StatusCode::OK).await;
    app.bearer(token["access_token"].as_str().expect("an access token"))
}

/// The claims of a fresh token of `client`.
async fn client_claims(app: &TestApp, client: &Value) -> Value {
    as_client(app, client).await.claims()
}

#[tokio::test]
async fn api_clients_have_a_data_scope_like_people() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let scopes = json!(["users.manage", "addresses.manage"]);

    let wide = create_client(&admin, d.customer, json!({"name": "Wide", "scopes": scopes})).await;
    assert_eq!(scope_of(&wide), (json!("all"), json!([])));
    assert_eq!(client_claims(&app, &wide).await["groups"], json!(["*"]));

    let narrow =
        create_client(&admin, d.customer, json!({"name": "X", "scopes": scopes, "group_ids": [d.x]})).await;
    assert_eq!(scope_of(&narrow), (json!("groups"), json!([d.x])));
    assert_eq!(client_claims(&app, &narrow).await["groups"], json!([d.x.to_string()]));

    // Leaving its last group keeps it `groups`: its token says [], it sees untagged data only.
    let path = format!("/v1/customers/{}/api-clients/{}", d.customer, id_of(&narrow));
    let left = json_of(admin.patch(&path, &json!({"group_ids": []}), None).await, StatusCode::OK).await;
    assert_eq!(scope_of(&left), (json!("groups"), json!([])));
    let holder = as_client(&app, &narrow).await;
    assert_eq!(holder.claims()["groups"], json!([]));
    assert_eq!(labels(&holder, d.customer).await, ["Main"]);

    // `all` widens, audited; `all` with groups is a 422.
    let refused = problem(
        admin.patch(&path, &json!({"data_scope": "all", "group_ids": [d.x]}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    let widened =
        json_of(admin.patch(&path, &json!({"data_scope": "all"}), None).await, StatusCode::OK).await;
    assert_eq!(scope_of(&widened), (json!("all"), json!([])));
    let events = admin.events_about(id_of(&narrow)).await;
    assert_eq!(events.iter().filter(|e| e["action"] == "access.widened").count(), 1, "{events:?}");
    assert_eq!(labels(&holder, d.customer).await, ["Main", "North", "South"], "read fresh on every request");

    // A group-limited client creates only `groups` clients; a platform client is always `all`.
    let x_client =
        create_client(&admin, d.customer, json!({"name": "X2", "scopes": scopes, "group_ids": [d.x]})).await;
    let x_caller = as_client(&app, &x_client).await;
    let collection = format!("/v1/customers/{}/api-clients", d.customer);
    let body = json!({"name": "Wider", "scopes": [], "data_scope": "all"});
    let refused = problem(x_caller.post(&collection, &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    let body = json!({"name": "Platform", "scopes": [], "data_scope": "groups"});
    let refused = problem(admin.post("/v1/api-clients", &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    let platform = json_of(
        admin.post("/v1/api-clients", &json!({"name": "P", "scopes": []})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(scope_of(&platform), (json!("all"), json!([])));
}

#[tokio::test]
async fn an_invitation_gives_the_accepted_person_its_data_scope() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with_mail(&sink).await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let owner = app.customer_user(d.customer, Role::Admin, &[]).await;

    let invite = |email: &str, extra: Value| {
        let mut body = json!({"emails": [email]});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let (untagged_email, wide_email) = (unique_email("una"), unique_email("ann"));
    let results = owner.invite(d.customer, invite(&untagged_email, json!({"data_scope": "groups"}))).await;
    let invitation = &results[0]["invitation"];
    assert_eq!(scope_of(invitation), (json!("groups"), json!([])), "{results:?}");
    let results = owner.invite(d.customer, invite(&wide_email, json!({}))).await;
    assert_eq!(scope_of(&results[0]["invitation"]), (json!("all"), json!([])), "{results:?}");
    let refused = problem(
        owner
            .post(
                &format!("/v1/customers/{}/invitations", d.customer),
                &invite(&unique_email("no"), json!({"data_scope": "all", "group_ids": [d.x]})),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["data_scope"]);

    let token = sink.wait_for(&untagged_email).await.token("/invitations/accept");
    let body = json!({"token": token, "name": "Una", "password": "a passphrase of my own"});
    let joined = json_of(app.post_json("/v1/invitations/accept", &body).await, StatusCode::CREATED).await;
    assert_eq!(scope_of(&joined["user"]), (json!("groups"), json!([])));
    let una = app.holder_of(&joined["tokens"]);
    assert_eq!(una.claims()["groups"], json!([]));
    assert_eq!(labels(&una, d.customer).await, ["Main"]);

    let token = sink.wait_for(&wide_email).await.token("/invitations/accept");
    let body = json!({"token": token, "name": "Ann", "password": "a passphrase of my own"});
    let joined = json_of(app.post_json("/v1/invitations/accept", &body).await, StatusCode::CREATED).await;
    assert_eq!(scope_of(&joined["user"]), (json!("all"), json!([])));
    assert_eq!(app.holder_of(&joined["tokens"]).claims()["groups"], json!(["*"]));
}

/// What SCIM's group membership calls: joining narrows an `all` person, leaving never widens,
/// and either ends the person's sessions (its tokens carry `groups`).
#[tokio::test]
async fn joining_and_leaving_groups_through_the_membership_rules() {
    use dockgate::db::ids::{CustomerId, UserId};
    use dockgate::users::rules::{join_groups, leave_groups};

    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = acme(&admin).await;
    let view = admin.add_person(d.customer, "ann", json!({})).await;
    let ann = app.sign_in_member(&view).await;
    let (customer, user) = (CustomerId::from(d.customer), UserId::from(id_of(&view)));

    let joined = join_groups(&mut app.conn(), customer, user, &[d.x]).expect("joins X");
    assert!(joined);
    assert_eq!(scope_of(&admin.get_user(d.customer, id_of(&view)).await), (json!("groups"), json!([d.x])));
    problem(ann.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let ann = app.sign_in_again(&ann).await;
    assert_eq!(ann.claims()["groups"], json!([d.x.to_string()]));
    // Joining again changes nothing, and ends nothing.
    assert!(!join_groups(&mut app.conn(), customer, user, &[d.x]).expect("joins X again"));
    assert_eq!(ann.get("/v1/me").await.status(), StatusCode::OK);
    // Another customer's group (or none at all) is refused.
    assert!(join_groups(&mut app.conn(), customer, user, &[Uuid::now_v7()]).is_err());

    assert!(leave_groups(&mut app.conn(), customer, user, &[d.x]).expect("leaves X"));
    assert_eq!(scope_of(&admin.get_user(d.customer, id_of(&view)).await), (json!("groups"), json!([])));
    problem(ann.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.sign_in_again(&ann).await.claims()["groups"], json!([]));
    assert!(!leave_groups(&mut app.conn(), customer, user, &[d.x]).expect("not in X any more"));
}
