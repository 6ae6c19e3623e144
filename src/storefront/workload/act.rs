//! What every action shares: its view of the workload, random picks of existing rows,
//! increment ids, and small reads.

use mysql_async::prelude::{FromValue, Queryable};
use mysql_async::{Row, Transaction};

use super::State;
use crate::storefront::context::{col, next_increment, StoreView};
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Writer, T};
use crate::storefront::text::Ts;

pub(super) type Tx<'a> = Transaction<'a>;

/// One action's view of the workload.
pub(super) struct Act<'a> {
    pub(super) st: &'a mut State,
    pub(super) rng: &'a mut Rng,
    /// The workload's seed, from which customer profiles are derived.
    pub(super) seed: u64,
}

/// First column of the first row, if any (None for a NULL too).
async fn first<V: FromValue, P: Into<mysql_async::Params> + Send>(
    tx: &mut Tx<'_>,
    sql: &str,
    params: P,
) -> Result<Option<V>, mysql_async::Error> {
    let row: Option<Row> = tx.exec_first(sql, params).await?;
    match row {
        Some(mut row) => Ok(col::<Option<V>>(&mut row, 0)?),
        None => Ok(None),
    }
}

/// First column of the first row as an integer, if any.
pub(super) async fn first_id<P: Into<mysql_async::Params> + Send>(
    tx: &mut Tx<'_>,
    sql: &str,
    params: P,
) -> Result<Option<i64>, mysql_async::Error> {
    first(tx, sql, params).await
}

/// First column of the first row as text, if any.
pub(super) async fn first_text<P: Into<mysql_async::Params> + Send>(
    tx: &mut Tx<'_>,
    sql: &str,
    params: P,
) -> Result<Option<String>, mysql_async::Error> {
    first(tx, sql, params).await
}

impl Act<'_> {
    /// A writer that never fills up: an action's few rows go in one flush.
    pub(super) fn writer(&self) -> Writer {
        Writer::new(self.st.ctx.lit, usize::MAX, usize::MAX)
    }

    /// The workload's clock at this action.
    pub(super) fn now(&self) -> Ts {
        self.st.now
    }

    /// A random row of `table` matching `cond`: the first at or after a random id, else the
    /// last before it. Cheap on the primary key, and spread over the whole table.
    pub(super) async fn pick(
        &mut self,
        tx: &mut Tx<'_>,
        table: T,
        cond: &str,
    ) -> Result<Option<i64>, mysql_async::Error> {
        let Some(pk) = table.pk() else {
            return Ok(None);
        };
        let max = self.st.ids.max(table);
        if max < 1 {
            return Ok(None);
        }
        let r = self.rng.range(1, max);
        let name = table.name();
        let up = format!(
            "SELECT `{pk}` FROM `{name}` WHERE `{pk}` >= ? AND ({cond}) ORDER BY `{pk}` LIMIT 1"
        );
        if let Some(id) = first_id(tx, &up, (r,)).await? {
            return Ok(Some(id));
        }
        let down = format!(
            "SELECT `{pk}` FROM `{name}` WHERE `{pk}` < ? AND ({cond}) ORDER BY `{pk}` DESC LIMIT 1"
        );
        first_id(tx, &down, (r,)).await
    }

    /// A shopper's store view, as `Context::random_store` picks it.
    pub(super) fn random_store(&mut self) -> StoreView {
        self.st.ctx.random_store(self.rng).clone()
    }

    /// The next increment id of a type in a store, under a row lock on eav_entity_store as
    /// M1 takes it (the hot row of every order, invoice, shipment and credit memo).
    pub(super) async fn increment(
        &mut self,
        tx: &mut Tx<'_>,
        entity_type: i64,
        store_id: i64,
    ) -> Result<String, mysql_async::Error> {
        let pad = self.st.ctx.increment_pad(entity_type);
        let row: Option<Row> = tx
            .exec_first(
                "SELECT entity_store_id, increment_prefix, increment_last_id FROM eav_entity_store \
                 WHERE entity_type_id = ? AND store_id = ? ORDER BY entity_store_id LIMIT 1 FOR UPDATE",
                (entity_type, store_id),
            )
            .await?;
        match row {
            Some(mut row) => {
                let id: i64 = col(&mut row, 0)?;
                let prefix: Option<String> = col(&mut row, 1)?;
                let last: Option<String> = col(&mut row, 2)?;
                let (next, _) =
                    next_increment(prefix.as_deref().unwrap_or(""), last.as_deref(), pad);
                tx.exec_drop(
                    "UPDATE eav_entity_store SET increment_last_id = ? WHERE entity_store_id = ?",
                    (&next, id),
                )
                .await?;
                Ok(next)
            }
            None => {
                let prefix = store_id.to_string();
                let (next, _) = next_increment(&prefix, None, pad);
                tx.exec_drop(
                    "INSERT INTO eav_entity_store (entity_type_id, store_id, increment_prefix, increment_last_id) VALUES (?, ?, ?, ?)",
                    (entity_type, store_id, &prefix, &next),
                )
                .await?;
                Ok(next)
            }
        }
    }
}
