//! The group matrix: inside one customer, a person limited to group X reaches nothing of group
//! Y's, nor anyone who sees more than X (a person in no group, a person also in Y). Every
//! endpoint that names one of those things answers exactly as for a missing one; lists and the
//! audit log leave them out; and nothing changes. A new endpoint that names a person, group,
//! address or invitation joins the matrix by adding it to `ENDPOINTS`.

use std::collections::BTreeSet;

use dockgate::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Actor, MEMBER_PASSWORD, TestApp, id_of, json_of, set, unique_email};

/// One customer with groups X and Y and something of everything in each.
pub struct World {
    pub app: TestApp,
    pub clock: Clock,
    pub staff: Actor,
    pub customer: Uuid,
    pub x: Uuid,
    pub y: Uuid,
    pub untagged_address: Uuid,
    pub x_address: Uuid,
    pub y_address: Uuid,
    /// A `user` in Y, with login; `y_email` signs in with [`MEMBER_PASSWORD`].
    pub y_user: Uuid,
    pub y_email: String,
    /// A `user` in X and in Y: it sees Y's data, so an X-limited admin does not cover it.
    pub xy_user: Uuid,
    /// An admin in no group: it sees everything.
    pub all_admin: Actor,
    /// A `user` in X.
    pub x_user: Uuid,
    pub x_email: String,
    /// An admin and the owner, both limited to X.
    pub x_admin: Actor,
    pub x_owner: Actor,
    pub y_invitation: Uuid,
    pub y_invited_user: Uuid,
    pub y_invited_email: String,
    /// An invitation without groups: its person would see everything.
    pub open_invitation: Uuid,
    pub x_invitation: Uuid,
    pub x_invited_user: Uuid,
}

impl World {
    pub async fn new() -> Self {
        let mut clock = None;
        let app = TestApp::spawn_with(|c| clock = Some(c.clock.clone())).await;
        let staff = app.admin().await;
        let customer = id_of(&staff.create_customer("Acme").await);
        let (x, y) = (staff.add_group(customer, "Depot X").await, staff.add_group(customer, "Depot Y").await);
        let untagged_address = id_of(&staff.add_address(customer, "Main", None).await);
        let x_address = id_of(&staff.add_address(customer, "North", Some(x)).await);
        let y_address = id_of(&staff.add_address(customer, "South", Some(y)).await);
        let person = |name: &'static str, extra: Value| staff.add_person(customer, name, extra);
        let y_person = person("yuri", json!({"group_ids": [y]})).await;
        let xy_user = id_of(&person("xavier", json!({"group_ids": [x, y]})).await);
        let all_admin = person("alma", json!({"role": "admin"})).await;
        let x_person = person("xena", json!({"group_ids": [x]})).await;
        let x_admin = person("xadmin", json!({"role": "admin", "group_ids": [x]})).await;
        let x_owner = person("xowner", json!({"role": "owner", "group_ids": [x]})).await;
        let invite = |email: String, groups: Vec<Uuid>| {
            let staff = &staff;
            async move {
                let results = staff.invite(customer, json!({"emails": [email], "group_ids": groups})).await;
                assert_eq!(results[0]["outcome"], "invited", "{results:?}");
                let invitation = &results[0]["invitation"];
                let user = invitation["user_id"].as_str().and_then(|id| Uuid::parse_str(id).ok());
                (id_of(invitation), user.expect("the invited user"))
            }
        };
        let y_invited_email = unique_email("yvonne");
        let (y_invitation, y_invited_user) = invite(y_invited_email.clone(), vec![y]).await;
        let (open_invitation, _) = invite(unique_email("otto"), vec![]).await;
        let (x_invitation, x_invited_user) = invite(unique_email("xaver"), vec![x]).await;
        let email = |person: &Value| person["email"].as_str().expect("an e-mail").to_owned();
        World {
            clock: clock.expect("the clock"),
            all_admin: app.sign_in_member(&all_admin).await,
            x_admin: app.sign_in_member(&x_admin).await,
            x_owner: app.sign_in_member(&x_owner).await,
            app,
            staff,
            customer,
            x,
            y,
            untagged_address,
            x_address,
            y_address,
            y_user: id_of(&y_person),
            y_email: email(&y_person),
            xy_user,
            x_user: id_of(&x_person),
            x_email: email(&x_person),
            y_invitation,
            y_invited_user,
            y_invited_email,
            open_invitation,
            x_invitation,
            x_invited_user,
        }
    }

    pub fn path(&self, rest: &str) -> String {
        format!("/v1/customers/{}{rest}", self.customer)
    }

