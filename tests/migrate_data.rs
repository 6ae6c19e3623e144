//! `migrate:data` on the fixtures with a generated store: every Map-step table of M2 equals M1
//! through the map, also after a crash and a resume; re-runs, `-r`, and the failure modes.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::storefront::{seed_store, StoreProfile};
use mysql_async::prelude::Queryable;
use support::TestDatabases;

/// The data steps these tests leave out: those not built yet, and the steps beyond the Map
/// step (tested in their own files).
const UNBUILT: &[&str] = &[
    "Data Integrity Step",
    "EAV Step",
    "Customer Attributes Step",
    "Url Rewrite Step",
    "Log Step",
    "Ratings Step",
    "ConfigurablePrices step",
    "OrderGrids Step",
    "Tier Price Step",
    "SalesIncrement Step",
    "Inventory Step",
    "PostProcessing Step",
];

fn options() -> DataOptions {
    DataOptions {
        skip_steps: UNBUILT.iter().map(|s| s.to_string()).collect(),
        ..DataOptions::default()
    }
}

async fn seeded(test: &str, profile: StoreProfile) -> (TestDatabases, Setup) {
    let dbs = support::databases(test).await;
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    seed_store(&mut m1, &profile).await.unwrap();
    let config = support::write_config(test, &dbs, None);
    let setup = Setup::load(&config).unwrap();
    (dbs, setup)
}

fn skip_args() -> Vec<String> {
    UNBUILT
        .iter()
        .flat_map(|s| ["--skip-step".to_string(), s.to_string()])
        .collect()
}

