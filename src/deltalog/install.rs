//! `deltalog install`: plan from what M1 holds, then run the plan (or print it for a DBA).
//!
//! Idempotent: objects already in the wanted shape produce no statement, so a second install
//! changes nothing and pending deltalog rows are kept (the DMT truncates them).

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::ddl::{self, KeyColumn, Presence};
use super::naming::{self, Event};
use super::state::{read_state, ServerInfo, TableState, TrackedTable, TriggerInfo};
use crate::config::ConfigError;
use crate::db::quote_ident;
use crate::error::{DbErrorKind, Error, Result, Side};
use crate::setup::Setup;

#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Print the DDL instead of running it.
    pub dry_run: bool,
    /// Seconds one DDL statement may wait for a metadata lock before it gives up and retries.
    /// Short, because while it waits, the store's own queries on that table queue behind it.
    pub lock_wait_timeout: u32,
    /// How often a statement is tried when a long transaction holds its table's metadata lock.
    pub attempts: u32,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            dry_run: false,
            lock_wait_timeout: 2,
            attempts: 30,
        }
    }
}

/// What one planned change does, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    CreateTable,
    RetypeKey,
    CreateTrigger,
    /// A DMT trigger (or a DMT statement merged into another trigger) gets the reset clause.
    UpgradeTrigger,
    /// Our statement appended to another module's trigger (servers with one trigger per event).
    MergeTrigger,
    /// `deltalog remove`: a trigger holding only the deltalog statement.
    DropTrigger,
    /// `deltalog remove`: another module's trigger with the deltalog statement taken out.
    RestoreTrigger,
    /// `deltalog remove`: the m2_cl_* table.
    DropTable,
}

/// One change to M1: statements run in order on one session, under `sql_mode`.
#[derive(Debug, Clone)]
pub struct PlannedDdl {
    pub table: String,
    pub change: Change,
    pub sql_mode: String,
    pub statements: Vec<String>,
    /// For a swap under `LOCK TABLES` (MySQL 5.6): the original trigger, created again, still
    /// under the lock, if the new one cannot be created after the old one was dropped.
    pub restore: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct InstallReport {
    /// Tables of deltalog.xml (all groups, de-duplicated).
    pub expected: usize,
    /// Tables that exist in M1 and now have their deltalog.
    pub installed: usize,
    /// Tables of deltalog.xml that M1 does not have (skipped, as the DMT does).
    pub missing_in_m1: Vec<String>,
    pub planned: Vec<PlannedDdl>,
    pub server: Option<ServerInfo>,
}

impl InstallReport {
    pub fn count(&self, change: Change) -> usize {
        self.planned.iter().filter(|p| p.change == change).count()
    }

