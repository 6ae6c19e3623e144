//! migrate:data's state in M2 (`<dest_prefix>mage_migrate_*` tables): how far each table's copy
//! got, and the M1 binlog position recorded when the triggers were installed.
//!
//! A table's progress row is written in the same M2 transaction as the rows it counts, so after
//! a crash the copy resumes right after the last committed page: nothing twice, nothing lost.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

use crate::db::quote_ident;

pub const PROGRESS_TABLE: &str = "mage_migrate_data_progress";
pub const BINLOG_START_TABLE: &str = "mage_migrate_binlog_start";

/// How far one M1 table's copy got.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The primary key of the last row copied; `None` before the first page.
    pub last_key: Option<Vec<Value>>,
    pub rows: u64,
    pub done: bool,
}

/// Where the binlog stood right after the triggers were installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogStart {
    pub file: String,
    pub position: u64,
    /// MariaDB `@@gtid_binlog_pos` or MySQL `@@gtid_executed`; empty when the server has none.
    pub gtid: String,
}

pub struct State {
    progress: String,
    binlog_start: String,
}

impl State {
    pub fn new(dest_prefix: &str) -> State {
        State {
            progress: quote_ident(&format!("{dest_prefix}{PROGRESS_TABLE}")),
            binlog_start: quote_ident(&format!("{dest_prefix}{BINLOG_START_TABLE}")),
        }
    }

    pub async fn ensure_tables(&self, m2: &mut Conn) -> Result<(), mysql_async::Error> {
        m2.query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {} (\
               source_table varchar(64) NOT NULL PRIMARY KEY COMMENT 'M1 table being copied', \
               last_key text NULL COMMENT 'primary key of the last copied row, encoded', \
               rows_copied bigint unsigned NOT NULL DEFAULT 0, \
               done tinyint(1) NOT NULL DEFAULT 0, \
               updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP\
             ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='mage-migrate: migrate:data progress'",
            self.progress
        ))
        .await?;
        m2.query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {} (\
               id tinyint unsigned NOT NULL PRIMARY KEY, \
               binlog_file varchar(255) NOT NULL, \
               binlog_position bigint unsigned NOT NULL, \
               gtid text NOT NULL, \
               recorded_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP\
             ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='mage-migrate: M1 binlog position when the triggers were installed'",
            self.binlog_start
        ))
        .await
    }

    pub async fn load_progress(
        &self,
        m2: &mut Conn,
    ) -> Result<HashMap<String, Progress>, mysql_async::Error> {
        let rows: Vec<(String, Option<String>, u64, u8)> = m2
            .query(format!(
                "SELECT source_table, last_key, rows_copied, done FROM {}",
                self.progress
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(table, key, rows, done)| {
                let progress = Progress {
                    last_key: key.and_then(|k| decode_key(&k)),
                    rows,
                    done: done != 0,
                };
                (table, progress)
            })
            .collect())
    }

    /// Marks a table as started (its destination emptied), with nothing copied yet.
    pub async fn start_table(&self, m2: &mut Conn, table: &str) -> Result<(), mysql_async::Error> {
        m2.exec_drop(
            format!(
                "REPLACE INTO {} (source_table, last_key, rows_copied, done) VALUES (?, NULL, 0, 0)",
                self.progress
            ),
            (table,),
        )
        .await
    }

    /// Records a committed page; call inside the transaction that wrote its rows.
    pub async fn save_page<Q: Queryable>(
        &self,
        m2: &mut Q,
        table: &str,
        last_key: &[Value],
        rows: u64,
    ) -> Result<(), mysql_async::Error> {
        m2.exec_drop(
            format!(
                "UPDATE {} SET last_key = ?, rows_copied = ? WHERE source_table = ?",
                self.progress
            ),
            (encode_key(last_key), rows, table),
        )
        .await
    }

    pub async fn finish_table(&self, m2: &mut Conn, table: &str) -> Result<(), mysql_async::Error> {
        m2.exec_drop(
            format!(
                "UPDATE {} SET done = 1 WHERE source_table = ?",
                self.progress
            ),
            (table,),
        )
        .await
    }

    /// Forgets all progress and the recorded binlog position (`migrate:data -r`).
    pub async fn reset(&self, m2: &mut Conn) -> Result<(), mysql_async::Error> {
        m2.query_drop(format!("DELETE FROM {}", self.progress))
            .await?;
        m2.query_drop(format!("DELETE FROM {}", self.binlog_start))
            .await
    }

    pub async fn binlog_start(
        &self,
        m2: &mut Conn,
    ) -> Result<Option<BinlogStart>, mysql_async::Error> {
        let row: Option<(String, u64, String)> = m2
            .query_first(format!(
                "SELECT binlog_file, binlog_position, gtid FROM {} WHERE id = 1",
                self.binlog_start
            ))
            .await?;
        Ok(row.map(|(file, position, gtid)| BinlogStart {
            file,
            position,
            gtid,
        }))
    }

    pub async fn record_binlog_start(
        &self,
        m2: &mut Conn,
        start: &BinlogStart,
    ) -> Result<(), mysql_async::Error> {
        m2.exec_drop(
            format!(
                "INSERT INTO {} (id, binlog_file, binlog_position, gtid) VALUES (1, ?, ?, ?)",
                self.binlog_start
            ),
            (&start.file, start.position, &start.gtid),
        )
        .await
    }
}

/// Encodes a key as comma-separated typed parts: `i:-5`, `u:7`, `s:<hex>`, `n`. Unambiguous
/// for any bytes, and readable enough in a `SELECT` when something needs explaining.
pub fn encode_key(key: &[Value]) -> String {
    key.iter()
        .map(|v| match v {
            Value::NULL => "n".to_string(),
            Value::Int(i) => format!("i:{i}"),
            Value::UInt(u) => format!("u:{u}"),
            other => {
                let bytes = match other {
                    Value::Bytes(b) => b.clone(),
                    v => v.as_sql(true).trim_matches('\'').as_bytes().to_vec(),
                };
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!("s:{hex}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn decode_key(text: &str) -> Option<Vec<Value>> {
    text.split(',')
        .map(|part| match part.split_once(':') {
            None if part == "n" => Some(Value::NULL),
            Some(("i", n)) => n.parse().ok().map(Value::Int),
            Some(("u", n)) => n.parse().ok().map(Value::UInt),
            Some(("s", hex)) => {
                // A hand-edited row must not panic the slicing below.
                if hex.len() % 2 != 0 || !hex.is_ascii() {
                    return None;
                }
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                    .collect::<Option<Vec<u8>>>()
                    .map(Value::Bytes)
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let key = vec![
            Value::Int(-5),
            Value::UInt(u64::MAX),
            Value::Bytes("a,b:🎁".as_bytes().to_vec()),
            Value::NULL,
        ];
        assert_eq!(decode_key(&encode_key(&key)), Some(key));
        assert_eq!(decode_key("x:1"), None);
        assert_eq!(decode_key("s:é1"), None);
    }
}
