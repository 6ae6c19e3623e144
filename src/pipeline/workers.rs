//! Workers and the router in front of them.
//!
//! Every changed key is routed by hash of (target table, target key) to one of N workers over
//! bounded channels, so changes to one row are applied in order and a slow M2 pushes back on the
//! readers instead of filling memory. A worker gathers what is waiting into a batch (bounded by
//! rows), compacts repeated keys, reads the current M1 rows, and writes one M2 transaction;
//! only after it commits are the keys acknowledged in the deltalog.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Pool, Transaction, TxOpts, Value};
use tokio::sync::{mpsc, Notify};

use super::apply::{self, Applied, DeltaTable};
use crate::error::{Error, Result, Side};
use crate::source::binlog::Position;
use crate::source::deltalog::key_id;

/// How long a worker with a small batch waits for more keys before it writes.
const LINGER: Duration = Duration::from_millis(3);

/// Keys of one table bound for one worker, with what to do for each.
#[derive(Debug, Default)]
pub struct Work {
    pub table: usize,
    pub keys: Vec<Vec<Value>>,
    /// One per key, in order. Empty: the keys were claimed in the deltalog: each is fetched
    /// from M1, applied, and acknowledged (`Change::Claimed { covered: false }`).
    pub changes: Vec<Change>,
    /// Binlog: once this message (and all before it) is applied, resuming from here loses
    /// nothing routed to this worker. Written in the same M2 transaction as the rows.
    pub checkpoint: Option<Position>,
    /// Counted down once this message is applied and acknowledged.
    pub drain: Option<Arc<Drain>>,
    /// Keys of other tables for the same worker, sent in the same message (the binlog
    /// source's transactions touch many tables at once); applied before this one's position.
    pub others: Vec<Work>,
}

impl Work {
    /// Keys in this message and those it carries.
    pub fn len(&self) -> usize {
        self.keys.len() + self.others.iter().map(Work::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What to do for one changed key.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Read the key's current M1 row and apply it (or delete the key where M1 has none).
    Fetch,
    /// The binlog's after-image, in the mapping's select order: written without reading M1.
    Image(Vec<Value>),
    /// The binlog says the row is gone.
    Gone,
    /// Our claim of the key's deltalog row came through the binlog: acknowledge it once what
    /// came before is applied; `covered` when the binlog carried the change the row records,
    /// else the key is fetched first (a change the binlog did not carry).
    Claimed { covered: bool },
}

/// A countdown the driver awaits: every worker has applied what was routed to it before.
#[derive(Debug)]
pub struct Drain {
    left: std::sync::atomic::AtomicUsize,
    notify: Notify,
}

impl Drain {
    pub fn new(workers: usize) -> Arc<Drain> {
        Arc::new(Drain {
            left: std::sync::atomic::AtomicUsize::new(workers),
            notify: Notify::new(),
        })
    }

    fn done(&self) {
        if self.left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            self.notify.notify_waiters();
        }
    }

    pub fn finished(&self) -> bool {
        self.left.load(std::sync::atomic::Ordering::SeqCst) == 0
    }

    /// Waits until every worker counted down (or `timeout`, to let the caller look around).
    pub async fn wait(&self, timeout: Duration) {
        let notified = self.notify.notified();
        if self.finished() {
            return;
        }
        let _ = tokio::time::timeout(timeout, notified).await;
    }
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub workers: usize,
    /// Messages each worker's channel holds before readers wait.
    pub channel_capacity: usize,
    /// Keys per M2 transaction, at most.
    pub batch_rows: usize,
    /// Tries of a batch that fails with a transient error (deadlock, lock wait, lost connection).
    pub attempts: u32,
    /// `--skip-errors`: a key that fails with a definite error is quarantined (recorded in
    /// M2's `mage_migrate_quarantine` with the error) and acknowledged, and the run goes on.
    pub quarantine: Option<Arc<Quarantine>>,
    /// Deltalog: deleted parents stay claimed until the orphan sweep after the step.
    pub defer_deleted_acks: bool,
    /// Binlog: M2's checkpoint table, where each worker stores its position with its rows.
    pub checkpoint_table: Option<String>,
    /// M2's `mage_migrate_derivations` (quoted), where batches record the keys later steps
    /// derive from.
    pub derivations_table: Option<String>,
    /// `--metrics-addr`: batches and retries are counted here.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        WorkerOptions {
            workers: (cores * 2).clamp(2, 16),
            channel_capacity: 8,
            batch_rows: 5000,
            attempts: 8,
            quarantine: None,
            defer_deleted_acks: true,
            checkpoint_table: None,
            derivations_table: None,
            metrics: None,
        }
    }
}

