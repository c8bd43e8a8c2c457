//! The command line: create-admin, migrate, rotate-keys, openapi.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::helpers::{TestApp, TestDatabase};

fn dockgate(db: &TestDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dockgate"));
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("DATABASE_URL", &db.url);
    command
}

#[tokio::test]
async fn create_admin_makes_a_platform_admin_who_can_sign_in_once() {
    let app = TestApp::spawn().await;
    let output = dockgate(&app.db)
        .args([
            "create-admin",
            "--email",
            "Root@Operator.example",
            "--password",
            "correct horse battery staple",
        ])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        app.login("root@operator.example", "correct horse battery staple").await.status(),
        StatusCode::OK
    );

    assert_eq!(app.audit_actions().first().map(|(action, _)| action.as_str()), Some("staff.created"));

    // The same address again (any case) is a clear error and changes nothing.
    let again = dockgate(&app.db)
        .args(["create-admin", "--email", "root@operator.EXAMPLE", "--password", "another long passphrase"])
        .output()
        .expect("run");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(
        app.login("root@operator.example", "correct horse battery staple").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn create_admin_reads_the_password_from_stdin_and_enforces_the_policy() {
    let app = TestApp::spawn().await;
    let mut child = dockgate(&app.db)
        .args(["create-admin", "--email", "ops@operator.example", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"piped in passphrase\n").expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(app.login("ops@operator.example", "piped in passphrase").await.status(), StatusCode::OK);

    let weak = dockgate(&app.db)
        .args(["create-admin", "--email", "weak@operator.example", "--password", "password"])
        .output()
        .expect("run");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));
}

#[test]
fn migrate_and_rotate_keys_work_on_an_empty_database() {
    let db = TestDatabase::create_empty();
    let migrate = dockgate(&db).arg("migrate").output().expect("run");
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let mut conn = db.connect();
    assert!(dockgate::db::migrations_applied(&mut conn).expect("state"));
    for _ in 0..2 {
        let rotate = dockgate(&db).arg("rotate-keys").output().expect("run");
        assert!(rotate.status.success(), "{}", String::from_utf8_lossy(&rotate.stderr));
    }
    use diesel::prelude::*;
    use dockgate::db::schema::signing_keys;
    let live: i64 = signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .count()
        .get_result(&mut conn)
        .expect("count");
    let all: i64 = signing_keys::table.count().get_result(&mut conn).expect("count");
    assert_eq!((live, all), (1, 2));
}

#[test]
fn a_bad_variable_is_named_and_the_process_fails() {
    let db = TestDatabase::create_empty();
    let output = dockgate(&db).env("ACCESS_TOKEN_TTL", "soon").arg("migrate").output().expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ACCESS_TOKEN_TTL"));
}

#[test]
fn openapi_prints_the_document_without_a_database() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_dockgate")).env_clear().arg("openapi").output().expect("run");
    assert!(output.status.success());
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(document["openapi"], "3.1.0");
}
