//! Test harness: one private MariaDB server per test binary (started on first use, stopped when
//! the binary exits, also on a panic or a kill), and a unique pair of databases per test.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use mage_migrate::config::DatabaseConfig;
use mage_migrate::sandbox::{Server, ServerOptions};
use mysql_async::Conn;

/// Where test servers live: `target/tmp/mariadb`.
pub fn server_base() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mariadb")
}

/// The server shared by the tests of this binary.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        Server::start(&server_base(), &ServerOptions::default())
            .unwrap_or_else(|e| panic!("test server: {e}"))
    })
}

/// A server of the test's own, for tests that stop, restart or reconfigure it.
pub fn own_server(extra_args: &[&str]) -> Server {
    let options = ServerOptions {
        extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
    };
    Server::start(&server_base(), &options).unwrap_or_else(|e| panic!("test server: {e}"))
}

pub async fn root_conn(server: &Server) -> Conn {
    let opts = mage_migrate::db::opts(mage_migrate::error::Side::M1, &server.database("mysql"))
        .expect("options");
    Conn::new(opts)
        .await
        .expect("connecting to the test server")
}

/// A Magento 1 and a Magento 2 database for one test.
pub struct TestDatabases {
    pub m1: DatabaseConfig,
    pub m2: DatabaseConfig,
}

/// Creates an empty, uniquely named database pair on the shared server.
pub async fn databases(test: &str) -> TestDatabases {
    databases_on(server(), test).await
}

pub async fn databases_on(server: &Server, test: &str) -> TestDatabases {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let stem: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    let m1 = format!("m1_{stem}_{n}");
    let m2 = format!("m2_{stem}_{n}");
    let mut conn = root_conn(server).await;
    for name in [&m1, &m2] {
        mage_migrate::sandbox::create_database(&mut conn, name, &[])
            .await
            .expect("creating a test database");
    }
    conn.disconnect().await.ok();
    TestDatabases {
        m1: server.database(&m1),
        m2: server.database(&m2),
    }
}

/// A directory for one test's files, emptied first.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("scratch")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir
}

/// The fixture DMT tree (`fixtures/dmt/etc/opensource-to-opensource`).
pub fn fixture_etc() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/dmt/etc/opensource-to-opensource")
}

