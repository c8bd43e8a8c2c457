//! `POST /v1/authz/check` answers for the bearer of each token, exactly as the endpoints behave.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::*;

#[tokio::test]
async fn the_authz_check_answers_for_the_bearer_of_each_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let acme = d.customer;
    let globex = id_of(&admin.create_customer("Globex").await);
    let foreign = admin.add_group(globex, "Depot X").await;
    let owner = app.customer_user(acme, Role::Owner, &[]).await;
    let user = app.customer_user(acme, Role::User, &[Permission::OrdersView]).await;
    let dispatcher = app.staff(Role::Dispatcher, &[acme]).await;

    // Own customer and a permission held: allowed.
    assert_eq!(owner.check("pricing.view", acme, None).await, verdict(true, "allowed"));
    assert_eq!(user.check("orders.view", acme, None).await, verdict(true, "allowed"));
    assert_eq!(admin.check("payments.manage", globex, None).await, verdict(true, "allowed"));
    // A permission not held.
    for permission in ["pricing.view", "users.manage", "orders.create"] {
        assert_eq!(
            user.check(permission, acme, None).await,
            verdict(false, "permission_not_held"),
            "{permission}"
        );
    }
    let acme_admin = app.customer_user(acme, Role::Admin, &[]).await;
    assert_eq!(acme_admin.check("pricing.view", acme, None).await, verdict(false, "permission_not_held"));
    // Another customer: a 200 that says no (not a 404), even for a permission held.
    for (who, session) in [("owner", &owner), ("user", &user), ("group member", &d.in_x)] {
        for group in [None, Some(foreign)] {
            assert_eq!(
                session.check("orders.view", globex, group).await,
                verdict(false, "customer_not_visible"),
                "{who}"
            );
        }
    }
    // A dispatcher outside its scope; inside it, everything.
    assert_eq!(dispatcher.check("orders.view", globex, None).await, verdict(false, "customer_not_visible"));
    assert_eq!(dispatcher.check("pricing.view", acme, Some(d.y)).await, verdict(true, "allowed"));
    // A customer that does not exist is one nobody sees, staff for all customers included, just
    // as its endpoints are a 404.
    let nowhere = Uuid::now_v7();
    let everywhere = app.staff(Role::Dispatcher, &[]).await;
    for (who, staff) in [("platform admin", &admin), ("dispatcher for all", &everywhere)] {
        assert_eq!(
            staff.check("orders.view", nowhere, None).await,
            verdict(false, "customer_not_visible"),
            "{who}"
        );
        problem(staff.get(&format!("/v1/customers/{nowhere}")).await, StatusCode::NOT_FOUND).await;
    }

    // Groups: a member sees its group and untagged data, not another group.
    assert_eq!(d.in_x.check("orders.view", acme, Some(d.x)).await, verdict(true, "allowed"));
    assert_eq!(d.in_x.check("orders.view", acme, None).await, verdict(true, "allowed"));
    assert_eq!(d.in_x.check("orders.view", acme, Some(d.y)).await, verdict(false, "group_not_visible"));
    // Permission is judged before the group.
    assert_eq!(d.in_x.check("reports.view", acme, Some(d.y)).await, verdict(false, "permission_not_held"));
    // In no group: every group of its customer.
    for group in [d.x, d.y] {
        assert_eq!(d.in_none.check("orders.view", acme, Some(group)).await, verdict(true, "allowed"));
    }
    // A group that is not the customer's: unknown, for whoever would otherwise be allowed.
    for (who, actor) in [("no-group user", &d.in_none), ("owner", &owner), ("staff", &admin)] {
        for group in [foreign, Uuid::now_v7()] {
            assert_eq!(
                actor.check("orders.view", acme, Some(group)).await,
                verdict(false, "unknown_group"),
                "{who}"
            );
        }
    }

    // The answer is about the person as it is now: a new group counts at once.
    json_of(patch_user(&admin, acme, d.in_none.user_id, json!({"group_ids": [d.y]})).await, StatusCode::OK)
        .await;
    let moved = app.sign_in_again(&d.in_none).await;
    assert_eq!(moved.check("orders.view", acme, Some(d.x)).await, verdict(false, "group_not_visible"));
    assert_eq!(moved.check("orders.view", acme, Some(d.y)).await, verdict(true, "allowed"));
}

