//! After the work: the orphan sweep after each step, and the volume check at the end.

use mysql_async::Conn;

use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;
use crate::pipeline::workers::Stats;

/// The volume check, made useful: run once at the end, not every cycle (COUNT(*) over large
/// tables is not free); only for tables with nothing pending, whose M2 table no other M1 table
/// feeds and whose deltalog key is the whole key; and each difference says which way and why.
pub(super) async fn volume_check(
    m1: &mut Conn,
    m2: &mut Conn,
    tables: &[DeltaTable],
    frozen: bool,
) -> Result<Vec<String>> {
    use mysql_async::prelude::Queryable;
    let mut out = Vec::new();
    for table in tables {
        let shared = tables
            .iter()
            .filter(|t| t.mapping.destination_table == table.mapping.destination_table)
            .count()
            > 1;
        // A table its step writes itself is not copied row for row: the step checks it.
        let own = table
            .step
            .as_ref()
            .is_some_and(|s| s.writes_itself(&table.reader.tracked.source_table));
        if shared || own || table.partial_key || table.reader.backlog(m1).await? > 0 {
            continue;
        }
        let count = |t: &str| format!("SELECT COUNT(*) FROM {}", crate::db::quote_ident(t));
        // Rows a step leaves out (customer values that became columns) are not counted.
        let source_count = match &table.mapping.filter {
            Some(filter) => format!(
                "SELECT COUNT(*) FROM {} AS t WHERE {filter}",
                crate::db::quote_ident(&table.mapping.source_table)
            ),
            None => count(&table.mapping.source_table),
        };
        let source: u64 = m1
            .query_first(source_count)
            .await
            .map_err(|e| Error::db(Side::M1, e, "counting rows"))?
            .unwrap_or(0);
        let destination: u64 = m2
            .query_first(count(&table.mapping.destination_table))
            .await
            .map_err(|e| Error::db(Side::M2, e, "counting rows"))?
            .unwrap_or(0);
        let why = if destination > source {
            "rows deleted in M1 by its own foreign keys (no trigger fires for those), or written to M2 by something else"
        } else {
            "rows M1 had before the triggers were installed and migrate:data did not copy, or rows of a key quarantined by --skip-errors"
        };
        if source != destination {
            out.push(format!(
                "volume check: {} has {source} rows in M1, {} has {destination} in M2 ({} {}): {why}{}",
                table.mapping.source_table,
                table.mapping.destination_table,
                source.abs_diff(destination),
                if destination > source { "more in M2" } else { "fewer in M2" },
                if frozen { "" } else { " (the store was live while counting: run --once after freezing it for exact figures)" }
            ));
        }
    }
    Ok(out)
}

/// After a step's batches have drained: the orphan sweep, then the derivations (order grids).
/// A transient failure (M2 restarted, a lost connection, a deadlock) is retried on a fresh M2
/// connection with backoff, as the workers retry their batches: both are state-based, and a
/// sweep that failed half-way puts back what it had not done.
#[allow(clippy::too_many_arguments)]
pub(super) async fn after_drain(
    m1: &mut Conn,
    m2: &mut Conn,
    m2_pool: &mysql_async::Pool,
    tables: &[DeltaTable],
    stats: &Stats,
    acknowledge: bool,
    derivations: Option<(&[std::sync::Arc<dyn crate::steps::Step>], &str)>,
    attempts: u32,
) -> Result<()> {
    let mut attempt = 1;
    loop {
        let result: Result<()> = async {
            sweep_orphans(m1, m2, tables, stats, acknowledge).await?;
            if let Some((logic, table)) = derivations {
                run_derivations(m1, m2, logic, table).await?;
            }
            Ok(())
        }
        .await;
        match result {
            Err(e) if e.is_transient() && attempt < attempts => {
                tracing::warn!(
                    "{e}; retrying the orphan sweep and derivations (attempt {attempt} of {attempts})"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt.min(6))).await;
                attempt += 1;
                // A new M2 session; while M2 is still down the next try fails again, and waits.
                if let Ok(conn) = m2_pool.get_conn().await {
                    *m2 = conn;
                }
            }
            other => return other,
        }
    }
}