    /// What `Y`'s things and the people who see more than X are: every id an X-limited
    /// person must never meet.
    pub fn hidden_from_x(&self) -> BTreeSet<Uuid> {
        [
            self.y,
            self.y_address,
            self.y_user,
            self.xy_user,
            self.all_admin.user_id,
            self.y_invitation,
            self.y_invited_user,
            self.open_invitation,
        ]
        .into_iter()
        .collect()
    }
}

/// Every endpoint naming one thing: `{id}` is the thing, `{customer}` its customer.
const USER_ENDPOINTS: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/users/{id}", None),
    ("PATCH", "/users/{id}", Some(r#"{"name": "Renamed"}"#)),
    ("DELETE", "/users/{id}", None),
    ("POST", "/users/{id}/deactivate", None),
    ("POST", "/users/{id}/reactivate", None),
    ("POST", "/users/{id}/password", Some(r#"{"password": "a stolen passphrase here"}"#)),
    ("POST", "/users/{id}/password-reset", None),
    ("POST", "/owner", Some(r#"{"user_id": "{id}"}"#)),
];
const GROUP_ENDPOINTS: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/groups/{id}", None),
    ("PATCH", "/groups/{id}", Some(r#"{"name": "Renamed"}"#)),
    ("DELETE", "/groups/{id}?confirm=true", None),
    ("GET", "/groups/{id}/members", None),
];
const ADDRESS_ENDPOINTS: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/warehouse-addresses/{id}", None),
    ("PATCH", "/warehouse-addresses/{id}", Some(r#"{"label": "Mine now"}"#)),
    ("DELETE", "/warehouse-addresses/{id}", None),
];
const INVITATION_ENDPOINTS: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/invitations/{id}", None),
    ("POST", "/invitations/{id}/resend", None),
    ("DELETE", "/invitations/{id}", None),
];

/// Sends every endpoint of `endpoints` about `hidden`, and again about an id that names
/// nothing: status and body must be the same (and a 404, but for ownership transfer, which
/// answers an unknown `user_id` with a 422 and an admin with a 403 whoever the target).
async fn assert_like_missing(
    w: &World,
    who: &str,
    session: &Actor,
    endpoints: &[(&str, &str, Option<&str>)],
    hidden: Uuid,
) {
    for (method, template, body) in endpoints {
        let mut answers = Vec::new();
        for id in [hidden, Uuid::now_v7()] {
            let path = w.path(&template.replace("{id}", &id.to_string()));
            let body = body.map(|b| b.replace("{id}", &id.to_string()));
            let response = session.send(method, &path, body.as_deref()).await;
            let status = response.status();
            answers.push((status, response.text().await.expect("body")));
        }
        let expected = match (*template, who) {
            ("/owner", "X-limited admin") => StatusCode::FORBIDDEN,
            ("/owner", _) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::NOT_FOUND,
        };
        assert_eq!(answers[0].0, expected, "{who}: {method} {template} about {hidden}: {}", answers[0].1);
        assert_eq!(answers[0], answers[1], "{who}: {method} {template}: exactly as for a missing one");
    }
}

#[tokio::test]
async fn a_person_limited_to_group_x_reaches_nothing_of_group_y_nor_anyone_who_sees_more() {
    let w = World::new().await;
    let before = w.app.audit_actions().len();
    for (who, session) in [("X-limited admin", &w.x_admin), ("X-limited owner", &w.x_owner)] {
        for person in [w.y_user, w.xy_user, w.all_admin.user_id, w.y_invited_user] {
            assert_like_missing(&w, who, session, USER_ENDPOINTS, person).await;
        }
        assert_like_missing(&w, who, session, GROUP_ENDPOINTS, w.y).await;
        assert_like_missing(&w, who, session, ADDRESS_ENDPOINTS, w.y_address).await;
        for invitation in [w.y_invitation, w.open_invitation] {
            assert_like_missing(&w, who, session, INVITATION_ENDPOINTS, invitation).await;
        }
    }

    // Nothing changed: no event, the Y-user still signs in with its password, Y is as it was.
    assert_eq!(w.app.audit_actions().len(), before, "nothing was written");
    assert_eq!(w.app.login(&w.y_email, MEMBER_PASSWORD).await.status(), StatusCode::OK);
    let y = json_of(w.staff.get(&w.path(&format!("/groups/{}", w.y))).await, StatusCode::OK).await;
    assert_eq!((y["name"].as_str(), y["member_count"].as_i64()), (Some("Depot Y"), Some(3)));
    let invitation =
        json_of(w.staff.get(&w.path(&format!("/invitations/{}", w.y_invitation))).await, StatusCode::OK)
            .await;
    assert_eq!(
        (invitation["status"].as_str(), invitation["send_count"].as_i64()),
        (Some("pending"), Some(1))
    );
    let south =
        json_of(w.staff.get(&w.path(&format!("/warehouse-addresses/{}", w.y_address))).await, StatusCode::OK)
            .await;
    assert_eq!(south["label"], "South");
}

#[tokio::test]
async fn lists_show_a_person_limited_to_group_x_only_what_it_covers() {
    let w = World::new().await;
    let x_people = set(&[w.x_user, w.x_admin.user_id, w.x_owner.user_id, w.x_invited_user]);
    for (who, session) in [("X-limited admin", &w.x_admin), ("X-limited owner", &w.x_owner)] {
        // One item per page: the filter is in the query, so every page is full and the walk ends.
        assert_eq!(session.walk_ids(&w.path("/users")).await, x_people, "{who}: users");
        assert_eq!(session.walk_ids(&w.path(&format!("/users?group_id={}", w.x))).await, x_people, "{who}");
        assert_eq!(session.walk_ids(&w.path(&format!("/users?group_id={}", w.y))).await, set(&[]), "{who}");
        assert_eq!(session.walk_ids(&w.path("/groups")).await, set(&[w.x]), "{who}: groups");
        let members = session.walk_ids(&w.path(&format!("/groups/{}/members", w.x))).await;
        assert_eq!(members, x_people, "{who}: members of X, without the one also in Y");
        let x = json_of(session.get(&w.path(&format!("/groups/{}", w.x))).await, StatusCode::OK).await;
        assert_eq!(x["member_count"], json!(x_people.len()), "{who}: counts what it lists");
        assert_eq!(
            session.walk_ids(&w.path("/invitations")).await,
            set(&[w.x_invitation]),
            "{who}: invitations"
        );
        assert_eq!(
            session.walk_ids(&w.path("/warehouse-addresses")).await,
            set(&[w.untagged_address, w.x_address]),
            "{who}: addresses"
        );
    }

    // Someone who sees everything still lists everything.
    let everyone = w.all_admin.walk_ids(&w.path("/users")).await;
    assert!(everyone.is_superset(&x_people) && everyone.contains(&w.y_user) && everyone.contains(&w.xy_user));
    assert_eq!(w.all_admin.walk_ids(&w.path("/groups")).await, set(&[w.x, w.y]));
    let x = json_of(w.all_admin.get(&w.path(&format!("/groups/{}", w.x))).await, StatusCode::OK).await;
    assert_eq!(x["member_count"], json!(x_people.len() + 1), "the one also in Y counts for it");
    assert_eq!(
        w.all_admin.walk_ids(&w.path("/invitations")).await,
        set(&[w.y_invitation, w.open_invitation, w.x_invitation])
    );
    assert_eq!(w.all_admin.walk_ids(&w.path("/warehouse-addresses")).await.len(), 3);
}

#[tokio::test]
async fn the_audit_log_lists_a_person_limited_to_group_x_nothing_about_what_it_cannot_see() {
    let w = World::new().await;
    let hidden = w.hidden_from_x();
    for (who, session) in [("X-limited admin", &w.x_admin), ("X-limited owner", &w.x_owner)] {
        let events = session.walk("/v1/audit-events", 3).await;
        let targets: BTreeSet<Uuid> = events
            .iter()
            .filter_map(|e| e["target_id"].as_str().and_then(|id| Uuid::parse_str(id).ok()))
            .collect();
        assert!(
            targets.is_disjoint(&hidden),
            "{who}: {:?}",
            targets.intersection(&hidden).collect::<Vec<_>>()
        );
        // What it may see is there: the customer, untagged and X data, X's people.
        for seen in [w.customer, w.untagged_address, w.x_address, w.x, w.x_user, w.x_invitation] {
            assert!(targets.contains(&seen), "{who}: the events about {seen} are listed");
        }
        for thing in &hidden {
            assert_eq!(session.events_about(*thing).await, Vec::<Value>::new(), "{who}: ?target_id={thing}");
        }
    }
    // The events are there, for those who see everything.
    for thing in &hidden {
        if *thing == w.y_invited_user {
            continue; // Invited through an invitation: the events name the invitation.
        }
        for reader in [&w.staff, &w.all_admin] {
            assert!(!reader.events_about(*thing).await.is_empty(), "events about {thing}");
        }
    }
}
