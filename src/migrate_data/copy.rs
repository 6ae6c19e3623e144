//! Copies one M1 table to M2: keyset pages in primary-key order, each page transformed and
//! written with multi-row INSERTs in one M2 transaction together with its progress row.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts, Value};
use tokio::sync::Mutex;

use super::state::{Progress, State};
use crate::db::quote_ident;
use crate::db::schema::Table;
use crate::error::{Error, Result, Side};
use crate::steps::map::TableMapping;
use crate::transform::TransformError;

/// The most placeholders one prepared statement may hold.
const MAX_PLACEHOLDERS: usize = 65_535;

/// A row transformation: M1 values in `select_columns` order to M2 values in `insert_columns`
/// order.
pub type RowTransform =
    dyn Fn(Vec<Value>) -> std::result::Result<Vec<Value>, TransformError> + Send + Sync;

/// Caps the rows read per second across all tables, so a live M1 is not overloaded.
#[derive(Debug)]
pub struct Throttle {
    rows_per_second: Option<u64>,
    started: Instant,
    rows: Mutex<u64>,
}

impl Throttle {
    pub fn new(rows_per_second: Option<u64>) -> Self {
        Throttle {
            rows_per_second: rows_per_second.filter(|r| *r > 0),
            started: Instant::now(),
            rows: Mutex::new(0),
        }
    }

    /// Waits until reading `rows` more keeps the average under the limit.
    pub async fn admit(&self, rows: u64) {
        let Some(rate) = self.rows_per_second else {
            return;
        };
        let due = {
            let mut total = self.rows.lock().await;
            *total += rows;
            Duration::from_secs_f64(*total as f64 / rate as f64)
        };
        let elapsed = self.started.elapsed();
        if due > elapsed {
            tokio::time::sleep(due - elapsed).await;
        }
    }
}

/// The parts of a copy that stay the same for every page.
pub struct TableCopy<'a> {
    pub mapping: &'a TableMapping,
    pub destination: &'a Table,
    pub transform: &'a RowTransform,
    pub state: &'a State,
    pub page_rows: usize,
    pub throttle: &'a Throttle,
}

fn select_sql(mapping: &TableMapping, has_last_key: bool, limit: usize) -> String {
    let key: Vec<String> = mapping
        .primary_key
        .iter()
        .map(|c| format!("t.{}", quote_ident(c)))
        .collect();
    let mut sql = mapping.select_from();
    if has_last_key {
        // (a > ?) OR (a = ? AND b > ?) …: the range optimiser uses the primary key for this
        // form on every MySQL and MariaDB version.
        let disjuncts: Vec<String> = (0..key.len())
            .map(|i| {
                let mut parts: Vec<String> = key[..i].iter().map(|k| format!("{k} = ?")).collect();
                parts.push(format!("{} > ?", key[i]));
                format!("({})", parts.join(" AND "))
            })
            .collect();
        sql.push_str(&format!(" WHERE {}", disjuncts.join(" OR ")));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT {limit}", key.join(", ")));
    sql
}

fn keyset_params(last_key: &[Value]) -> Vec<Value> {
    let mut params = Vec::new();
    for i in 0..last_key.len() {
        params.extend_from_slice(&last_key[..=i]);
    }
    params
}

fn insert_sql(table: &str, columns: &[String], rows: usize) -> String {
    let columns_sql: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote_ident(table),
        columns_sql.join(", "),
        vec![one; rows].join(", ")
    )
}

/// Names a row by its M1 primary key: `entity_id=12` or `(category_id=3, product_id=9)`.
pub fn describe_key(columns: &[String], values: &[Value]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .zip(values)
        .map(|(c, v)| format!("{c}={}", display_value(v)))
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(", "))
    }
}

fn display_value(v: &Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::NULL => "NULL".into(),
        other => other.as_sql(true).trim_matches('\'').to_string(),
    }
}