#[tokio::test]
async fn every_map_table_equals_m1_through_the_map() {
    let (dbs, setup) = seeded("copy_equal", StoreProfile::tiny()).await;
    let report = migrate_data::run(&setup, &options()).await.unwrap();
    assert!(report.rows_copied > 500, "{report:?}");
    assert_eq!(
        support::diff_through_map(&dbs, &setup).await,
        Vec::<String>::new()
    );
    // The deltalog was installed before the copy, and the binlog position recorded.
    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    let status = mage_migrate::deltalog::status(&mut m1, &setup)
        .await
        .unwrap();
    assert!(status
        .iter()
        .filter(|r| r.source_exists)
        .all(|r| r.complete()));
    let start = report.binlog_start.clone().expect("binlog position");
    assert!(report.binlog_recorded_now);
    assert!(start.file.starts_with("mysql-bin."), "{start:?}");
    assert!(!start.gtid.is_empty());
    // Renamed tables and moved fields arrived where the map sends them.
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let orders: u64 = m2
        .query_first("SELECT COUNT(*) FROM sales_order")
        .await
        .unwrap()
        .unwrap();
    let m1_orders: u64 = m1
        .query_first("SELECT COUNT(*) FROM sales_flat_order")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(orders, m1_orders);
    assert!(
        report
            .warnings
            .iter()
            .all(|w| !w.starts_with("Mismatch of entities")),
        "{:?}",
        report.warnings
    );

    // A second run finds everything done: nothing copied, the binlog position kept.
    let again = migrate_data::run(&setup, &options()).await.unwrap();
    assert_eq!(again.rows_copied, 0);
    assert!(!again.binlog_recorded_now);
    assert_eq!(again.binlog_start, Some(start));
    assert_eq!(
        support::diff_through_map(&dbs, &setup).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_killed_copy_resumes_without_duplicates_or_gaps() {
    let (dbs, setup) = seeded("copy_resume", StoreProfile::tiny()).await;
    let config = setup.config.path.to_str().unwrap().to_string();
    let mut args = vec![
        "migrate:data".to_string(),
        config.clone(),
        "--max-rows-per-second".into(),
        "800".into(),
        "--parallel".into(),
        "2".into(),
    ];
    args.extend(skip_args());
    let mut child = Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some pages are committed.
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let copied: Option<u64> = m2
            .query_first("SELECT CAST(COALESCE(SUM(rows_copied), 0) AS UNSIGNED) FROM mage_migrate_data_progress")
            .await
            .unwrap_or(None);
        if copied.unwrap_or(0) > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the copy ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "no page was committed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let unfinished: u64 = m2
        .query_first("SELECT COUNT(*) FROM mage_migrate_data_progress WHERE done = 0")
        .await
        .unwrap()
        .unwrap();
    assert!(unfinished > 0, "the kill came too late to test a resume");

    let mut args = vec!["migrate:data".to_string(), config];
    args.extend(skip_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = support::cli(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("migrate:data: "), "{stdout}");
    assert!(
        stdout.contains("M1 binlog position kept from the first run"),
        "{stdout}"
    );
    assert_eq!(
        support::diff_through_map(&dbs, &setup).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn reset_starts_over_and_empties_the_deltalog() {
    let (dbs, setup) = seeded("copy_reset", StoreProfile::tiny()).await;
    let first = migrate_data::run(&setup, &options()).await.unwrap();
    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    m1.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 3")
        .await
        .unwrap();
    let pending: u64 = m1
        .query_first("SELECT COUNT(*) FROM m2_cl_newsletter_subscriber")
        .await
        .unwrap()
        .unwrap();
    assert!(pending > 0);
    let reset = migrate_data::run(
        &setup,
        &DataOptions {
            reset: true,
            ..options()
        },
    )
    .await
    .unwrap();
    let pending: u64 = m1
        .query_first("SELECT COUNT(*) FROM m2_cl_newsletter_subscriber")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending, 0, "-r empties the deltalog as the DMT's does");
    assert!(reset.binlog_recorded_now);
    assert_ne!(
        reset.binlog_start, first.binlog_start,
        "the position moved with the updates"
    );
    let rows_in_m2: u64 = reset.tables.iter().map(|(_, n)| n).sum();
    assert_eq!(reset.rows_copied, rows_in_m2, "everything copied again");
    assert_eq!(
        support::diff_through_map(&dbs, &setup).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_value_too_long_for_m2_stops_the_copy_naming_table_key_and_column() {
    let (dbs, setup) = seeded("copy_too_long", StoreProfile::tiny()).await;
    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    let long = format!("{}@example.com", "x".repeat(188));
    m1.exec_drop("UPDATE sales_flat_order SET customer_email = ? WHERE entity_id = (SELECT MIN(entity_id) FROM sales_flat_order)", (&long,))
        .await
        .unwrap();
    let id: u64 = m1
        .query_first("SELECT MIN(entity_id) FROM sales_flat_order")
        .await
        .unwrap()
        .unwrap();
    let config = setup.config.path.to_str().unwrap().to_string();
    let mut args = vec!["migrate:data".to_string(), config];
    args.extend(skip_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, stderr) = support::cli(&args);
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(
        stderr.lines().last().unwrap(),
        format!("error: sales_order (M1 sales_flat_order entity_id={id}): column customer_email: the M1 value has 200 characters, too long for varchar(128) (nothing was truncated)")
    );
    // Fix the row in M1, and the next run finishes the job.
    m1.query_drop("UPDATE sales_flat_order SET customer_email = 'short@example.com' WHERE customer_email LIKE 'xxxx%'")
        .await
        .unwrap();
    let (code, _, stderr) = support::cli(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        support::diff_through_map(&dbs, &setup).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn unbuilt_steps_are_listed_in_one_error_with_the_flags_to_skip_them() {
    let dbs = support::databases("copy_unbuilt").await;
    let config = support::write_config("copy_unbuilt", &dbs, None);
    let (code, _, stderr) = support::cli(&["migrate:data", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    let line = stderr.trim_end();
    assert!(line.starts_with("error: these data steps of "), "{line}");
    assert!(
        line.contains(": \"Data Integrity Step\", \"EAV Step\", \"Ratings Step\", "),
        "{line}"
    );
    assert!(
        line.ends_with("--skip-step \"Ratings Step\" --skip-step \"PostProcessing Step\""),
        "{line}"
    );
    assert_eq!(stderr.lines().count(), 1);
    let (code, _, stderr) = support::cli(&[
        "migrate:data",
        config.to_str().unwrap(),
        "--skip-step",
        "Nope",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--skip-step \"Nope\": "), "{stderr}");
}

#[tokio::test]
async fn the_integrity_check_reports_every_unmapped_table_and_field() {
    let dbs = support::databases("copy_integrity").await;
    let mut root = support::root_conn(support::server()).await;
    create_database(
        &mut root,
        &dbs.m1.name,
        &[
            M1_SCHEMA,
            M1_BASE,
            "CREATE TABLE greatblog_post (post_id int unsigned PRIMARY KEY, title varchar(255))",
        ],
    )
    .await
    .unwrap();
    create_database(
        &mut root,
        &dbs.m2.name,
        &[
            M2_SCHEMA,
            M2_BASE,
            "ALTER TABLE review_detail ADD COLUMN sentiment varchar(16) NOT NULL",
        ],
    )
    .await
    .unwrap();
    let config = support::write_config("copy_integrity", &dbs, None);
    let mut args = vec![
        "migrate:data".to_string(),
        config.to_str().unwrap().to_string(),
    ];
    args.extend(skip_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, stderr) = support::cli(&args);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error: integrity check failed; map.xml does not account for:\n  Source documents are not mapped: greatblog_post\n"), "{stderr}");
    assert!(
        stderr.contains(
            "\n  Destination fields are not mapped. Document: review_detail. Fields: sentiment"
        ),
        "{stderr}"
    );
    // Nothing was touched: no deltalog, no state.
    let n: u64 = root
        .query_first(format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' AND TABLE_NAME LIKE 'm2\\_cl\\_%'", dbs.m1.name))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);
}
