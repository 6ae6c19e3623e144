//! `mage-migrate bench`: throughput measured on a sandbox database, several runs, with their
//! spread, so a figure in the README names its machine, runs and variation.

pub mod delta;
pub mod lag;

use std::io::Write;
use std::time::Instant;

use mysql_async::prelude::Queryable;

use crate::error::{Error, Result, Side};
use crate::migrate_data::{self, DataOptions};
use crate::sandbox::{self, Server, ServerOptions};
use crate::setup::Setup;
use crate::storefront::{seed_store, StoreProfile};

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub rows: u64,
    pub seconds: f64,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.seconds.max(1e-9)
    }
}

fn sandbox_error(e: impl std::fmt::Display) -> Error {
    Error::Usage(format!("bench sandbox: {e}"))
}

fn db_error(e: mysql_async::Error) -> Error {
    Error::db(Side::M1, e, "sandbox database").with_target("sandbox")
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or("? GiB".to_string(), |kib| {
            format!("{:.0} GiB", kib as f64 / 1_048_576.0)
        });
    format!("{cores} cores, {memory}")
}

/// migrate:data (Map step) on a generated store: `runs` runs, each on fresh databases with the
/// same store, all on one private MariaDB on this machine.
pub async fn copy(runs: u32, profile: StoreProfile) -> Result<Vec<Run>> {
    let dir = std::env::temp_dir().join(format!("mage-migrate-bench-{}", std::process::id()));
    let server = Server::start(&dir, &ServerOptions::default()).map_err(sandbox_error)?;
    let result = async {
        let config = sandbox::write_dmt_tree(&dir.join("dmt"), &server).map_err(sandbox_error)?;
        let setup = Setup::load(&config)?;
        let options = DataOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
            ..DataOptions::default()
        };
        let mut measured = Vec::new();
        for run in 1..=runs.max(1) {
            sandbox::create_store_databases(&server)
                .await
                .map_err(db_error)?;
            let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
            seed_store(&mut m1, &profile).await.map_err(db_error)?;
            let _ = m1.disconnect().await;
            let started = Instant::now();
            let report = migrate_data::run(&setup, &options).await?;
            let r = Run {
                rows: report.rows_copied,
                seconds: started.elapsed().as_secs_f64(),
            };
            let _ = writeln!(
                std::io::stdout(),
                "run {run}: {} rows in {:.2} s = {:.0} rows/s",
                r.rows,
                r.seconds,
                r.rate()
            );
            measured.push(r);
        }
        Ok(measured)
    }
    .await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Prints the median and spread of the runs, with the machine.
pub fn summary(what: &str, runs: &[Run]) -> String {
    let mut rates: Vec<f64> = runs.iter().map(Run::rate).collect();
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    format!(
        "{what}: median {median:.0} rows/s over {} runs (min {:.0}, max {:.0}); machine: {}; MariaDB sandbox on the same machine",
        rates.len(),
        rates[0],
        rates[rates.len() - 1],
        machine()
    )
}

/// The results of `bench delta`: per variant, the runs and the peak memory growth.
#[derive(Debug, Clone, Default)]
pub struct DeltaBench {
    pub backlog_keys: u64,
    pub tool: Vec<Run>,
    pub dmt_loop: Vec<Run>,
    pub ceiling: Vec<Run>,
    /// (d): `migrate:delta --source binlog --once` over the same workload's binlog.
    pub binlog: Vec<Run>,
    /// Changes per storefront action (binlog row changes of followed tables), for the lag load.
    pub changes_per_action: f64,
    /// Lag under a steady load: deltalog source, binlog source.
    pub lag_deltalog: Vec<lag::LagRun>,
    pub lag_binlog: Vec<lag::LagRun>,
    pub tool_peak_bytes: u64,
    pub dmt_peak_bytes: u64,
}

fn median_rate(runs: &[Run]) -> f64 {
    let mut rates: Vec<f64> = runs.iter().map(Run::rate).collect();
    rates.sort_by(f64::total_cmp);
    rates.get(rates.len() / 2).copied().unwrap_or(0.0)
}

