//! Bulk import (issue 13): a customer's first load of people from its ERP, as a JSON array or a
//! CSV file; the good rows are written, the bad ones reported, and a dry run writes nothing.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, field_errors, id_of, json_of, problem, unique_email, users_of};

fn import_path(customer: Uuid, query: &str) -> String {
    format!("/v1/customers/{customer}/users/import{query}")
}

async fn import_json(actor: &Actor, customer: Uuid, query: &str, rows: &Value) -> Response {
    actor.request(Method::POST, &import_path(customer, query)).json(rows).send().await.expect("request")
}

async fn import_csv(actor: &Actor, customer: Uuid, query: &str, csv: &str, accept: &str) -> Response {
    actor
        .request(Method::POST, &import_path(customer, query))
        .header("content-type", "text/csv")
        .header("accept", accept)
        .body(csv.to_owned())
        .send()
        .await
        .expect("request")
}

fn outcomes(report: &Value) -> Vec<String> {
    report["rows"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap().to_owned()).collect()
}

/// Everything an import could leave behind: people, audit events, mails.
async fn footprint(app: &TestApp, admin: &Actor, customer: Uuid) -> (usize, usize, usize) {
    (admin.walk(&users_of(customer), 100).await.len(), app.actions().len(), app.outbox().len())
}

#[tokio::test]
async fn a_json_import_writes_the_good_rows_and_reports_the_bad_ones() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let (jana, piet) = (unique_email("jana"), unique_email("piet"));
    let rows = json!([
        {"name": "Jana Berg", "email": jana, "external_id": "ERP-1", "send_mail": true},
        {"name": "Bad Grant", "permissions": ["users.manage"]},
        {"name": "Contact Only", "phone": "+49 40 123456", "external_id": "ERP-3"},
        {"name": "Twice", "email": jana.to_uppercase(), "send_mail": true},
        {"name": "Key Twice", "external_id": "erp-1"},
        {"name": "With Password", "email": piet, "password": "a long import passphrase"},
        "not an object",
        {"name": "Piet", "email": piet, "send_mail": true, "role": "admin"},
    ]);
    let before = footprint(&app, &admin, acme).await;
    let report = json_of(import_json(&admin, acme, "", &rows).await, StatusCode::OK).await;

    assert_eq!(report["summary"], json!({"created": 3, "updated": 0, "unchanged": 0, "failed": 5}));
    assert_eq!(
        outcomes(&report),
        ["created", "failed", "created", "failed", "failed", "failed", "failed", "created"]
    );
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows[0]["row"], 1);
    assert_eq!(rows[0]["external_id"], "ERP-1");
    assert_eq!(rows[0]["errors"], Value::Null);
    assert_eq!(rows[1]["user_id"], Value::Null, "every field is sent, null when absent");
    assert_eq!(rows[1]["errors"][0]["field"], "permissions[0]");
    assert_eq!(rows[1]["errors"][0]["code"], "not_grantable");
    assert_eq!(rows[3]["errors"][0]["type"], "urn:dockgate:problem:email-taken");
    assert!(rows[3]["errors"][0]["message"].as_str().unwrap().contains("Row 1"), "{}", rows[3]);
    assert_eq!(rows[4]["errors"][0]["type"], "urn:dockgate:problem:external-id-taken");
    assert_eq!(rows[5]["errors"][0]["field"], "password");
    assert_eq!(rows[5]["errors"][0]["code"], "unknown_field");
    assert_eq!(rows[6]["errors"][0]["code"], "type");

    let created: Vec<Uuid> =
        [0, 2, 7].iter().map(|i| rows[*i]["user_id"].as_str().unwrap().parse().unwrap()).collect();
    for id in &created {
        assert_eq!(app.actions_on(*id), ["user.created"], "each written row has its event");
    }
    let after = footprint(&app, &admin, acme).await;
    assert_eq!(after.0, before.0 + 3);
    assert_eq!(after.2, before.2 + 2, "two welcome mails through the outbox");
    assert_eq!((app.mails_to(&jana), app.mails_to(&piet)), (1, 1));
    let piet_view = admin.get_user(acme, created[2]).await;
    assert_eq!(piet_view["role"], "admin");
    assert_eq!(piet_view["password_set"], false, "Piet chooses a password through the welcome link");
}