/// Keys claimed and not yet acknowledged, shared by readers (which never claim a key twice)
/// and workers (which release keys once acknowledged).
#[derive(Debug, Default)]
pub struct InFlight {
    keys: Mutex<HashSet<(usize, String)>>,
    drained: Notify,
}

impl InFlight {
    pub fn contains(&self, table: usize, key: &[Value]) -> bool {
        self.lock().contains(&(table, key_id(key)))
    }

    pub fn insert(&self, table: usize, key: &[Value]) {
        self.lock().insert((table, key_id(key)));
    }

    pub fn remove(&self, table: usize, key: &[Value]) {
        self.release(table, &[key.to_vec()]);
    }

    fn release(&self, table: usize, keys: &[Vec<Value>]) {
        let mut set = self.lock();
        for key in keys {
            set.remove(&(table, key_id(key)));
        }
        if set.is_empty() {
            self.drained.notify_waiters();
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until every claimed key is acknowledged (or `timeout` passes, to re-check).
    pub async fn drained(&self, timeout: Duration) {
        let notified = self.drained.notified();
        if self.is_empty() {
            return;
        }
        let _ = tokio::time::timeout(timeout, notified).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(usize, String)>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Counters per table, read by the progress line; and the keys deleted from tables that have
/// children in M2, for the orphan sweep.
#[derive(Debug, Default)]
pub struct Stats {
    per_table: Mutex<HashMap<usize, Applied>>,
    deleted: Mutex<HashMap<usize, Vec<Vec<Value>>>>,
    /// Keys of child tables written from binlog images, for the orphan check.
    imaged: Mutex<HashMap<usize, Vec<Vec<Value>>>>,
}

impl Stats {
    fn deleted_keys(&self, table: usize, keys: Vec<Vec<Value>>) {
        if keys.is_empty() {
            return;
        }
        let mut map = self.deleted.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(table).or_default().extend(keys);
    }

    pub fn requeue_imaged(&self, table: usize, keys: Vec<Vec<Value>>) {
        self.imaged_keys(table, keys);
    }

    fn imaged_keys(&self, table: usize, keys: Vec<Vec<Value>>) {
        if keys.is_empty() {
            return;
        }
        let mut map = self.imaged.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(table).or_default().extend(keys);
    }

    /// Takes the child keys written from images since the last call, by table.
    pub fn take_imaged(&self) -> HashMap<usize, Vec<Vec<Value>>> {
        std::mem::take(&mut *self.imaged.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts taken keys back, for a sweep that takes them again.
    pub fn requeue_deleted(&self, table: usize, keys: Vec<Vec<Value>>) {
        self.deleted_keys(table, keys);
    }

    /// Takes the keys deleted since the last call, by table.
    pub fn take_deleted(&self) -> HashMap<usize, Vec<Vec<Value>>> {
        std::mem::take(&mut *self.deleted.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The deleted keys waiting for the sweep, whose acknowledgement the sweep makes.
    fn deferred_keys(&self) -> HashSet<(usize, String)> {
        let map = self.deleted.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .flat_map(|(table, keys)| keys.iter().map(move |k| (*table, key_id(k))))
            .collect()
    }

    fn add(&self, table: usize, applied: Applied) {
        let mut map = self.per_table.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(table).or_default();
        entry.upserted += applied.upserted;
        entry.deleted += applied.deleted;
    }

    /// Takes the counts gathered since the last call.
    pub fn take(&self) -> HashMap<usize, Applied> {
        std::mem::take(&mut *self.per_table.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The router: which worker a key goes to.
pub fn route(table: &DeltaTable, key: &[Value], workers: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    table.mapping.destination_table.hash(&mut hasher);
    key_id(key).hash(&mut hasher);
    (hasher.finish() % workers.max(1) as u64) as usize
}

/// One key of a compacted batch: the last change routed for it, and whether its deltalog row
/// is acknowledged after the commit.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub key: Vec<Value>,
    pub change: Option<Change>,
    pub ack: bool,
}

type Batch = HashMap<usize, Vec<Pending>>;

/// Folds messages into one entry per (table, key), in arrival order: the last change wins,
/// which is per-key order since one key always goes to one worker.
fn compact(batch: Vec<Work>) -> (Batch, Option<Position>, Vec<Arc<Drain>>) {
    let mut by_table: Batch = HashMap::new();
    let mut at: HashMap<(usize, String), usize> = HashMap::new();
    let mut checkpoint = None;
    let mut drains = Vec::new();
    let mut queue: std::collections::VecDeque<Work> = batch.into();
    while let Some(mut work) = queue.pop_front() {
        // Carried tables first, in order, then this message's own keys and position.
        if !work.others.is_empty() {
            let others = std::mem::take(&mut work.others);
            let n = others.len();
            for (i, other) in others.into_iter().enumerate() {
                queue.insert(i, other);
            }
            queue.insert(n, work);
            continue;
        }
        if work.checkpoint.is_some() {
            checkpoint = work.checkpoint;
        }
        if let Some(drain) = work.drain {
            drains.push(drain);
        }
        let claimed = work.changes.is_empty();
        let mut changes = work.changes.into_iter();
        let entries = by_table.entry(work.table).or_default();
        for key in work.keys {
            let change = if claimed {
                Change::Claimed { covered: false }
            } else {
                changes.next().unwrap_or(Change::Fetch)
            };
            let index = *at.entry((work.table, key_id(&key))).or_insert_with(|| {
                entries.push(Pending {
                    key,
                    change: None,
                    ack: false,
                });
                entries.len() - 1
            });
            let entry = &mut entries[index];
            match change {
                Change::Claimed { covered } => {
                    entry.ack = true;
                    if !covered {
                        entry.change = Some(Change::Fetch);
                    }
                }
                other => entry.change = Some(other),
            }
        }
    }
    by_table.retain(|_, entries| !entries.is_empty());
    // Keys in order, so concurrent batches lock M2 rows in the same order.
    for entries in by_table.values_mut() {
        entries.sort_by_cached_key(|p| key_id(&p.key));
    }
    (by_table, checkpoint, drains)
}

/// Runs one worker until its channel closes. An error stops it (and the run).
#[allow(clippy::too_many_arguments)]
pub async fn worker(
    index: usize,
    mut rx: mpsc::Receiver<Work>,
    tables: Arc<Vec<DeltaTable>>,
    m1: Pool,
    m2: Pool,
    in_flight: Arc<InFlight>,
    stats: Arc<Stats>,
    options: WorkerOptions,
) -> Result<()> {
    let mut sessions = Sessions {
        m1_pool: m1,
        m2_pool: m2.clone(),
        m1: None,
        m2: None,
    };
    while let Some(first) = rx.recv().await {
        let mut rows = first.len().max(1);
        let mut batch: Vec<Work> = vec![first];
        // Gather what is waiting; when the batch is still small, linger a moment for the
        // readers' next pages, since one larger transaction costs far less than several.
        while rows < options.batch_rows {
            let more = match rx.try_recv() {
                Ok(more) => Some(more),
                Err(_) => tokio::time::timeout(LINGER, rx.recv()).await.ok().flatten(),
            };
            match more {
                Some(more) => {
                    rows += more.len().max(1);
                    batch.push(more);
                }
                None => break,
            }
        }
        let (by_table, checkpoint, drains) = compact(batch);
        let checkpoint = match (&options.checkpoint_table, checkpoint) {
            (Some(table), Some(position)) => Some((table.as_str(), index, position)),
            _ => None,
        };
        match apply_with_retries(
            &tables,
            &mut sessions,
            &by_table,
            checkpoint.as_ref(),
            &options,
        )
        .await
        {
            Ok(applied) => {
                if let Some(m) = &options.metrics {
                    m.batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                for (table, a, deleted) in applied {
                    stats.add(table, a);
                    stats.deleted_keys(table, deleted);
                }
                for (table, entries) in &by_table {
                    if tables[*table].parents.is_empty() {
                        continue;
                    }
                    let imaged: Vec<Vec<Value>> = entries
                        .iter()
                        .filter(|p| matches!(p.change, Some(Change::Image(_))))
                        .map(|p| p.key.clone())
                        .collect();
                    stats.imaged_keys(*table, imaged);
                }
            }
            Err(e) => match &options.quarantine {
                // Find the keys at fault: each key on its own; the failing ones are set aside.
                Some(quarantine) if !e.is_transient() => {
                    for (table, entries) in &by_table {
                        for entry in entries {
                            let one = HashMap::from([(*table, vec![entry.clone()])]);
                            match apply_with_retries(&tables, &mut sessions, &one, None, &options)
                                .await
                            {
                                Ok(applied) => {
                                    for (table, a, deleted) in applied {
                                        stats.add(table, a);
                                        stats.deleted_keys(table, deleted);
                                    }
                                }
                                Err(e) if !e.is_transient() => {
                                    quarantine
                                        .record(&m2, &tables[*table], &entry.key, &e)
                                        .await?;
                                }
                                Err(e) => return Err(e),
                            }
                        }
                    }
                    if let Some(checkpoint) = &checkpoint {
                        let empty = HashMap::new();
                        apply_with_retries(
                            &tables,
                            &mut sessions,
                            &empty,
                            Some(checkpoint),
                            &options,
                        )
                        .await?;
                    }
                }
                _ => return Err(e),
            },
        }
        // Acknowledge only now that M2 has committed. A failed acknowledgement leaves the keys
        // in flight: they are pending again on the next start, and re-applying them is harmless.
        // Deleted parents of tables with children stay claimed (processed = 2) until the orphan
        // sweep after the step has run: a crash before it replays their delete, and the sweep.
        let deferred = if options.defer_deleted_acks {
            stats.deferred_keys()
        } else {
            HashSet::new()
        };
        for (table, entries) in &by_table {
            let claimed: Vec<Vec<Value>> = entries
                .iter()
                .filter(|p| p.ack)
                .map(|p| p.key.clone())
                .collect();
            if claimed.is_empty() {
                continue;
            }
            let now: Vec<Vec<Value>> = claimed
                .iter()
                .filter(|k| !deferred.contains(&(*table, key_id(k))))
                .cloned()
                .collect();
            acknowledge(&mut sessions, &tables[*table], &now, &options).await?;
            in_flight.release(*table, &claimed);
        }
        for drain in drains {
            drain.done();
        }
    }
    Ok(())
}

/// A worker's own connections, kept from batch to batch (a connection given back to the pool
/// is reset and set up again, several round trips a batch). After any error both are dropped,
/// so the next try starts from a clean session.
struct Sessions {
    m1_pool: Pool,
    m2_pool: Pool,
    m1: Option<Conn>,
    m2: Option<Conn>,
}

impl Sessions {
    async fn open(&mut self) -> Result<(&mut Conn, &mut Conn)> {
        if self.m1.is_none() {
            self.m1 = Some(
                self.m1_pool
                    .get_conn()
                    .await
                    .map_err(|e| Error::db(Side::M1, e, "connecting"))?,
            );
        }
        if self.m2.is_none() {
            self.m2 = Some(
                self.m2_pool
                    .get_conn()
                    .await
                    .map_err(|e| Error::db(Side::M2, e, "connecting"))?,
            );
        }
        match (self.m1.as_mut(), self.m2.as_mut()) {
            (Some(m1), Some(m2)) => Ok((m1, m2)),
            _ => Err(Error::Usage("a worker lost its connections".into())),
        }
    }

    fn discard(&mut self) {
        self.m1 = None;
        self.m2 = None;
    }
}

/// Acknowledges keys, retrying a lock wait or deadlock (a store transaction holding the deltalog
/// row through its trigger) or a lost connection.
async fn acknowledge(
    sessions: &mut Sessions,
    table: &DeltaTable,
    keys: &[Vec<Value>],
    options: &WorkerOptions,
) -> Result<()> {
    let mut attempt = 1;
    loop {
        let result = match sessions.open().await {
            Ok((m1, _)) => table.reader.acknowledge(m1, keys).await,
            Err(e) => Err(e),
        };
        match result {
            Err(e) if e.is_transient() && attempt < options.attempts => {
                sessions.discard();
                tracing::warn!("{e}; retrying (attempt {attempt} of {})", options.attempts);
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                attempt += 1;
            }
            Err(e) => {
                sessions.discard();
                return Err(e);
            }
            ok => return ok,
        }
    }
}

/// Applies a batch, retrying transient failures with jittered backoff.
async fn apply_with_retries(
    tables: &[DeltaTable],
    sessions: &mut Sessions,
    by_table: &Batch,
    checkpoint: Option<&(&str, usize, Position)>,
    options: &WorkerOptions,
) -> Result<Vec<(usize, Applied, Vec<Vec<Value>>)>> {
    let mut attempt = 1;
    loop {
        let result = match sessions.open().await {
            Ok((m1, m2)) => {
                apply_batch(
                    tables,
                    m1,
                    m2,
                    by_table,
                    checkpoint,
                    options.derivations_table.as_deref(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        if result.is_err() {
            sessions.discard();
        }
        match result {
            Ok(applied) => return Ok(applied),
            Err(e) if e.is_transient() && attempt < options.attempts => {
                let backoff = 50u64 << attempt.min(6);
                // Jitter, so workers that deadlocked with each other do not retry in step.
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_nanos()));
                let jitter = nanos % backoff.max(1);
                tracing::warn!(
                    "{e}; retrying the batch (attempt {attempt} of {})",
                    options.attempts
                );
                if let Some(m) = &options.metrics {
                    m.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(backoff + jitter)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Keys set aside by `--skip-errors`, in M2's `<dest_prefix>mage_migrate_quarantine`.
#[derive(Debug)]
pub struct Quarantine {
    table: String,
    /// The keys quarantined by this run: a key can fail twice (with the binlog source, from its
    /// row image and again from its deltalog claim), and counts once.
    keys: std::sync::Mutex<HashSet<(String, String)>>,
}

impl Quarantine {
    pub const TABLE: &'static str = "mage_migrate_quarantine";

    /// Creates the quarantine table if needed.
    pub async fn open(m2: &Pool, dest_prefix: &str) -> Result<Quarantine> {
        let table = crate::db::quote_ident(&format!("{dest_prefix}{}", Self::TABLE));
        let mut conn = m2
            .get_conn()
            .await
            .map_err(|e| Error::db(Side::M2, e, "connecting"))?;
        mysql_async::prelude::Queryable::query_drop(
            &mut conn,
            format!(
                "CREATE TABLE IF NOT EXISTS {table} (\
                   source_table varchar(64) NOT NULL, \
                   source_key varchar(255) NOT NULL COMMENT 'the M1 key, e.g. entity_id=12', \
                   error text NOT NULL, \
                   quarantined_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, \
                   PRIMARY KEY (source_table, source_key)\
                 ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='mage-migrate: keys skipped by --skip-errors'"
            ),
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, "creating the quarantine table"))?;
        Ok(Quarantine {
            table,
            keys: std::sync::Mutex::new(HashSet::new()),
        })
    }

    async fn record(
        &self,
        m2: &Pool,
        table: &DeltaTable,
        key: &[Value],
        error: &Error,
    ) -> Result<()> {
        let described = super::write::describe_key(table.keys(), key);
        tracing::error!(
            "{error}; quarantined {} {described} (--skip-errors)",
            table.mapping.source_table
        );
        let mut conn = m2
            .get_conn()
            .await
            .map_err(|e| Error::db(Side::M2, e, "connecting"))?;
        mysql_async::prelude::Queryable::exec_drop(
            &mut conn,
            format!(
                "INSERT INTO {} (source_table, source_key, error) VALUES (?, ?, ?) \
                 ON DUPLICATE KEY UPDATE error = VALUES(error)",
                self.table
            ),
            (&table.mapping.source_table, &described, error.to_string()),
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, "recording a quarantined key"))?;
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((table.mapping.source_table.clone(), described));
        Ok(())
    }

    /// Keys quarantined by this run.
    pub fn count(&self) -> u64 {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
    }
}

/// The keys later steps derive from, recorded in the batch's transaction.
async fn record_derivations(
    tx: &mut Transaction<'_>,
    t: &DeltaTable,
    entries: &[Pending],
    derivations: Option<&str>,
) -> Result<()> {
    if let (Some(derivations), false) = (derivations, t.derived_by.is_empty()) {
        // What later steps derive from, recorded with the rows (a crash keeps both or neither).
        let keys: Vec<&[Value]> = entries
            .iter()
            .filter(|p| p.change.is_some())
            .map(|p| p.key.as_slice())
            .collect();
        for step in &t.derived_by {
            insert_derivations(tx, derivations, step, &t.reader.tracked.source_table, &keys)
                .await?;
        }
    }
    Ok(())
}

/// Records keys of `source_table` for `step` in M2's derivations table (quoted), in the
/// caller's transaction. `slot` is the session's connection id, so workers recording the same
/// key write different rows and never wait on each other.
pub(crate) async fn insert_derivations(
    tx: &mut Transaction<'_>,
    derivations: &str,
    step: &str,
    source_table: &str,
    keys: &[&[Value]],
) -> Result<()> {
    for chunk in keys.chunks(500) {
        let values = vec!["(?, ?, ?, CONNECTION_ID())"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk
            .iter()
            .flat_map(|key| {
                [
                    Value::from(step),
                    Value::from(source_table),
                    Value::from(crate::migrate_data::state::encode_key(key)),
                ]
            })
            .collect();
        tx.exec_drop(
            format!("INSERT IGNORE INTO {derivations} (step, source_table, source_key, slot) VALUES {values}"),
            params,
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, "recording derivations"))?;
    }
    Ok(())
}

/// One M2 transaction for the whole batch: for each table, deletes (foreign key checks on) then
/// upserts (checks off); and the worker's binlog checkpoint, so it moves exactly with the rows.
async fn apply_batch(
    tables: &[DeltaTable],
    m1: &mut Conn,
    m2: &mut Conn,
    by_table: &Batch,
    checkpoint: Option<&(&str, usize, Position)>,
    derivations: Option<&str>,
) -> Result<Vec<(usize, Applied, Vec<Vec<Value>>)>> {
    let mut tx = m2
        .start_transaction(TxOpts::default())
        .await
        .map_err(|e| Error::db(Side::M2, e, "starting a transaction"))?;
    let mut applied = Vec::with_capacity(by_table.len());
    let mut order: Vec<&usize> = by_table.keys().collect();
    order.sort();
    for table in order {
        let t = &tables[*table];
        if let Some(step) = t
            .step
            .as_ref()
            .filter(|s| s.writes_itself(&t.reader.tracked.source_table))
        {
            // The step derives its M2 rows from these keys itself (ConfigurablePrices).
            let keys: Vec<Vec<Value>> = by_table[table]
                .iter()
                .filter(|p| p.change.is_some())
                .map(|p| p.key.clone())
                .collect();
            if !keys.is_empty() {
                step.after_apply(m1, &mut tx, t, &keys).await?;
            }
            record_derivations(&mut tx, t, &by_table[table], derivations).await?;
            applied.push((*table, Applied::default(), Vec::new()));
            continue;
        }
        let mut fetch = Vec::new();
        let mut gone = Vec::new();
        let mut current = Vec::new();
        for entry in &by_table[table] {
            match &entry.change {
                Some(Change::Fetch) | Some(Change::Claimed { .. }) => fetch.push(entry.key.clone()),
                Some(Change::Gone) => gone.push(entry.key.clone()),
                Some(Change::Image(row)) => current.push(apply::transform_image(t, row.clone())?),
                None => {}
            }
        }
        if fetch.is_empty() && gone.is_empty() && current.is_empty() {
            continue;
        }
        if !fetch.is_empty() {
            let (found, missing) = apply::read_current(m1, t, &fetch).await?;
            current.extend(found);
            gone.extend(missing);
        }
        // A partial key stands for a set of rows: M2's set is replaced by M1's, in this
        // transaction, so readers never see it half done.
        let deleted = if t.partial_key {
            let mut keys = fetch;
            keys.extend(gone.iter().cloned());
            apply::delete(&mut tx, t, &keys).await?
        } else {
            apply::delete(&mut tx, t, &gone).await?
        };
        let upserted = apply::upsert(&mut tx, m1, t, &current).await?;
        if let Some(step) = &t.step {
            let keys: Vec<Vec<Value>> = by_table[table].iter().map(|p| p.key.clone()).collect();
            step.after_apply(m1, &mut tx, t, &keys).await?;
        }
        record_derivations(&mut tx, t, &by_table[table], derivations).await?;
        let swept = if t.children.is_empty() || t.partial_key {
            Vec::new()
        } else {
            gone
        };
        applied.push((*table, Applied { upserted, deleted }, swept));
    }
    if let Some((table, worker, position)) = checkpoint {
        tx.exec_drop(
            format!(
                "INSERT INTO {table} (worker, binlog_file, binlog_position, gtid) VALUES (?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE binlog_file = VALUES(binlog_file), \
                 binlog_position = VALUES(binlog_position), gtid = VALUES(gtid)"
            ),
            (*worker as u64, &position.file, position.pos, &position.gtid),
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, "storing the binlog checkpoint"))?;
    }
    tx.commit()
        .await
        .map_err(|e| Error::db(Side::M2, e, "committing a batch"))?;
    Ok(applied)
}
