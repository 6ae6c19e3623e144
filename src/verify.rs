//! `verify`: compares M1, transformed through the map, with M2, table by table, in primary-key
//! chunks. Each chunk is hashed on both sides in Rust (M1 rows after the transform, M2 rows as
//! read); only a chunk whose hashes differ is compared row by row. A differing key is read again
//! on both sides after a short wait, so a change that `migrate:delta` had not applied yet when
//! the chunk was read is not reported. Read-only on both sides, and throttled for a live M1.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

use crate::db::{self, quote_ident};
use crate::error::{Error, Result, Side};
use crate::migrate_data::Throttle;
use crate::pipeline::write::describe_key;
use crate::setup::Setup;
use crate::source::deltalog::{key_list_condition, keyset_after};
use crate::steps::map::{self, MapTransformer, TableMapping};

/// Keys kept per table and kind for the report (`--report-json`); the counts are exact.
pub const REPORT_KEYS: usize = 1000;
/// Example keys per kind printed per table.
pub const PRINTED_KEYS: usize = 10;
/// Differing keys per table held for the re-check; beyond this they are counted without one,
/// so memory stays bounded when a whole table is missing.
const RECHECK_KEYS: usize = 10_000;
const MIN_CHUNK: usize = 100;
const MAX_CHUNK: usize = 50_000;

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Only these tables (M1 or M2 names, with or without prefix); all when empty.
    pub tables: Vec<String>,
    /// A fixed chunk size; adapted to `chunk_time` when `None`.
    pub chunk_rows: Option<usize>,
    /// Target time per chunk when the size adapts (as pt-table-checksum's `--chunk-time`).
    pub chunk_time: Duration,
    /// Caps the M1 rows read per second, on top of the 50 % duty cycle.
    pub max_rows_per_second: Option<u64>,
    /// Wait before a differing key is read again on both sides.
    pub recheck_after: Duration,
    /// Called with the M2 table's name when its first read found differences, before the
    /// wait and the re-check (for a progress display, or a test that changes a row there).
    pub before_recheck: Option<RecheckHook>,
}

/// A callback run before a table's differing keys are read again.
#[derive(Clone)]
pub struct RecheckHook(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for RecheckHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecheckHook")
    }
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            tables: Vec::new(),
            chunk_rows: None,
            chunk_time: Duration::from_millis(500),
            max_rows_per_second: None,
            recheck_after: Duration::from_secs(2),
            before_recheck: None,
        }
    }
}

/// What one M1 → M2 table pair showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableResult {
    pub source_table: String,
    pub destination_table: String,
    /// M1 rows whose M2 row is equal.
    pub equal: u64,
    pub missing_count: u64,
    pub extra_count: u64,
    pub different_count: u64,
    /// Keys (M2 key columns, `entity_id=12`), at most [`REPORT_KEYS`] each, in key order.
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    /// Key and the M2 columns that differ.
    pub different: Vec<(String, Vec<String>)>,
    /// Another M1 table feeds the same M2 table: M2 rows without an M1 row here are not
    /// counted as extra.
    pub extras_unchecked: bool,
}

impl TableResult {
    pub fn is_equal(&self) -> bool {
        self.missing_count + self.extra_count + self.different_count == 0
    }

    fn name(&self) -> String {
        if self.source_table == self.destination_table {
            self.destination_table.clone()
        } else {
            format!("{} (M1 {})", self.destination_table, self.source_table)
        }
    }

