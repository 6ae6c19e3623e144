//! Faults, for both change sources, against real MariaDB servers: the real binary killed
//! (SIGKILL) at random points under seeded random DML and restarted, with the tool's own
//! `verify` as the judge and, at every kill, every M1 row with nothing pending in the deltalog
//! checked against M2 (an acknowledgement before the change is in M2 would show); the M2 server
//! stopped and started again under a running follower; an M2 lock wait timeout and a deadlock
//! the tool loses, retried; a value too long for its M2 column named, with nothing else lost.
//!
//! The random tests take their seed from `MAGE_MIGRATE_FAULT_SEED` (else a fresh one) and name
//! it in every assertion, so a failure can be replayed.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::sandbox::{create_database, Server, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::storefront::rng::Rng;
use mage_migrate::storefront::{seed_store, StoreProfile, Workload, WorkloadMix};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};
use support::TestDatabases;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Deltalog,
    Binlog,
}

/// The seed of a random test: `MAGE_MIGRATE_FAULT_SEED`, else a fresh one (printed).
fn seed(test: &str) -> u64 {
    let seed = match std::env::var("MAGE_MIGRATE_FAULT_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .expect("MAGE_MIGRATE_FAULT_SEED is a number"),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            (nanos ^ u64::from(std::process::id()).rotate_left(32)) % 1_000_000_007
        }
    };
    eprintln!("{test}: seed {seed} (replay with MAGE_MIGRATE_FAULT_SEED={seed})");
    seed
}

/// The stock deltalog.xml with the invoice and credit memo comments added to the Map step's
/// group, so every table the storefront workload writes (customers aside) is followed.
fn deltalog_xml() -> String {
    let stock = std::fs::read_to_string(support::fixture_etc().join("deltalog.xml.dist")).unwrap();
    stock.replacen(
        "<group name=\"delta_map\">",
        "<group name=\"delta_map\">\n        <document key=\"entity_id\">sales_flat_invoice_comment</document>\n        <document key=\"entity_id\">sales_flat_creditmemo_comment</document>",
        1,
    )
}

/// The workload's actions whose every change the delta can see: a customer delete clears
/// `customer_id` on orders through an M1 foreign key (no trigger fires), as the existing tests
/// leave it out.
fn mix() -> WorkloadMix {
    WorkloadMix {
        delete_customer: 0,
        ..WorkloadMix::default()
    }
}

