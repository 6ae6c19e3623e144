//! `precheck`: checks both databases before a run, one line per check, and says for each
//! failure how to fix it. Reads only; nothing is changed on either server.
//!
//! With `--source deltalog` it checks that both databases can be reached and that the triggers
//! can be created; with `--source binlog` also everything the binlog reader needs from
//! Magento 1: binary logging in ROW format with full images, uncompressed events, the
//! replication privileges, the start position migrate:data recorded, and a server id of its own.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::cli::ChangeSource;
use crate::config::DatabaseConfig;
use crate::error::Side;
use crate::migrate_data::state::{BinlogStart, State};
use crate::setup::Setup;

/// `Access denied; you need (at least one of) the … privilege(s) for this operation`.
const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;
/// `Table '…' doesn't exist`.
const ER_NO_SUCH_TABLE: u16 = 1146;
/// A syntax error: the server predates a statement (`SHOW REPLICA HOSTS` before MariaDB 10.5.1).
const ER_PARSE_ERROR: u16 = 1064;

const LOG_BIN: &str = "log_bin";
const BINLOG_FORMAT: &str = "binlog_format";
const BINLOG_ROW_IMAGE: &str = "binlog_row_image";
const LOG_BIN_COMPRESS: &str = "log_bin_compress";
const REPLICATION_SLAVE: &str = "REPLICATION SLAVE";
const REPLICATION_CLIENT: &str = "REPLICATION CLIENT";
const START_POSITION: &str = "start position";
const SERVER_ID: &str = "server id";
const TRIGGER_CREATION: &str = "trigger creation";

/// Whether a check passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Not a blocker, or could not be checked with this user's privileges.
    Warn,
    /// A run would fail or lose changes: the message says how to fix it.
    Fail,
}

/// One check: a short name and a one-line message (on failure, the fix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub outcome: Outcome,
    pub message: String,
}

impl Check {
    pub fn pass(name: &str, message: impl Into<String>) -> Check {
        Check::new(name, Outcome::Pass, message)
    }

    pub fn warn(name: &str, message: impl Into<String>) -> Check {
        Check::new(name, Outcome::Warn, message)
    }

    pub fn fail(name: &str, message: impl Into<String>) -> Check {
        Check::new(name, Outcome::Fail, message)
    }

    fn new(name: &str, outcome: Outcome, message: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            outcome,
            message: message.into(),
        }
    }
}

/// `ok    name: message`, `WARN  name: message` or `FAIL  name: message`.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.outcome {
            Outcome::Pass => "ok",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        };
        write!(f, "{label:<6}{}: {}", self.name, self.message)
    }
}

/// The server id the binlog reader registers with unless `--server-id` is given.
///
/// Stable (FNV-1a of `host:port/database`), so a restarted reader takes over its own earlier
/// registration instead of looking like a second replica, and two migrations of different
/// databases on one server get different ids. The high half is fixed at `0x4D4D` ("MM"):
/// real servers are numbered from 1 upwards or by their IPv4 address, and 77.77.x.x is public
/// address space no database server of a store is likely numbered after. Never 0 (not allowed
/// for a replica) nor 1 (the usual id of the primary).
pub fn default_server_id(m1_host: &str, m1_port: u16, m1_database: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in format!("{m1_host}:{m1_port}/{m1_database}").bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    0x4D4D_0000 | ((hash ^ (hash >> 16)) & 0xFFFF)
}

fn default_server_id_for(db: &DatabaseConfig) -> u32 {
    default_server_id(&db.host, db.port.unwrap_or(3306), &db.name)
}

/// Every check of the command: both databases reached, then the checks of the change source.
/// A database that cannot be reached is a failed check, not an error.
pub async fn run(setup: &Setup, source: ChangeSource, server_id: Option<u32>) -> Vec<Check> {
    let options = &setup.config.options;
    let mut checks = Vec::new();
    let m1 = reach(
        Side::M1,
        &setup.config.source,
        &options.init_statements_source(),
        &mut checks,
    )
    .await;
    let mut m2 = reach(
        Side::M2,
        &setup.config.destination,
        &options.init_statements_destination(),
        &mut checks,
    )
    .await;
    if let Some(mut m1) = m1 {
        match source {
            ChangeSource::Deltalog => checks.extend(deltalog_checks(&mut m1).await),
            ChangeSource::Binlog => {
                let start = match m2.as_mut() {
                    Some(m2) => recorded_start(m2, &options.dest_prefix()).await,
                    None => Err(
                        "not checked: M2, where migrate:data records it, cannot be reached"
                            .to_string(),
                    ),
                };
                let id = server_id.unwrap_or_else(|| default_server_id_for(&setup.config.source));
                let known = start.as_ref().ok().cloned().flatten();
                let mut binlog = binlog_checks(&mut m1, known.as_ref(), id).await;
                if let Err(why) = start {
                    // Without the recorded start, "none recorded" would be a guess.
                    for check in binlog.iter_mut().filter(|c| c.name == START_POSITION) {
                        *check = Check::warn(START_POSITION, why.clone());
                    }
                }
                checks.extend(binlog);
            }
        }
        let _ = m1.disconnect().await;
    }
    if let Some(m2) = m2 {
        let _ = m2.disconnect().await;
    }
    checks
}

