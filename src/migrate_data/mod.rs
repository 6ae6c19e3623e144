//! `migrate:data`: the bulk copy, DMT-style. Integrity check, deltalog install, the M1 binlog
//! position (first run only), then every Map-step table through map.xml: keyset pages, several
//! tables at once, multi-row INSERTs, destination tables emptied first, resumable.

mod copy;
pub mod state;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Pool};
use tokio::sync::Semaphore;

use copy::TableCopy;
pub use copy::Throttle;
use state::{BinlogStart, State};

use crate::config::BulkSize;
use crate::db::schema::Schema;
use crate::db::{self, quote_ident};
use crate::deltalog::{self, InstallOptions};
use crate::error::{Error, Result, Side};
use crate::setup::Setup;
use crate::steps::map::{self, TableMapping};
use crate::steps::Availability;

#[derive(Debug, Clone)]
pub struct DataOptions {
    /// `-r`: forget progress, empty the deltalog and record the binlog position again.
    pub reset: bool,
    /// Titles of data steps to leave to the DMT.
    pub skip_steps: Vec<String>,
    /// Tables copied at the same time.
    pub parallel_tables: usize,
    /// Caps the rows read from M1 per second (all tables together).
    pub max_rows_per_second: Option<u64>,
    /// Draw progress bars (on a terminal).
    pub progress_bars: bool,
}