/// A seeded store copied by migrate:data (deltalog installed), M2 on `m2_server` when given.
async fn migrated(test: &str, m2_server: Option<&Server>) -> (TestDatabases, Setup) {
    let shared = support::databases(test).await;
    let dbs = match m2_server {
        Some(server) => TestDatabases {
            m1: shared.m1,
            m2: support::databases_on(server, test).await.m2,
        },
        None => shared,
    };
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    let mut root2 = support::root_conn(m2_server.unwrap_or(support::server())).await;
    create_database(&mut root2, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    let mut m1 = m1(&dbs).await;
    seed_store(&mut m1, &StoreProfile::tiny()).await.unwrap();
    let config = support::write_config(test, &dbs, Some(&deltalog_xml()));
    let setup = Setup::load(&config).unwrap();
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

async fn m2(dbs: &TestDatabases) -> Conn {
    mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap()
}

fn cli_args(setup: &Setup, source: Source, extra: &[String]) -> Vec<String> {
    let mut args = vec![
        "migrate:delta".to_string(),
        setup.config.path.display().to_string(),
    ];
    if source == Source::Binlog {
        args.extend(["--source".to_string(), "binlog".to_string()]);
    }
    for step in migrate_data::unbuilt_steps(setup, "delta") {
        args.push("--skip-step".into());
        args.push(step);
    }
    args.extend(extra.iter().cloned());
    args
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// `migrate:delta` (the real binary) following M1, its output in a file.
struct Follower {
    child: Child,
    log: PathBuf,
}

impl Follower {
    fn spawn(args: &[String], log: &Path) -> Follower {
        let out = std::fs::File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
            .args(args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        Follower {
            child,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit code, if it exited.
    fn exited(&mut self) -> Option<Option<i32>> {
        self.child.try_wait().unwrap().map(|s| s.code())
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM: a graceful stop; returns the exit code.
    fn terminate(mut self) -> (Option<i32>, String) {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let status = self.child.wait().unwrap();
        (status.code(), self.log())
    }
}

/// Waits until a condition (an expression, `.await` allowed) holds, checking every 20 ms, up
/// to 90 s.
macro_rules! wait_until {
    ($what:expr, $context:expr, $condition:expr) => {
        wait_until!($what, $context, $condition, 20)
    };
    ($what:expr, $context:expr, $condition:expr, $every_ms:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(90);
        while !$condition {
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {}; {}",
                $what,
                $context
            );
            tokio::time::sleep(Duration::from_millis($every_ms)).await;
        }
    }};
}

/// The deltalog tables of the steps that run (the M1 grids excepted: map.xml ignores them and
/// their rows stay, as with the DMT).
fn followed(setup: &Setup) -> Vec<String> {
    let mut tables = Vec::new();
    for group in ["delta_map", "delta_log", "delta_sales_sequence"] {
        for (document, _) in setup.deltalog_groups.documents_of(group) {
            if !document.ends_with("_grid") && !tables.iter().any(|t| t == document) {
                tables.push(document.to_string());
            }
        }
    }
    tables
}

/// Rows of the followed deltalogs, in total and those with `processed = 2` (in flight).
async fn deltalog_rows(conn: &mut Conn, setup: &Setup) -> (u64, u64) {
    let existing: Vec<String> = conn
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'm2\\_cl\\_%'")
        .await
        .unwrap();
    let parts: Vec<String> = followed(setup)
        .into_iter()
        .map(|t| format!("m2_cl_{t}"))
        .filter(|t| existing.contains(t))
        .map(|t| format!("SELECT COUNT(*) AS n, COALESCE(SUM(processed = 2), 0) AS f FROM `{t}`"))
        .collect();
    let sql = format!(
        "SELECT CAST(SUM(n) AS UNSIGNED), CAST(SUM(f) AS UNSIGNED) FROM ({}) x",
        parts.join(" UNION ALL ")
    );
    conn.query_first(sql).await.unwrap().unwrap()
}

/// The value as text, so an M1 smallint and an M2 int (or a signed and an unsigned) compare.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// With the tool stopped, in one M1 snapshot: every M1 row of a followed table whose key has
/// no pending deltalog row (none at `processed` 0 or 2: never changed since the copy, or
/// acknowledged, which removes the row or marks it 1) must be in M2 as the map makes it. A key
/// acknowledged before its change was in M2 is a lost update. Returns (rows checked, problems).
/// Rows M2 has and M1 lacks are left out: an M1 cascade deletes children without a trigger,
/// and they go from M2 with their parent's delete.
async fn settled_but_not_in_m2(dbs: &TestDatabases, setup: &Setup) -> (usize, Vec<String>) {
    use mage_migrate::db::schema::Schema;
    use mage_migrate::steps::map::{plan, MapTransformer};
    let q = mage_migrate::db::quote_ident;
    let mut m1 = m1(dbs).await;
    let mut m2 = m2(dbs).await;
    let m1_schema = Schema::read(&mut m1).await.unwrap();
    let m2_schema = Schema::read(&mut m2).await.unwrap();
    let o = &setup.config.options;
    let (mappings, _) = plan(
        &setup.map,
        &m1_schema,
        &m2_schema,
        &o.source_prefix(),
        &o.dest_prefix(),
    )
    .unwrap();
    let followed = followed(setup);
    m1.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    m1.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .await
        .unwrap();
    let (mut checked, mut problems) = (0, Vec::new());
    for m in &mappings {
        if !followed.contains(&m.document) || !m.lookups.is_empty() {
            continue;
        }
        let key = setup
            .deltalog_groups
            .documents_of("delta_map")
            .into_iter()
            .chain(setup.deltalog_groups.documents_of("delta_sales_sequence"))
            .find(|(d, _)| *d == m.document)
            .and_then(|(_, k)| k.map(|k| k.split(',').map(str::to_string).collect::<Vec<_>>()));
        if key.as_ref() != Some(&m.primary_key) {
            continue;
        }
        let pk: Vec<String> = m.primary_key.iter().map(|c| q(c)).collect();
        let pending: Vec<mysql_async::Row> = m1
            .query(format!(
                "SELECT {} FROM {} WHERE processed <> 1",
                pk.join(", "),
                q(&format!("m2_cl_{}", m.document))
            ))
            .await
            .unwrap();
        let pending: std::collections::HashSet<String> = pending
            .into_iter()
            .map(|r| {
                r.unwrap()
                    .iter()
                    .map(|v| text(v).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        let key_dest: Vec<String> = m
            .primary_key
            .iter()
            .map(|k| {
                let i = m.select_columns.iter().position(|c| c == k).unwrap();
                m.copies.iter().find(|(s, _)| *s == i).unwrap().1.clone()
            })
            .collect();
        let transformer = MapTransformer::new(m).unwrap();
        let select: Vec<String> = m.select_columns.iter().map(|c| q(c)).collect();
        let rows1: Vec<mysql_async::Row> = m1
            .query(format!(
                "SELECT {} FROM {}",
                select.join(", "),
                q(&m.source_table)
            ))
            .await
            .unwrap();
        let insert: Vec<String> = m.insert_columns.iter().map(|c| q(c)).collect();
        let rows2: Vec<mysql_async::Row> = m2
            .query(format!(
                "SELECT {} FROM {}",
                insert.join(", "),
                q(&m.destination_table)
            ))
            .await
            .unwrap();
        let key_of = |values: &[Value], columns: &[String], names: &[String]| -> String {
            names
                .iter()
                .map(|n| {
                    let i = columns.iter().position(|c| c == n).unwrap();
                    text(&values[i]).unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let in_m2: HashMap<String, Vec<Value>> = rows2
            .into_iter()
            .map(|r| {
                let values = r.unwrap();
                (key_of(&values, &m.insert_columns, &key_dest), values)
            })
            .collect();
        for r in rows1 {
            let values = r.unwrap();
            let id = key_of(&values, &m.select_columns, &m.primary_key);
            if pending.contains(&id) {
                continue;
            }
            checked += 1;
            let expected = transformer.transform(values).unwrap();
            match in_m2.get(&id) {
                None => problems.push(format!(
                    "{} {id}: nothing pending in the deltalog, but not in M2",
                    m.document
                )),
                Some(found) => {
                    for ((column, e), f) in m.insert_columns.iter().zip(&expected).zip(found) {
                        if text(e) != text(f) {
                            problems.push(format!(
                                "{} {id}: nothing pending in the deltalog, but M2's {column} is {f:?}, M1 makes {e:?}",
                                m.document
                            ));
                        }
                    }
                }
            }
        }
    }
    m1.query_drop("COMMIT").await.unwrap();
    (checked, problems)
}

async fn verify(setup: &Setup, context: &str) {
    let (code, stdout, stderr) = support::cli(&["verify", setup.config.path.to_str().unwrap()]);
    assert_eq!(code, 0, "verify: {stdout}{stderr}; {context}");
    assert!(stdout.contains(" 0 differ"), "{stdout}; {context}");
}

/// Whether a server error is one a store retries (a deadlock with the triggers' deltalog
/// writes or the tool's claims, a lock wait).
fn retryable(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if s.code == 1213 || s.code == 1205)
}

/// Runs statements as one M1 transaction, again after a deadlock.
async fn transaction(conn: &mut Conn, statements: &[(String, Vec<Value>)], context: &str) {
    for _ in 0..50 {
        let result: Result<(), mysql_async::Error> = async {
            conn.query_drop("BEGIN").await?;
            for (sql, params) in statements {
                conn.exec_drop(sql.as_str(), params.clone()).await?;
            }
            conn.query_drop("COMMIT").await
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) if retryable(&e) => {
                let _ = conn.query_drop("ROLLBACK").await;
            }
            Err(e) => panic!("{statements:?}: {e}; {context}"),
        }
    }
    panic!("deadlocked 50 times: {statements:?}; {context}");
}

/// The DML the storefront workload does not make: unique values swapped between rows, hot
/// keys, 4-byte characters, boundary values (max and min integers, empty strings, NULLs,
/// strings of exactly the column's length), orders deleted with all their children.
struct Chaos {
    rng: Rng,
    /// Keys this test inserted at the top of their range (so the workload's ids stay clear).
    high_subscriber: u64,
    high_detail: u64,
}

const FOUR_BYTE: [&str; 4] = ["😀", "𠀀", "🎉", "𝄞"];

impl Chaos {
    fn new(seed: u64) -> Chaos {
        Chaos {
            rng: Rng::new(seed ^ 0xC4A05),
            high_subscriber: u64::from(u32::MAX),
            high_detail: u64::MAX,
        }
    }

    /// A string of `n` characters, 4-byte ones among them (or only them).
    fn wide(&mut self, n: usize) -> String {
        (0..n)
            .map(|i| {
                if self.rng.percent(50) || i == 0 {
                    FOUR_BYTE[self.rng.below(4) as usize].to_string()
                } else {
                    ["a", "é", "漢", "'", "\\", "%"][self.rng.below(6) as usize].to_string()
                }
            })
            .collect()
    }

    fn text(&mut self, max: usize) -> Value {
        match self.rng.below(5) {
            0 => Value::NULL,
            1 => Value::from(""),
            2 => Value::from(self.wide(max)),
            _ => {
                let n = self.rng.range(1, max as i64) as usize;
                Value::from(self.wide(n))
            }
        }
    }

    async fn pick(conn: &mut Conn, sql: &str) -> Option<u64> {
        conn.query_first::<Option<u64>, _>(sql)
            .await
            .unwrap()
            .flatten()
    }

    /// One random action, as one M1 transaction.
    async fn step(&mut self, conn: &mut Conn, context: &str) {
        let random_row =
            |table: &str, key: &str| format!("SELECT {key} FROM {table} ORDER BY RAND() LIMIT 1");
        match self.rng.below(9) {
            // Two orders of one store swap their increment ids (unique in M1, and with the
            // store in M2), through a temporary value, in one transaction.
            0 => {
                let pair: Option<(u64, String, u64, String)> = conn
                    .query_first(
                        "SELECT a.entity_id, a.increment_id, b.entity_id, b.increment_id FROM sales_flat_order a \
                         JOIN sales_flat_order b ON b.store_id = a.store_id AND b.entity_id > a.entity_id \
                         ORDER BY RAND() LIMIT 1",
                    )
                    .await
                    .unwrap();
                if let Some((a, ia, b, ib)) = pair {
                    // M1's grid keeps the order's increment id, unique too: moved alike.
                    let mut statements = Vec::new();
                    for table in ["sales_flat_order", "sales_flat_order_grid"] {
                        let u = format!("UPDATE {table} SET increment_id = ? WHERE entity_id = ?");
                        statements.extend([
                            (u.clone(), vec![format!("swap-{a}").into(), a.into()]),
                            (u.clone(), vec![ia.clone().into(), b.into()]),
                            (u, vec![ib.clone().into(), a.into()]),
                        ]);
                    }
                    transaction(conn, &statements, context).await;
                }
            }
            // Two wishlists swap their customers (unique on both sides).
            1 => {
                let pair: Option<(u64, u64, u64, u64)> = conn
                    .query_first(
                        "SELECT a.wishlist_id, a.customer_id, b.wishlist_id, b.customer_id FROM wishlist a \
                         JOIN wishlist b ON b.wishlist_id > a.wishlist_id ORDER BY RAND() LIMIT 1",
                    )
                    .await
                    .unwrap();
                if let Some((a, ca, b, cb)) = pair {
                    let u = "UPDATE wishlist SET customer_id = ? WHERE wishlist_id = ?";
                    conn.query_drop("SET foreign_key_checks = 0").await.unwrap();
                    transaction(
                        conn,
                        &[
                            (u.into(), vec![0u64.into(), a.into()]),
                            (u.into(), vec![ca.into(), b.into()]),
                            (u.into(), vec![cb.into(), a.into()]),
                        ],
                        context,
                    )
                    .await;
                    conn.query_drop("SET foreign_key_checks = 1").await.unwrap();
                }
            }
            // Boundary values in a subscriber (utf8mb4): max and min int, max unsigned,
            // 150 characters of 4-byte text, empty strings, NULLs, the TIMESTAMP range's ends.
            2 => {
                let id =
                    Self::pick(conn, &random_row("newsletter_subscriber", "subscriber_id")).await;
                let Some(id) = id else { return };
                let status =
                    [i64::from(i32::MAX), i64::from(i32::MIN), 0, 1][self.rng.below(4) as usize];
                let customer = [u64::from(u32::MAX), 0, 1][self.rng.below(3) as usize];
                let at = [
                    Value::NULL,
                    Value::from("1970-01-01 00:00:01"),
                    Value::from("2038-01-19 03:14:07"),
                ][self.rng.below(3) as usize]
                    .clone();
                let email = self.text(150);
                let code = self.text(32);
                transaction(
                    conn,
                    &[(
                        "UPDATE newsletter_subscriber SET subscriber_status = ?, customer_id = ?, change_status_at = ?, subscriber_email = ?, subscriber_confirm_code = ? WHERE subscriber_id = ?".into(),
                        vec![status.into(), customer.into(), at, email, code, id.into()],
                    )],
                    context,
                )
                .await;
            }
            // The highest key of the column's type: inserted, changed, deleted, inserted again.
            3 => {
                let email = self.text(150);
                let id = Value::from(self.high_subscriber);
                let (sql, params) = match self.rng.below(3) {
                    0 => ("INSERT INTO newsletter_subscriber (subscriber_id, store_id, subscriber_email, subscriber_status) VALUES (?, 1, ?, 1) ON DUPLICATE KEY UPDATE subscriber_email = VALUES(subscriber_email)", vec![id, email]),
                    1 => ("UPDATE newsletter_subscriber SET subscriber_email = ? WHERE subscriber_id = ?", vec![email, id]),
                    _ => ("DELETE FROM newsletter_subscriber WHERE subscriber_id = ?", vec![id]),
                };
                transaction(conn, &[(sql.into(), params)], context).await;
            }
            // Review text (utf8mb4): titles of exactly 255 characters, 128-character
            // nicknames of 4-byte characters, empty details; and a review detail at the top of
            // the bigint unsigned range.
            4 => {
                let id = Self::pick(conn, &random_row("review_detail", "detail_id")).await;
                let Some(id) = id else { return };
                let n = if self.rng.percent(50) { 255 } else { 1 };
                let title = self.wide(n);
                let nickname = if self.rng.percent(50) {
                    self.wide(128)
                } else {
                    String::new()
                };
                let detail = match self.text(2000) {
                    Value::NULL => Value::from(""),
                    v => v,
                };
                let mut statements = vec![(
                    "UPDATE review_detail SET title = ?, nickname = ?, detail = ?, customer_id = NULL WHERE detail_id = ?".to_string(),
                    vec![title.clone().into(), nickname.into(), detail, id.into()],
                )];
                if self.rng.percent(40) {
                    statements.push((
                        "INSERT INTO review_detail (detail_id, review_id, store_id, title, detail, nickname) \
                         SELECT ?, review_id, store_id, ?, '', '' FROM review_detail WHERE detail_id = ? \
                         ON DUPLICATE KEY UPDATE title = VALUES(title)"
                            .to_string(),
                        vec![self.high_detail.into(), title.into(), id.into()],
                    ));
                }
                transaction(conn, &statements, context).await;
            }
            // Status history comments (utf8mb4) with 4-byte text, and the int's ends.
            5 => {
                let id = Self::pick(
                    conn,
                    &random_row("sales_flat_order_status_history", "entity_id"),
                )
                .await;
                let Some(id) = id else { return };
                let comment = self.text(3000);
                let notified = [Value::NULL, Value::from(i32::MAX), Value::from(i32::MIN)]
                    [self.rng.below(3) as usize]
                    .clone();
                transaction(
                    conn,
                    &[(
                        "UPDATE sales_flat_order_status_history SET comment = ?, is_customer_notified = ? WHERE entity_id = ?".into(),
                        vec![comment, notified, id.into()],
                    )],
                    context,
                )
                .await;
            }
            // An order deleted with everything below it (items, addresses, payment, history,
            // invoices, shipments, credit memos: M1 cascades, no trigger fires for them).
            6 => {
                let id = Self::pick(conn, &random_row("sales_flat_order", "entity_id")).await;
                let Some(id) = id else { return };
                transaction(
                    conn,
                    &[(
                        "DELETE FROM sales_flat_order WHERE entity_id = ?".into(),
                        vec![id.into()],
                    )],
                    context,
                )
                .await;
            }
            // A hot key: many transactions on one row in a row.
            7 => {
                let id = Self::pick(conn, "SELECT MIN(entity_id) FROM sales_flat_order").await;
                let Some(id) = id else { return };
                for i in 0..self.rng.range(5, 25) {
                    transaction(
                        conn,
                        &[(
                            "UPDATE sales_flat_order SET status = ?, state = ? WHERE entity_id = ?"
                                .into(),
                            vec![
                                format!("hot-{i}").into(),
                                format!("state-{i}").into(),
                                id.into(),
                            ],
                        )],
                        context,
                    )
                    .await;
                }
            }
            // Insert, change and delete within one transaction: nothing of it may reach M2.
            _ => {
                let id = self.high_subscriber - 1;
                transaction(
                    conn,
                    &[
                        (
                            "INSERT INTO newsletter_subscriber (subscriber_id, store_id, subscriber_email) VALUES (?, 1, 'gone@example.com')".into(),
                            vec![id.into()],
                        ),
                        (
                            "UPDATE newsletter_subscriber SET subscriber_status = 3 WHERE subscriber_id = ?".into(),
                            vec![id.into()],
                        ),
                        (
                            "DELETE FROM newsletter_subscriber WHERE subscriber_id = ?".into(),
                            vec![id.into()],
                        ),
                    ],
                    context,
                )
                .await;
            }
        }
    }
}

/// A writer on M1 until told to stop: storefront actions, with the targeted DML of [`Chaos`]
/// mixed in when `chaos` is set. Counts what it did.
fn writer(
    dbs: &TestDatabases,
    seed: u64,
    chaos: bool,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    context: String,
) -> tokio::task::JoinHandle<()> {
    let db = dbs.m1.clone();
    tokio::spawn(async move {
        let mut conn = mage_migrate::db::connect(Side::M1, &db, &[]).await.unwrap();
        let mut workload = Workload::new(seed).with_mix(mix());
        workload.load_state(&mut conn).await.unwrap();
        let mut targeted = Chaos::new(seed);
        let mut rng = Rng::new(seed ^ 0x3217E);
        while !stop.load(Ordering::SeqCst) {
            if chaos && rng.percent(35) {
                targeted.step(&mut conn, &context).await;
            } else {
                match workload.step(&mut conn).await {
                    Ok(_) => {}
                    // The transaction was rolled back: as a store would, go on.
                    Err(e) if retryable(&e) => {}
                    Err(e) => panic!("storefront action: {e}; {context}"),
                }
            }
            done.fetch_add(1, Ordering::SeqCst);
        }
    })
}

/// The options of one follower run, chosen by the seed.
fn random_options(rng: &mut Rng) -> Vec<String> {
    let batch = rng.range(1, 60).to_string();
    let workers = rng.range(1, 4).to_string();
    strings(&[
        "--batch-rows",
        &batch,
        "--workers",
        &workers,
        "--poll-interval-ms",
        "20",
    ])
}

/// The binlog checkpoints in M2, as text (empty before the first batch).
async fn checkpoints(dbs: &TestDatabases) -> String {
    let mut m2 = m2(dbs).await;
    let rows: Vec<(u64, String, u64)> = m2
        .query("SELECT worker, binlog_file, binlog_position FROM mage_migrate_binlog_checkpoint ORDER BY worker")
        .await
        .unwrap_or_default();
    format!("{rows:?}")
}

/// Fails at once when the follower exited or the writer stopped (a panic) before the kill.
fn alive(
    follower: &mut Follower,
    writing: &tokio::task::JoinHandle<()>,
    kill: u32,
    context: &str,
) -> bool {
    if let Some(code) = follower.exited() {
        panic!(
            "the follower exited ({code:?}) before kill {kill}: {}; {context}",
            follower.log()
        );
    }
    assert!(
        !writing.is_finished(),
        "the writer stopped (see its panic above); {context}"
    );
    true
}

/// Kills the follower `kills` times at random points while `writer` runs, checking at each
/// kill that every row with nothing pending in the deltalog (acknowledged, or never changed) is
/// in M2; then stops the writer, catches up with `--once`, checks that no deltalog row is left,
/// and asks `verify`.
async fn kill_and_restart(test: &str, source: Source, chaos: bool, kills: u32) {
    let seed = seed(test);
    let context = format!("seed {seed} (replay with MAGE_MIGRATE_FAULT_SEED={seed})");
    let (dbs, setup) = migrated(test, None).await;
    let dir = support::scratch_dir(&format!("{test}_logs"));
    let mut rng = Rng::new(seed);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let writing = writer(
        &dbs,
        seed,
        chaos,
        stop.clone(),
        done.clone(),
        context.clone(),
    );
    let mut probe = m1(&dbs).await;
    let mut settled_checked = 0;
    for kill in 0..kills {
        let args = cli_args(&setup, source, &random_options(&mut rng));
        let before = checkpoints(&dbs).await;
        let mut follower = Follower::spawn(&args, &dir.join(format!("run{kill}.log")));
        // A random point: some actions later, and then (always under the steady load, half of
        // the time under random DML) only once a batch is in flight (deltalog: rows claimed;
        // binlog: a checkpoint moved).
        let target = done.load(Ordering::SeqCst) + rng.range(3, 60) as u64;
        wait_until!(
            "the writer went on",
            context,
            alive(&mut follower, &writing, kill, &context) && done.load(Ordering::SeqCst) >= target
        );
        if !chaos || rng.percent(50) {
            match source {
                Source::Deltalog => wait_until!(
                    "a batch is in flight",
                    context,
                    alive(&mut follower, &writing, kill, &context)
                        && deltalog_rows(&mut probe, &setup).await.1 > 0,
                    2
                ),
                Source::Binlog => wait_until!(
                    "a checkpoint moved",
                    context,
                    alive(&mut follower, &writing, kill, &context)
                        && checkpoints(&dbs).await != before
                ),
            }
        }
        alive(&mut follower, &writing, kill, &context);
        follower.kill();
        let (checked, problems) = settled_but_not_in_m2(&dbs, &setup).await;
        settled_checked += checked;
        assert_eq!(
            problems,
            Vec::<String>::new(),
            "after kill {kill}; {context}"
        );
    }
    stop.store(true, Ordering::SeqCst);
    writing.await.unwrap();
    let actions = done.load(Ordering::SeqCst);
    let (code, stdout, stderr) = support::cli(&cli_args(&setup, source, &strings(&["--once"])));
    assert_eq!(code, 0, "the catch-up: {stdout}{stderr}; {context}");
    // Everything was applied, acknowledged and purged.
    let (left, in_flight) = deltalog_rows(&mut probe, &setup).await;
    assert_eq!(
        (left, in_flight),
        (0, 0),
        "deltalog rows left after the catch-up; {context}"
    );
    verify(&setup, &context).await;
    eprintln!(
        "{test}: {actions} M1 actions, {kills} kills, {settled_checked} settled rows checked against M2; {context}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_dml_with_hard_kills_ends_equal_deltalog() {
    kill_and_restart("faults_random_deltalog", Source::Deltalog, true, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_dml_with_hard_kills_ends_equal_binlog() {
    kill_and_restart("faults_random_binlog", Source::Binlog, true, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_kills_under_a_steady_load_acknowledge_only_what_m2_has_deltalog() {
    kill_and_restart("faults_steady_deltalog", Source::Deltalog, false, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_kills_under_a_steady_load_acknowledge_only_what_m2_has_binlog() {
    kill_and_restart("faults_steady_binlog", Source::Binlog, false, 4).await;
}

/// A figure that changes whenever the storefront's commonest action (cart activity) reached M2.
async fn m2_quotes(dbs: &TestDatabases) -> Option<(u64, u64)> {
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .ok()?;
    m2.query_first("SELECT COUNT(*), CAST(COALESCE(SUM(items_count), 0) AS UNSIGNED) FROM quote")
        .await
        .ok()
        .flatten()
}

/// M2's server is stopped while the tool follows a live store, and started again: the tool
/// retries, reconnects, does not exit, and M2 ends equal to M1.
async fn m2_outage(test: &str, source: Source) {
    let context = format!("{test}, {source:?} source");
    let mut server = support::own_server(&[]);
    let (dbs, setup) = migrated(test, Some(&server)).await;
    let dir = support::scratch_dir(&format!("{test}_logs"));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let writing = writer(&dbs, 77, false, stop.clone(), done.clone(), context.clone());
    let args = cli_args(
        &setup,
        source,
        &strings(&[
            "--batch-rows",
            "20",
            "--workers",
            "2",
            "--poll-interval-ms",
            "20",
        ]),
    );
    let mut follower = Follower::spawn(&args, &dir.join("follower.log"));
    let before = m2_quotes(&dbs).await;
    wait_until!(
        "the follower applied changes to M2",
        context,
        m2_quotes(&dbs).await != before
    );
    tokio::task::block_in_place(|| server.stop());
    // The store goes on selling; the tool meets the stopped M2.
    let at_stop = done.load(Ordering::SeqCst);
    wait_until!(
        "the follower retries against the stopped M2",
        format!("{}; {context}", follower.log()),
        done.load(Ordering::SeqCst) > at_stop + 5 && follower.log().contains("retrying")
    );
    assert_eq!(
        follower.exited(),
        None,
        "the follower exited during the outage: {}; {context}",
        follower.log()
    );
    tokio::task::block_in_place(|| server.start_again()).unwrap();
    let after = done.load(Ordering::SeqCst) + 20;
    wait_until!(
        "the store went on after the restart",
        context,
        done.load(Ordering::SeqCst) > after
    );
    stop.store(true, Ordering::SeqCst);
    writing.await.unwrap();
    // Following still: M2 catches up without a restart of the tool.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(code) = follower.exited() {
            panic!(
                "the follower exited ({code:?}) after the outage: {}; {context}",
                follower.log()
            );
        }
        if support::diff_group(&dbs, &setup, "delta_map")
            .await
            .is_empty()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "M2 did not catch up: {:?}; {context}",
            support::diff_group(&dbs, &setup, "delta_map").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, log) = follower.terminate();
    assert_eq!(code, Some(0), "{log}; {context}");
    assert!(log.contains("; retrying"), "{log}; {context}");
    let (code, stdout, stderr) = support::cli(&cli_args(&setup, source, &strings(&["--once"])));
    assert_eq!(code, 0, "{stdout}{stderr}; {context}");
    verify(&setup, &context).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_m2_restart_mid_run_is_retried_and_the_tool_goes_on_deltalog() {
    m2_outage("faults_outage_deltalog", Source::Deltalog).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_m2_restart_mid_run_is_retried_and_the_tool_goes_on_binlog() {
    m2_outage("faults_outage_binlog", Source::Binlog).await;
}

/// The transactions of connections to database `db` that wait for a lock: how many rows each
/// changed before, for the record (two queries: a join of these information_schema tables needs a temporary
/// table). Read at most every 100 ms: InnoDB refreshes INNODB_TRX only when it was not read for
/// that long.
async fn lock_waits(conn: &mut Conn, db: &str) -> Vec<u64> {
    let ids: Vec<u64> = conn
        .exec(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?",
            (db,),
        )
        .await
        .unwrap();
    let waiting: Vec<(u64, u64)> = conn
        .query("SELECT trx_mysql_thread_id, trx_rows_modified FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'")
        .await
        .unwrap();
    waiting
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .map(|(_, modified)| modified)
        .collect()
}

async fn subscriber_status(m2: &mut Conn, id: u64) -> Option<i64> {
    m2.exec_first(
        "SELECT subscriber_status FROM newsletter_subscriber WHERE subscriber_id = ?",
        (id,),
    )
    .await
    .unwrap()
}

/// A transaction of the test's holds the M2 row the tool is to write: its lock wait times
/// out (after 5 s) and is retried. Then a deadlock the tool loses (the test's transaction has changed many
/// rows, so InnoDB rolls back the tool's): retried too. M2 ends equal.
async fn lock_wait_and_deadlock(test: &str, source: Source) {
    let context = format!("{test}, {source:?} source");
    // M2 on a server of its own: INNODB_TRX is refreshed only when nobody read it for 100 ms,
    // so two tests polling one server could keep each other's view stale.
    let server = support::own_server(&[]);
    let (dbs, setup) = migrated(test, Some(&server)).await;
    // The DMT's own knob for the M2 sessions: a lock wait of 5 s instead of 50 (long enough
    // for the deadlock below to be set up while the tool waits).
    let path = setup.config.path.clone();
    let config = std::fs::read_to_string(&path).unwrap();
    let stock = "<init_statements_destination>SET NAMES utf8;</init_statements_destination>";
    assert!(config.contains(stock), "{config}");
    std::fs::write(
        &path,
        config.replace(
            stock,
            "<init_statements_destination>SET NAMES utf8; SET SESSION innodb_lock_wait_timeout = 5;</init_statements_destination>",
        ),
    )
    .unwrap();
    let setup = Setup::load(&path).unwrap();
    let mut source_conn = m1(&dbs).await;
    let (a, b): (u64, u64) = source_conn
        .query_first("SELECT MIN(subscriber_id), MAX(subscriber_id) FROM newsletter_subscriber")
        .await
        .unwrap()
        .unwrap();
    assert!(a < b);
    let dir = support::scratch_dir(&format!("{test}_logs"));
    // One worker: both keys of a change go into one M2 transaction, in key order.
    let args = cli_args(
        &setup,
        source,
        // (The binlog source claims the deltalog's rows every poll interval, and a key whose
        // claim comes before its image may be written on its own: claims only every 2 s.)
        &strings(&["--workers", "1", "--poll-interval-ms", "2000"]),
    );
    let follower = Follower::spawn(&args, &dir.join("follower.log"));
    let mut holder = m2(&dbs).await;
    let lock = "SELECT subscriber_id FROM newsletter_subscriber WHERE subscriber_id = ? FOR UPDATE";

    // A lock wait timeout (1205).
    holder.query_drop("BEGIN").await.unwrap();
    holder.exec_drop(lock, (a,)).await.unwrap();
    source_conn
        .exec_drop(
            "UPDATE newsletter_subscriber SET subscriber_status = 77 WHERE subscriber_id = ?",
            (a,),
        )
        .await
        .unwrap();
    wait_until!(
        "the tool's lock wait timed out and is retried",
        context,
        follower.log().lines().any(|l| {
            l.contains("Lock wait timeout exceeded") && l.contains("retrying the batch")
        })
    );
    holder.query_drop("ROLLBACK").await.unwrap();
    let mut probe = m2(&dbs).await;
    wait_until!(
        "the retried batch is in M2",
        context,
        subscriber_status(&mut probe, a).await == Some(77)
    );

    // A deadlock (1213) whose victim is the tool: the holder changes many rows first, locks b;
    // the tool writes a and waits for b; the holder asks for a. The binlog source may write a
    // and b in two transactions (one M1 transaction may land in several): then there is no
    // deadlock to be had, and the round is played again.
    let mut deadlocked = false;
    for round in 0..10u64 {
        let value = 88 + round;
        holder.query_drop("BEGIN").await.unwrap();
        holder
            .query_drop("UPDATE sales_order_item SET qty_ordered = qty_ordered + 1")
            .await
            .unwrap();
        holder.exec_drop(lock, (b,)).await.unwrap();
        source_conn
            .query_drop(format!(
                "UPDATE newsletter_subscriber SET subscriber_status = {value} WHERE subscriber_id IN ({a}, {b})"
            ))
            .await
            .unwrap();
        let deadlocks = |log: String| log.matches("Deadlock found").count();
        let before = deadlocks(follower.log());
        wait_until!(
            "the tool waits for the holder's lock",
            format!("{}; {context}", follower.log()),
            !lock_waits(&mut probe, &dbs.m2.name).await.is_empty(),
            // InnoDB refreshes INNODB_TRX only when it was not read for 100 ms.
            150
        );
        // If the tool's transaction holds a (it wrote a before b), this closes the cycle and
        // InnoDB rolls back the lighter transaction, the tool's; if a went in a transaction of
        // its own, the holder just gets it.
        holder
            .exec_drop(lock, (a,))
            .await
            .unwrap_or_else(|e| panic!("the holder was chosen as the victim: {e}; {context}"));
        holder.query_drop("ROLLBACK").await.unwrap();
        wait_until!(
            "the batch is in M2",
            context,
            subscriber_status(&mut probe, a).await == Some(value as i64)
                && subscriber_status(&mut probe, b).await == Some(value as i64)
        );
        if deadlocks(follower.log()) > before {
            deadlocked = true;
            break;
        }
        eprintln!("round {round}: the tool wrote a and b in two transactions; again");
    }
    assert!(
        deadlocked,
        "the tool never held a while waiting for b: {}; {context}",
        follower.log()
    );
    let (code, log) = follower.terminate();
    assert_eq!(code, Some(0), "{log}; {context}");
    assert!(
        log.lines()
            .any(|l| l.contains("Deadlock found") && l.contains("retrying the batch")),
        "{log}; {context}"
    );
    verify(&setup, &context).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_m2_lock_wait_timeout_and_a_lost_deadlock_are_retried_deltalog() {
    lock_wait_and_deadlock("faults_locks_deltalog", Source::Deltalog).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_m2_lock_wait_timeout_and_a_lost_deadlock_are_retried_binlog() {
    lock_wait_and_deadlock("faults_locks_binlog", Source::Binlog).await;
}

/// One M1 transaction changes 40 orders, one of them with an email too long for M2's
/// varchar(128): the run stops naming table, key and column, acknowledges nothing M2 lacks;
/// `--skip-errors` then applies the other 39 and sets the one aside; once M1's value is fixed,
/// it follows and verify finds M2 equal.
async fn too_long_for_m2(test: &str, source: Source) {
    let context = format!("{test}, {source:?} source");
    let (dbs, setup) = migrated(test, None).await;
    let mut conn = m1(&dbs).await;
    let ids: Vec<u64> = conn
        .query("SELECT entity_id FROM sales_flat_order ORDER BY entity_id LIMIT 40")
        .await
        .unwrap();
    assert_eq!(ids.len(), 40);
    let bad = ids[17];
    let list = ids
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let long = format!("{}@example.com", "y".repeat(188));
    transaction(
        &mut conn,
        &[
            (
                format!(
                    "UPDATE sales_flat_order SET status = 'fault-test' WHERE entity_id IN ({list})"
                ),
                vec![],
            ),
            (
                "UPDATE sales_flat_order SET customer_email = ? WHERE entity_id = ?".into(),
                vec![long.into(), bad.into()],
            ),
        ],
        &context,
    )
    .await;
    let batch = strings(&["--once", "--workers", "1", "--batch-rows", "100"]);
    let (code, _, stderr) = support::cli(&cli_args(&setup, source, &batch));
    assert_eq!(code, 4, "{stderr}; {context}");
    let expected = format!("sales_order (M1 sales_flat_order entity_id={bad}): column customer_email: the M1 value has 200 characters, too long for varchar(128)");
    assert!(stderr.contains(&expected), "{stderr}; {context}");
    let (_, problems) = settled_but_not_in_m2(&dbs, &setup).await;
    assert_eq!(problems, Vec::<String>::new(), "{context}");
    let mut m2 = m2(&dbs).await;
    let statuses = format!(
        "SELECT COUNT(*) FROM sales_order WHERE status = 'fault-test' AND entity_id IN ({list})"
    );
    assert_eq!(
        m2.query_first::<u64, _>(&statuses).await.unwrap().unwrap(),
        0,
        "the failed batch was rolled back as a whole; {context}"
    );
    let mut skip = batch.clone();
    skip.push("--skip-errors".into());
    let (code, stdout, stderr) = support::cli(&cli_args(&setup, source, &skip));
    assert_eq!(code, 1, "{stdout}{stderr}; {context}");
    assert!(
        stdout.contains("1 keys were quarantined"),
        "{stdout}; {context}"
    );
    let quarantined: Vec<(String, String)> = m2
        .query("SELECT source_table, source_key FROM mage_migrate_quarantine")
        .await
        .unwrap();
    assert_eq!(
        quarantined,
        [("sales_flat_order".to_string(), format!("entity_id={bad}"))],
        "{context}"
    );
    assert_eq!(
        m2.query_first::<u64, _>(&statuses).await.unwrap().unwrap(),
        39,
        "every other order of the batch is in M2; {context}"
    );
    conn.exec_drop(
        "UPDATE sales_flat_order SET customer_email = 'fixed@example.com' WHERE entity_id = ?",
        (bad,),
    )
    .await
    .unwrap();
    let (code, stdout, stderr) = support::cli(&cli_args(&setup, source, &strings(&["--once"])));
    assert_eq!(code, 0, "{stdout}{stderr}; {context}");
    verify(&setup, &context).await;
}

#[tokio::test]
async fn a_value_too_long_for_m2_is_named_and_nothing_else_is_lost_deltalog() {
    too_long_for_m2("faults_too_long_deltalog", Source::Deltalog).await;
}

#[tokio::test]
async fn a_value_too_long_for_m2_is_named_and_nothing_else_is_lost_binlog() {
    too_long_for_m2("faults_too_long_binlog", Source::Binlog).await;
}
