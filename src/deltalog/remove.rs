//! `deltalog remove`: drops the m2_cl_* tables and our triggers. Another module's trigger that
//! holds a deltalog statement (merged by the DMT, or by us on a one-trigger server) is recreated
//! without it, so it survives intact.

use mysql_async::Conn;

use super::ddl::{self, Presence};
use super::install::{execute, replace_trigger, Change, InstallOptions, PlannedDdl};
use super::naming::Event;
use super::state::{read_state, ServerInfo, TrackedTable};
use crate::error::Result;
use crate::setup::Setup;

#[derive(Debug, Clone, Default)]
pub struct RemoveReport {
    pub planned: Vec<PlannedDdl>,
}

impl RemoveReport {
    pub fn count(&self, change: Change) -> usize {
        self.planned.iter().filter(|p| p.change == change).count()
    }
}

pub async fn remove(
    conn: &mut Conn,
    setup: &Setup,
    options: &InstallOptions,
) -> Result<RemoveReport> {
    let prefix = setup.config.options.source_prefix();
    let tracked: Vec<TrackedTable> = setup
        .deltalog_tables
        .iter()
        .map(|t| TrackedTable::new(&prefix, t))
        .collect();
    let server = ServerInfo::read(conn).await?;
    let states = read_state(conn, &tracked).await?;
    let mut triggers = Vec::new();
    let mut tables = Vec::new();
    for state in &states {
        let t = &state.tracked;
        let keys = t.key_refs();
        for event in Event::ALL {
            for (trigger, presence) in state.presence(event) {
                if presence == Presence::Absent {
                    continue;
                }
                let (change, sql_mode, (statements, restore)) =
                    match ddl::strip_statement(&trigger.body, &t.deltalog, &keys, event) {
                        None => (
                            Change::DropTrigger,
                            String::new(),
                            (vec![ddl::drop_trigger(&trigger.name)], None),
                        ),
                        Some(rest) => (
                            Change::RestoreTrigger,
                            trigger.sql_mode.clone(),
                            replace_trigger(&server, trigger, &t.source_table, &rest),
                        ),
                    };
                triggers.push(PlannedDdl {
                    table: t.table.clone(),
                    change,
                    sql_mode,
                    statements,
                    restore,
                });
            }
        }
        if state.deltalog_keys.is_some() {
            tables.push(PlannedDdl {
                table: t.table.clone(),
                change: Change::DropTable,
                sql_mode: String::new(),
                statements: vec![format!(
                    "DROP TABLE IF EXISTS {}",
                    crate::db::quote_ident(&t.deltalog)
                )],
                restore: None,
            });
        }
    }
    // Triggers first: a trigger whose deltalog table is gone fails the store's writes.
    let report = RemoveReport {
        planned: triggers.into_iter().chain(tables).collect(),
    };
    if !options.dry_run {
        for ddl in &report.planned {
            execute(conn, ddl, options).await?;
        }
    }
    Ok(report)
}