#[tokio::test]
async fn a_csv_with_a_bom_and_crlf_line_ends_is_read_like_json() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let group = admin.add_group(acme, "Depot North").await;
    let email = unique_email("csv");
    let csv = format!(
        "\u{feff}name,email,external_id,permissions,group_ids,send_mail\r\n\
         Jana Berg,{email},ERP-10,orders.view;tracking.view,{group},TRUE\r\n\
         \"Berg, Piet\",,ERP-11,,,\r\n\
         Broken,,ERP-12,orders.view,,maybe\r\n"
    );
    let report = json_of(import_csv(&admin, acme, "", &csv, "application/json").await, StatusCode::OK).await;
    assert_eq!(outcomes(&report), ["created", "created", "failed"], "{report}");
    assert_eq!(report["rows"][2]["errors"][0]["field"], "send_mail");
    let jana: Uuid = report["rows"][0]["user_id"].as_str().unwrap().parse().unwrap();
    let jana = admin.get_user(acme, jana).await;
    assert_eq!(jana["permissions"], json!(["orders.view", "tracking.view"]));
    assert_eq!(jana["group_ids"], json!([group]));
    assert_eq!(jana["email"], email.as_str());
    let piet: Uuid = report["rows"][1]["user_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(admin.get_user(acme, piet).await["name"], "Berg, Piet");

    let unknown = "name,password,shoe_size\r\nX,secret secret secret,44\r\n";
    let body = problem(
        import_csv(&admin, acme, "", unknown, "application/json").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&body),
        [
            ("password".to_owned(), "not_allowed".to_owned()),
            ("shoe_size".to_owned(), "unknown_field".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let taken = admin.add_person(acme, "Taken", json!({})).await;
    let rows = json!([
        {"name": "New One", "email": unique_email("new"), "send_mail": true},
        {"name": "Taken Again", "email": taken["email"], "send_mail": true},
        {"name": "Contact"},
    ]);
    let before = footprint(&app, &admin, acme).await;
    let report = json_of(import_json(&admin, acme, "?dry_run=true", &rows).await, StatusCode::OK).await;
    assert_eq!(outcomes(&report), ["created", "failed", "created"], "the database's own checks ran");
    assert_eq!(report["rows"][1]["errors"][0]["type"], "urn:dockgate:problem:email-taken");
    assert_eq!(report["rows"][0]["user_id"], Value::Null, "nobody was created to name");
    assert_eq!(footprint(&app, &admin, acme).await, before, "no person, no event, no mail");
}

#[tokio::test]
async fn more_than_ten_thousand_rows_are_refused_whole() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    // Long names make the body larger than the 1 MiB every other route takes.
    let name = "N".repeat(190);
    let rows: Vec<Value> = (0..10_001).map(|_| json!({"name": name})).collect();
    let body = serde_json::to_vec(&rows).unwrap();
    assert!(body.len() > 1024 * 1024);
    let before = footprint(&app, &admin, acme).await;
    let answer = import_json(&admin, acme, "", &Value::Array(rows)).await;
    let refused = problem(answer, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(refused["detail"].as_str().unwrap().contains("10000 rows"), "{refused}");
    assert_eq!(footprint(&app, &admin, acme).await, before);

    let huge = format!("[{}]", " ".repeat(16 * 1024 * 1024));
    let answer = admin
        .request(Method::POST, &import_path(acme, ""))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    problem(answer, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn upsert_mode_finds_people_by_external_id_else_by_email() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let keyed = admin.add_user(acme, json!({"name": "Keyed", "external_id": "ERP-20"})).await;
    let mailed = admin.add_person(acme, "Mailed", json!({"external_id": "ERP-21"})).await;
    let same = admin.add_user(acme, json!({"name": "Same", "external_id": "ERP-22"})).await;
    let rows = json!([
        {"name": "Keyed Renamed", "external_id": "erp-20"},
        {"name": "Mailed Renamed", "email": mailed["email"]},
        {"name": "Same", "external_id": "ERP-22"},
        {"name": "Brand New", "external_id": "ERP-23"},
        {"name": "Nobody To Find"},
    ]);
    let report = json_of(import_json(&admin, acme, "?mode=upsert", &rows).await, StatusCode::OK).await;
    assert_eq!(outcomes(&report), ["updated", "updated", "unchanged", "created", "failed"], "{report}");
    assert_eq!(report["summary"], json!({"created": 1, "updated": 2, "unchanged": 1, "failed": 1}));
    assert_eq!(report["rows"][0]["user_id"], keyed["id"]);
    assert_eq!(report["rows"][1]["user_id"], mailed["id"]);
    assert_eq!(report["rows"][2]["user_id"], same["id"]);
    let mailed_now = admin.get_user(acme, id_of(&mailed)).await;
    assert_eq!(mailed_now["name"], "Mailed Renamed");
    assert_eq!(mailed_now["external_id"], "ERP-21", "a row keyed by e-mail keeps the person's key");
    assert_eq!(mailed_now["password_set"], true);
    assert_eq!(app.actions_on(id_of(&same)), ["user.created"], "unchanged is no event");
    assert_eq!(admin.get_user(acme, id_of(&same)).await["updated_at"], same["updated_at"]);

    // In create mode the same key is a conflict of that row only.
    let again = json_of(
        import_json(&admin, acme, "?mode=create", &json!([{"name": "X", "external_id": "ERP-20"}])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["rows"][0]["errors"][0]["type"], "urn:dockgate:problem:external-id-taken");
}

#[tokio::test]
async fn the_csv_report_defuses_formulas() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let csv = "name,external_id,email\r\n\
               =cmd|' /C calc'!A0,=HYPERLINK(\"http://evil.example\"),@SUM(1+1)\r\n\
               Fine,+ERP-1,\r\n";
    let response = import_csv(&admin, acme, "", csv, "text/csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["row", "external_id", "email", "outcome", "user_id", "errors"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&records[0][1], "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(&records[0][2], "'@SUM(1+1)");
    assert_eq!(&records[0][3], "failed", "not an e-mail address");
    assert!(records[0][5].starts_with("email: "), "{:?}", &records[0]);
    assert_eq!(&records[1][1], "'+ERP-1");
    assert_eq!(&records[1][3], "created");
    for record in &records {
        for cell in record {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell}");
        }
    }
}

#[tokio::test]
async fn an_import_needs_the_right_to_manage_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.customer_with_address("Acme").await;
    let user = app.customer_user(acme, dockgate::permissions::Role::User, &[]).await;
    let rows = json!([{"name": "Sneaky"}]);
    problem(import_json(&user, acme, "", &rows).await, StatusCode::FORBIDDEN).await;
    let customer_admin = app.customer_user(acme, dockgate::permissions::Role::Admin, &[]).await;
    let report = json_of(import_json(&customer_admin, acme, "", &rows).await, StatusCode::OK).await;
    assert_eq!(outcomes(&report), ["created"]);
    let xml = admin
        .request(Method::POST, &import_path(acme, ""))
        .header("content-type", "application/xml")
        .body("<rows/>")
        .send()
        .await
        .unwrap();
    problem(xml, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let not_array = import_json(&admin, acme, "", &json!({"name": "X"})).await;
    problem(not_array, StatusCode::UNPROCESSABLE_ENTITY).await;
}
