//! Bad input of every kind, through the binary and every command that reads config.xml: each
//! is one line starting `error: ` with a non-zero exit code, never a panic, and never a
//! password. tests/cli.rs holds the first cases (a missing, unreadable or malformed config.xml,
//! a malformed map.xml, a document without key, …); this file covers the other files, the
//! commands one by one, and the database side: wrong credentials, an unknown host, a database
//! that does not exist, a missing deltalog, a table deltalog.xml names that M1 lacks.
//! Last, a few thousand mutated variants of the fixture XML files go through the readers.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use mage_migrate::config::{DatabaseConfig, Password};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mysql_async::prelude::Queryable;
use support::TestDatabases;

/// A command: its words, options after the config path, and the mode whose unbuilt steps it
/// skips (`--skip-step`), so that what fails is the input under test.
type Command = (
    &'static [&'static str],
    &'static [&'static str],
    Option<&'static str>,
);

/// Every command that reads config.xml.
const COMMANDS: &[Command] = &[
    (&["migrate:data"], &[], Some("data")),
    (&["migrate:delta"], &["--once"], Some("delta")),
    (
        &["migrate:delta"],
        &["--once", "--source", "binlog"],
        Some("delta"),
    ),
    (&["deltalog", "install"], &[], None),
    (&["deltalog", "status"], &[], None),
    (&["deltalog", "remove"], &[], None),
    (&["cleanup"], &[], None),
    (&["verify"], &[], None),
    (&["cutover"], &["--quiet-seconds", "0"], Some("delta")),
    (&["precheck"], &[], None),
    (&["precheck"], &["--source", "binlog"], None),
];

/// What a run of the binary left: exit code, stdout, stderr.
struct Outcome {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Exit `code`, and stderr is exactly one line: `error: ` + `line`.
    fn assert_error(&self, code: i32, line: &str) {
        assert_eq!(
            (self.code, self.stderr.as_str()),
            (code, format!("error: {line}\n").as_str()),
            "{:?}\nstdout: {}",
            self.args,
            self.stdout
        );
    }

    /// Exit `code`, and stderr is one line that starts with `error: ` + `prefix`.
    fn assert_error_starting(&self, code: i32, prefix: &str) {
        assert_eq!(
            self.code, code,
            "{:?}\nstdout: {}\nstderr: {}",
            self.args, self.stdout, self.stderr
        );
        assert!(
            self.stderr.starts_with(&format!("error: {prefix}")),
            "{:?}: {}",
            self.args,
            self.stderr
        );
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "{:?}: {}",
            self.args,
            self.stderr
        );
    }

    fn assert_silent_about(&self, secret: &str) {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "{:?} printed the password:\n{}{}",
            self.args,
            self.stdout,
            self.stderr
        );
    }
}

/// Runs the binary with a deadline: a command that hangs on bad input is a failure too.
fn run<S: AsRef<str>>(args: &[S]) -> Outcome {
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(&args)
        .env_remove("MAGE_MIGRATE_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running mage-migrate");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("waiting for mage-migrate"),
        Err(_) => {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{args:?} did not end within 60 s");
        }
    };
    let outcome = Outcome {
        args,
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !outcome.stderr.contains("panicked"),
        "{:?}: {}",
        outcome.args,
        outcome.stderr
    );
    outcome
}

/// The arguments of one of [`COMMANDS`] on `config`, with the unbuilt steps skipped when the
/// config can be loaded.
fn command_args(command: &Command, config: &Path) -> Vec<String> {
    let (words, options, skip) = command;
    let mut args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
    args.push(config.display().to_string());
    args.extend(options.iter().map(|s| s.to_string()));
    if let (Some(mode), Ok(setup)) = (skip, Setup::load(config)) {
        for step in mage_migrate::migrate_data::unbuilt_steps(&setup, mode) {
            args.push("--skip-step".into());
            args.push(step);
        }
    }
    args
}

/// Runs every command of [`COMMANDS`] on `config`.
fn every_command(config: &Path) -> Vec<Outcome> {
    COMMANDS
        .iter()
        .map(|c| run(&command_args(c, config)))
        .collect()
}

/// A database nothing listens for; fine for tests that fail before connecting.
fn nowhere(name: &str) -> DatabaseConfig {
    DatabaseConfig {
        host: "127.0.0.1".into(),
        port: Some(1),
        name: name.into(),
        user: "root".into(),
        password: Password::default(),
        ssl_ca: None,
        ssl_cert: None,
        ssl_key: None,
    }
}