    /// The plan as a script a DBA can run with the mariadb/mysql client.
    pub fn script(&self, database: &str) -> String {
        let mut out = format!(
            "-- mage-migrate deltalog install --dry-run for database {}\n",
            quote_ident(database)
        );
        if let Some(server) = &self.server {
            out.push_str(&format!("-- server: {}\n", server.version));
        }
        if self.planned.is_empty() {
            out.push_str("-- nothing to do: the deltalog is installed as wanted\n");
            return out;
        }
        out.push_str("DELIMITER ;;\n");
        let mut mode: Option<&str> = None;
        for ddl in &self.planned {
            if mode != Some(ddl.sql_mode.as_str()) {
                out.push_str(&format!("SET SESSION sql_mode = '{}';;\n", ddl.sql_mode));
                mode = Some(ddl.sql_mode.as_str());
            }
            for statement in &ddl.statements {
                out.push_str(statement);
                out.push_str(";;\n");
            }
        }
        out.push_str("DELIMITER ;\n");
        out
    }
}

/// Installs (or upgrades) the deltalog for every table of deltalog.xml that exists in M1.
pub async fn install(
    conn: &mut Conn,
    setup: &Setup,
    options: &InstallOptions,
) -> Result<InstallReport> {
    let prefix = setup.config.options.source_prefix();
    let tracked: Vec<TrackedTable> = setup
        .deltalog_tables
        .iter()
        .map(|t| TrackedTable::new(&prefix, t))
        .collect();
    let server = ServerInfo::read(conn).await?;
    let states = read_state(conn, &tracked).await?;
    let mut report = InstallReport {
        expected: tracked.len(),
        server: Some(server.clone()),
        ..InstallReport::default()
    };
    for state in &states {
        if !state.source_exists {
            report.missing_in_m1.push(state.tracked.table.clone());
            continue;
        }
        report.installed += 1;
        report
            .planned
            .extend(plan_table(state, &server, &setup.deltalog_groups.path)?);
    }
    if options.dry_run {
        return Ok(report);
    }
    for ddl in &report.planned {
        execute(conn, ddl, options).await?;
    }
    Ok(report)
}

fn plan_table(
    state: &TableState,
    server: &ServerInfo,
    deltalog_file: &std::path::Path,
) -> Result<Vec<PlannedDdl>> {
    let t = &state.tracked;
    if state.source_keys.len() != t.keys.len() {
        let missing: Vec<&str> = t
            .keys
            .iter()
            .filter(|k| !state.source_keys.iter().any(|c| &c.name == *k))
            .map(String::as_str)
            .collect();
        return Err(ConfigError::file(
            deltalog_file,
            format!(
                "key column {} of {} does not exist in M1",
                missing.join(", "),
                t.source_table
            ),
        )
        .into());
    }
    let mut planned = Vec::new();
    let swap =
        |change, sql_mode: &str, (statements, restore): (Vec<String>, Option<String>)| PlannedDdl {
            table: t.table.clone(),
            change,
            sql_mode: sql_mode.to_string(),
            statements,
            restore,
        };
    let ddl = |change, sql_mode: &str, statements: Vec<String>| {
        swap(change, sql_mode, (statements, None))
    };
    // The table must exist before any trigger that writes to it: a trigger whose table is
    // missing fails the store's own writes.
    match &state.deltalog_keys {
        None => planned.push(ddl(
            Change::CreateTable,
            "",
            vec![ddl::create_table(&t.deltalog, &state.source_keys)],
        )),
        Some(existing) => {
            let names: Vec<&str> = existing.iter().map(|k| k.name.as_str()).collect();
            if names != t.key_refs() {
                return Err(Error::Data {
                    table: t.deltalog.clone(),
                    key: format!("({})", names.join(", ")),
                    message: format!(
                        "exists with this primary key, but deltalog.xml gives ({}) for {}; remove it with `mage-migrate deltalog remove` (its pending changes are lost) or fix deltalog.xml",
                        t.keys.join(", "),
                        t.table
                    ),
                });
            }
            for (have, want) in existing.iter().zip(&state.source_keys) {
                if !same_type(have, want) {
                    planned.push(ddl(
                        Change::RetypeKey,
                        "",
                        vec![ddl::retype_key(&t.deltalog, want)],
                    ));
                }
            }
        }
    }
    let keys = t.key_refs();
    for event in Event::ALL {
        let presence = state.presence(event);
        if presence.iter().any(|(_, p)| *p == Presence::Ours) {
            continue;
        }
        let ours = ddl::statement(&t.deltalog, &keys, event);
        if let Some((trigger, _)) = presence
            .iter()
            .find(|(_, p)| *p == Presence::DmtWithoutReset)
        {
            let body = ddl::upgrade_body(&trigger.body, &t.deltalog, &keys, event);
            planned.push(swap(
                Change::UpgradeTrigger,
                &trigger.sql_mode,
                replace_trigger(server, trigger, &t.source_table, &body),
            ));
            continue;
        }
        let name = t.trigger_name(event);
        let name_taken = state.triggers.iter().find(|tr| tr.name == name);
        let foreign = presence.first().map(|(tr, _)| *tr);
        match (server.multiple_triggers(), name_taken, foreign) {
            (true, Some(taken), _) => {
                return Err(Error::Data {
                    table: t.source_table.clone(),
                    key: format!("trigger {}", taken.name),
                    message: format!(
                        "a trigger with the deltalog's name exists but does not write to {}: it is neither mage-migrate's nor the DMT's; rename or drop it, then install again",
                        t.deltalog
                    ),
                })
            }
            (false, _, Some(foreign)) => {
                let body = ddl::merge_body(&foreign.body, &ours);
                planned.push(swap(
                    Change::MergeTrigger,
                    &foreign.sql_mode,
                    replace_trigger(server, foreign, &t.source_table, &body),
                ));
            }
            _ => planned.push(ddl(
                Change::CreateTrigger,
                "",
                vec![ddl::create_trigger(
                    &name,
                    event,
                    &t.source_table,
                    &ddl::body(&ours),
                    false,
                )],
            )),
        }
    }
    Ok(planned)
}

fn same_type(a: &KeyColumn, b: &KeyColumn) -> bool {
    a.column_type.eq_ignore_ascii_case(&b.column_type)
        && a.charset == b.charset
        && a.collation == b.collation
}

/// Statements that swap a trigger's body with no moment in which the table's writes go
/// untracked.
pub(crate) fn replace_trigger(
    server: &ServerInfo,
    trigger: &TriggerInfo,
    table: &str,
    body: &str,
) -> (Vec<String>, Option<String>) {
    if server.create_or_replace_trigger() {
        return (
            vec![ddl::create_trigger(
                &trigger.name,
                trigger.event,
                table,
                body,
                true,
            )],
            None,
        );
    }
    if server.multiple_triggers() {
        // Both fire for a moment, which is harmless: the deltalog insert is an upsert.
        let temporary = naming::trigger(&format!("mm_{table}"), trigger.event);
        return (
            vec![
                ddl::drop_trigger(&temporary),
                ddl::create_trigger(&temporary, trigger.event, table, body, false),
                ddl::drop_trigger(&trigger.name),
                ddl::create_trigger(&trigger.name, trigger.event, table, body, false),
                ddl::drop_trigger(&temporary),
            ],
            None,
        );
    }
    // One trigger per event (MySQL 5.6): a write lock keeps the store's writes out while the
    // trigger is dropped and created again.
    (
        vec![
            format!("LOCK TABLES {} WRITE", quote_ident(table)),
            ddl::drop_trigger(&trigger.name),
            ddl::create_trigger(&trigger.name, trigger.event, table, body, false),
            "UNLOCK TABLES".to_string(),
        ],
        Some(ddl::create_trigger(
            &trigger.name,
            trigger.event,
            table,
            &trigger.body,
            false,
        )),
    )
}

const LOCK_WAIT_TIMEOUT: u16 = 1205;
const NEEDS_SUPER_FOR_TRIGGER: u16 = 1419;

/// Runs one planned change, retrying while a long transaction holds the table's metadata lock.
pub async fn execute(conn: &mut Conn, ddl: &PlannedDdl, options: &InstallOptions) -> Result<()> {
    conn.query_drop(format!(
        "SET SESSION sql_mode = '{}', SESSION lock_wait_timeout = {}",
        ddl.sql_mode.replace('\'', "''"),
        options.lock_wait_timeout.max(1)
    ))
    .await
    .map_err(|e| Error::db(Side::M1, e, "setting up the DDL session"))?;
    let mut attempt = 1;
    let mut from = 0;
    let locked = ddl
        .statements
        .first()
        .is_some_and(|s| s.starts_with("LOCK TABLES"));
    loop {
        match run_statements(conn, &ddl.statements, from, ddl.restore.as_deref()).await {
            Ok(()) => return Ok(()),
            Err((failed, e)) => {
                // Resume where it stopped: restarting a swap from its first statement could drop
                // the only trigger left. A locked swap starts over (its lock is gone).
                if !locked {
                    from = failed;
                }
                let code = match &e {
                    mysql_async::Error::Server(s) => Some(s.code),
                    _ => None,
                };
                if code == Some(LOCK_WAIT_TIMEOUT) && attempt < options.attempts.max(1) {
                    tracing::warn!(
                        "waiting for the metadata lock on {} (a long transaction holds it); attempt {attempt} of {}",
                        ddl.table,
                        options.attempts
                    );
                    let backoff = Duration::from_millis(200 * u64::from(attempt.min(10)));
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                    continue;
                }
                if code == Some(NEEDS_SUPER_FOR_TRIGGER) {
                    return Err(Error::Database {
                        side: Side::M1,
                        target: String::new(),
                        message: format!(
                            "creating the triggers on {} needs the SUPER privilege while binary logging is on (error 1419); fix: SET GLOBAL log_bin_trust_function_creators = 1 (on RDS, Aurora or Cloud SQL: in the parameter group), or grant SUPER to this user",
                            ddl.table
                        ),
                        code,
                        kind: DbErrorKind::Access,
                    });
                }
                if code == Some(LOCK_WAIT_TIMEOUT) {
                    return Err(Error::Database {
                        side: Side::M1,
                        target: String::new(),
                        message: format!(
                            "gave up on {} after {} attempts: a long transaction keeps its metadata lock; end it (see SHOW PROCESSLIST) and install again",
                            ddl.table, options.attempts
                        ),
                        code,
                        kind: DbErrorKind::Transient,
                    });
                }
                return Err(Error::db(
                    Side::M1,
                    e,
                    &format!("changing the deltalog of {}", ddl.table),
                ));
            }
        }
    }
}

/// Runs `statements[from..]`; on failure returns the index that failed. Under `LOCK TABLES`,
/// a failure after the old trigger was dropped creates it again before the lock is released,
/// so the table is never left without its trigger.
async fn run_statements(
    conn: &mut Conn,
    statements: &[String],
    from: usize,
    restore: Option<&str>,
) -> std::result::Result<(), (usize, mysql_async::Error)> {
    let locked = statements
        .first()
        .is_some_and(|s| s.starts_with("LOCK TABLES"));
    for (index, statement) in statements.iter().enumerate().skip(from) {
        if let Err(e) = conn.query_drop(statement).await {
            if locked {
                if let (Some(restore), true) = (restore, index >= 2) {
                    let _ = conn.query_drop(restore).await;
                }
                let _ = conn.query_drop("UNLOCK TABLES").await;
            }
            return Err((index, e));
        }
    }
    Ok(())
}
