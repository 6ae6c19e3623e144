//! `bench delta`: the catch-up of a large deltalog backlog, three ways, each from the same
//! starting state:
//! (a) `migrate:delta --once` (this tool);
//! (b) "DMT-loop emulation": a faithful single-threaded re-implementation of the DMT's Map delta
//!     loop (dmt-compat §4.2): per table, deletes first, then page-0
//!     `SELECT … JOIN … WHERE processed != 1 LIMIT n`, one upsert per page, `UPDATE processed = 1`;
//! (c) the ceiling: per table one server-side `INSERT INTO m2.t SELECT … FROM m1.m2_cl_t JOIN
//!     m1.t … ON DUPLICATE KEY UPDATE` of the same changed rows (and one DELETE of the gone
//!     ones), without transforms.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

use super::Run;
use crate::db::quote_ident;
use crate::error::{Error, Result, Side};
use crate::migrate_delta::{self, DeltaOptions, Stop};
use crate::pipeline::write::{self, OnDuplicate, Rows};
use crate::setup::Setup;
use crate::steps::map::{MapTransformer, TableMapping};

/// The tables Map\Delta follows, with their mapping, for the emulations.
pub struct Followed {
    pub mapping: TableMapping,
    pub deltalog: String,
    pub keys: Vec<String>,
    pub destination_key: Vec<String>,
}

/// Resident memory of this process now, in bytes.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// Samples the resident memory while `f` runs; returns its result and the peak resident size
/// of this process during the run.
pub async fn with_peak_memory<T>(f: impl std::future::Future<Output = T>) -> (T, u64) {
    let baseline = rss();
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = f.await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    (out, peak.load(Ordering::Relaxed))
}

/// (a): the tool itself.
pub async fn tool(setup: &Setup) -> Result<u64> {
    let options = DeltaOptions {
        once: true,
        skip_steps: crate::migrate_data::unbuilt_steps(setup, "delta"),
        ..DeltaOptions::default()
    };
    let report = migrate_delta::run(setup, &options, Arc::new(Stop::default()), |_| {}).await?;
    Ok(report.upserted + report.deleted)
}

/// (d): the tool with the binlog source, from `start`.
pub async fn tool_binlog(setup: &Setup, start: crate::source::binlog::Position) -> Result<u64> {
    let options = DeltaOptions {
        once: true,
        skip_steps: crate::migrate_data::unbuilt_steps(setup, "delta"),
        binlog: Some(crate::migrate_delta::binlog::BinlogOptions {
            start: Some(crate::source::binlog::StartAt::At(start)),
            server_id: 4_242_424,
            heartbeat: Duration::from_secs(2),
        }),
        ..DeltaOptions::default()
    };
    let report = migrate_delta::run(setup, &options, Arc::new(Stop::default()), |_| {}).await?;
    // The changes the binlog carried (more than the distinct keys: one key changes many times).
    Ok(report.binlog_changes)
}

fn m1(e: mysql_async::Error, what: &str) -> Error {
    Error::db(Side::M1, e, what)
}

fn m2(e: mysql_async::Error, what: &str) -> Error {
    Error::db(Side::M2, e, what)
}

/// (b): the DMT's loop, single-threaded, as the DMT runs it.
/// The DMT's automatic page size (`bulk_size` 0): `ceil(memory_limit / (3000 × columns))`,
/// at most 50,000, here with PHP's `memory_limit` at 2 GiB, the usual setting for the DMT.
pub fn dmt_page_rows(columns: usize) -> usize {
    let memory_limit: usize = 2 << 30;
    memory_limit.div_ceil(3000 * columns.max(1)).min(50_000)
}

