//! `Migration\Step\Inventory\{Data,Delta,Volume}`: when Magento 2 has its MSI tables, the
//! legacy stock items and the shipments the Map step migrated feed them, all inside M2 (as the
//! DMT's INSERT … SELECT do): `inventory_source_item` (default source, `website_id = 0` stock
//! rows joined to the product's sku), `inventory_shipment_source` (every shipment from the
//! default source), and, in data mode, `inventory_stock_sales_channel` (every website but admin
//! sold from stock 1). Without MSI tables there is nothing to feed, as with the DMT.

use std::collections::BTreeSet;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, Value};

use super::step::{BoxFuture, Step};
use crate::db::quote_ident;
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;

/// Builds one of the step's INSERT … SELECT statements, for `n` ids or all.
type FeedSql = fn(&Inventory, Option<usize>) -> String;

/// The M2 table whose presence says MSI is installed.
pub const MSI_TABLE: &str = "inventory_source_item";

#[derive(Debug, Clone)]
pub struct Inventory {
    pub source_prefix: String,
    pub dest_prefix: String,
}

impl Inventory {
    fn t(&self, name: &str) -> String {
        quote_ident(&format!("{}{name}", self.dest_prefix))
    }

    /// The default source's code: the first row of M2's `inventory_source`, as the DMT reads it.
    async fn default_source(&self, m2: &mut Conn) -> Result<String> {
        let code: Option<String> = m2
            .query_first(format!(
                "SELECT source_code FROM {} LIMIT 1",
                self.t("inventory_source")
            ))
            .await
            .map_err(|e| Error::db(Side::M2, e, "reading inventory_source"))?;
        code.ok_or_else(|| {
            Error::Usage(format!(
                "Magento 2's {} is empty: MSI needs its default source before the Inventory step can feed it (run bin/magento setup:upgrade on Magento 2)",
                format_args!("{}inventory_source", self.dest_prefix)
            ))
        })
    }

    fn source_items_sql(&self, filter: Option<usize>) -> String {
        let mut sql = format!(
            "INSERT INTO {items} (source_code, quantity, status, sku) \
             SELECT ?, s.qty, s.is_in_stock, p.sku FROM {stock} s \
             JOIN {products} p ON p.entity_id = s.product_id WHERE s.website_id = 0",
            items = self.t("inventory_source_item"),
            stock = self.t("cataloginventory_stock_item"),
            products = self.t("catalog_product_entity"),
        );
        if let Some(n) = filter {
            sql.push_str(&format!(" AND s.item_id IN ({})", vec!["?"; n].join(", ")));
        }
        sql.push_str(
            " ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), status = VALUES(status)",
        );
        sql
    }

    fn shipments_sql(&self, filter: Option<usize>) -> String {
        let mut sql = format!(
            "INSERT INTO {sources} (shipment_id, source_code) SELECT s.entity_id, ? FROM {shipments} s",
            sources = self.t("inventory_shipment_source"),
            shipments = self.t("sales_shipment"),
        );
        if let Some(n) = filter {
            sql.push_str(&format!(
                " WHERE s.entity_id IN ({})",
                vec!["?"; n].join(", ")
            ));
        }
        sql.push_str(" ON DUPLICATE KEY UPDATE source_code = VALUES(source_code)");
        sql
    }

    /// migrate:data's part, after the copy. Returns the rows written.
    pub async fn data(&self, m2: &mut Conn) -> Result<u64> {
        let source = self.default_source(m2).await?;
        let channels = format!(
            "INSERT INTO {} (type, code, stock_id) SELECT 'website', code, 1 FROM {} WHERE code != 'admin' \
             ON DUPLICATE KEY UPDATE stock_id = VALUES(stock_id)",
            self.t("inventory_stock_sales_channel"),
            self.t("store_website")
        );
        let with_source = vec![Value::from(source.as_str())];
        let mut written = 0;
        for (sql, params, what) in [
            (
                self.source_items_sql(None),
                with_source.clone(),
                "inventory_source_item",
            ),
            (
                self.shipments_sql(None),
                with_source,
                "inventory_shipment_source",
            ),
            (channels, Vec::new(), "inventory_stock_sales_channel"),
        ] {
            m2.exec_drop(sql, params)
                .await
                .map_err(|e| Error::db(Side::M2, e, &format!("writing {what}")))?;
            written += m2.affected_rows();
        }
        Ok(written)
    }
}