fn fixture(relative: &str) -> PathBuf {
    support::fixture_etc().join(relative)
}

/// The fixture config for `dbs` with the fixture file `option_file` replaced by `name` in the
/// test's scratch directory, holding `content` (with `None`: not written at all). Returns the
/// config's path and the file's.
fn config_with_file(
    test: &str,
    dbs: &TestDatabases,
    option_file: &str,
    name: &str,
    content: Option<&[u8]>,
) -> (PathBuf, PathBuf) {
    let config = support::write_config(test, dbs, None);
    let path = config.parent().unwrap().join(name);
    if let Some(bytes) = content {
        std::fs::write(&path, bytes).unwrap();
    }
    replace_in(
        &config,
        &fixture(option_file).display().to_string(),
        &path.display().to_string(),
    );
    (config, path)
}

fn replace_in(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from}", file.display());
    std::fs::write(file, text.replace(from, to)).unwrap();
}

/// Runs every command on `config` and checks each printed the same one line and exit code 2.
fn every_command_says(config: &Path, line: &str) {
    for outcome in every_command(config) {
        outcome.assert_error(2, line);
    }
}

// ---------------------------------------------------------------------------------------------
// Files: everything is checked before a database is touched, the same way by every command.

#[test]
fn config_xml_empty_not_xml_or_not_a_dmt_config() {
    let dir = support::scratch_dir("bad_config_xml");
    let config = dir.join("config.xml");
    let c = config.display();
    std::fs::write(&config, "").unwrap();
    every_command_says(
        &config,
        &format!("{c}: malformed XML: the file has no root element"),
    );
    std::fs::write(&config, b"\xff\xfe<\x00c\x00>\x00").unwrap();
    let outcome = run(&command_args(&COMMANDS[0], &config));
    outcome.assert_error_starting(2, &format!("{c}:1:"));
    std::fs::write(&config, "<config>\n  <steps mode=\"data\">\n</config>\n").unwrap();
    every_command_says(
        &config,
        &format!("{c}:3:1: malformed XML: ill-formed document: expected `</steps>`, but `</config>` was found"),
    );
    std::fs::write(&config, "<map/>\n").unwrap();
    every_command_says(
        &config,
        &format!("{c}:1:1: <map>: the root element of config.xml must be <config>"),
    );
    // The file's own text in a message keeps its line breaks out of the one line.
    let dbs = TestDatabases {
        m1: nowhere("magento1"),
        m2: nowhere("magento2"),
    };
    let stock = support::write_config("bad_config_xml_bulk", &dbs, None);
    let line = line_of(&stock, "<bulk_size>");
    replace_in(
        &stock,
        "<bulk_size>0</bulk_size>",
        "<bulk_size>lo\nts</bulk_size>",
    );
    every_command_says(
        &stock,
        &format!(
            "{}:{line}:9: <bulk_size>: \"lo\\nts\" is not a row count: use 0 (automatic) or a positive number",
            stock.display()
        ),
    );
    std::fs::write(&config, "<config>\n</config>\n").unwrap();
    every_command_says(
        &config,
        &format!("{c}:1:1: <config>: no <steps mode=\"…\"> element; config.xml needs at least one"),
    );
}

#[test]
fn map_xml_missing_unreadable_malformed_or_not_a_map() {
    let dbs = TestDatabases {
        m1: nowhere("magento1"),
        m2: nowhere("magento2"),
    };
    let map = "1.9.4.5/map.xml.dist";

    let (config, path) = config_with_file("map_missing", &dbs, map, "map.xml", None);
    let line = line_of(&config, "<map_file>");
    every_command_says(
        &config,
        &format!(
            "{}:{line}:9: <map_file>: file {} does not exist",
            config.display(),
            path.display()
        ),
    );

    // A directory where the file should be.
    let (config, path) = config_with_file("map_directory", &dbs, map, "map.xml", None);
    std::fs::create_dir_all(&path).unwrap();
    every_command_says(
        &config,
        &format!(
            "{}:{line}:9: <map_file>: {} is a directory, not a file",
            config.display(),
            path.display()
        ),
    );

    // A file that exists but cannot be read (root may read any file, so permissions cannot
    // show this; /proc/self/mem fails every read at offset 0).
    let config = support::write_config("map_unreadable", &dbs, None);
    replace_in(
        &config,
        &fixture(map).display().to_string(),
        "/proc/self/mem",
    );
    every_command_says(
        &config,
        "/proc/self/mem: cannot read the file: Input/output error (os error 5)",
    );

    // Cut off in the middle of an element.
    let whole = std::fs::read(fixture(map)).unwrap();
    let (config, path) = config_with_file("map_cut", &dbs, map, "map.xml", Some(&whole[..2000]));
    let outcome = run(&command_args(&COMMANDS[1], &config));
    outcome.assert_error_starting(2, &format!("{}:", path.display()));
    assert!(
        outcome.stderr.contains(": malformed XML: "),
        "{}",
        outcome.stderr
    );
    let first = outcome.stderr;
    for outcome in every_command(&config) {
        assert_eq!(
            (outcome.code, &outcome.stderr),
            (2, &first),
            "{:?}",
            outcome.args
        );
    }

    // Well-formed, but not a map.
    let (config, path) = config_with_file(
        "map_not_a_map",
        &dbs,
        map,
        "map.xml",
        Some(b"<?xml version=\"1.0\"?>\n<groups/>\n"),
    );
    every_command_says(
        &config,
        &format!(
            "{}:2:1: <groups>: the root element of a map file must be <map>",
            path.display()
        ),
    );
}

