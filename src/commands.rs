//! What each command does. Commands not built yet check their configuration, then say so.

use std::io::{IsTerminal, Write};

use crate::cli::{Command, DeltalogCommand};
use crate::db;
use crate::deltalog::{self, InstallOptions, TriggerStatus};
use crate::error::{Error, Result, Side};
use crate::setup::Setup;

/// Runs one parsed command. `Ok(code)` is the exit code of a run that worked (0, or 1 when it
/// found problems); errors carry their own exit code.
pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::MigrateData {
            config,
            reset,
            skip_step,
            parallel,
            max_rows_per_second,
        } => {
            let setup = Setup::load(&config.config)?;
            let options = crate::migrate_data::DataOptions {
                reset,
                skip_steps: skip_step,
                parallel_tables: parallel,
                max_rows_per_second,
                progress_bars: std::io::stderr().is_terminal(),
            };
            migrate_data(&setup, &options)
        }
        Command::MigrateDelta {
            config,
            reset,
            source,
            start_position,
            server_id,
            once,
            skip_step,
            workers,
            batch_rows,
            channel_capacity,
            poll_interval_ms,
            skip_errors,
            report_json,
            metrics_addr,
        } => {
            let setup = Setup::load(&config.config)?;
            let binlog = match source {
                crate::cli::ChangeSource::Binlog => {
                    let m1 = &setup.config.source;
                    Some(crate::migrate_delta::binlog::BinlogOptions {
                        start: start_position,
                        server_id: server_id.unwrap_or_else(|| {
                            crate::precheck::default_server_id(
                                &m1.host,
                                m1.port.unwrap_or(3306),
                                &m1.name,
                            )
                        }),
                        heartbeat: std::time::Duration::from_secs(2),
                    })
                }
                crate::cli::ChangeSource::Deltalog => {
                    if start_position.is_some() || server_id.is_some() {
                        return Err(Error::Usage(
                            "--start-position and --server-id are for --source binlog".into(),
                        ));
                    }
                    None
                }
            };
            let mut options = crate::migrate_delta::DeltaOptions {
                reset,
                skip_steps: skip_step,
                once,
                skip_errors,
                poll_interval: std::time::Duration::from_millis(poll_interval_ms),
                binlog,
                ..Default::default()
            };
            if let Some(n) = workers {
                options.workers.workers = n.max(1);
            }
            options.workers.batch_rows = batch_rows.max(1);
            options.workers.channel_capacity = channel_capacity.max(1);
            if metrics_addr.is_some() {
                options.metrics = Some(std::sync::Arc::new(crate::metrics::Metrics::default()));
            }
            migrate_delta(
                &setup,
                &options,
                report_json.as_deref(),
                metrics_addr.as_deref(),
            )
        }
        Command::Deltalog(sub) => deltalog_command(sub),
        Command::Precheck {
            config,
            source,
            server_id,
        } => {
            let setup = Setup::load(&config.config)?;
            precheck(&setup, source, server_id)
        }
        Command::Cutover {
            config,
            source,
            quiet_seconds,
            skip_step,
        } => {
            let setup = Setup::load(&config.config)?;
            let binlog = match source {
                crate::cli::ChangeSource::Binlog => {
                    let m1 = &setup.config.source;
                    Some(crate::migrate_delta::binlog::BinlogOptions {
                        start: None,
                        server_id: crate::precheck::default_server_id(
                            &m1.host,
                            m1.port.unwrap_or(3306),
                            &m1.name,
                        ),
                        heartbeat: std::time::Duration::from_secs(2),
                    })
                }
                crate::cli::ChangeSource::Deltalog => None,
            };
            let options = crate::cutover::CutoverOptions {
                quiet: std::time::Duration::from_secs(quiet_seconds),
                delta: crate::migrate_delta::DeltaOptions {
                    skip_steps: skip_step,
                    binlog,
                    ..Default::default()
                },
            };
            let report = runtime()?.block_on(crate::cutover::run(&setup, &options))?;
            for line in &report.log {
                println!("{line}");
            }
            if report.go() {
                println!("GO: Magento 2 equals Magento 1 through the map. Left to you:");
                for step in crate::cutover::next_steps(&setup.config.path) {
                    println!("  {step}");
                }
                Ok(0)
            } else {
                println!("NO-GO:");
                for problem in &report.problems {
                    println!("  {problem}");
                }
                Ok(1)
            }
        }
        Command::Cleanup(config) => {
            let setup = Setup::load(&config.config)?;
            let dropped = runtime()?.block_on(crate::cleanup::run(&setup))?;
            if dropped.is_empty() {
                println!("cleanup: Magento 2 holds no mage-migrate state tables");
            } else {
                for table in &dropped {
                    println!("dropped {table}");
                }
                println!(
                    "cleanup: {} mage-migrate state tables dropped from Magento 2",
                    dropped.len()
                );
            }
            Ok(0)
        }
        Command::Verify {
            config,
            tables,
            report_json,
            chunk_rows,
            chunk_time_ms,
            max_rows_per_second,
            recheck_after_ms,
        } => {
            let setup = Setup::load(&config.config)?;
            let options = crate::verify::VerifyOptions {
                tables,
                chunk_rows: chunk_rows.map(|n| n as usize),
                chunk_time: std::time::Duration::from_millis(chunk_time_ms.max(1)),
                max_rows_per_second,
                recheck_after: std::time::Duration::from_millis(recheck_after_ms),
                before_recheck: None,
            };
            verify(&setup, &options, report_json.as_deref())
        }
        Command::Bench {
            subject,
            runs,
            profile,
            backlog,
        } => {
            use crate::cli::{BenchProfile, BenchSubject};
            let profile = match profile {
                BenchProfile::Tiny => crate::storefront::StoreProfile::tiny(),
                BenchProfile::Small => crate::storefront::StoreProfile::small(),
            };
            if subject == BenchSubject::Delta {
                let bench = runtime()?.block_on(crate::bench::delta(runs, profile, backlog))?;
                println!("{}", bench.summary());
                return Ok(0);
            }
            let measured = runtime()?.block_on(crate::bench::copy(runs, profile))?;
            println!("{}", crate::bench::summary("migrate:data copy", &measured));
            Ok(0)
        }
        Command::Demo => runtime()?.block_on(crate::demo::run()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))
}

