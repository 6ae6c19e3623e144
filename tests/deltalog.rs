//! `deltalog install | status | remove` against a real MariaDB: the DMT's DDL and trigger text
//! with our two changes, the race fix, coexistence with other triggers, idempotence, upgrades
//! of DMT-installed objects, and the failure modes a DBA meets on a live store.

mod support;

use mage_migrate::deltalog::ddl::{self, KeyColumn};
use mage_migrate::deltalog::install::Change;
use mage_migrate::deltalog::{self, Event, InstallOptions, TriggerStatus};
use mage_migrate::error::Side;
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use support::TestDatabases;

/// Tables of several key shapes: unsigned INT, BIGINT UNSIGNED, composite, varchar part, and
/// one that M1 does not have.
const DELTALOG: &str = r#"<groups>
    <group name="delta_map">
        <document key="entity_id">sales_flat_order</document>
        <document key="subscriber_id">newsletter_subscriber</document>
        <document key="category_id,product_id">catalog_category_product</document>
        <document key="code,store_id">ext_code_map</document>
        <document key="id">not_in_this_store</document>
    </group>
    <group name="delta_log">
        <document key="visitor_id">log_visitor</document>
    </group>
</groups>
"#;

const EXTRA_M1_TABLES: &str = "
CREATE TABLE catalog_category_product (
  category_id int(10) unsigned NOT NULL DEFAULT 0,
  product_id int(10) unsigned NOT NULL DEFAULT 0,
  position int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (category_id, product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE ext_code_map (
  code varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  store_id smallint(5) unsigned NOT NULL,
  label varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (code, store_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE audit_log (
  id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  subscriber_id int unsigned NOT NULL,
  note varchar(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
";

struct Store {
    dbs: TestDatabases,
    setup: Setup,
    m1: Conn,
}

async fn store(test: &str, deltalog: &str) -> Store {
    let dbs = support::databases(test).await;
    let mut root = support::root_conn(support::server()).await;
    create_database(
        &mut root,
        &dbs.m1.name,
        &[M1_SCHEMA, M1_BASE, EXTRA_M1_TABLES],
    )
    .await
    .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    let config = support::write_config(test, &dbs, Some(deltalog));
    let setup = Setup::load(&config).unwrap();
    let m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    Store { dbs, setup, m1 }
}

async fn show_create(conn: &mut Conn, table: &str) -> String {
    let row: (String, String) = conn
        .query_first(format!("SHOW CREATE TABLE `{table}`"))
        .await
        .unwrap()
        .unwrap();
    row.1
}

/// (trigger name, event, statement, sql_mode) of the AFTER triggers on a table.
async fn triggers(conn: &mut Conn, table: &str) -> Vec<(String, String, String, String)> {
    conn.exec(
        "SELECT TRIGGER_NAME, EVENT_MANIPULATION, ACTION_STATEMENT, SQL_MODE FROM information_schema.TRIGGERS \
         WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ? ORDER BY EVENT_MANIPULATION, ACTION_ORDER",
        (table,),
    )
    .await
    .unwrap()
}

async fn deltalog_rows(conn: &mut Conn, table: &str) -> Vec<(u64, String, u8)> {
    conn.query(format!(
        "SELECT subscriber_id, operation, processed FROM `{table}` ORDER BY subscriber_id"
    ))
    .await
    .unwrap()
}

/// The DMT's `SHOW CREATE TABLE` (spec, observed on MariaDB 10.11) with our key lines.
fn expected_table(name: &str, key_lines: &[&str], primary: &str) -> String {
    let mut s = format!("CREATE TABLE `{name}` (\n");
    for line in key_lines {
        s.push_str(&format!("  {line},\n"));
    }
    s.push_str("  `operation` text DEFAULT NULL COMMENT 'Operation',\n");
    s.push_str("  `processed` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'Processed',\n");
    s.push_str(&format!("  PRIMARY KEY ({primary})\n"));
    s.push_str(&format!(
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci COMMENT='{name}'"
    ));
    s
}

#[tokio::test]
async fn install_creates_the_dmt_tables_and_triggers_with_source_key_types() {
    let mut s = store("install_shapes", DELTALOG).await;
    let report = deltalog::install(&mut s.m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    assert_eq!((report.expected, report.installed), (6, 5));
    assert_eq!(report.missing_in_m1, ["not_in_this_store"]);
    assert_eq!(report.count(Change::CreateTable), 5);
    assert_eq!(report.count(Change::CreateTrigger), 15);

    let cases = [
        (
            "m2_cl_sales_flat_order",
            vec!["`entity_id` int(10) unsigned NOT NULL COMMENT 'Entity_id'"],
            "`entity_id`",
        ),
        (
            "m2_cl_log_visitor",
            vec!["`visitor_id` bigint(20) unsigned NOT NULL COMMENT 'Visitor_id'"],
            "`visitor_id`",
        ),
        (
            "m2_cl_catalog_category_product",
            vec![
                "`category_id` int(10) unsigned NOT NULL COMMENT 'Category_id'",
                "`product_id` int(10) unsigned NOT NULL COMMENT 'Product_id'",
            ],
            "`category_id`,`product_id`",
        ),
        (
            "m2_cl_ext_code_map",
            vec![
                "`code` varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL COMMENT 'Code'",
                "`store_id` smallint(5) unsigned NOT NULL COMMENT 'Store_id'",
            ],
            "`code`,`store_id`",
        ),
    ];
    for (table, keys, pk) in cases {
        assert_eq!(
            show_create(&mut s.m1, table).await,
            expected_table(table, &keys, pk)
        );
    }

    let found = triggers(&mut s.m1, "catalog_category_product").await;
    let expected: Vec<(String, String, String, String)> = [Event::Delete, Event::Insert, Event::Update]
        .into_iter()
        .map(|e| {
            let row = if e == Event::Delete { "OLD" } else { "NEW" };
            let op = e.as_sql();
            (
                format!("trg_catalog_category_product_after_{}", op.to_lowercase()),
                op.to_string(),
                format!(
                    "BEGIN\nINSERT INTO m2_cl_catalog_category_product (`category_id`,`product_id`, `operation`) VALUES ({row}.category_id,{row}.product_id, '{op}')ON DUPLICATE KEY UPDATE operation = '{op}', processed = 0;\nEND"
                ),
                String::new(),
            )
        })
        .collect();
    assert_eq!(found, expected);

    // The varchar key part holds 4-byte characters exactly, so deltalog and source keys match.
    s.m1.query_drop("INSERT INTO ext_code_map (code, store_id, label) VALUES ('gift-🎁', 1, 'x')")
        .await
        .unwrap();
    let logged: Option<String> =
        s.m1.query_first(
            "SELECT d.code FROM m2_cl_ext_code_map d JOIN ext_code_map e USING (code, store_id)",
        )
        .await
        .unwrap();
    assert_eq!(logged.as_deref(), Some("gift-🎁"));
    // Unsigned ids above the signed INT range survive (the DMT's signed INT would clamp them).
    s.m1.query_drop("INSERT INTO newsletter_subscriber (subscriber_id, subscriber_email) VALUES (4294967295, 'max@example.com')")
        .await
        .unwrap();
    let rows = deltalog_rows(&mut s.m1, "m2_cl_newsletter_subscriber").await;
    assert_eq!(rows, [(4294967295, "INSERT".to_string(), 0)]);
}

#[tokio::test]
async fn a_change_to_a_processed_or_claimed_key_sets_it_pending_again() {
    let mut s = store("race_fix", DELTALOG).await;
    deltalog::install(&mut s.m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    let m1 = &mut s.m1;
    m1.query_drop("INSERT INTO newsletter_subscriber (subscriber_id, subscriber_email) VALUES (7, 'a@example.com')")
        .await
        .unwrap();
    assert_eq!(
        deltalog_rows(m1, "m2_cl_newsletter_subscriber").await,
        [(7, "INSERT".into(), 0)]
    );
    m1.query_drop("UPDATE m2_cl_newsletter_subscriber SET processed = 1")
        .await
        .unwrap();
    m1.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 1 WHERE subscriber_id = 7")
        .await
        .unwrap();
    assert_eq!(
        deltalog_rows(m1, "m2_cl_newsletter_subscriber").await,
        [(7, "UPDATE".into(), 0)]
    );
    // Claimed by a running delta (in flight), then changed: pending again.
    m1.query_drop("UPDATE m2_cl_newsletter_subscriber SET processed = 2")
        .await
        .unwrap();
    m1.query_drop("DELETE FROM newsletter_subscriber WHERE subscriber_id = 7")
        .await
        .unwrap();
    assert_eq!(
        deltalog_rows(m1, "m2_cl_newsletter_subscriber").await,
        [(7, "DELETE".into(), 0)]
    );
}

const AUDIT_BODY: &str = "BEGIN\n  IF NEW.subscriber_status <> OLD.subscriber_status THEN\n    INSERT INTO audit_log (subscriber_id, note) VALUES (NEW.subscriber_id, CASE NEW.subscriber_status WHEN 1 THEN 'subscribed' ELSE 'changed' END);\n  END IF;\nEND";

#[tokio::test]
async fn a_foreign_if_trigger_keeps_working_through_install_and_remove() {
    let mut s = store("foreign_trigger", DELTALOG).await;
    let m1 = &mut s.m1;
    m1.query_drop(format!(
        "CREATE TRIGGER audit_status AFTER UPDATE ON newsletter_subscriber FOR EACH ROW {AUDIT_BODY}"
    ))
    .await
    .unwrap();
    let before = triggers(m1, "newsletter_subscriber").await;
    deltalog::install(m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    let during = triggers(m1, "newsletter_subscriber").await;
    assert_eq!(during.len(), 4, "ours are separate triggers: {during:?}");
    assert!(
        during.contains(&before[0]),
        "the foreign trigger is untouched"
    );

    m1.query_drop("INSERT INTO newsletter_subscriber (subscriber_id, subscriber_email) VALUES (1, 'a@example.com')")
        .await
        .unwrap();
    m1.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 1 WHERE subscriber_id = 1")
        .await
        .unwrap();
    let audit: Vec<(u64, String)> = m1
        .query("SELECT subscriber_id, note FROM audit_log")
        .await
        .unwrap();
    assert_eq!(audit, [(1, "subscribed".to_string())]);
    assert_eq!(
        deltalog_rows(m1, "m2_cl_newsletter_subscriber").await,
        [(1, "UPDATE".into(), 0)]
    );

    let report = deltalog::remove(m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    assert_eq!(report.count(Change::DropTrigger), 15);
    assert_eq!(report.count(Change::DropTable), 5);
    assert_eq!(report.count(Change::RestoreTrigger), 0);
    assert_eq!(triggers(m1, "newsletter_subscriber").await, before);
    let left: Vec<String> = m1
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'm2\\_cl\\_%'")
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    m1.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 2 WHERE subscriber_id = 1")
        .await
        .unwrap();
    let audited: u64 = m1
        .query_first("SELECT COUNT(*) FROM audit_log")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn a_second_install_changes_nothing_and_keeps_pending_rows() {
    let mut s = store("idempotent", DELTALOG).await;
    let m1 = &mut s.m1;
    deltalog::install(m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    m1.query_drop("INSERT INTO newsletter_subscriber (subscriber_id) VALUES (3)")
        .await
        .unwrap();
    let tables_before = show_create(m1, "m2_cl_newsletter_subscriber").await;
    let triggers_before: Vec<(String, String, String)> = m1
        .query("SELECT TRIGGER_NAME, ACTION_STATEMENT, CAST(CREATED AS CHAR) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME")
        .await
        .unwrap();
    let again = deltalog::install(m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    assert!(again.planned.is_empty(), "{:?}", again.planned);
    assert_eq!(
        show_create(m1, "m2_cl_newsletter_subscriber").await,
        tables_before
    );
    let triggers_after: Vec<(String, String, String)> = m1
        .query("SELECT TRIGGER_NAME, ACTION_STATEMENT, CAST(CREATED AS CHAR) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME")
        .await
        .unwrap();
    assert_eq!(triggers_after, triggers_before);
    assert_eq!(
        deltalog_rows(m1, "m2_cl_newsletter_subscriber").await,
        [(3, "INSERT".into(), 0)]
    );
}

#[tokio::test]
async fn dmt_installed_objects_are_recognised_and_upgraded_in_place() {
    let mut s = store("dmt_upgrade", DELTALOG).await;
    let m1 = &mut s.m1;
    // What the DMT leaves: signed INT keys, triggers without the reset, one statement merged
    // into another module's trigger body.
    let keys = ["subscriber_id"];
    let dl = "m2_cl_newsletter_subscriber";
    m1.query_drop(ddl::create_table(dl, &[KeyColumn::dmt("subscriber_id")]))
        .await
        .unwrap();
    m1.query_drop("SET SESSION sql_mode = ''").await.unwrap();
    for event in [Event::Update, Event::Delete] {
        m1.query_drop(ddl::create_trigger(
            &format!(
                "trg_newsletter_subscriber_after_{}",
                event.as_sql().to_lowercase()
            ),
            event,
            "newsletter_subscriber",
            &ddl::body(&ddl::dmt_statement(dl, &keys, event)),
            false,
        ))
        .await
        .unwrap();
    }
    let merged = format!(
        "BEGIN\nINSERT INTO audit_log (subscriber_id, note) VALUES (NEW.subscriber_id, 'new');\n{};\nEND",
        ddl::dmt_statement(dl, &keys, Event::Insert)
    );
    m1.query_drop(ddl::create_trigger(
        "legacy_sync",
        Event::Insert,
        "newsletter_subscriber",
        &merged,
        false,
    ))
    .await
    .unwrap();
    m1.query_drop("INSERT INTO newsletter_subscriber (subscriber_id) VALUES (5)")
        .await
        .unwrap();
    // The DMT's race, as it is: a change to a processed row stays processed and is lost.
    m1.query_drop(format!("UPDATE {dl} SET processed = 1"))
        .await
        .unwrap();
    m1.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 3 WHERE subscriber_id = 5")
        .await
        .unwrap();
    assert_eq!(deltalog_rows(m1, dl).await, [(5, "UPDATE".into(), 1)]);

    let status = deltalog::status(m1, &s.setup).await.unwrap();
    let row = status
        .iter()
        .find(|r| r.table == "newsletter_subscriber")
        .unwrap();
    assert_eq!(
        row.triggers,
        [
            (
                Event::Insert,
                TriggerStatus::DmtWithoutReset("legacy_sync".into())
            ),
            (
                Event::Update,
                TriggerStatus::DmtWithoutReset("trg_newsletter_subscriber_after_update".into())
            ),
            (
                Event::Delete,
                TriggerStatus::DmtWithoutReset("trg_newsletter_subscriber_after_delete".into())
            ),
        ]
    );
    assert_eq!((row.pending, row.processed), (0, 1));

    let report = deltalog::install(m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    let ours: Vec<Change> = report
        .planned
        .iter()
        .filter(|p| p.table == "newsletter_subscriber")
        .map(|p| p.change)
        .collect();
    assert_eq!(
        ours,
        [
            Change::RetypeKey,
            Change::UpgradeTrigger,
            Change::UpgradeTrigger,
            Change::UpgradeTrigger
        ]
    );
    assert!(show_create(m1, dl)
        .await
        .contains("`subscriber_id` int(10) unsigned NOT NULL COMMENT 'Subscriber_id'"));
    let after = triggers(m1, "newsletter_subscriber").await;
    assert_eq!(
        after.len(),
        3,
        "upgraded in place, no extra trigger: {after:?}"
    );
    let legacy = after.iter().find(|t| t.0 == "legacy_sync").unwrap();
    assert_eq!(
        legacy.2,
        merged.replace("'INSERT';", "'INSERT', processed = 0;")
    );
    // Rows survive the upgrade, and the race is closed.
    assert_eq!(deltalog_rows(m1, dl).await, [(5, "UPDATE".into(), 1)]);
    m1.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 4 WHERE subscriber_id = 5")
        .await
        .unwrap();
    assert_eq!(deltalog_rows(m1, dl).await, [(5, "UPDATE".into(), 0)]);

    // Remove restores the other module's trigger without the deltalog statement.
    let removed = deltalog::remove(m1, &s.setup, &InstallOptions::default())
        .await
        .unwrap();
    assert_eq!(removed.count(Change::RestoreTrigger), 1);
    let left = triggers(m1, "newsletter_subscriber").await;
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0].2,
        "BEGIN\nINSERT INTO audit_log (subscriber_id, note) VALUES (NEW.subscriber_id, 'new');\nEND"
    );
    m1.query_drop("INSERT INTO newsletter_subscriber (subscriber_id) VALUES (6)")
        .await
        .unwrap();
}

#[tokio::test]
async fn dry_run_prints_the_ddl_and_changes_nothing() {
    let mut s = store("dry_run", DELTALOG).await;
    let options = InstallOptions {
        dry_run: true,
        ..InstallOptions::default()
    };
    let report = deltalog::install(&mut s.m1, &s.setup, &options)
        .await
        .unwrap();
    let script = report.script(&s.dbs.m1.name);
    assert!(script.contains("CREATE TABLE IF NOT EXISTS `m2_cl_sales_flat_order` (\n  `entity_id` int(10) unsigned NOT NULL COMMENT 'Entity_id' ,\n"), "{script}");
    assert!(script.contains("CREATE TRIGGER `trg_sales_flat_order_after_insert` AFTER INSERT ON `sales_flat_order` FOR EACH ROW\nBEGIN\n"), "{script}");
    assert!(script.starts_with("-- mage-migrate deltalog install --dry-run"));
    assert!(script.contains("DELIMITER ;;\nSET SESSION sql_mode = '';;\n"));
    let count: u64 =
        s.m1.query_first(
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn install_waits_for_a_metadata_lock_held_by_a_long_transaction() {
    let mut s = store("mdl_wait", DELTALOG).await;
    let mut blocker = mage_migrate::db::connect(Side::M1, &s.dbs.m1, &[])
        .await
        .unwrap();
    blocker.query_drop("START TRANSACTION").await.unwrap();
    let _: Vec<u64> = blocker
        .query("SELECT subscriber_id FROM newsletter_subscriber")
        .await
        .unwrap();
    let setup = s.setup.clone();
    let m1 = mage_migrate::db::connect(Side::M1, &s.dbs.m1, &[])
        .await
        .unwrap();
    let install = tokio::spawn(async move {
        let mut m1 = m1;
        let options = InstallOptions {
            lock_wait_timeout: 1,
            attempts: 60,
            ..InstallOptions::default()
        };
        deltalog::install(&mut m1, &setup, &options).await
    });
    // Wait until the installer is queued behind the long transaction's metadata lock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let waiting: u64 = s
            .m1
            .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE STATE = 'Waiting for table metadata lock'")
            .await
            .unwrap()
            .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the installer never waited for the lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    blocker.query_drop("COMMIT").await.unwrap();
    let report = install.await.unwrap().unwrap();
    assert_eq!(report.count(Change::CreateTrigger), 15);
    let status = deltalog::status(&mut s.m1, &s.setup).await.unwrap();
    assert!(status
        .iter()
        .filter(|r| r.source_exists)
        .all(|r| r.complete()));
}

#[tokio::test]
async fn the_commands_on_the_stock_like_fixture_config() {
    let dbs = support::databases("cli_stock").await;
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    let config = support::write_config("cli_stock", &dbs, None);
    let config = config.to_str().unwrap();

    let (code, stdout, stderr) = support::cli(&["deltalog", "install", config]);
    assert_eq!(code, 0, "{stderr}");
    let tables_in_m1 = 51;
    assert!(
        stderr.contains(&format!(
            "Some of the delta log tables were not created. Expected:103. Actual:{tables_in_m1}"
        )),
        "{stderr}"
    );
    assert_eq!(
        stdout,
        format!(
            "deltalog install: {tables_in_m1} of 103 tables of deltalog.xml are in root@127.0.0.1:{}/{}: {tables_in_m1} deltalog tables created, 0 key columns re-typed, {} triggers created, 0 DMT triggers upgraded, 0 merged into existing triggers\n",
            dbs.m1.port.unwrap(),
            dbs.m1.name,
            tables_in_m1 * 3
        )
    );
    let (code, stdout, _) = support::cli(&["deltalog", "install", config]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("deltalog install: nothing to change; "),
        "{stdout}"
    );

    let (code, stdout, _) = support::cli(&["deltalog", "status", config]);
    assert_eq!(code, 0);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("sales_flat_order ") && l.contains("ours/ours/ours")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("catalog_product_entity ") && l.ends_with("not in M1")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{tables_in_m1} of {tables_in_m1} tables in M1 have a complete deltalog"
        )),
        "{stdout}"
    );

    let (code, dry, _) = support::cli(&["deltalog", "install", "--dry-run", config]);
    assert_eq!(
        (code, dry.lines().nth(2)),
        (
            0,
            Some("-- nothing to do: the deltalog is installed as wanted")
        )
    );

    let (code, stdout, _) = support::cli(&["deltalog", "remove", config]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        format!("deltalog remove: {tables_in_m1} deltalog tables dropped, {} triggers dropped, 0 other triggers restored without the deltalog statement\n", tables_in_m1 * 3)
    );
    let (_, stdout, _) = support::cli(&["deltalog", "status", config]);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("sales_flat_order ") && l.ends_with("not installed")),
        "{stdout}"
    );
}

#[tokio::test]
async fn trigger_creation_without_super_explains_error_1419() {
    let dbs = support::databases("no_super").await;
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    root.query_drop(
        "CREATE USER IF NOT EXISTS 'nosuper'@'127.0.0.1' IDENTIFIED BY 'hunter2-secret'",
    )
    .await
    .unwrap();
    root.query_drop(format!(
        "GRANT ALL PRIVILEGES ON `{}`.* TO 'nosuper'@'127.0.0.1'",
        dbs.m1.name
    ))
    .await
    .unwrap();
    let config = support::write_config("no_super", &dbs, None);
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        &format!("name=\"{}\" user=\"root\"", dbs.m1.name),
        &format!(
            "name=\"{}\" user=\"nosuper\" password=\"hunter2-secret\"",
            dbs.m1.name
        ),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let (code, _, stderr) = support::cli(&["deltalog", "install", config.to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "error: M1 (source) nosuper@127.0.0.1:{}/{}: creating the triggers on ",
            dbs.m1.port.unwrap(),
            dbs.m1.name
        )),
        "{last}"
    );
    assert!(last.contains("needs the SUPER privilege while binary logging is on (error 1419); fix: SET GLOBAL log_bin_trust_function_creators = 1"), "{last}");
    assert!(!stderr.contains("hunter2"));
}

#[tokio::test]
async fn a_trigger_swap_under_lock_tables_restores_the_original_when_the_new_one_fails() {
    use mage_migrate::deltalog::install::{execute, PlannedDdl};
    let mut s = store("swap_restore", DELTALOG).await;
    let m1 = &mut s.m1;
    m1.query_drop(format!(
        "CREATE TRIGGER audit_status AFTER UPDATE ON newsletter_subscriber FOR EACH ROW {AUDIT_BODY}"
    ))
    .await
    .unwrap();
    let before = triggers(m1, "newsletter_subscriber").await;
    // The one-trigger-per-event path (MySQL 5.6): drop and create under a write lock. Here the
    // create fails (a body that does not parse), after the drop.
    let planned = PlannedDdl {
        table: "newsletter_subscriber".into(),
        change: Change::MergeTrigger,
        // A swap runs under the trigger's own sql_mode, as install plans it.
        sql_mode: before[0].3.clone(),
        statements: vec![
            "LOCK TABLES `newsletter_subscriber` WRITE".into(),
            ddl::drop_trigger("audit_status"),
            ddl::create_trigger(
                "audit_status",
                Event::Update,
                "newsletter_subscriber",
                "BEGIN\nNOT SQL;\nEND",
                false,
            ),
            "UNLOCK TABLES".into(),
        ],
        restore: Some(ddl::create_trigger(
            "audit_status",
            Event::Update,
            "newsletter_subscriber",
            AUDIT_BODY,
            false,
        )),
    };
    let err = execute(m1, &planned, &InstallOptions::default()).await;
    assert!(err.is_err());
    assert_eq!(
        triggers(m1, "newsletter_subscriber").await,
        before,
        "the original trigger is back"
    );
    // And the table is not left locked.
    m1.query_drop("UPDATE newsletter_subscriber SET subscriber_status = 1")
        .await
        .unwrap();
}
