//! `migrate:delta` from the deltalog against a real MariaDB: M2 ends equal to M1 through the map
//! (for the tables the Map step's deltalog group follows; as in the DMT, `eav_entity_store`
//! belongs to SalesIncrement, and the invoice and credit memo comments are in no group) after a
//! live workload, with concurrent writers on hot rows, after a hard kill, after SIGINT;
//! the DMT's missing-deltalog message; `-r`; and secondary unique keys never overwritten.

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::storefront::{seed_store, StoreProfile, Workload, WorkloadMix};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use support::TestDatabases;

/// A storefront whose deletes are the ones the deltalog can see: a customer delete in M1 also
/// sets `customer_id` to NULL on orders through a foreign key, silently (no trigger fires), and
/// customers belong to the Customer step, not built yet.
fn mix() -> WorkloadMix {
    WorkloadMix {
        delete_customer: 0,
        ..WorkloadMix::default()
    }
}

/// A store copied by migrate:data, with its deltalog installed.
async fn migrated(test: &str) -> (TestDatabases, Setup) {
    let dbs = support::databases(test).await;
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    let mut m1 = m1(&dbs).await;
    seed_store(&mut m1, &StoreProfile::tiny()).await.unwrap();
    let setup = Setup::load(&support::write_config(test, &dbs, None)).unwrap();
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data).await.unwrap();
    (dbs, setup)
}

async fn m1(dbs: &TestDatabases) -> Conn {
    mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap()
}

fn delta_options(setup: &Setup) -> DeltaOptions {
    DeltaOptions {
        skip_steps: migrate_data::unbuilt_steps(setup, "delta"),
        once: true,
        ..DeltaOptions::default()
    }
}