    /// The table's line, then example keys when it differs.
    pub fn lines(&self) -> Vec<String> {
        if self.is_equal() {
            return vec![format!("ok    {}: {} rows equal", self.name(), self.equal)];
        }
        let mut out = vec![format!(
            "DIFF  {}: {} missing in M2, {} extra in M2, {} different",
            self.name(),
            self.missing_count,
            self.extra_count,
            self.different_count
        )];
        for key in self.missing.iter().take(PRINTED_KEYS) {
            out.push(format!("  missing in M2: {key}"));
        }
        for key in self.extra.iter().take(PRINTED_KEYS) {
            out.push(format!("  extra in M2: {key}"));
        }
        for (key, columns) in self.different.iter().take(PRINTED_KEYS) {
            out.push(format!("  different: {key} ({})", columns.join(", ")));
        }
        out
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "source_table": self.source_table,
            "destination_table": self.destination_table,
            "equal": self.equal,
            "missing_in_m2": self.missing_count,
            "extra_in_m2": self.extra_count,
            "different": self.different_count,
            "missing_keys": self.missing,
            "extra_keys": self.extra,
            "different_keys": self
                .different
                .iter()
                .map(|(k, c)| serde_json::json!({"key": k, "columns": c}))
                .collect::<Vec<_>>(),
            "extras_checked": !self.extras_unchecked,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub tables: Vec<TableResult>,
    /// What was not compared, and why (`step "EAV Step" not built`).
    pub not_verified: Vec<String>,
    pub elapsed: Duration,
}

impl VerifyReport {
    pub fn is_equal(&self) -> bool {
        self.tables.iter().all(TableResult::is_equal)
    }

    /// Every line `verify` prints: per table, what was not verified, the summary.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.tables.iter().flat_map(TableResult::lines).collect();
        for what in &self.not_verified {
            out.push(format!("not verified: {what}"));
        }
        let differ = self.tables.iter().filter(|t| !t.is_equal()).count();
        let sum = |f: fn(&TableResult) -> u64| self.tables.iter().map(f).sum::<u64>();
        out.push(format!(
            "verify: {} tables equal, {differ} differ ({} missing in M2, {} extra in M2, {} different) in {:.1} s",
            self.tables.len() - differ,
            sum(|t| t.missing_count),
            sum(|t| t.extra_count),
            sum(|t| t.different_count),
            self.elapsed.as_secs_f64()
        ));
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({
            "equal": self.is_equal(),
            "tables": self.tables.iter().map(TableResult::to_json).collect::<Vec<_>>(),
            "not_verified": self.not_verified,
            "seconds": self.elapsed.as_secs_f64(),
        })
        .to_string()
    }
}

/// A value as text, equal for what M1 (after the transform) and M2 return for the same stored
/// value: the two may type a column differently (smallint → int, varchar → text, a handler's
/// string for an int column), so values compare by their SQL text, as the tests' diff does.
fn canonical(v: &Value) -> Option<Vec<u8>> {
    Some(match v {
        Value::NULL => return None,
        Value::Bytes(b) => b.clone(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::UInt(u) => u.to_string().into_bytes(),
        Value::Float(f) => f.to_string().into_bytes(),
        Value::Double(d) => d.to_string().into_bytes(),
        Value::Date(y, mo, d, h, mi, s, us) => {
            let mut t = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
            if *us > 0 {
                t.push_str(&format!(".{us:06}"));
            }
            t.into_bytes()
        }
        Value::Time(negative, days, h, mi, s, us) => {
            let hours = u64::from(*days) * 24 + u64::from(*h);
            let mut t = format!(
                "{}{hours:02}:{mi:02}:{s:02}",
                if *negative { "-" } else { "" }
            );
            if *us > 0 {
                t.push_str(&format!(".{us:06}"));
            }
            t.into_bytes()
        }
    })
}

fn canonical_row(row: &[Value]) -> Vec<Option<Vec<u8>>> {
    row.iter().map(canonical).collect()
}

/// Stable within a run (SipHash with fixed keys), which is all a comparison needs.
fn row_hash(row: &[Option<Vec<u8>>]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    row.hash(&mut h);
    h.finish()
}

/// One side's checksum of a chunk: row count, and the sum and XOR of the row hashes.
#[derive(Default)]
struct ChunkSum {
    count: u64,
    sum: u64,
    xor: u64,
}

impl ChunkSum {
    fn add(&mut self, hash: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(hash);
        self.xor ^= hash;
    }

    fn same(&self, other: &ChunkSum) -> bool {
        (self.count, self.sum, self.xor) == (other.count, other.sum, other.xor)
    }
}

/// A row read on one side: its M2 key (values and matching text), values as text, hash.
struct Row {
    key: Vec<Value>,
    m1_key: Vec<Value>,
    key_text: Vec<Option<Vec<u8>>>,
    values: Vec<Option<Vec<u8>>>,
    hash: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Missing,
    Extra,
    Different,
}

/// A key that differed on the first read, to be read again.
struct Candidate {
    m1_key: Vec<Value>,
    m2_key: Vec<Value>,
}

/// How one mapping is read and compared.
struct TablePlan<'a> {
    mapping: &'a TableMapping,
    transformer: MapTransformer,
    /// Positions of the M1 primary key in `select_columns`.
    m1_key_at: Vec<usize>,
    /// Positions in `insert_columns` of the M2 columns the M1 primary key is copied into.
    m2_key_at: Vec<usize>,
    m2_key_columns: Vec<String>,
    shared_destination: bool,
}

