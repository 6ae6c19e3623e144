//! `Migration\Step\ConfigurablePrices\{Integrity,Data,Volume,Delta}` (group
//! `delta_configurable_price`): M2 has no option prices of configurable products
//! (`catalog_product_super_attribute_pricing`); a simple child's price in M2 is its parent's price
//! plus the option prices of the values the child has, per store of the option price's website.
//! Those prices go into M2's `catalog_product_entity_decimal` (dmt-compat §4.3).
//!
//! The figure is the DMT's `Helper::getConfigurablePrice()`: for each child (`super_link`) of the
//! changed parents, its value of each super attribute (`catalog_product_entity_int`) picks the
//! option price rows of that value; per (child, store of the option's website): with a percent
//! option `TRUNCATE(price + price * percent / 100, 4)`, else `price + SUM(option prices)`; the
//! attribute is M1's `price` (the DMT's EAV step keeps M1's product attribute ids). Two
//! differences, both where the DMT's query leaves the answer to chance: the parent's price is its
//! default-scope row (store 0) — the DMT's join takes every store row of it and sums the options
//! once per row — and where its GROUP BY leaves a column to the server (a percent option among
//! several attributes), the highest value is taken, so the query also runs under
//! `ONLY_FULL_GROUP_BY`.
//!
//! As the DMT: a deleted option price changes nothing in M2 (its deltalog row is merely
//! acknowledged). Not as the DMT: its delta looks for the prefixed deltalog name among the
//! unprefixed table names, so with a `source_prefix` it stops with "Deltalog for
//! catalog_product_super_attribute_pricing is not installed" (its issue #858); here the deltalog
//! is named and found as every other one is.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, Value};

use super::map::TableMapping;
use super::step::{BoxFuture, Step};
use crate::db::quote_ident;
use crate::db::schema::Schema;
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;

/// The M1 table whose changes this step follows.
pub const PRICING: &str = "catalog_product_super_attribute_pricing";
/// The M2 table it writes.
pub const DECIMAL: &str = "catalog_product_entity_decimal";

#[derive(Debug, Clone)]
pub struct ConfigurablePrices {
    pub source_prefix: String,
    pub dest_prefix: String,
}

fn m1e(what: &str) -> impl Fn(mysql_async::Error) -> Error + '_ {
    move |e| Error::db(Side::M1, e, what)
}

/// (child entity id, store id, attribute id, price) rows.
type Price = (u64, u64, u64, Value);

impl ConfigurablePrices {
    pub fn from_setup(setup: &crate::setup::Setup) -> ConfigurablePrices {
        let o = &setup.config.options;
        ConfigurablePrices {
            source_prefix: o.source_prefix(),
            dest_prefix: o.dest_prefix(),
        }
    }

    fn m1(&self, table: &str) -> String {
        quote_ident(&format!("{}{table}", self.source_prefix))
    }

    fn pricing_table(&self) -> String {
        format!("{}{PRICING}", self.source_prefix)
    }

    /// Whether M1 has option prices at all (a store without the catalog has not).
    async fn has_pricing(&self, m1: &mut Conn) -> Result<bool> {
        let found: Option<String> = m1
            .exec_first(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                (self.pricing_table(),),
            )
            .await
            .map_err(m1e("looking up catalog_product_super_attribute_pricing"))?;
        Ok(found.is_some())
    }

    /// M1's `price` attribute of products.
    async fn price_attribute(&self, m1: &mut Conn) -> Result<Option<u64>> {
        m1.exec_first(
            format!(
                "SELECT a.attribute_id FROM {} a JOIN {} t ON t.entity_type_id = a.entity_type_id \
                 WHERE t.entity_type_code = 'catalog_product' AND a.attribute_code = 'price'",
                self.m1("eav_attribute"),
                self.m1("eav_entity_type")
            ),
            (),
        )
        .await
        .map_err(m1e("looking up the price attribute"))
    }

