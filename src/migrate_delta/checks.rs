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
        if shared || table.partial_key || table.reader.backlog(m1).await? > 0 {
            continue;
        }
        let count = |t: &str| format!("SELECT COUNT(*) FROM {}", crate::db::quote_ident(t));
        let source: u64 = m1
            .query_first(count(&table.mapping.source_table))
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

/// After a step's batches have drained: the children of parents deleted meanwhile get what
/// M2's foreign keys would have done to them (see `pipeline::sweep`).
pub(super) async fn sweep_orphans(
    m1: &mut Conn,
    m2: &mut Conn,
    tables: &[DeltaTable],
    stats: &Stats,
    acknowledge: bool,
) -> Result<()> {
    for (index, keys) in stats.take_deleted() {
        for child in &tables[index].children {
            let swept = crate::pipeline::sweep::sweep(m2, child, &keys).await?;
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
            tables[index].reader.acknowledge(m1, &keys).await?;
        }
    }
    // Children written from binlog images after their parent's cascade (parents first, so a
    // swept parent takes its children with it).
    let mut imaged: Vec<(usize, Vec<Vec<mysql_async::Value>>)> =
        stats.take_imaged().into_iter().collect();
    imaged.sort_by_key(|(index, _)| *index);
    for (index, keys) in imaged {
        let swept = crate::pipeline::sweep::image_orphans(m1, m2, &tables[index], &keys).await?;
        if swept > 0 {
            tracing::info!(
                "{}: {swept} rows written from the binlog lost their parent to an M1 cascade since; deleted",
                tables[index].mapping.destination_table
            );
        }
    }
    Ok(())
}