impl TablePlan<'_> {
    fn m1_key_exprs(&self) -> Vec<String> {
        self.mapping
            .primary_key
            .iter()
            .map(|c| format!("t.{}", quote_ident(c)))
            .collect()
    }

    fn m2_key_exprs(&self) -> Vec<String> {
        self.m2_key_columns.iter().map(|c| quote_ident(c)).collect()
    }

    fn m2_select(&self) -> String {
        let columns: Vec<String> = self
            .mapping
            .insert_columns
            .iter()
            .map(|c| quote_ident(c))
            .collect();
        format!(
            "SELECT {} FROM {}",
            columns.join(", "),
            quote_ident(&self.mapping.destination_table)
        )
    }

    fn describe(&self, key: &[Value]) -> String {
        describe_key(&self.m2_key_columns, key)
    }

    /// M1 rows, transformed.
    fn m1_rows(&self, rows: Vec<mysql_async::Row>) -> Result<Vec<Row>> {
        rows.into_iter()
            .map(|row| {
                // mysql_async's Row::unwrap: the values of a row no value was taken from; no
                // panic here.
                let row = row.unwrap();
                let m1_key: Vec<Value> = self.m1_key_at.iter().map(|&i| row[i].clone()).collect();
                let out = self.transformer.transform(row).map_err(|e| Error::Data {
                    table: self.mapping.destination_table.clone(),
                    key: crate::pipeline::write::row_ref(self.mapping, &m1_key),
                    message: e.0,
                })?;
                Ok(self.row(out, m1_key))
            })
            .collect()
    }

    fn m2_rows(&self, rows: Vec<mysql_async::Row>) -> Vec<Row> {
        rows.into_iter()
            .map(|row| {
                // The row's values, as in m1_rows.
                let row = row.unwrap();
                // An extra M2 row has no M1 key: its own key is what a re-check reads M1 by,
                // since the map copies key columns unchanged.
                let key: Vec<Value> = self.m2_key_at.iter().map(|&i| row[i].clone()).collect();
                self.row(row, key)
            })
            .collect()
    }

    fn row(&self, values: Vec<Value>, m1_key: Vec<Value>) -> Row {
        let key: Vec<Value> = self.m2_key_at.iter().map(|&i| values[i].clone()).collect();
        let text = canonical_row(&values);
        let key_text = self.m2_key_at.iter().map(|&i| text[i].clone()).collect();
        Row {
            key,
            m1_key,
            key_text,
            hash: row_hash(&text),
            values: text,
        }
    }

    /// The M2 columns whose values differ.
    fn different_columns(&self, a: &Row, b: &Row) -> Vec<String> {
        self.mapping
            .insert_columns
            .iter()
            .zip(a.values.iter().zip(&b.values))
            .filter(|(_, (x, y))| x != y)
            .map(|(c, _)| c.clone())
            .collect()
    }
}

