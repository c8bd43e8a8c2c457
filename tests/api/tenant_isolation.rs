//! Another customer's data is a 404 for everyone who cannot see it: a dispatcher scoped to
//! other customers, and every kind of customer user of another customer. A new resource joins
//! the matrix by adding its endpoints to `ENDPOINTS`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, TestApp, id_of, problem};

use dockgate::permissions::{Permission, Role};

/// Every endpoint under a customer: method, path (`{customer}`, `{address}`, `{cost_center}`,
/// `{user}`, `{group}`, `{invitation}` are the victim's), and a body that would be valid.
const ENDPOINTS: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/v1/customers/{customer}", None),
    ("PATCH", "/v1/customers/{customer}", Some(r#"{"name": "Taken over"}"#)),
    ("DELETE", "/v1/customers/{customer}", None),
    ("GET", "/v1/customers/{customer}/warehouse-addresses", None),
    (
        "POST",
        "/v1/customers/{customer}/warehouse-addresses",
        Some(r#"{"label": "X", "line1": "X 1", "city": "X", "country": "DE"}"#),
    ),
    ("GET", "/v1/customers/{customer}/warehouse-addresses/{address}", None),
    ("PATCH", "/v1/customers/{customer}/warehouse-addresses/{address}", Some(r#"{"is_default": true}"#)),
    ("DELETE", "/v1/customers/{customer}/warehouse-addresses/{address}", None),
    ("GET", "/v1/customers/{customer}/cost-centers", None),
    ("POST", "/v1/customers/{customer}/cost-centers", Some(r#"{"code": "CC-9", "name": "Stolen"}"#)),
    ("GET", "/v1/customers/{customer}/cost-centers/{cost_center}", None),
    ("PATCH", "/v1/customers/{customer}/cost-centers/{cost_center}", Some(r#"{"name": "Stolen"}"#)),
    ("DELETE", "/v1/customers/{customer}/cost-centers/{cost_center}", None),
    ("GET", "/v1/audit-events?customer_id={customer}", None),
    ("GET", "/v1/customers/{customer}/users", None),
    ("POST", "/v1/customers/{customer}/users", Some(r#"{"name": "Mole"}"#)),
    ("GET", "/v1/customers/{customer}/users/{user}", None),
    ("PATCH", "/v1/customers/{customer}/users/{user}", Some(r#"{"name": "Renamed"}"#)),
    ("DELETE", "/v1/customers/{customer}/users/{user}", None),
    ("POST", "/v1/customers/{customer}/users/{user}/deactivate", None),
    ("POST", "/v1/customers/{customer}/users/{user}/reactivate", None),
    (
        "POST",
        "/v1/customers/{customer}/users/{user}/password",
        Some(r#"{"password": "a stolen passphrase here"}"#),
    ),
    ("POST", "/v1/customers/{customer}/users/{user}/password-reset", None),
    ("POST", "/v1/customers/{customer}/owner", Some(r#"{"user_id": "{user}"}"#)),
    ("GET", "/v1/customers/{customer}/groups", None),
    ("POST", "/v1/customers/{customer}/groups", Some(r#"{"name": "Infiltrators"}"#)),
    ("GET", "/v1/customers/{customer}/groups/{group}", None),
    ("PATCH", "/v1/customers/{customer}/groups/{group}", Some(r#"{"name": "Renamed"}"#)),
    ("DELETE", "/v1/customers/{customer}/groups/{group}?confirm=true", None),
    ("GET", "/v1/customers/{customer}/groups/{group}/members", None),
    ("GET", "/v1/customers/{customer}/users?group_id={group}", None),
    ("GET", "/v1/customers/{customer}/invitations", None),
    ("POST", "/v1/customers/{customer}/invitations", Some(r#"{"emails": ["mole@attacker.example"]}"#)),
    ("GET", "/v1/customers/{customer}/invitations/{invitation}", None),
    ("POST", "/v1/customers/{customer}/invitations/{invitation}/resend", None),
    ("DELETE", "/v1/customers/{customer}/invitations/{invitation}", None),
];

struct Victim {
    customer: Uuid,
    address: Uuid,
    cost_center: Uuid,
    user: Uuid,
    group: Uuid,
    invitation: Uuid,
}

async fn victim(staff: &Actor) -> Victim {
    let customer = id_of(&staff.create_customer("Victim").await);
    let address = id_of(&staff.add_address(customer, "V", None).await);
    let cost_center = staff.add_cost_center(customer, "CC-1", true).await;
    let group = staff.add_group(customer, "Victim depot").await;
    let user = staff
        .add_user(
            customer,
            json!({"name": "Victim User", "email": "victim.user@victim.example",
                "password": "victim passphrase 1", "group_ids": [group]}),
        )
        .await;
    let invitation = id_of(&staff.invite_one(customer, "invitee@victim.example").await);
    Victim { customer, address, cost_center, user: id_of(&user), group, invitation }
}

async fn assert_all_not_found(who: &str, attacker: &Actor, victim: &Victim) {
    for (method, template, body) in ENDPOINTS {
        let fill = |text: &str| {
            text.replace("{customer}", &victim.customer.to_string())
                .replace("{address}", &victim.address.to_string())
                .replace("{cost_center}", &victim.cost_center.to_string())
                .replace("{user}", &victim.user.to_string())
                .replace("{group}", &victim.group.to_string())
                .replace("{invitation}", &victim.invitation.to_string())
        };
        let path = fill(template);
        let response = attacker.send(method, &path, body.map(fill).as_deref()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{who}: {method} {path}");
        let body = problem(response, StatusCode::NOT_FOUND).await;
        assert_eq!(
            body["detail"], "The resource does not exist or is not visible to you.",
            "{who}: same text as a missing resource"
        );
    }
    // Asking instead of acting tells nothing more: the victim's customer is simply not allowed.
    for group in [None, Some(victim.group)] {
        let answer = attacker.check("orders.view", victim.customer, group).await;
        assert_eq!(answer, json!({"allowed": false, "reason": "customer_not_visible"}), "{who}");
    }
}

#[tokio::test]
async fn nobody_outside_a_customer_can_see_or_touch_its_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let victim = victim(&admin).await;
    let own = id_of(&admin.create_customer("Attacker Inc").await);
    let before = app.audit_actions().len();

    let scoped_dispatcher = app.staff(Role::Dispatcher, &[own]).await;
    assert_all_not_found("scoped dispatcher", &scoped_dispatcher, &victim).await;
    let every_permission: Vec<Permission> = Permission::ALL.to_vec();
    for (who, role, permissions) in [
        ("owner of another customer", Role::Owner, vec![]),
        ("admin of another customer", Role::Admin, vec![]),
        ("user with every grantable permission", Role::User, every_permission),
    ] {
        let attacker = app.customer_user(own, role, &permissions).await;
        assert_all_not_found(who, &attacker, &victim).await;
    }

    // Nothing was changed, and lists do not leak the victim either.
    assert_eq!(app.audit_actions().len(), before);
    let list: Value = scoped_dispatcher.get("/v1/customers").await.json().await.expect("list");
    assert_eq!(list["items"].as_array().map(|i| i.iter().map(id_of).collect::<Vec<_>>()), Some(vec![own]));
    let users: Value = scoped_dispatcher.get("/v1/users").await.json().await.expect("users");
    assert!(
        users["items"].as_array().expect("items").iter().all(|u| u["customer_id"] == json!(own)),
        "{users}"
    );
    // The victim's user still signs in: nobody changed its password or status.
    assert_eq!(app.login("victim.user@victim.example", "victim passphrase 1").await.status(), StatusCode::OK);
    let audit: Value = scoped_dispatcher.get("/v1/audit-events").await.json().await.expect("audit");
    assert!(
        audit["items"].as_array().expect("items").iter().all(|e| e["customer_id"] == json!(own)),
        "{audit}"
    );
}

#[tokio::test]
async fn a_resource_of_one_customer_is_not_found_under_another() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let victim = victim(&admin).await;
    let other = id_of(&admin.create_customer("Other").await);
    // Even a platform admin cannot reach customer A's address through customer B's path.
    for path in [
        format!("/v1/customers/{other}/warehouse-addresses/{}", victim.address),
        format!("/v1/customers/{other}/cost-centers/{}", victim.cost_center),
        format!("/v1/customers/{other}/users/{}", victim.user),
        format!("/v1/customers/{other}/groups/{}", victim.group),
        format!("/v1/customers/{other}/invitations/{}", victim.invitation),
    ] {
        problem(admin.get(&path).await, StatusCode::NOT_FOUND).await;
        problem(admin.delete(&path, None).await, StatusCode::NOT_FOUND).await;
    }
}
