//! The migrations apply, revert and apply again.

use diesel_migrations::MigrationHarness;

use crate::helpers::TestDatabase;

#[test]
fn migrations_apply_revert_and_apply_again() {
    let db = TestDatabase::create_empty();
    let mut conn = db.connect();
    let applied = dockgate::db::migrate(&mut conn).expect("apply");
    assert!(!applied.is_empty());
    conn.revert_all_migrations(dockgate::db::MIGRATIONS).expect("revert");
    assert!(!dockgate::db::migrations_applied(&mut conn).expect("state"));
    assert_eq!(dockgate::db::migrate(&mut conn).expect("apply again"), applied);
}

/// The backfill of `audit_events.visible_groups`: each existing event gets the visibility of
/// its target as it is now, joined with what the event itself moved it from or to.
#[test]
fn the_audit_visibility_backfill_follows_each_target_as_it_is_now() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use dockgate::db::schema::audit_events;
    use uuid::Uuid;

    let db = TestDatabase::create_empty();
    let mut conn = db.connect();
    dockgate::db::migrate(&mut conn).expect("apply");
    // Later migrations come off first, down to the backfill.
    let mut reverted = conn.revert_last_migration(dockgate::db::MIGRATIONS).expect("revert");
    while reverted.to_string() != "20261201000002" {
        reverted = conn.revert_last_migration(dockgate::db::MIGRATIONS).expect("revert the backfill");
    }
    conn.batch_execute(BACKFILL_SEED).expect("events written before the column existed");
    dockgate::db::migrate(&mut conn).expect("apply again");

    let (x, y) = ("00000000-0000-7000-8000-0000000000a1", "00000000-0000-7000-8000-0000000000a2");
    let expected: [(&str, Option<&[&str]>); 18] = [
        ("untagged address", None),
        ("Y's address", Some(&[y])),
        ("address moved from Y to X", Some(&[x, y])),
        ("deleted address", Some(&[])),
        ("Y's user", Some(&[y])),
        ("user in no group", Some(&[])),
        ("user moved from no group to X", Some(&[])),
        ("user moved from Y to X", Some(&[x, y])),
        ("deleted user", Some(&[])),
        ("group Y", Some(&[y])),
        ("Y's invitation", Some(&[y])),
        ("invitation without groups", Some(&[])),
        ("customer", None),
        ("cost center", None),
        ("staff", None),
        ("sign-up request", Some(&[])),
        ("ownership from Y's user to one in no group", Some(&[])),
        ("ownership within X", Some(&[x])),
    ];
    let rows: Vec<(String, Option<Vec<Option<Uuid>>>)> = audit_events::table
        .order(audit_events::id.asc())
        .select((audit_events::action, audit_events::visible_groups))
        .load(&mut conn)
        .expect("events");
    assert_eq!(rows.len(), expected.len());
    for ((what, visible), (action, stored)) in expected.iter().zip(&rows) {
        let stored: Option<Vec<String>> =
            stored.as_ref().map(|groups| groups.iter().flatten().map(Uuid::to_string).collect());
        let visible: Option<Vec<String>> =
            visible.map(|groups| groups.iter().map(|g| (*g).to_owned()).collect());
        assert_eq!(stored, visible, "{what} ({action})");
    }
    // The log is append-only again.
    assert!(conn.batch_execute("UPDATE audit_events SET visible_groups = NULL").is_err());
}

/// A customer with groups X and Y, people, addresses and invitations, and one event of each
/// kind (in id order, as the test expects them).
const BACKFILL_SEED: &str = r#"
INSERT INTO customers (id, name, code) VALUES ('00000000-0000-7000-8000-000000000001', 'Acme', 'ACME');
INSERT INTO groups (customer_id, id, name) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a1', 'X'),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a2', 'Y');
INSERT INTO warehouse_addresses (customer_id, id, label, line1, city, country, group_id, is_default) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000b1', 'Main', 'M 1', 'H', 'DE', NULL, true),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000b2', 'South', 'S 1', 'H', 'DE', '00000000-0000-7000-8000-0000000000a2', false),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000b3', 'North', 'N 1', 'H', 'DE', '00000000-0000-7000-8000-0000000000a1', false);
INSERT INTO users (id, kind, customer_id, name, role, login_enabled) VALUES
    ('00000000-0000-7000-8000-0000000000c1', 'customer_user', '00000000-0000-7000-8000-000000000001', 'In Y', 'user', false),
    ('00000000-0000-7000-8000-0000000000c2', 'customer_user', '00000000-0000-7000-8000-000000000001', 'In none', 'user', false),
    ('00000000-0000-7000-8000-0000000000c3', 'customer_user', '00000000-0000-7000-8000-000000000001', 'In X', 'user', false),
    ('00000000-0000-7000-8000-0000000000c4', 'customer_user', '00000000-0000-7000-8000-000000000001', 'Also in X', 'user', false);
