//! No sync ever widens what a person sees (issue 14, "First: make a person's data scope
//! explicit"): a directory-provisioned person is `groups`-scoped from the start, joining a group
//! narrows, and leaving the last group or losing the group leaves it seeing untagged data only,
//! its token saying `groups: []`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Directory, filtered, give_password_and_sign_in, rest_user};
use crate::helpers::{Actor, TestApp, address_path, addresses_of, id_of, problem, set, user_path};

/// A customer with an untagged address and one tagged with group North, and a directory.
struct Depots {
    app: TestApp,
    admin: Actor,
    directory: Directory,
    north: Uuid,
    /// North's SCIM id, as the directory finds it by name.
    north_scim: String,
    untagged: Uuid,
    north_depot: Uuid,
}

async fn depots() -> Depots {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let directory = Directory::connect(&app, &admin, "Acme").await;
    let customer = directory.customer;
    let north = admin.add_group(customer, "North").await;
    let untagged = id_of(&admin.add_address(customer, "Head office", None).await);
    let north_depot = id_of(&admin.add_address(customer, "North depot", Some(north)).await);
    let found = directory.found(&filtered("/Groups", "displayName eq \"North\"")).await;
    assert_eq!(found.len(), 1, "the directory sees the customer's group North: {found:?}");
    let north_scim = found[0].clone();
    Depots { app, admin, directory, north, north_scim, untagged, north_depot }
}

impl Depots {
    /// A directory-provisioned person `name` (userName = e-mail = `{name}@acme.example`).
    async fn provisioned(&self, name: &str) -> (String, Value) {
        let email = format!("{name}@acme.example");
        let id = self.directory.create_user(&email, &email, name).await.id();
        (id, rest_user(&self.admin, self.directory.customer, name).await)
    }

    async fn sees(&self, person: &Actor) -> std::collections::BTreeSet<Uuid> {
        person.walk_ids(&addresses_of(self.directory.customer)).await
    }

    async fn add_to_north(&self, scim_user: &str) {
        let path = format!("/Groups/{}", self.north_scim);
        let ops = json!([{"op": "Add", "path": "members", "value": [{"value": scim_user}]}]);
        let group = self.directory.patched(&path, ops).await;
        assert!(group.values_of("members").contains(&scim_user.to_owned()), "{}", group.body);
    }

    async fn rest_view(&self, rest: &Value) -> Value {
        self.admin.get_user(self.directory.customer, id_of(rest)).await
    }
}

