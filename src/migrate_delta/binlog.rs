//! `migrate:delta --source binlog`: the same workers, fed from the Magento 1 binlog.
//!
//! - Row events of the followed tables become changed keys; for a table mapped 1:1 (no lookup
//!   joins, key = primary key) the after-image is written as it is, else the key's current M1
//!   row is fetched, as on the deltalog path. One key always goes to one worker, in binlog
//!   order.
//! - Each worker stores, with its rows, the position after the last transaction whose rows
//!   routed to it are applied; the run resumes from the lowest (a low-watermark).
//! - The deltalog is kept small and gap-free: a claimer claims pending rows (0 → 2) as the
//!   deltalog source does; the claim itself comes through the binlog after every change it
//!   covers, routed to the key's worker, which acknowledges it once those changes are applied —
//!   without reading M1 when the binlog carried the change, by fetching the row when it did not.
//! - Cross-check: a change with no trigger write in its transaction, on a key not already pending
//!   (a missing or broken trigger), and a trigger write with no change (a table the binlog does
//!   not carry) are counted and reported.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Pool, Value};
use tokio::sync::mpsc;

use super::checks::{after_drain, ensure_derivations, run_derivations, volume_check, DERIVATIONS};
use super::plan::plan;
use super::{
    join_workers, spawn_workers, take_lock, worker_exit, Cycle, DeltaOptions, DeltaReport, Stop,
    WORKER_STOPPED,
};
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;
use crate::pipeline::workers::{self, Change, Drain, InFlight, Stats, Work};
use crate::setup::Setup;
use crate::source::binlog::decode::{Decoded, RowChange, RowKind};
use crate::source::binlog::schema::TableInfo;
use crate::source::binlog::stream::{self, BinlogReader, StreamOptions};
use crate::source::binlog::{Position, StartAt};
use crate::source::deltalog::key_id;

/// The binlog source's settings.
#[derive(Debug, Clone)]
pub struct BinlogOptions {
    /// `--start-position`; else the checkpoint, else the position migrate:data recorded.
    pub start: Option<StartAt>,
    /// Our replica id (`--server-id`).
    pub server_id: u32,
    pub heartbeat: Duration,
}

/// M2 table of the workers' positions.
pub const CHECKPOINT_TABLE: &str = "mage_migrate_binlog_checkpoint";

/// How long a buffered change waits for more before it is sent to its worker.
const LINGER: Duration = Duration::from_millis(10);

/// Keys claimed and waiting for their claim to come through the binlog, at most.
const MAX_CLAIMED: usize = 100_000;

/// What the cross-check found, per M1 table.
#[derive(Debug, Clone, Default)]
pub struct CrossCheck {
    /// Changes with no deltalog row that was not already pending: a missing or broken trigger.
    pub changes_without_deltalog: HashMap<String, u64>,
    /// Deltalog rows with no change in the binlog: a table the binlog does not carry.
    pub deltalog_without_change: HashMap<String, u64>,
    /// A few keys of each, for the report.
    pub examples: Vec<String>,
}

impl CrossCheck {
    pub fn is_clean(&self) -> bool {
        self.changes_without_deltalog.is_empty() && self.deltalog_without_change.is_empty()
    }

    fn note(map: &mut HashMap<String, u64>, examples: &mut Vec<String>, table: &str, what: String) {
        *map.entry(table.to_string()).or_default() += 1;
        if examples.len() < 20 {
            examples.push(what);
        }
    }

    /// One line per table that disagrees.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut a: Vec<_> = self.changes_without_deltalog.iter().collect();
        a.sort();
        for (table, n) in a {
            out.push(format!("cross-check: {n} changes to {table} in the binlog have no deltalog row (is its trigger missing or broken? mage-migrate deltalog status); they were migrated from the binlog"));
        }
        let mut b: Vec<_> = self.deltalog_without_change.iter().collect();
        b.sort();
        for (table, n) in b {
            out.push(format!("cross-check: {n} deltalog rows of {table} have no change in the binlog (an UPDATE that changed nothing fires the trigger but logs no row event; otherwise, does the binlog leave this table out?); they were migrated through the deltalog"));
        }
        out
    }

    fn merge(&mut self, other: &CrossCheck) {
        for (t, n) in &other.changes_without_deltalog {
            *self.changes_without_deltalog.entry(t.clone()).or_default() += n;
        }
        for (t, n) in &other.deltalog_without_change {
            *self.deltalog_without_change.entry(t.clone()).or_default() += n;
        }
        for e in &other.examples {
            if self.examples.len() < 20 {
                self.examples.push(e.clone());
            }
        }
    }

    pub fn to_json(&self) -> String {
        let obj = |m: &HashMap<String, u64>| {
            let mut v: Vec<_> = m.iter().collect();
            v.sort();
            v.iter()
                .map(|(t, n)| format!("{}:{n}", super::json_string(t)))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "{{\"changes_without_deltalog\":{{{}}},\"deltalog_without_change\":{{{}}}}}",
            obj(&self.changes_without_deltalog),
            obj(&self.deltalog_without_change)
        )
    }
}