/// Writes a config.xml for a test's databases into its scratch directory: the fixture's steps
/// and options, with the map and groups files by absolute path. `deltalog` replaces the
/// fixture deltalog.xml when given.
pub fn write_config(test: &str, dbs: &TestDatabases, deltalog: Option<&str>) -> PathBuf {
    let dir = scratch_dir(test);
    let etc = fixture_etc();
    let stock = std::fs::read_to_string(etc.join("1.9.4.5/config.xml.dist")).unwrap();
    let database = |db: &DatabaseConfig| {
        format!(
            "<database host=\"{}\" port=\"{}\" name=\"{}\" user=\"{}\" />",
            db.host,
            db.port.unwrap_or(3306),
            db.name,
            db.user
        )
    };
    let mut config = stock
        .replace(
            "<database host=\"localhost\" name=\"magento1\" user=\"root\" />",
            &database(&dbs.m1),
        )
        .replace(
            "<database host=\"localhost\" name=\"magento2\" user=\"root\" />",
            &database(&dbs.m2),
        )
        .replace(
            ">etc/opensource-to-opensource/",
            &format!(">{}/", etc.display()),
        );
    assert!(
        config.contains(&dbs.m1.name),
        "the fixture config's <source> changed"
    );
    if let Some(xml) = deltalog {
        let path = dir.join("deltalog.xml");
        std::fs::write(&path, xml).unwrap();
        config = config.replace(
            &format!("{}/deltalog.xml.dist", etc.display()),
            &path.display().to_string(),
        );
    }
    let path = dir.join("config.xml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Values equal as the databases would compare them: M1 and M2 may type a column differently
/// (smallint → int, varchar → text), so compare their SQL text.
fn same_value(a: &mysql_async::Value, b: &mysql_async::Value) -> bool {
    use mysql_async::Value::*;
    match (a, b) {
        (NULL, NULL) => true,
        (NULL, _) | (_, NULL) => false,
        _ => a.as_sql(true) == b.as_sql(true) || text_of(a) == text_of(b),
    }
}

fn text_of(v: &mysql_async::Value) -> String {
    match v {
        mysql_async::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.as_sql(true).trim_matches('\'').to_string(),
    }
}

/// Every difference between M2 and M1 seen through the map (at most a few per table), for the
/// Map step's tables: rows missing on either side and columns that differ.
pub async fn diff_through_map(
    dbs: &TestDatabases,
    setup: &mage_migrate::setup::Setup,
) -> Vec<String> {
    diff_tables(dbs, setup, None).await
}

/// As `diff_through_map`, for the tables of one deltalog group only (what a delta step follows).
pub async fn diff_group(
    dbs: &TestDatabases,
    setup: &mage_migrate::setup::Setup,
    group: &str,
) -> Vec<String> {
    let tables: Vec<String> = setup
        .deltalog_groups
        .documents_of(group)
        .into_iter()
        .map(|(t, _)| t.to_string())
        .collect();
    diff_tables(dbs, setup, Some(&tables)).await
}

async fn diff_tables(
    dbs: &TestDatabases,
    setup: &mage_migrate::setup::Setup,
    only: Option<&[String]>,
) -> Vec<String> {
    use mage_migrate::db::schema::Schema;
    use mage_migrate::error::Side;
    use mage_migrate::steps::map::{plan, MapTransformer};
    use mysql_async::prelude::Queryable;

    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let m1_schema = Schema::read(&mut m1).await.unwrap();
    let m2_schema = Schema::read(&mut m2).await.unwrap();
    let o = &setup.config.options;
    let (mappings, report) = plan(
        &setup.map,
        &m1_schema,
        &m2_schema,
        &o.source_prefix(),
        &o.dest_prefix(),
    )
    .unwrap();
    assert!(report.is_ok(), "{:?}", report.errors);
    let q = mage_migrate::db::quote_ident;
    let mut diffs = Vec::new();
    for m in &mappings {
        if only.is_some_and(|tables| !tables.contains(&m.document)) {
            continue;
        }
        let transformer = MapTransformer::new(m).unwrap_or_else(|e| panic!("{e}"));
        let key_dest: Vec<String> = m
            .primary_key
            .iter()
            .map(|k| {
                let i = m.select_columns.iter().position(|c| c == k).unwrap();
                m.copies
                    .iter()
                    .find(|(s, _)| *s == i)
                    .map(|(_, d)| d.clone())
                    .unwrap()
            })
            .collect();
        let select: Vec<String> = m.select_columns.iter().map(|c| q(c)).collect();
        let pk: Vec<String> = m.primary_key.iter().map(|c| q(c)).collect();
        let rows1: Vec<mysql_async::Row> = m1
            .query(format!(
                "SELECT {} FROM {} ORDER BY {}",
                select.join(", "),
                q(&m.source_table),
                pk.join(", ")
            ))
            .await
            .unwrap();
        let insert: Vec<String> = m.insert_columns.iter().map(|c| q(c)).collect();
        let order: Vec<String> = key_dest.iter().map(|c| q(c)).collect();
        let rows2: Vec<mysql_async::Row> = m2
            .query(format!(
                "SELECT {} FROM {} ORDER BY {}",
                insert.join(", "),
                q(&m.destination_table),
                order.join(", ")
            ))
            .await
            .unwrap();
        if rows1.len() != rows2.len() {
            diffs.push(format!(
                "{}: {} rows in M1, {} in M2",
                m.destination_table,
                rows1.len(),
                rows2.len()
            ));
            continue;
        }
        let mut table_diffs = 0;
        for (r1, r2) in rows1.into_iter().zip(rows2) {
            let expected = transformer.transform(r1.unwrap()).unwrap();
            let found = r2.unwrap();
            for ((column, e), f) in m.insert_columns.iter().zip(&expected).zip(&found) {
                if !same_value(e, f) && table_diffs < 3 {
                    table_diffs += 1;
                    diffs.push(format!(
                        "{}.{column}: expected {:?}, found {:?}",
                        m.destination_table, e, f
                    ));
                }
            }
        }
    }
    diffs
}

/// Runs the mage-migrate binary; returns (exit code, stdout, stderr).
pub fn cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(args)
        .output()
        .expect("running mage-migrate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
