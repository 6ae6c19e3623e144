//! `migrate:delta`: keeps M2 caught up with every change recorded in the M1 deltalog, cycle
//! after cycle, until stopped (or, with `--once`, until what was pending is applied).
//!
//! Each cycle runs the delta steps of config.xml in order; for each, every table of its deltalog
//! group is read in key order, its pending keys claimed and routed to the workers; the step
//! waits until its keys are acknowledged before the next step starts (a later step may read
//! what an earlier one wrote, as OrderGrids reads Map's orders). Then done rows are purged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::Pool;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;

use crate::db::{self};

pub mod binlog;
mod checks;
pub(crate) use checks::{DERIVATIONS, LAST_CYCLE};
mod claims;
mod plan;

use crate::error::{Error, Result, Side};
use crate::migrate_data::check_steps;
use crate::pipeline::apply::Applied;
use crate::pipeline::workers::{self, InFlight, Stats, WorkerOptions};
use crate::setup::Setup;
use checks::{after_drain, ensure_derivations, run_derivations, volume_check};
use claims::{claim_table, wait_drained, StepBudget};
use plan::plan;

#[derive(Debug, Clone)]
pub struct DeltaOptions {
    /// Forget the delta state: every row still in the deltalog becomes pending again.
    pub reset: bool,
    pub skip_steps: Vec<String>,
    /// Apply what is pending, then exit.
    pub once: bool,
    /// Wait between cycles that found nothing to do.
    pub poll_interval: Duration,
    /// Keys claimed per deltalog page.
    pub page_rows: usize,
    /// Quarantine keys that fail with a definite error and go on (exit 1 at the end).
    pub skip_errors: bool,
    /// Keys one step claims in one cycle, at most: what a cycle keeps in memory (deleted
    /// parents waiting for their orphan sweep, counters) stays bounded whatever the backlog; the
    /// rest follows in the next cycle, at once.
    pub max_keys_per_step: u64,
    pub workers: WorkerOptions,
    /// `--source binlog`: follow the binlog instead of polling the deltalog.
    pub binlog: Option<binlog::BinlogOptions>,
    /// `--metrics-addr`: what the run updates for the Prometheus endpoint.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Default for DeltaOptions {
    fn default() -> Self {
        DeltaOptions {
            reset: false,
            skip_steps: Vec::new(),
            once: false,
            poll_interval: Duration::from_millis(500),
            page_rows: 5000,
            skip_errors: false,
            max_keys_per_step: 200_000,
            workers: WorkerOptions::default(),
            binlog: None,
            metrics: None,
        }
    }
}

const WORKER_STOPPED: &str = "a delta worker stopped";

/// Tables whose pending keys are claimed at the same time.
const READERS: usize = 4;

/// A graceful stop request: stop claiming, finish and acknowledge what is in flight.
#[derive(Debug, Default)]
pub struct Stop {
    requested: AtomicBool,
    notify: Notify,
}

impl Stop {
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Returns once a stop is requested.
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.requested() {
                return;
            }
            notified.await;
        }
    }

    /// Sleeps for `d`, or less when a stop is requested.
    async fn sleep(&self, d: Duration) {
        let notified = self.notify.notified();
        if self.requested() {
            return;
        }
        let _ = tokio::time::timeout(d, notified).await;
    }
}

/// One cycle, for the progress line.
#[derive(Debug, Clone, Default)]
pub struct Cycle {
    pub number: u64,
    /// (M1 table, what was applied) for the tables that had changes.
    pub tables: Vec<(String, Applied)>,
    pub keys: u64,
    pub seconds: f64,
    /// Keys left pending in the followed tables at the end of the cycle.
    pub backlog: u64,
    /// The binlog source's position and cross-check.
    pub binlog: Option<BinlogCycle>,
}