/// Connects to one side; a failure becomes a failed check naming side and host.
async fn reach(
    side: Side,
    db: &DatabaseConfig,
    init_statements: &[String],
    checks: &mut Vec<Check>,
) -> Option<Conn> {
    let name = format!("{} connection", side_name(side));
    let element = match side {
        Side::M1 => "<source>",
        Side::M2 => "<destination>",
    };
    match crate::db::connect(side, db, init_statements).await {
        Ok(mut conn) => {
            let version: Option<String> = conn.query_first("SELECT VERSION()").await.ok().flatten();
            checks.push(Check::pass(
                &name,
                format!(
                    "reached {} ({})",
                    db.describe(),
                    version.as_deref().unwrap_or("version unknown")
                ),
            ));
            Some(conn)
        }
        Err(e) => {
            let e = e.with_target(&db.describe());
            checks.push(Check::fail(
                &name,
                format!(
                    "{e}; check host, port, name, user and password of {element} in config.xml"
                ),
            ));
            None
        }
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::M1 => "M1",
        Side::M2 => "M2",
    }
}

/// The binlog position migrate:data recorded in M2; `Ok(None)` when none was (no table yet).
async fn recorded_start(m2: &mut Conn, dest_prefix: &str) -> Result<Option<BinlogStart>, String> {
    match State::new(dest_prefix).binlog_start(m2).await {
        Ok(start) => Ok(start),
        Err(e) if server_code(&e) == Some(ER_NO_SUCH_TABLE) => Ok(None),
        Err(e) => Err(format!(
            "could not read the start migrate:data recorded in M2: {e}"
        )),
    }
}

/// The checks `--source deltalog` needs beyond reaching both databases: that `deltalog install`
/// can create the triggers.
pub async fn deltalog_checks(m1: &mut Conn) -> Vec<Check> {
    let variables = match read_variables(m1).await {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::warn(
                TRIGGER_CREATION,
                format!("could not check: reading M1's global variables failed: {e}"),
            )]
        }
    };
    let account = read_account(m1).await;
    vec![trigger_check(&variables, &account)]
}

/// Everything the binlog source needs from Magento 1, plus the trigger check (the binlog source
/// still drains and cross-checks the deltalog). `start` is the position migrate:data recorded;
/// `server_id` the id the reader will register with.
pub async fn binlog_checks(
    m1: &mut Conn,
    start: Option<&BinlogStart>,
    server_id: u32,
) -> Vec<Check> {
    let variables = match read_variables(m1).await {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::fail(
                LOG_BIN,
                format!("could not read M1's global variables: {e}"),
            )]
        }
    };
    let account = read_account(m1).await;
    let log_bin = variables.is_on(LOG_BIN);
    let mut checks = vec![
        log_bin_check(log_bin),
        binlog_format_check(&variables),
        row_image_check(&variables),
        compress_check(&variables),
        replication_slave_check(&account),
    ];
    // SHOW BINARY LOGS both proves the monitor privilege and lists what is left on the server.
    let binary_logs = if log_bin {
        Some(read_binary_logs(m1).await)
    } else {
        None
    };
    checks.push(monitor_check(&account, binary_logs.as_ref()));
    checks.push(start_check(start, binary_logs.as_ref()));
    checks.push(server_id_check(m1, server_id, &variables).await);
    checks.push(trigger_check(&variables, &account));
    checks
}

/// The global variables the checks read; an absent one is a server that does not have it.
struct Variables(HashMap<String, String>);

impl Variables {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn is_on(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("ON") || v == "1")
    }
}