fn deltalog_command(sub: DeltalogCommand) -> Result<i32> {
    let (config, dry_run) = match &sub {
        DeltalogCommand::Install { config, dry_run } => (config, *dry_run),
        DeltalogCommand::Status(config) => (config, false),
        DeltalogCommand::Remove(config) => (config, false),
    };
    let setup = Setup::load(&config.config)?;
    let source = &setup.config.source;
    let target = source.describe();
    runtime()?.block_on(async {
        let mut conn = db::connect(
            Side::M1,
            source,
            &setup.config.options.init_statements_source(),
        )
        .await?;
        let options = InstallOptions {
            dry_run,
            ..InstallOptions::default()
        };
        let result = match sub {
            DeltalogCommand::Install { .. } => install(&mut conn, &setup, &options, &target).await,
            DeltalogCommand::Status(_) => status(&mut conn, &setup).await,
            DeltalogCommand::Remove(_) => remove(&mut conn, &setup, &options).await,
        };
        let _ = conn.disconnect().await;
        result.map_err(|e| e.with_target(&target))
    })
}

async fn install(
    conn: &mut mysql_async::Conn,
    setup: &Setup,
    options: &InstallOptions,
    target: &str,
) -> Result<i32> {
    use deltalog::install::Change;
    let report = deltalog::install(conn, setup, options).await?;
    if report.installed != report.expected {
        // The DMT's own warning, word for word, then which tables (the DMT does not say).
        const NAMED: usize = 10;
        let missing = &report.missing_in_m1;
        let more = match missing.len().saturating_sub(NAMED) {
            0 => String::new(),
            n => format!(" and {n} more (deltalog status lists them)"),
        };
        tracing::warn!(
            "Some of the delta log tables were not created. Expected:{}. Actual:{}; not in M1: {}{more}",
            report.expected,
            report.installed,
            missing[..missing.len().min(NAMED)].join(", ")
        );
    }
    let mut out = std::io::stdout().lock();
    if options.dry_run {
        let _ = write!(out, "{}", report.script(&setup.config.source.name));
        return Ok(0);
    }
    if report.planned.is_empty() {
        let _ = writeln!(
            out,
            "deltalog install: nothing to change; {} tables of {} in {target} are installed as wanted",
            report.installed, report.expected
        );
    } else {
        let _ = writeln!(
            out,
            "deltalog install: {} of {} tables of deltalog.xml are in {target}: {} deltalog tables created, {} key columns re-typed, {} triggers created, {} DMT triggers upgraded, {} merged into existing triggers",
            report.installed,
            report.expected,
            report.count(Change::CreateTable),
            report.count(Change::RetypeKey),
            report.count(Change::CreateTrigger),
            report.count(Change::UpgradeTrigger),
            report.count(Change::MergeTrigger),
        );
    }
    Ok(0)
}