/// Differences of one table while it is scanned, before the re-check.
#[derive(Default)]
struct Found {
    equal: u64,
    candidates: Vec<Candidate>,
    /// Differences beyond [`RECHECK_KEYS`], counted as first seen.
    unchecked: Vec<(Kind, String, Vec<String>)>,
    first_at: Option<Instant>,
}

impl Found {
    fn add(&mut self, plan: &TablePlan<'_>, kind: Kind, row: &Row, columns: Vec<String>) {
        self.first_at.get_or_insert_with(Instant::now);
        if self.candidates.len() < RECHECK_KEYS {
            self.candidates.push(Candidate {
                m1_key: row.m1_key.clone(),
                m2_key: row.key.clone(),
            });
        } else {
            self.unchecked
                .push((kind, plan.describe(&row.key), columns));
        }
    }
}

/// Compares the rows of one chunk, row by row (called when the chunk hashes differ). Keys are
/// reported in key order: M1's for missing and different rows, M2's for extra ones.
fn compare_rows(plan: &TablePlan<'_>, m1: &[Row], m2: &[Row], found: &mut Found) {
    let m1_keys: HashSet<&[Option<Vec<u8>>]> = m1.iter().map(|r| r.key_text.as_slice()).collect();
    let mut by_key: HashMap<&[Option<Vec<u8>>], &Row> = HashMap::with_capacity(m2.len());
    let mut extras = Vec::new();
    for row in m2 {
        let key = row.key_text.as_slice();
        // A second M2 row with the same key (the M2 key columns need not be unique) is extra.
        if !m1_keys.contains(key) || by_key.contains_key(key) {
            extras.push(row);
        } else {
            by_key.insert(key, row);
        }
    }
    for row in m1 {
        match by_key.get(row.key_text.as_slice()) {
            None => found.add(plan, Kind::Missing, row, Vec::new()),
            Some(other) if other.values == row.values => found.equal += 1,
            Some(other) => {
                let columns = plan.different_columns(row, other);
                found.add(plan, Kind::Different, row, columns);
            }
        }
    }
    if !plan.shared_destination {
        for row in extras {
            found.add(plan, Kind::Extra, row, Vec::new());
        }
    }
}

/// Opens one side read-only: `SET SESSION TRANSACTION READ ONLY` where the server has it
/// (MySQL ≥ 5.6.5, MariaDB ≥ 10.0); verify itself only ever runs SELECTs.
async fn connect_read_only(
    side: Side,
    config: &crate::config::DatabaseConfig,
    init: &[String],
) -> Result<Conn> {
    let mut conn = db::connect(side, config, init).await?;
    if let Err(e) = conn.query_drop("SET SESSION TRANSACTION READ ONLY").await {
        tracing::debug!("{side}: no read-only sessions ({e}); verify only reads anyway");
    }
    Ok(conn)
}

fn matches_filter(mapping: &TableMapping, name: &str) -> bool {
    [
        &mapping.source_table,
        &mapping.document,
        &mapping.destination_table,
        &mapping.destination,
    ]
    .iter()
    .any(|n| n.as_str() == name)
}

