//! Cost centers: codes unique per customer, merge-patch with ETags, pages, permissions.

use std::collections::HashSet;

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, id_of, problem};
use dockgate::permissions::{Permission, Role};

fn base(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/cost-centers")
}

fn etag_of(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().expect("etag").to_owned()
}

fn actions(app: &TestApp) -> Vec<String> {
    app.audit_actions().into_iter().map(|(action, _)| action).collect()
}

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
async fn codes(app: &TestApp, token: &str, customer: Uuid, query: &str) -> Vec<String> {
    let list: Value =
        app.get(&format!("{}?{query}", base(customer)), token).await.json().await.expect("list");
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
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);

    let response = app
        .post(&base(customer), &admin.access_token, &json!({"code": "CC-4711", "name": " Outbound "}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let created_etag = etag_of(&response);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["code"], "CC-4711");
    assert_eq!(created["name"], "Outbound");
    assert_eq!(created["active"], true);
    assert_eq!(created["customer_id"], json!(customer));
    assert_eq!(location, format!("{}/{}", base(customer), id_of(&created)));

    let response = app.get(&location, &admin.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = etag_of(&response);
    assert_eq!(etag, created_etag);
    let fetched: Value = response.json().await.expect("json");
    assert_eq!(fetched, created);

    let response = app
        .patch(
            &location,
            &admin.access_token,
            &json!({"name": "Outbound logistics", "active": false}),
            Some(&etag),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(etag_of(&response), etag, "a change moves the ETag");
    let updated: Value = response.json().await.expect("json");
    assert_eq!(updated["name"], "Outbound logistics");
    assert_eq!(updated["active"], false);
    assert_eq!(updated["code"], "CC-4711", "absent fields are unchanged");

    let list: Value = app.get(&base(customer), &admin.access_token).await.json().await.expect("list");
    assert_eq!(list["items"], json!([updated]));
    assert_eq!(list["next_cursor"], Value::Null);

    // The old ETag is stale now.
    problem(app.delete(&location, &admin.access_token, Some(&etag)).await, StatusCode::PRECONDITION_FAILED)
        .await;
    assert_eq!(app.delete(&location, &admin.access_token, None).await.status(), StatusCode::NO_CONTENT);
    problem(app.get(&location, &admin.access_token).await, StatusCode::NOT_FOUND).await;
    problem(app.delete(&location, &admin.access_token, None).await, StatusCode::NOT_FOUND).await;

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
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);

    let body = problem(
        app.post(&base(customer), &admin.access_token, &json!({"code": "has spaces", "name": "   "})).await,
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
        app.post(&base(customer), &admin.access_token, &json!({"code": "-starts-badly", "name": long_name}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["code", "name"]);

    let body = problem(
        app.post(
            &base(customer),
            &admin.access_token,
            &json!({"code": "CC-1", "name": "Ok", "active": "yes"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "active");

    let created: Value = app
        .post(&base(customer), &admin.access_token, &json!({"code": "CC-1", "name": "Ok"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", base(customer), id_of(&created));
    let body = problem(
        app.patch(&path, &admin.access_token, &json!({"code": "a b", "name": ""}), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    fields.sort_unstable();
    fields.dedup();
    assert_eq!(fields, ["code", "name"]);
    let unchanged: Value = app.get(&path, &admin.access_token).await.json().await.expect("json");
    assert_eq!(unchanged, created);
    assert_eq!(actions(&app), ["customer.created", "cost_center.created"], "failed mutations write nothing");
}

#[tokio::test]
async fn codes_are_unique_within_a_customer_regardless_of_case_but_not_across_customers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let globex = id_of(&app.create_customer(&admin.access_token, "Globex").await);

    let first = app.post(&base(acme), &admin.access_token, &json!({"code": "CC-1", "name": "One"})).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let body = problem(
        app.post(&base(acme), &admin.access_token, &json!({"code": "CC-1", "name": "Again"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("code")), "{body}");
    problem(
        app.post(&base(acme), &admin.access_token, &json!({"code": "cc-1", "name": "Lower case"})).await,
        StatusCode::CONFLICT,
    )
    .await;

    // Another customer may use the same code.
    let elsewhere =
        app.post(&base(globex), &admin.access_token, &json!({"code": "CC-1", "name": "One"})).await;
    assert_eq!(elsewhere.status(), StatusCode::CREATED);

    // Renaming onto a taken code is a conflict too, and changes nothing.
    let second: Value = app
        .post(&base(acme), &admin.access_token, &json!({"code": "CC-2", "name": "Two"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", base(acme), id_of(&second));
    problem(
        app.patch(&path, &admin.access_token, &json!({"code": "Cc-1"}), None).await,
        StatusCode::CONFLICT,
    )
    .await;
    let unchanged: Value = app.get(&path, &admin.access_token).await.json().await.expect("json");
    assert_eq!(unchanged, second);

    // A change of case only is the same code: allowed on itself.
    let response = app.patch(&path, &admin.access_token, &json!({"code": "cc-2"}), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("json")["code"], "cc-2");

    assert_eq!(
        actions(&app),
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
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let response =
        app.post(&base(customer), &admin.access_token, &json!({"code": "CC-1", "name": "One"})).await;
    let stale = etag_of(&response);
    let created: Value = response.json().await.expect("json");
    let path = format!("{}/{}", base(customer), id_of(&created));

    let response = app.patch(&path, &admin.access_token, &json!({"name": "First"}), Some(&stale)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let current = etag_of(&response);
    let after_first: Value = response.json().await.expect("json");

    problem(
        app.patch(&path, &admin.access_token, &json!({"name": "Lost update"}), Some(&stale)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    let response = app.get(&path, &admin.access_token).await;
    assert_eq!(etag_of(&response), current);
    assert_eq!(response.json::<Value>().await.expect("json"), after_first);

    // `*` and a list naming the current tag both match.
    let response = app.patch(&path, &admin.access_token, &json!({"active": false}), Some("*")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let current = etag_of(&response);
    let listed = format!("{stale}, {current}");
    let response = app.patch(&path, &admin.access_token, &json!({"active": true}), Some(&listed)).await;
    assert_eq!(response.status(), StatusCode::OK);

    assert_eq!(
        actions(&app),
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
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let other = id_of(&app.create_customer(&admin.access_token, "Other").await);
    let mut expected = Vec::new();
    for n in 0..5 {
        let created: Value = app
            .post(
                &base(customer),
                &admin.access_token,
                &json!({"code": format!("CC-{n}"), "name": format!("No {n}")}),
            )
            .await
            .json()
            .await
            .expect("json");
        expected.push(id_of(&created));
    }
    // Another customer's rows never show up.
    app.post(&base(other), &admin.access_token, &json!({"code": "CC-X", "name": "Not yours"})).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("{}?limit=2&cursor={cursor}", base(customer)),
            None => format!("{}?limit=2", base(customer)),
        };
        let response = app.get(&path, &admin.access_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.expect("page");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(id_of));
        pages += 1;
        // A row added while paging comes after every existing one (ids are time-ordered), so
        // it appears on a later page exactly once.
        if pages == 1 {
            let created: Value = app
                .post(&base(customer), &admin.access_token, &json!({"code": "CC-late", "name": "Late"}))
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
            app.get(&format!("{}?{query}", base(customer)), &admin.access_token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field);
    }
    problem(
        app.get(&format!("{}?active=maybe", base(customer)), &admin.access_token).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn the_list_filters_by_active_and_by_a_substring_of_code_or_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    for (code, name, active) in [
        ("NORTH-1", "Outbound north", true),
        ("SOUTH-1", "Outbound south", false),
        ("ADM_1", "Back office", true),
        ("ADMX1", "Front office", true),
    ] {
        let response = app
            .post(
                &base(customer),
                &admin.access_token,
                &json!({"code": code, "name": name, "active": active}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let token = &admin.access_token;
    assert_eq!(codes(&app, token, customer, "active=true").await, ["NORTH-1", "ADM_1", "ADMX1"]);
    assert_eq!(codes(&app, token, customer, "active=false").await, ["SOUTH-1"]);
    assert_eq!(codes(&app, token, customer, "q=north").await, ["NORTH-1"], "code or name, ignoring case");
    assert_eq!(codes(&app, token, customer, "q=OUTBOUND").await, ["NORTH-1", "SOUTH-1"]);
    assert_eq!(codes(&app, token, customer, "q=outbound&active=false").await, ["SOUTH-1"]);
    assert_eq!(codes(&app, token, customer, "q=m_1").await, ["ADM_1"], "`_` is literal");
    assert_eq!(codes(&app, token, customer, "q=%25").await, Vec::<String>::new(), "`%` is literal");
}

#[tokio::test]
async fn a_customer_user_reads_cost_centers_and_manages_them_only_with_the_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let created: Value = app
        .post(&base(customer), &admin.access_token, &json!({"code": "CC-1", "name": "One"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", base(customer), id_of(&created));

    let reader = app.customer_user(customer, Role::User, &[]).await;
    let list: Value = app.get(&base(customer), &reader.access_token).await.json().await.expect("list");
    assert_eq!(list["items"], json!([created]));
    assert_eq!(app.get(&path, &reader.access_token).await.status(), StatusCode::OK);
    let body = problem(
        app.post(&base(customer), &reader.access_token, &json!({"code": "CC-2", "name": "Two"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("cost_centers.manage")), "{body}");
    problem(
        app.patch(&path, &reader.access_token, &json!({"name": "Mine"}), None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(app.delete(&path, &reader.access_token, None).await, StatusCode::FORBIDDEN).await;

    let manager = app.customer_user(customer, Role::User, &[Permission::CostCentersManage]).await;
    let response =
        app.post(&base(customer), &manager.access_token, &json!({"code": "CC-2", "name": "Two"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let second: Value = response.json().await.expect("json");
    let second_path = format!("{}/{}", base(customer), id_of(&second));
    assert_eq!(
        app.patch(&second_path, &manager.access_token, &json!({"active": false}), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.delete(&second_path, &manager.access_token, None).await.status(), StatusCode::NO_CONTENT);

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
    let acme = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let globex = id_of(&app.create_customer(&admin.access_token, "Globex").await);
    let created: Value = app
        .post(&base(acme), &admin.access_token, &json!({"code": "CC-1", "name": "One"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", base(acme), id_of(&created));

    let outsider = app.customer_user(globex, Role::Owner, &[Permission::CostCentersManage]).await;
    let token = &outsider.access_token;
    problem(app.get(&base(acme), token).await, StatusCode::NOT_FOUND).await;
    problem(
        app.post(&base(acme), token, &json!({"code": "CC-9", "name": "Nine"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(app.get(&path, token).await, StatusCode::NOT_FOUND).await;
    problem(app.patch(&path, token, &json!({"name": "Mine"}), None).await, StatusCode::NOT_FOUND).await;
    problem(app.delete(&path, token, None).await, StatusCode::NOT_FOUND).await;

    // Under its own customer's path, the other customer's cost center does not exist either.
    let smuggled = format!("{}/{}", base(globex), id_of(&created));
    problem(app.get(&smuggled, token).await, StatusCode::NOT_FOUND).await;
    problem(app.patch(&smuggled, token, &json!({"name": "Mine"}), None).await, StatusCode::NOT_FOUND).await;
    problem(app.delete(&smuggled, token, None).await, StatusCode::NOT_FOUND).await;
    problem(app.get(&smuggled, &admin.access_token).await, StatusCode::NOT_FOUND).await;

    let unchanged: Value = app.get(&path, &admin.access_token).await.json().await.expect("json");
    assert_eq!(unchanged, created);
    assert_eq!(actions(&app), ["customer.created", "customer.created", "cost_center.created"]);
}

#[tokio::test]
async fn an_unknown_customer_is_404_for_listing_and_creating() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let unknown = Uuid::now_v7();
    problem(app.get(&base(unknown), &admin.access_token).await, StatusCode::NOT_FOUND).await;
    problem(
        app.post(&base(unknown), &admin.access_token, &json!({"code": "CC-1", "name": "One"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("{}/{}", base(unknown), Uuid::now_v7()), &admin.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get("/v1/customers/not-a-uuid/cost-centers", &admin.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(app.audit_actions().is_empty());
}

#[tokio::test]
async fn an_audit_event_is_written_per_mutation_and_none_when_one_fails() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = id_of(&app.create_customer(&admin.access_token, "Acme").await);
    let before = app.audit_actions().len();

    let created: Value = app
        .post(&base(customer), &admin.access_token, &json!({"code": "CC-1", "name": "One"}))
        .await
        .json()
        .await
        .expect("json");
    let path = format!("{}/{}", base(customer), id_of(&created));
    problem(
        app.post(&base(customer), &admin.access_token, &json!({"code": "cc-1", "name": "Dup"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(
        app.patch(&path, &admin.access_token, &json!({"name": "Two"}), Some("\"stale\"")).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    problem(app.delete(&path, &admin.access_token, Some("\"stale\"")).await, StatusCode::PRECONDITION_FAILED)
        .await;
    assert_eq!(
        app.patch(&path, &admin.access_token, &json!({"name": "Two"}), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.delete(&path, &admin.access_token, None).await.status(), StatusCode::NO_CONTENT);

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
