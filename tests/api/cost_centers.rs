//! Cost centers: codes unique per customer, merge-patch with ETags, pages, permissions.

use std::collections::HashSet;

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, cost_centers_of, etag_of, id_of, problem};
use dockgate::permissions::{Permission, Role};

/// The `changes` recorded for the events of `target`, oldest first.
fn recorded_changes(app: &TestApp, target: Uuid) -> Vec<(String, String, Option<Uuid>, Value)> {
    use dockgate::db::schema::audit_events as ae;
    ae::table
        .filter(ae::target_id.eq(target))
        .order(ae::id.asc())
        .select((ae::action, ae::target_type, ae::customer_id, ae::changes))
        .load(&mut app.conn())
        .expect("audit events")
}

/// The codes the list returns for `query`, in order.
async fn codes(actor: &Actor, customer: Uuid, query: &str) -> Vec<String> {
    let list: Value =
        actor.get(&format!("{}?{query}", cost_centers_of(customer))).await.json().await.expect("list");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["code"].as_str().expect("code").to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_creates_reads_updates_lists_and_deletes_a_cost_center() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);

    let response =
        admin.post(&cost_centers_of(customer), &json!({"code": "CC-4711", "name": " Outbound "})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let created_etag = etag_of(&response);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["code"], "CC-4711");
    assert_eq!(created["name"], "Outbound");
    assert_eq!(created["active"], true);
    assert_eq!(created["customer_id"], json!(customer));
    assert_eq!(location, format!("{}/{}", cost_centers_of(customer), id_of(&created)));

    let response = admin.get(&location).await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = etag_of(&response);
    assert_eq!(etag, created_etag);
    let fetched: Value = response.json().await.expect("json");
    assert_eq!(fetched, created);

    let response =
        admin.patch(&location, &json!({"name": "Outbound logistics", "active": false}), Some(&etag)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(etag_of(&response), etag, "a change moves the ETag");
    let updated: Value = response.json().await.expect("json");
    assert_eq!(updated["name"], "Outbound logistics");
    assert_eq!(updated["active"], false);
    assert_eq!(updated["code"], "CC-4711", "absent fields are unchanged");

    let list: Value = admin.get(&cost_centers_of(customer)).await.json().await.expect("list");
    assert_eq!(list["items"], json!([updated]));
    assert_eq!(list["next_cursor"], Value::Null);

    // The old ETag is stale now.
    problem(admin.delete(&location, Some(&etag)).await, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(admin.delete(&location, None).await.status(), StatusCode::NO_CONTENT);
    problem(admin.get(&location).await, StatusCode::NOT_FOUND).await;
    problem(admin.delete(&location, None).await, StatusCode::NOT_FOUND).await;

    let events = recorded_changes(&app, id_of(&created));
    let summary: Vec<(&str, &str, Option<Uuid>)> =
        events.iter().map(|(action, target, owner, _)| (action.as_str(), target.as_str(), *owner)).collect();
    assert_eq!(
        summary,
        [
            ("cost_center.created", "cost_center", Some(customer)),
            ("cost_center.updated", "cost_center", Some(customer)),
            ("cost_center.deleted", "cost_center", Some(customer)),
        ]
    );
    assert_eq!(
        events[0].3,
        json!({"code": {"to": "CC-4711"}, "name": {"to": "Outbound"}, "active": {"to": true}})
    );
    assert_eq!(
        events[1].3,
        json!({"name": {"from": "Outbound", "to": "Outbound logistics"}, "active": {"from": true, "to": false}})
    );
}

#[tokio::test]
async fn invalid_fields_are_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);

    let body = problem(
        admin.post(&cost_centers_of(customer), &json!({"code": "has spaces", "name": "   "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    fields.sort_unstable();
    fields.dedup();
    assert_eq!(fields, ["code", "name"]);

    let long_name = "x".repeat(201);
    let body = problem(
        admin.post(&cost_centers_of(customer), &json!({"code": "-starts-badly", "name": long_name})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["code", "name"]);

    let body = problem(
        admin.post(&cost_centers_of(customer), &json!({"code": "CC-1", "name": "Ok", "active": "yes"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "active");

    let created: Value = admin
        .post(&cost_centers_of(customer), &json!({"code": "CC-1", "name": "Ok"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", cost_centers_of(customer), id_of(&created));
    let body = problem(
        admin.patch(&path, &json!({"code": "a b", "name": ""}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    fields.sort_unstable();
    fields.dedup();
    assert_eq!(fields, ["code", "name"]);
    let unchanged: Value = admin.get(&path).await.json().await.expect("json");
    assert_eq!(unchanged, created);
    assert_eq!(app.actions(), ["customer.created", "cost_center.created"], "failed mutations write nothing");
}

#[tokio::test]
async fn codes_are_unique_within_a_customer_regardless_of_case_but_not_across_customers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let globex = id_of(&admin.create_customer("Globex").await);

    let first = admin.post(&cost_centers_of(acme), &json!({"code": "CC-1", "name": "One"})).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let body = problem(
        admin.post(&cost_centers_of(acme), &json!({"code": "CC-1", "name": "Again"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("code")), "{body}");
    problem(
        admin.post(&cost_centers_of(acme), &json!({"code": "cc-1", "name": "Lower case"})).await,
        StatusCode::CONFLICT,
    )
    .await;

    // Another customer may use the same code.
    let elsewhere = admin.post(&cost_centers_of(globex), &json!({"code": "CC-1", "name": "One"})).await;
    assert_eq!(elsewhere.status(), StatusCode::CREATED);

    // Renaming onto a taken code is a conflict too, and changes nothing.
    let second: Value = admin
        .post(&cost_centers_of(acme), &json!({"code": "CC-2", "name": "Two"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", cost_centers_of(acme), id_of(&second));
    problem(admin.patch(&path, &json!({"code": "Cc-1"}), None).await, StatusCode::CONFLICT).await;
    let unchanged: Value = admin.get(&path).await.json().await.expect("json");
    assert_eq!(unchanged, second);

    // A change of case only is the same code: allowed on itself.
    let response = admin.patch(&path, &json!({"code": "cc-2"}), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("json")["code"], "cc-2");

    assert_eq!(
        app.actions(),
        [
            "customer.created",
            "customer.created",
            "cost_center.created",
            "cost_center.created",
            "cost_center.created",
            "cost_center.updated",
        ],
        "the conflicts wrote no event"
    );
}

#[tokio::test]
async fn a_patch_with_a_stale_if_match_is_412_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let response = admin.post(&cost_centers_of(customer), &json!({"code": "CC-1", "name": "One"})).await;
    let stale = etag_of(&response);
    let created: Value = response.json().await.expect("json");
    let path = format!("{}/{}", cost_centers_of(customer), id_of(&created));

    let response = admin.patch(&path, &json!({"name": "First"}), Some(&stale)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let current = etag_of(&response);
    let after_first: Value = response.json().await.expect("json");

    problem(
        admin.patch(&path, &json!({"name": "Lost update"}), Some(&stale)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    let response = admin.get(&path).await;
    assert_eq!(etag_of(&response), current);
    assert_eq!(response.json::<Value>().await.expect("json"), after_first);

    // `*` and a list naming the current tag both match.
    let response = admin.patch(&path, &json!({"active": false}), Some("*")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let current = etag_of(&response);
    let listed = format!("{stale}, {current}");
    let response = admin.patch(&path, &json!({"active": true}), Some(&listed)).await;
    assert_eq!(response.status(), StatusCode::OK);

    assert_eq!(
        app.actions(),
        [
            "customer.created",
            "cost_center.created",
            "cost_center.updated",
            "cost_center.updated",
            "cost_center.updated"
        ]
    );
}

#[tokio::test]
async fn pages_of_two_have_no_duplicates_or_gaps_while_rows_are_inserted_between_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let other = id_of(&admin.create_customer("Other").await);
    let mut expected = Vec::new();
    for n in 0..5 {
        let created: Value = admin
            .post(&cost_centers_of(customer), &json!({"code": format!("CC-{n}"), "name": format!("No {n}")}))
            .await
            .json()
            .await
            .expect("json");
        expected.push(id_of(&created));
    }
    // Another customer's rows never show up.
    admin.post(&cost_centers_of(other), &json!({"code": "CC-X", "name": "Not yours"})).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("{}?limit=2&cursor={cursor}", cost_centers_of(customer)),
            None => format!("{}?limit=2", cost_centers_of(customer)),
        };
        let response = admin.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.expect("page");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(id_of));
        pages += 1;
        // A row added while paging comes after every existing one (ids are time-ordered), so
        // it appears on a later page exactly once.
        if pages == 1 {
            let created: Value = admin
                .post(&cost_centers_of(customer), &json!({"code": "CC-late", "name": "Late"}))
                .await
                .json()
                .await
                .expect("json");
            expected.push(id_of(&created));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(seen, expected, "every row once, in order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    assert_eq!(pages, 3);

    for (query, field) in [("limit=0", "limit"), ("limit=201", "limit"), ("cursor=nope", "cursor")] {
        let body = problem(
            admin.get(&format!("{}?{query}", cost_centers_of(customer))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field);
    }
    problem(admin.get(&format!("{}?active=maybe", cost_centers_of(customer))).await, StatusCode::BAD_REQUEST)
        .await;
}

#[tokio::test]
async fn the_list_filters_by_active_and_by_a_substring_of_code_or_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    for (code, name, active) in [
        ("NORTH-1", "Outbound north", true),
        ("SOUTH-1", "Outbound south", false),
        ("ADM_1", "Back office", true),
        ("ADMX1", "Front office", true),
    ] {
        let response = admin
            .post(&cost_centers_of(customer), &json!({"code": code, "name": name, "active": active}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(codes(&admin, customer, "active=true").await, ["NORTH-1", "ADM_1", "ADMX1"]);
    assert_eq!(codes(&admin, customer, "active=false").await, ["SOUTH-1"]);
    assert_eq!(codes(&admin, customer, "q=north").await, ["NORTH-1"], "code or name, ignoring case");
    assert_eq!(codes(&admin, customer, "q=OUTBOUND").await, ["NORTH-1", "SOUTH-1"]);
    assert_eq!(codes(&admin, customer, "q=outbound&active=false").await, ["SOUTH-1"]);
    assert_eq!(codes(&admin, customer, "q=m_1").await, ["ADM_1"], "`_` is literal");
    assert_eq!(codes(&admin, customer, "q=%25").await, Vec::<String>::new(), "`%` is literal");
}

#[tokio::test]
async fn a_customer_user_reads_cost_centers_and_manages_them_only_with_the_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let created: Value = admin
        .post(&cost_centers_of(customer), &json!({"code": "CC-1", "name": "One"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", cost_centers_of(customer), id_of(&created));

    let reader = app.customer_user(customer, Role::User, &[]).await;
    let list: Value = reader.get(&cost_centers_of(customer)).await.json().await.expect("list");
    assert_eq!(list["items"], json!([created]));
    assert_eq!(reader.get(&path).await.status(), StatusCode::OK);
    let body = problem(
        reader.post(&cost_centers_of(customer), &json!({"code": "CC-2", "name": "Two"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("cost_centers.manage")), "{body}");
    problem(reader.patch(&path, &json!({"name": "Mine"}), None).await, StatusCode::FORBIDDEN).await;
    problem(reader.delete(&path, None).await, StatusCode::FORBIDDEN).await;

    let manager = app.customer_user(customer, Role::User, &[Permission::CostCentersManage]).await;
    let response = manager.post(&cost_centers_of(customer), &json!({"code": "CC-2", "name": "Two"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second: Value = response.json().await.expect("json");
    let second_path = format!("{}/{}", cost_centers_of(customer), id_of(&second));
    assert_eq!(manager.patch(&second_path, &json!({"active": false}), None).await.status(), StatusCode::OK);
    assert_eq!(manager.delete(&second_path, None).await.status(), StatusCode::NO_CONTENT);

    let events = recorded_changes(&app, id_of(&second));
    assert_eq!(events.len(), 3);
    let actors: Vec<Option<Uuid>> = {
        use dockgate::db::schema::audit_events as ae;
        ae::table
            .filter(ae::target_id.eq(id_of(&second)))
            .select(ae::actor_id)
            .load(&mut app.conn())
            .expect("actors")
    };
    assert!(
        actors.iter().all(|actor| *actor == Some(manager.user_id)),
        "the manager is recorded as the actor"
    );
}

#[tokio::test]
async fn a_user_of_another_customer_gets_404_on_everything() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let globex = id_of(&admin.create_customer("Globex").await);
    let created: Value = admin
        .post(&cost_centers_of(acme), &json!({"code": "CC-1", "name": "One"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", cost_centers_of(acme), id_of(&created));

    let outsider = app.customer_user(globex, Role::Owner, &[Permission::CostCentersManage]).await;
    problem(outsider.get(&cost_centers_of(acme)).await, StatusCode::NOT_FOUND).await;
    problem(
        outsider.post(&cost_centers_of(acme), &json!({"code": "CC-9", "name": "Nine"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(outsider.get(&path).await, StatusCode::NOT_FOUND).await;
    problem(outsider.patch(&path, &json!({"name": "Mine"}), None).await, StatusCode::NOT_FOUND).await;
    problem(outsider.delete(&path, None).await, StatusCode::NOT_FOUND).await;

    // Under its own customer's path, the other customer's cost center does not exist either.
    let smuggled = format!("{}/{}", cost_centers_of(globex), id_of(&created));
    problem(outsider.get(&smuggled).await, StatusCode::NOT_FOUND).await;
    problem(outsider.patch(&smuggled, &json!({"name": "Mine"}), None).await, StatusCode::NOT_FOUND).await;
    problem(outsider.delete(&smuggled, None).await, StatusCode::NOT_FOUND).await;
    problem(admin.get(&smuggled).await, StatusCode::NOT_FOUND).await;

    let unchanged: Value = admin.get(&path).await.json().await.expect("json");
    assert_eq!(unchanged, created);
    assert_eq!(app.actions(), ["customer.created", "customer.created", "cost_center.created"]);
}

#[tokio::test]
async fn an_unknown_customer_is_404_for_listing_and_creating() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let unknown = Uuid::now_v7();
    problem(admin.get(&cost_centers_of(unknown)).await, StatusCode::NOT_FOUND).await;
    problem(
        admin.post(&cost_centers_of(unknown), &json!({"code": "CC-1", "name": "One"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        admin.get(&format!("{}/{}", cost_centers_of(unknown), Uuid::now_v7())).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(admin.get("/v1/customers/not-a-uuid/cost-centers").await, StatusCode::NOT_FOUND).await;
    assert!(app.audit_actions().is_empty());
}

#[tokio::test]
async fn an_audit_event_is_written_per_mutation_and_none_when_one_fails() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&admin.create_customer("Acme").await);
    let before = app.audit_actions().len();

    let created: Value = admin
        .post(&cost_centers_of(customer), &json!({"code": "CC-1", "name": "One"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", cost_centers_of(customer), id_of(&created));
    problem(
        admin.post(&cost_centers_of(customer), &json!({"code": "cc-1", "name": "Dup"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(
        admin.patch(&path, &json!({"name": "Two"}), Some("\"stale\"")).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    problem(admin.delete(&path, Some("\"stale\"")).await, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(admin.patch(&path, &json!({"name": "Two"}), None).await.status(), StatusCode::OK);
    assert_eq!(admin.delete(&path, None).await.status(), StatusCode::NO_CONTENT);

    let events: Vec<(String, Option<Uuid>)> = app.audit_actions().into_iter().skip(before).collect();
    let id = Some(id_of(&created));
    assert_eq!(
        events,
        [
            ("cost_center.created".to_owned(), id),
            ("cost_center.updated".to_owned(), id),
            ("cost_center.deleted".to_owned(), id),
        ]
    );
}