    /// The children's prices of these configurable products, as the DMT computes them.
    pub async fn prices(&self, m1: &mut Conn, parents: &[u64]) -> Result<Vec<Price>> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let Some(price) = self.price_attribute(m1).await? else {
            return Err(Error::Usage(
                "ConfigurablePrices: Magento 1 has no price attribute of catalog_product in eav_attribute".into(),
            ));
        };
        let marks = vec!["?"; parents.len()].join(", ");
        let sql = format!(
            "SELECT supl.product_id, cs.store_id, \
               IF(MAX(sup_ap.is_percent) = 1, \
                  TRUNCATE(MAX(mt.value) + (MAX(mt.value) * MAX(sup_ap.pricing_value) / 100), 4), \
                  MAX(mt.value) + SUM(sup_ap.pricing_value)) \
             FROM {decimal} AS mt \
             LEFT JOIN {attribute} AS sup_a ON mt.entity_id = sup_a.product_id \
             JOIN {pricing} AS sup_ap ON sup_ap.product_super_attribute_id = sup_a.product_super_attribute_id \
             JOIN {link} AS supl ON mt.entity_id = supl.parent_id \
             JOIN {int} AS pint ON pint.entity_id = supl.product_id AND pint.attribute_id = sup_a.attribute_id \
               AND pint.value = sup_ap.value_index \
             JOIN {store} AS cs ON cs.website_id = sup_ap.website_id \
             WHERE mt.entity_id IN ({marks}) AND mt.attribute_id = ? AND mt.store_id = 0 \
             GROUP BY supl.product_id, cs.store_id \
             ORDER BY supl.product_id, cs.store_id",
            decimal = self.m1("catalog_product_entity_decimal"),
            attribute = self.m1("catalog_product_super_attribute"),
            pricing = self.m1(PRICING),
            link = self.m1("catalog_product_super_link"),
            int = self.m1("catalog_product_entity_int"),
            store = self.m1("core_store"),
        );
        let mut params: Vec<Value> = parents.iter().map(|p| Value::from(*p)).collect();
        params.push(Value::from(price));
        let rows: Vec<(u64, u64, Value)> = m1
            .exec(sql, params)
            .await
            .map_err(m1e("computing configurable prices"))?;
        Ok(rows
            .into_iter()
            .map(|(child, store, value)| (child, store, price, value))
            .collect())
    }

    /// Upserts prices into M2's `catalog_product_entity_decimal` by its unique key.
    async fn write<Q: Queryable>(&self, m2: &mut Q, prices: &[Price]) -> Result<()> {
        let table = quote_ident(&format!("{}{DECIMAL}", self.dest_prefix));
        for chunk in prices.chunks(1000) {
            let values = vec!["(?, ?, ?, ?)"; chunk.len()].join(", ");
            let params: Vec<Value> = chunk
                .iter()
                .flat_map(|(child, store, attribute, value)| {
                    [
                        Value::from(*child),
                        Value::from(*attribute),
                        Value::from(*store),
                        value.clone(),
                    ]
                })
                .collect();
            m2.exec_drop(
                format!(
                    "INSERT INTO {table} (entity_id, attribute_id, store_id, value) VALUES {values} \
                     ON DUPLICATE KEY UPDATE value = VALUES(value)"
                ),
                params,
            )
            .await
            .map_err(|e| Error::db(Side::M2, e, "writing catalog_product_entity_decimal"))?;
        }
        Ok(())
    }

    /// `ConfigurablePrices\Data`: the prices of every configurable product's children, after the
    /// Map step copied `catalog_product_entity_decimal`. Returns the price rows written.
    pub async fn data(&self, m1: &mut Conn, m2: &mut Conn) -> Result<u64> {
        if !self.has_pricing(m1).await? {
            return Ok(0);
        }
        let parents: Vec<u64> = m1
            .query(format!(
                "SELECT DISTINCT product_id FROM {} ORDER BY product_id",
                self.m1("catalog_product_super_attribute")
            ))
            .await
            .map_err(m1e("reading catalog_product_super_attribute"))?;
        let mut written = 0;
        for chunk in parents.chunks(500) {
            let prices = self.prices(m1, chunk).await?;
            self.write(m2, &prices).await?;
            written += prices.len() as u64;
        }
        Ok(written)
    }

    /// The configurable products whose option prices these are (rows M1 still has).
    async fn parents_of(&self, m1: &mut Conn, value_ids: &[Value]) -> Result<Vec<u64>> {
        let mut parents = Vec::new();
        for chunk in value_ids.chunks(1000) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let found: Vec<u64> = m1
                .exec(
                    format!(
                        "SELECT DISTINCT sa.product_id FROM {} AS p JOIN {} AS sa \
                         ON sa.product_super_attribute_id = p.product_super_attribute_id \
                         WHERE p.value_id IN ({marks})",
                        self.m1(PRICING),
                        self.m1("catalog_product_super_attribute")
                    ),
                    chunk.to_vec(),
                )
                .await
                .map_err(m1e("reading catalog_product_super_attribute_pricing"))?;
            parents.extend(found);
        }
        parents.sort_unstable();
        parents.dedup();
        Ok(parents)
    }
}

impl Step for ConfigurablePrices {
    fn group(&self) -> &str {
        "delta_configurable_price"
    }

    /// The option prices have no M2 table and map.xml ignores them: the step follows them
    /// through a mapping of its own, whose rows it never writes (see `writes_itself`).
    fn prepare<'a>(
        &'a self,
        m1: &'a mut Conn,
        _m2: &'a mut Conn,
        _m2_schema: &'a Schema,
        mappings: &'a mut Vec<TableMapping>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let source_table = self.pricing_table();
            let columns: Vec<String> = m1
                .exec(
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                     AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                    (&source_table,),
                )
                .await
                .map_err(m1e("reading the columns of catalog_product_super_attribute_pricing"))?;
            let Some(key_at) = columns.iter().position(|c| c == "value_id") else {
                return Ok(());
            };
            mappings.retain(|m| m.source_table != source_table);
            // The key only, so the pipeline can name it; nothing is copied.
            mappings.push(TableMapping::key_only(
                PRICING,
                source_table,
                DECIMAL,
                format!("{}{DECIMAL}", self.dest_prefix),
                columns,
                "value_id",
                key_at,
            ));
            Ok(())
        })
    }

    fn writes_itself(&self, source_table: &str) -> bool {
        source_table == self.pricing_table()
    }

    fn after_apply<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Transaction<'_>,
        table: &'a DeltaTable,
        keys: &'a [Vec<Value>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if !self.writes_itself(&table.reader.tracked.source_table) {
                return Ok(());
            }
            let Some(at) = table.keys().iter().position(|k| k == "value_id") else {
                return Ok(());
            };
            let ids: Vec<Value> = keys.iter().filter_map(|k| k.get(at).cloned()).collect();
            // Deleted option prices are gone from M1 and give no parent: nothing changes in
            // M2 for them, as with the DMT.
            let parents = self.parents_of(m1, &ids).await?;
            for chunk in parents.chunks(500) {
                let prices = self.prices(m1, chunk).await?;
                self.write(&mut *m2, &prices).await?;
            }
            Ok(())
        })
    }

    /// `ConfigurablePrices\Volume` checks nothing in the DMT; nor here.
    fn volume<'a>(
        &'a self,
        _m1: &'a mut Conn,
        _m2: &'a mut Conn,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
