//! `migrate:delta --source binlog` against a real MariaDB (binary logging on, default row
//! metadata): M2 equal to M1 through the map after a live workload, identical to what the
//! deltalog source leaves; every deltalog row acknowledged; resume from the checkpoints; the
//! cross-check; start positions.

mod support;

use std::sync::Arc;

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::migrate_delta::binlog::BinlogOptions;
use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::source::binlog::StartAt;
use mage_migrate::storefront::{seed_store, StoreProfile, Workload, WorkloadMix};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use support::TestDatabases;

fn mix() -> WorkloadMix {
    WorkloadMix {
        delete_customer: 0,
        ..WorkloadMix::default()
    }
}

async fn migrated(test: &str) -> (TestDatabases, Setup) {
    migrated_on(support::server(), test).await
}

async fn migrated_on(server: &mage_migrate::sandbox::Server, test: &str) -> (TestDatabases, Setup) {
    let dbs = support::databases_on(server, test).await;
    let mut root = support::root_conn(server).await;
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

fn binlog_options(setup: &Setup, start: Option<StartAt>) -> DeltaOptions {
    DeltaOptions {
        skip_steps: migrate_data::unbuilt_steps(setup, "delta"),
        once: true,
        binlog: Some(BinlogOptions {
            start,
            // One id per run: two replicas with one id on a server push each other out.
            server_id: {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                4000 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            heartbeat: std::time::Duration::from_secs(1),
        }),
        ..DeltaOptions::default()
    }
}

async fn once_binlog(setup: &Setup) -> migrate_delta::DeltaReport {
    migrate_delta::run(
        setup,
        &binlog_options(setup, None),
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

/// Rows of the followed deltalogs (all `processed` values). The M1 grids are in the group but
/// map.xml ignores them (the OrderGrids step builds M2's): their rows stay, as with the DMT.
async fn deltalog_rows(dbs: &TestDatabases, setup: &Setup) -> u64 {
    let mut root = support::root_conn(support::server()).await;
    let mut total = 0;
    for (document, _) in setup.deltalog_groups.documents_of("delta_map") {
        if document.ends_with("_grid") {
            continue;
        }
        let n: Option<u64> = root
            .query_first(format!(
                "SELECT COUNT(*) FROM `{}`.`m2_cl_{document}`",
                dbs.m1.name
            ))
            .await
            .unwrap_or(None);
        total += n.unwrap_or(0);
    }
    total
}

#[tokio::test]
async fn once_leaves_m2_equal_to_m1_and_the_deltalog_empty() {
    let (dbs, setup) = migrated("binlog_once").await;
    workload(&dbs, 11, 400).await;
    assert!(deltalog_rows(&dbs, &setup).await > 100);
    let report = once_binlog(&setup).await;
    assert!(report.upserted > 100, "{report:?}");
    // The changes came from the row events, not only through the claims.
    assert!(report.binlog_changes > 400, "{report:?}");
    assert!(report.deleted > 0, "{report:?}");
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
    let check = report.cross_check.expect("a cross-check");
    assert!(check.is_clean(), "{:?}", check.lines());
    // Every deltalog row was claimed, its claim came through the binlog and was acknowledged.
    assert_eq!(deltalog_rows(&dbs, &setup).await, 0);
    assert!(report.binlog_position.is_some());
}

fn cli_args(setup: &Setup, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "migrate:delta".to_string(),
        setup.config.path.display().to_string(),
        "--source".into(),
        "binlog".into(),
    ];
    for step in migrate_data::unbuilt_steps(setup, "delta") {
        args.push("--skip-step".into());
        args.push(step);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

async fn root(dbs: &TestDatabases) -> Conn {
    let _ = dbs;
    support::root_conn(support::server()).await
}

/// Waits for a condition, up to a minute.
async fn wait_until<F>(what: &str, mut check: F)
where
    F: FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>,
{
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn both_sources_leave_identical_m2_databases() {
    // One M1, two M2s: the deltalog source into one, the binlog source into the other.
    let (dbs, setup) = migrated("binlog_same").await;
    let other = support::databases("binlog_same_b").await;
    let mut r = root(&dbs).await;
    create_database(&mut r, &other.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    let both = TestDatabases {
        m1: dbs.m1.clone(),
        m2: other.m2.clone(),
    };
    let setup_b = Setup::load(&support::write_config("binlog_same_b", &both, None)).unwrap();
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup_b, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup_b, &data).await.unwrap();
    workload(&dbs, 17, 500).await;
    // The deltalog source first: it empties the deltalog; the binlog still has everything.
    let deltalog = DeltaOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
        once: true,
        ..DeltaOptions::default()
    };
    migrate_delta::run(&setup, &deltalog, Arc::new(Stop::default()), |_| {})
        .await
        .unwrap();
    let report = migrate_delta::run(
        &setup_b,
        &binlog_options(&setup_b, None),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap();
    assert!(report.upserted > 100, "{report:?}");
    assert_eq!(
        support::diff_group(&both, &setup_b, "delta_map").await,
        Vec::<String>::new()
    );
    let tables: Vec<String> = r
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME NOT LIKE 'mage\\_migrate\\_%' ORDER BY 1",
            (&dbs.m2.name,),
        )
        .await
        .unwrap();
    assert!(tables.len() > 50);
    // Every column but those M2 fills itself at write time (`updated_at` and such, which the
    // two runs wrote at different moments).
    for table in tables {
        let columns: Vec<String> = r
            .exec(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 AND NOT (IFNULL(COLUMN_DEFAULT, '') LIKE 'current_timestamp%' OR EXTRA LIKE '%on update%') ORDER BY ORDINAL_POSITION",
                (&dbs.m2.name, &table),
            )
            .await
            .unwrap();
        let list: Vec<String> = columns
            .iter()
            .map(|c| format!("IFNULL(HEX(`{c}`), 'N')"))
            .collect();
        let sum = |db: &str| {
            format!(
                "SELECT COUNT(*), CAST(IFNULL(SUM(CRC32(CONCAT_WS('|', {}))), 0) AS UNSIGNED) FROM `{db}`.`{table}`",
                list.join(", ")
            )
        };
        let a: Option<(u64, u64)> = r.query_first(sum(&dbs.m2.name)).await.unwrap();
        let b: Option<(u64, u64)> = r.query_first(sum(&other.m2.name)).await.unwrap();
        assert_eq!(a, b, "{table} differs");
    }
}

const TYPES_DDL: &str = "CREATE TABLE mm_types (
  id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  t_u tinyint unsigned, s_u smallint unsigned, m_u mediumint unsigned, i_u int unsigned,
  b_u bigint unsigned, i_s int, b_s bigint, t_s tinyint,
  dec_v decimal(12,4), f_v float, d_v double,
  dt datetime, dt6 datetime(6), ts timestamp NULL DEFAULT NULL, ts6 timestamp(6) NULL DEFAULT NULL,
  d date, tm time, y year,
  c char(8), v varchar(64) CHARACTER SET utf8mb4, l varchar(32) CHARACTER SET latin1,
  vb varbinary(16), bn binary(4), tx text, bl longblob,
  e enum('new','processing','complete'), st set('a','b','c'),
  big longtext
) ENGINE=InnoDB DEFAULT CHARSET=utf8";

#[tokio::test]
async fn every_column_type_round_trips_from_the_after_image() {
    let dbs = support::databases("binlog_types").await;
    let mut r = root(&dbs).await;
    create_database(&mut r, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut r, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    for db in [&dbs.m1.name, &dbs.m2.name] {
        r.query_drop(format!("USE `{db}`")).await.unwrap();
        r.query_drop(TYPES_DDL).await.unwrap();
    }
    let stock = std::fs::read_to_string(support::fixture_etc().join("deltalog.xml.dist")).unwrap();
    let deltalog = stock.replacen(
        "<group name=\"delta_map\">",
        "<group name=\"delta_map\">\n        <document key=\"id\">mm_types</document>",
        1,
    );
    let setup = Setup::load(&support::write_config(
        "binlog_types",
        &dbs,
        Some(&deltalog),
    ))
    .unwrap();
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data).await.unwrap();
    let mut m1 = m1(&dbs).await;
    m1.query_drop(
        "INSERT INTO mm_types VALUES
         (NULL, 255, 65535, 16777215, 4294967295, 18446744073709551615, -2147483648, -9223372036854775808, -128,
          -12345678.1234, 1.5, -2.25e-300, '2024-02-29 23:59:59', '2024-02-29 23:59:59.123456',
          '2038-01-19 03:14:07', '2000-01-01 12:00:00.000001', '1000-01-01', '-838:59:59', 2155,
          'abc', 'emoji 😀 🎁', _latin1 X'636166E9', X'FF00FE', X'00FF0000', 'text ü', X'00FF',
          'complete', 'a,c', NULL),
         (NULL, 0, 0, 0, 0, 0, 2147483647, 9223372036854775807, 127,
          0.0001, NULL, NULL, '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, '00:00:00', 0,
          '', '', '', X'', NULL, NULL, NULL, NULL, '', NULL),
         (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    .await
    .unwrap();
    m1.query_drop("UPDATE mm_types SET v = 'changed 💡', i_u = 4294967294 WHERE id = 2")
        .await
        .unwrap();
    m1.query_drop("INSERT INTO mm_types (id, v) VALUES (10, 'to delete')")
        .await
        .unwrap();
    m1.query_drop("DELETE FROM mm_types WHERE id = 10")
        .await
        .unwrap();
    // A 17 MiB row: one event above the 16 MiB packet size.
    m1.query_drop("INSERT INTO mm_types (id, big) VALUES (20, REPEAT('x', 17 * 1024 * 1024))")
        .await
        .unwrap();
    let expected: Vec<(u32, Option<u64>)> = checksums(&mut r, &dbs.m1.name).await;
    // Then change M1 without the binlog seeing it: a row written from anything but the
    // after-image would show here.
    r.query_drop("SET SESSION sql_log_bin = 0").await.unwrap();
    r.query_drop(format!(
        "UPDATE `{}`.mm_types SET v = 'not in the binlog', bl = NULL",
        dbs.m1.name
    ))
    .await
    .unwrap();
    r.query_drop("SET SESSION sql_log_bin = 1").await.unwrap();
    let report = migrate_delta::run(
        &setup,
        &binlog_options(&setup, None),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.cross_check.unwrap().is_clean());
    assert_eq!(checksums(&mut r, &dbs.m2.name).await, expected);
    let count: Option<u64> = r
        .query_first(format!("SELECT COUNT(*) FROM `{}`.mm_types", dbs.m2.name))
        .await
        .unwrap();
    assert_eq!(count, Some(4));
}

/// Per row of mm_types: (id, CRC32 of every column's text and hex).
async fn checksums(r: &mut Conn, db: &str) -> Vec<(u32, Option<u64>)> {
    r.query(format!(
        "SELECT id, CRC32(CONCAT_WS('|', IFNULL(t_u,'N'), IFNULL(s_u,'N'), IFNULL(m_u,'N'), IFNULL(i_u,'N'),
           IFNULL(b_u,'N'), IFNULL(i_s,'N'), IFNULL(b_s,'N'), IFNULL(t_s,'N'), IFNULL(dec_v,'N'),
           IFNULL(f_v,'N'), IFNULL(d_v,'N'), IFNULL(dt,'N'), IFNULL(dt6,'N'), IFNULL(ts,'N'),
           IFNULL(ts6,'N'), IFNULL(d,'N'), IFNULL(tm,'N'), IFNULL(y,'N'), IFNULL(HEX(c),'N'),
           IFNULL(HEX(v),'N'), IFNULL(HEX(l),'N'), IFNULL(HEX(vb),'N'), IFNULL(HEX(bn),'N'),
           IFNULL(HEX(tx),'N'), IFNULL(HEX(bl),'N'), IFNULL(e,'N'), IFNULL(st,'N'),
           IFNULL(MD5(big),'N'))) FROM `{db}`.mm_types ORDER BY id"
    ))
    .await
    .unwrap()
}

async fn drop_trigger(dbs: &TestDatabases, table: &str, event: &str) {
    let mut r = root(dbs).await;
    let names: Vec<String> = r
        .exec(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? AND EVENT_MANIPULATION = ?",
            (&dbs.m1.name, table, event),
        )
        .await
        .unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    r.query_drop(format!("DROP TRIGGER `{}`.`{}`", dbs.m1.name, names[0]))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_trigger_removed_by_hand_shows_in_the_cross_check_and_its_changes_still_reach_m2() {
    let (dbs, setup) = migrated("binlog_trigger").await;
    drop_trigger(&dbs, "sales_flat_order", "UPDATE").await;
    let mut m1 = m1(&dbs).await;
    let ids: Vec<u32> = m1
        .query("SELECT entity_id FROM sales_flat_order ORDER BY entity_id LIMIT 5")
        .await
        .unwrap();
    assert_eq!(ids.len(), 5);
    for id in &ids {
        m1.exec_drop(
            "UPDATE sales_flat_order SET status = 'holded', customer_note = 'by hand' WHERE entity_id = ?",
            (id,),
        )
        .await
        .unwrap();
    }
    // Hot rows: the same order item updated many times, each in its own transaction; the
    // trigger's write changes nothing after the first, and logs no row event.
    for n in 0..30 {
        m1.query_drop(format!(
            "UPDATE sales_flat_order_item SET qty_ordered = {n} + 1 ORDER BY item_id LIMIT 1"
        ))
        .await
        .unwrap();
    }
    let report = migrate_delta::run(
        &setup,
        &binlog_options(&setup, None),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let check = report.cross_check.unwrap();
    assert_eq!(
        check.changes_without_deltalog.get("sales_flat_order"),
        Some(&5),
        "{:?}",
        check.lines()
    );
    assert_eq!(
        check.changes_without_deltalog.len(),
        1,
        "{:?}",
        check.lines()
    );
    assert!(
        check.deltalog_without_change.is_empty(),
        "{:?}",
        check.lines()
    );
    assert!(check.lines()[0].starts_with(
        "cross-check: 5 changes to sales_flat_order in the binlog have no deltalog row"
    ));
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn start_now_after_a_dmt_copy_drains_what_the_deltalog_holds() {
    let (dbs, setup) = migrated("binlog_now").await;
    workload(&dbs, 5, 200).await;
    // As after a bulk copy by the DMT: no recorded position.
    let mut r = root(&dbs).await;
    r.query_drop(format!(
        "DELETE FROM `{}`.mage_migrate_binlog_start",
        dbs.m2.name
    ))
    .await
    .unwrap();
    let err = migrate_delta::run(
        &setup,
        &binlog_options(&setup, None),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no binlog start position: mage-migrate migrate:data records one"),
        "{err}"
    );
    let report = migrate_delta::run(
        &setup,
        &binlog_options(&setup, Some(StartAt::Now)),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.upserted > 50, "{report:?}");
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
    assert_eq!(deltalog_rows(&dbs, &setup).await, 0);
}

#[tokio::test]
async fn a_purged_position_is_refused_with_the_way_out() {
    let (_dbs, setup) = migrated("binlog_purged").await;
    let (code, _, stderr) = support::cli(&cli_args(
        &setup,
        &["--once", "--start-position", "mysql-bin.999999:4"],
    ));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("prechecks failed")
            && stderr.contains("start position: ")
            && stderr.contains("mysql-bin.999999")
            && stderr.contains("--source deltalog"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_user_without_replication_slave_is_told_what_is_missing() {
    let (dbs, setup) = migrated("binlog_priv").await;
    let mut r = root(&dbs).await;
    let user = format!("nobinlog_{}", std::process::id());
    for host in ["127.0.0.1", "localhost"] {
        r.query_drop(format!(
            "CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY 'pw'"
        ))
        .await
        .unwrap();
        for db in [&dbs.m1.name, &dbs.m2.name] {
            r.query_drop(format!("GRANT ALL ON `{db}`.* TO '{user}'@'{host}'"))
                .await
                .unwrap();
        }
    }
    let config = std::fs::read_to_string(&setup.config.path).unwrap();
    let m1_tag = format!("name=\"{}\" user=\"root\"", dbs.m1.name);
    assert!(config.contains(&m1_tag));
    let config = config.replace(
        &m1_tag,
        &format!("name=\"{}\" user=\"{user}\" password=\"pw\"", dbs.m1.name),
    );
    std::fs::write(&setup.config.path, config).unwrap();
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("prechecks failed") && stderr.contains("REPLICATION SLAVE"),
        "{stderr}"
    );
    assert!(!stderr.contains("pw"), "{stderr}");
}

#[tokio::test]
async fn following_survives_rotation_a_dropped_connection_and_a_hard_kill() {
    let (dbs, setup) = migrated("binlog_follow").await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(cli_args(
            &setup,
            &[
                "--batch-rows",
                "20",
                "--workers",
                "2",
                "--poll-interval-ms",
                "100",
            ],
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut r = root(&dbs).await;
    // The follower is streaming once its dump thread shows in the process list.
    wait_until("the follower streams", || {
        Box::pin(async move {
            let mut r = support::root_conn(support::server()).await;
            let n: Option<u64> = r
                .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
                .await
                .unwrap();
            n.unwrap_or(0) > 0
        })
    })
    .await;
    workload(&dbs, 41, 150).await;
    r.query_drop("FLUSH BINARY LOGS").await.unwrap();
    workload(&dbs, 42, 150).await;
    // Drop every binlog dump connection (other tests' too: they reconnect the same way).
    let ids: Vec<u64> = r
        .query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
        .await
        .unwrap();
    for id in ids {
        let _ = r.query_drop(format!("KILL CONNECTION {id}")).await;
    }
    workload(&dbs, 43, 150).await;
    let dbs2 = TestDatabases {
        m1: dbs.m1.clone(),
        m2: dbs.m2.clone(),
    };
    let setup_path = setup.config.path.clone();
    wait_until("M2 caught up while following", move || {
        let dbs = TestDatabases {
            m1: dbs2.m1.clone(),
            m2: dbs2.m2.clone(),
        };
        let setup = Setup::load(&setup_path).unwrap();
        Box::pin(async move {
            support::diff_group(&dbs, &setup, "delta_map")
                .await
                .is_empty()
        })
    })
    .await;
    // More changes, then a hard kill while they are applied, and a restart.
    workload(&dbs, 44, 300).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("resuming at"), "{stderr}");
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
    assert_eq!(deltalog_rows(&dbs, &setup).await, 0);
}

#[tokio::test]
async fn a_hard_kill_in_the_middle_of_a_large_m1_transaction_resumes_exactly() {
    let dbs = support::databases("binlog_bigtx").await;
    let mut r = root(&dbs).await;
    create_database(&mut r, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut r, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    for db in [&dbs.m1.name, &dbs.m2.name] {
        r.query_drop(format!(
            "CREATE TABLE `{db}`.mm_big (id int unsigned NOT NULL PRIMARY KEY, v varchar(64) NOT NULL) ENGINE=InnoDB"
        ))
        .await
        .unwrap();
    }
    let stock = std::fs::read_to_string(support::fixture_etc().join("deltalog.xml.dist")).unwrap();
    let deltalog = stock.replacen(
        "<group name=\"delta_map\">",
        "<group name=\"delta_map\">\n        <document key=\"id\">mm_big</document>",
        1,
    );
    let setup = Setup::load(&support::write_config(
        "binlog_bigtx",
        &dbs,
        Some(&deltalog),
    ))
    .unwrap();
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data).await.unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(cli_args(&setup, &["--batch-rows", "200", "--workers", "2"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // One M1 transaction of 60,000 rows: the follower sends it in parts, without a position.
    let mut m1 = m1(&dbs).await;
    m1.query_drop("BEGIN").await.unwrap();
    m1.query_drop("INSERT INTO mm_big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_60000")
        .await
        .unwrap();
    m1.query_drop("COMMIT").await.unwrap();
    let m2_name = dbs.m2.name.clone();
    wait_until("part of the transaction is in M2", move || {
        let m2_name = m2_name.clone();
        Box::pin(async move {
            let mut r = support::root_conn(support::server()).await;
            let n: Option<u64> = r
                .query_first(format!("SELECT COUNT(*) FROM `{m2_name}`.mm_big"))
                .await
                .unwrap();
            n.unwrap_or(0) > 0
        })
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let partly: Option<u64> = r
        .query_first(format!("SELECT COUNT(*) FROM `{}`.mm_big", dbs.m2.name))
        .await
        .unwrap();
    m1.query_drop("UPDATE mm_big SET v = 'after the kill' WHERE id = 7")
        .await
        .unwrap();
    let (code, _, stderr) = support::cli(&cli_args(&setup, &["--once"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("resuming at"), "{stderr}");
    let sum = |db: &str| {
        format!("SELECT COUNT(*), CAST(SUM(CRC32(CONCAT(id, v))) AS UNSIGNED) FROM `{db}`.mm_big")
    };
    let a: Option<(u64, u64)> = r.query_first(sum(&dbs.m1.name)).await.unwrap();
    let b: Option<(u64, u64)> = r.query_first(sum(&dbs.m2.name)).await.unwrap();
    assert_eq!(a, b, "M2 had {partly:?} rows at the kill");
    assert_eq!(a.map(|x| x.0), Some(60_000));
}

#[tokio::test]
async fn full_row_metadata_works_and_a_ddl_on_a_followed_table_stops_the_stream() {
    let server = support::own_server(&["--binlog-row-metadata=FULL"]);
    let (dbs, setup) = migrated_on(&server, "binlog_full").await;
    workload(&dbs, 7, 100).await;
    let report = once_binlog(&setup).await;
    assert!(report.binlog_changes > 100, "{report:?}");
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
    // A change, then a column added to its table (in M2 too, so map.xml still accounts for
    // it): read afterwards, the change's row no longer matches information_schema.
    let mut m1 = m1(&dbs).await;
    m1.query_drop("UPDATE sales_flat_order_status_history SET comment = 'before the DDL' ORDER BY entity_id LIMIT 1")
        .await
        .unwrap();
    m1.query_drop("ALTER TABLE sales_flat_order_status_history ADD COLUMN extra int NULL")
        .await
        .unwrap();
    let mut m2 = mage_migrate::db::connect(mage_migrate::error::Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    m2.query_drop("ALTER TABLE sales_order_status_history ADD COLUMN extra int NULL")
        .await
        .unwrap();
    let err = migrate_delta::run(
        &setup,
        &binlog_options(&setup, None),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.exit_code(), 4);
    let text = err.to_string();
    assert!(
        text.contains(".sales_flat_order_status_history was altered while the delta follows it")
            && text.contains("schemas must stay frozen during a migration"),
        "{text}"
    );
}

/// (entity type, store, M1 number, M2 last sequence value) for the sequenced types.
async fn increments(dbs: &TestDatabases) -> Vec<(String, u64, u64, u64)> {
    let mut r = root(dbs).await;
    let rows: Vec<(String, u64, String, String)> = r
        .query(format!(
            "SELECT t.entity_type_code, s.store_id, IFNULL(s.increment_prefix, ''), s.increment_last_id \
             FROM `{0}`.eav_entity_store s JOIN `{0}`.eav_entity_type t USING (entity_type_id) \
             WHERE t.entity_type_code IN ('order', 'invoice', 'creditmemo', 'shipment') ORDER BY 1, 2",
            dbs.m1.name
        ))
        .await
        .unwrap();
    let mut out = Vec::new();
    for (code, store, prefix, last) in rows {
        let number = mage_migrate::steps::sales_increment::increment_number(&last, &prefix);
        let m2: Option<Option<u64>> = r
            .query_first(format!(
                "SELECT MAX(sequence_value) FROM `{}`.sequence_{code}_{store}",
                dbs.m2.name
            ))
            .await
            .unwrap();
        out.push((code, store, number, m2.flatten().unwrap_or(0)));
    }
    out
}

#[tokio::test]
async fn sales_increment_carries_the_last_increment_ids_with_both_sources() {
    for source in ["deltalog", "binlog"] {
        let (dbs, setup) = migrated(&format!("binlog_increment_{source}")).await;
        workload(&dbs, 9, 300).await;
        let options = if source == "binlog" {
            binlog_options(&setup, None)
        } else {
            DeltaOptions {
                skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
                once: true,
                ..DeltaOptions::default()
            }
        };
        assert!(
            !options
                .skip_steps
                .contains(&"SalesIncrement Step".to_string()),
            "{:?}",
            options.skip_steps
        );
        let report = migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = increments(&dbs).await;
        // migrate:data's SalesIncrement part created every sequence with M1's last number; the
        // delta carried the workload's new ones.
        assert!(
            rows.iter().all(|(_, _, n, m2)| n == m2),
            "{source}: {rows:?}"
        );
        let mut r = root(&dbs).await;
        let stores: Option<u64> = r
            .query_first(format!("SELECT COUNT(*) FROM `{}`.core_store", dbs.m1.name))
            .await
            .unwrap();
        let profiles: Vec<(String, u64, String, String)> = r
            .query(format!(
                "SELECT m.entity_type, m.store_id, m.sequence_table, p.prefix FROM `{0}`.sales_sequence_meta m \
                 JOIN `{0}`.sales_sequence_profile p USING (meta_id) ORDER BY 1, 2",
                dbs.m2.name
            ))
            .await
            .unwrap();
        assert_eq!(
            profiles.len() as u64,
            5 * stores.unwrap(),
            "{source}: {profiles:?}"
        );
        assert!(profiles.iter().all(
            |(t, s, table, prefix)| *table == format!("sequence_{t}_{s}")
                && *prefix == s.to_string()
        ));
        let changed: Vec<_> = rows.iter().filter(|(_, _, _, m2)| *m2 > 0).collect();
        assert!(changed.len() >= 2, "{source}: {rows:?}");
        for (code, store, number, m2) in &changed {
            assert_eq!(number, m2, "{source}: {code} of store {store}");
        }
        // Types the workload did not touch keep no sequence: the volume check says so, in the
        // DMT's words.
        let untouched = rows
            .iter()
            .filter(|(_, _, n, m2)| *m2 == 0 && *n > 0)
            .count();
        let mismatches = report
            .volume
            .iter()
            .filter(|l| l.starts_with("Mismatch in last increment id of "))
            .count();
        assert_eq!(mismatches, untouched, "{source}: {:?}", report.volume);
    }
}

/// Grid rows that do not match the M2 rows they are built from (or have none), per grid.
async fn grid_problems(dbs: &TestDatabases) -> Vec<String> {
    let mut r = root(dbs).await;
    let db = &dbs.m2.name;
    let name =
        |a: &str| format!("TRIM(CONCAT(IFNULL({a}.firstname, ''), ' ', IFNULL({a}.lastname, '')))");
    let checks = [
        (
            "sales_order_grid",
            format!(
                "SELECT COUNT(*) FROM `{db}`.sales_order o LEFT JOIN `{db}`.sales_order_grid g ON g.entity_id = o.entity_id \
                 LEFT JOIN `{db}`.sales_order_address b ON b.entity_id = o.billing_address_id \
                 WHERE g.entity_id IS NULL OR NOT (g.status <=> o.status) OR NOT (g.grand_total <=> o.grand_total) \
                 OR NOT (g.increment_id <=> o.increment_id) OR NOT (g.billing_name <=> {}) \
                 OR NOT (g.payment_method <=> (SELECT p.method FROM `{db}`.sales_order_payment p WHERE p.parent_id = o.entity_id LIMIT 1))",
                name("b")
            ),
        ),
        (
            "sales_invoice_grid",
            format!(
                "SELECT COUNT(*) FROM `{db}`.sales_invoice x LEFT JOIN `{db}`.sales_invoice_grid g ON g.entity_id = x.entity_id \
                 LEFT JOIN `{db}`.sales_order o ON o.entity_id = x.order_id \
                 WHERE g.entity_id IS NULL OR NOT (g.state <=> x.state) OR NOT (g.order_increment_id <=> o.increment_id)"
            ),
        ),
        (
            "sales_shipment_grid",
            format!(
                "SELECT COUNT(*) FROM `{db}`.sales_shipment x LEFT JOIN `{db}`.sales_shipment_grid g ON g.entity_id = x.entity_id \
                 LEFT JOIN `{db}`.sales_order o ON o.entity_id = x.order_id \
                 WHERE g.entity_id IS NULL OR NOT (g.total_qty <=> x.total_qty) OR NOT (g.order_status <=> o.status)"
            ),
        ),
        (
            "sales_creditmemo_grid",
            format!(
                "SELECT COUNT(*) FROM `{db}`.sales_creditmemo x LEFT JOIN `{db}`.sales_creditmemo_grid g ON g.entity_id = x.entity_id \
                 LEFT JOIN `{db}`.sales_order o ON o.entity_id = x.order_id \
                 WHERE g.entity_id IS NULL OR NOT (g.state <=> x.state) OR NOT (g.order_status <=> o.status)"
            ),
        ),
    ];
    let mut out = Vec::new();
    for (grid, sql) in checks {
        let n: Option<u64> = r.query_first(sql).await.unwrap();
        if n != Some(0) {
            out.push(format!("{grid}: {n:?} rows differ from their source"));
        }
        let source = grid.trim_end_matches("_grid");
        let extra: Option<u64> = r
            .query_first(format!(
                "SELECT COUNT(*) FROM `{db}`.{grid} g LEFT JOIN `{db}`.{source} x ON x.entity_id = g.entity_id WHERE x.entity_id IS NULL"
            ))
            .await
            .unwrap();
        if extra != Some(0) {
            out.push(format!("{grid}: {extra:?} rows whose {source} is gone"));
        }
    }
    out
}

#[tokio::test]
async fn order_grids_follow_their_orders_with_both_sources() {
    // "split": cycles so small that a shipment is applied before its order.
    for source in ["deltalog", "binlog", "split"] {
        let (dbs, setup) = migrated(&format!("binlog_grids_{source}")).await;
        // migrate:data's OrderGrids part filled the grids from the copied orders.
        assert_eq!(
            grid_problems(&dbs).await,
            Vec::<String>::new(),
            "{source}: after migrate:data"
        );
        let mut r = root(&dbs).await;
        let orders: Option<u64> = r
            .query_first(format!(
                "SELECT COUNT(*) FROM `{}`.sales_order_grid",
                dbs.m2.name
            ))
            .await
            .unwrap();
        assert!(orders.unwrap_or(0) > 50, "{source}: {orders:?}");
        // Status changes, new invoices, shipments, credit memos, orders.
        workload(&dbs, 13, 400).await;
        let options = if source == "binlog" {
            binlog_options(&setup, None)
        } else {
            DeltaOptions {
                skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
                once: true,
                max_keys_per_step: if source == "split" { 40 } else { 200_000 },
                page_rows: if source == "split" { 7 } else { 5000 },
                ..DeltaOptions::default()
            }
        };
        assert!(!options.skip_steps.contains(&"OrderGrids Step".to_string()));
        let report = migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(grid_problems(&dbs).await, Vec::<String>::new(), "{source}");
        assert!(
            !report.volume.iter().any(|l| l.contains("(OrderGrids)")),
            "{source}: {:?}",
            report.volume
        );
        let left: Option<u64> = r
            .query_first(format!(
                "SELECT COUNT(*) FROM `{}`.mage_migrate_derivations",
                dbs.m2.name
            ))
            .await
            .unwrap();
        assert_eq!(left, Some(0), "{source}");
    }
}

#[tokio::test]
async fn the_log_step_follows_visitors_into_customer_visitor_with_both_sources() {
    for source in ["deltalog", "binlog"] {
        let (dbs, setup) = migrated(&format!("binlog_log_{source}")).await;
        // migrate:data's Log part: every visitor, with its customer from log_customer.
        let mut r = root(&dbs).await;
        let counts: Option<(u64, u64)> = r
            .query_first(format!(
                "SELECT (SELECT COUNT(*) FROM `{}`.log_visitor), (SELECT COUNT(*) FROM `{}`.customer_visitor)",
                dbs.m1.name, dbs.m2.name
            ))
            .await
            .unwrap();
        let (visitors, copied) = counts.unwrap();
        assert!(visitors > 10 && visitors == copied, "{source}: {counts:?}");
        let wrong: Option<u64> = r
            .query_first(format!(
                "SELECT COUNT(*) FROM `{0}`.log_customer c JOIN `{1}`.customer_visitor v ON v.visitor_id = c.visitor_id \
                 WHERE NOT (v.customer_id <=> c.customer_id)",
                dbs.m1.name, dbs.m2.name
            ))
            .await
            .unwrap();
        let linked: Option<u64> = r
            .query_first(format!(
                "SELECT COUNT(*) FROM `{}`.customer_visitor WHERE customer_id IS NOT NULL",
                dbs.m2.name
            ))
            .await
            .unwrap();
        assert_eq!(wrong, Some(0), "{source}");
        assert!(
            linked.unwrap_or(0) > 0,
            "{source}: no visitor got its customer"
        );
        workload(&dbs, 23, 300).await;
        let options = if source == "binlog" {
            binlog_options(&setup, None)
        } else {
            DeltaOptions {
                skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
                once: true,
                ..DeltaOptions::default()
            }
        };
        assert!(!options.skip_steps.contains(&"Log Step".to_string()));
        migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        // Every visitor the store touched is in M2 as map-log.xml says: renamed, first_visit_at
        // moved to created_at.
        let mut r = root(&dbs).await;
        let touched: Vec<(u64, String, String)> = r
            .query(format!(
                "SELECT visitor_id, CAST(created_at AS CHAR), CAST(last_visit_at AS CHAR) FROM `{}`.customer_visitor ORDER BY 1",
                dbs.m2.name
            ))
            .await
            .unwrap();
        assert!(touched.len() > 5, "{source}: {touched:?}");
        for (id, created, last) in &touched {
            let m1row: Option<(String, String)> = r
                .query_first(format!(
                    "SELECT CAST(first_visit_at AS CHAR), CAST(last_visit_at AS CHAR) FROM `{}`.log_visitor WHERE visitor_id = {id}",
                    dbs.m1.name
                ))
                .await
                .unwrap();
            assert_eq!(
                m1row,
                Some((created.clone(), last.clone())),
                "{source}: visitor {id}"
            );
        }
    }
}

/// M2's MSI rows as the DMT's INSERT … SELECT make them from M1's stock items: (sku,
/// quantity, status) of the default source.
async fn expected_source_items(r: &mut Conn, dbs: &TestDatabases) -> Vec<(String, String, u64)> {
    r.query(format!(
        "SELECT p.sku, CAST(s.qty AS CHAR), s.is_in_stock FROM `{}`.cataloginventory_stock_item s \
         JOIN `{}`.catalog_product_entity p ON p.entity_id = s.product_id ORDER BY p.sku",
        dbs.m1.name, dbs.m2.name
    ))
    .await
    .unwrap()
}

async fn source_items(r: &mut Conn, dbs: &TestDatabases) -> Vec<(String, String, u64)> {
    r.query(format!(
        "SELECT sku, CAST(quantity AS CHAR), status FROM `{}`.inventory_source_item WHERE source_code = 'default' ORDER BY sku",
        dbs.m2.name
    ))
    .await
    .unwrap()
}

async fn shipments_without_source(r: &mut Conn, dbs: &TestDatabases) -> u64 {
    r.query_first(format!(
        "SELECT COUNT(*) FROM `{0}`.sales_shipment s LEFT JOIN `{0}`.inventory_shipment_source i ON i.shipment_id = s.entity_id WHERE i.shipment_id IS NULL",
        dbs.m2.name
    ))
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test]
async fn the_inventory_step_feeds_msi_with_both_sources_and_is_a_logged_skip_without() {
    let (dbs, setup) = migrated("binlog_inventory").await;
    let options = DeltaOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
        once: true,
        ..DeltaOptions::default()
    };
    assert!(!options.skip_steps.contains(&"Inventory Step".to_string()));
    // Without MSI tables: nothing to feed, and no error.
    migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Now a Magento 2 with MSI (and products the EAV step migrated), and stock items in M1.
    let mut r = root(&dbs).await;
    let (one, two) = (&dbs.m1.name, &dbs.m2.name);
    for sql in [
        format!("CREATE TABLE `{one}`.cataloginventory_stock_item (item_id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, product_id int unsigned NOT NULL, stock_id smallint unsigned NOT NULL DEFAULT 1, qty decimal(12,4) DEFAULT NULL, is_in_stock smallint unsigned NOT NULL DEFAULT 0, UNIQUE KEY (product_id, stock_id)) ENGINE=InnoDB"),
        format!("CREATE TABLE `{two}`.cataloginventory_stock_item (item_id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, product_id int unsigned NOT NULL, stock_id smallint unsigned NOT NULL DEFAULT 1, qty decimal(12,4) DEFAULT NULL, is_in_stock smallint unsigned NOT NULL DEFAULT 0, website_id smallint unsigned NOT NULL DEFAULT 0, UNIQUE KEY (product_id, website_id)) ENGINE=InnoDB"),
        format!("CREATE TABLE `{two}`.catalog_product_entity (entity_id int unsigned NOT NULL PRIMARY KEY, sku varchar(64) NOT NULL) ENGINE=InnoDB"),
        format!("CREATE TABLE `{two}`.inventory_source (source_code varchar(255) NOT NULL PRIMARY KEY, name varchar(255) NOT NULL) ENGINE=InnoDB"),
        format!("CREATE TABLE `{two}`.inventory_source_item (source_item_id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, source_code varchar(255) NOT NULL, sku varchar(64) NOT NULL, quantity decimal(12,4) NOT NULL DEFAULT 0, status smallint unsigned NOT NULL DEFAULT 0, UNIQUE KEY (source_code, sku)) ENGINE=InnoDB"),
        format!("CREATE TABLE `{two}`.inventory_shipment_source (shipment_id int unsigned NOT NULL PRIMARY KEY, source_code varchar(255) NOT NULL) ENGINE=InnoDB"),
        format!("CREATE TABLE `{two}`.inventory_stock_sales_channel (type varchar(64) NOT NULL, code varchar(64) NOT NULL, stock_id int unsigned NOT NULL, PRIMARY KEY (type, code)) ENGINE=InnoDB"),
        format!("INSERT INTO `{two}`.inventory_source VALUES ('default', 'Default Source')"),
        format!("INSERT INTO `{two}`.catalog_product_entity SELECT seq, CONCAT('SKU-', seq) FROM seq_1_to_40"),
    ] {
        r.query_drop(sql).await.unwrap();
    }
    // A Magento 2 with MSI has the DMT's map ignore its tables; the EAV step owns the products.
    let etc = support::fixture_etc();
    let map = std::fs::read_to_string(etc.join("1.9.4.5/map.xml.dist"))
        .unwrap()
        .replacen(
            "<destination>\n        <document_rules>",
            "<destination>\n        <document_rules>\n            <ignore><document>inventory_*</document></ignore>\n            <ignore><document>catalog_product_entity</document></ignore>",
            1,
        )
        .replacen(
            "<destination>\n        <document_rules>",
            "<destination>\n        <field_rules>\n            <ignore><field>cataloginventory_stock_item.website_id</field></ignore>\n        </field_rules>\n        <document_rules>",
            1,
        );
    let dir = setup.config.path.parent().unwrap().to_path_buf();
    std::fs::write(dir.join("map.xml"), map).unwrap();
    let config = std::fs::read_to_string(&setup.config.path)
        .unwrap()
        .replace(
            &format!("{}/1.9.4.5/map.xml.dist", etc.display()),
            &dir.join("map.xml").display().to_string(),
        );
    std::fs::write(&setup.config.path, config).unwrap();
    let setup = Setup::load(&setup.config.path).unwrap();
    let (code, _, stderr) =
        support::cli(&["deltalog", "install", setup.config.path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    r.query_drop(format!(
        "INSERT INTO `{one}`.cataloginventory_stock_item (product_id, qty, is_in_stock) SELECT seq, seq * 3, seq % 2 FROM seq_1_to_30"
    ))
    .await
    .unwrap();
    // The deltalog source: the Map step copies the stock items, the Inventory step feeds MSI.
    let report = migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        source_items(&mut r, &dbs).await,
        expected_source_items(&mut r, &dbs).await
    );
    assert_eq!(source_items(&mut r, &dbs).await.len(), 30);
    assert!(
        report
            .volume
            .iter()
            .all(|l| !l.contains("inventory_source_item")),
        "{:?}",
        report.volume
    );
    // migrate:data's part: every shipment from the default source, every website a channel.
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        reset: true,
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data).await.unwrap();
    assert_eq!(shipments_without_source(&mut r, &dbs).await, 0);
    let channels: Vec<String> = r
        .query(format!(
            "SELECT code FROM `{two}`.inventory_stock_sales_channel ORDER BY code"
        ))
        .await
        .unwrap();
    assert_eq!(channels, vec!["base"]);
    // The binlog source: stock changes and new shipments.
    r.query_drop(format!(
        "UPDATE `{one}`.cataloginventory_stock_item SET qty = qty + 100, is_in_stock = 1 WHERE product_id <= 10"
    ))
    .await
    .unwrap();
    r.query_drop(format!(
        "INSERT INTO `{one}`.cataloginventory_stock_item (product_id, qty, is_in_stock) SELECT seq, 7, 1 FROM seq_31_to_35"
    ))
    .await
    .unwrap();
    workload(&dbs, 21, 300).await;
    let report = migrate_delta::run(
        &setup,
        &binlog_options(&setup, None),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.binlog_changes > 0, "{report:?}");
    assert_eq!(
        source_items(&mut r, &dbs).await,
        expected_source_items(&mut r, &dbs).await
    );
    assert_eq!(source_items(&mut r, &dbs).await.len(), 35);
    let shipments: Option<u64> = r
        .query_first(format!("SELECT COUNT(*) FROM `{two}`.sales_shipment"))
        .await
        .unwrap();
    assert!(shipments.unwrap() > 0);
    assert_eq!(shipments_without_source(&mut r, &dbs).await, 0);
}

#[tokio::test]
async fn cleanup_drops_the_tools_state_tables_and_nothing_else() {
    let (dbs, setup) = migrated("binlog_cleanup").await;
    workload(&dbs, 3, 50).await;
    once_binlog(&setup).await;
    let mut r = root(&dbs).await;
    let before = state_tables(&mut r, &dbs.m2.name).await;
    assert_eq!(
        before,
        vec![
            "mage_migrate_binlog_checkpoint",
            "mage_migrate_binlog_start",
            "mage_migrate_customer_values",
            "mage_migrate_data_progress",
            "mage_migrate_derivations"
        ]
    );
    let all: Option<u64> = r
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
            (&dbs.m2.name,),
        )
        .await
        .unwrap();
    let config = setup.config.path.display().to_string();
    // Where the binlog source stands, for the operator.
    let (code, stdout, stderr) = support::cli(&["deltalog", "status", config.as_str()]);
    assert_eq!(code, 0, "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("binlog source: applied up to "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains("(the lowest worker checkpoint, written ")
            && line.contains("bytes behind the end of M1's binlog ("),
        "{line}"
    );
    let (code, stdout, stderr) = support::cli(&["cleanup", config.as_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("dropped mage_migrate_binlog_checkpoint\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("cleanup: 5 mage-migrate state tables dropped from Magento 2\n"),
        "{stdout}"
    );
    assert!(state_tables(&mut r, &dbs.m2.name).await.is_empty());
    let after: Option<u64> = r
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
            (&dbs.m2.name,),
        )
        .await
        .unwrap();
    assert_eq!(after, all.map(|n| n - 5));
    let (code, stdout, _) = support::cli(&["cleanup", config.as_str()]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "cleanup: Magento 2 holds no mage-migrate state tables\n"
    );
}

async fn state_tables(r: &mut Conn, db: &str) -> Vec<String> {
    r.exec(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'mage\\_migrate\\_%' ORDER BY 1",
        (db,),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn cutover_says_no_go_while_m1_changes_and_go_once_frozen_and_verified() {
    // A server of its own: the cutover watches the whole binlog.
    let server = support::own_server(&[]);
    let (dbs, setup) = migrated_on(&server, "binlog_cutover").await;
    // A store whose every change the deltalog follows (invoices and refunds write comments the
    // stock deltalog.xml does not track; a customer delete cascades in M1 unseen).
    let calm = WorkloadMix {
        delete_customer: 0,
        invoice: 0,
        refund: 0,
        ..WorkloadMix::default()
    };
    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    let mut w = Workload::new(5).with_mix(calm.clone());
    w.load_state(&mut m1).await.unwrap();
    w.run(&mut m1, 150).await.unwrap();
    let options = mage_migrate::cutover::CutoverOptions {
        quiet: std::time::Duration::from_secs(1),
        delta: DeltaOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
            ..DeltaOptions::default()
        },
    };
    // The store still selling: NO-GO, and nothing else is tried.
    let writer = {
        let db = dbs.m1.clone();
        tokio::spawn(async move {
            let mut conn = mage_migrate::db::connect(Side::M1, &db, &[]).await.unwrap();
            let mut w = Workload::new(6).with_mix(WorkloadMix {
                delete_customer: 0,
                invoice: 0,
                refund: 0,
                ..WorkloadMix::default()
            });
            w.load_state(&mut conn).await.unwrap();
            w.run(&mut conn, 400).await.unwrap();
        })
    };
    let report = mage_migrate::cutover::run(&setup, &options).await.unwrap();
    writer.await.unwrap();
    assert!(!report.go());
    assert!(
        report.problems[0].starts_with("Magento 1 is still changing (mysql-bin."),
        "{:?}",
        report.problems
    );
    // Frozen: the last catch-up, verify, GO (through the CLI, as an operator runs it).
    let mut args = vec![
        "cutover".to_string(),
        setup.config.path.display().to_string(),
        "--quiet-seconds".into(),
        "1".into(),
    ];
    for step in migrate_data::unbuilt_steps(&setup, "delta") {
        args.push("--skip-step".into());
        args.push(step);
    }
    let (code, stdout, stderr) = support::cli(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("Magento 1 did not change for 1 s (binlog at mysql-bin."),
        "{stdout}"
    );
    assert!(stdout.contains(" tables equal, 0 differ\n"), "{stdout}");
    assert!(
        stdout.contains("GO: Magento 2 equals Magento 1 through the map. Left to you:\n"),
        "{stdout}"
    );
    assert!(stdout.contains("mage-migrate cleanup "), "{stdout}");
    // A row written to M2 meanwhile is listed, not overwritten: NO-GO.
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    m2.query_drop(
        "INSERT INTO sales_order_status_history (entity_id, parent_id, comment, status, entity_name) \
         SELECT MAX(entity_id) + 1000, MIN(parent_id), 'written in M2', 'pending', 'order' FROM sales_order_status_history",
    )
    .await
    .unwrap();
    let (code, stdout, _) = support::cli(&args);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("NO-GO:\n"), "{stdout}");
    assert!(stdout.contains("1 extra in M2"), "{stdout}");
    assert!(stdout.contains("extra in M2: entity_id="), "{stdout}");
}

/// `GET /metrics` from the endpoint.
async fn scrape(addr: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await.ok()?;
    Some(body)
}

#[tokio::test]
async fn the_metrics_endpoint_is_scraped_while_following() {
    let (dbs, setup) = migrated("binlog_metrics").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(cli_args(
            &setup,
            &["--metrics-addr", &addr, "--poll-interval-ms", "100"],
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    workload(&dbs, 51, 100).await;
    let probe = addr.clone();
    wait_until(
        "the endpoint shows rows applied to sales_flat_order",
        move || {
            let probe = probe.clone();
            Box::pin(async move {
                scrape(&probe).await.is_some_and(|body| {
                    body.lines().any(|l| {
                        l.starts_with(
                            "mage_migrate_rows_upserted_total{table=\"sales_flat_order\"} ",
                        ) && !l.ends_with(" 0")
                    })
                })
            })
        },
    )
    .await;
    let body = scrape(&addr).await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(body.starts_with("HTTP/1.1 200 OK\r\n"), "{body}");
    for metric in [
        "mage_migrate_batches_total ",
        "mage_migrate_retries_total ",
        "mage_migrate_lag_seconds ",
        "mage_migrate_binlog_position{file=\"mysql-bin.",
        "# TYPE mage_migrate_rows_upserted_total counter",
    ] {
        assert!(body.contains(metric), "{metric}: {body}");
    }
    let batches: u64 = body
        .lines()
        .find_map(|l| l.strip_prefix("mage_migrate_batches_total "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(batches > 0, "{body}");
}