impl DeltaBench {
    pub fn summary(&self) -> String {
        let (a, b, c) = (
            median_rate(&self.tool),
            median_rate(&self.dmt_loop),
            median_rate(&self.ceiling),
        );
        let verdict = if a >= 0.6 * c { "met" } else { "MISSED" };
        let d = median_rate(&self.binlog);
        let binlog = if self.binlog.is_empty() {
            String::new()
        } else {
            format!(
                "\n{}\n(d)/(a) = {:.2} (target 1.5: {}); (d)/(c) = {:.2} (target 0.8: {})",
                summary("(d) migrate:delta --source binlog --once", &self.binlog),
                d / a.max(1e-9),
                if d >= 1.5 * a { "met" } else { "MISSED" },
                d / c.max(1e-9),
                if d >= 0.8 * c { "met" } else { "MISSED" },
            )
        };
        let lag = if self.lag_binlog.is_empty() && self.lag_deltalog.is_empty() {
            String::new()
        } else {
            format!(
                "\n{}\n{}",
                lag::summary(
                    "lag, --source deltalog",
                    &self.lag_deltalog,
                    self.changes_per_action,
                    2.0
                ),
                lag::summary(
                    "lag, --source binlog",
                    &self.lag_binlog,
                    self.changes_per_action,
                    1.0
                ),
            )
        };
        format!(
            "{}\n{}\n{}\nbacklog: {} changed keys; (a)/(c) = {:.2} (target 0.6: {verdict}); (a)/(b) = {:.1}x; (c)/(b) = {:.1}x; peak resident memory of the bench process during the runs: (a) {} MiB, (b) {} MiB{binlog}",
            summary("(a) migrate:delta --once", &self.tool),
            summary("(b) DMT-loop emulation", &self.dmt_loop),
            summary("(c) server-side INSERT…SELECT ceiling", &self.ceiling),
            self.backlog_keys,
            a / c.max(1e-9),
            a / b.max(1e-9),
            c / b.max(1e-9),
            self.tool_peak_bytes >> 20,
            self.dmt_peak_bytes >> 20,
        ) + &lag
    }
}

async fn pending_keys(m1: &mut mysql_async::Conn, followed: &[delta::Followed]) -> Result<u64> {
    let mut total = 0;
    for f in followed {
        let n: Option<u64> = m1
            .query_first(format!(
                "SELECT COUNT(*) FROM {} WHERE processed = 0",
                crate::db::quote_ident(&f.deltalog)
            ))
            .await
            .map_err(db_error)?;
        total += n.unwrap_or(0);
    }
    Ok(total)
}

/// Copies every table of `from` into `to` (created from the fixture schema or like `from`).
async fn clone_tables(root: &mut mysql_async::Conn, from: &str, to: &str) -> Result<()> {
    let q = crate::db::quote_ident;
    let tables: Vec<String> = root
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
            (from,),
        )
        .await
        .map_err(db_error)?;
    root.query_drop(
        "SET SESSION foreign_key_checks = 0, SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
    )
    .await
    .map_err(db_error)?;
    for table in tables {
        root.query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {}.{} LIKE {}.{}",
            q(to),
            q(&table),
            q(from),
            q(&table)
        ))
        .await
        .map_err(db_error)?;
        root.query_drop(format!("DELETE FROM {}.{}", q(to), q(&table)))
            .await
            .map_err(db_error)?;
        root.query_drop(format!(
            "INSERT INTO {}.{} SELECT * FROM {}.{}",
            q(to),
            q(&table),
            q(from),
            q(&table)
        ))
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// The tables the Map delta follows, for the emulations.
async fn followed(setup: &Setup, server: &Server) -> Result<Vec<delta::Followed>> {
    use crate::db::schema::Schema;
    let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
    let mut m2 = crate::db::connect(Side::M2, &server.database("magento2"), &[]).await?;
    let s1 = Schema::read(&mut m1).await.map_err(db_error)?;
    let s2 = Schema::read(&mut m2).await.map_err(db_error)?;
    let (mappings, _) = crate::steps::map::plan(&setup.map, &s1, &s2, "", "")?;
    let mut out = Vec::new();
    for (table, _) in setup.deltalog_groups.documents_of("delta_map") {
        let Some(entry) = setup.deltalog_tables.iter().find(|t| t.table == table) else {
            continue;
        };
        let deltalog = crate::deltalog::naming::deltalog_table("", table);
        let Some(mapping) = mappings.iter().find(|m| m.source_table == table) else {
            continue;
        };
        if s1.table(&deltalog).is_none() {
            continue;
        }
        let destination_key = entry
            .keys
            .iter()
            .filter_map(|k| {
                let i = mapping.select_columns.iter().position(|c| c == k)?;
                mapping
                    .copies
                    .iter()
                    .find(|(s, _)| *s == i)
                    .map(|(_, d)| d.clone())
            })
            .collect();
        out.push(delta::Followed {
            mapping: mapping.clone(),
            deltalog,
            keys: entry.keys.clone(),
            destination_key,
        });
    }
    Ok(out)
}