/// Where the binlog source stands, for an operator deciding when to freeze the store: the
/// lowest worker checkpoint in M2 against the end of M1's binlog. `None` when the binlog
/// source never ran (or M2 or the position cannot be read).
async fn binlog_status(m1: &mut mysql_async::Conn, setup: &Setup) -> Option<String> {
    use mysql_async::prelude::Queryable;
    let table = db::quote_ident(&format!(
        "{}{}",
        setup.config.options.dest_prefix(),
        crate::migrate_delta::binlog::CHECKPOINT_TABLE
    ));
    let mut m2 = db::connect(
        Side::M2,
        &setup.config.destination,
        &setup.config.options.init_statements_destination(),
    )
    .await
    .ok()?;
    let rows: Vec<(String, u64, String, f64)> = m2
        .query(format!(
            "SELECT binlog_file, binlog_position, gtid, TIMESTAMPDIFF(MICROSECOND, updated_at, NOW(3)) / 1e6 FROM {table}"
        ))
        .await
        .ok()?;
    let _ = m2.disconnect().await;
    let low = rows
        .iter()
        .map(|(f, p, g, age)| {
            (
                crate::source::binlog::Position {
                    file: f.clone(),
                    pos: *p,
                    gtid: g.clone(),
                },
                *age,
            )
        })
        .min_by(|a, b| a.0.cmp(&b.0))?;
    let end = crate::source::binlog::stream::current_position(m1)
        .await
        .ok();
    let behind = match &end {
        Some(end) if end.file == low.0.file => format!(
            "{} bytes behind the end of M1's binlog ({end})",
            end.pos.saturating_sub(low.0.pos)
        ),
        Some(end) => format!("M1's binlog is at {end}"),
        None => "M1's binlog end could not be read (REPLICATION CLIENT / BINLOG MONITOR)".into(),
    };
    Some(format!(
        "binlog source: applied up to {} (the lowest worker checkpoint, written {:.1} s ago); {behind}",
        low.0, low.1
    ))
}