async fn read_variables(m1: &mut Conn) -> Result<Variables, mysql_async::Error> {
    // GLOBAL: binlog_format and binlog_row_image can be set per session, and what counts is
    // what the store's sessions start with, not what this one was given.
    let rows: Vec<(String, String)> = m1
        .query(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', \
             'binlog_row_image', 'log_bin_compress', 'log_bin_trust_function_creators', 'server_id')",
        )
        .await?;
    Ok(Variables(
        rows.into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect(),
    ))
}

/// The connected account as the server matched it, and its global privileges.
struct Account {
    /// `'user'@'host'`, as a GRANT statement names it.
    user: String,
    global: BTreeSet<String>,
}

impl Account {
    fn has_any(&self, privileges: &[&str]) -> bool {
        self.global.contains("ALL PRIVILEGES")
            || self.global.contains("ALL")
            || privileges.iter().any(|p| self.global.contains(*p))
    }
}

async fn read_account(m1: &mut Conn) -> Result<Account, mysql_async::Error> {
    let current: Option<String> = m1.query_first("SELECT CURRENT_USER()").await?;
    let grants: Vec<String> = m1.query("SHOW GRANTS").await?;
    let user = match current.as_deref().and_then(|c| c.rsplit_once('@')) {
        Some((user, host)) => format!("'{user}'@'{host}'"),
        None => "the M1 user".to_string(),
    };
    Ok(Account {
        user,
        global: global_privileges(&grants),
    })
}

/// The privileges granted `ON *.*` in SHOW GRANTS lines, upper-cased (`ALL PRIVILEGES`,
/// `REPLICATION SLAVE`, MariaDB's `BINLOG MONITOR`, …). Role grants (`GRANT role TO …`) and
/// database or table grants are left out: the replication privileges are global only.
fn global_privileges(grants: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in grants {
        let upper = line.to_ascii_uppercase();
        let Some(rest) = upper.strip_prefix("GRANT ") else {
            continue;
        };
        let Some((privileges, target)) = rest.split_once(" ON ") else {
            continue;
        };
        if !target.trim_start().starts_with("*.*") {
            continue;
        }
        out.extend(
            privileges
                .split(',')
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|p| !p.is_empty()),
        );
    }
    out
}

fn log_bin_check(on: bool) -> Check {
    if on {
        Check::pass(LOG_BIN, "binary logging is on")
    } else {
        Check::fail(
            LOG_BIN,
            "binary logging is off; the binlog source needs it: set log_bin (with binlog_format=ROW, \
             binlog_row_image=FULL and a server_id) in M1's my.cnf and restart it, or use --source deltalog",
        )
    }
}

fn binlog_format_check(variables: &Variables) -> Check {
    match variables.get(BINLOG_FORMAT) {
        Some(v) if v.eq_ignore_ascii_case("ROW") => Check::pass(BINLOG_FORMAT, "ROW"),
        Some(v) => Check::fail(
            BINLOG_FORMAT,
            format!(
                "binlog_format is {v}; the binlog source needs ROW: SET GLOBAL binlog_format = 'ROW' \
                 (and binlog_format = ROW in my.cnf), then FLUSH BINARY LOGS; sessions already \
                 connected keep {v} until they reconnect"
            ),
        ),
        None => Check::fail(BINLOG_FORMAT, "the server has no binlog_format variable"),
    }
}

fn row_image_check(variables: &Variables) -> Check {
    match variables.get(BINLOG_ROW_IMAGE) {
        Some(v) if v.eq_ignore_ascii_case("FULL") => Check::pass(BINLOG_ROW_IMAGE, "FULL"),
        Some(v) => Check::fail(
            BINLOG_ROW_IMAGE,
            format!(
                "binlog_row_image is {v}; the binlog source needs FULL (every column of a changed row): \
                 SET GLOBAL binlog_row_image = 'FULL' (and binlog_row_image = FULL in my.cnf), then \
                 FLUSH BINARY LOGS; sessions already connected keep {v} until they reconnect"
            ),
        ),
        // Servers before binlog_row_image (MySQL 5.5, MariaDB 10.0) always log full images.
        None => Check::pass(
            BINLOG_ROW_IMAGE,
            "no binlog_row_image variable: this server always logs full rows",
        ),
    }
}