impl TableCopy<'_> {
    /// Copies from `progress` (or from the start) to the end; returns the rows copied in all.
    pub async fn run(
        &self,
        m1: &Pool,
        m2: &Pool,
        progress: Progress,
        bar: &indicatif::ProgressBar,
    ) -> Result<u64> {
        let mapping = self.mapping;
        let m1_error = |e| db_error(Side::M1, e, &format!("reading {}", mapping.source_table));
        let mut m1 = m1.get_conn().await.map_err(m1_error)?;
        let mut m2 = m2
            .get_conn()
            .await
            .map_err(|e| db_error(Side::M2, e, "connecting"))?;
        let key_at: Vec<usize> = mapping
            .primary_key
            .iter()
            .filter_map(|k| mapping.select_columns.iter().position(|c| c == k))
            .collect();
        let mut last_key = progress.last_key;
        let mut rows_done = progress.rows;
        bar.set_position(rows_done);
        let chunk = (MAX_PLACEHOLDERS / mapping.insert_columns.len().max(1)).max(1);
        loop {
            self.throttle.admit(self.page_rows as u64).await;
            let sql = select_sql(mapping, last_key.is_some(), self.page_rows);
            let params = last_key.as_deref().map(keyset_params).unwrap_or_default();
            let page: Vec<mysql_async::Row> = m1.exec(sql, params).await.map_err(m1_error)?;
            if page.is_empty() {
                return Ok(rows_done);
            }
            let page: Vec<Vec<Value>> = page.into_iter().map(mysql_async::Row::unwrap).collect();
            let page_key: Vec<Value> = key_at
                .iter()
                .map(|&i| page[page.len() - 1][i].clone())
                .collect();
            let mut keys = Vec::with_capacity(page.len());
            let mut out = Vec::with_capacity(page.len());
            for row in page {
                let key: Vec<Value> = key_at.iter().map(|&i| row[i].clone()).collect();
                let transformed = (self.transform)(row).map_err(|e| Error::Data {
                    table: mapping.destination_table.clone(),
                    key: format!(
                        "(M1 {} {})",
                        mapping.source_table,
                        describe_key(&mapping.primary_key, &key)
                    ),
                    message: e.0,
                })?;
                keys.push(key);
                out.push(transformed);
            }
            let mut tx = m2
                .start_transaction(TxOpts::default())
                .await
                .map_err(|e| db_error(Side::M2, e, "starting a transaction"))?;
            for (n, rows) in out.chunks(chunk).enumerate() {
                let sql = insert_sql(
                    &mapping.destination_table,
                    &mapping.insert_columns,
                    rows.len(),
                );
                let params: Vec<Value> = rows.iter().flatten().cloned().collect();
                if let Err(e) = tx.exec_drop(sql, params).await {
                    let first = n * chunk;
                    return Err(self.write_error(e, &out[first..], &keys[first..]));
                }
            }
            rows_done += out.len() as u64;
            self.state
                .save_page(&mut tx, &mapping.source_table, &page_key, rows_done)
                .await
                .map_err(|e| db_error(Side::M2, e, "saving progress"))?;
            tx.commit()
                .await
                .map_err(|e| db_error(Side::M2, e, "committing a page"))?;
            bar.set_position(rows_done);
            last_key = Some(page_key);
            if out.len() < self.page_rows {
                return Ok(rows_done);
            }
        }
    }

    /// Turns a failed INSERT into a message naming the M2 table, the M1 row and the column.
    fn write_error(
        &self,
        e: mysql_async::Error,
        rows: &[Vec<Value>],
        keys: &[Vec<Value>],
    ) -> Error {
        let mapping = self.mapping;
        let mysql_async::Error::Server(server) = &e else {
            return db_error(
                Side::M2,
                e,
                &format!("writing {}", mapping.destination_table),
            );
        };
        // "Data too long for column 'x' at row 3" and friends name the row within the statement.
        let row = server
            .message
            .rsplit("at row ")
            .next()
            .and_then(|n| n.trim().parse::<usize>().ok())
            .filter(|n| *n >= 1 && *n <= rows.len())
            .or((rows.len() == 1).then_some(1));
        let column = server.message.split('\'').nth(1).map(str::to_string);
        match (server.code, row) {
            (1048 | 1062 | 1264 | 1265 | 1292 | 1366 | 1406, Some(row)) => {
                let key = describe_key(&mapping.primary_key, &keys[row - 1]);
                let mut message = server.message.clone();
                if let (1406, Some(column)) = (server.code, &column) {
                    let at = mapping.insert_columns.iter().position(|c| c == column);
                    let declared = self
                        .destination
                        .column(column)
                        .map(|c| c.column_type.clone());
                    if let (Some(at), Some(declared)) = (at, declared) {
                        let value = &rows[row - 1][at];
                        if let Value::Bytes(b) = value {
                            message = format!(
                                "column {column}: the M1 value has {} characters, too long for {declared} (nothing was truncated)",
                                String::from_utf8_lossy(b.as_slice()).chars().count()
                            );
                        }
                    }
                }
                Error::Data {
                    table: mapping.destination_table.clone(),
                    key: format!("(M1 {} {key})", mapping.source_table),
                    message,
                }
            }
            _ => db_error(
                Side::M2,
                e,
                &format!("writing {}", mapping.destination_table),
            ),
        }
    }
}

pub(super) fn db_error(side: Side, e: mysql_async::Error, what: &str) -> Error {
    let (code, kind) = crate::db::classify(&e);
    Error::Database {
        side,
        target: String::new(),
        message: format!("{what}: {e}"),
        code,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(key: &[&str]) -> TableMapping {
        TableMapping {
            document: "t".into(),
            source_table: "t".into(),
            destination: "d".into(),
            destination_table: "d".into(),
            select_columns: vec!["a".into(), "b".into(), "c".into()],
            primary_key: key.iter().map(|k| k.to_string()).collect(),
            copies: vec![],
            source_handlers: vec![],
            destination_handlers: vec![],
            insert_columns: vec![],
            lookups: vec![],
            estimated_rows: 0,
        }
    }

    #[test]
    fn keyset_pages() {
        assert_eq!(
            select_sql(&mapping(&["a"]), false, 10),
            "SELECT `a`, `b`, `c` FROM `t` AS t ORDER BY t.`a` LIMIT 10"
        );
        assert_eq!(
            select_sql(&mapping(&["a", "b"]), true, 5),
            "SELECT `a`, `b`, `c` FROM `t` AS t WHERE (t.`a` > ?) OR (t.`a` = ? AND t.`b` > ?) ORDER BY t.`a`, t.`b` LIMIT 5"
        );
        assert_eq!(
            keyset_params(&[Value::Int(1), Value::Int(2)]),
            [Value::Int(1), Value::Int(1), Value::Int(2)]
        );
    }

    #[test]
    fn inserts_and_keys() {
        assert_eq!(
            insert_sql("d", &["x".into(), "y".into()], 2),
            "INSERT INTO `d` (`x`, `y`) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            describe_key(&["entity_id".into()], &[Value::UInt(12)]),
            "entity_id=12"
        );
        assert_eq!(
            describe_key(
                &["a".into(), "b".into()],
                &[Value::Int(1), Value::Bytes(b"x".to_vec())]
            ),
            "(a=1, b=x)"
        );
    }
}