/// How fresh the deltalog follower is and how long the rows pending now would take at its
/// pace: the operator's lag figure for deciding when to freeze the store. `None` when the
/// deltalog source never ran.
async fn deltalog_pace(setup: &Setup, pending: u64) -> Option<String> {
    use mysql_async::prelude::Queryable;
    let table = db::quote_ident(&format!(
        "{}{}",
        setup.config.options.dest_prefix(),
        crate::migrate_delta::LAST_CYCLE
    ));
    let mut m2 = db::connect(
        Side::M2,
        &setup.config.destination,
        &setup.config.options.init_statements_destination(),
    )
    .await
    .ok()?;
    let row: Option<(f64, u64, f64, u64, f64)> = m2
        .query_first(format!(
            "SELECT TIMESTAMPDIFF(MICROSECOND, finished_at, NOW(3)) / 1e6, cycle_keys, cycle_seconds, run_keys, run_seconds FROM {table} WHERE source = 'deltalog'"
        ))
        .await
        .ok()?;
    let _ = m2.disconnect().await;
    let (age, keys, seconds, run_keys, run_seconds) = row?;
    Some(pace_line(
        age,
        keys,
        seconds,
        run_keys,
        run_seconds,
        pending,
    ))
}

fn pace_line(
    age: f64,
    keys: u64,
    seconds: f64,
    run_keys: u64,
    run_seconds: f64,
    pending: u64,
) -> String {
    let last = if keys > 0 {
        format!("applied {keys} keys in {seconds:.2} s")
    } else {
        "found nothing pending".to_string()
    };
    let estimate = if pending == 0 {
        "nothing pending now".to_string()
    } else if run_keys > 0 && run_seconds > 0.0 {
        let rate = run_keys as f64 / run_seconds;
        format!(
            "{pending} rows pending now: about {:.1} s to catch up at its pace of {rate:.0} keys/s",
            pending as f64 / rate
        )
    } else {
        format!("{pending} rows pending now")
    };
    format!("deltalog source: the last cycle, {age:.1} s ago, {last}; {estimate}")
}