fn compress_check(variables: &Variables) -> Check {
    match variables.get(LOG_BIN_COMPRESS) {
        None => Check::pass(
            LOG_BIN_COMPRESS,
            "no log_bin_compress variable (not MariaDB): events are not compressed",
        ),
        Some(v) if !variables.is_on(LOG_BIN_COMPRESS) => {
            Check::pass(LOG_BIN_COMPRESS, v.to_string())
        }
        Some(_) => Check::fail(
            LOG_BIN_COMPRESS,
            "log_bin_compress is ON; MariaDB's compressed events cannot be decoded: \
             SET GLOBAL log_bin_compress = OFF (and in my.cnf), then FLUSH BINARY LOGS; events \
             already written compressed cannot be read, so start with --source deltalog",
        ),
    }
}

fn grant_fix(account: &Result<Account, mysql_async::Error>, privilege: &str) -> String {
    let user = match account {
        Ok(a) => a.user.as_str(),
        Err(_) => "the M1 user",
    };
    format!("GRANT {privilege} ON *.* TO {user}")
}

fn replication_slave_check(account: &Result<Account, mysql_async::Error>) -> Check {
    match account {
        Ok(a) if a.has_any(&[REPLICATION_SLAVE]) => Check::pass(
            REPLICATION_SLAVE,
            format!("{} may stream the binlog", a.user),
        ),
        Ok(a) => Check::fail(
            REPLICATION_SLAVE,
            format!(
                "{} lacks REPLICATION SLAVE, needed to stream the binlog: {}",
                a.user,
                grant_fix(account, REPLICATION_SLAVE)
            ),
        ),
        Err(e) => Check::warn(
            REPLICATION_SLAVE,
            format!("could not check: SHOW GRANTS failed: {e}"),
        ),
    }
}

type BinaryLogs = Result<Vec<(String, u64)>, mysql_async::Error>;

async fn read_binary_logs(m1: &mut Conn) -> BinaryLogs {
    // Rows, not tuples: MySQL 8 adds an `Encrypted` column.
    let rows: Vec<Row> = m1.query("SHOW BINARY LOGS").await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.get::<String, _>(0)?, row.get::<u64, _>(1)?)))
        .collect())
}

fn monitor_check(
    account: &Result<Account, mysql_async::Error>,
    logs: Option<&BinaryLogs>,
) -> Check {
    let lacks = || {
        let who = match account {
            Ok(a) => a.user.as_str(),
            Err(_) => "the M1 user",
        };
        Check::fail(
            REPLICATION_CLIENT,
            format!(
                "{who} lacks REPLICATION CLIENT (MariaDB: BINLOG MONITOR), needed to read the binlog \
                 position (SHOW MASTER STATUS, SHOW BINARY LOGS): {}",
                grant_fix(account, REPLICATION_CLIENT)
            ),
        )
    };
    match logs {
        Some(Ok(_)) => Check::pass(
            REPLICATION_CLIENT,
            "SHOW BINARY LOGS is allowed: the binlog position can be read",
        ),
        Some(Err(e)) if server_code(e) == Some(ER_SPECIFIC_ACCESS_DENIED) => lacks(),
        Some(Err(e)) => Check::warn(
            REPLICATION_CLIENT,
            format!("could not check: SHOW BINARY LOGS failed: {e}"),
        ),
        // Binary logging off: the statement fails for everyone, so ask the grants instead.
        None => match account {
            Ok(a) if a.has_any(&[REPLICATION_CLIENT, "BINLOG MONITOR", "SUPER"]) => Check::pass(
                REPLICATION_CLIENT,
                format!("{} may read the binlog position", a.user),
            ),
            Ok(_) => lacks(),
            Err(e) => Check::warn(
                REPLICATION_CLIENT,
                format!("could not check: SHOW GRANTS failed: {e}"),
            ),
        },
    }
}

