//! What a group limits: the addresses a person sees and touches, and what it may hand out; and
//! between customers, a dispatcher's scope.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

#[tokio::test]
async fn group_members_see_untagged_addresses_and_their_groups_and_people_in_no_group_see_all() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let get = |address: Uuid| address_path(d.customer, address);

    assert_eq!(visible_labels(&d.in_x, d.customer).await, labels(&["Main", "North"]));
    assert_eq!(visible_labels(&d.in_y, d.customer).await, labels(&["Main", "South"]));
    assert_eq!(visible_labels(&d.in_none, d.customer).await, labels(&["Main", "North", "South"]));
    assert_eq!(visible_labels(&admin, d.customer).await, labels(&["Main", "North", "South"]));

    // Another group's address is not found, exactly like a missing one (not a 403).
    for (who, session, hidden, shown) in [("X", &d.in_x, d.south, d.north), ("Y", &d.in_y, d.north, d.south)]
    {
        let body = problem(session.get(&get(hidden)).await, StatusCode::NOT_FOUND).await;
        let missing = problem(session.get(&get(Uuid::now_v7())).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["detail"], missing["detail"], "{who}: indistinguishable from a missing address");
        assert_eq!(session.get(&get(shown)).await.status(), StatusCode::OK, "{who}");
        assert_eq!(session.get(&get(d.main)).await.status(), StatusCode::OK, "{who}");
    }
    for address in [d.main, d.north, d.south] {
        assert_eq!(d.in_none.get(&get(address)).await.status(), StatusCode::OK);
    }
    assert_eq!(d.in_x.me().await["groups"], json!([d.x.to_string()]));
    assert_eq!(d.in_none.me().await["groups"], json!(["*"]));
}

