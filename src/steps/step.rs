//! The `Step` trait: what a delta step adds to the generic map path that every followed table
//! takes (read the changed M1 rows or take the binlog's images, transform them through map.xml,
//! write them to M2 in batches).
//!
//! A step names the deltalog group it follows; its tables are applied like any other, and then,
//! **in the same M2 transaction**, `after_apply` runs with the keys of the batch — so what a
//! step derives (sequences, grids) commits with the rows it derives from, or not at all. Both
//! change sources drive it the same way.

use std::future::Future;
use std::pin::Pin;

use mysql_async::{Conn, Transaction, Value};

use crate::db::schema::Schema;
use crate::error::Result;
use crate::pipeline::apply::DeltaTable;
use crate::steps::map::TableMapping;

/// A boxed future, so that steps can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A delta step beyond the map.
///
/// Contract: `after_apply` may run more than once for the same keys (a batch retried after a
/// deadlock, a replay after a crash): it must be idempotent and derive its writes from the
/// current M1 rows or from M2, never from counting calls. It must not commit or roll back.
pub trait Step: Send + Sync + std::fmt::Debug {
    /// The deltalog group of deltalog.xml this step follows (`delta_sales_sequence`); empty
    /// for a step that follows no group of its own (OrderGrids derives from the Map step's).
    fn group(&self) -> &str;

    /// A name for the step's records in M2 (`mage_migrate_derivations.step`).
    fn name(&self) -> &str {
        self.group()
    }

    /// The config.xml option naming the map file of this step's tables; `None`: `map_file`.
    fn map_file_option(&self) -> Option<&str> {
        None
    }

    /// Before anything moves (delta and data alike): resolves what depends on the databases
    /// (attribute ids …) and adjusts the mappings planned from this step's map file (columns
    /// filled from other M1 tables, rows left out). Called once per run.
    fn prepare<'a>(
        &'a self,
        _m1: &'a mut Conn,
        _m2: &'a mut Conn,
        _m2_schema: &'a Schema,
        _mappings: &'a mut Vec<TableMapping>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Tables of this step's group (M1 name, with prefix) that it writes itself in
    /// `after_apply`: the generic path neither deletes nor upserts rows for their keys, it
    /// only hands the keys over (ConfigurablePrices derives M2 prices from option prices that
    /// have no M2 table of their own).
    fn writes_itself(&self, _source_table: &str) -> bool {
        false
    }

    /// A condition (over the M2 table, unaliased, no parameters) added to the generic delete of
    /// this table's keys in M2 (TierPrice: a group price is M2's tier price of `qty = 1`).
    fn delete_condition(&self, _source_table: &str) -> Option<String> {
        None
    }

    /// Runs inside the batch's M2 transaction, after the table's rows were written (deleted
    /// keys included): `keys` are the M1 deltalog keys of the batch for this table.
    fn after_apply<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Transaction<'_>,
        table: &'a DeltaTable,
        keys: &'a [Vec<Value>],
    ) -> BoxFuture<'a, Result<()>>;

    /// M1 tables (with prefix) whose applied keys this step derives from once the batches in
    /// flight have drained (OrderGrids: the sales tables the grids are built from). Each batch
    /// records them in M2's `mage_migrate_derivations` in its own transaction.
    fn derives_from(&self) -> Vec<String> {
        Vec::new()
    }

    /// After the batches drained: the recorded (M1 table, key) pairs, to derive from M2's now
    /// committed rows. Idempotent; the records are removed after it returns.
    fn after_drain<'a>(
        &'a self,
        _m1: &'a mut Conn,
        _m2: &'a mut Conn,
        _changed: &'a [(String, Vec<Value>)],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// The step's volume check at the end of a run: one line per difference.
    fn volume<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Conn,
    ) -> BoxFuture<'a, Result<Vec<String>>>;
}
