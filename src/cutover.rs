//! `mage-migrate cutover CONFIG`: for the moment the store is frozen. Checks that Magento 1 has
//! stopped changing, runs the last catch-up, checks nothing is left pending, runs `verify`, and
//! says GO or NO-GO with the reasons, then what is left to the operator.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Result, Side};
use crate::migrate_delta::{self, DeltaOptions, Stop};
use crate::setup::Setup;

#[derive(Debug, Clone)]
pub struct CutoverOptions {
    /// How long Magento 1 must stay unchanged.
    pub quiet: Duration,
    /// The catch-up's options (source, skipped steps …); `once` is forced.
    pub delta: DeltaOptions,
}

/// What the cutover found.
#[derive(Debug, Clone, Default)]
pub struct CutoverReport {
    /// Reasons for a NO-GO; empty: GO.
    pub problems: Vec<String>,
    /// What happened, line by line.
    pub log: Vec<String>,
}

impl CutoverReport {
    pub fn go(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What shows Magento 1 changing: the binlog position where it can be read, else the deltalog's
/// pending rows (a change to a key already pending does not show there: said in the report).
async fn m1_mark(m1: &mut mysql_async::Conn, setup: &Setup) -> Result<(String, bool)> {
    if let Ok(position) = crate::source::binlog::stream::current_position(m1).await {
        return Ok((position.to_string(), true));
    }
    let rows = crate::deltalog::status(m1, setup).await?;
    let pending: u64 = rows.iter().map(|r| r.pending + r.in_flight).sum();
    Ok((format!("{pending} deltalog rows pending"), false))
}

pub async fn run(setup: &Setup, options: &CutoverOptions) -> Result<CutoverReport> {
    let mut report = CutoverReport::default();
    let mut m1 = crate::db::connect(
        Side::M1,
        &setup.config.source,
        &setup.config.options.init_statements_source(),
    )
    .await?;
    // 1. Frozen?
    let (before, exact) = m1_mark(&mut m1, setup).await?;
    tokio::time::sleep(options.quiet).await;
    let (after, _) = m1_mark(&mut m1, setup).await?;
    let _ = m1.disconnect().await;
    if before != after {
        report.problems.push(format!(
            "Magento 1 is still changing ({before} → {after} in {:.0} s): freeze the store (maintenance mode, cron and queue consumers stopped, admin closed) and run cutover again",
            options.quiet.as_secs_f64()
        ));
        return Ok(report);
    }
    report.log.push(format!(
        "Magento 1 did not change for {:.0} s ({}{after})",
        options.quiet.as_secs_f64(),
        if exact {
            "binlog at "
        } else {
            "by its deltalog only: "
        }
    ));
    // 2. The last catch-up.
    let delta = DeltaOptions {
        once: true,
        ..options.delta.clone()
    };
    let caught = migrate_delta::run(setup, &delta, Arc::new(Stop::default()), |_| {}).await?;
    report.log.push(format!(
        "last catch-up{}: {} upserts, {} deletes in {:.2} s",
        if delta.binlog.is_some() {
            " from the binlog"
        } else {
            ""
        },
        caught.upserted,
        caught.deleted,
        caught.elapsed.as_secs_f64()
    ));
    if caught.quarantined > 0 {
        report.problems.push(format!(
            "{} keys are quarantined (mage_migrate_quarantine in Magento 2): fix them in Magento 1 first",
            caught.quarantined
        ));
    }
    if let Some(check) = &caught.cross_check {
        report.problems.extend(check.lines());
    }
    // 3. Nothing left pending in what the run follows.
    let mut m1 = crate::db::connect(
        Side::M1,
        &setup.config.source,
        &setup.config.options.init_statements_source(),
    )
    .await?;
    let (again, _) = m1_mark(&mut m1, setup).await?;
    let _ = m1.disconnect().await;
    if delta.binlog.is_none() && again != after {
        report
            .log
            .push(format!("deltalog after the catch-up: {again}"));
    }
    // 4. Verify.
    let verified = crate::verify::run(setup, &crate::verify::VerifyOptions::default()).await?;
    let differing: Vec<&crate::verify::TableResult> =
        verified.tables.iter().filter(|t| !t.is_equal()).collect();
    report.log.push(format!(
        "verify: {} tables equal, {} differ",
        verified.tables.len() - differing.len(),
        differing.len()
    ));
    for table in differing {
        // Rows only M2 has are listed, never overwritten: something wrote to M2 meanwhile.
        report.problems.extend(table.lines());
    }
    for line in &verified.not_verified {
        report.log.push(format!("not verified: {line}"));
    }
    Ok(report)
}

/// What is left to the operator after a GO.
pub fn next_steps(config: &std::path::Path) -> Vec<String> {
    let c = config.display();
    vec![
        "in Magento 2: bin/magento indexer:reindex (customer_grid and every grid mage-migrate does not own), then bin/magento cache:flush".into(),
        format!("mage-migrate deltalog remove {c}   (the m2_cl_* tables and triggers in Magento 1)"),
        format!("mage-migrate cleanup {c}   (mage-migrate's own tables in Magento 2)"),
    ]
}