/// What a person with no group's data sees and says: `groups: []` in the token and in `/v1/me`,
/// the untagged address only, and a 404 for North's.
async fn assert_sees_untagged_only(d: &Depots, person: &Actor) {
    assert_eq!(person.claims()["groups"], json!([]), "the token says no group's data");
    assert_eq!(person.me().await["groups"], json!([]));
    assert_eq!(d.sees(person).await, set(&[d.untagged]));
    problem(person.get(&address_path(d.directory.customer, d.north_depot)).await, StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn a_directory_provisioned_person_is_groups_scoped_and_sees_untagged_data_only() {
    let d = depots().await;
    let (_, rest) = d.provisioned("nina").await;
    assert_eq!(rest["data_scope"], "groups", "deny by default: {rest}");
    assert_eq!(rest["group_ids"], json!([]));
    let nina = give_password_and_sign_in(&d.app, &d.admin, &rest).await;
    assert_sees_untagged_only(&d, &nina).await;
}

#[tokio::test]
async fn removing_a_person_from_its_last_group_leaves_it_seeing_untagged_data_only() {
    let d = depots().await;
    let (scim_user, rest) = d.provisioned("olaf").await;
    d.add_to_north(&scim_user).await;
    assert_eq!(d.rest_view(&rest).await["group_ids"], json!([d.north]));
    assert_eq!(
        d.directory.read(&format!("/Users/{scim_user}")).await.values_of("groups"),
        vec![d.north_scim.clone()]
    );

    let olaf = give_password_and_sign_in(&d.app, &d.admin, &rest).await;
    assert_eq!(olaf.claims()["groups"], json!([d.north.to_string()]));
    assert_eq!(olaf.me().await["groups"], json!([d.north.to_string()]));
    assert_eq!(d.sees(&olaf).await, set(&[d.untagged, d.north_depot]));

    // The directory takes it out of its last group (Entra's legacy removal).
    let path = format!("/Groups/{}", d.north_scim);
    let ops = json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": scim_user}]}]);
    let group = d.directory.patched(&path, ops).await;
    assert!(group.values_of("members").is_empty(), "{}", group.body);
    let view = d.rest_view(&rest).await;
    assert_eq!(
        (view["data_scope"].clone(), view["group_ids"].clone()),
        (json!("groups"), json!([])),
        "{view}"
    );

    // Signed in again: no group's data, never all of it.
    let olaf = d.app.sign_in_again(&olaf).await;
    assert_sees_untagged_only(&d, &olaf).await;
    let refreshed = olaf.refreshed().await;
    assert_eq!(refreshed.claims()["groups"], json!([]));
}

#[tokio::test]
async fn replacing_a_groups_members_with_none_does_not_widen_either() {
    let d = depots().await;
    let (scim_user, rest) = d.provisioned("pia").await;
    d.add_to_north(&scim_user).await;
    // Okta's `replace` with an empty list, and a `remove` of all members.
    let path = format!("/Groups/{}", d.north_scim);
    d.directory.patched(&path, json!([{"op": "replace", "path": "members", "value": []}])).await;
    let view = d.rest_view(&rest).await;
    assert_eq!(
        (view["data_scope"].clone(), view["group_ids"].clone()),
        (json!("groups"), json!([])),
        "{view}"
    );
    d.add_to_north(&scim_user).await;
    d.directory.patched(&path, json!([{"op": "remove", "path": "members"}])).await;
    let pia = give_password_and_sign_in(&d.app, &d.admin, &rest).await;
    assert_sees_untagged_only(&d, &pia).await;
}

#[tokio::test]
async fn deleting_a_group_through_scim_keeps_its_members_groups_scoped() {
    let d = depots().await;
    let (scim_user, rest) = d.provisioned("quirin").await;
    // A group of the directory's that tags no address, so it may be deleted.
    let south = d.directory.create_group("South", &[&scim_user]).await;
    let view = d.rest_view(&rest).await;
    assert_eq!(view["group_ids"].as_array().map(Vec::len), Some(1), "{view}");
    let response = d.directory.delete(&format!("/Groups/{}", south.id())).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let view = d.rest_view(&rest).await;
    assert_eq!(view["data_scope"], "groups", "{view}");
    assert_eq!(view["group_ids"], json!([]));
    let quirin = give_password_and_sign_in(&d.app, &d.admin, &rest).await;
    assert_sees_untagged_only(&d, &quirin).await;
}

#[tokio::test]
async fn joining_a_directory_group_narrows_a_person_who_saw_everything() {
    let d = depots().await;
    let customer = d.directory.customer;
    // Made over REST without groups: `all`, sees both addresses.
    let rest = d.admin.add_person(customer, "Rosa", json!({"external_id": "rosa"})).await;
    assert_eq!(rest["data_scope"], "all", "{rest}");
    let rosa = d.app.sign_in_member(&rest).await;
    assert_eq!(rosa.claims()["groups"], json!(["*"]));
    assert_eq!(d.sees(&rosa).await, set(&[d.untagged, d.north_depot]));

    // The directory finds her by e-mail and puts her into North: narrowed to North.
    let email = rest["email"].as_str().expect("an e-mail");
    let found = d.directory.found(&filtered("/Users", &format!("emails.value eq \"{email}\""))).await;
    assert_eq!(found.len(), 1, "{found:?}");
    d.add_to_north(&found[0]).await;
    let view = d.admin.get_user(customer, id_of(&rest)).await;
    assert_eq!((view["data_scope"].clone(), view["group_ids"].clone()), (json!("groups"), json!([d.north])));
    let rosa = d.app.sign_in_again(&rosa).await;
    assert_eq!(rosa.claims()["groups"], json!([d.north.to_string()]));

    // And out again: untagged only, never back to everything.
    let path = format!("/Groups/{}", d.north_scim);
    let ops = json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", found[0])}]);
    d.directory.patched(&path, ops).await;
    let rosa = d.app.sign_in_again(&rosa).await;
    assert_sees_untagged_only(&d, &rosa).await;
    // Only an explicit widening over REST gives everything back.
    let widened =
        d.admin.patch(&user_path(customer, id_of(&rest)), &json!({"data_scope": "all"}), None).await;
    assert_eq!(widened.status(), StatusCode::OK);
    let rosa = d.app.sign_in_again(&rosa).await;
    assert_eq!(rosa.claims()["groups"], json!(["*"]));
}

#[tokio::test]
async fn an_admin_widens_a_directory_provisioned_person_over_rest() {
    let d = depots().await;
    // A directory-provisioned person has a login (its work e-mail) but no password: it signs in
    // after choosing one by a reset link. The admin widens it, and only that.
    let (scim_user, rest) = d.provisioned("sven").await;
    assert_eq!((rest["login_enabled"].clone(), rest["password_set"].clone()), (json!(true), json!(false)));
    let path = user_path(d.directory.customer, id_of(&rest));
    let response = d.admin.patch(&path, &json!({"data_scope": "all"}), None).await;
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "widening needs nothing but data_scope: {text}");
    let view = d.rest_view(&rest).await;
    assert_eq!(view["data_scope"], "all", "{view}");
    assert_eq!(view["password_set"], false, "no password was set on the way");
    // And the directory still reads it as it was.
    assert_eq!(d.directory.read(&format!("/Users/{scim_user}")).await.body["userName"], "sven@acme.example");
}
