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
