//! `mage-migrate cleanup CONFIG`: after cutover, drops the tool's own state tables from M2
//! (`<dest_prefix>mage_migrate_*`: copy progress, the recorded binlog position, worker
//! checkpoints, quarantined keys, pending derivations). The deltalog in M1 is `deltalog
//! remove`'s; Magento's own tables are never touched.

use mysql_async::prelude::Queryable;

use crate::db::quote_ident;
use crate::error::{Error, Result, Side};
use crate::setup::Setup;

/// The tables this version keeps in M2, without `dest_prefix`.
pub const STATE_TABLES: &[&str] = &[
    "mage_migrate_data_progress",
    "mage_migrate_binlog_start",
    "mage_migrate_binlog_checkpoint",
    "mage_migrate_quarantine",
    "mage_migrate_derivations",
    "mage_migrate_customer_values",
    "mage_migrate_delta_last_cycle",
];

/// Drops the state tables that exist; returns their names.
pub async fn run(setup: &Setup) -> Result<Vec<String>> {
    let destination = &setup.config.destination;
    let mut m2 = crate::db::connect(
        Side::M2,
        destination,
        &setup.config.options.init_statements_destination(),
    )
    .await?;
    let prefix = setup.config.options.dest_prefix();
    let existing: Vec<String> = m2
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        .await
        .map_err(|e| {
            Error::db(Side::M2, e, "listing tables").with_target(&destination.describe())
        })?;
    let mut dropped = Vec::new();
    for table in STATE_TABLES {
        let name = format!("{prefix}{table}");
        if !existing.contains(&name) {
            continue;
        }
        m2.query_drop(format!("DROP TABLE {}", quote_ident(&name)))
            .await
            .map_err(|e| {
                Error::db(Side::M2, e, &format!("dropping {name}"))
                    .with_target(&destination.describe())
            })?;
        dropped.push(name);
    }
    let _ = m2.disconnect().await;
    Ok(dropped)
}