/// Seeds a store, copies it, builds a backlog of at least `backlog_keys` changed keys with the
/// storefront workload, then times (a), (b) and (c) `runs` times each from that same state.
pub async fn delta(runs: u32, profile: StoreProfile, backlog_keys: u64) -> Result<DeltaBench> {
    let dir = std::env::temp_dir().join(format!("mage-migrate-bench-{}", std::process::id()));
    let server = Server::start(&dir, &ServerOptions::default()).map_err(sandbox_error)?;
    let result = async {
        let out = &mut std::io::stdout();
        let config = sandbox::write_dmt_tree(&dir.join("dmt"), &server).map_err(sandbox_error)?;
        let setup = Setup::load(&config)?;
        sandbox::create_store_databases(&server).await.map_err(db_error)?;
        let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
        seed_store(&mut m1, &profile).await.map_err(db_error)?;
        let options = DataOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
            ..DataOptions::default()
        };
        migrate_data::run(&setup, &options).await?;
        let followed = followed(&setup, &server).await?;
        // The state before the workload, for (d), which needs the workload in the binlog.
        let mut root = crate::db::connect(Side::M1, &server.database("mysql"), &[]).await?;
        for (from, to) in [("magento1", "base1"), ("magento2", "base2")] {
            crate::sandbox::create_database(&mut root, to, &[]).await.map_err(db_error)?;
            clone_tables(&mut root, from, to).await?;
        }
        let mut workload = crate::storefront::Workload::new(profile.seed ^ 0xbe4c);
        workload.load_state(&mut m1).await.map_err(db_error)?;
        let started = Instant::now();
        let mut actions = 0;
        let mut pending = 0;
        while pending < backlog_keys && actions < 200_000 {
            workload.run(&mut m1, 2_000).await.map_err(db_error)?;
            actions += 2_000;
            pending = pending_keys(&mut m1, &followed).await?;
        }
        let _ = writeln!(
            out,
            "backlog: {pending} changed keys in {} tables from {actions} storefront actions ({:.0} s)",
            followed.len(),
            started.elapsed().as_secs_f64()
        );
        let _ = m1.disconnect().await;
        for (from, to) in [("magento1", "snapshot1"), ("magento2", "snapshot2")] {
            crate::sandbox::create_database(&mut root, to, &[]).await.map_err(db_error)?;
            clone_tables(&mut root, from, to).await?;
        }
        let mut bench = DeltaBench {
            backlog_keys: pending,
            ..DeltaBench::default()
        };
        for run in 1..=runs.max(1) {
            for variant in ["a", "b", "c", "d"] {
                sandbox::create_store_databases(&server).await.map_err(db_error)?;
                if variant == "d" {
                    // The same workload again from the state before it, so that its changes
                    // are in the binlog after a known position (the workload is not timed).
                    clone_tables(&mut root, "base1", "magento1").await?;
                    clone_tables(&mut root, "base2", "magento2").await?;
                    let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
                    crate::deltalog::install(&mut m1, &setup, &crate::deltalog::InstallOptions::default()).await?;
                    let start = crate::source::binlog::stream::current_position(&mut m1).await?;
                    let mut workload = crate::storefront::Workload::new(profile.seed ^ 0xbe4c);
                    workload.load_state(&mut m1).await.map_err(db_error)?;
                    workload.run(&mut m1, actions).await.map_err(db_error)?;
                    let keys = pending_keys(&mut m1, &followed).await?;
                    let _ = m1.disconnect().await;
                    let (measured, _) = delta::timed(delta::tool_binlog(&setup, start)).await?;
                    if bench.changes_per_action == 0.0 {
                        bench.changes_per_action = measured.rows as f64 / actions.max(1) as f64;
                    }
                    let measured = Run { rows: keys, seconds: measured.seconds };
                    let _ = writeln!(out, "run {run} (d): {keys} keys in {:.2} s = {:.0} keys/s", measured.seconds, measured.rate());
                    bench.binlog.push(measured);
                    continue;
                }
                clone_tables(&mut root, "snapshot1", "magento1").await?;
                clone_tables(&mut root, "snapshot2", "magento2").await?;
                // Copies carry no triggers; the delta checks they are there (not timed).
                let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
                crate::deltalog::install(&mut m1, &setup, &crate::deltalog::InstallOptions::default()).await?;
                let _ = m1.disconnect().await;
                let (measured, peak) = match variant {
                    "a" => delta::timed(delta::tool(&setup)).await?,
                    "b" => {
                        let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
                        let mut m2 = crate::db::connect(Side::M2, &server.database("magento2"), &crate::db::m2_write_session()).await?;
                        delta::timed(delta::dmt_loop(&mut m1, &mut m2, &followed)).await?
                    }
                    _ => delta::timed(delta::ceiling(&mut root, "magento1", "magento2", &followed)).await?,
                };
                // Rates over the same changed keys, whatever each variant counts.
                let measured = Run {
                    rows: pending,
                    seconds: measured.seconds,
                };
                let _ = writeln!(out, "run {run} ({variant}): {pending} keys in {:.2} s = {:.0} keys/s", measured.seconds, measured.rate());
                match variant {
                    "a" => {
                        bench.tool.push(measured);
                        bench.tool_peak_bytes = bench.tool_peak_bytes.max(peak);
                    }
                    "b" => {
                        bench.dmt_loop.push(measured);
                        bench.dmt_peak_bytes = bench.dmt_peak_bytes.max(peak);
                    }
                    _ => bench.ceiling.push(measured),
                }
            }
        }
        // Lag under a steady load of about 1,000 changes/s, each source in turn.
        let per_second = 1_000.0 / bench.changes_per_action.max(0.1);
        for run in 1..=runs.max(1) {
            for source in ["deltalog", "binlog"] {
                sandbox::create_store_databases(&server).await.map_err(db_error)?;
                clone_tables(&mut root, "base1", "magento1").await?;
                clone_tables(&mut root, "base2", "magento2").await?;
                let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
                crate::deltalog::install(&mut m1, &setup, &crate::deltalog::InstallOptions::default()).await?;
                let start = crate::source::binlog::stream::current_position(&mut m1).await?;
                let _ = m1.disconnect().await;
                let mut options = crate::migrate_delta::DeltaOptions {
                    skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
                    ..crate::migrate_delta::DeltaOptions::default()
                };
                if source == "binlog" {
                    options.binlog = Some(crate::migrate_delta::binlog::BinlogOptions {
                        start: Some(crate::source::binlog::StartAt::At(start)),
                        server_id: 4_242_425,
                        heartbeat: std::time::Duration::from_secs(2),
                    });
                }
                let measured = lag::measure(&setup, options, per_second, profile.seed ^ run as u64, 20).await?;
                let _ = writeln!(
                    out,
                    "run {run} lag ({source}): p50 {:.3} s, p99 {:.3} s, max {:.3} s over {} markers ({} not seen), {:.0} actions/s",
                    measured.percentile(0.5),
                    measured.percentile(0.99),
                    measured.lags.last().copied().unwrap_or(f64::NAN),
                    measured.lags.len(),
                    measured.missed,
                    measured.actions_per_second
                );
                if source == "binlog" {
                    bench.lag_binlog.push(measured);
                } else {
                    bench.lag_deltalog.push(measured);
                }
            }
        }
        Ok(bench)
    }
    .await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    result
}