/// A table layout in the binlog, with the positions of the key columns and of the mapping's
/// select columns (None: the after-image cannot be written as it is).
type Layout = (Arc<TableInfo>, Vec<usize>, Option<Vec<usize>>);

/// Keys and their changes, waiting for the end of their transaction.
type Buffered = HashMap<usize, (Vec<Vec<Value>>, Vec<Change>)>;

/// How one followed M1 table's binlog rows become changed keys.
struct Follow {
    index: usize,
    /// Positions in the binlog row of the deltalog key columns, of the mapping's select
    /// columns (None: the after-image cannot be written as it is), for one table layout.
    layout: Option<Layout>,
    direct: bool,
}

impl Follow {
    fn positions(
        &mut self,
        table: &DeltaTable,
        info: &Arc<TableInfo>,
    ) -> Option<(Vec<usize>, Option<Vec<usize>>)> {
        let fresh = match &self.layout {
            Some((known, _, _)) => !Arc::ptr_eq(known, info),
            None => true,
        };
        if fresh {
            let keys: Option<Vec<usize>> = table.keys().iter().map(|k| info.position(k)).collect();
            let select: Option<Vec<usize>> = if self.direct {
                table
                    .mapping
                    .select_columns
                    .iter()
                    .map(|c| info.position(c))
                    .collect()
            } else {
                None
            };
            self.layout = Some((info.clone(), keys?, select));
        }
        self.layout.as_ref().map(|(_, k, s)| (k.clone(), s.clone()))
    }
}

/// A deltalog table's columns in the binlog.
struct DeltalogFollow {
    index: usize,
    layout: Option<(Arc<TableInfo>, Vec<usize>, usize)>,
}

/// A deltalog key the binlog has seen written by a trigger since it started.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// The binlog carried a change of the key since the trigger wrote the row.
    covered: bool,
}

/// Reads the binlog and routes what it says; owns the cross-check state.
struct Router<'a> {
    tables: &'a [DeltaTable],
    senders: &'a [mpsc::Sender<Work>],
    data: HashMap<String, Follow>,
    deltalog: HashMap<String, DeltalogFollow>,
    /// Per worker, per table: keys and changes waiting for the end of their transaction.
    buffered: Vec<Buffered>,
    buffered_rows: usize,
    flush_rows: usize,
    /// This transaction's changed keys and trigger writes: (table index, key id).
    tx_changes: HashMap<(usize, String), Vec<Value>>,
    tx_writes: HashSet<(usize, String)>,
    /// Claimed deltalog rows set pending again in this transaction.
    tx_releases: HashSet<(usize, String)>,
    pending: HashMap<(usize, String), Pending>,
    /// Changes whose deltalog row was not seen: settled by the next event on that row.
    suspects: HashMap<(usize, String), (Vec<Value>, String)>,
    check: CrossCheck,
    keys: u64,
    /// Time spent waiting on full worker queues (backpressure), for the debug log.
    send_wait: Duration,
    /// When the oldest change still buffered arrived.
    first_buffered: Option<Instant>,
    /// Changes routed from row events of followed tables (claims not counted).
    changes: u64,
}

impl<'a> Router<'a> {
    fn worker(&self, table: usize, key: &[Value]) -> usize {
        workers::route(&self.tables[table], key, self.senders.len())
    }

    fn push(&mut self, table: usize, key: Vec<Value>, change: Change) {
        if self.buffered_rows == 0 {
            self.first_buffered = Some(Instant::now());
        }
        let worker = self.worker(table, &key);
        let (keys, changes) = self.buffered[worker].entry(table).or_default();
        keys.push(key);
        changes.push(change);
        self.buffered_rows += 1;
        self.keys += 1;
    }