impl Default for DataOptions {
    fn default() -> Self {
        DataOptions {
            reset: false,
            skip_steps: Vec::new(),
            parallel_tables: 4,
            max_rows_per_second: None,
            progress_bars: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DataReport {
    /// (M1 table, rows in M2 after the copy) in name order.
    pub tables: Vec<(String, u64)>,
    /// Rows copied by this run (a resumed run counts only its own).
    pub rows_copied: u64,
    pub elapsed: Duration,
    pub binlog_start: Option<BinlogStart>,
    /// The binlog position was recorded by this run (first run or `-r`).
    pub binlog_recorded_now: bool,
    pub skipped_steps: Vec<String>,
    pub warnings: Vec<String>,
}

/// Titles of the steps of a mode this version does not run, to leave to the DMT (`--skip-step`).
pub fn unbuilt_steps(setup: &Setup, mode: &str) -> Vec<String> {
    setup
        .steps(mode)
        .iter()
        .filter(|s| {
            s.classes
                .iter()
                .any(|c| c.availability != Availability::Built)
        })
        .map(|s| s.config.title.clone())
        .collect()
}

/// The steps of a mode to run: those built in, minus `--skip-step`; unbuilt ones not skipped
/// are an error listing them all. Returns the titles skipped.
pub(crate) fn check_steps(setup: &Setup, mode: &str, skip: &[String]) -> Result<Vec<String>> {
    let steps = setup.steps(mode);
    for title in skip {
        if !steps.iter().any(|s| &s.config.title == title) {
            let titles: Vec<String> = steps
                .iter()
                .map(|s| format!("\"{}\"", s.config.title))
                .collect();
            return Err(Error::Usage(format!(
                "--skip-step \"{title}\": {} has no {mode} step with this title (its {mode} steps: {})",
                setup.config.path.display(),
                titles.join(", ")
            )));
        }
    }
    let mut unbuilt = Vec::new();
    let mut skipped = Vec::new();
    for step in &steps {
        let built = step
            .classes
            .iter()
            .all(|c| c.availability == Availability::Built);
        if skip.contains(&step.config.title) {
            skipped.push(step.config.title.clone());
        } else if !built {
            unbuilt.push(step.config.title.clone());
        }
    }
    if !unbuilt.is_empty() {
        let listed: Vec<String> = unbuilt.iter().map(|t| format!("\"{t}\"")).collect();
        let flags: Vec<String> = unbuilt
            .iter()
            .map(|t| format!("--skip-step \"{t}\""))
            .collect();
        return Err(Error::Usage(format!(
            "these {mode} steps of {} are not built into mage-migrate yet: {}; leave them to the DMT and run again with: {}",
            setup.config.path.display(),
            listed.join(", "),
            flags.join(" ")
        )));
    }
    Ok(skipped)
}

/// Rows per page: `bulk_size`, or for `0` (automatic) about 2,000, fewer for wide tables.
fn page_rows(bulk: BulkSize, columns: usize) -> usize {
    match bulk {
        BulkSize::Rows(n) => n as usize,
        BulkSize::Auto => (100_000 / columns.max(1)).clamp(100, 2_000),
    }
}

pub async fn run(setup: &Setup, options: &DataOptions) -> Result<DataReport> {
    let started = Instant::now();
    let skipped_steps = check_steps(setup, "data", &options.skip_steps)?;
    let source = &setup.config.source;
    let destination = &setup.config.destination;
    let m1_target = source.describe();
    let m2_target = destination.describe();
    let o = &setup.config.options;
    let (source_prefix, dest_prefix) = (o.source_prefix(), o.dest_prefix());
    let connections = options.parallel_tables.max(1) + 1;
    let m1_pool = db::pool(
        Side::M1,
        source,
        &o.init_statements_source(),
        &[],
        connections,
    )?;
    let m2_pool = db::pool(
        Side::M2,
        destination,
        &o.init_statements_destination(),
        &db::m2_write_session(),
        connections,
    )?;
    let result = async {
        let mut m1 = m1_pool
            .get_conn()
            .await
            .map_err(|e| connect_error(Side::M1, e, &m1_target))?;
        let mut m2 = m2_pool
            .get_conn()
            .await
            .map_err(|e| connect_error(Side::M2, e, &m2_target))?;
        let m1_schema = Schema::read(&mut m1)
            .await
            .map_err(|e| Error::db(Side::M1, e, "reading the schema").with_target(&m1_target))?;
        let m2_schema = Schema::read(&mut m2)
            .await
            .map_err(|e| Error::db(Side::M2, e, "reading the schema").with_target(&m2_target))?;
        let (mappings, integrity) =
            map::plan(&setup.map, &m1_schema, &m2_schema, &source_prefix, &dest_prefix)?;
        for warning in &integrity.warnings {
            tracing::warn!("{warning}");
        }
        if !integrity.is_ok() {
            return Err(Error::Integrity(integrity.errors));
        }
        // The Log step's data part copies its documents through its own map (map-log.xml).
        let runs_log = runs_data_class(setup, &skipped_steps, "Migration\\Step\\Log\\Data");
        let mut mappings = mappings;
        if runs_log {
            let log_map = crate::config::MapRules::load(&o.required_file("log_map_file")?)?;
            let documents: Vec<String> = match o.file("log_document_groups_file")? {
                Some(path) => crate::config::Groups::load(&path)?
                    .documents_of("source_documents")
                    .into_iter()
                    .map(|(d, _)| format!("{source_prefix}{d}"))
                    .collect(),
                None => vec![format!("{source_prefix}log_visitor")],
            };
            let (log_mappings, _) =
                map::plan(&log_map, &m1_schema, &m2_schema, &source_prefix, &dest_prefix)?;
            mappings.extend(
                log_mappings
                    .into_iter()
                    .filter(|m| documents.contains(&m.source_table)),
            );
        }
        // The Customer step's data part: its documents through its own map, entities with
        // the values that became M2 columns, value tables without them.
        let customer = if runs_data_class(setup, &skipped_steps, "Migration\\Step\\Customer\\Data") {
            let step = crate::steps::customer::Customer::from_setup(setup)?;
            let customer_mappings = step
                .plan_mappings(setup, &mut m1, &mut m2, &m1_schema, &m2_schema)
                .await
                .map_err(|e| e.with_target(&m1_target))?;
            mappings.retain(|m| {
                !customer_mappings
                    .iter()
                    .any(|c| c.source_table == m.source_table)
            });
            mappings.extend(customer_mappings);
            Some(step)
        } else {
            None
        };
        let transforms = mappings
            .iter()
            .map(|m| map::MapTransformer::new(m).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;

        let state = State::new(&dest_prefix);
        state
            .ensure_tables(&mut m2)
            .await
            .map_err(|e| Error::db(Side::M2, e, "creating the state tables").with_target(&m2_target))?;
        if options.reset {
            state
                .reset(&mut m2)
                .await
                .map_err(|e| Error::db(Side::M2, e, "resetting progress").with_target(&m2_target))?;
        }
        deltalog::install(&mut m1, setup, &InstallOptions::default())
            .await
            .map_err(|e| e.with_target(&m1_target))?;
        if options.reset {
            empty_deltalogs(&mut m1, setup)
                .await
                .map_err(|e| e.with_target(&m1_target))?;
        }
        let (binlog_start, binlog_recorded_now) = match state
            .binlog_start(&mut m2)
            .await
            .map_err(|e| Error::db(Side::M2, e, "reading the binlog start").with_target(&m2_target))?
        {
            Some(start) => (Some(start), false),
            None => match read_binlog_position(&mut m1).await {
                Ok(Some(start)) => {
                    state.record_binlog_start(&mut m2, &start).await.map_err(|e| {
                        Error::db(Side::M2, e, "recording the binlog start").with_target(&m2_target)
                    })?;
                    (Some(start), true)
                }
                Ok(None) => (None, false),
                Err(e) => {
                    tracing::warn!(
                        "the M1 binlog position was not recorded ({e}); --source=binlog will then start at \"now\" after draining the deltalog"
                    );
                    (None, false)
                }
            },
        };
        drop(m1);

        let progress = state
            .load_progress(&mut m2)
            .await
            .map_err(|e| Error::db(Side::M2, e, "reading progress").with_target(&m2_target))?;
        // Empty each destination once, before its first source table starts; never again on a
        // resumed run (a destination fed by two tables keeps the rows of the first).
        let mut by_destination: BTreeMap<&str, Vec<&TableMapping>> = BTreeMap::new();
        for m in &mappings {
            by_destination.entry(&m.destination_table).or_default().push(m);
        }
        for (destination_table, sources) in &by_destination {
            if sources.iter().any(|m| progress.contains_key(&m.source_table)) {
                continue;
            }
            m2.query_drop(format!("TRUNCATE TABLE {}", quote_ident(destination_table)))
                .await
                .map_err(|e| Error::db(Side::M2, e, &format!("emptying {destination_table}")).with_target(&m2_target))?;
            for m in sources {
                state
                    .start_table(&mut m2, &m.source_table)
                    .await
                    .map_err(|e| Error::db(Side::M2, e, "saving progress").with_target(&m2_target))?;
            }
        }
        drop(m2);
        let progress = Arc::new(progress);
        let copied = copy_tables(
            setup,
            options,
            &mappings,
            &transforms,
            &m2_schema,
            progress.clone(),
            &m1_pool,
            &m2_pool,
        )
        .await
        .map_err(|e| match &e {
            Error::Database { side: Side::M1, .. } => e.with_target(&m1_target),
            _ => e.with_target(&m2_target),
        })?;

        let mut m1 = m1_pool
            .get_conn()
            .await
            .map_err(|e| connect_error(Side::M1, e, &m1_target))?;
        let mut m2 = m2_pool
            .get_conn()
            .await
            .map_err(|e| connect_error(Side::M2, e, &m2_target))?;
        if let Some(step) = &customer {
            let recorded = step.data(&mut m1, &mut m2).await.map_err(|e| match &e {
                Error::Database { side: Side::M1, .. } => e.with_target(&m1_target),
                _ => e.with_target(&m2_target),
            })?;
            tracing::info!("Customer: {recorded} value rows that became Magento 2 columns recorded for the delta");
        }
        // OrderGrids' data part: the M2 grids rebuilt from the copied M2 sales tables.
        let runs_grids =
            runs_data_class(setup, &skipped_steps, "Migration\\Step\\OrderGrids\\Data");
        if runs_grids {
            let o = &setup.config.options;
            let grids = crate::steps::order_grids::OrderGrids {
                source_prefix: o.source_prefix(),
                dest_prefix: o.dest_prefix(),
                documents: Vec::new(),
            };
            let empty = std::collections::BTreeSet::new();
            let rows = grids
                .refresh(&mut m2, None, &empty, &empty, &empty)
                .await
                .map_err(|e| e.with_target(&m2_target))?;
            tracing::info!("OrderGrids: M2 grids rebuilt from the copied sales tables ({rows} rows written)");
        }
        if runs_log {
            let filled = fill_visitor_customers(&mut m1, &mut m2, &source_prefix, &dest_prefix)
                .await
                .map_err(|e| match &e {
                    Error::Database { side: Side::M1, .. } => e.with_target(&m1_target),
                    _ => e.with_target(&m2_target),
                })?;
            tracing::info!("Log: customer_id set on {filled} visitors from log_customer");
        }
        // Inventory's data part: M2's MSI tables from the copied stock items and shipments,
        // when M2 has them (as the DMT: nothing to feed otherwise).
        if runs_data_class(setup, &skipped_steps, "Migration\\Step\\Inventory\\Data") {
            let msi = format!("{dest_prefix}{}", crate::steps::inventory::MSI_TABLE);
            if m2_schema.table(&msi).is_some() {
                let step = crate::steps::inventory::Inventory {
                    source_prefix: source_prefix.clone(),
                    dest_prefix: dest_prefix.clone(),
                };
                let rows = step.data(&mut m2).await.map_err(|e| e.with_target(&m2_target))?;
                tracing::info!("Inventory: {rows} MSI rows written from the copied stock items and shipments");
            } else {
                tracing::info!("Inventory: Magento 2 has no MSI tables ({msi}), so there is nothing to feed (as the DMT)");
            }
        }
        // SalesIncrement's data part: M2's sequences continue M1's increment ids.
        let runs_sequences =
            runs_data_class(setup, &skipped_steps, "Migration\\Step\\SalesIncrement\\Data");
        if runs_sequences {
            let o = &setup.config.options;
            let step = crate::steps::sales_increment::SalesIncrement {
                source_prefix: o.source_prefix(),
                dest_prefix: o.dest_prefix(),
            };
            let created = step.data(&mut m1, &mut m2).await.map_err(|e| match &e {
                Error::Database { side: Side::M1, .. } => e.with_target(&m1_target),
                _ => e.with_target(&m2_target),
            })?;
            tracing::info!("SalesIncrement: {created} sequence tables created with M1's last increment ids");
        }
        let (tables, mut warnings) = volume_check(&mut m1, &mut m2, &by_destination)
            .await
            .map_err(|e| e.with_target(&m2_target))?;
        let with_target = |e: Error| match &e {
            Error::Database { side: Side::M1, .. } => e.with_target(&m1_target),
            _ => e.with_target(&m2_target),
        };
        // ConfigurablePrices' data part: the children's prices, over the copied M2 prices (after
        // the Map step's volume check, as the DMT runs each step's volume after its data).
        let mut step_warnings = Vec::new();
        if runs_data_class(setup, &skipped_steps, "Migration\\Step\\ConfigurablePrices\\Data") {
            let step = crate::steps::configurable_prices::ConfigurablePrices::from_setup(setup);
            let rows = step.data(&mut m1, &mut m2).await.map_err(with_target)?;
            tracing::info!("ConfigurablePrices: {rows} prices of configurable products' children written");
        }
        // Url Rewrite (Version191to2000): M1's rewrites and the cms-page rewrites, and its volume.
        if runs_data_class(setup, &skipped_steps, "Migration\\Step\\UrlRewrite\\Version191to2000") {
            let step = crate::steps::url_rewrite::UrlRewrite::from_setup(setup);
            let rows = step.data(&mut m1, &mut m2).await.map_err(with_target)?;
            tracing::info!("Url Rewrite: {rows} rewrites written");
            step_warnings.extend(step.volume_check(&mut m1, &mut m2).await.map_err(with_target)?);
        }
        // TierPrice's data part: tier and group prices into M2's tier prices, and its volume.
        if runs_data_class(setup, &skipped_steps, "Migration\\Step\\TierPrice\\Data") {
            let step = crate::steps::tier_price::TierPrice::from_setup(setup)?;
            let rows = step
                .data(&mut m1, &mut m2, &m1_schema, &m2_schema)
                .await
                .map_err(with_target)?;
            tracing::info!("TierPrice: {rows} tier and group prices written");
            if runs_data_class(setup, &skipped_steps, "Migration\\Step\\TierPrice\\Volume") {
                step_warnings.extend(step.volume_check(&mut m1, &mut m2).await.map_err(with_target)?);
            }
        }
        warnings.extend(step_warnings);
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        Ok(DataReport {
            tables,
            rows_copied: copied,
            elapsed: started.elapsed(),
            binlog_start,
            binlog_recorded_now,
            skipped_steps,
            warnings: integrity.warnings.into_iter().chain(warnings).collect(),
        })
    }
    .await;
    let _ = m1_pool.disconnect().await;
    let _ = m2_pool.disconnect().await;
    result
}

/// Whether a data-mode class of config.xml runs (its step not skipped).
fn runs_data_class(setup: &Setup, skipped: &[String], class: &str) -> bool {
    setup.steps("data").iter().any(|s| {
        !skipped.contains(&s.config.title)
            && s.classes
                .iter()
                .any(|c| c.class.eq_ignore_ascii_case(class))
    })
}

/// The Log step: `customer_visitor.customer_id` from M1's `log_customer`, by visitor (the DMT's
/// LEFT JOIN on visitor_id), in pages.
async fn fill_visitor_customers(
    m1: &mut mysql_async::Conn,
    m2: &mut mysql_async::Conn,
    source_prefix: &str,
    dest_prefix: &str,
) -> Result<u64> {
    use mysql_async::prelude::Queryable;
    let log_customer = db::quote_ident(&format!("{source_prefix}log_customer"));
    let visitor = db::quote_ident(&format!("{dest_prefix}customer_visitor"));
    let mut after = 0u64;
    let mut filled = 0u64;
    loop {
        let rows: Vec<(u64, u64, Option<u64>)> = m1
            .exec(
                format!("SELECT log_id, visitor_id, customer_id FROM {log_customer} WHERE log_id > ? ORDER BY log_id LIMIT 1000"),
                (after,),
            )
            .await
            .map_err(|e| Error::db(Side::M1, e, "reading log_customer"))?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        let pairs: Vec<(u64, u64)> = rows
            .iter()
            .filter_map(|(_, v, c)| c.map(|c| (*v, c)))
            .collect();
        if !pairs.is_empty() {
            let cases = vec!["WHEN ? THEN ?"; pairs.len()].join(" ");
            let marks = vec!["?"; pairs.len()].join(", ");
            let mut params: Vec<mysql_async::Value> = Vec::new();
            for (v, c) in &pairs {
                params.push((*v).into());
                params.push((*c).into());
            }
            params.extend(pairs.iter().map(|(v, _)| mysql_async::Value::from(*v)));
            m2.exec_drop(
                // last_visit_at is ON UPDATE CURRENT_TIMESTAMP in M2: kept as copied.
                format!("UPDATE {visitor} SET customer_id = CASE visitor_id {cases} END, last_visit_at = last_visit_at WHERE visitor_id IN ({marks})"),
                params,
            )
            .await
            .map_err(|e| Error::db(Side::M2, e, "writing customer_visitor.customer_id"))?;
            filled += m2.affected_rows();
        }
    }
    Ok(filled)
}

fn connect_error(side: Side, e: mysql_async::Error, target: &str) -> Error {
    let (code, _) = db::classify(&e);
    Error::Database {
        side,
        target: target.to_string(),
        message: format!("connect: {}", db::error_text(&e)),
        code,
        kind: crate::error::DbErrorKind::Access,
    }
}

#[allow(clippy::too_many_arguments)]
async fn copy_tables(
    setup: &Setup,
    options: &DataOptions,
    mappings: &[TableMapping],
    transforms: &[Arc<map::MapTransformer>],
    m2_schema: &Schema,
    progress: Arc<HashMap<String, state::Progress>>,
    m1_pool: &Pool,
    m2_pool: &Pool,
) -> Result<u64> {
    let bars = MultiProgress::with_draw_target(if options.progress_bars {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template(
        "{prefix:>32} [{bar:30}] {pos:>9}/{len:9} {per_sec:>12} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let bulk = setup.config.options.bulk_size()?;
    let throttle = Arc::new(Throttle::new(options.max_rows_per_second));
    let semaphore = Arc::new(Semaphore::new(options.parallel_tables.max(1)));
    let dest_prefix = setup.config.options.dest_prefix();
    let state = Arc::new(State::new(&dest_prefix));
    let mut tasks = tokio::task::JoinSet::new();
    for (mapping, transform) in mappings.iter().zip(transforms) {
        let done = progress
            .get(&mapping.source_table)
            .cloned()
            .unwrap_or(state::Progress {
                last_key: None,
                rows: 0,
                done: false,
            });
        if done.done {
            continue;
        }
        let Some(destination) = m2_schema.table(&mapping.destination_table).cloned() else {
            continue;
        };
        let mapping = mapping.clone();
        let transform = transform.clone();
        let (m1_pool, m2_pool) = (m1_pool.clone(), m2_pool.clone());
        let (semaphore, throttle, state) = (semaphore.clone(), throttle.clone(), state.clone());
        let bar = bars.add(ProgressBar::new(mapping.estimated_rows.max(done.rows)));
        bar.set_style(style.clone());
        bar.set_prefix(mapping.source_table.clone());
        let page = page_rows(bulk, mapping.select_columns.len());
        tasks.spawn(async move {
            let _permit = semaphore
                .acquire_owned()
                .await
                .map_err(|_| Error::Usage("copy cancelled".into()))?;
            let started_with = done.rows;
            let table_started = Instant::now();
            let transform_fn = move |row| transform.transform(row);
            let copy = TableCopy {
                mapping: &mapping,
                destination: &destination,
                transform: &transform_fn,
                state: &state,
                page_rows: page,
                throttle: &throttle,
            };
            let total = copy.run(&m1_pool, &m2_pool, done, &bar).await?;
            let mut m2 = m2_pool
                .get_conn()
                .await
                .map_err(|e| Error::db(Side::M2, e, "connecting"))?;
            state
                .finish_table(&mut m2, &mapping.source_table)
                .await
                .map_err(|e| Error::db(Side::M2, e, "saving progress"))?;
            bar.finish_and_clear();
            let copied = total - started_with;
            tracing::info!(
                "{} → {}: {copied} rows in {:.1} s",
                mapping.source_table,
                mapping.destination_table,
                table_started.elapsed().as_secs_f64()
            );
            Ok::<u64, Error>(copied)
        });
    }
    let mut copied = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(rows)) => copied += rows,
            Ok(Err(e)) => {
                // Committed pages stay committed: a new run resumes after them.
                tasks.abort_all();
                return Err(e);
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => return Err(Error::Usage(format!("a copy task failed: {e}"))),
        }
    }
    Ok(copied)
}

/// As the DMT's `-r` does: re-running trigger setup empties every deltalog.
async fn empty_deltalogs(m1: &mut Conn, setup: &Setup) -> Result<()> {
    let prefix = setup.config.options.source_prefix();
    let existing: Vec<String> = m1
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        .await
        .map_err(|e| Error::db(Side::M1, e, "listing tables"))?;
    for table in &setup.deltalog_tables {
        let name = deltalog::naming::deltalog_table(&prefix, &table.table);
        if existing.contains(&name) {
            m1.query_drop(format!("TRUNCATE TABLE {}", quote_ident(&name)))
                .await
                .map_err(|e| Error::db(Side::M1, e, &format!("emptying {name}")))?;
        }
    }
    Ok(())
}

/// The current binlog file, position and GTID; `None` when binary logging is off.
async fn read_binlog_position(
    m1: &mut Conn,
) -> std::result::Result<Option<BinlogStart>, mysql_async::Error> {
    let log_bin: Option<u8> = m1.query_first("SELECT @@log_bin").await?;
    if log_bin != Some(1) {
        return Ok(None);
    }
    let status: Option<mysql_async::Row> = m1.query_first("SHOW MASTER STATUS").await?;
    let Some(row) = status else {
        return Ok(None);
    };
    let file: Option<String> = row.get(0);
    let position: Option<u64> = row.get(1);
    let version: Option<String> = m1.query_first("SELECT VERSION()").await?;
    let gtid_sql = if version
        .unwrap_or_default()
        .to_ascii_lowercase()
        .contains("mariadb")
    {
        "SELECT @@gtid_binlog_pos"
    } else {
        "SELECT @@gtid_executed"
    };
    let gtid: Option<String> = m1.query_first(gtid_sql).await.unwrap_or(None);
    Ok(match (file, position) {
        (Some(file), Some(position)) => Some(BinlogStart {
            file,
            position,
            gtid: gtid.unwrap_or_default(),
        }),
        _ => None,
    })
}

/// The DMT's volume check: row counts of each destination against its sources.
async fn volume_check(
    m1: &mut Conn,
    m2: &mut Conn,
    by_destination: &BTreeMap<&str, Vec<&TableMapping>>,
) -> Result<(Vec<(String, u64)>, Vec<String>)> {
    let mut tables = Vec::new();
    let mut warnings = Vec::new();
    for (destination, sources) in by_destination {
        let mut source_rows = 0u64;
        for m in sources {
            // Rows a step leaves out (customer values that became columns) are not counted.
            let filter = m
                .filter
                .as_ref()
                .map_or(String::new(), |f| format!(" WHERE {f}"));
            let n: Option<u64> = m1
                .query_first(format!(
                    "SELECT COUNT(*) FROM {} AS t{filter}",
                    quote_ident(&m.source_table)
                ))
                .await
                .map_err(|e| Error::db(Side::M1, e, "counting rows"))?;
            source_rows += n.unwrap_or(0);
        }
        let n: Option<u64> = m2
            .query_first(format!("SELECT COUNT(*) FROM {}", quote_ident(destination)))
            .await
            .map_err(|e| Error::db(Side::M2, e, "counting rows"))?;
        let destination_rows = n.unwrap_or(0);
        if destination_rows != source_rows {
            // The DMT's message; on a live store the source may have grown meanwhile, which the
            // deltalog then carries over.
            warnings.push(format!(
                "Mismatch of entities in the document: {destination} Source: {source_rows} Destination: {destination_rows}"
            ));
        }
        for m in sources {
            tables.push((m.source_table.clone(), destination_rows));
        }
    }
    tables.sort();
    Ok((tables, warnings))
}
