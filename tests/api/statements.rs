//! Statement budgets (issue 17): how many SQL statements an endpoint sends, `BEGIN` and
//! `COMMIT` included, read from the `Server-Timing` header the test apps switch on. Each
//! budget is at most the ceiling (tighter where the service does better: then the
//! ceiling is named beside it), so a change that adds a round trip to a hot path fails here
//! rather than in a benchmark nobody runs.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// The statements a response says its request took.
fn statements(response: &Response) -> u32 {
    let header = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .expect("a Server-Timing header (SERVER_TIMING is on in tests)");
    let count = header.split("desc=\"").nth(1).and_then(|rest| rest.split(' ').next());
    count.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("a statement count in {header:?}"))
}

/// Sends a request and checks it answered `status` within `budget` statements.
async fn within(what: &str, budget: u32, status: StatusCode, response: Response) -> Value {
    let used = statements(&response);
    let answered = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(answered, status, "{what}: {body}");
    assert!(used <= budget, "{what} took {used} statements; its budget is {budget}");
    println!("{what}: {used} statements (budget {budget})");
    body
}

/// A customer with two groups, addresses in each, and people in the groups with addresses of
/// their own: what the lists have to join.
struct Depot {
    customer: Uuid,
    north: Uuid,
}

async fn depot(admin: &Actor) -> Depot {
    let customer = id_of(&admin.create_customer("Statement Logistics").await);
    let north = admin.add_group(customer, "North").await;
    let south = admin.add_group(customer, "South").await;
    let dock = id_of(&admin.add_address(customer, "North dock", Some(north)).await);
    admin.add_address(customer, "South dock", Some(south)).await;
    admin.add_address(customer, "Head office", None).await;
    for i in 0..12 {
        let group = if i % 2 == 0 { north } else { south };
        let mut extra = json!({"group_ids": [group]});
        if i % 3 == 0 {
            extra["warehouse_address_id"] = json!(dock);
        }
        admin.add_person(customer, &format!("Driver{i}"), extra).await;
    }
    Depot { customer, north }
}

#[tokio::test]
async fn who_is_calling_costs_one_statement_me_one_and_the_check_two() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let depot = depot(&admin).await;
    let member = admin.add_person(depot.customer, "GroupedReader", json!({"group_ids": [depot.north]})).await;
    let member = app.sign_in_member(&member).await;

    // The ceiling is 2; everything /v1/me shows is read with the session.
    let me = within("GET /v1/me (grouped person)", 1, StatusCode::OK, member.get("/v1/me").await).await;
    assert_eq!(me["customer"]["name"], "Statement Logistics", "{me}");
    assert_eq!(me["groups"], json!([depot.north]), "{me}");
    within("GET /v1/me (staff)", 1, StatusCode::OK, admin.get("/v1/me").await).await;
    let check = json!({"permission": "orders.view", "customer_id": depot.customer, "group_id": depot.north});
    within("POST /v1/authz/check", 2, StatusCode::OK, member.post("/v1/authz/check", &check).await).await;
}

#[tokio::test]
async fn a_users_page_and_an_address_page_cost_two_statements() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let depot = depot(&admin).await;

    // The ceiling is 3: the default address and the memberships come with the page.
    let first = within(
        "users page 1",
        2,
        StatusCode::OK,
        admin.get(&format!("{}?limit=5", users_of(depot.customer))).await,
    )
    .await;
    let items = first["items"].as_array().expect("items");
    assert!(
        items.iter().all(|u| u["warehouse_address_id"].is_string()),
        "own or the default address: {first}"
    );
    assert!(items.iter().any(|u| u["group_ids"].as_array().is_some_and(|g| g.len() == 1)), "{first}");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    within(
        "users page 2",
        2,
        StatusCode::OK,
        admin.get(&format!("{}?limit=5&cursor={cursor}", users_of(depot.customer))).await,
    )
    .await;

    let reader = admin.add_person(depot.customer, "AddressReader", json!({"group_ids": [depot.north]})).await;
    let reader = app.sign_in_member(&reader).await;
    let page = within(
        "addresses as a group-limited person",
        2,
        StatusCode::OK,
        reader.get(&addresses_of(depot.customer)).await,
    )
    .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "its group's address and the untagged one");
}

#[tokio::test]
async fn signing_in_and_refreshing_stay_within_their_budgets() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let depot = depot(&admin).await;
    let member = admin.add_person(depot.customer, "CountedSignIn", json!({"group_ids": [depot.north]})).await;

    // Staff, and a groups-scoped customer user: the customer's gate and the groups are the
    // parts a staff sign-in does not have.
    let people = [
        ("staff", admin.email.clone(), admin.password.clone()),
        (
            "grouped person",
            member["email"].as_str().expect("an e-mail").to_owned(),
            MEMBER_PASSWORD.to_owned(),
        ),
    ];
    for (who, email, password) in people {
        let login = json!({"email": email, "password": password});
        let pair = within(
            &format!("POST /v1/auth/login ({who})"),
            7,
            StatusCode::OK,
            app.post_json("/v1/auth/login", &login).await,
        )
        .await;
        let signed_in = app.holder_of(&pair);
        let again =
            within(&format!("POST /v1/auth/refresh ({who})"), 6, StatusCode::OK, signed_in.refresh().await)
                .await;
        assert!(again["access_token"].is_string(), "{again}");
    }
}

#[tokio::test]
async fn adding_a_person_stays_within_its_budget() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let depot = depot(&admin).await;

    let body = json!({"name": "Counted driver", "group_ids": [depot.north]});
    within(
        "POST users (no login)",
        7,
        StatusCode::CREATED,
        admin.post(&users_of(depot.customer), &body).await,
    )
    .await;
}

#[tokio::test]
async fn a_bulk_invitation_is_set_based() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let depot = depot(&admin).await;
    for (count, budget) in [(10, 12), (100, 30)] {
        let emails: Vec<String> = (0..count).map(|_| unique_email("bulk")).collect();
        let body = json!({"emails": emails, "role": "user", "group_ids": [depot.north]});
        let answer = within(
            &format!("an invitation of {count} addresses"),
            budget,
            StatusCode::OK,
            admin.post(&invitations_of(depot.customer), &body).await,
        )
        .await;
        let invited =
            answer["results"].as_array().expect("results").iter().filter(|r| r["outcome"] == "invited");
        assert_eq!(invited.count(), count, "{answer}");
    }
}