fn start_check(start: Option<&BinlogStart>, logs: Option<&BinaryLogs>) -> Check {
    const DELTALOG: &str =
        "use --source deltalog, which loses nothing (the triggers recorded every change)";
    let Some(start) = start else {
        return Check::pass(
            START_POSITION,
            "none recorded by migrate:data (a DMT copy?): the binlog is read from M1's current \
             position, after the deltalog is drained",
        );
    };
    let at = format!("{}:{}", start.file, start.position);
    let logs = match logs {
        None => {
            return Check::warn(
                START_POSITION,
                format!("{at} not checked: binary logging is off"),
            )
        }
        Some(Err(e)) if server_code(e) == Some(ER_SPECIFIC_ACCESS_DENIED) => {
            return Check::warn(
                START_POSITION,
                format!(
                    "could not check that {at} is still on M1: SHOW BINARY LOGS needs REPLICATION \
                     CLIENT (MariaDB: BINLOG MONITOR)"
                ),
            )
        }
        Some(Err(e)) => {
            return Check::warn(
                START_POSITION,
                format!("could not check that {at} is still on M1: {e}"),
            )
        }
        Some(Ok(logs)) => logs,
    };
    let range = match (logs.first(), logs.last()) {
        (Some((first, _)), Some((last, _))) => format!("{first} to {last}"),
        _ => "none".to_string(),
    };
    match logs.iter().find(|(file, _)| *file == start.file) {
        Some((_, size)) if start.position <= *size => Check::pass(
            START_POSITION,
            format!("{at}, recorded by migrate:data, is still on M1 (binlogs {range})"),
        ),
        Some((_, size)) => Check::fail(
            START_POSITION,
            format!(
                "{at}, recorded by migrate:data, is past the end of {} ({size} bytes): M1's binlogs \
                 are not the ones migrate:data saw (server replaced or restored?); {DELTALOG}",
                start.file
            ),
        ),
        None if purged(&start.file, logs.first().map(|(f, _)| f.as_str())) => Check::fail(
            START_POSITION,
            format!(
                "the binlogs were purged since {at}, recorded by migrate:data (M1 keeps {range}): the \
                 changes since then cannot be read from the binlog; {DELTALOG}"
            ),
        ),
        None => Check::fail(
            START_POSITION,
            format!(
                "{at}, recorded by migrate:data, is not among M1's binlogs ({range}): server replaced \
                 or its binlogs reset?; {DELTALOG}"
            ),
        ),
    }
}

/// Whether `file` comes before the oldest binlog of the same series (`mysql-bin.000007`).
fn purged(file: &str, oldest: Option<&str>) -> bool {
    let split = |name: &str| -> Option<(String, u64)> {
        let (base, number) = name.rsplit_once('.')?;
        Some((base.to_string(), number.parse().ok()?))
    };
    match (split(file), oldest.and_then(split)) {
        (Some((base, n)), Some((oldest_base, oldest_n))) => base == oldest_base && n < oldest_n,
        _ => false,
    }
}