INSERT INTO group_members (customer_id, group_id, user_id) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a2', '00000000-0000-7000-8000-0000000000c1'),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-0000000000c3'),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-0000000000c4');
INSERT INTO invitations (customer_id, id, email, role, group_ids, token_hash, expires_at, last_sent_at, created_at, updated_at) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000d1', 'y@acme.example', 'user',
     '{00000000-0000-7000-8000-0000000000a2}', '\x01', now(), now(), now(), now()),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000d2', 'o@acme.example', 'user',
     '{}', '\x02', now(), now(), now(), now());
INSERT INTO audit_events (id, action, target_type, target_id, customer_id, changes) VALUES
    ('00000000-0000-7000-8000-000000000e01', 'address.updated', 'warehouse_address', '00000000-0000-7000-8000-0000000000b1', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e02', 'address.updated', 'warehouse_address', '00000000-0000-7000-8000-0000000000b2', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e03', 'address.updated', 'warehouse_address', '00000000-0000-7000-8000-0000000000b3', '00000000-0000-7000-8000-000000000001',
     '{"group_id": {"from": "00000000-0000-7000-8000-0000000000a2", "to": "00000000-0000-7000-8000-0000000000a1"}}'),
    ('00000000-0000-7000-8000-000000000e04', 'address.deleted', 'warehouse_address', '00000000-0000-7000-8000-0000000000bf', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e05', 'user.updated', 'user', '00000000-0000-7000-8000-0000000000c1', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e06', 'me.updated', 'user', '00000000-0000-7000-8000-0000000000c2', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e07', 'user.updated', 'user', '00000000-0000-7000-8000-0000000000c3', '00000000-0000-7000-8000-000000000001',
     '{"group_ids": {"from": [], "to": ["00000000-0000-7000-8000-0000000000a1"]}}'),
    ('00000000-0000-7000-8000-000000000e08', 'user.updated', 'user', '00000000-0000-7000-8000-0000000000c4', '00000000-0000-7000-8000-000000000001',
     '{"group_ids": {"from": ["00000000-0000-7000-8000-0000000000a2"], "to": ["00000000-0000-7000-8000-0000000000a1"]}}'),
    ('00000000-0000-7000-8000-000000000e09', 'user.deleted', 'user', '00000000-0000-7000-8000-0000000000cf', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e10', 'group.updated', 'group', '00000000-0000-7000-8000-0000000000a2', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e11', 'invitation.created', 'invitation', '00000000-0000-7000-8000-0000000000d1', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e12', 'invitation.created', 'invitation', '00000000-0000-7000-8000-0000000000d2', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e13', 'customer.updated', 'customer', '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e14', 'cost_center.created', 'cost_center', '00000000-0000-7000-8000-0000000000ef', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e15', 'staff.created', 'staff', '00000000-0000-7000-8000-0000000000ee', NULL, '{}'),
    ('00000000-0000-7000-8000-000000000e16', 'user.signup_requested', 'signup_request', '00000000-0000-7000-8000-0000000000ed', '00000000-0000-7000-8000-000000000001', '{}'),
    ('00000000-0000-7000-8000-000000000e17', 'customer.owner_transferred', 'customer', '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000001',
     '{"owner": {"from": "00000000-0000-7000-8000-0000000000c1", "to": "00000000-0000-7000-8000-0000000000c2"}}'),
    ('00000000-0000-7000-8000-000000000e18', 'customer.owner_transferred', 'customer', '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000001',
     '{"owner": {"from": "00000000-0000-7000-8000-0000000000c3", "to": "00000000-0000-7000-8000-0000000000c4"}}');
"#;

/// The backfill of `data_scope` (issue 14): whoever was in no group saw all of its customer's
/// data and keeps seeing it (`all`); whoever was in groups becomes `groups`; staff and platform
/// clients are `all`; an invitation or an API client follows its groups the same way.
#[test]
fn the_data_scope_backfill_keeps_what_everyone_saw() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use dockgate::db::schema::{api_clients, invitations, users};
    use uuid::Uuid;

    let db = TestDatabase::create_empty();
    let mut conn = db.connect();
    dockgate::db::migrate(&mut conn).expect("apply");
    // Later migrations come off first, then the data scope itself.
    let mut reverted = conn.revert_last_migration(dockgate::db::MIGRATIONS).expect("revert");
    while reverted.to_string() != "20261201000040" {
        reverted = conn.revert_last_migration(dockgate::db::MIGRATIONS).expect("revert the data scope");
    }
    conn.batch_execute(DATA_SCOPE_SEED).expect("rows written before the column existed");
    dockgate::db::migrate(&mut conn).expect("apply again");

    let id = |last: &str| Uuid::parse_str(&format!("00000000-0000-7000-8000-{last:0>12}")).expect("a uuid");
    let people: Vec<(Uuid, String)> = users::table
        .order(users::id.asc())
        .select((users::id, users::data_scope))
        .load(&mut conn)
        .expect("users");
    let expected = |pairs: &[(&str, &str)]| -> Vec<(Uuid, String)> {
        pairs.iter().map(|(last, scope)| (id(last), (*scope).to_owned())).collect()
    };
    assert_eq!(people, expected(&[("c1", "groups"), ("c2", "all"), ("c3", "all")]), "in X, in none, staff");
    let invited: Vec<(Uuid, String)> = invitations::table
        .order(invitations::id.asc())
        .select((invitations::id, invitations::data_scope))
        .load(&mut conn)
        .expect("invitations");
    assert_eq!(invited, expected(&[("d1", "groups"), ("d2", "all")]), "with groups, without");
    let clients: Vec<(Uuid, String)> = api_clients::table
        .order(api_clients::id.asc())
        .select((api_clients::id, api_clients::data_scope))
        .load(&mut conn)
        .expect("clients");
    assert_eq!(
        clients,
        expected(&[("f1", "groups"), ("f2", "all"), ("f3", "all")]),
        "in X, in none, platform"
    );

    // The invariants hold from now on: staff and platform clients only ever see all, and no row
    // goes without a scope.
    let staff_limited =
        "UPDATE users SET data_scope = 'groups' WHERE id = '00000000-0000-7000-8000-0000000000c3'";
    assert!(conn.batch_execute(staff_limited).is_err());
    let platform_limited =
        "UPDATE api_clients SET data_scope = 'groups' WHERE id = '00000000-0000-7000-8000-0000000000f3'";
    assert!(conn.batch_execute(platform_limited).is_err());
    let unknown = "UPDATE users SET data_scope = 'some' WHERE id = '00000000-0000-7000-8000-0000000000c1'";
    assert!(conn.batch_execute(unknown).is_err());
    let unsaid = "INSERT INTO users (id, kind, customer_id, name, role, login_enabled) VALUES \
        ('00000000-0000-7000-8000-0000000000c9', 'customer_user', '00000000-0000-7000-8000-000000000001', 'X', 'user', false)";
    assert!(conn.batch_execute(unsaid).is_err(), "no default: every insert says its scope");
}