#[test]
fn deltalog_xml_missing_unreadable_malformed_or_not_groups() {
    let dbs = TestDatabases {
        m1: nowhere("magento1"),
        m2: nowhere("magento2"),
    };
    let deltalog = "deltalog.xml.dist";

    let (config, path) = config_with_file("deltalog_missing", &dbs, deltalog, "deltalog.xml", None);
    let line = line_of(&config, "<delta_document_groups_file>");
    every_command_says(
        &config,
        &format!(
            "{}:{line}:9: <delta_document_groups_file>: file {} does not exist",
            config.display(),
            path.display()
        ),
    );

    let config = support::write_config("deltalog_unreadable", &dbs, None);
    replace_in(
        &config,
        &fixture(deltalog).display().to_string(),
        "/proc/self/mem",
    );
    every_command_says(
        &config,
        "/proc/self/mem: cannot read the file: Input/output error (os error 5)",
    );

    let (config, path) = config_with_file(
        "deltalog_malformed",
        &dbs,
        deltalog,
        "deltalog.xml",
        Some(b"<groups>\n  <group name=\"delta_map\">\n    <document key=\"entity_id>sales_flat_order</document>\n  </group>\n</groups>\n"),
    );
    let outcome = run(&command_args(&COMMANDS[3], &config));
    outcome.assert_error_starting(2, &format!("{}:", path.display()));
    assert!(
        outcome.stderr.contains(": malformed XML: "),
        "{}",
        outcome.stderr
    );
    let first = outcome.stderr;
    for outcome in every_command(&config) {
        assert_eq!(
            (outcome.code, &outcome.stderr),
            (2, &first),
            "{:?}",
            outcome.args
        );
    }

    let (config, path) = config_with_file(
        "deltalog_not_groups",
        &dbs,
        deltalog,
        "deltalog.xml",
        Some(b"<map><source/><destination/></map>"),
    );
    every_command_says(
        &config,
        &format!(
            "{}:1:1: <map>: the root element of a groups file must be <groups>",
            path.display()
        ),
    );

    let (config, path) = config_with_file(
        "deltalog_bad_key",
        &dbs,
        deltalog,
        "deltalog.xml",
        Some(b"<groups>\n<group name=\"delta_map\">\n  <document key=\"entity_id,\">sales_flat_order</document>\n</group>\n</groups>\n"),
    );
    every_command_says(
        &config,
        &format!(
            "{}:3:3: <document>: sales_flat_order in group \"delta_map\" has key=\"entity_id,\", which names an empty column (write key=\"entity_id\", or key=\"a,b\" for a composite key)",
            path.display()
        ),
    );
}

/// The 1-based line of the first line of `file` that contains `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .expect("the needle is in the file")
        + 1
}

// ---------------------------------------------------------------------------------------------
// The database side.

/// Which database a connection test breaks.
#[derive(Clone, Copy, PartialEq)]
enum Broken {
    M1,
    M2,
}