    fn rows(&mut self, changes: Vec<RowChange>) {
        for change in changes {
            let name = change.table.table.clone();
            if let Some(follow) = self.data.get_mut(&name) {
                let index = follow.index;
                let table = &self.tables[index];
                let Some((key_at, select_at)) = follow.positions(table, &change.table) else {
                    continue;
                };
                let key_of = |image: &Option<Vec<Option<Value>>>| -> Option<Vec<Value>> {
                    let image = image.as_ref()?;
                    key_at
                        .iter()
                        .map(|&i| image.get(i).cloned().flatten())
                        .collect()
                };
                let image_of = |image: &Option<Vec<Option<Value>>>| -> Option<Vec<Value>> {
                    let image = image.as_ref()?;
                    select_at
                        .as_ref()?
                        .iter()
                        .map(|&i| image.get(i).cloned().flatten())
                        .collect()
                };
                let direct = change.not_direct.is_none() && !table.partial_key;
                let before = key_of(&change.before);
                let after = key_of(&change.after);
                let row = if direct {
                    image_of(&change.after)
                } else {
                    None
                };
                let mut out = Vec::new();
                match change.kind {
                    RowKind::Delete => {
                        if let Some(key) = before {
                            out.push((
                                key,
                                if table.partial_key {
                                    Change::Fetch
                                } else {
                                    Change::Gone
                                },
                            ));
                        }
                    }
                    RowKind::Insert | RowKind::Update => {
                        if let (Some(old), Some(new)) = (&before, &after) {
                            if key_id(old) != key_id(new) {
                                // The key itself changed: the old key is gone (the deltalog's
                                // triggers log only the new one).
                                out.push((
                                    old.clone(),
                                    if table.partial_key {
                                        Change::Fetch
                                    } else {
                                        Change::Gone
                                    },
                                ));
                            }
                        }
                        if let Some(key) = after {
                            out.push((key, row.map_or(Change::Fetch, Change::Image)));
                        }
                    }
                }
                for (key, change) in out {
                    self.changes += 1;
                    self.tx_changes.insert((index, key_id(&key)), key.clone());
                    self.push(index, key, change);
                }
            } else if let Some(follow) = self.deltalog.get_mut(&name) {
                let index = follow.index;
                let fresh = match &follow.layout {
                    Some((known, _, _)) => !Arc::ptr_eq(known, &change.table),
                    None => true,
                };
                if fresh {
                    let keys: Option<Vec<usize>> = self.tables[index]
                        .keys()
                        .iter()
                        .map(|k| change.table.position(k))
                        .collect();
                    let processed = change.table.position("processed");
                    follow.layout = keys
                        .zip(processed)
                        .map(|(k, p)| (change.table.clone(), k, p));
                }
                let Some((_, key_at, processed_at)) = follow.layout.clone() else {
                    continue;
                };
                let read = |image: &Option<Vec<Option<Value>>>| {
                    let image = image.as_ref()?;
                    let key: Option<Vec<Value>> = key_at
                        .iter()
                        .map(|&i| image.get(i).cloned().flatten())
                        .collect();
                    let processed = match image.get(processed_at).cloned().flatten() {
                        Some(Value::Int(n)) => n,
                        Some(Value::UInt(n)) => n as i64,
                        _ => -1,
                    };
                    Some((key?, processed))
                };
                let before = read(&change.before);
                let after = read(&change.after);
                self.deltalog_row(index, change.kind, before, after);
            }
        }
    }

    fn deltalog_row(
        &mut self,
        index: usize,
        kind: RowKind,
        before: Option<(Vec<Value>, i64)>,
        after: Option<(Vec<Value>, i64)>,
    ) {
        let table_name = self.tables[index].reader.tracked.table.clone();
        // Any event on a row with a before-image shows the row existed: a suspect change on
        // that key was a trigger write that changed nothing, not a missing one.
        if let Some((key, _)) = &before {
            self.suspects.remove(&(index, key_id(key)));
        }
        match (kind, before, after) {
            (RowKind::Update, Some((_, 0)), Some((key, 2))) => {
                // Our claim: acknowledged by the key's worker once what came before is applied.
                let id = key_id(&key);
                let covered = match self.pending.remove(&(index, id.clone())) {
                    Some(p) => {
                        if !p.covered {
                            CrossCheck::note(
                                &mut self.check.deltalog_without_change,
                                &mut self.check.examples,
                                &table_name,
                                format!(
                                    "{table_name} {}: deltalog row, no change in the binlog",
                                    crate::pipeline::write::describe_key(
                                        self.tables[index].keys(),
                                        &key
                                    )
                                ),
                            );
                        }
                        p.covered
                    }
                    // Written before the stream started: what it records may predate it.
                    None => false,
                };
                self.push(index, key, Change::Claimed { covered });
            }
            (RowKind::Delete, Some((key, _)), _) => {
                self.pending.remove(&(index, key_id(&key)));
            }
            (RowKind::Insert, None, Some((key, 0))) => {
                let id = key_id(&key);
                if let Some((_, at)) = self.suspects.remove(&(index, id.clone())) {
                    // The row did not exist when the key changed: that change had no trigger.
                    CrossCheck::note(
                        &mut self.check.changes_without_deltalog,
                        &mut self.check.examples,
                        &table_name,
                        format!(
                            "{table_name} {}: changed at {at} with no deltalog row",
                            crate::pipeline::write::describe_key(self.tables[index].keys(), &key)
                        ),
                    );
                }
                self.tx_writes.insert((index, id));
            }
            (RowKind::Update, Some((_, 2)), Some((key, 0))) => {
                // A claimed row pending again: a trigger (settled with the transaction's
                // changes) or a run handing back what it had in flight, which changes nothing.
                self.tx_releases.insert((index, key_id(&key)));
            }
            (RowKind::Update, _, Some((key, 0))) => {
                self.tx_writes.insert((index, key_id(&key)));
            }
            _ => {}
        }
    }

