//! `verify` on a generated store copied by migrate:data: equal after the copy; rows changed,
//! deleted and added by hand in M2 are named by key and column; `--tables`, `--report-json`,
//! small chunks, and the failure modes.

mod support;

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::storefront::{seed_store, StoreProfile};
use mysql_async::prelude::Queryable;
use support::TestDatabases;

/// A tiny store in M1, copied to M2 by migrate:data.
async fn copied(test: &str) -> (TestDatabases, Setup) {
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
    seed_store(&mut m1, &StoreProfile::tiny()).await.unwrap();
    let config = support::write_config(test, &dbs, None);
    let setup = Setup::load(&config).unwrap();
    let options = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &options).await.unwrap();
    (dbs, setup)
}

fn verify(setup: &Setup, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["verify", setup.config.path.to_str().unwrap()];
    args.extend_from_slice(extra);
    support::cli(&args)
}

/// Lines of the output, without the summary (it carries the time taken).
fn table_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| !l.starts_with("verify: "))
        .collect()
}

async fn count(dbs: &TestDatabases, side: Side, sql: &str) -> u64 {
    let db = if side == Side::M1 { &dbs.m1 } else { &dbs.m2 };
    let mut conn = mage_migrate::db::connect(side, db, &[]).await.unwrap();
    conn.query_first(sql).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_copied_store_is_equal_and_tables_limit_the_check() {
    let (dbs, setup) = copied("verify_equal").await;
    let (code, stdout, stderr) = verify(&setup, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let tables: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with("not verified: ") && !l.starts_with("verify: "))
        .collect();
    assert!(tables.len() > 20, "{stdout}");
    assert!(tables.iter().all(|l| l.starts_with("ok    ")), "{stdout}");
    let orders = count(&dbs, Side::M1, "SELECT COUNT(*) FROM sales_flat_order").await;
    assert!(
        tables.contains(
            &format!("ok    sales_order (M1 sales_flat_order): {orders} rows equal").as_str()
        ),
        "{stdout}"
    );
    // The steps not built are named, not silently passed.
    assert!(
        stdout.contains("\nnot verified: step \"EAV Step\" not built\n"),
        "{stdout}"
    );
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.starts_with(&format!(
            "verify: {} tables equal, 0 differ (0 missing in M2, 0 extra in M2, 0 different) in ",
            tables.len()
        )),
        "{summary}"
    );

    // --tables by M1 or M2 name.
    let (code, stdout, _) = verify(
        &setup,
        &["--tables", "sales_flat_order,newsletter_subscriber"],
    );
    assert_eq!(code, 0);
    let subscribers = count(&dbs, Side::M1, "SELECT COUNT(*) FROM newsletter_subscriber").await;
    assert_eq!(
        table_lines(&stdout)
            .into_iter()
            .filter(|l| !l.starts_with("not verified: "))
            .collect::<Vec<_>>(),
        [
            format!("ok    newsletter_subscriber: {subscribers} rows equal"),
            format!("ok    sales_order (M1 sales_flat_order): {orders} rows equal"),
        ]
    );
    let (code, stdout, _) = verify(&setup, &["--tables", "sales_order"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("ok    sales_order (M1 sales_flat_order): "),
        "{stdout}"
    );
    let (code, _, stderr) = verify(&setup, &["--tables", "nope"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "error: --tables nope: no table of the Map step has this name in M1 or M2\n"
        )
    );
}

#[tokio::test]
async fn rows_changed_deleted_and_added_in_m2_are_named_by_key_and_column() {
    let (dbs, setup) = copied("verify_diff").await;
    let ids: Vec<u64> = {
        let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
            .await
            .unwrap();
        m1.query("SELECT entity_id FROM sales_flat_order ORDER BY entity_id")
            .await
            .unwrap()
    };
    assert!(ids.len() > 20);
    let (changed, deleted) = (ids[3], ids[11]);
    let extra = ids.last().unwrap() + 1000;
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    // Children stay: only the order rows differ.
    m2.query_drop("SET foreign_key_checks = 0").await.unwrap();
    m2.exec_drop(
        "UPDATE sales_order SET status = 'tampered', updated_at = updated_at WHERE entity_id = ?",
        (changed,),
    )
    .await
    .unwrap();
    m2.exec_drop("DELETE FROM sales_order WHERE entity_id = ?", (deleted,))
        .await
        .unwrap();
    m2.query_drop("CREATE TEMPORARY TABLE copy_of_order SELECT * FROM sales_order LIMIT 1")
        .await
        .unwrap();
    m2.exec_drop(
        "UPDATE copy_of_order SET entity_id = ?, increment_id = 'extra-1'",
        (extra,),
    )
    .await
    .unwrap();
    m2.query_drop("INSERT INTO sales_order SELECT * FROM copy_of_order")
        .await
        .unwrap();

    let report = support::scratch_dir("verify_diff_report").join("verify.json");
    // The default re-check wait (2 s) runs here: the differences survive it.
    let (code, stdout, stderr) = verify(&setup, &["--report-json", report.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let at = stdout
        .find("DIFF  sales_order (M1 sales_flat_order): ")
        .unwrap_or_else(|| panic!("{stdout}"));
    let block: Vec<&str> = stdout[at..].lines().take(4).collect();
    assert_eq!(
        block,
        [
            "DIFF  sales_order (M1 sales_flat_order): 1 missing in M2, 1 extra in M2, 1 different",
            &format!("  missing in M2: entity_id={deleted}"),
            &format!("  extra in M2: entity_id={extra}"),
            &format!("  different: entity_id={changed} (status)"),
        ]
    );
    let diff_lines = stdout.lines().filter(|l| l.starts_with("DIFF  ")).count();
    assert_eq!(diff_lines, 1, "only sales_order differs: {stdout}");
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.contains(", 1 differ (1 missing in M2, 1 extra in M2, 1 different) in "),
        "{summary}"
    );

    // The JSON report: counts and keys per table.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["equal"], false);
    let orders = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["destination_table"] == "sales_order")
        .unwrap();
    assert_eq!(orders["source_table"], "sales_flat_order");
    assert_eq!(orders["equal"], ids.len() as u64 - 2);
    assert_eq!(orders["missing_in_m2"], 1);
    assert_eq!(orders["extra_in_m2"], 1);
    assert_eq!(orders["different"], 1);
    assert_eq!(
        orders["missing_keys"],
        serde_json::json!([format!("entity_id={deleted}")])
    );
    assert_eq!(
        orders["extra_keys"],
        serde_json::json!([format!("entity_id={extra}")])
    );
    assert_eq!(
        orders["different_keys"],
        serde_json::json!([{"key": format!("entity_id={changed}"), "columns": ["status"]}])
    );
    let subscribers = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["destination_table"] == "newsletter_subscriber")
        .unwrap();
    assert_eq!(subscribers["missing_in_m2"], 0);
    assert_eq!(subscribers["missing_keys"], serde_json::json!([]));

    // Chunks of 7 rows find exactly the same, so chunk boundaries make no false differences.
    let (code7, stdout7, _) = verify(&setup, &["--chunk-rows", "7", "--recheck-after-ms", "0"]);
    assert_eq!(code7, 1);
    assert_eq!(table_lines(&stdout7), table_lines(&stdout));

    // --tables leaves the changed table out: equal.
    let (code, stdout, _) = verify(&setup, &["--tables", "newsletter_subscriber"]);
    assert_eq!(code, 0, "{stdout}");
}

