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
use crate::pipeline::write::{self, OnDuplicate, Rows};
use crate::source::deltalog::keyset_after;
use crate::steps::map::TableMapping;
use crate::transform::TransformError;

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

/// A page of the table after `last_key` (from the start without one), and its parameters.
fn select_sql(
    mapping: &TableMapping,
    last_key: Option<&[Value]>,
    limit: usize,
) -> (String, Vec<Value>) {
    let key: Vec<String> = mapping
        .primary_key
        .iter()
        .map(|c| format!("t.{}", quote_ident(c)))
        .collect();
    let mut params = Vec::new();
    let mut condition = None;
    if let Some(last_key) = last_key {
        let (c, values) = keyset_after(&key, last_key);
        condition = Some(c);
        params = values;
    }
    let mut sql = mapping.select_where(condition.as_deref());
    sql.push_str(&format!(" ORDER BY {} LIMIT {limit}", key.join(", ")));
    (sql, params)
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
        let m1_error = |e| Error::db(Side::M1, e, &format!("reading {}", mapping.source_table));
        let mut m1 = m1.get_conn().await.map_err(m1_error)?;
        let mut m2 = m2
            .get_conn()
            .await
            .map_err(|e| Error::db(Side::M2, e, "connecting"))?;
        let key_at: Vec<usize> = mapping
            .primary_key
            .iter()
            .filter_map(|k| mapping.select_columns.iter().position(|c| c == k))
            .collect();
        let mut last_key = progress.last_key;
        let mut rows_done = progress.rows;
        bar.set_position(rows_done);
        loop {
            self.throttle.admit(self.page_rows as u64).await;
            let (sql, params) = select_sql(mapping, last_key.as_deref(), self.page_rows);
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
                    key: write::row_ref(mapping, &key),
                    message: e.0,
                })?;
                keys.push(key);
                out.push(transformed);
            }
            let mut tx = m2
                .start_transaction(TxOpts::default())
                .await
                .map_err(|e| Error::db(Side::M2, e, "starting a transaction"))?;
            let batch = Rows {
                mapping,
                destination: self.destination,
                rows: &out,
                keys: &keys,
            };
            write::insert(&mut tx, &batch, OnDuplicate::Fail).await?;
            rows_done += out.len() as u64;
            self.state
                .save_page(&mut tx, &mapping.source_table, &page_key, rows_done)
                .await
                .map_err(|e| Error::db(Side::M2, e, "saving progress"))?;
            tx.commit()
                .await
                .map_err(|e| Error::db(Side::M2, e, "committing a page"))?;
            bar.set_position(rows_done);
            last_key = Some(page_key);
            if out.len() < self.page_rows {
                return Ok(rows_done);
            }
        }
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
            filter: None,
            estimated_rows: 0,
        }
    }

    #[test]
    fn keyset_pages() {
        assert_eq!(
            select_sql(&mapping(&["a"]), None, 10).0,
            "SELECT t.`a`, t.`b`, t.`c` FROM `t` AS t ORDER BY t.`a` LIMIT 10"
        );
        let last = [Value::Int(1), Value::Int(2)];
        let (sql, params) = select_sql(&mapping(&["a", "b"]), Some(&last), 5);
        assert_eq!(
            sql,
            "SELECT t.`a`, t.`b`, t.`c` FROM `t` AS t WHERE (t.`a` > ?) OR (t.`a` = ? AND t.`b` > ?) ORDER BY t.`a`, t.`b` LIMIT 5"
        );
        assert_eq!(params, [Value::Int(1), Value::Int(1), Value::Int(2)]);
    }
}