/// Every command on a config whose M1 (or M2) cannot be reached or refuses us: exit 3 with the
/// one line `<side> <target>: connect: <reason>` (precheck: exit 1 with that as its FAIL line);
/// `reason` is the whole reason, or with `…` at its end, how it starts. The deltalog commands
/// need M1 only and cleanup M2 only: they work on without the other.
fn every_command_fails_to_connect(
    config: &Path,
    broken: Broken,
    target: &str,
    reason: &str,
) -> Vec<Outcome> {
    let (side, element) = match broken {
        Broken::M1 => ("M1 (source)", "source"),
        Broken::M2 => ("M2 (destination)", "destination"),
    };
    let error = format!("{side} {target}: connect: {}", reason.trim_end_matches('…'));
    let whole = !reason.ends_with('…');
    let outcomes = every_command(config);
    for outcome in &outcomes {
        let args = &outcome.args;
        if outcome.args[0] == "precheck" {
            assert_eq!(
                outcome.code, 1,
                "{args:?}: {}{}",
                outcome.stdout, outcome.stderr
            );
            let label = format!("FAIL  {} connection: ", &side[..2]);
            let line = outcome
                .stdout
                .lines()
                .find(|l| l.starts_with(&label))
                .unwrap_or_else(|| panic!("{args:?}: {}", outcome.stdout));
            let fix =
                format!("; check host, port, name, user and password of <{element}> in config.xml");
            assert!(
                line.starts_with(&format!("{label}{error}")) && line.ends_with(&fix),
                "{args:?}: {line}"
            );
            if whole {
                assert_eq!(line, format!("{label}{error}{fix}"));
            }
        } else if (broken == Broken::M2 && outcome.args[0] == "deltalog")
            || (broken == Broken::M1 && outcome.args[0] == "cleanup")
        {
            assert_eq!(outcome.code, 0, "{args:?}: {}", outcome.stderr);
        } else if whole {
            outcome.assert_error(3, &error);
        } else {
            outcome.assert_error_starting(3, &error);
        }
    }
    outcomes
}

#[tokio::test]
async fn a_wrong_password_is_refused_in_one_line_that_never_shows_it() {
    let mut dbs = support::databases("wrong_password").await;
    let mut root = support::root_conn(support::server()).await;
    root.query_drop("CREATE USER IF NOT EXISTS 'bi_user'@'%' IDENTIFIED BY 'Right-Pw-7361'")
        .await
        .unwrap();
    for db in [&dbs.m1.name, &dbs.m2.name] {
        root.query_drop(format!("GRANT ALL ON `{db}`.* TO 'bi_user'@'%'"))
            .await
            .unwrap();
    }
    root.disconnect().await.ok();
    let wrong = "Wrong-Pw-5512";
    for db in [&mut dbs.m1, &mut dbs.m2] {
        db.user = "bi_user".into();
        db.password = Password::new("Right-Pw-7361");
    }
    let config = support::write_config("wrong_password", &dbs, None);
    let text = std::fs::read_to_string(&config).unwrap();
    let with_password = |m1: &str, m2: &str| {
        text.replacen(
            &format!("name=\"{}\" user=\"bi_user\"", dbs.m1.name),
            &format!(
                "name=\"{}\" user=\"bi_user\" password=\"{m1}\"",
                dbs.m1.name
            ),
            1,
        )
        .replacen(
            &format!("name=\"{}\" user=\"bi_user\"", dbs.m2.name),
            &format!(
                "name=\"{}\" user=\"bi_user\" password=\"{m2}\"",
                dbs.m2.name
            ),
            1,
        )
    };
    let denied =
        "ERROR 1045 (28000): Access denied for user 'bi_user'@'127.0.0.1' (using password: YES)";
    // The wrong password on one side, the right one on the other: neither is ever printed.
    for (broken, m1, m2) in [
        (Broken::M1, wrong, "Right-Pw-7361"),
        (Broken::M2, "Right-Pw-7361", wrong),
    ] {
        std::fs::write(&config, with_password(m1, m2)).unwrap();
        let target = match broken {
            Broken::M1 => dbs.m1.describe(),
            Broken::M2 => dbs.m2.describe(),
        };
        for outcome in every_command_fails_to_connect(&config, broken, &target, denied) {
            outcome.assert_silent_about(wrong);
            outcome.assert_silent_about("Right-Pw-7361");
        }
    }
}

#[tokio::test]
async fn an_unknown_host_fails_at_once_naming_it() {
    let mut dbs = support::databases("unknown_host").await;
    dbs.m1.host = "m1.mage-migrate.invalid".into();
    let config = support::write_config("unknown_host", &dbs, None);
    // The resolver's own words follow (glibc: "Name or service not known").
    let _ = every_command_fails_to_connect(
        &config,
        Broken::M1,
        &dbs.m1.describe(),
        "failed to lookup address information: …",
    );
}