#[tokio::test]
async fn chunk_boundaries_make_no_false_differences_on_an_equal_store() {
    let (_dbs, setup) = copied("verify_chunks").await;
    let (code, stdout, _) = verify(&setup, &[]);
    assert_eq!(code, 0, "{stdout}");
    for rows in ["1", "7"] {
        let (code, small, _) = verify(&setup, &["--chunk-rows", rows]);
        assert_eq!(code, 0, "--chunk-rows {rows}: {small}");
        assert_eq!(table_lines(&small), table_lines(&stdout));
    }
}

#[tokio::test]
async fn a_bad_config_or_an_unreachable_database_is_one_line_with_its_exit_code() {
    let dir = support::scratch_dir("verify_bad_config");
    let (code, _, stderr) = support::cli(&["verify", dir.join("nope.xml").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");

    let mut dbs = support::databases("verify_unreachable").await;
    dbs.m1.port = Some(1);
    let config = support::write_config("verify_unreachable", &dbs, None);
    let (code, stdout, stderr) = support::cli(&["verify", config.to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: M1 (source) root@127.0.0.1:1/{}: connect: ",
            dbs.m1.name
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_key_changed_since_it_was_read_is_rechecked_before_it_is_reported() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let (dbs, setup) = copied("verify_recheck").await;
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let (id, status): (u64, String) = m2
        .query_first("SELECT entity_id, status FROM sales_order ORDER BY entity_id LIMIT 1")
        .await
        .unwrap()
        .unwrap();
    // M2 behind M1, as while migrate:delta has not applied a change yet.
    m2.exec_drop(
        "UPDATE sales_order SET status = 'behind', updated_at = updated_at WHERE entity_id = ?",
        (id,),
    )
    .await
    .unwrap();
    // The "delta" catches up after the first read and before the re-check.
    let caught_up = Arc::new(AtomicBool::new(false));
    let (flag, m2_config) = (caught_up.clone(), dbs.m2.clone());
    let hook = move |table: &str| {
        if table != "sales_order" {
            return;
        }
        let (status, m2_config) = (status.clone(), m2_config.clone());
        // A runtime of its own on a thread of its own: the hook is called inside verify's.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let mut m2 = mage_migrate::db::connect(Side::M2, &m2_config, &[])
                        .await
                        .unwrap();
                    m2.exec_drop(
                        "UPDATE sales_order SET status = ?, updated_at = updated_at WHERE entity_id = ?",
                        (status, id),
                    )
                    .await
                    .unwrap();
                })
        })
        .join()
        .unwrap();
        flag.store(true, Ordering::SeqCst);
    };
    let options = mage_migrate::verify::VerifyOptions {
        tables: vec!["sales_order".into()],
        recheck_after: std::time::Duration::ZERO,
        before_recheck: Some(mage_migrate::verify::RecheckHook(Arc::new(hook))),
        ..Default::default()
    };
    let report = mage_migrate::verify::run(&setup, &options).await.unwrap();
    assert!(
        caught_up.load(Ordering::SeqCst),
        "the first read found the difference"
    );
    assert!(report.is_equal(), "{:?}", report.lines());
    let orders = count(&dbs, Side::M1, "SELECT COUNT(*) FROM sales_flat_order").await;
    assert_eq!(report.tables[0].equal, orders);
}
