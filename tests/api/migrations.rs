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