#[tokio::test]
async fn a_database_that_does_not_exist_is_named() {
    let mut dbs = support::databases("unknown_database").await;
    dbs.m1.name = "no_such_database".into();
    let config = support::write_config("unknown_database", &dbs, None);
    let _ = every_command_fails_to_connect(
        &config,
        Broken::M1,
        &dbs.m1.describe(),
        "ERROR 1049 (42000): Unknown database 'no_such_database'",
    );
}

/// A Magento 1 and a Magento 2 database with the fixture schemas and no rows; `deltalog`
/// replaces the fixture deltalog.xml when given.
async fn schemas(test: &str, deltalog: Option<&str>) -> (TestDatabases, PathBuf) {
    schemas_on(support::server(), test, deltalog).await
}

async fn schemas_on(
    server: &mage_migrate::sandbox::Server,
    test: &str,
    deltalog: Option<&str>,
) -> (TestDatabases, PathBuf) {
    let dbs = support::databases_on(server, test).await;
    let mut root = support::root_conn(server).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    root.disconnect().await.ok();
    let config = support::write_config(test, &dbs, deltalog);
    (dbs, config)
}

#[tokio::test]
async fn a_missing_deltalog_stops_both_sources_and_the_cutover_in_the_dmt_words() {
    // A server of the test's own: the cutover first waits for M1's binlog to stand still, which
    // the shared server's does not while other tests run.
    let server = support::own_server(&[]);
    let (_dbs, config) = schemas_on(&server, "no_deltalog", None).await;
    // The stock delta list starts with the Customer step, as the DMT's message does.
    let line = format!(
        "Deltalog for customer_entity is not installed; install it with: mage-migrate deltalog install {}",
        config.display()
    );
    for command in COMMANDS
        .iter()
        .filter(|(words, ..)| words[0] == "migrate:delta" || words[0] == "cutover")
    {
        run(&command_args(command, &config)).assert_error(2, &line);
    }
    let binlog_cutover: Command = (
        &["cutover"],
        &["--quiet-seconds", "0", "--source", "binlog"],
        Some("delta"),
    );
    run(&command_args(&binlog_cutover, &config)).assert_error(2, &line);
}

#[tokio::test]
async fn a_table_deltalog_xml_names_that_m1_lacks_is_skipped_as_the_dmt_does_and_named() {
    let deltalog = r#"<groups>
    <group name="delta_map">
        <document key="entity_id">sales_flat_order</document>
        <document key="post_id">greatblog_post</document>
    </group>
</groups>
"#;
    let (_dbs, config) = schemas("table_m1_lacks", Some(deltalog)).await;
    let c = config.display().to_string();
    let out = run(&["deltalog", "install", &c]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.contains("WARN"))
            .collect::<Vec<_>>()
            .len(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "Some of the delta log tables were not created. Expected:2. Actual:1; not in M1: greatblog_post"
        ),
        "{}",
        out.stderr
    );
    let out = run(&["deltalog", "status", &c]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["greatblog_post", "not", "in", "M1"]),
        "{}",
        out.stdout
    );
    let out = run(&command_args(&COMMANDS[1], &config));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[tokio::test]
async fn a_key_column_m1_lacks_is_named_with_its_table() {
    let deltalog = r#"<groups>
    <group name="delta_map">
        <document key="entity_idd">sales_flat_order</document>
    </group>
</groups>
"#;
    let (_dbs, config) = schemas("key_m1_lacks", Some(deltalog)).await;
    let out = run(&["deltalog", "install", &config.display().to_string()]);
    out.assert_error(
        2,
        &format!(
            "{}: key column entity_idd of sales_flat_order does not exist in M1",
            config.parent().unwrap().join("deltalog.xml").display()
        ),
    );
}