async fn status(conn: &mut mysql_async::Conn, setup: &Setup) -> Result<i32> {
    let rows = deltalog::status(conn, setup).await?;
    let mut out = std::io::stdout().lock();
    let width = rows.iter().map(|r| r.table.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(
        out,
        "{:width$}  {:<26}  {:>9}  {:>9}  {:>9}",
        "table", "triggers insert/update/delete", "pending", "in flight", "processed"
    );
    for row in &rows {
        let state = if !row.source_exists {
            "not in M1".to_string()
        } else if !row.installed {
            "not installed".to_string()
        } else {
            row.triggers
                .iter()
                .map(|(_, s)| match s {
                    TriggerStatus::Ours(_) => "ours",
                    TriggerStatus::DmtWithoutReset(_) => "dmt-no-reset",
                    TriggerStatus::Missing => "missing",
                })
                .collect::<Vec<_>>()
                .join("/")
        };
        if row.installed {
            let _ = writeln!(
                out,
                "{:width$}  {:<26}  {:>9}  {:>9}  {:>9}",
                row.table, state, row.pending, row.in_flight, row.processed
            );
        } else {
            let _ = writeln!(out, "{:width$}  {state}", row.table);
        }
    }
    let in_m1 = rows.iter().filter(|r| r.source_exists).count();
    let complete = rows.iter().filter(|r| r.complete()).count();
    let upgradable = rows
        .iter()
        .filter(|r| {
            r.triggers
                .iter()
                .any(|(_, s)| matches!(s, TriggerStatus::DmtWithoutReset(_)))
        })
        .count();
    let _ = writeln!(
        out,
        "{complete} of {in_m1} tables in M1 have a complete deltalog; {} pending rows in all",
        rows.iter().map(|r| r.pending).sum::<u64>()
    );
    let pending: u64 = rows.iter().map(|r| r.pending + r.in_flight).sum();
    if let Some(line) = deltalog_pace(setup, pending).await {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = binlog_status(conn, setup).await {
        let _ = writeln!(out, "{line}");
    }
    if upgradable > 0 {
        let _ = writeln!(
            out,
            "{upgradable} tables have DMT triggers without the reset of `processed` (changes can be lost): run `mage-migrate deltalog install` to upgrade them"
        );
    }
    Ok(0)
}

async fn remove(
    conn: &mut mysql_async::Conn,
    setup: &Setup,
    options: &InstallOptions,
) -> Result<i32> {
    use deltalog::install::Change;
    let report = deltalog::remove(conn, setup, options).await?;
    println!(
        "deltalog remove: {} deltalog tables dropped, {} triggers dropped, {} other triggers restored without the deltalog statement",
        report.count(Change::DropTable),
        report.count(Change::DropTrigger),
        report.count(Change::RestoreTrigger),
    );
    Ok(0)
}

/// Prints one line per check and a count; exit 1 when any failed.
fn precheck(
    setup: &Setup,
    source: crate::cli::ChangeSource,
    server_id: Option<u32>,
) -> Result<i32> {
    use crate::precheck::Outcome;
    let checks = runtime()?.block_on(crate::precheck::run(setup, source, server_id));
    let count = |outcome| checks.iter().filter(|c| c.outcome == outcome).count();
    let mut out = std::io::stdout().lock();
    for check in &checks {
        let _ = writeln!(out, "{check}");
    }
    let failed = count(Outcome::Fail);
    let _ = writeln!(
        out,
        "precheck: {} ok, {} WARN, {failed} FAIL",
        count(Outcome::Pass),
        count(Outcome::Warn)
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Prints one line per table (and example keys where it differs); exit 1 when any differs.
fn verify(
    setup: &Setup,
    options: &crate::verify::VerifyOptions,
    report_json: Option<&std::path::Path>,
) -> Result<i32> {
    let report = runtime()?.block_on(crate::verify::run(setup, options))?;
    let mut out = std::io::stdout().lock();
    for line in report.lines() {
        let _ = writeln!(out, "{line}");
    }
    if let Some(path) = report_json {
        std::fs::write(path, report.to_json() + "\n")
            .map_err(|e| Error::Usage(format!("--report-json {}: {e}", path.display())))?;
    }
    Ok(if report.is_equal() { 0 } else { 1 })
}

fn migrate_data(setup: &Setup, options: &crate::migrate_data::DataOptions) -> Result<i32> {
    let report = runtime()?.block_on(crate::migrate_data::run(setup, options))?;
    let seconds = report.elapsed.as_secs_f64();
    let rows_in_m2: u64 = report.tables.iter().map(|(_, n)| n).sum();
    println!(
        "migrate:data: {} tables, {} rows in Magento 2; {} rows copied by this run in {:.1} s ({:.0} rows/s)",
        report.tables.len(),
        rows_in_m2,
        report.rows_copied,
        seconds,
        report.rows_copied as f64 / seconds.max(0.001)
    );
    match (&report.binlog_start, report.binlog_recorded_now) {
        (Some(start), true) => println!(
            "M1 binlog position recorded for --source=binlog: {}:{} (GTID {})",
            start.file,
            start.position,
            if start.gtid.is_empty() {
                "none"
            } else {
                &start.gtid
            }
        ),
        (Some(start), false) => println!(
            "M1 binlog position kept from the first run: {}:{}",
            start.file, start.position
        ),
        (None, _) => println!("M1 binary logging is off: no binlog position recorded"),
    }
    if !report.skipped_steps.is_empty() {
        println!("left to the DMT: {}", report.skipped_steps.join(", "));
    }
    Ok(0)
}

fn migrate_delta(
    setup: &Setup,
    options: &crate::migrate_delta::DeltaOptions,
    report_json: Option<&std::path::Path>,
    metrics_addr: Option<&str>,
) -> Result<i32> {
    use crate::migrate_delta::{run, Stop};
    let runtime = runtime()?;
    runtime.block_on(async {
        if let (Some(addr), Some(metrics)) = (metrics_addr, &options.metrics) {
            let bound = crate::metrics::serve(addr, metrics.clone()).await?;
            eprintln!("metrics: http://{bound}/metrics");
        }
        let stop = std::sync::Arc::new(Stop::default());
        let signals = stop.clone();
        // First SIGINT/SIGTERM: stop taking work, finish and acknowledge what is in flight.
        // Second: exit at once; still safe, since nothing is acknowledged before M2 commits.
        tokio::spawn(async move {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            let mut first = true;
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                if first {
                    eprintln!("stopping: finishing the changes in flight (press CTRL+C again to stop at once)");
                    signals.request();
                    first = false;
                } else {
                    std::process::exit(130);
                }
            }
        });
        if !options.once {
            eprintln!(
                "migrate:delta: following the {}; CTRL+C stops",
                if options.binlog.is_some() { "binlog" } else { "deltalog" }
            );
        }
        let mut report_file = match report_json {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| Error::Usage(format!("--report-json {}: {e}", path.display())))?,
            ),
            None => None,
        };
        let report = run(setup, options, stop, |cycle| {
            if let Some(file) = report_file.as_mut() {
                if let Err(e) = writeln!(file, "{}", cycle.to_json()) {
                    tracing::warn!("--report-json: {e}");
                }
            }
            let tables: Vec<String> = cycle
                .tables
                .iter()
                .map(|(t, a)| format!("{t} +{} -{}", a.upserted, a.deleted))
                .collect();
            match &cycle.binlog {
                Some(b) => println!(
                    "cycle {}: {} keys in {:.2} s ({:.0}/s), binlog at {}: {}",
                    cycle.number,
                    cycle.keys,
                    cycle.seconds,
                    cycle.keys as f64 / cycle.seconds.max(0.001),
                    b.position,
                    tables.join(", ")
                ),
                None => println!(
                    "cycle {}: {} keys in {:.2} s ({:.0}/s), backlog {}: {}",
                    cycle.number,
                    cycle.keys,
                    cycle.seconds,
                    cycle.keys as f64 / cycle.seconds.max(0.001),
                    cycle.backlog,
                    tables.join(", ")
                ),
            }
        })
        .await?;
        println!(
            "migrate:delta: {} rows upserted, {} deleted in {} cycles, {:.1} s",
            report.upserted,
            report.deleted,
            report.cycles,
            report.elapsed.as_secs_f64()
        );
        if !report.skipped_steps.is_empty() {
            println!("left to the DMT: {}", report.skipped_steps.join(", "));
        }
        if let Some(position) = &report.binlog_position {
            println!("binlog: applied up to {position}");
        }
        if let Some(check) = &report.cross_check {
            if check.is_clean() {
                println!("cross-check: every binlog change had its deltalog row, and every deltalog row its change");
            } else {
                for line in check.lines() {
                    println!("{line}");
                }
                for example in &check.examples {
                    println!("  {example}");
                }
            }
            if let Some(file) = report_file.as_mut() {
                let _ = writeln!(file, "{{\"cross_check\":{}}}", check.to_json());
            }
        }
        if report.quarantined > 0 {
            println!(
                "{} keys were quarantined with their errors in mage_migrate_quarantine (Magento 2); fix them in Magento 1 and they follow with their next change",
                report.quarantined
            );
            return Ok(1);
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::pace_line;

    #[test]
    fn the_pace_line_estimates_the_catch_up_from_the_runs_rate() {
        assert_eq!(
            pace_line(2.04, 500, 0.25, 4000, 2.0, 3000),
            "deltalog source: the last cycle, 2.0 s ago, applied 500 keys in 0.25 s; 3000 rows pending now: about 1.5 s to catch up at its pace of 2000 keys/s"
        );
        assert_eq!(
            pace_line(0.5, 0, 0.0, 0, 0.0, 0),
            "deltalog source: the last cycle, 0.5 s ago, found nothing pending; nothing pending now"
        );
        assert_eq!(
            pace_line(1.0, 0, 0.0, 0, 0.0, 7),
            "deltalog source: the last cycle, 1.0 s ago, found nothing pending; 7 rows pending now"
        );
    }
}