impl Step for Inventory {
    /// It follows no group of its own: the Map step migrates its two tables (they are in
    /// `delta_map` too), and this step derives from what that applied.
    fn group(&self) -> &str {
        ""
    }

    fn name(&self) -> &str {
        "inventory"
    }

    fn after_apply<'a>(
        &'a self,
        _m1: &'a mut Conn,
        _m2: &'a mut Transaction<'_>,
        _table: &'a DeltaTable,
        _keys: &'a [Vec<Value>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn derives_from(&self) -> Vec<String> {
        ["cataloginventory_stock_item", "sales_flat_shipment"]
            .iter()
            .map(|t| format!("{}{t}", self.source_prefix))
            .collect()
    }

    fn after_drain<'a>(
        &'a self,
        _m1: &'a mut Conn,
        m2: &'a mut Conn,
        changed: &'a [(String, Vec<Value>)],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let stock = format!("{}cataloginventory_stock_item", self.source_prefix);
            let mut items = BTreeSet::new();
            let mut shipments = BTreeSet::new();
            for (table, key) in changed {
                let Some(id) = key
                    .first()
                    .and_then(|v| mysql_async::from_value_opt::<u64>(v.clone()).ok())
                else {
                    continue;
                };
                if *table == stock {
                    items.insert(id);
                } else {
                    shipments.insert(id);
                }
            }
            if items.is_empty() && shipments.is_empty() {
                return Ok(());
            }
            let source = self.default_source(m2).await?;
            // Deleted stock items and shipments: their rows stay, as the DMT leaves them (M2's
            // own foreign key takes a shipment's source row with the shipment).
            let items: Vec<u64> = items.into_iter().collect();
            let shipments: Vec<u64> = shipments.into_iter().collect();
            let feeds: [(&[u64], FeedSql, &str); 2] = [
                (&items, Self::source_items_sql, "inventory_source_item"),
                (&shipments, Self::shipments_sql, "inventory_shipment_source"),
            ];
            for (ids, sql, what) in feeds {
                for chunk in ids.chunks(1000) {
                    let mut params: Vec<Value> = vec![source.as_str().into()];
                    params.extend(chunk.iter().map(|id| Value::from(*id)));
                    m2.exec_drop(sql(self, Some(chunk.len())), params)
                        .await
                        .map_err(|e| Error::db(Side::M2, e, &format!("writing {what}")))?;
                }
            }
            Ok(())
        })
    }

    fn volume<'a>(
        &'a self,
        _m1: &'a mut Conn,
        m2: &'a mut Conn,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let mut lines = Vec::new();
            // The DMT's comparison: the legacy table against the MSI table, both in M2.
            for (from, to) in [
                ("cataloginventory_stock_item", "inventory_source_item"),
                ("sales_shipment", "inventory_shipment_source"),
            ] {
                let count = |t: &str| format!("SELECT COUNT(*) FROM {}", self.t(t));
                let source: Option<u64> = m2
                    .query_first(count(from))
                    .await
                    .map_err(|e| Error::db(Side::M2, e, &format!("counting {from}")))?;
                let destination: Option<u64> = m2
                    .query_first(count(to))
                    .await
                    .map_err(|e| Error::db(Side::M2, e, &format!("counting {to}")))?;
                if source != destination {
                    lines.push(format!(
                        "Mismatch of entities in the document: {}{to} Source: {} Destination: {} (from {}{from})",
                        self.dest_prefix,
                        source.unwrap_or(0),
                        destination.unwrap_or(0),
                        self.dest_prefix
                    ));
                }
            }
            Ok(lines)
        })
    }
}