#[tokio::test]
async fn an_address_manager_limited_to_one_group_cannot_tag_or_touch_another_groups_addresses() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let manager = member(&app, &admin, d.customer, "max", &[d.x], Some(&["addresses.manage"])).await;
    let before = app.audit_actions().len();

    // Tagging with the other group: 422 naming `group_id`, on POST and on PATCH.
    let body =
        json!({"label": "Sneaky", "line1": "Sneaky 1", "city": "Hamburg", "country": "DE", "group_id": d.y});
    let refused =
        problem(manager.post(&addresses_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["group_id"]);
    for address in [d.main, d.north] {
        let refused = problem(
            manager.patch(&address_path(d.customer, address), &json!({"group_id": d.y}), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_id"]);
    }
    // The other group's address is not there for it: PATCH and DELETE are 404.
    problem(
        manager.patch(&address_path(d.customer, d.south), &json!({"label": "Mine now"}), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(manager.delete(&address_path(d.customer, d.south), None).await, StatusCode::NOT_FOUND).await;
    assert_eq!(app.audit_actions().len(), before, "nothing changed");
    let south = json_of(admin.get(&address_path(d.customer, d.south)).await, StatusCode::OK).await;
    assert_eq!((south["label"].as_str(), south["group_id"].clone()), (Some("South"), json!(d.y)));
    let north = json_of(admin.get(&address_path(d.customer, d.north)).await, StatusCode::OK).await;
    assert_eq!(north["group_id"], json!(d.x));

    // Its own group is fine.
    let own = manager.add_address(d.customer, "West", Some(d.x)).await;
    assert_eq!(own["group_id"], json!(d.x));
    assert!(visible_labels(&d.in_x, d.customer).await.contains("West"));
    assert!(!visible_labels(&d.in_y, d.customer).await.contains("West"));
}

#[tokio::test]
async fn an_address_cannot_be_tagged_with_another_customers_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let globex = id_of(&admin.create_customer("Globex").await);
    let foreign = admin.add_group(globex, "Depot X").await;
    let no_group_manager = member(&app, &admin, d.customer, "nina", &[], Some(&["addresses.manage"])).await;

    for (who, actor) in [("staff", &admin), ("manager in no group", &no_group_manager)] {
        for group in [foreign, Uuid::now_v7()] {
            let body = json!({"label": "Elsewhere", "line1": "E 1", "city": "Hamburg", "country": "DE", "group_id": group});
            let refused =
                problem(actor.post(&addresses_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY)
                    .await;
            assert_eq!(error_fields(&refused), ["group_id"], "{who}: {refused}");
            let refused = problem(
                actor.patch(&address_path(d.customer, d.main), &json!({"group_id": group}), None).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(error_fields(&refused), ["group_id"], "{who}: {refused}");
        }
    }
    let main = json_of(admin.get(&address_path(d.customer, d.main)).await, StatusCode::OK).await;
    assert_eq!(main["group_id"], Value::Null);
    assert_eq!(visible_labels(&admin, d.customer).await, labels(&["Main", "North", "South"]));
}

#[tokio::test]
async fn a_dispatcher_scoped_to_one_customer_sees_none_of_anothers_groups_users_or_events() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let globex = id_of(&admin.create_customer("Globex").await);
    let acme_group = admin.add_group(acme, "Acme depot").await;
    let globex_group = admin.add_group(globex, "Globex depot").await;
    let acme_user = admin.add_person(acme, "alma", json!({"group_ids": [acme_group]})).await;
    let globex_user = admin.add_person(globex, "gus", json!({"group_ids": [globex_group]})).await;
    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;
    let before = app.audit_actions().len();

    // Every group endpoint of the other customer is a 404, as is its group under the own path.
    for (method, path, body) in group_endpoints(globex, globex_group)
        .into_iter()
        .chain(group_endpoints(acme, globex_group).into_iter().skip(2))
    {
        let response = dispatcher.send(method, &path, body).await;

        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        problem(response, StatusCode::NOT_FOUND).await;
    }
    problem(
        dispatcher.get(&format!("{}?group_id={globex_group}", users_of(globex))).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.audit_actions().len(), before, "nothing changed");
    let (untouched, _) = get_group(&admin, globex, globex_group).await;
    assert_eq!(
        (untouched["name"].as_str(), untouched["member_count"].as_i64()),
        (Some("Globex depot"), Some(1))
    );

    // Its own customer's groups work as for any staff.
    let (own, _) = get_group(&dispatcher, acme, acme_group).await;
    assert_eq!(own["member_count"], 1);
    dispatcher.add_group(acme, "Dispatcher's depot").await;
    assert_eq!(dispatcher.id_set(&members_of(acme, acme_group)).await, set(&[id_of(&acme_user)]));

    // Cross-customer lists never show the other customer's rows.
    let users = dispatcher.walk("/v1/users", 1).await;
    assert!(!users.is_empty());
    assert!(users.iter().all(|u| u["customer_id"] == json!(acme)), "{users:?}");
    assert!(!users.iter().any(|u| id_of(u) == id_of(&globex_user)));
    assert_eq!(dispatcher.id_set(&format!("/v1/users?group_id={globex_group}")).await, BTreeSet::new());
    assert_eq!(
        dispatcher.id_set(&format!("/v1/users?group_id={acme_group}")).await,
        set(&[id_of(&acme_user)])
    );
    let events = dispatcher.walk("/v1/audit-events", 1).await;
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["customer_id"] == json!(acme)), "{events:?}");
    let group_events = dispatcher.list("/v1/audit-events?action=group.created").await;
    let targets: BTreeSet<&str> = group_events.iter().filter_map(|e| e["target_id"].as_str()).collect();
    assert!(!targets.contains(globex_group.to_string().as_str()), "{group_events:?}");
    assert!(targets.contains(acme_group.to_string().as_str()), "{group_events:?}");
    problem(dispatcher.get(&format!("/v1/audit-events?customer_id={globex}")).await, StatusCode::NOT_FOUND)
        .await;
    assert_eq!(
        dispatcher.list(&format!("/v1/audit-events?target_id={globex_group}")).await,
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn a_group_limited_person_cannot_widen_what_anyone_sees() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;

    // An address manager of X can neither untag X's address nor add an untagged one: both would
    // show the address to every group.
    let manager = member(&app, &admin, d.customer, "mia", &[d.x], Some(&["addresses.manage"])).await;
    let refused = problem(
        manager.patch(&address_path(d.customer, d.north), &json!({"group_id": null}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&refused), ["group_id"]);
    let body = json!({"label": "Open", "line1": "Open 1", "city": "Hamburg", "country": "DE"});
    let refused =
        problem(manager.post(&addresses_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&refused), ["group_id"]);

    // An admin limited to X: the people it adds join X unless it names some of its groups; it
    // cannot put anyone (itself included) in another group or give anyone data scope `all`.
    // (Since issue 14, "no group" is no longer "everything": a person it leaves in no group
    // stays `groups` and sees untagged data only, which is within what X sees.)
    let x_admin = admin.add_person(d.customer, "xadmin", json!({"role": "admin", "group_ids": [d.x]})).await;
    let x_admin_session = app.sign_in_member(&x_admin).await;

    let joined = x_admin_session.add_person(d.customer, "newbie", json!({})).await;
    assert_eq!(uuids(&joined["group_ids"]), set(&[d.x]));
    assert_eq!(joined["data_scope"], "groups");
    let untagged_only = x_admin_session.add_person(d.customer, "untagged", json!({"group_ids": []})).await;
    assert_eq!((&untagged_only["data_scope"], &untagged_only["group_ids"]), (&json!("groups"), &json!([])));
    for group_ids in [json!([d.y]), json!([d.x, d.y])] {
        let mut body = json!({"name": "Wide", "email": unique_email("wide"), "password": MEMBER_PASSWORD});
        body["group_ids"] = group_ids.clone();
        let refused = problem(
            x_admin_session.post(&users_of(d.customer), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["group_ids"], "{group_ids}");
    }
    let mut body = json!({"name": "Wide", "email": unique_email("wide"), "password": MEMBER_PASSWORD});
    body["data_scope"] = json!("all");
    let refused =
        problem(x_admin_session.post(&users_of(d.customer), &body).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(error_fields(&refused), ["data_scope"]);
    for someone in [id_of(&x_admin), id_of(&joined), id_of(&untagged_only)] {
        let refused = problem(
            patch_user(&x_admin_session, d.customer, someone, json!({"data_scope": "all"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&refused), ["data_scope"]);
    }
    let x_admin_now = admin.get_user(d.customer, id_of(&x_admin)).await;
    assert_eq!(
        (&x_admin_now["data_scope"], uuids(&x_admin_now["group_ids"])),
        (&json!("groups"), set(&[d.x]))
    );
}