    /// The end of a transaction: settle the cross-check and send its keys with the position.
    async fn commit(&mut self, position: &Position) -> Result<()> {
        let releases = std::mem::take(&mut self.tx_releases);
        for release in &releases {
            if !self.tx_changes.contains_key(release) {
                // Handed back without a change: whatever it recorded came before and is not
                // this transaction's to check.
                self.pending.remove(release);
            }
        }
        for change in std::mem::take(&mut self.tx_changes) {
            let written = self.tx_writes.contains(&change.0) || releases.contains(&change.0);
            let (change, key) = change;
            match self.pending.get_mut(&change) {
                Some(p) => p.covered = true,
                None if written => {
                    self.pending.insert(change, Pending { covered: true });
                }
                None => {
                    if self.suspects.len() < MAX_CLAIMED {
                        self.suspects.insert(change, (key, position.to_string()));
                    }
                }
            }
        }
        for write in std::mem::take(&mut self.tx_writes) {
            self.pending
                .entry(write)
                .or_insert(Pending { covered: false });
        }
        // Transactions accumulate into larger messages (one M2 transaction per batch is the
        // cost to spread); the buffer goes out when large, or when the stream goes idle.
        if self.buffered_rows >= self.flush_rows {
            self.flush(Some(position)).await?;
        }
        Ok(())
    }

    /// Sends what is buffered; with a position, every worker that gets rows gets it too.
    async fn flush(&mut self, position: Option<&Position>) -> Result<()> {
        for worker in 0..self.senders.len() {
            let buffered = std::mem::take(&mut self.buffered[worker]);
            if buffered.is_empty() && position.is_none() {
                continue;
            }
            // One message per worker: its tables' keys, then the position.
            let mut parts: Vec<Work> = buffered
                .into_iter()
                .map(|(table, (keys, changes))| Work {
                    table,
                    keys,
                    changes,
                    ..Work::default()
                })
                .collect();
            let Some(mut work) = parts.pop() else {
                continue;
            };
            work.others = parts;
            work.checkpoint = position.cloned();
            let waited = Instant::now();
            if self.senders[worker].send(work).await.is_err() {
                return Err(Error::Usage(WORKER_STOPPED.into()));
            }
            self.send_wait += waited.elapsed();
        }
        self.buffered_rows = 0;
        self.first_buffered = None;
        Ok(())
    }

    /// A position for every worker (idle ones too, so the low-watermark moves), and optionally
    /// a countdown that ends when all have applied what they were sent before it.
    async fn markers(
        &mut self,
        position: &Position,
        drain: Option<Arc<Drain>>,
        wait: bool,
    ) -> Result<()> {
        for sender in self.senders {
            let work = Work {
                checkpoint: Some(position.clone()),
                drain: drain.clone(),
                ..Work::default()
            };
            if wait || drain.is_some() {
                if sender.send(work).await.is_err() {
                    return Err(Error::Usage(WORKER_STOPPED.into()));
                }
            } else {
                // A busy worker gets its position with its next rows.
                let _ = sender.try_send(work);
            }
        }
        Ok(())
    }
}

/// Where the stream starts, and the checkpoint rows set to it.
async fn start_position(
    setup: &Setup,
    options: &DeltaOptions,
    binlog: &BinlogOptions,
    m1: &mut Conn,
    m2: &mut Conn,
    checkpoint_table: &str,
) -> Result<stream::From> {
    let m2e = |e, what: &str| Error::db(Side::M2, e, what);
    m2.query_drop(format!(
        "CREATE TABLE IF NOT EXISTS {checkpoint_table} (\
           worker int unsigned NOT NULL, \
           binlog_file varchar(255) NOT NULL, \
           binlog_position bigint unsigned NOT NULL, \
           gtid varchar(1024) NOT NULL DEFAULT '', \
           updated_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), \
           PRIMARY KEY (worker)\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='mage-migrate: binlog position each delta worker has applied up to'"
    ))
    .await
    .map_err(|e| m2e(e, "creating the binlog checkpoint table"))?;
    if options.reset {
        m2.query_drop(format!("DELETE FROM {checkpoint_table}"))
            .await
            .map_err(|e| m2e(e, "resetting the binlog checkpoints"))?;
    }
    let rows: Vec<(String, u64, String)> = m2
        .query(format!(
            "SELECT binlog_file, binlog_position, gtid FROM {checkpoint_table}"
        ))
        .await
        .map_err(|e| m2e(e, "reading the binlog checkpoints"))?;
    let low = rows
        .into_iter()
        .map(|(file, pos, gtid)| Position { file, pos, gtid })
        .min();
    let from = match (&binlog.start, low) {
        (Some(StartAt::Now), _) => {
            let now = stream::current_position(m1).await?;
            tracing::info!("binlog: starting at the current position {now}; what the deltalog holds from before is migrated through it");
            stream::From::Position(now)
        }
        (Some(StartAt::At(p)), _) => stream::From::Position(p.clone()),
        (Some(StartAt::MariadbGtid(g)), _) => stream::From::MariadbGtid(g.clone()),
        (None, Some(low)) => {
            tracing::info!("binlog: resuming at {low}, the lowest worker checkpoint");
            stream::From::Position(low)
        }
        (None, None) => {
            let state = crate::migrate_data::state::State::new(&setup.config.options.dest_prefix());
            let recorded = state.binlog_start(m2).await.ok().flatten();
            match recorded {
                Some(start) if !start.file.is_empty() => {
                    let p = Position {
                        file: start.file,
                        pos: start.position,
                        gtid: start.gtid,
                    };
                    tracing::info!("binlog: starting at {p}, recorded by migrate:data right after the triggers were installed");
                    stream::From::Position(p)
                }
                _ => {
                    return Err(Error::Usage(
                        "no binlog start position: mage-migrate migrate:data records one, but this M2 was filled otherwise (the DMT?); give --start-position now (the deltalog covers what came before), FILE:POS or a MariaDB GTID".into(),
                    ))
                }
            }
        }
    };
    Ok(from)
}