/// A customer with group X; a person in X, one in no group, staff; an invitation with and one
/// without groups; a client in X, one in no group, a platform client.
const DATA_SCOPE_SEED: &str = r#"
INSERT INTO customers (id, name, code) VALUES ('00000000-0000-7000-8000-000000000001', 'Acme', 'ACME');
INSERT INTO groups (customer_id, id, name) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a1', 'X');
INSERT INTO users (id, kind, customer_id, email, name, role, login_enabled) VALUES
    ('00000000-0000-7000-8000-0000000000c1', 'customer_user', '00000000-0000-7000-8000-000000000001', NULL, 'In X', 'user', false),
    ('00000000-0000-7000-8000-0000000000c2', 'customer_user', '00000000-0000-7000-8000-000000000001', NULL, 'In none', 'user', false),
    ('00000000-0000-7000-8000-0000000000c3', 'staff', NULL, 'ops@operator.example', 'Staff', 'platform_admin', false);
INSERT INTO group_members (customer_id, group_id, user_id) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-0000000000c1');
INSERT INTO invitations (customer_id, id, email, role, group_ids, token_hash, expires_at, last_sent_at, created_at, updated_at) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000d1', 'x@acme.example', 'user',
     '{00000000-0000-7000-8000-0000000000a1}', '\x01', now(), now(), now(), now()),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000d2', 'o@acme.example', 'user',
     '{}', '\x02', now(), now(), now(), now());
INSERT INTO api_clients (customer_id, id, client_id, name, secret_hash) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000f1', 'dgc_x', 'In X', '\x01'),
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000f2', 'dgc_none', 'In none', '\x02'),
    (NULL, '00000000-0000-7000-8000-0000000000f3', 'dgc_platform', 'Platform', '\x03');
INSERT INTO api_client_groups (customer_id, api_client_id, group_id) VALUES
    ('00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-0000000000f1', '00000000-0000-7000-8000-0000000000a1');
"#;