async fn once(setup: &Setup) -> migrate_delta::DeltaReport {
    migrate_delta::run(
        setup,
        &delta_options(setup),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn workload(dbs: &TestDatabases, seed: u64, steps: u64) {
    let mut conn = m1(dbs).await;
    let mut w = Workload::new(seed).with_mix(mix());
    w.load_state(&mut conn).await.unwrap();
    w.run(&mut conn, steps).await.unwrap();
}

/// Rows of the followed deltalogs by `processed` value.
async fn deltalog_rows(dbs: &TestDatabases, processed: u8) -> u64 {
    let mut root = support::root_conn(support::server()).await;
    let tables: Vec<String> = root
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'm2\\_cl\\_%'",
            (&dbs.m1.name,),
        )
        .await
        .unwrap();
    let mut total = 0;
    for table in tables {
        let n: u64 = root
            .query_first(format!(
                "SELECT COUNT(*) FROM `{}`.`{table}` WHERE processed = {processed}",
                dbs.m1.name
            ))
            .await
            .unwrap()
            .unwrap();
        total += n;
    }
    total
}

fn cli_args(setup: &Setup, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "migrate:delta".to_string(),
        setup.config.path.display().to_string(),
    ];
    for step in migrate_data::unbuilt_steps(setup, "delta") {
        args.push("--skip-step".into());
        args.push(step);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[tokio::test]
async fn once_leaves_m2_equal_to_m1_after_a_live_workload() {
    let (dbs, setup) = migrated("delta_once").await;
    workload(&dbs, 11, 400).await;
    assert!(deltalog_rows(&dbs, 0).await > 100);
    let report = once(&setup).await;
    assert!(report.upserted > 100, "{report:?}");
    assert_eq!(report.volume, Vec::<String>::new());
    assert!(
        report.deleted > 0,
        "quote clean-ups and review deletes: {report:?}"
    );
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
    // Everything applied was acknowledged and purged; what is left belongs to steps not built.
    assert_eq!(deltalog_rows(&dbs, 2).await, 0);
    assert_eq!(deltalog_rows(&dbs, 1).await, 0);
}

#[tokio::test]
async fn concurrent_writers_on_hot_rows_lose_no_update() {
    let (dbs, setup) = migrated("delta_concurrent").await;
    let stop = Arc::new(Stop::default());
    let delta = {
        let setup = setup.clone();
        let stop = stop.clone();
        let options = DeltaOptions {
            once: false,
            poll_interval: Duration::from_millis(10),
            ..delta_options(&setup)
        };
        tokio::spawn(async move { migrate_delta::run(&setup, &options, stop, |_| {}).await })
    };
    // Writers hammer the same rows while the delta runs: every update races a claim.
    let mut conn = m1(&dbs).await;
    let subscriber: u64 = conn
        .query_first("SELECT MIN(subscriber_id) FROM newsletter_subscriber")
        .await
        .unwrap()
        .unwrap();
    let order: u64 = conn
        .query_first("SELECT MIN(entity_id) FROM sales_flat_order")
        .await
        .unwrap()
        .unwrap();
    let mut writers = Vec::new();
    for w in 0..3u64 {
        let dbs_m1 = dbs.m1.clone();
        writers.push(tokio::spawn(async move {
            let mut conn = mage_migrate::db::connect(Side::M1, &dbs_m1, &[]).await.unwrap();
            for i in 0..300u64 {
                retry_deadlock(&mut conn, "UPDATE newsletter_subscriber SET subscriber_status = ? WHERE subscriber_id = ?", (i % 4 + w, subscriber)).await;
                retry_deadlock(&mut conn, "UPDATE sales_flat_order SET state = ?, status = ? WHERE entity_id = ?", (format!("s{w}-{i}"), format!("x{i}"), order)).await;
            }
        }));
    }
    let live = tokio::spawn({
        let dbs_m1 = dbs.m1.clone();
        async move {
            let mut conn = mage_migrate::db::connect(Side::M1, &dbs_m1, &[])
                .await
                .unwrap();
            let mut w = Workload::new(5).with_mix(mix());
            w.load_state(&mut conn).await.unwrap();
            w.run(&mut conn, 200).await.unwrap();
        }
    });
    for writer in writers {
        writer.await.unwrap();
    }
    live.await.unwrap();
    stop.request();
    delta.await.unwrap().unwrap();
    once(&setup).await;
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
}

/// The store's own writes meet the triggers' deltalog upserts; like Magento, retry a deadlock.
async fn retry_deadlock<P: Into<mysql_async::Params> + Clone + Send>(
    conn: &mut Conn,
    sql: &str,
    params: P,
) {
    for _ in 0..20 {
        match conn.exec_drop(sql, params.clone()).await {
            Ok(()) => return,
            Err(mysql_async::Error::Server(e)) if e.code == 1213 => continue,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("deadlocked 20 times: {sql}");
}

async fn wait_for(
    what: &str,
    mut check: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = bool>>>,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_hard_kill_mid_batch_then_a_restart_ends_equal() {
    let (dbs, setup) = migrated("delta_kill").await;
    workload(&dbs, 21, 600).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(cli_args(&setup, &["--batch-rows", "20", "--workers", "2"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let m1_db = dbs.m1.clone();
    wait_for("a batch is in flight", || {
        let m1_db = m1_db.clone();
        Box::pin(async move {
            let dbs = TestDatabases {
                m1: m1_db.clone(),
                m2: m1_db,
            };
            deltalog_rows(&dbs, 2).await > 0
        })
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("left in flight by an earlier run are pending again")
            || deltalog_rows(&dbs, 2).await == 0
    );
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn sigint_finishes_what_is_in_flight_and_exits_0() {
    let (dbs, setup) = migrated("delta_sigint").await;
    workload(&dbs, 31, 600).await;
    let child = Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(cli_args(&setup, &["--batch-rows", "20", "--workers", "2"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let m1_db = dbs.m1.clone();
    wait_for("a batch is in flight", || {
        let m1_db = m1_db.clone();
        Box::pin(async move {
            let dbs = TestDatabases {
                m1: m1_db.clone(),
                m2: m1_db,
            };
            deltalog_rows(&dbs, 2).await > 0
        })
    })
    .await;
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("stopping: finishing the changes in flight"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrate:delta: "));
    // Nothing was left claimed: every key taken was written and acknowledged.
    assert_eq!(deltalog_rows(&dbs, 2).await, 0);
    once(&setup).await;
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_missing_deltalog_is_reported_in_the_dmt_words_before_anything_is_written() {
    let (dbs, setup) = migrated("delta_missing").await;
    let mut conn = m1(&dbs).await;
    conn.query_drop("DROP TRIGGER trg_newsletter_subscriber_after_insert")
        .await
        .unwrap();
    conn.query_drop("DROP TRIGGER trg_newsletter_subscriber_after_update")
        .await
        .unwrap();
    conn.query_drop("DROP TRIGGER trg_newsletter_subscriber_after_delete")
        .await
        .unwrap();
    conn.query_drop("DROP TABLE m2_cl_newsletter_subscriber")
        .await
        .unwrap();
    conn.query_drop("UPDATE sales_flat_order SET status = 'held'")
        .await
        .unwrap();
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: Deltalog for newsletter_subscriber is not installed; install it with: mage-migrate deltalog install {}",
            setup.config.path.display()
        )
    );
    assert!(
        deltalog_rows(&dbs, 0).await > 0,
        "nothing was claimed or applied"
    );
}

#[tokio::test]
async fn reset_applies_everything_still_in_the_deltalog_again() {
    let (dbs, setup) = migrated("delta_reset").await;
    let mut conn = m1(&dbs).await;
    // What the DMT's race leaves behind: a change marked processed that never reached M2.
    conn.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 9 WHERE subscriber_id = (SELECT * FROM (SELECT MIN(subscriber_id) FROM newsletter_subscriber) x)")
        .await
        .unwrap();
    conn.query_drop("UPDATE m2_cl_newsletter_subscriber SET processed = 1")
        .await
        .unwrap();
    let options = DeltaOptions {
        reset: true,
        ..delta_options(&setup)
    };
    let report = migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
        .await
        .unwrap();
    assert_eq!(report.upserted, 1);
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_reused_unique_value_never_overwrites_another_row() {
    let (dbs, setup) = migrated("delta_unique").await;
    let mut conn = m1(&dbs).await;
    // Order A is deleted in M1 and order B takes its increment id; applied in any order, M2
    // must end with B only, and never with B's values written over A's row.
    let (a, increment): (u64, String) = conn
        .query_first(
            "SELECT entity_id, increment_id FROM sales_flat_order ORDER BY entity_id LIMIT 1",
        )
        .await
        .unwrap()
        .unwrap();
    conn.exec_drop("DELETE FROM sales_flat_order WHERE entity_id = ?", (a,))
        .await
        .unwrap();
    conn.exec_drop(
        "INSERT INTO sales_flat_order (entity_id, increment_id, store_id, state, status, created_at, updated_at) VALUES (999999, ?, 1, 'new', 'pending', NOW(), NOW())",
        (&increment,),
    )
    .await
    .unwrap();
    once(&setup).await;
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let holders: Vec<u64> = m2
        .exec(
            "SELECT entity_id FROM sales_order WHERE increment_id = ?",
            (&increment,),
        )
        .await
        .unwrap();
    assert_eq!(holders, [999999]);
    let items: u64 = m2
        .exec_first(
            "SELECT COUNT(*) FROM sales_order_item WHERE order_id = ?",
            (a,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        items, 0,
        "the deleted order's items went with it (M2 cascade)"
    );
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn skip_errors_quarantines_the_failing_key_applies_the_rest_and_exits_1() {
    let (dbs, setup) = migrated("delta_skip_errors").await;
    let mut conn = m1(&dbs).await;
    let (bad, good): (u64, u64) = conn
        .query_first("SELECT MIN(entity_id), MAX(entity_id) FROM sales_flat_order")
        .await
        .unwrap()
        .unwrap();
    let long = format!("{}@example.com", "y".repeat(188));
    conn.exec_drop(
        "UPDATE sales_flat_order SET customer_email = ? WHERE entity_id = ?",
        (&long, bad),
    )
    .await
    .unwrap();
    conn.exec_drop(
        "UPDATE sales_flat_order SET status = 'closed' WHERE entity_id = ?",
        (good,),
    )
    .await
    .unwrap();
    // Without --skip-errors the run stops, naming table, key and column.
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains(&format!("sales_order (M1 sales_flat_order entity_id={bad}): column customer_email: the M1 value has 200 characters, too long for varchar(128)")),
        "{stderr}"
    );
    let json = support::scratch_dir("delta_skip_errors_json").join("cycles.jsonl");
    let (code, stdout, stderr) = support::cli(&cli_args(
        &setup,
        &[
            "--once",
            "--skip-errors",
            "--report-json",
            json.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("1 keys were quarantined"), "{stdout}");
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let quarantined: Vec<(String, String)> = m2
        .query("SELECT source_table, source_key FROM mage_migrate_quarantine")
        .await
        .unwrap();
    assert_eq!(
        quarantined,
        [("sales_flat_order".to_string(), format!("entity_id={bad}"))]
    );
    let status: Option<String> = m2
        .exec_first(
            "SELECT status FROM sales_order WHERE entity_id = ?",
            (good,),
        )
        .await
        .unwrap();
    assert_eq!(status.as_deref(), Some("closed"));
    let lines = std::fs::read_to_string(&json).unwrap();
    assert!(lines.starts_with("{\"cycle\":1,\"keys\":"), "{lines}");
    assert!(
        lines.contains("{\"table\":\"sales_flat_order\",\"upserted\":1,\"deleted\":0}"),
        "{lines}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let (_dbs, setup) = migrated("delta_json_logs").await;
    let args = cli_args(&setup, &["--once", "--log-format", "json", "-v"]);
    let (code, _, stderr) = support::cli(&args);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value.get("level").is_some(), "{line}");
    }
}

#[tokio::test]
async fn the_orphan_sweep_gives_late_children_what_m2_foreign_keys_would() {
    use mage_migrate::pipeline::sweep::{read_child_keys, sweep};
    let (dbs, _setup) = migrated("delta_sweep").await;
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let keys = read_child_keys(&mut m2).await.unwrap();
    let items_fk = keys
        .iter()
        .find(|k| k.child == "sales_order_item" && k.parent == "sales_order")
        .expect("sales_order_item → sales_order");
    assert_eq!(
        (items_fk.columns.as_slice(), items_fk.on_delete.as_str()),
        (&["order_id".to_string()][..], "CASCADE")
    );
    let history_fk = keys
        .iter()
        .find(|k| k.child == "sales_order_status_history" && k.parent == "sales_order")
        .unwrap();
    // A parent gone while children arrived after its cascade: what the race leaves behind.
    let order: u64 = m2
        .query_first("SELECT MIN(order_id) FROM sales_order_item")
        .await
        .unwrap()
        .unwrap();
    m2.query_drop("SET foreign_key_checks = 0").await.unwrap();
    m2.exec_drop("DELETE FROM sales_order WHERE entity_id = ?", (order,))
        .await
        .unwrap();
    let orphans: u64 = m2
        .exec_first(
            "SELECT COUNT(*) FROM sales_order_item WHERE order_id = ?",
            (order,),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(orphans > 0);
    let swept = sweep(&mut m2, items_fk, &[vec![mysql_async::Value::UInt(order)]])
        .await
        .unwrap();
    assert_eq!(swept, orphans);
    sweep(
        &mut m2,
        history_fk,
        &[vec![mysql_async::Value::UInt(order)]],
    )
    .await
    .unwrap();
    let left: u64 = m2
        .exec_first(
            "SELECT COUNT(*) FROM sales_order_item WHERE order_id = ?",
            (order,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left, 0);
    // Children of a parent that still exists are never touched.
    let other: u64 = m2
        .query_first("SELECT MAX(order_id) FROM sales_order_item")
        .await
        .unwrap()
        .unwrap();
    let before: u64 = m2
        .exec_first(
            "SELECT COUNT(*) FROM sales_order_item WHERE order_id = ?",
            (other,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sweep(&mut m2, items_fk, &[vec![mysql_async::Value::UInt(other)]])
            .await
            .unwrap(),
        0
    );
    let after: u64 = m2
        .exec_first(
            "SELECT COUNT(*) FROM sales_order_item WHERE order_id = ?",
            (other,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, after);
    // SET NULL keys null the reference instead.
    if let Some(null_fk) = keys.iter().find(|k| {
        k.on_delete == "SET NULL" && k.child == "sales_order" && k.columns == ["customer_id"]
    }) {
        let customer: Option<u64> = m2
            .query_first("SELECT MIN(customer_id) FROM sales_order")
            .await
            .unwrap()
            .unwrap_or(None);
        if let Some(customer) = customer {
            m2.exec_drop(
                format!("DELETE FROM {} WHERE entity_id = ?", null_fk.parent),
                (customer,),
            )
            .await
            .unwrap();
            assert!(
                sweep(
                    &mut m2,
                    null_fk,
                    &[vec![mysql_async::Value::UInt(customer)]]
                )
                .await
                .unwrap()
                    > 0
            );
            let still: u64 = m2
                .exec_first(
                    "SELECT COUNT(*) FROM sales_order WHERE customer_id = ?",
                    (customer,),
                )
                .await
                .unwrap()
                .unwrap();
            assert_eq!(still, 0);
        }
    }
}

#[tokio::test]
async fn the_volume_check_says_which_way_a_table_differs_and_why() {
    let (dbs, setup) = migrated("delta_volume").await;
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    // Rows M2 lacks though nothing is pending for them: not something the delta can see.
    m2.query_drop("DELETE FROM wishlist_item_option ORDER BY option_id LIMIT 3")
        .await
        .unwrap();
    let report = once(&setup).await;
    // (Other steps' checks, such as SalesIncrement's, have lines of their own.)
    let lines: Vec<&String> = report
        .volume
        .iter()
        .filter(|l| l.starts_with("volume check: "))
        .collect();
    assert_eq!(lines.len(), 1, "{:?}", report.volume);
    let line = lines[0];
    assert!(
        line.starts_with("volume check: wishlist_item_option has "),
        "{line}"
    );
    assert!(
        line.contains("(3 fewer in M2): rows M1 had before the triggers were installed"),
        "{line}"
    );
    assert!(!line.contains("the store was live"), "{line}");
}

#[tokio::test]
async fn the_dmts_own_triggers_are_refused_with_the_fix() {
    let (dbs, setup) = migrated("delta_dmt_triggers").await;
    let mut conn = m1(&dbs).await;
    // What the DMT installs: the same statement without the reset of `processed`.
    let dmt = mage_migrate::deltalog::ddl::dmt_statement(
        "m2_cl_review",
        &["review_id"],
        mage_migrate::deltalog::Event::Update,
    );
    conn.query_drop("SET SESSION sql_mode = ''").await.unwrap();
    conn.query_drop(mage_migrate::deltalog::ddl::create_trigger(
        "trg_review_after_update",
        mage_migrate::deltalog::Event::Update,
        "review",
        &mage_migrate::deltalog::ddl::body(&dmt),
        true,
    ))
    .await
    .unwrap();
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: Deltalog for review is installed, but its UPDATE trigger trg_review_after_update was installed by the DMT and loses changes made while a row is migrated; upgrade it with: mage-migrate deltalog install {}",
            setup.config.path.display()
        )
    );
    let (code, _, _) = support::cli(&["deltalog", "install", setup.config.path.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test]
async fn a_second_follower_of_the_same_database_is_refused() {
    let (dbs, setup) = migrated("delta_single_follower").await;
    let mut holder = m1(&dbs).await;
    let got: Option<u8> = holder
        .query_first("SELECT GET_LOCK(CONCAT('mage_migrate_delta:', LEFT(DATABASE(), 40)), 0)")
        .await
        .unwrap();
    assert_eq!(got, Some(1));
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("another mage-migrate migrate:delta follows this Magento 1 database"),
        "{stderr}"
    );
    holder
        .query_drop("DO RELEASE_LOCK(CONCAT('mage_migrate_delta:', LEFT(DATABASE(), 40)))")
        .await
        .unwrap();
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test]
async fn a_small_per_cycle_budget_spreads_the_backlog_over_cycles_and_ends_equal() {
    let (dbs, setup) = migrated("delta_budget").await;
    workload(&dbs, 41, 200).await;
    let mut options = DeltaOptions {
        max_keys_per_step: 10,
        page_rows: 5,
        ..delta_options(&setup)
    };
    // One step, so a cycle's keys are that step's budget.
    options.skip_steps.push("SalesIncrement Step".into());
    options.skip_steps.push("Log Step".into());
    options.skip_steps.push("Customer Attributes Step".into());
    let mut cycles = Vec::new();
    let report = migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |c| {
        cycles.push(c.keys)
    })
    .await
    .unwrap();
    assert!(cycles.len() > 3, "{cycles:?}");
    // Readers claiming at once may each overshoot the budget by a page at most.
    assert!(cycles.iter().all(|k| *k <= 10 + 4 * 5), "{cycles:?}");
    assert!(report.upserted > 30, "{report:?}");
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
}