#[tokio::test]
async fn groups_files_read_after_connecting_are_named_when_bad() {
    let (dbs, _) = schemas("late_groups", None).await;
    let broken =
        b"<groups>\n  <group name=\"destination_documents_update_on_duplicate\">\n</groups>\n";
    let (config, path) = config_with_file(
        "late_groups_map_document",
        &dbs,
        "map-document-groups.xml.dist",
        "map-document-groups.xml",
        Some(broken),
    );
    let out = run(&["deltalog", "install", &config.display().to_string()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = format!(
        "{}:3:1: malformed XML: ill-formed document: expected `</group>`, but `</groups>` was found",
        path.display()
    );
    for command in COMMANDS
        .iter()
        .filter(|(words, ..)| words[0] == "migrate:delta")
    {
        run(&command_args(command, &config)).assert_error(2, &expected);
    }
    let (config, path) = config_with_file(
        "late_groups_log_document",
        &dbs,
        "log-document-groups.xml.dist",
        "log-document-groups.xml",
        Some(broken),
    );
    run(&command_args(&COMMANDS[0], &config)).assert_error(
        2,
        &format!(
            "{}:3:1: malformed XML: ill-formed document: expected `</group>`, but `</groups>` was found",
            path.display()
        ),
    );
}

// ---------------------------------------------------------------------------------------------
// Mutated fixture files through the readers (the fuzz targets' code, in the normal test run).

#[path = "../fuzz/readers.rs"]
mod readers;

/// xorshift64*: a fixed seed, so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that make XML go wrong in interesting ways.
const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"/>",
    b"</",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&#xD800;",
    b"&nope;",
    b"\"",
    b"'",
    b"=",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"]]>",
    b"<?xml",
    b"?>",
    b"<!DOCTYPE x>",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\n",
    b"\r",
    b"*",
    b".",
    b",",
    b"\\",
    b"key=\"\"",
    b"<a>",
    b"</a>",
    b"<group name=\"g\">",
    b"<document key=\"a,\">t</document>",
    b"<step>",
    b"<handler class=\"\\Migration\\Handler\\Convert\"><param name=\"map\" value=\"[\"/></handler>",
];

fn mutate(original: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = original.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            // Flip a byte.
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            // Delete a run.
            1 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                out.drain(at.min(end)..end);
            }
            // Duplicate a run elsewhere.
            2 if !out.is_empty() => {
                let from = rng.below(out.len());
                let end = (from + 1 + rng.below(128)).min(out.len());
                let run = out[from..end].to_vec();
                out.splice(at..at, run);
            }
            // Cut the file short.
            3 => out.truncate(at),
            // Swap two single bytes.
            4 if out.len() > 1 => {
                let (i, j) = (rng.below(out.len()), rng.below(out.len()));
                out.swap(i, j);
            }
            // Insert a token.
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

/// A reader of ../fuzz/readers.rs: bytes in, the error messages met out.
type Reader = fn(&[u8]) -> Vec<String>;

#[test]
fn thousands_of_mutated_fixture_files_give_ok_or_a_one_line_error() {
    let files: Vec<(&str, Reader)> = vec![
        ("1.9.4.5/config.xml.dist", readers::config),
        ("1.9.4.5/map.xml.dist", readers::map),
        ("1.9.4.5/map-tier-price.xml.dist", readers::map),
        ("map-customer.xml.dist", readers::map),
        ("map-log.xml.dist", readers::map),
        ("map-eav.xml.dist", readers::map),
        ("map-stores.xml.dist", readers::map),
        ("deltalog.xml.dist", readers::deltalog),
        ("customer-document-groups.xml.dist", readers::groups),
        ("customer-attribute-groups.xml.dist", readers::groups),
        ("map-document-groups.xml.dist", readers::groups),
        ("order-grids-document-groups.xml.dist", readers::groups),
        ("log-document-groups.xml.dist", readers::groups),
        ("eav-document-groups.xml.dist", readers::groups),
        ("eav-attribute-groups.xml.dist", readers::groups),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut runs, mut accepted, mut past_xml) = (0, 0, 0);
    for (file, reader) in &files {
        let original = std::fs::read(fixture(file)).unwrap();
        assert_eq!(reader(&original), Vec::<String>::new(), "{file}");
        // Fewer variants of the large map.xml, more of the small files.
        let variants = if original.len() > 20_000 { 150 } else { 300 };
        for _ in 0..variants {
            let mutated = mutate(&original, &mut rng);
            // Every reader on every variant: a map read as a config file is bad input too.
            let errors = std::panic::catch_unwind(|| {
                readers::all(&mutated);
                reader(&mutated)
            })
            .unwrap_or_else(|_| {
                panic!(
                    "a reader panicked on a variant of {file}:\n{}",
                    String::from_utf8_lossy(&mutated)
                )
            });
            runs += 1;
            accepted += usize::from(errors.is_empty());
            past_xml += usize::from(errors.iter().all(|e| !e.contains("malformed XML")));
        }
    }
    assert!(runs >= 4000, "{runs}");
    // The variants reach past the XML layer into the readers, and some are still valid.
    assert!(
        past_xml > runs / 5 && accepted > runs / 20,
        "{runs} {past_xml} {accepted}"
    );
}
