//! Claiming: a reader per table takes pending keys page by page, within the step's budget, and
//! routes them to the workers; then the step waits until they are acknowledged.

use std::sync::Arc;
use std::time::Duration;

use mysql_async::{Conn, Value};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{DeltaOptions, Stop, WORKER_STOPPED};
use crate::error::{Error, Result};
use crate::pipeline::apply::DeltaTable;
use crate::pipeline::workers::{self, InFlight, Work};

/// The keys one step may still claim in this cycle, shared by its readers. A reader asks before
/// each page and is charged what it claimed, so readers running at once may overshoot by at most
/// a page each; an unused page costs nothing.
pub(super) struct StepBudget {
    left: std::sync::atomic::AtomicU64,
}

impl StepBudget {
    pub(super) fn new(keys: u64) -> Self {
        StepBudget {
            left: std::sync::atomic::AtomicU64::new(keys.max(1)),
        }
    }

    /// Whether another page may be read.
    fn open(&self) -> bool {
        self.left.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    fn charge(&self, keys: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        let _ = self
            .left
            .fetch_update(SeqCst, SeqCst, |left| Some(left.saturating_sub(keys)));
    }

    /// Spent: keys this cycle did not look at may be pending.
    pub(super) fn spent(&self) -> bool {
        !self.open()
    }
}

/// Claims every pending key of one table, page by page, and routes them to the workers.
#[allow(clippy::too_many_arguments)]
pub(super) async fn claim_table(
    m1: &mut Conn,
    tables: &Arc<Vec<DeltaTable>>,
    index: usize,
    in_flight: &InFlight,
    senders: &[mpsc::Sender<Work>],
    options: &DeltaOptions,
    stop: &Stop,
    budget: &StepBudget,
) -> Result<u64> {
    let table = &tables[index];
    let mut after: Option<Vec<Value>> = None;
    let mut claimed = 0u64;
    loop {
        if stop.requested() {
            return Ok(claimed);
        }
        if !budget.open() {
            return Ok(claimed);
        }
        let granted = options.page_rows;
        let page = table
            .reader
            .pending_page(m1, after.as_deref(), granted)
            .await?;
        let Some(last) = page.last().cloned() else {
            return Ok(claimed);
        };
        let full = page.len() == granted;
        // A key still in flight is claimed once its first claim is acknowledged.
        let keys: Vec<Vec<Value>> = page
            .into_iter()
            .filter(|k| !in_flight.contains(index, k))
            .collect();
        if !keys.is_empty() {
            // A store transaction can hold a deltalog row through its trigger: wait and retry
            // rather than stop the follower.
            let mut attempt = 1;
            loop {
                match table.reader.claim(m1, &keys).await {
                    Err(e) if e.is_transient() && attempt < options.workers.attempts => {
                        tracing::warn!("{e}; retrying the claim (attempt {attempt})");
                        tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                        attempt += 1;
                    }
                    other => break other?,
                }
            }
            let mut per_worker: Vec<Vec<Vec<Value>>> = vec![Vec::new(); senders.len()];
            for key in keys {
                in_flight.insert(index, &key);
                per_worker[workers::route(table, &key, senders.len())].push(key);
                claimed += 1;
            }
            budget.charge(per_worker.iter().map(|k| k.len() as u64).sum());
            for (worker, keys) in per_worker.into_iter().enumerate() {
                if keys.is_empty() {
                    continue;
                }
                // A full channel makes this wait: backpressure from M2 to the claims.
                if senders[worker]
                    .send(Work {
                        table: index,
                        keys,
                        ..Work::default()
                    })
                    .await
                    .is_err()
                {
                    return Err(Error::Usage(WORKER_STOPPED.into()));
                }
            }
        }
        if !full {
            return Ok(claimed);
        }
        after = Some(last);
    }
}

/// Waits until every claimed key is acknowledged; a worker that fails meanwhile ends the wait
/// with its error.
pub(super) async fn wait_drained(
    in_flight: &InFlight,
    running: &mut JoinSet<Result<()>>,
) -> Result<()> {
    while !in_flight.is_empty() {
        tokio::select! {
            _ = in_flight.drained(Duration::from_millis(200)) => {}
            Some(joined) = running.join_next() => {
                return Err(super::worker_exit(joined));
            }
        }
    }
    Ok(())
}
