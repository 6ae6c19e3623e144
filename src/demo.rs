//! `mage-migrate demo`: a whole migration on an embedded sandbox database. Starts a private
//! MariaDB, loads the Magento 1 / Magento 2 fixture schemas, generates a store, then runs what
//! this version has built: deltalog install, migrate:data, migrate:delta following a live
//! storefront, and the final catch-up of a cutover. Everything runs in a directory of its own
//! and stops with the command.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::deltalog::{self, InstallOptions};
use crate::error::{Error, Result, Side};
use crate::migrate_data::{self, DataOptions};
use crate::migrate_delta::{self, DeltaOptions, Stop};
use crate::sandbox::{self, Server, ServerOptions};
use crate::setup::Setup;
use crate::storefront::{seed_store, StoreProfile, Workload};

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
}

fn sandbox_error(e: impl std::fmt::Display) -> Error {
    Error::Usage(format!("demo sandbox: {e}"))
}

fn db_error(side: Side, e: mysql_async::Error) -> Error {
    Error::db(side, e, "sandbox database").with_target("sandbox")
}

pub async fn run() -> Result<i32> {
    let dir = std::env::temp_dir().join(format!("mage-migrate-demo-{}", std::process::id()));
    say(format!("Starting a private MariaDB in {} …", dir.display()));
    let server = Server::start(&dir, &ServerOptions::default()).map_err(sandbox_error)?;
    let result = demo(&server, &dir).await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn demo(server: &Server, dir: &Path) -> Result<i32> {
    sandbox::create_store_databases(server)
        .await
        .map_err(|e| db_error(Side::M1, e))?;
    let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;

    let started = Instant::now();
    let profile = StoreProfile::small();
    let summary = seed_store(&mut m1, &profile)
        .await
        .map_err(|e| db_error(Side::M1, e))?;
    say(format!(
        "Magento 1 store generated: {} customers, {} orders, {} rows in {} tables ({:.1} s)",
        summary.rows("customer_entity"),
        summary.rows("sales_flat_order"),
        summary.total(),
        summary.rows.len(),
        started.elapsed().as_secs_f64()
    ));

    let config = sandbox::write_dmt_tree(&dir.join("dmt"), server).map_err(sandbox_error)?;
    say(format!("DMT configuration: {}", config.display()));
    // The stock deltalog.xml tracks no invoice or credit memo comments: a comment added
    // after migrate:data would never reach Magento 2, with the DMT or with us. Two lines close it.
    let deltalog_xml = dir.join("dmt/etc/opensource-to-opensource/deltalog.xml.dist");
    let text = std::fs::read_to_string(&deltalog_xml).map_err(sandbox_error)?;
    let text = text.replacen(
        "    <group name=\"delta_map\">\n",
        "    <group name=\"delta_map\">\n        <document key=\"entity_id\">sales_flat_invoice_comment</document>\n        <document key=\"entity_id\">sales_flat_creditmemo_comment</document>\n",
        1,
    );
    std::fs::write(&deltalog_xml, text).map_err(sandbox_error)?;
    say("  deltalog.xml: the stock file plus sales_flat_invoice_comment and sales_flat_creditmemo_comment, which the DMT's own list leaves untracked (add them to yours)");
    let setup = Setup::load(&config)?;

    let install = deltalog::install(&mut m1, &setup, &InstallOptions::default()).await?;
    say(format!(
        "deltalog install: {} of {} deltalog.xml tables are in Magento 1; {} m2_cl_* tables and {} triggers created",
        install.installed,
        install.expected,
        install.count(deltalog::install::Change::CreateTable),
        install.count(deltalog::install::Change::CreateTrigger)
    ));

    let skip = migrate_data::unbuilt_steps(&setup, "data");
    let report = migrate_data::run(
        &setup,
        &DataOptions {
            skip_steps: skip.clone(),
            ..DataOptions::default()
        },
    )
    .await?;
    say(format!(
        "migrate:data (Map, Customer, Log, OrderGrids, SalesIncrement steps): {} rows of {} tables copied in {:.1} s ({:.0} rows/s); binlog position {}",
        report.rows_copied,
        report.tables.len(),
        report.elapsed.as_secs_f64(),
        report.rows_copied as f64 / report.elapsed.as_secs_f64().max(0.001),
        report
            .binlog_start
            .as_ref()
            .map(|b| format!("{}:{}", b.file, b.position))
            .unwrap_or_else(|| "not recorded".into())
    ));
    say(format!(
        "  left to the DMT in this version: {}",
        skip.join(", ")
    ));

    let mut workload = Workload::new(profile.seed ^ 0x5eed);
    workload
        .load_state(&mut m1)
        .await
        .map_err(|e| db_error(Side::M1, e))?;
    let started = Instant::now();
    let counts = workload
        .run(&mut m1, 1_000)
        .await
        .map_err(|e| db_error(Side::M1, e))?;
    let actions: u64 = counts.values().sum();
    say(format!(
        "The store stays open: {actions} storefront actions in {:.1} s (orders, registrations, invoices, reviews, deletes …)",
        started.elapsed().as_secs_f64()
    ));
    let status = deltalog::status(&mut m1, &setup).await?;
    let mut busiest: Vec<_> = status.iter().filter(|s| s.pending > 0).collect();
    busiest.sort_by_key(|s| std::cmp::Reverse(s.pending));
    let pending: u64 = status.iter().map(|s| s.pending).sum();
    say(format!(
        "The triggers recorded {pending} changed keys in {} deltalog tables, e.g. {}",
        busiest.len(),
        busiest
            .iter()
            .take(4)
            .map(|s| format!("{} {}", s.deltalog, s.pending))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    // migrate:delta follows while the store keeps selling…
    let delta_options = DeltaOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
        poll_interval: std::time::Duration::from_millis(100),
        ..DeltaOptions::default()
    };
    let stop = Arc::new(Stop::default());
    let follower = {
        let (setup, options, stop) = (setup.clone(), delta_options.clone(), stop.clone());
        tokio::spawn(async move {
            migrate_delta::run(&setup, &options, stop, |cycle| {
                say(format!(
                    "  migrate:delta cycle {}: {} keys applied in {:.2} s, backlog {}",
                    cycle.number, cycle.keys, cycle.seconds, cycle.backlog
                ))
            })
            .await
        })
    };
    let started = Instant::now();
    let counts = workload
        .run(&mut m1, 1_000)
        .await
        .map_err(|e| db_error(Side::M1, e))?;
    say(format!(
        "migrate:delta followed {} more storefront actions made meanwhile ({:.1} s); stopping it gracefully",
        counts.values().sum::<u64>(),
        started.elapsed().as_secs_f64()
    ));
    stop.request();
    let followed = follower
        .await
        .map_err(|e| Error::Usage(format!("demo: the delta task failed: {e}")))??;
    // …then the cutover: the store is frozen and one last catch-up runs.
    let started = Instant::now();
    let last = migrate_delta::run(
        &setup,
        &DeltaOptions {
            once: true,
            ..delta_options.clone()
        },
        Arc::new(Stop::default()),
        |_| {},
    )
    .await?;
    let catch_up = started.elapsed().as_secs_f64();
    say(format!(
        "Cutover: with the store frozen, the final catch-up applied {} changes in {catch_up:.2} s (while live: {} upserts, {} deletes).",
        last.upserted + last.deleted,
        followed.upserted,
        followed.deleted
    ));
    let (verified, deltalog_equal) = verify_summary(&setup).await?;
    say(format!(
        "verify (M1 through the map and the steps against M2): {verified}"
    ));

    // The same store, followed from its binlog instead.
    let started = Instant::now();
    let counts = workload
        .run(&mut m1, 500)
        .await
        .map_err(|e| db_error(Side::M1, e))?;
    say(format!(
        "The store reopens for {} more actions; this time migrate:delta --source binlog catches up, from the binlog position migrate:data recorded ({:.1} s of storefront)",
        counts.values().sum::<u64>(),
        started.elapsed().as_secs_f64()
    ));
    let started = Instant::now();
    let binlog = migrate_delta::run(
        &setup,
        &DeltaOptions {
            once: true,
            binlog: Some(crate::migrate_delta::binlog::BinlogOptions {
                start: None,
                server_id: crate::precheck::default_server_id(
                    &setup.config.source.host,
                    setup.config.source.port.unwrap_or(3306),
                    &setup.config.source.name,
                ),
                heartbeat: std::time::Duration::from_secs(2),
            }),
            ..delta_options
        },
        Arc::new(Stop::default()),
        |_| {},
    )
    .await?;
    let binlog_seconds = started.elapsed().as_secs_f64();
    let check = binlog
        .cross_check
        .as_ref()
        .map_or("no cross-check".to_string(), |c| {
            if c.is_clean() {
                "every change had its deltalog row and every deltalog row its change".to_string()
            } else {
                c.lines()
                    .iter()
                    .map(|l| l.trim_start_matches("cross-check: ").to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        });
    say(format!(
        "--source binlog: {} row changes read from the binlog, {} upserts and {} deletes in {:.2} s, up to {}; cross-check: {check}",
        binlog.binlog_changes,
        binlog.upserted,
        binlog.deleted,
        started.elapsed().as_secs_f64(),
        binlog.binlog_position.as_deref().unwrap_or("?")
    ));
    let (verified, binlog_equal) = verify_summary(&setup).await?;
    say(format!("verify after the binlog catch-up: {verified}"));
    let rows_per_second = report.rows_copied as f64 / report.elapsed.as_secs_f64().max(0.001);
    say("");
    say("Summary");
    say(format!(
        "  migrate:data          {} rows in {:.1} s ({rows_per_second:.0} rows/s)",
        report.rows_copied,
        report.elapsed.as_secs_f64()
    ));
    say(format!(
        "  delta, deltalog       {} rows upserted, {} deleted while the store sold; frozen store caught up in {catch_up:.2} s; verify: {}",
        followed.upserted + last.upserted,
        followed.deleted + last.deleted,
        if deltalog_equal { "M2 equal to M1" } else { "DIFFERENCES (above)" }
    ));
    say(format!(
        "  delta, binlog         {} row changes read, caught up in {binlog_seconds:.2} s; verify: {}",
        binlog.binlog_changes,
        if binlog_equal { "M2 equal to M1" } else { "DIFFERENCES (above)" }
    ));
    Ok(if deltalog_equal && binlog_equal { 0 } else { 1 })
}

/// One line: how many tables verify found equal, and which differ; and whether all are equal.
async fn verify_summary(setup: &Setup) -> Result<(String, bool)> {
    let report = crate::verify::run(
        setup,
        &crate::verify::VerifyOptions {
            recheck_after: std::time::Duration::from_millis(200),
            ..crate::verify::VerifyOptions::default()
        },
    )
    .await?;
    // The first line of each differing table: its counts (keys are in `verify`'s own output).
    let differ: Vec<String> = report
        .tables
        .iter()
        .filter(|t| !t.is_equal())
        // The counts, then the first keys with their columns, as `verify` prints them.
        .flat_map(|t| t.lines().into_iter().take(4))
        .map(|l| l.trim_start_matches("DIFF").trim().to_string())
        .collect();
    let equal = report.tables.iter().filter(|t| t.is_equal()).count();
    let all_equal = differ.is_empty();
    Ok((
        if differ.is_empty() {
            format!("all {equal} tables equal")
        } else {
            format!(
                "{equal} tables equal; differing:\n    {}",
                differ.join("\n    ")
            )
        },
        all_equal,
    ))
}
