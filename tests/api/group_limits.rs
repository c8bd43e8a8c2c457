//! What a person limited to groups may still do, and the three ways an outside tester found out
//! of its groups: (a) deleting its own group, (b) setting another group's user's password and
//! signing in as it, (c) reading another group's address through the audit log. Each scenario
//! is set up in the [`World`] of the group matrix.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::group_matrix::World;
use crate::helpers::{Actor, MEMBER_PASSWORD, etag_of, id_of, json_of, problem, set, unique_email};

fn actions_in(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["action"].as_str().expect("action")).collect()
}

#[tokio::test]
async fn a_group_limited_admin_cannot_delete_its_own_group_and_so_see_everything() {
    let w = World::new().await;
    // A group that tags no address, so nothing but the group limit stands in the way.
    let body = json!({"name": "Depot Z"});
    let z = id_of(&json_of(w.staff.post(&w.path("/groups"), &body).await, StatusCode::CREATED).await);
    let z_admin = admin_in(&w, &[z]).await;
    let z_path = w.path(&format!("/groups/{z}"));
    let before = w.app.audit_actions().len();

    // The tester's request, and the same with If-Match: 403, saying why.
    let refused =
        problem(z_admin.delete(&format!("{z_path}?confirm=true"), None).await, StatusCode::FORBIDDEN).await;
    assert!(
        refused["detail"].as_str().expect("detail").contains("cannot delete a group it belongs to"),
        "{refused}"
    );
    let tag = etag_of(&z_admin.get(&z_path).await);
    problem(z_admin.delete(&z_path, Some(&tag)).await, StatusCode::FORBIDDEN).await;
    // A group that tags addresses too: the 403 comes first (no hint to untag them).
    let x_path = w.path(&format!("/groups/{}?confirm=true", w.x));
    problem(w.x_admin.delete(&x_path, None).await, StatusCode::FORBIDDEN).await;
    // Nor can it make a group of its own (it would be outside its groups).
    let refused =
        problem(z_admin.post(&w.path("/groups"), &json!({"name": "Escape"})).await, StatusCode::FORBIDDEN)
            .await;
    assert_eq!(refused["detail"], "A person limited to groups cannot create groups.");

    // Still limited: the group, the membership and what it sees are unchanged.
    assert_eq!(w.app.audit_actions().len(), before);
    assert_eq!(w.staff.get(&z_path).await.status(), StatusCode::OK);
    let me = json_of(z_admin.get("/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["groups"], json!([z.to_string()]));
    for address in [w.x_address, w.y_address] {
        let path = w.path(&format!("/warehouse-addresses/{address}"));
        problem(z_admin.get(&path).await, StatusCode::NOT_FOUND).await;
    }

    // Someone who sees everything still creates and deletes groups.
    let temporary = json_of(
        w.all_admin.post(&w.path("/groups"), &json!({"name": "Temporary"})).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("{}?confirm=true", w.path(&format!("/groups/{}", id_of(&temporary))));
    assert_eq!(w.all_admin.delete(&path, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        w.all_admin.delete(&format!("{z_path}?confirm=true"), None).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn a_group_limited_admin_cannot_take_over_another_groups_user_by_password_or_reset_link() {
    let w = World::new().await;
    let stolen = "a stolen passphrase here";
    let mails = w.app.outbox().len();
    for person in [w.y_user, w.xy_user, w.all_admin.user_id] {
        let path = w.path(&format!("/users/{person}/password"));
        problem(w.x_admin.post(&path, &json!({"password": stolen})).await, StatusCode::NOT_FOUND).await;
        let path = w.path(&format!("/users/{person}/password-reset"));
        problem(w.x_admin.post(&path, &json!({})).await, StatusCode::NOT_FOUND).await;
    }
    // The tester's next step fails, and the Y-user's own password still works.
    problem(w.app.login(&w.y_email, stolen).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(w.app.login(&w.y_email, MEMBER_PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(w.app.outbox().len(), mails, "no reset link went anywhere");

    // Its own group's people it still helps.
    let chosen = "a fresh passphrase for xena";
    let path = w.path(&format!("/users/{}/password", w.x_user));
    assert_eq!(w.x_admin.post(&path, &json!({"password": chosen})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(w.app.login(&w.x_email, chosen).await.status(), StatusCode::OK);
    let path = w.path(&format!("/users/{}/password-reset", w.x_user));
    assert_eq!(w.x_admin.post(&path, &json!({})).await.status(), StatusCode::ACCEPTED);
    assert_eq!(w.app.outbox().len(), mails + 1);
}

#[tokio::test]
async fn the_audit_log_does_not_show_another_groups_address_nor_a_change_from_another_group() {
    let w = World::new().await;
    let y_address = w.path(&format!("/warehouse-addresses/{}", w.y_address));
    let renamed = json!({"label": "South (secret gate code 4711)"});
    assert_eq!(w.staff.patch(&y_address, &renamed, None).await.status(), StatusCode::OK);
    // The tester's request: the address is a 404, and its events are not listed either.
    problem(w.x_admin.get(&y_address).await, StatusCode::NOT_FOUND).await;
    assert_eq!(w.x_admin.events_about(w.y_address).await, Vec::<Value>::new());
    assert_eq!(actions_in(&w.staff.events_about(w.y_address).await), ["address.updated", "address.created"]);

    // An address moved from Y to X: X sees it now, and what happens to it from then on, but
    // not its Y past nor the move (which shows it); a reader in X and Y sees the move.
    let moved = json!({"group_id": w.x});
    assert_eq!(w.staff.patch(&y_address, &moved, None).await.status(), StatusCode::OK);
    let relabelled = json!({"label": "South, now North's"});
    assert_eq!(w.staff.patch(&y_address, &relabelled, None).await.status(), StatusCode::OK);
    assert_eq!(w.x_admin.get(&y_address).await.status(), StatusCode::OK);
    let seen = w.x_admin.events_about(w.y_address).await;
    assert_eq!(actions_in(&seen), ["address.updated"]);
    assert_eq!(seen[0]["changes"]["label"]["to"], "South, now North's");
    let xy_admin = admin_in(&w, &[w.x, w.y]).await;
    assert_eq!(xy_admin.events_about(w.y_address).await.len(), 4);

    // People: one from no group (who saw everything) to X, one from Y to X; and what a
    // Y-user does to itself.
    let path = w.path("/users");
    let drifter = json!({"name": "Drifter", "email": unique_email("drifter"), "password": MEMBER_PASSWORD});
    let drifter = id_of(&json_of(w.staff.post(&path, &drifter).await, StatusCode::CREATED).await);
    let joiner = json!({"name": "Joiner", "login_enabled": false, "group_ids": [w.y]});
    let joiner = id_of(&json_of(w.staff.post(&path, &joiner).await, StatusCode::CREATED).await);
    for person in [drifter, joiner] {
        let person_path = w.path(&format!("/users/{person}"));
        for body in [json!({"group_ids": [w.x]}), json!({"phone": "+49 40 1234"})] {
            assert_eq!(w.staff.patch(&person_path, &body, None).await.status(), StatusCode::OK);
        }
        let seen = w.x_admin.events_about(person).await;
        assert_eq!(actions_in(&seen), ["user.updated"], "only what happened inside X");
        assert_eq!(seen[0]["changes"], json!({"phone": {"from": null, "to": "+49 40 1234"}}));
        assert_eq!(w.staff.events_about(person).await.len(), 3);
    }
    assert_eq!(xy_admin.events_about(joiner).await.len(), 3, "it saw the joiner on both sides");
    assert_eq!(xy_admin.events_about(drifter).await.len(), 1, "the drifter saw everything before");
    let y_user = w.app.sign_in(w.y_user, &w.y_email, MEMBER_PASSWORD).await;
    assert_eq!(y_user.patch("/v1/me", &json!({"name": "Yuri Y."}), None).await.status(), StatusCode::OK);
    assert_eq!(w.x_admin.events_about(w.y_user).await, Vec::<Value>::new());
    assert!(actions_in(&w.staff.events_about(w.y_user).await).contains(&"me.updated"));
}

/// An admin of the world's customer in `groups`, signed in.
async fn admin_in(w: &World, groups: &[Uuid]) -> Actor {
    let admin = w.staff.add_person(w.customer, "Admin", json!({"role": "admin", "group_ids": groups})).await;
    w.app.sign_in_member(&admin).await
}

#[tokio::test]
async fn a_group_limited_admin_still_manages_its_groups_people_addresses_and_invitations() {
    let w = World::new().await;
    let person = w.path(&format!("/users/{}", w.x_user));
    assert_eq!(w.x_admin.get(&person).await.status(), StatusCode::OK);
    let patched =
        json_of(w.x_admin.patch(&person, &json!({"name": "Xena X."}), None).await, StatusCode::OK).await;
    assert_eq!(patched["name"], "Xena X.");
    for (action, status) in [("deactivate", "deactivated"), ("reactivate", "active")] {
        let response = w.x_admin.post(&format!("{person}/{action}"), &json!({})).await;
        assert_eq!(json_of(response, StatusCode::OK).await["status"], status);
    }
    // It adds people to its group and hands out untagged and X addresses, not Y's.
    let mut body = json!({"name": "Newbie", "login_enabled": false, "warehouse_address_id": w.y_address});
    let refused =
        problem(w.x_admin.post(&w.path("/users"), &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["errors"][0]["field"], "warehouse_address_id");
    for address in [w.untagged_address, w.x_address] {
        body["warehouse_address_id"] = json!(address);
        let added = json_of(w.x_admin.post(&w.path("/users"), &body).await, StatusCode::CREATED).await;
        assert_eq!(
            (added["group_ids"].clone(), added["warehouse_address_id"].clone()),
            (json!([w.x]), json!(address))
        );
    }
    let invite = json!({"emails": [unique_email("nils")], "warehouse_address_id": w.y_address});
    problem(w.x_admin.post(&w.path("/invitations"), &invite).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    let events = w.x_admin.events_about(w.x_user).await;
    assert_eq!(actions_in(&events)[..3], ["user.reactivated", "user.deactivated", "user.updated"]);

    // X's address, the untagged one, X's invitation, X itself.
    for address in [w.x_address, w.untagged_address] {
        let path = w.path(&format!("/warehouse-addresses/{address}"));
        assert_eq!(w.x_admin.get(&path).await.status(), StatusCode::OK);
    }
    let x_address = w.path(&format!("/warehouse-addresses/{}", w.x_address));
    assert_eq!(
        w.x_admin.patch(&x_address, &json!({"label": "North 2"}), None).await.status(),
        StatusCode::OK
    );
    let invitation = w.path(&format!("/invitations/{}", w.x_invitation));
    assert_eq!(w.x_admin.get(&invitation).await.status(), StatusCode::OK);
    // A minute after the invitation's own mail, so the mail throttle lets the resend through.
    w.clock.advance(chrono::Duration::seconds(61));
    let resent = w.x_admin.post(&format!("{invitation}/resend"), &json!({})).await;
    assert_eq!(json_of(resent, StatusCode::OK).await["send_count"], 2);
    let x = w.path(&format!("/groups/{}", w.x));
    assert_eq!(
        w.x_admin.patch(&x, &json!({"name": "Depot X (Hamburg)"}), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(w.x_admin.delete(&invitation, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(w.x_admin.delete(&person, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(w.x_admin.delete(&x_address, None).await.status(), StatusCode::NO_CONTENT);
    // Its own deletions stay in its log.
    assert_eq!(actions_in(&w.x_admin.events_about(w.x_user).await)[0], "user.deleted");
}

#[tokio::test]
async fn someone_who_sees_everything_still_reaches_every_group() {
    let w = World::new().await;
    for person in [w.y_user, w.xy_user, w.x_user] {
        let path = w.path(&format!("/users/{person}"));
        assert_eq!(
            w.all_admin.patch(&path, &json!({"phone": "+49 40 1"}), None).await.status(),
            StatusCode::OK
        );
        assert_eq!(actions_in(&w.all_admin.events_about(person).await)[0], "user.updated");
    }
    let chosen = "an admin chose this one";
    let path = w.path(&format!("/users/{}/password", w.y_user));
    assert_eq!(w.all_admin.post(&path, &json!({"password": chosen})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(w.app.login(&w.y_email, chosen).await.status(), StatusCode::OK);
    for path in [
        format!("/groups/{}", w.y),
        format!("/groups/{}/members", w.y),
        format!("/warehouse-addresses/{}", w.y_address),
        format!("/invitations/{}", w.y_invitation),
        format!("/invitations/{}", w.open_invitation),
    ] {
        assert_eq!(w.all_admin.get(&w.path(&path)).await.status(), StatusCode::OK, "{path}");
    }
    for thing in [w.y, w.y_address, w.y_invitation, w.open_invitation] {
        assert!(!w.all_admin.events_about(thing).await.is_empty(), "events about {thing}");
    }
}

#[tokio::test]
async fn a_group_limited_owner_hands_ownership_only_to_someone_within_its_groups() {
    let w = World::new().await;
    let unknown = problem(
        w.x_owner.post(&w.path("/owner"), &json!({"user_id": Uuid::now_v7()})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for person in [w.y_user, w.all_admin.user_id] {
        let refused = problem(
            w.x_owner.post(&w.path("/owner"), &json!({"user_id": person})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(refused, unknown, "exactly as for no one");
    }
    let new_owner = json_of(
        w.x_owner.post(&w.path("/owner"), &json!({"user_id": w.x_admin.user_id})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(new_owner["role"], "owner");
    // The transfer ended both people's sessions.
    let x_admin = w.app.sign_in_again(&w.x_admin).await;
    let events = x_admin.walk("/v1/audit-events?action=customer.owner_transferred", 10).await;
    assert_eq!(events.len(), 1, "a transfer between two X people is X's to read");
    let events = w.staff.walk("/v1/audit-events?action=customer.owner_transferred", 10).await;
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn a_group_limited_admin_cannot_reinvite_another_groups_person_whose_invitation_expired() {
    let w = World::new().await;
    w.clock.advance(chrono::Duration::days(8));
    let invite = json!({"emails": [w.y_invited_email]});
    let results = json_of(w.x_admin.post(&w.path("/invitations"), &invite).await, StatusCode::OK).await;
    assert_eq!(results["results"][0]["outcome"], "skipped", "{results}");
    assert_eq!(results["results"][0]["reason"], "already_a_user");
    let y_person = w.path(&format!("/users/{}", w.y_invited_user));
    let untouched = json_of(w.staff.get(&y_person).await, StatusCode::OK).await;
    assert_eq!(untouched["group_ids"], json!([w.y]), "still Y's");
    // Someone who sees everything invites the person again, as before.
    let results = json_of(w.staff.post(&w.path("/invitations"), &invite).await, StatusCode::OK).await;
    assert_eq!(results["results"][0]["outcome"], "invited", "{results}");
    assert_eq!(
        w.x_admin.walk_ids(&w.path("/invitations")).await,
        set(&[w.x_invitation]),
        "the new invitation has no groups: not X's"
    );
}