async fn server_id_check(m1: &mut Conn, server_id: u32, variables: &Variables) -> Check {
    if server_id == 0 {
        return Check::fail(
            SERVER_ID,
            "0 cannot be a replica's server id: choose --server-id from 2 to 4294967295",
        );
    }
    let own: Option<u32> = variables.get("server_id").and_then(|v| v.parse().ok());
    if own == Some(server_id) {
        return Check::fail(
            SERVER_ID,
            format!(
                "--server-id {server_id} is M1's own @@server_id; a binlog reader needs an id no \
                 server or replica uses: leave out --server-id or choose another"
            ),
        );
    }
    // A second connection with a replica's id makes the server drop the first one: the reader
    // would cut off a real replica, or be cut off by it.
    // A reader killed a moment ago is still listed until the server's next heartbeat to it
    // fails: a clash is looked at again for a few seconds before it counts.
    let mut hosts;
    let mut tries = 0;
    loop {
        hosts = match m1.query::<Row, _>("SHOW REPLICA HOSTS").await {
            Err(e) if server_code(&e) == Some(ER_PARSE_ERROR) => {
                m1.query::<Row, _>("SHOW SLAVE HOSTS").await
            }
            other => other,
        };
        let clash = matches!(&hosts, Ok(rows) if rows.iter().any(|r| r.get::<u32, _>(0) == Some(server_id)));
        tries += 1;
        if !clash || tries >= 12 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let own_text = own.map_or("unknown".to_string(), |id| id.to_string());
    match hosts {
        Ok(rows) => {
            let clash = rows
                .iter()
                .find(|row| row.get::<u32, _>(0) == Some(server_id));
            match clash {
                Some(row) => {
                    let host: String = row.get(1).unwrap_or_default();
                    let port: u32 = row.get(2).unwrap_or_default();
                    let from = if host.is_empty() {
                        "(no host reported; a mage-migrate already following this binlog counts too)"
                            .to_string()
                    } else {
                        format!("from {host}:{port}")
                    };
                    Check::fail(
                        SERVER_ID,
                        format!(
                            "server id {server_id} is used by a replica connected to M1 {from}; two \
                             connections with one id cut each other off: choose another --server-id"
                        ),
                    )
                }
                None => Check::pass(
                    SERVER_ID,
                    format!(
                        "{server_id} differs from M1's own @@server_id ({own_text}) and no replica connected to M1 uses it ({} connected)",
                        rows.len()
                    ),
                ),
            }
        }
        Err(e) if server_code(&e) == Some(ER_SPECIFIC_ACCESS_DENIED) => Check::warn(
            SERVER_ID,
            format!(
                "{server_id} differs from M1's own @@server_id ({own_text}); could not check that no connected \
                 replica uses it: SHOW REPLICA HOSTS needs REPLICATION MASTER ADMIN (MariaDB) or \
                 REPLICATION SLAVE (MySQL)"
            ),
        ),
        Err(e) => Check::warn(
            SERVER_ID,
            format!(
                "{server_id} differs from M1's own @@server_id ({own_text}); could not check that no connected \
                 replica uses it: {e}"
            ),
        ),
    }
}

fn trigger_check(variables: &Variables, account: &Result<Account, mysql_async::Error>) -> Check {
    if !variables.is_on(LOG_BIN) {
        return Check::pass(
            TRIGGER_CREATION,
            "binary logging is off: CREATE TRIGGER needs no SUPER",
        );
    }
    if variables.is_on("log_bin_trust_function_creators") {
        return Check::pass(
            TRIGGER_CREATION,
            "log_bin_trust_function_creators is ON: deltalog install can create the triggers",
        );
    }
    match account {
        Ok(a) if a.has_any(&["SUPER"]) => Check::pass(
            TRIGGER_CREATION,
            format!("{} has SUPER: deltalog install can create the triggers", a.user),
        ),
        Ok(a) => Check::warn(
            TRIGGER_CREATION,
            format!(
                "binary logging is on, log_bin_trust_function_creators is OFF and {} lacks SUPER: \
                 deltalog install will fail with error 1419; fix: SET GLOBAL \
                 log_bin_trust_function_creators = 1 (on RDS, Aurora or Cloud SQL: in the parameter \
                 group), or {}",
                a.user,
                grant_fix(account, "SUPER")
            ),
        ),
        Err(e) => Check::warn(
            TRIGGER_CREATION,
            format!("could not check: SHOW GRANTS failed: {e}"),
        ),
    }
}

fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(e) => Some(e.code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_server_id_is_stable_distinct_and_out_of_the_way() {
        let a = default_server_id("db.example.com", 3306, "magento1");
        assert_eq!(a, default_server_id("db.example.com", 3306, "magento1"));
        assert_ne!(
            a,
            default_server_id("db.example.com", 3306, "magento1_staging")
        );
        assert_ne!(a, default_server_id("db.example.com", 3307, "magento1"));
        for (host, port, db) in [
            ("", 0, ""),
            ("127.0.0.1", 3306, "m1"),
            ("/run/mysqld.sock", 3306, "x"),
        ] {
            let id = default_server_id(host, port, db);
            assert!(id > 1);
            assert_eq!(id >> 16, 0x4D4D, "{id:#x}");
        }
    }

    fn lines(grants: &[&str]) -> BTreeSet<String> {
        global_privileges(&grants.iter().map(|g| g.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn global_privileges_from_show_grants() {
        let root = lines(&[
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
            "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
        ]);
        assert_eq!(root, BTreeSet::from(["ALL PRIVILEGES".to_string()]));
        let cdc = lines(&[
            "GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%` IDENTIFIED BY PASSWORD '*D82'",
            "GRANT ALL PRIVILEGES ON `m1`.* TO `cdc`@`%`",
            "GRANT `dba` TO `cdc`@`%`",
        ]);
        assert_eq!(
            cdc,
            BTreeSet::from(["SELECT", "REPLICATION SLAVE", "BINLOG MONITOR"].map(String::from))
        );
        let mysql = lines(&["grant replication client,  super on *.* to 'x'@'h'"]);
        assert_eq!(
            mysql,
            BTreeSet::from(["REPLICATION CLIENT", "SUPER"].map(String::from))
        );
    }

    #[test]
    fn purged_means_older_than_the_oldest_of_the_same_series() {
        assert!(purged("mysql-bin.000002", Some("mysql-bin.000010")));
        assert!(!purged("mysql-bin.000010", Some("mysql-bin.000010")));
        assert!(!purged("other-bin.000001", Some("mysql-bin.000010")));
        assert!(!purged("mysql-bin.000001", None));
    }

    #[test]
    fn lines_are_labelled() {
        assert_eq!(Check::pass("a", "b").to_string(), "ok    a: b");
        assert_eq!(Check::warn("a", "b").to_string(), "WARN  a: b");
        assert_eq!(Check::fail("a", "b").to_string(), "FAIL  a: b");
    }
}