#[tokio::test]
async fn the_authz_check_needs_a_token_and_a_known_permission() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = id_of(&admin.create_customer("Acme").await);
    let body = json!({"permission": "orders.view", "customer_id": acme});

    let anonymous = app.post_json("/v1/authz/check", &body).await;
    assert!(
        anonymous
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Bearer")))
    );
    problem(anonymous, StatusCode::UNAUTHORIZED).await;
    problem(app.bearer("not.a.token").post("/v1/authz/check", &body).await, StatusCode::UNAUTHORIZED).await;

    let unknown = problem(
        admin
            .post("/v1/authz/check", &json!({"permission": "orders.delete_everything", "customer_id": acme}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&unknown), ["permission"], "{unknown}");
    let missing = problem(
        admin.post("/v1/authz/check", &json!({"permission": "orders.view"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let message = missing["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("customer_id"), "{missing}");
}

#[tokio::test]
async fn the_authz_check_agrees_with_what_the_address_endpoints_do() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let d = depots(&app, &admin).await;
    let dispatcher = app.staff(Role::Dispatcher, &[d.customer]).await;
    let owner = app.customer_user(d.customer, Role::Owner, &[]).await;
    let y_manager =
        member(&app, &admin, d.customer, "yves", &[d.y], Some(&["addresses.manage", "tracking.view"])).await;
    let addresses = [(d.main, None), (d.north, Some(d.x)), (d.south, Some(d.y))];

    for (who, session) in [
        ("member of X", &d.in_x),
        ("member of Y", &d.in_y),
        ("in no group", &d.in_none),
        ("address manager of Y", &y_manager),
        ("owner", &owner),
        ("dispatcher", &dispatcher),
        ("platform admin", &admin),
    ] {
        let listed: BTreeSet<Uuid> =
            session.walk(&addresses_of(d.customer), 1).await.iter().map(id_of).collect();
        for (address, group) in addresses {
            // Everyone holds tracking.view (the users by default), so only the group decides.
            let said = session.check("tracking.view", d.customer, group).await;
            let status = session.get(&address_path(d.customer, address)).await.status();
            match said["reason"].as_str() {
                Some("allowed") => {
                    assert_eq!(status, StatusCode::OK, "{who}: allowed, so GET works");
                    assert!(listed.contains(&address), "{who}: allowed, so it is listed");
                }
                Some("group_not_visible") => {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{who}: group not visible, so GET is 404");
                    assert!(!listed.contains(&address), "{who}: group not visible, so it is not listed");
                }
                other => panic!("{who}: unexpected answer {other:?}"),
            }
        }
        // And for managing: the check with addresses.manage matches PATCH.
        for (address, group) in addresses {
            let said = session.check("addresses.manage", d.customer, group).await;
            let status = session
                .patch(&address_path(d.customer, address), &json!({"contact_name": who}), None)
                .await
                .status();
            let expected = match said["reason"].as_str() {
                Some("allowed") => StatusCode::OK,
                Some("group_not_visible") => StatusCode::NOT_FOUND,
                Some("permission_not_held") => StatusCode::FORBIDDEN,
                other => panic!("{who}: unexpected answer {other:?}"),
            };
            assert_eq!(status, expected, "{who}: PATCH of an address tagged {group:?} after {said}");
        }
    }
    // The spot checks that make the loop meaningful.
    assert_eq!(
        y_manager.check("addresses.manage", d.customer, Some(d.x)).await,
        verdict(false, "group_not_visible")
    );
    assert_eq!(
        d.in_x.check("addresses.manage", d.customer, None).await,
        verdict(false, "permission_not_held")
    );
}
