//! `precheck` against real MariaDB servers: what passes for root on the harness server (log-bin,
//! ROW, FULL), what fails for a user without replication privileges, a recorded start that the
//! server no longer has, server id clashes, wrong binlog settings on a server of the test's own,
//! and an unreachable database.

mod support;

use std::path::{Path, PathBuf};

use mage_migrate::migrate_data::state::{BinlogStart, State};
use mysql_async::prelude::Queryable;

/// Every check `--source binlog` prints, in order, after the two connections.
const BINLOG_CHECKS: [&str; 9] = [
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "log_bin_compress",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "start position",
    "server id",
    "trigger creation",
];

fn precheck(config: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["precheck", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    support::cli(&args)
}

/// The line of one check, whatever its outcome.
fn line<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| {
            l.get(6..)
                .is_some_and(|rest| rest.starts_with(&format!("{name}: ")))
        })
        .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"))
}

/// Records a start position in M2 as migrate:data would.
async fn record_start(dbs: &support::TestDatabases, config: &Path, file: &str, position: u64) {
    let setup = mage_migrate::setup::Setup::load(config).unwrap();
    let state = State::new(&setup.config.options.dest_prefix());
    let mut m2 = mage_migrate::db::connect(mage_migrate::error::Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    state.ensure_tables(&mut m2).await.unwrap();
    let table = format!(
        "{}{}",
        setup.config.options.dest_prefix(),
        mage_migrate::migrate_data::state::BINLOG_START_TABLE
    );
    m2.query_drop(format!(
        "DELETE FROM {}",
        mage_migrate::db::quote_ident(&table)
    ))
    .await
    .unwrap();
    let start = BinlogStart {
        file: file.into(),
        position,
        gtid: String::new(),
    };
    state.record_binlog_start(&mut m2, &start).await.unwrap();
    m2.disconnect().await.unwrap();
}

/// Oldest and newest binlog file of the shared server.
async fn binlog_range() -> (String, String) {
    let mut root = support::root_conn(support::server()).await;
    let logs: Vec<mysql_async::Row> = root.query("SHOW BINARY LOGS").await.unwrap();
    let name = |row: &mysql_async::Row| row.get::<String, _>(0).unwrap();
    let range = (name(&logs[0]), name(logs.last().unwrap()));
    root.disconnect().await.unwrap();
    range
}

/// The server id precheck uses without --server-id.
fn default_id(dbs: &support::TestDatabases) -> u32 {
    mage_migrate::precheck::default_server_id(&dbs.m1.host, dbs.m1.port.unwrap(), &dbs.m1.name)
}

/// Rewrites a config.xml so both sides log in as `user`.
fn as_user(config: &Path, dbs: &support::TestDatabases, user: &str, password: &str) {
    let mut text = std::fs::read_to_string(config).unwrap();
    for db in [&dbs.m1, &dbs.m2] {
        text = text.replacen(
            &format!("name=\"{}\" user=\"root\"", db.name),
            &format!(
                "name=\"{}\" user=\"{user}\" password=\"{password}\"",
                db.name
            ),
            1,
        );
    }
    std::fs::write(config, text).unwrap();
}

#[tokio::test]
async fn everything_passes_for_root_on_a_row_full_binlog() {
    let dbs = support::databases("root_passes").await;
    let config = support::write_config("root_passes", &dbs, None);

    // No start recorded yet: a DMT copy, or before migrate:data.
    let (code, stdout, stderr) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let names: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            ["ok    ", "WARN  ", "FAIL  "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .filter_map(|l| l[6..].split_once(": ").map(|(n, _)| n))
        .collect();
    let mut expected = vec!["M1 connection", "M2 connection"];
    expected.extend(BINLOG_CHECKS);
    assert_eq!(names, expected, "{stdout}");
    for name in expected {
        assert!(line(&stdout, name).starts_with("ok    "), "{stdout}");
    }
    assert_eq!(
        line(&stdout, "log_bin"),
        "ok    log_bin: binary logging is on"
    );
    assert_eq!(line(&stdout, "binlog_format"), "ok    binlog_format: ROW");
    assert_eq!(
        line(&stdout, "binlog_row_image"),
        "ok    binlog_row_image: FULL"
    );
    assert_eq!(
        line(&stdout, "log_bin_compress"),
        "ok    log_bin_compress: OFF"
    );
    assert_eq!(
        line(&stdout, "REPLICATION SLAVE"),
        "ok    REPLICATION SLAVE: 'root'@'127.0.0.1' may stream the binlog"
    );
    assert_eq!(
        line(&stdout, "start position"),
        "ok    start position: none recorded by migrate:data (a DMT copy?): the binlog is read from M1's current position, after the deltalog is drained"
    );
    assert!(
        line(&stdout, "M1 connection").starts_with(&format!(
            "ok    M1 connection: reached {} (",
            dbs.m1.describe()
        )),
        "{stdout}"
    );
    // How many replicas are connected depends on the other tests of this binary.
    let server_id = line(&stdout, "server id");
    assert!(
        server_id.starts_with(&format!("ok    server id: {} differs from M1's own @@server_id (1) and no replica connected to M1 uses it (", default_id(&dbs)))
            && server_id.ends_with(" connected)"),
        "{server_id}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("precheck: 11 ok, 0 WARN, 0 FAIL"),
        "{stdout}"
    );

    // A start migrate:data recorded at the current position is still on the server.
    let mut root = support::root_conn(support::server()).await;
    let status: mysql_async::Row = root
        .query_first("SHOW MASTER STATUS")
        .await
        .unwrap()
        .unwrap();
    let (file, position): (String, u64) = (status.get(0).unwrap(), status.get(1).unwrap());
    root.disconnect().await.unwrap();
    record_start(&dbs, &config, &file, position).await;
    let (code, stdout, _) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(code, 0, "{stdout}");
    let (oldest, _) = binlog_range().await;
    assert!(
        line(&stdout, "start position").starts_with(&format!(
            "ok    start position: {file}:{position}, recorded by migrate:data, is still on M1 (binlogs {oldest} to "
        )),
        "{stdout}"
    );

    // The default source: connections and the trigger check only.
    let (code, stdout, _) = precheck(&config, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert_eq!(
        line(&stdout, "trigger creation"),
        "ok    trigger creation: 'root'@'127.0.0.1' has SUPER: deltalog install can create the triggers"
    );
}

#[tokio::test]
async fn a_user_without_replication_privileges_fails_with_the_grants_to_run() {
    let dbs = support::databases("nopriv").await;
    let config = support::write_config("nopriv", &dbs, None);
    let mut root = support::root_conn(support::server()).await;
    root.query_drop("CREATE USER IF NOT EXISTS 'nopriv'@'127.0.0.1' IDENTIFIED BY 'pw-secret-9'")
        .await
        .unwrap();
    for db in [&dbs.m1.name, &dbs.m2.name] {
        root.query_drop(format!(
            "GRANT ALL PRIVILEGES ON {}.* TO 'nopriv'@'127.0.0.1'",
            mage_migrate::db::quote_ident(db)
        ))
        .await
        .unwrap();
    }
    root.disconnect().await.unwrap();
    as_user(&config, &dbs, "nopriv", "pw-secret-9");

    let (code, stdout, stderr) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        line(&stdout, "REPLICATION SLAVE"),
        "FAIL  REPLICATION SLAVE: 'nopriv'@'127.0.0.1' lacks REPLICATION SLAVE, needed to stream the binlog: GRANT REPLICATION SLAVE ON *.* TO 'nopriv'@'127.0.0.1'"
    );
    assert_eq!(
        line(&stdout, "REPLICATION CLIENT"),
        "FAIL  REPLICATION CLIENT: 'nopriv'@'127.0.0.1' lacks REPLICATION CLIENT (MariaDB: BINLOG MONITOR), needed to read the binlog position (SHOW MASTER STATUS, SHOW BINARY LOGS): GRANT REPLICATION CLIENT ON *.* TO 'nopriv'@'127.0.0.1'"
    );
    assert_eq!(
        line(&stdout, "server id"),
        format!("WARN  server id: {} differs from M1's own @@server_id (1); could not check that no connected replica uses it: SHOW REPLICA HOSTS needs REPLICATION MASTER ADMIN (MariaDB) or REPLICATION SLAVE (MySQL)", default_id(&dbs))
    );
    let trigger = "WARN  trigger creation: binary logging is on, log_bin_trust_function_creators is OFF and 'nopriv'@'127.0.0.1' lacks SUPER: deltalog install will fail with error 1419; fix: SET GLOBAL log_bin_trust_function_creators = 1 (on RDS, Aurora or Cloud SQL: in the parameter group), or GRANT SUPER ON *.* TO 'nopriv'@'127.0.0.1'";
    assert_eq!(line(&stdout, "trigger creation"), trigger);
    assert_eq!(
        stdout.lines().last(),
        Some("precheck: 7 ok, 2 WARN, 2 FAIL"),
        "{stdout}"
    );

    // A recorded start cannot be checked without SHOW BINARY LOGS: a warning, not a guess.
    record_start(&dbs, &config, "mysql-bin.000001", 4).await;
    let (_, stdout, _) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(
        line(&stdout, "start position"),
        "WARN  start position: could not check that mysql-bin.000001:4 is still on M1: SHOW BINARY LOGS needs REPLICATION CLIENT (MariaDB: BINLOG MONITOR)"
    );

    // The deltalog source needs none of it: only the trigger warning is left.
    let (code, stdout, _) = precheck(&config, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(line(&stdout, "trigger creation"), trigger);
    assert!(!stdout.contains("pw-secret-9") && !stderr.contains("pw-secret-9"));
}

#[tokio::test]
async fn a_recorded_start_the_server_no_longer_has_fails_pointing_to_the_deltalog() {
    let dbs = support::databases("purged").await;
    let config = support::write_config("purged", &dbs, None);
    let deltalog =
        "use --source deltalog, which loses nothing (the triggers recorded every change)";

    record_start(&dbs, &config, "mysql-bin.000000", 4).await;
    let (code, stdout, _) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(code, 1, "{stdout}");
    let (oldest, newest) = binlog_range().await;
    assert_eq!(
        line(&stdout, "start position"),
        format!("FAIL  start position: the binlogs were purged since mysql-bin.000000:4, recorded by migrate:data (M1 keeps {oldest} to {newest}): the changes since then cannot be read from the binlog; {deltalog}")
    );
    assert_eq!(
        stdout.lines().last(),
        Some("precheck: 10 ok, 0 WARN, 1 FAIL"),
        "{stdout}"
    );

    // A position past the end of a file the server has: not the binlogs migrate:data saw.
    record_start(&dbs, &config, &oldest, 1 << 40).await;
    let (code, stdout, _) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(code, 1, "{stdout}");
    let text = line(&stdout, "start position");
    assert!(
        text.starts_with(&format!(
            "FAIL  start position: {oldest}:{}, recorded by migrate:data, is past the end of {oldest} (",
            1u64 << 40
        )),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("bytes): M1's binlogs are not the ones migrate:data saw (server replaced or restored?); {deltalog}")),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_id_in_use_fails() {
    let dbs = support::databases("server_id").await;
    let config = support::write_config("server_id", &dbs, None);

    let (code, stdout, _) = precheck(&config, &["--source", "binlog", "--server-id", "1"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        line(&stdout, "server id"),
        "FAIL  server id: --server-id 1 is M1's own @@server_id; a binlog reader needs an id no server or replica uses: leave out --server-id or choose another"
    );

    // A replica registered with the id: a binlog stream of our own, kept open meanwhile.
    let opts = mage_migrate::db::opts(mage_migrate::error::Side::M1, &dbs.m1).unwrap();
    let conn = mysql_async::Conn::new(opts).await.unwrap();
    let request = mysql_async::BinlogStreamRequest::new(4242)
        .with_hostname(b"replica-7")
        .with_port(3307);
    let stream = conn.get_binlog_stream(request).await.unwrap();
    let (code, stdout, _) = precheck(&config, &["--source", "binlog", "--server-id", "4242"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        line(&stdout, "server id"),
        "FAIL  server id: server id 4242 is used by a replica connected to M1 from replica-7:3307; two connections with one id cut each other off: choose another --server-id"
    );
    stream.close().await.ok();

    // 0 is refused by the argument parser.
    let (code, _, stderr) = precheck(&config, &["--source", "binlog", "--server-id", "0"]);
    assert_eq!(code, 2, "{stderr}");
}

#[tokio::test]
async fn wrong_binlog_settings_fail_with_their_fix() {
    // A server of the test's own: the shared one's globals must not change under other tests.
    let server = support::own_server(&[
        "--binlog-format=STATEMENT",
        "--binlog-row-image=MINIMAL",
        "--log-bin-compress",
    ]);
    let dbs = support::databases_on(&server, "wrong_settings").await;
    let config = support::write_config("wrong_settings", &dbs, None);
    let (code, stdout, _) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        line(&stdout, "binlog_format"),
        "FAIL  binlog_format: binlog_format is STATEMENT; the binlog source needs ROW: SET GLOBAL binlog_format = 'ROW' (and binlog_format = ROW in my.cnf), then FLUSH BINARY LOGS; sessions already connected keep STATEMENT until they reconnect"
    );
    assert_eq!(
        line(&stdout, "binlog_row_image"),
        "FAIL  binlog_row_image: binlog_row_image is MINIMAL; the binlog source needs FULL (every column of a changed row): SET GLOBAL binlog_row_image = 'FULL' (and binlog_row_image = FULL in my.cnf), then FLUSH BINARY LOGS; sessions already connected keep MINIMAL until they reconnect"
    );
    assert_eq!(
        line(&stdout, "log_bin_compress"),
        "FAIL  log_bin_compress: log_bin_compress is ON; MariaDB's compressed events cannot be decoded: SET GLOBAL log_bin_compress = OFF (and in my.cnf), then FLUSH BINARY LOGS; events already written compressed cannot be read, so start with --source deltalog"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("precheck: 8 ok, 0 WARN, 3 FAIL"),
        "{stdout}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_a_failed_check_naming_it() {
    let dbs = support::databases("unreachable").await;
    let config: PathBuf = support::write_config("unreachable", &dbs, None);
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        &format!(
            "port=\"{}\" name=\"{}\" user=\"root\"",
            dbs.m1.port.unwrap(),
            dbs.m1.name
        ),
        &format!(
            "port=\"1\" name=\"{}\" user=\"root\" password=\"hunter2-secret\"",
            dbs.m1.name
        ),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let (code, stdout, stderr) = precheck(&config, &["--source", "binlog"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let m1 = line(&stdout, "M1 connection");
    assert!(
        m1.starts_with(&format!(
            "FAIL  M1 connection: M1 (source) root@127.0.0.1:1/{}: connect: ",
            dbs.m1.name
        )),
        "{m1}"
    );
    assert!(
        m1.ends_with("; check host, port, name, user and password of <source> in config.xml"),
        "{m1}"
    );
    assert!(
        line(&stdout, "M2 connection").starts_with("ok    "),
        "{stdout}"
    );
    // Nothing else can be checked without M1.
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
}
