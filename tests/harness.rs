//! The test harness itself: servers start with the settings the tool relies on, tests get
//! databases of their own, and no server outlives the process that started it.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

#[tokio::test]
async fn shared_server_logs_row_events_with_full_images() {
    let mut conn = support::root_conn(support::server()).await;
    let row: (u8, String, String, u64, String) = conn
        .query_first("SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@max_allowed_packet, @@binlog_row_metadata")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row,
        (
            1,
            "ROW".into(),
            "FULL".into(),
            64 * 1024 * 1024,
            "NO_LOG".into()
        ),
        "log_bin, format, image, max_allowed_packet, default row metadata"
    );
}

#[tokio::test]
async fn each_test_gets_its_own_database_pair() {
    let a = support::databases("pair").await;
    let b = support::databases("pair").await;
    assert_ne!(a.m1.name, b.m1.name);
    assert_ne!(a.m1.name, a.m2.name);
    let mut conn = support::root_conn(support::server()).await;
    for name in [&a.m1.name, &a.m2.name, &b.m1.name, &b.m2.name] {
        let found: Option<String> = conn
            .exec_first(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (name,),
            )
            .await
            .unwrap();
        assert_eq!(found.as_deref(), Some(name.as_str()));
    }
}

#[tokio::test]
async fn sessions_run_in_utc_and_utf8mb4() {
    let dbs = support::databases("session").await;
    let mut conn = mage_migrate::db::connect(
        mage_migrate::error::Side::M1,
        &dbs.m1,
        &["SET NAMES utf8".to_string()],
    )
    .await
    .unwrap();
    let (tz, cs): (String, String) = conn
        .query_first("SELECT @@session.time_zone, @@character_set_connection")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((tz.as_str(), cs.as_str()), ("+00:00", "utf8mb4"));
}

fn process_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state letter is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn dropping_a_server_stops_it_and_removes_its_directory() {
    let server = support::own_server(&[]);
    let pid = server.pid().unwrap();
    let dir = server.dir.clone();
    assert!(process_alive(pid));
    drop(server);
    assert!(!process_alive(pid), "mariadbd {pid} still runs");
    assert!(!dir.exists(), "{} still exists", dir.display());
}

/// Run by `a_crashed_test_process_leaves_no_server` in a child process: starts a server,
/// reports its pid, then dies without any clean-up.
#[test]
#[ignore = "run only as the child of a_crashed_test_process_leaves_no_server"]
fn child_starts_a_server_then_aborts() {
    let Ok(pid_file) = std::env::var("MAGE_MIGRATE_CHILD_PID_FILE") else {
        return;
    };
    let server = support::own_server(&[]);
    std::fs::write(&pid_file, server.pid().unwrap().to_string()).unwrap();
    std::process::abort();
}

#[test]
fn a_crashed_test_process_leaves_no_server() {
    let dir = support::scratch_dir("crashed_child");
    let pid_file = dir.join("pid");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_starts_a_server_then_aborts",
            "--test-threads=1",
        ])
        .env("MAGE_MIGRATE_CHILD_PID_FILE", &pid_file)
        .output()
        .unwrap();
    assert!(!status.status.success(), "the child should have aborted");
    let pid: u32 = std::fs::read_to_string(Path::new(&pid_file))
        .expect("the child wrote the server's pid")
        .trim()
        .parse()
        .unwrap();
    wait_until("the orphaned mariadbd exits", || !process_alive(pid));
}

/// Pooled connections are reset when they go back to the pool; the session set-up (UTC, strict
/// mode, no foreign key checks, READ COMMITTED) must hold on every reuse, not only the first.
#[tokio::test]
async fn pooled_connections_keep_the_session_set_up_after_a_reset() {
    let dbs = support::databases("pool_session").await;
    // A user's init statement cannot undo what the tool relies on.
    let pool = mage_migrate::db::pool(
        mage_migrate::error::Side::M2,
        &dbs.m2,
        &["SET SESSION sql_mode = ''".to_string()],
        &mage_migrate::db::m2_write_session(),
        1,
    )
    .unwrap();
    let mut first_id = None;
    for round in 0..3 {
        let mut conn = pool.get_conn().await.unwrap();
        let id: u64 = conn
            .query_first("SELECT CONNECTION_ID()")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            *first_id.get_or_insert(id),
            id,
            "the pool reuses its connection"
        );
        let (tz, fk, mode, isolation): (String, u8, String, String) = conn
            .query_first("SELECT @@session.time_zone, @@session.foreign_key_checks, @@session.sql_mode, @@session.tx_isolation")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (round, tz.as_str(), fk, isolation.as_str()),
            (round, "+00:00", 0, "READ-COMMITTED")
        );
        assert!(
            mode.contains("NO_AUTO_VALUE_ON_ZERO") && mode.contains("STRICT_ALL_TABLES"),
            "{mode}"
        );
        // Change the session as a batch does, then give the connection back.
        conn.query_drop("SET SESSION foreign_key_checks = 1, time_zone = '+02:00'")
            .await
            .unwrap();
        drop(conn);
    }
    pool.disconnect().await.unwrap();
}
