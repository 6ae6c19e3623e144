//! What M1 holds now: tables, key column types, deltalogs and triggers, read in a few queries
//! from `information_schema` so that planning never touches the store's tables.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::ddl::{self, KeyColumn, Presence};
use super::naming::{self, Event};
use crate::config::DeltalogTable;
use crate::error::{Error, Result, Side};

/// The server's flavour and what its trigger DDL allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub version: String,
    pub mariadb: bool,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl ServerInfo {
    pub fn parse(version: &str) -> ServerInfo {
        let numbers: Vec<u32> = version
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .take(3)
            .map(|s| s.parse().unwrap_or(0))
            .collect();
        ServerInfo {
            version: version.to_string(),
            mariadb: version.to_ascii_lowercase().contains("mariadb"),
            major: numbers.first().copied().unwrap_or(0),
            minor: numbers.get(1).copied().unwrap_or(0),
            patch: numbers.get(2).copied().unwrap_or(0),
        }
    }

    fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// Several triggers per table, event and timing: MariaDB 10.2.3+, MySQL 5.7.2+.
    pub fn multiple_triggers(&self) -> bool {
        if self.mariadb {
            self.at_least(10, 2, 3)
        } else {
            self.at_least(5, 7, 2)
        }
    }

    /// `CREATE OR REPLACE TRIGGER` swaps a trigger atomically: MariaDB 10.1.4+.
    pub fn create_or_replace_trigger(&self) -> bool {
        self.mariadb && self.at_least(10, 1, 4)
    }

    pub async fn read(conn: &mut Conn) -> Result<ServerInfo> {
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| Error::db(Side::M1, e, "reading the server version"))?;
        Ok(ServerInfo::parse(&version.unwrap_or_default()))
    }
}

/// One trigger on a tracked table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerInfo {
    pub name: String,
    pub event: Event,
    pub timing: String,
    pub body: String,
    /// The SQL mode it was created under, kept when it is recreated.
    pub sql_mode: String,
}

/// A table of deltalog.xml with its names in M1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedTable {
    /// As deltalog.xml names it, without the prefix (the DMT's messages use this name).
    pub table: String,
    pub source_table: String,
    pub deltalog: String,
    pub keys: Vec<String>,
}

impl TrackedTable {
    pub fn new(prefix: &str, entry: &DeltalogTable) -> TrackedTable {
        let source_table = naming::source_table(prefix, &entry.table);
        TrackedTable {
            table: entry.table.clone(),
            deltalog: naming::deltalog_table(prefix, &entry.table),
            source_table,
            keys: entry.keys.clone(),
        }
    }

    pub fn key_refs(&self) -> Vec<&str> {
        self.keys.iter().map(String::as_str).collect()
    }

    pub fn trigger_name(&self, event: Event) -> String {
        naming::trigger(&self.source_table, event)
    }
}

/// A tracked table as M1 has it now.
#[derive(Debug, Clone)]
pub struct TableState {
    pub tracked: TrackedTable,
    pub source_exists: bool,
    /// The source's key columns with their types, in key order (absent ones left out).
    pub source_keys: Vec<KeyColumn>,
    /// `None` when the deltalog table does not exist; else its key columns in primary-key order.
    pub deltalog_keys: Option<Vec<KeyColumn>>,
    /// AFTER triggers on the source table.
    pub triggers: Vec<TriggerInfo>,
}

impl TableState {
    /// The triggers for one event and where our statement stands in each.
    pub fn presence(&self, event: Event) -> Vec<(&TriggerInfo, Presence)> {
        let keys = self.tracked.key_refs();
        self.triggers
            .iter()
            .filter(|t| t.event == event)
            .map(|t| {
                (
                    t,
                    ddl::presence(&t.body, &self.tracked.deltalog, &keys, event),
                )
            })
            .collect()
    }
}

type ColumnRow = (String, String, String, Option<String>, Option<String>);

/// Reads the state of every tracked table in one pass over `information_schema`.
pub async fn read_state(conn: &mut Conn, tables: &[TrackedTable]) -> Result<Vec<TableState>> {
    let existing: Vec<String> = conn
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        .await
        .map_err(|e| Error::db(Side::M1, e, "listing tables"))?;
    let existing: std::collections::HashSet<String> = existing.into_iter().collect();

    let columns: Vec<ColumnRow> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
        )
        .await
        .map_err(|e| Error::db(Side::M1, e, "reading column types"))?;
    let mut by_table: HashMap<String, HashMap<String, KeyColumn>> = HashMap::new();
    for (table, name, column_type, charset, collation) in columns {
        by_table.entry(table).or_default().insert(
            name.clone(),
            KeyColumn {
                name,
                column_type,
                charset,
                collation,
            },
        );
    }

    let pk_rows: Vec<(String, String)> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .await
        .map_err(|e| Error::db(Side::M1, e, "reading primary keys"))?;
    let mut primary: HashMap<String, Vec<String>> = HashMap::new();
    for (table, column) in pk_rows {
        primary.entry(table).or_default().push(column);
    }

    let trigger_rows: Vec<(String, String, String, String, String, String)> = conn
        .query(
            "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, EVENT_MANIPULATION, ACTION_TIMING, \
             ACTION_STATEMENT, SQL_MODE FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
        )
        .await
        .map_err(|e| Error::db(Side::M1, e, "reading triggers"))?;
    let mut triggers: HashMap<String, Vec<TriggerInfo>> = HashMap::new();
    for (table, name, event, timing, body, sql_mode) in trigger_rows {
        let Some(event) = Event::from_sql(&event) else {
            continue;
        };
        if !timing.eq_ignore_ascii_case("AFTER") {
            continue;
        }
        triggers.entry(table).or_default().push(TriggerInfo {
            name,
            event,
            timing,
            body,
            sql_mode,
        });
    }

    Ok(tables
        .iter()
        .map(|tracked| {
            let source_columns = by_table.get(&tracked.source_table);
            let source_keys = tracked
                .keys
                .iter()
                .filter_map(|k| source_columns.and_then(|c| c.get(k)).cloned())
                .collect();
            let deltalog_keys = existing.contains(&tracked.deltalog).then(|| {
                let columns = by_table.get(&tracked.deltalog);
                primary
                    .get(&tracked.deltalog)
                    .map(|pk| {
                        pk.iter()
                            .filter_map(|k| columns.and_then(|c| c.get(k)).cloned())
                            .collect()
                    })
                    .unwrap_or_default()
            });
            TableState {
                tracked: tracked.clone(),
                source_exists: existing.contains(&tracked.source_table),
                source_keys,
                deltalog_keys,
                triggers: triggers
                    .get(&tracked.source_table)
                    .cloned()
                    .unwrap_or_default(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_capabilities() {
        let m = ServerInfo::parse("10.11.19-MariaDB-0+deb12u1-log");
        assert!(m.mariadb && m.multiple_triggers() && m.create_or_replace_trigger());
        let old = ServerInfo::parse("5.6.51-log");
        assert!(!old.mariadb && !old.multiple_triggers() && !old.create_or_replace_trigger());
        let mysql8 = ServerInfo::parse("8.0.36");
        assert!(mysql8.multiple_triggers() && !mysql8.create_or_replace_trigger());
        assert!(!ServerInfo::parse("10.2.2-MariaDB").multiple_triggers());
    }
}