/// After a step's batches have drained: the children of parents deleted meanwhile get what
/// M2's foreign keys would have done to them (see `pipeline::sweep`). On an error, the keys not
/// swept yet are put back, for a retry.
pub(super) async fn sweep_orphans(
    m1: &mut Conn,
    m2: &mut Conn,
    tables: &[DeltaTable],
    stats: &Stats,
    acknowledge: bool,
) -> Result<()> {
    let mut deleted: Vec<(usize, Vec<Vec<mysql_async::Value>>)> =
        stats.take_deleted().into_iter().collect();
    while let Some((index, keys)) = deleted.pop() {
        if let Err(e) = sweep_deleted(m1, m2, tables, index, &keys, acknowledge).await {
            stats.requeue_deleted(index, keys);
            for (index, keys) in deleted {
                stats.requeue_deleted(index, keys);
            }
            return Err(e);
        }
    }
    // Children written from binlog images after their parent's cascade (parents first, so a
    // swept parent takes its children with it).
    let mut imaged: Vec<(usize, Vec<Vec<mysql_async::Value>>)> =
        stats.take_imaged().into_iter().collect();
    imaged.sort_by_key(|(index, _)| std::cmp::Reverse(*index));
    while let Some((index, keys)) = imaged.pop() {
        match crate::pipeline::sweep::image_orphans(m1, m2, &tables[index], &keys).await {
            Ok(swept) if swept > 0 => tracing::info!(
                "{}: {swept} rows written from the binlog lost their parent to an M1 foreign key since; deleted or rewritten from M1's current rows",
                tables[index].mapping.destination_table
            ),
            Ok(_) => {}
            Err(e) => {
                stats.requeue_imaged(index, keys);
                for (index, keys) in imaged {
                    stats.requeue_imaged(index, keys);
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The children of one table's deleted keys, swept; then the deletes acknowledged.
async fn sweep_deleted(
    m1: &mut Conn,
    m2: &mut Conn,
    tables: &[DeltaTable],
    index: usize,
    keys: &[Vec<mysql_async::Value>],
    acknowledge: bool,
) -> Result<()> {
    for child in &tables[index].children {
        let swept = crate::pipeline::sweep::sweep(m2, child, keys).await?;
        if swept > 0 {
            tracing::info!(
                "{}: {swept} rows whose parent in {} was deleted arrived after its cascade; {} as M2's foreign key {} says",
                child.child,
                child.parent,
                if child.on_delete == "CASCADE" { "deleted" } else { "nulled" },
                child.constraint
            );
        }
    }
    // Only now are these deletes done: acknowledged where still claimed (the deltalog
    // source defers them to here; the binlog source acknowledges claims as they come).
    if acknowledge {
        tables[index].reader.acknowledge(m1, keys).await?;
    }
    Ok(())
}

/// M2's record of keys later steps derive from (see `Step::derives_from`).
pub(crate) const DERIVATIONS: &str = "mage_migrate_derivations";

pub(super) async fn ensure_derivations(m2: &mut Conn, table: &str) -> Result<()> {
    use mysql_async::prelude::Queryable;
    // `slot` is the writing session's connection id: workers recording the same key never
    // insert the same row, so they never wait on (or deadlock over) each other's records.
    m2.query_drop(format!(
        "CREATE TABLE IF NOT EXISTS {table} (\
           step varchar(64) NOT NULL, \
           source_table varchar(64) NOT NULL, \
           source_key varchar(255) NOT NULL, \
           slot bigint unsigned NOT NULL DEFAULT 0, \
           PRIMARY KEY (step, source_table, source_key, slot)\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='mage-migrate: keys applied whose derived rows (order grids, customers) are still to be rebuilt'"
    ))
    .await
    .map_err(|e| Error::db(Side::M2, e, "creating the derivations table"))?;
    // A table an earlier version created has no slot yet.
    let name = table.trim_matches('`').replace("``", "`");
    let has_slot: Option<u64> = m2
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'slot'",
            (name,),
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, "reading the derivations table"))?;
    if has_slot == Some(0) {
        m2.query_drop(format!(
            "ALTER TABLE {table} ADD COLUMN slot bigint unsigned NOT NULL DEFAULT 0, DROP PRIMARY KEY, ADD PRIMARY KEY (step, source_table, source_key, slot)"
        ))
        .await
        .map_err(|e| Error::db(Side::M2, e, "upgrading the derivations table"))?;
    }
    Ok(())
}

/// After the batches drained: each deriving step gets the keys recorded for it, page by page,
/// and the records go once it is done. Returns the keys handled.
pub(super) async fn run_derivations(
    m1: &mut Conn,
    m2: &mut Conn,
    logic: &[std::sync::Arc<dyn crate::steps::Step>],
    table: &str,
) -> Result<u64> {
    use mysql_async::prelude::Queryable;
    let mut handled = 0u64;
    for step in logic.iter().filter(|l| !l.derives_from().is_empty()) {
        loop {
            let rows: Vec<(String, String)> = m2
                .exec(
                    format!("SELECT DISTINCT source_table, source_key FROM {table} WHERE step = ? ORDER BY source_table, source_key LIMIT 5000"),
                    (step.name(),),
                )
                .await
                .map_err(|e| Error::db(Side::M2, e, "reading the derivations"))?;
            if rows.is_empty() {
                break;
            }
            let changed: Vec<(String, Vec<mysql_async::Value>)> = rows
                .iter()
                .filter_map(|(t, k)| {
                    crate::migrate_data::state::decode_key(k).map(|k| (t.clone(), k))
                })
                .collect();
            step.after_drain(m1, m2, &changed).await?;
            for chunk in rows.chunks(1000) {
                let marks = vec!["(?, ?)"; chunk.len()].join(", ");
                let mut params: Vec<mysql_async::Value> = vec![step.name().into()];
                for (t, k) in chunk {
                    params.push(t.as_str().into());
                    params.push(k.as_str().into());
                }
                m2.exec_drop(
                    format!("DELETE FROM {table} WHERE step = ? AND (source_table, source_key) IN ({marks})"),
                    params,
                )
                .await
                .map_err(|e| Error::db(Side::M2, e, "removing done derivations"))?;
            }
            handled += rows.len() as u64;
        }
    }
    Ok(handled)
}

/// M2's record of the deltalog source's last cycle, for `deltalog status`.
pub(crate) const LAST_CYCLE: &str = "mage_migrate_delta_last_cycle";

pub(super) async fn ensure_last_cycle(m2: &mut Conn, table: &str) -> Result<()> {
    use mysql_async::prelude::Queryable;
    m2.query_drop(format!(
        "CREATE TABLE IF NOT EXISTS {table} (\
           source varchar(16) NOT NULL PRIMARY KEY, \
           finished_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), \
           cycle_keys bigint unsigned NOT NULL, \
           cycle_seconds double NOT NULL, \
           run_keys bigint unsigned NOT NULL, \
           run_seconds double NOT NULL, \
           backlog bigint unsigned NOT NULL\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='mage-migrate: the last delta cycle, for deltalog status'"
    ))
    .await
    .map_err(|e| Error::db(Side::M2, e, "creating the last-cycle table"))
}

/// Records a finished cycle (or an idle poll: zero keys), so `deltalog status` can tell how
/// fresh the follower is and how long the backlog would take at its pace.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_cycle(
    m2: &mut Conn,
    table: &str,
    cycle_keys: u64,
    cycle_seconds: f64,
    run_keys: u64,
    run_seconds: f64,
    backlog: u64,
) -> Result<()> {
    use mysql_async::prelude::Queryable;
    m2.exec_drop(
        format!(
            "REPLACE INTO {table} (source, finished_at, cycle_keys, cycle_seconds, run_keys, run_seconds, backlog) \
             VALUES ('deltalog', NOW(3), ?, ?, ?, ?, ?)"
        ),
        (cycle_keys, cycle_seconds, run_keys, run_seconds, backlog),
    )
    .await
    .map_err(|e| Error::db(Side::M2, e, "recording the cycle"))
}