/// Claims every pending deltalog row not in flight (page by page, bounded); the claims come
/// back through the binlog.
async fn claim_pending(
    m1: &mut Conn,
    tables: &[DeltaTable],
    in_flight: &InFlight,
    page_rows: usize,
    stop: &Stop,
) -> Result<u64> {
    let mut claimed = 0u64;
    for (index, table) in tables.iter().enumerate() {
        let mut after: Option<Vec<Value>> = None;
        loop {
            if stop.requested() || in_flight.len() >= MAX_CLAIMED {
                return Ok(claimed);
            }
            let page = table
                .reader
                .pending_page(m1, after.as_deref(), page_rows)
                .await?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            let full = page.len() == page_rows;
            let keys: Vec<Vec<Value>> = page
                .into_iter()
                .filter(|k| !in_flight.contains(index, k))
                .collect();
            if !keys.is_empty() {
                for key in &keys {
                    in_flight.insert(index, key);
                }
                if let Err(e) = table.reader.claim(m1, &keys).await {
                    for key in &keys {
                        in_flight.remove(index, key);
                    }
                    if e.is_transient() {
                        tracing::warn!("{e}; the claim is retried in the next round");
                        break;
                    }
                    return Err(e);
                }
                claimed += keys.len() as u64;
            }
            if !full {
                break;
            }
            after = Some(last);
        }
    }
    Ok(claimed)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn drive(
    setup: &Setup,
    options: &DeltaOptions,
    binlog: &BinlogOptions,
    stop: Arc<Stop>,
    on_cycle: &mut impl FnMut(&Cycle),
    m1_pool: &Pool,
    m2_pool: &Pool,
    skipped_steps: Vec<String>,
    started: Instant,
) -> Result<DeltaReport> {
    let m1e = |e, what: &str| Error::db(Side::M1, e, what);
    let mut m1 = m1_pool.get_conn().await.map_err(|e| m1e(e, "connect"))?;
    let mut m2 = m2_pool
        .get_conn()
        .await
        .map_err(|e| Error::db(Side::M2, e, "connect"))?;
    take_lock(&mut m1).await?;
    let plan = plan(setup, options, &mut m1, &mut m2).await?;
    for table in &plan.tables {
        if options.reset {
            table.reader.make_all_pending(&mut m1).await?;
        } else {
            table.reader.release_in_flight(&mut m1).await?;
        }
    }
    let dest_prefix = setup.config.options.dest_prefix();
    let checkpoint_table = crate::db::quote_ident(&format!("{dest_prefix}{CHECKPOINT_TABLE}"));
    let from = start_position(setup, options, binlog, &mut m1, &mut m2, &checkpoint_table).await?;

    // The binlog prechecks, before anything streams: each failure says how to fix it.
    let start = match &from {
        stream::From::Position(p) => Some(crate::migrate_data::state::BinlogStart {
            file: p.file.clone(),
            position: p.pos,
            gtid: p.gtid.clone(),
        }),
        stream::From::MariadbGtid(_) => None,
    };
    let checks = crate::precheck::binlog_checks(&mut m1, start.as_ref(), binlog.server_id).await;
    let mut failed = Vec::new();
    // (Trigger creation matters to deltalog install, which has run already.)
    for check in checks.into_iter().filter(|c| c.name != "trigger creation") {
        match check.outcome {
            crate::precheck::Outcome::Fail => {
                failed.push(format!("{}: {}", check.name, check.message))
            }
            crate::precheck::Outcome::Warn => {
                tracing::warn!("precheck {}: {}", check.name, check.message)
            }
            crate::precheck::Outcome::Pass => {}
        }
    }
    if !failed.is_empty() {
        return Err(Error::Precheck(failed));
    }

    let mut worker_options = options.workers.clone();
    let derivations = crate::db::quote_ident(&format!("{dest_prefix}{DERIVATIONS}"));
    let deriving = plan.tables.iter().any(|t| !t.derived_by.is_empty());
    if deriving {
        ensure_derivations(&mut m2, &derivations).await?;
        worker_options.derivations_table = Some(derivations.clone());
        run_derivations(&mut m1, &mut m2, &plan.logic, &derivations).await?;
    }
    worker_options.defer_deleted_acks = false;
    worker_options.metrics = options.metrics.clone();
    worker_options.checkpoint_table = Some(checkpoint_table.clone());
    if options.skip_errors {
        worker_options.quarantine = Some(Arc::new(
            crate::pipeline::workers::Quarantine::open(m2_pool, &dest_prefix).await?,
        ));
    }
    let worker_count = options.workers.workers.max(1);
    // Every worker starts at the start: a crash before a worker's first batch resumes there.
    if let stream::From::Position(p) = &from {
        let mut tx = m2
            .start_transaction(mysql_async::TxOpts::default())
            .await
            .map_err(|e| Error::db(Side::M2, e, "starting a transaction"))?;
        tx.query_drop(format!("DELETE FROM {checkpoint_table}"))
            .await
            .map_err(|e| Error::db(Side::M2, e, "resetting the checkpoints"))?;
        for worker in 0..worker_count {
            tx.exec_drop(
                format!("INSERT INTO {checkpoint_table} (worker, binlog_file, binlog_position, gtid) VALUES (?, ?, ?, ?)"),
                (worker as u64, &p.file, p.pos, &p.gtid),
            )
            .await
            .map_err(|e| Error::db(Side::M2, e, "storing the checkpoints"))?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::db(Side::M2, e, "storing the checkpoints"))?;
    }

    let tables = Arc::new(plan.tables);
    let in_flight = Arc::new(InFlight::default());
    let stats = Arc::new(Stats::default());
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

    let mut follow_names = HashSet::new();
    let mut data = HashMap::new();
    let mut deltalog = HashMap::new();
    for (index, table) in tables.iter().enumerate() {
        let tracked = &table.reader.tracked;
        follow_names.insert(tracked.source_table.clone());
        follow_names.insert(tracked.deltalog.clone());
        data.insert(
            tracked.source_table.clone(),
            Follow {
                index,
                layout: None,
                direct: table.mapping.lookups.is_empty() && table.mapping.filter.is_none(),
            },
        );
        deltalog.insert(
            tracked.deltalog.clone(),
            DeltalogFollow {
                index,
                layout: None,
            },
        );
    }
    let mut router = Router {
        tables: &tables,
        senders: &senders,
        data,
        deltalog,
        buffered: (0..worker_count).map(|_| HashMap::new()).collect(),
        buffered_rows: 0,
        flush_rows: options.page_rows.max(1),
        tx_changes: HashMap::new(),
        tx_writes: HashSet::new(),
        tx_releases: HashSet::new(),
        pending: HashMap::new(),
        suspects: HashMap::new(),
        check: CrossCheck::default(),
        keys: 0,
        first_buffered: None,
        send_wait: Duration::ZERO,
        changes: 0,
    };
    let mut report = DeltaReport {
        skipped_steps,
        ..DeltaReport::default()
    };
    let opts = crate::db::opts(Side::M1, &setup.config.source)?;
    let database = setup.config.source.name.clone();
    let mut total_check = CrossCheck::default();

    let outcome: Result<()> = async {
        let stream_options = |non_blocking| StreamOptions {
            server_id: binlog.server_id,
            heartbeat: binlog.heartbeat,
            non_blocking,
            ..StreamOptions::default()
        };
        let mut reader = BinlogReader::open(
            opts.clone(),
            &database,
            follow_names.clone(),
            from,
            stream_options(options.once),
        )
        .await?;
        tracing::debug!(
            "binlog: streaming from {} after {:.3} s of set-up",
            reader.committed(),
            started.elapsed().as_secs_f64()
        );
        let mut claimer_conn = m1_pool.get_conn().await.map_err(|e| m1e(e, "connect"))?;
        let mut last_round = Instant::now() - options.poll_interval;
        let mut cycle_started = Instant::now();
        let mut cycle_keys = 0u64;
        // --once: phase 1 streams to the end; then everything pending is claimed and phase 2
        // streams to the new end, where those claims are.
        let mut phase = 1;
        let mut read_time = Duration::ZERO;
        loop {
            // Changes wait a moment for more to share their M2 transaction, never longer.
            reader.idle_at(router.first_buffered.map(|t| t + LINGER));
            let reading = Instant::now();
            let next = tokio::select! {
                next = reader.next() => next?,
                _ = stop.wait() => None,
                Some(joined) = running.join_next() => {
                    return Err(worker_exit(joined));
                }
            };
            read_time += reading.elapsed();
            let ended = next.is_none();
            let mut caught_up = ended;
            for decoded in next.unwrap_or_default() {
                caught_up = matches!(decoded, Decoded::Idle | Decoded::Heartbeat);
                match decoded {
                    Decoded::Rows(rows) => {
                        router.rows(rows);
                        if router.buffered_rows >= 4 * router.flush_rows {
                            // A large transaction: send what it has so far, without a position.
                            router.flush(None).await?;
                        }
                    }
                    Decoded::Commit(position) => router.commit(&position).await?,
                    Decoded::Idle => {
                        let committed = reader.committed().clone();
                        router.flush(Some(&committed)).await?;
                    }
                    Decoded::Statement { database: db, query } => {
                        let lower = query.to_ascii_lowercase();
                        if (db == database || lower.contains(&database.to_ascii_lowercase()))
                            && !is_trigger_ddl(&lower)
                        {
                            for name in &follow_names {
                                if mentions(&lower, &name.to_ascii_lowercase()) {
                                    tracing::error!("binlog: a statement on the followed table {name} (schemas must stay frozen during a migration; check map.xml and re-run migrate:data for it): {}", query.chars().take(200).collect::<String>());
                                    reader.forget_table(name);
                                }
                            }
                        }
                    }
                    Decoded::Heartbeat => {}
                }
            }
            let committed = reader.committed().clone();
            if let Some(m) = &options.metrics {
                m.position(&committed.file, committed.pos);
                m.lag(if caught_up { 0.0 } else { reader.lag_seconds() });
            }
            let round_due = last_round.elapsed() >= options.poll_interval;
            if round_due || ended {
                last_round = Instant::now();
                router.flush(None).await?;
                // Idle workers get the position too, so the low-watermark follows the stream.
                router.markers(&committed, None, false).await?;
                if !options.once {
                    claim_pending(&mut claimer_conn, &tables, &in_flight, options.page_rows, &stop).await?;
                }
                cycle_keys += router.keys;
                router.keys = 0;
                let applied = stats.take();
                let deleted = stats.take_deleted();
                let imaged = stats.take_imaged();
                if !deleted.is_empty() || !imaged.is_empty() || (deriving && !applied.is_empty()) {
                    // Children of deleted parents: swept once everything before is applied.
                    let barrier = Instant::now();
                    let drain = Drain::new(senders.len());
                    router.markers(&committed, Some(drain.clone()), true).await?;
                    while !drain.finished() {
                        tokio::select! {
                            _ = drain.wait(Duration::from_millis(200)) => {}
                            Some(joined) = running.join_next() => {
                                return Err(worker_exit(joined));
                            }
                        }
                    }
                    for (index, keys) in deleted {
                        stats.requeue_deleted(index, keys);
                    }
                    for (index, keys) in imaged {
                        stats.requeue_imaged(index, keys);
                    }
                    let drained = barrier.elapsed();
                    after_drain(
                        &mut m1,
                        &mut m2,
                        m2_pool,
                        &tables,
                        &stats,
                        false,
                        deriving.then_some((plan.logic.as_slice(), derivations.as_str())),
                        options.workers.attempts,
                    )
                    .await?;
                    tracing::debug!(
                        "binlog: workers drained in {:.3} s, orphan sweep {:.3} s",
                        drained.as_secs_f64(),
                        (barrier.elapsed() - drained).as_secs_f64()
                    );
                }
                if !applied.is_empty() || !router.check.is_clean() {
                    report.cycles += 1;
                    let mut cycle = Cycle {
                        number: report.cycles,
                        keys: cycle_keys,
                        seconds: cycle_started.elapsed().as_secs_f64(),
                        binlog: Some(super::BinlogCycle {
                            position: committed.to_string(),
                            transactions: reader.transactions,
                            cross_check: router.check.to_json(),
                        }),
                        ..Cycle::default()
                    };
                    for (index, a) in applied {
                        report.upserted += a.upserted;
                        report.deleted += a.deleted;
                        cycle.tables.push((tables[index].reader.tracked.table.clone(), a));
                    }
                    cycle.tables.sort_by(|a, b| a.0.cmp(&b.0));
                    for line in router.check.lines() {
                        tracing::warn!("{line}");
                    }
                    total_check.merge(&router.check);
                    router.check = CrossCheck::default();
                    if let Some(m) = &options.metrics {
                        m.cycles.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        for (t, a) in &cycle.tables {
                            m.applied(t, a.upserted, a.deleted);
                        }
                    }
                    on_cycle(&cycle);
                    cycle_started = Instant::now();
                    cycle_keys = 0;
                }
            }
            if stop.requested() {
                break;
            }
            if ended {
                tracing::debug!(
                    "binlog --once phase {phase}: streamed to {} ({} transactions, {} changes routed so far) after {:.3} s, {:.3} s of it waiting on full worker queues, {:.3} s reading",
                    reader.committed(),
                    reader.transactions,
                    router.changes,
                    started.elapsed().as_secs_f64(),
                    router.send_wait.as_secs_f64(),
                    read_time.as_secs_f64()
                );
                if phase == 1 {
                    phase = 2;
                    // Everything pending now, claimed; the claims are at the new end.
                    claim_pending(&mut claimer_conn, &tables, &in_flight, options.page_rows, &stop).await?;
                    tracing::debug!("binlog --once: pending deltalog rows claimed after {:.3} s", started.elapsed().as_secs_f64());
                    let position = reader.committed().clone();
                    reader.close().await;
                    reader = BinlogReader::open(
                        opts.clone(),
                        &database,
                        follow_names.clone(),
                        stream::From::Position(position),
                        stream_options(true),
                    )
                    .await?;
                    continue;
                }
                break;
            }
        }
        router.flush(None).await?;
        let committed = reader.committed().clone();
        router.markers(&committed, None, true).await?;
        // Suspects left: look at the deltalog row itself.
        let suspects = std::mem::take(&mut router.suspects);
        for ((index, _), (key, at)) in suspects {
            let table = &tables[index];
            {
                let exists: Option<u8> = claimer_conn
                    .exec_first(
                        format!(
                            "SELECT 1 FROM {} WHERE {}",
                            crate::db::quote_ident(&table.reader.tracked.deltalog),
                            crate::source::deltalog::key_list_condition(table.keys(), 1, "")
                        ),
                        key.clone(),
                    )
                    .await
                    .map_err(|e| m1e(e, "cross-checking the deltalog"))?;
                if exists.is_none() {
                    let name = table.reader.tracked.table.clone();
                    CrossCheck::note(
                        &mut router.check.changes_without_deltalog,
                        &mut router.check.examples,
                        &name,
                        format!("{name} {}: changed at {at} with no deltalog row", crate::pipeline::write::describe_key(table.keys(), &key)),
                    );
                }
            }
        }
        for line in router.check.lines() {
            tracing::warn!("{line}");
        }
        total_check.merge(&router.check);
        report.binlog_position = Some(committed.to_string());
        report.binlog_changes = router.changes;
        reader.close().await;
        Ok(())
    }
    .await;
    drop(router);
    drop(senders);
    join_workers(&mut running, outcome.err()).await?;
    let applied = stats.take();
    for (_, a) in applied {
        report.upserted += a.upserted;
        report.deleted += a.deleted;
    }
    after_drain(
        &mut m1,
        &mut m2,
        m2_pool,
        &tables,
        &stats,
        false,
        deriving.then_some((plan.logic.as_slice(), derivations.as_str())),
        options.workers.attempts,
    )
    .await?;
    report.volume = volume_check(&mut m1, &mut m2, &tables, options.once).await?;
    for logic in &plan.logic {
        report.volume.extend(logic.volume(&mut m1, &mut m2).await?);
    }
    for warning in &report.volume {
        tracing::warn!("{warning}");
    }
    report.cross_check = Some(total_check);
    report.elapsed = started.elapsed();
    report.quarantined = worker_options.quarantine.as_ref().map_or(0, |q| q.count());
    Ok(report)
}

/// `CREATE [DEFINER=…] TRIGGER` / `DROP TRIGGER`: deltalog install and remove, which change no
/// table's columns.
fn is_trigger_ddl(lower: &str) -> bool {
    let lower = lower.trim_start();
    (lower.starts_with("create") || lower.starts_with("drop")) && {
        let head: String = lower.chars().take(200).collect();
        head.split(|c: char| c.is_whitespace() || c == '`')
            .any(|w| w == "trigger")
    }
}

/// Whether `name` occurs in `text` as a whole identifier (`review` not in `review_detail`).
fn mentions(text: &str, name: &str) -> bool {
    let ident =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    text.match_indices(name).any(|(at, _)| {
        !ident(text[..at].chars().next_back()) && !ident(text[at + name.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_on_followed_tables() {
        assert!(mentions("alter table `review` add x int", "review"));
        assert!(!mentions("alter table review_detail add x int", "review"));
        assert!(mentions("truncate review", "review"));
        assert!(is_trigger_ddl(
            "create definer=`root`@`localhost` trigger t_x after insert on review for each row"
        ));
        assert!(is_trigger_ddl("drop trigger if exists `t_x`"));
        assert!(!is_trigger_ddl("alter table review add trigger_count int"));
    }
}