/// Compares every Map-step table (or those of `options.tables`).
pub async fn run(setup: &Setup, options: &VerifyOptions) -> Result<VerifyReport> {
    let started = Instant::now();
    let o = &setup.config.options;
    let (source, destination) = (&setup.config.source, &setup.config.destination);
    let (m1_target, m2_target) = (source.describe(), destination.describe());
    let mut m1 = connect_read_only(Side::M1, source, &o.init_statements_source()).await?;
    let mut m2 = connect_read_only(Side::M2, destination, &o.init_statements_destination()).await?;
    let m1_schema = db::schema::Schema::read(&mut m1)
        .await
        .map_err(|e| Error::db(Side::M1, e, "reading the schema").with_target(&m1_target))?;
    let m2_schema = db::schema::Schema::read(&mut m2)
        .await
        .map_err(|e| Error::db(Side::M2, e, "reading the schema").with_target(&m2_target))?;
    let (mappings, integrity) = map::plan(
        &setup.map,
        &m1_schema,
        &m2_schema,
        &o.source_prefix(),
        &o.dest_prefix(),
    )?;
    if !integrity.is_ok() {
        return Err(Error::Integrity(integrity.errors));
    }
    // The Customer step's tables, through its map and its columns from M1's values.
    let mut mappings = mappings;
    let customer_step = setup.lists_step("customer");
    if customer_step {
        let step = crate::steps::customer::Customer::from_setup(setup)?;
        let customer = step
            .plan_mappings(setup, &mut m1, &mut m2, &m1_schema, &m2_schema)
            .await
            .map_err(|e| e.with_target(&m1_target))?;
        mappings.retain(|m| !customer.iter().any(|c| c.source_table == m.source_table));
        mappings.extend(customer);
    }
    // The Log step's documents, through map-log.xml (`customer_visitor.customer_id`, which its
    // data part sets from log_customer, is not part of that map and not compared).
    let log_step = setup.lists_step("log");
    if log_step {
        if let Some(path) = o.file("log_map_file")? {
            let log_map = crate::config::MapRules::load(&path)?;
            let documents: Vec<String> = match o.file("log_document_groups_file")? {
                Some(path) => crate::config::Groups::load(&path)?
                    .documents_of("source_documents")
                    .into_iter()
                    .map(|(d, _)| format!("{}{d}", o.source_prefix()))
                    .collect(),
                None => vec![format!("{}log_visitor", o.source_prefix())],
            };
            let (log_mappings, _) = map::plan(
                &log_map,
                &m1_schema,
                &m2_schema,
                &o.source_prefix(),
                &o.dest_prefix(),
            )?;
            let log_mappings: Vec<TableMapping> = log_mappings
                .into_iter()
                .filter(|m| documents.contains(&m.source_table))
                .collect();
            mappings.retain(|m| {
                !log_mappings
                    .iter()
                    .any(|l| l.source_table == m.source_table)
            });
            mappings.extend(log_mappings);
        }
    }
    for name in &options.tables {
        if !mappings.iter().any(|m| matches_filter(m, name)) {
            return Err(Error::Usage(format!(
                "--tables {name}: no table of the Map step has this name in M1 or M2"
            )));
        }
    }
    let mut report = VerifyReport {
        not_verified: crate::migrate_data::unbuilt_steps(setup, "data")
            .into_iter()
            .map(|t| format!("step \"{t}\" not built"))
            .collect(),
        ..Default::default()
    };
    // A table a step writes besides the map is not M1 through the map: it is named, not
    // compared (the step's volume check covers it).
    let configurable = setup.lists_step("configurable_prices");
    let decimals = format!("{}catalog_product_entity_decimal", o.dest_prefix());
    if configurable && mappings.iter().any(|m| m.destination_table == decimals) {
        mappings.retain(|m| m.destination_table != decimals);
        report.not_verified.push(format!(
            "{decimals}: the ConfigurablePrices step writes the prices of configurable products' children into it"
        ));
    }
    let throttle = Throttle::new(options.max_rows_per_second);
    let mut mappings: Vec<&TableMapping> = mappings
        .iter()
        .filter(|m| {
            options.tables.is_empty() || options.tables.iter().any(|n| matches_filter(m, n))
        })
        .collect();
    mappings.sort_by(|a, b| {
        (&a.destination_table, &a.source_table).cmp(&(&b.destination_table, &b.source_table))
    });
    let all: Vec<(String, String)> = mappings
        .iter()
        .map(|m| (m.source_table.clone(), m.destination_table.clone()))
        .collect();
    for mapping in mappings {
        let Some(plan) = table_plan(mapping, &all)? else {
            report.not_verified.push(format!(
                "{}: the M1 primary key ({}) is not copied to M2 as it is",
                mapping.source_table,
                mapping.primary_key.join(", ")
            ));
            continue;
        };
        let result = verify_table(&plan, &mut m1, &mut m2, options, &throttle)
            .await
            .map_err(|e| match &e {
                Error::Database { side: Side::M1, .. } => e.with_target(&m1_target),
                _ => e.with_target(&m2_target),
            })?;
        report.tables.push(result);
    }
    let _ = m1.disconnect().await;
    let _ = m2.disconnect().await;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn table_plan<'a>(
    mapping: &'a TableMapping,
    all: &[(String, String)],
) -> Result<Option<TablePlan<'a>>> {
    let mut m1_key_at = Vec::new();
    let mut m2_key_at = Vec::new();
    let mut m2_key_columns = Vec::new();
    for column in &mapping.primary_key {
        let Some(i) = mapping.select_columns.iter().position(|c| c == column) else {
            return Ok(None);
        };
        let Some((_, dest)) = mapping.copies.iter().find(|(s, _)| *s == i) else {
            return Ok(None);
        };
        let Some(j) = mapping.insert_columns.iter().position(|c| c == dest) else {
            return Ok(None);
        };
        m1_key_at.push(i);
        m2_key_at.push(j);
        m2_key_columns.push(dest.clone());
    }
    if m1_key_at.is_empty() {
        return Ok(None);
    }
    let shared_destination = all
        .iter()
        .filter(|(_, d)| *d == mapping.destination_table)
        .count()
        > 1;
    Ok(Some(TablePlan {
        mapping,
        transformer: MapTransformer::new(mapping)?,
        m1_key_at,
        m2_key_at,
        m2_key_columns,
        shared_destination,
    }))
}