pub async fn dmt_loop(m1c: &mut Conn, m2c: &mut Conn, followed: &[Followed]) -> Result<u64> {
    let mut rows = 0u64;
    for f in followed {
        let page = dmt_page_rows(f.mapping.select_columns.len());
        let transformer = MapTransformer::new(&f.mapping)?;
        let deltalog = quote_ident(&f.deltalog);
        let keys: Vec<String> = f.keys.iter().map(|k| quote_ident(k)).collect();
        // Deletes first, page 0 each time, one IN list, FK checks on.
        m2c.query_drop("SET foreign_key_checks = 1")
            .await
            .map_err(|e| m2(e, "fk"))?;
        loop {
            let sql = format!(
                "SELECT {} FROM {deltalog} WHERE (`operation` = 'DELETE') AND (`processed` != 1) LIMIT {page}",
                keys.join(", ")
            );
            let gone: Vec<mysql_async::Row> = m1c.query(sql).await.map_err(|e| m1(e, "deleted"))?;
            if gone.is_empty() {
                break;
            }
            let gone: Vec<Vec<Value>> = gone.into_iter().map(mysql_async::Row::unwrap).collect();
            let condition = crate::source::deltalog::key_list_condition(&f.keys, gone.len(), "");
            let dest_condition =
                crate::source::deltalog::key_list_condition(&f.destination_key, gone.len(), "");
            let params: Vec<Value> = gone.iter().flatten().cloned().collect();
            m2c.exec_drop(
                format!(
                    "DELETE FROM {} WHERE {dest_condition}",
                    quote_ident(&f.mapping.destination_table)
                ),
                params.clone(),
            )
            .await
            .map_err(|e| m2(e, "delete"))?;
            m1c.exec_drop(
                format!("UPDATE {deltalog} SET processed = 1 WHERE {condition}"),
                params,
            )
            .await
            .map_err(|e| m1(e, "mark"))?;
            rows += gone.len() as u64;
        }
        m2c.query_drop("SET foreign_key_checks = 0")
            .await
            .map_err(|e| m2(e, "fk"))?;
        // Then changes: the unindexed `processed` filter scans the deltalog on every page.
        let join: Vec<String> = f
            .keys
            .iter()
            .map(|k| format!("t.{0} = d.{0}", quote_ident(k)))
            .collect();
        let select_from = f.mapping.select_from();
        let from = format!(
            "{select_from} INNER JOIN {deltalog} AS d ON {} WHERE (d.`operation` IN ('INSERT', 'UPDATE')) AND (d.`processed` != 1) LIMIT {page}",
            join.join(" AND ")
        );
        let position = |k: &String| f.mapping.select_columns.iter().position(|c| c == k);
        let key_at: Vec<usize> = f.keys.iter().filter_map(position).collect();
        let primary_at: Vec<usize> = f.mapping.primary_key.iter().filter_map(position).collect();
        let destination = crate::db::schema::Table {
            name: f.mapping.destination_table.clone(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_keys: Vec::new(),
            estimated_rows: 0,
        };
        loop {
            let changed: Vec<mysql_async::Row> =
                m1c.query(&from).await.map_err(|e| m1(e, "changed"))?;
            if changed.is_empty() {
                break;
            }
            let mut keys_of_page = Vec::with_capacity(changed.len());
            let mut primaries = Vec::with_capacity(changed.len());
            let mut values = Vec::with_capacity(changed.len());
            for row in changed {
                let row = row.unwrap();
                keys_of_page.push(key_at.iter().map(|&i| row[i].clone()).collect::<Vec<_>>());
                primaries.push(
                    primary_at
                        .iter()
                        .map(|&i| row[i].clone())
                        .collect::<Vec<_>>(),
                );
                values.push(transformer.transform(row).map_err(|e| Error::Usage(e.0))?);
            }
            let batch = Rows {
                mapping: &f.mapping,
                destination: &destination,
                rows: &values,
                keys: &primaries,
            };
            write::insert(m2c, &batch, OnDuplicate::Update(&f.mapping.insert_columns)).await?;
            let condition =
                crate::source::deltalog::key_list_condition(&f.keys, keys_of_page.len(), "");
            let params: Vec<Value> = keys_of_page.iter().flatten().cloned().collect();
            m1c.exec_drop(
                format!("UPDATE {deltalog} SET processed = 1 WHERE {condition}"),
                params,
            )
            .await
            .map_err(|e| m1(e, "mark"))?;
            rows += values.len() as u64;
        }
        m1c.query_drop(format!("DELETE FROM {deltalog} WHERE (`processed` = 1)"))
            .await
            .map_err(|e| m1(e, "purge"))?;
    }
    Ok(rows)
}

/// (c): the server-side ceiling, no transforms: both databases on one server.
pub async fn ceiling(
    conn: &mut Conn,
    m1_db: &str,
    m2_db: &str,
    followed: &[Followed],
) -> Result<u64> {
    let mut rows = 0u64;
    let q = quote_ident;
    for f in followed {
        let m = &f.mapping;
        let source = format!("{}.{}", q(m1_db), q(&m.source_table));
        let deltalog = format!("{}.{}", q(m1_db), q(&f.deltalog));
        let destination = format!("{}.{}", q(m2_db), q(&m.destination_table));
        let join: Vec<String> = f
            .keys
            .iter()
            .map(|k| format!("t.{0} = d.{0}", q(k)))
            .collect();
        let columns: Vec<String> = m.copies.iter().map(|(_, d)| q(d)).collect();
        let selected: Vec<String> = m
            .copies
            .iter()
            .map(|(i, _)| format!("t.{}", q(&m.select_columns[*i])))
            .collect();
        let update: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = VALUES({c})"))
            .collect();
        conn.query_drop(format!(
            "INSERT INTO {destination} ({}) SELECT {} FROM {deltalog} AS d JOIN {source} AS t ON {} ON DUPLICATE KEY UPDATE {}",
            columns.join(", "),
            selected.join(", "),
            join.join(" AND "),
            update.join(", ")
        ))
        .await
        .map_err(|e| m2(e, "ceiling upsert"))?;
        let upserted: u64 = conn
            .query_first(format!(
                "SELECT COUNT(*) FROM {deltalog} AS d JOIN {source} AS t ON {}",
                join.join(" AND ")
            ))
            .await
            .map_err(|e| m1(e, "count"))?
            .unwrap_or(0);
        let dest_keys: Vec<String> = f
            .destination_key
            .iter()
            .zip(&f.keys)
            .map(|(dk, k)| format!("x.{} = d.{}", q(dk), q(k)))
            .collect();
        let missing: Vec<String> = f
            .keys
            .iter()
            .map(|k| format!("t.{0} = d.{0}", q(k)))
            .collect();
        conn.query_drop(format!(
            "DELETE x FROM {destination} AS x JOIN {deltalog} AS d ON {} LEFT JOIN {source} AS t ON {} WHERE t.{} IS NULL",
            dest_keys.join(" AND "),
            missing.join(" AND "),
            q(&f.keys[0])
        ))
        .await
        .map_err(|e| m2(e, "ceiling delete"))?;
        rows += upserted + conn.affected_rows();
    }
    Ok(rows)
}

/// Times one variant.
pub async fn timed(f: impl std::future::Future<Output = Result<u64>>) -> Result<(Run, u64)> {
    let started = Instant::now();
    let (rows, peak) = with_peak_memory(f).await;
    Ok((
        Run {
            rows: rows?,
            seconds: started.elapsed().as_secs_f64(),
        },
        peak,
    ))
}