#[derive(Debug, Clone, Default)]
pub struct BinlogCycle {
    /// Where the stream is: after the last transaction read.
    pub position: String,
    /// Transactions read since the start.
    pub transactions: u64,
    /// The cross-check of this cycle, as a JSON object.
    pub cross_check: String,
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Cycle {
    /// One JSON object, for `--report-json`.
    pub fn to_json(&self) -> String {
        let tables: Vec<String> = self
            .tables
            .iter()
            .map(|(t, a)| {
                format!(
                    "{{\"table\":{},\"upserted\":{},\"deleted\":{}}}",
                    json_string(t),
                    a.upserted,
                    a.deleted
                )
            })
            .collect();
        let binlog = match &self.binlog {
            Some(b) => format!(
                ",\"binlog\":{{\"position\":{},\"transactions\":{},\"cross_check\":{}}}",
                json_string(&b.position),
                b.transactions,
                b.cross_check
            ),
            None => String::new(),
        };
        format!(
            "{{\"cycle\":{},\"keys\":{},\"seconds\":{:.3},\"keys_per_second\":{:.0},\"backlog\":{},\"tables\":[{}]{binlog}}}",
            self.number,
            self.keys,
            self.seconds,
            self.keys as f64 / self.seconds.max(0.001),
            self.backlog,
            tables.join(",")
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct DeltaReport {
    pub cycles: u64,
    pub upserted: u64,
    pub deleted: u64,
    pub elapsed: Duration,
    pub skipped_steps: Vec<String>,
    /// Keys set aside by `--skip-errors` (in `mage_migrate_quarantine`).
    pub quarantined: u64,
    /// What the volume check at the end found, one line a table that differs.
    pub volume: Vec<String>,
    /// Binlog source: where the stream stopped, and what the cross-check found.
    pub binlog_position: Option<String>,
    /// Binlog source: changes routed from row events (the rest came through claims).
    pub binlog_changes: u64,
    pub cross_check: Option<binlog::CrossCheck>,
}

/// Runs the delta until stopped (or drained, with `once`); `on_cycle` sees each cycle that did
/// work.
pub async fn run(
    setup: &Setup,
    options: &DeltaOptions,
    stop: Arc<Stop>,
    mut on_cycle: impl FnMut(&Cycle),
) -> Result<DeltaReport> {
    let started = Instant::now();
    let skipped_steps = check_steps(setup, "delta", &options.skip_steps)?;
    let source = &setup.config.source;
    let destination = &setup.config.destination;
    let (m1_target, m2_target) = (source.describe(), destination.describe());
    let o = &setup.config.options;
    let workers = options.workers.workers.max(1);
    let m1_pool = db::pool(
        Side::M1,
        source,
        &o.init_statements_source(),
        // Claims by explicit key lists under READ COMMITTED take no gap locks that would block
        // the store's own inserts through the triggers.
        &["SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_string()],
        // Readers hold a connection while they wait on a full worker queue: they get their own
        // share, so the workers that drain those queues always find one.
        workers + READERS + 2,
    )?;
    let m2_pool = db::pool(
        Side::M2,
        destination,
        &o.init_statements_destination(),
        &db::m2_write_session(),
        workers + 2,
    )?;
    let result = match &options.binlog {
        Some(b) => {
            binlog::drive(
                setup,
                options,
                b,
                stop,
                &mut on_cycle,
                &m1_pool,
                &m2_pool,
                skipped_steps,
                started,
            )
            .await
        }
        None => {
            drive(
                setup,
                options,
                stop,
                &mut on_cycle,
                &m1_pool,
                &m2_pool,
                skipped_steps,
                started,
            )
            .await
        }
    };
    let _ = m1_pool.disconnect().await;
    let _ = m2_pool.disconnect().await;
    result.map_err(|e| match &e {
        Error::Database { side: Side::M1, .. } => e.with_target(&m1_target),
        _ => e.with_target(&m2_target),
    })
}

type Joined = std::result::Result<Result<()>, tokio::task::JoinError>;

/// A worker that ended while the run needed it, as the error to report.
fn worker_exit(joined: Joined) -> Error {
    match joined {
        Ok(Err(e)) => e,
        Ok(Ok(())) => Error::Usage(WORKER_STOPPED.into()),
        Err(e) => Error::Usage(format!("a delta worker failed: {e}")),
    }
}

/// Starts the workers, each behind a bounded queue.
#[allow(clippy::too_many_arguments)]
fn spawn_workers(
    count: usize,
    capacity: usize,
    tables: &Arc<Vec<crate::pipeline::apply::DeltaTable>>,
    m1_pool: &Pool,
    m2_pool: &Pool,
    in_flight: &Arc<InFlight>,
    stats: &Arc<Stats>,
    options: &WorkerOptions,
) -> (Vec<mpsc::Sender<workers::Work>>, JoinSet<Result<()>>) {
    let mut senders = Vec::with_capacity(count);
    let mut running = JoinSet::new();
    for index in 0..count {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        senders.push(tx);
        running.spawn(workers::worker(
            index,
            rx,
            tables.clone(),
            m1_pool.clone(),
            m2_pool.clone(),
            in_flight.clone(),
            stats.clone(),
            options.clone(),
        ));
    }
    (senders, running)
}

/// Waits for every worker to end (their queues closed); the first error wins, and a worker's
/// own error over "a worker stopped", which only says that it did.
async fn join_workers(running: &mut JoinSet<Result<()>>, first_error: Option<Error>) -> Result<()> {
    let mut first_error = first_error;
    while let Some(joined) = running.join_next().await {
        let result =
            joined.unwrap_or_else(|e| Err(Error::Usage(format!("a delta worker failed: {e}"))));
        let stopped = matches!(&first_error, Some(Error::Usage(m)) if m == WORKER_STOPPED);
        if let (Err(e), true) = (result, first_error.is_none() || stopped) {
            first_error = Some(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// One follower per Magento 1 database: a second one's start-up release of in-flight rows,
/// and its claims, would race the first and lose updates. The lock lives as long as this
/// session, so a crash frees it.
async fn take_lock(m1: &mut mysql_async::Conn) -> Result<()> {
    use mysql_async::prelude::Queryable;
    let locked: Option<Option<u8>> = m1
        // Up to 2 s: a run that has just ended may still be closing its session on the server.
        .query_first("SELECT GET_LOCK(CONCAT('mage_migrate_delta:', LEFT(DATABASE(), 40)), 2)")
        .await
        .map_err(|e| Error::db(Side::M1, e, "taking the delta lock"))?;
    if locked.flatten() != Some(1) {
        return Err(Error::Usage(
            "another mage-migrate migrate:delta follows this Magento 1 database; stop it first (two would race each other and lose updates)".into(),
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    setup: &Setup,
    options: &DeltaOptions,
    stop: Arc<Stop>,
    on_cycle: &mut impl FnMut(&Cycle),
    m1_pool: &Pool,
    m2_pool: &Pool,
    skipped_steps: Vec<String>,
    started: Instant,
) -> Result<DeltaReport> {
    let mut m1 = m1_pool
        .get_conn()
        .await
        .map_err(|e| Error::db(Side::M1, e, "connect"))?;
    let mut m2 = m2_pool
        .get_conn()
        .await
        .map_err(|e| Error::db(Side::M2, e, "connect"))?;
    take_lock(&mut m1).await?;
    let plan = plan(setup, options, &mut m1, &mut m2).await?;
    for table in &plan.tables {
        if options.reset {
            let n = table.reader.make_all_pending(&mut m1).await?;
            if n > 0 {
                tracing::info!(
                    "{}: {n} rows pending again (-r)",
                    table.reader.tracked.deltalog
                );
            }
        } else {
            let n = table.reader.release_in_flight(&mut m1).await?;
            if n > 0 {
                tracing::info!(
                    "{}: {n} rows left in flight by an earlier run are pending again",
                    table.reader.tracked.deltalog
                );
            }
        }
    }

    let mut worker_options = options.workers.clone();
    worker_options.metrics = options.metrics.clone();
    let derivations = crate::db::quote_ident(&format!(
        "{}{DERIVATIONS}",
        setup.config.options.dest_prefix()
    ));
    let deriving = plan.tables.iter().any(|t| !t.derived_by.is_empty());
    if deriving {
        ensure_derivations(&mut m2, &derivations).await?;
        worker_options.derivations_table = Some(derivations.clone());
        // What a crash left to derive.
        run_derivations(&mut m1, &mut m2, &plan.logic, &derivations).await?;
    }
    let last_cycle = crate::db::quote_ident(&format!(
        "{}{LAST_CYCLE}",
        setup.config.options.dest_prefix()
    ));
    checks::ensure_last_cycle(&mut m2, &last_cycle).await?;
    // Keys and time spent applying them over this run, for the pace `deltalog status` quotes.
    let (mut run_keys, mut run_seconds) = (0u64, 0f64);
    let mut last_recorded = Instant::now();
    if options.skip_errors {
        let dest_prefix = setup.config.options.dest_prefix();
        worker_options.quarantine = Some(Arc::new(
            crate::pipeline::workers::Quarantine::open(m2_pool, &dest_prefix).await?,
        ));
    }
    let tables = Arc::new(plan.tables);
    let in_flight = Arc::new(InFlight::default());
    let stats = Arc::new(Stats::default());
    let worker_count = options.workers.workers.max(1);
    let (senders, mut running) = spawn_workers(
        worker_count,
        options.workers.channel_capacity,
        &tables,
        m1_pool,
        m2_pool,
        &in_flight,
        &stats,
        &worker_options,
    );

    let mut report = DeltaReport {
        skipped_steps,
        ..DeltaReport::default()
    };
    let outcome: Result<()> = async {
        // Under a steady stream of changes, --once still ends: each cycle takes only what is
        // pending when it reads a page, and what arrives meanwhile is small.
        let max_once_cycles = 100;
        let mut drained_cycles = 0;
        loop {
            report.cycles += 1;
            let cycle_started = Instant::now();
            let mut claimed = 0u64;
            let mut exhausted = false;
            for (title, indexes) in &plan.steps {
                let claiming = Instant::now();
                // A reader per table, at most READERS at once, each on its own connection.
                let permits = Arc::new(tokio::sync::Semaphore::new(READERS));
                let budget = Arc::new(StepBudget::new(options.max_keys_per_step));
                let mut readers = JoinSet::new();
                for &index in indexes {
                    let (tables, in_flight, senders) = (tables.clone(), in_flight.clone(), senders.clone());
                    let (options, stop, permits, pool) = (options.clone(), stop.clone(), permits.clone(), m1_pool.clone());
                    let budget = budget.clone();
                    readers.spawn(async move {
                        let _permit = permits
                            .acquire_owned()
                            .await
                            .map_err(|_| Error::Usage("claims cancelled".into()))?;
                        let mut conn = pool
                            .get_conn()
                            .await
                            .map_err(|e| Error::db(Side::M1, e, "connect"))?;
claim_table(&mut conn, &tables, index, &in_flight, &senders, &options, &stop, &budget).await
                    });
                }
                // Readers may wait on full queues: watch the workers meanwhile, so a failed
                // worker ends the wait with its error instead of a hang.
                loop {
                    tokio::select! {
                        joined = readers.join_next() => match joined {
                            None => break,
                            Some(Ok(Ok(n))) => claimed += n,
                            Some(Ok(Err(e))) => return Err(e),
                            Some(Err(e)) => return Err(Error::Usage(format!("a delta reader failed: {e}"))),
                        },
                        Some(joined) = running.join_next() => {
                            return Err(worker_exit(joined));
                        }
                    }
                }
                exhausted |= budget.spent();
                let claims_took = claiming.elapsed().as_secs_f64();
                wait_drained(&in_flight, &mut running).await?;
                after_drain(
                    &mut m1,
                    &mut m2,
                    m2_pool,
                    &tables,
                    &stats,
                    true,
                    deriving.then_some((plan.logic.as_slice(), derivations.as_str())),
                    options.workers.attempts,
                )
                .await?;
                tracing::debug!(
                    "{title}: claims took {claims_took:.3} s, all applied after {:.3} s",
                    claiming.elapsed().as_secs_f64()
                );
            }
            let purging = Instant::now();
            for reader in &plan.purge {
                reader.purge(&mut m1).await?;
            }
            tracing::debug!("purge took {:.3} s", purging.elapsed().as_secs_f64());
            if claimed > 0 {
                let applied = stats.take();
                let mut cycle = Cycle {
                    number: report.cycles,
                    keys: claimed,
                    seconds: cycle_started.elapsed().as_secs_f64(),
                    ..Cycle::default()
                };
                for (index, a) in applied {
                    report.upserted += a.upserted;
                    report.deleted += a.deleted;
                    cycle
                        .tables
                        .push((tables[index].reader.tracked.table.clone(), a));
                }
                cycle.tables.sort_by(|a, b| a.0.cmp(&b.0));
                for table in tables.iter() {
                    let n = table.reader.backlog(&mut m1).await?;
                    cycle.backlog += n;
                    if let Some(m) = &options.metrics {
                        m.backlog(&table.reader.tracked.table, n);
                    }
                }
                if let Some(m) = &options.metrics {
                    m.cycles.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    for (t, a) in &cycle.tables {
                        m.applied(t, a.upserted, a.deleted);
                    }
                }
                run_keys += cycle.keys;
                run_seconds += cycle.seconds;
                checks::record_cycle(
                    &mut m2,
                    &last_cycle,
                    cycle.keys,
                    cycle.seconds,
                    run_keys,
                    run_seconds,
                    cycle.backlog,
                )
                .await?;
                last_recorded = Instant::now();
                on_cycle(&cycle);
            } else if last_recorded.elapsed() >= Duration::from_secs(5) {
                // Idle: say so now and then, so a status shows the follower is alive.
                checks::record_cycle(&mut m2, &last_cycle, 0, 0.0, run_keys, run_seconds, 0)
                    .await?;
                last_recorded = Instant::now();
            }
            if stop.requested() {
                return Ok(());
            }
            if options.once {
                // Cycles cut short by the per-step budget do not count towards the cap.
                if !exhausted {
                    drained_cycles += 1;
                }
                if (claimed == 0 && !exhausted) || drained_cycles >= max_once_cycles {
                    return Ok(());
                }
                continue;
            }
            if claimed == 0 {
                stop.sleep(options.poll_interval).await;
            }
        }
    }
    .await;
    drop(senders);
    join_workers(&mut running, outcome.err()).await?;
    report.volume = volume_check(&mut m1, &mut m2, &tables, options.once).await?;
    for logic in &plan.logic {
        report.volume.extend(logic.volume(&mut m1, &mut m2).await?);
    }
    for warning in &report.volume {
        tracing::warn!("{warning}");
    }
    report.elapsed = started.elapsed();
    report.quarantined = worker_options.quarantine.as_ref().map_or(0, |q| q.count());
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_json() {
        let cycle = Cycle {
            number: 3,
            tables: vec![(
                "sales_flat_order".into(),
                Applied {
                    upserted: 5,
                    deleted: 1,
                },
            )],
            keys: 6,
            seconds: 0.5,
            backlog: 2,
            binlog: None,
        };
        assert_eq!(
            cycle.to_json(),
            r#"{"cycle":3,"keys":6,"seconds":0.500,"keys_per_second":12,"backlog":2,"tables":[{"table":"sales_flat_order","upserted":5,"deleted":1}]}"#
        );
        assert_eq!(json_string("a\"b\\c\n"), r#""a\"b\\c\u000a""#);
    }
}