fn m1_error<'a>(plan: &'a TablePlan<'a>) -> impl Fn(mysql_async::Error) -> Error + 'a {
    move |e| {
        Error::db(
            Side::M1,
            e,
            &format!("reading {}", plan.mapping.source_table),
        )
    }
}

fn m2_error<'a>(plan: &'a TablePlan<'a>) -> impl Fn(mysql_async::Error) -> Error + 'a {
    move |e| {
        Error::db(
            Side::M2,
            e,
            &format!("reading {}", plan.mapping.destination_table),
        )
    }
}

async fn verify_table(
    plan: &TablePlan<'_>,
    m1: &mut Conn,
    m2: &mut Conn,
    options: &VerifyOptions,
    throttle: &Throttle,
) -> Result<TableResult> {
    let m1_keys = plan.m1_key_exprs();
    let m2_keys = plan.m2_key_exprs();
    let mut chunk = options.chunk_rows.map_or(1000, |n| n.max(1));
    let mut found = Found::default();
    // The last M1 key read, and the M2 key it became: the next chunk starts after them.
    let mut m1_after: Option<Vec<Value>> = None;
    let mut m2_after: Option<Vec<Value>> = None;
    loop {
        throttle.admit(chunk as u64).await;
        let chunk_started = Instant::now();
        let mut params = Vec::new();
        let mut condition = None;
        if let Some(after) = &m1_after {
            let (c, values) = keyset_after(&m1_keys, after);
            condition = Some(c);
            params = values;
        }
        let mut sql = plan.mapping.select_where(condition.as_deref());
        sql.push_str(&format!(" ORDER BY {} LIMIT {chunk}", m1_keys.join(", ")));
        let rows: Vec<mysql_async::Row> = m1.exec(sql, params).await.map_err(m1_error(plan))?;
        let m1_read = chunk_started.elapsed();
        if rows.is_empty() {
            break;
        }
        let full = rows.len() == chunk;
        let m1_rows = plan.m1_rows(rows)?;
        let last = m1_rows.last().map(|r| (r.m1_key.clone(), r.key.clone()));
        let Some((last_m1, last_m2)) = last else {
            break;
        };
        // M2 rows of (previous chunk's last key, this chunk's last key]: everything before the
        // first M1 key counts in the first chunk, so extras there are found too.
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        if let Some(after) = &m2_after {
            let (condition, values) = keyset_after(&m2_keys, after);
            conditions.push(format!("({condition})"));
            params.extend(values);
        }
        let (condition, values) = keyset_after(&m2_keys, &last_m2);
        conditions.push(format!("NOT ({condition})"));
        params.extend(values);
        let sql = format!(
            "{} WHERE {} ORDER BY {}",
            plan.m2_select(),
            conditions.join(" AND "),
            m2_keys.join(", ")
        );
        let rows: Vec<mysql_async::Row> = m2.exec(sql, params).await.map_err(m2_error(plan))?;
        let m2_rows = plan.m2_rows(rows);
        let (mut a, mut b) = (ChunkSum::default(), ChunkSum::default());
        m1_rows.iter().for_each(|r| a.add(r.hash));
        m2_rows.iter().for_each(|r| b.add(r.hash));
        if a.same(&b) {
            found.equal += a.count;
        } else {
            compare_rows(plan, &m1_rows, &m2_rows, &mut found);
        }
        m1_after = Some(last_m1);
        m2_after = Some(last_m2);
        if options.chunk_rows.is_none() {
            let took = chunk_started.elapsed();
            if took < options.chunk_time / 2 {
                chunk = (chunk * 2).min(MAX_CHUNK);
            } else if took > options.chunk_time * 2 {
                chunk = (chunk / 2).max(MIN_CHUNK);
            }
        }
        if !full {
            break;
        }
        // At most about half of the wall time goes to reading M1.
        tokio::time::sleep(m1_read).await;
    }
    if !plan.shared_destination {
        extras_after(plan, m2, m2_after, chunk, &mut found).await?;
    }
    recheck(plan, m1, m2, options, found).await
}

/// M2 rows after the last M1 key (all of M2 when M1 is empty): every one is extra.
async fn extras_after(
    plan: &TablePlan<'_>,
    m2: &mut Conn,
    mut after: Option<Vec<Value>>,
    chunk: usize,
    found: &mut Found,
) -> Result<()> {
    let m2_keys = plan.m2_key_exprs();
    loop {
        let mut sql = plan.m2_select();
        let mut params = Vec::new();
        if let Some(after) = &after {
            let (condition, values) = keyset_after(&m2_keys, after);
            sql.push_str(&format!(" WHERE {condition}"));
            params = values;
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT {chunk}", m2_keys.join(", ")));
        let rows: Vec<mysql_async::Row> = m2.exec(sql, params).await.map_err(m2_error(plan))?;
        let full = rows.len() == chunk;
        let rows = plan.m2_rows(rows);
        let Some(last) = rows.last().map(|r| r.key.clone()) else {
            return Ok(());
        };
        for row in &rows {
            found.add(plan, Kind::Extra, row, Vec::new());
        }
        if !full {
            return Ok(());
        }
        after = Some(last);
    }
}

/// Reads every differing key again on both sides once the wait has passed, and keeps only
/// what still differs: a key changed in M1 after its chunk was read is equal once the delta
/// has applied it.
async fn recheck(
    plan: &TablePlan<'_>,
    m1: &mut Conn,
    m2: &mut Conn,
    options: &VerifyOptions,
    found: Found,
) -> Result<TableResult> {
    let mut result = TableResult {
        source_table: plan.mapping.source_table.clone(),
        destination_table: plan.mapping.destination_table.clone(),
        equal: found.equal,
        extras_unchecked: plan.shared_destination,
        ..Default::default()
    };
    if let Some(first) = found.first_at {
        if let Some(hook) = &options.before_recheck {
            (hook.0)(&plan.mapping.destination_table);
        }
        let due = first + options.recheck_after;
        let now = Instant::now();
        if due > now {
            tokio::time::sleep(due - now).await;
        }
    }
    let m1_keys: Vec<String> = plan.mapping.primary_key.clone();
    let mut outcomes: Vec<(Kind, Vec<Value>, Vec<String>)> = Vec::new();
    for batch in found.candidates.chunks(500) {
        let sql = plan
            .mapping
            .select_where(Some(&key_list_condition(&m1_keys, batch.len(), "t.")));
        let params: Vec<Value> = batch.iter().flat_map(|c| c.m1_key.clone()).collect();
        let rows: Vec<mysql_async::Row> = m1.exec(sql, params).await.map_err(m1_error(plan))?;
        let now_m1 = plan.m1_rows(rows)?;
        let sql = format!(
            "{} WHERE {}",
            plan.m2_select(),
            key_list_condition(&plan.m2_key_columns, batch.len(), "")
        );
        let params: Vec<Value> = batch.iter().flat_map(|c| c.m2_key.clone()).collect();
        let rows: Vec<mysql_async::Row> = m2.exec(sql, params).await.map_err(m2_error(plan))?;
        let now_m2 = plan.m2_rows(rows);
        let m1_by: HashMap<&[Option<Vec<u8>>], &Row> =
            now_m1.iter().map(|r| (r.key_text.as_slice(), r)).collect();
        let m2_by: HashMap<&[Option<Vec<u8>>], &Row> =
            now_m2.iter().map(|r| (r.key_text.as_slice(), r)).collect();
        for candidate in batch {
            let text = canonical_row(&candidate.m2_key);
            let (a, b) = (m1_by.get(text.as_slice()), m2_by.get(text.as_slice()));
            match (a, b) {
                (None, None) => {}
                (Some(_), None) => outcomes.push((Kind::Missing, candidate.m2_key.clone(), vec![])),
                (None, Some(_)) if plan.shared_destination => {}
                (None, Some(_)) => outcomes.push((Kind::Extra, candidate.m2_key.clone(), vec![])),
                (Some(a), Some(b)) if a.values == b.values => result.equal += 1,
                (Some(a), Some(b)) => outcomes.push((
                    Kind::Different,
                    candidate.m2_key.clone(),
                    plan.different_columns(a, b),
                )),
            }
        }
    }
    let mut record = |kind: Kind, key: String, columns: Vec<String>| match kind {
        Kind::Missing => {
            result.missing_count += 1;
            if result.missing.len() < REPORT_KEYS {
                result.missing.push(key);
            }
        }
        Kind::Extra => {
            result.extra_count += 1;
            if result.extra.len() < REPORT_KEYS {
                result.extra.push(key);
            }
        }
        Kind::Different => {
            result.different_count += 1;
            if result.different.len() < REPORT_KEYS {
                result.different.push((key, columns));
            }
        }
    };
    for (kind, key, columns) in outcomes {
        record(kind, plan.describe(&key), columns);
    }
    for (kind, key, columns) in found.unchecked {
        record(kind, key, columns);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_by_their_text() {
        assert_eq!(canonical(&Value::Int(5)), canonical(&Value::UInt(5)));
        assert_eq!(
            canonical(&Value::Int(5)),
            canonical(&Value::Bytes(b"5".to_vec()))
        );
        assert_ne!(
            canonical(&Value::NULL),
            canonical(&Value::Bytes(Vec::new()))
        );
        assert_eq!(
            canonical(&Value::Date(2024, 1, 2, 3, 4, 5, 0)),
            Some(b"2024-01-02 03:04:05".to_vec())
        );
        assert_eq!(
            canonical(&Value::Time(true, 1, 2, 3, 4, 0)),
            Some(b"-26:03:04".to_vec())
        );
    }

    #[test]
    fn lines_name_keys_and_columns() {
        let t = TableResult {
            source_table: "sales_flat_order".into(),
            destination_table: "sales_order".into(),
            equal: 3,
            missing_count: 1,
            extra_count: 0,
            different_count: 1,
            missing: vec!["entity_id=12".into()],
            different: vec![("entity_id=7".into(), vec!["status".into()])],
            ..Default::default()
        };
        assert_eq!(
            t.lines(),
            [
                "DIFF  sales_order (M1 sales_flat_order): 1 missing in M2, 0 extra in M2, 1 different",
                "  missing in M2: entity_id=12",
                "  different: entity_id=7 (status)",
            ]
        );
    }
}
