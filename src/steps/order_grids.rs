//! `Migration\Step\OrderGrids\Delta` (and the refresh its data part runs): M2's
//! `sales_order_grid`, `sales_invoice_grid`, `sales_shipment_grid` and `sales_creditmemo_grid`
//! rebuilt from the migrated M2 tables, with the DMT's `INSERT … SELECT` joins (magento-schema
//! §4.1): names and addresses from `sales_order_address`, the payment method from
//! `sales_order_payment`, the order's columns for the other grids.
//!
//! A grid row is built only once its order is in M2 (a shipment applied before its order, by a
//! budget-split cycle or another worker, gets its row when the order's own refresh comes).
//!
//! The grids read rows other workers may be writing, so they are not rebuilt inside a batch:
//! each batch records the keys it applied in M2's `mage_migrate_derivations`, in its own
//! transaction; once the batches in flight have drained, those keys' grids are rebuilt and the
//! records removed. A crash in between leaves the records, and the next run rebuilds them.

use std::collections::BTreeSet;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, Value};

use super::step::{BoxFuture, Step};
use crate::db::quote_ident;
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;

#[derive(Debug, Clone)]
pub struct OrderGrids {
    pub source_prefix: String,
    pub dest_prefix: String,
    /// The M1 tables whose changes refresh grids (`source_documents` of
    /// order_grids_document_groups_file), without prefix.
    pub documents: Vec<String>,
}

/// Which grids a changed M1 row refreshes, by the id it yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refresh {
    /// An order id: all four grids.
    Order,
    Invoice,
    Shipment,
    Creditmemo,
}

fn m2(e: mysql_async::Error, what: &str) -> Error {
    Error::db(Side::M2, e, what)
}

impl OrderGrids {
    fn t(&self, name: &str) -> String {
        quote_ident(&format!("{}{name}", self.dest_prefix))
    }

    fn name_of(alias: &str) -> String {
        format!("TRIM(CONCAT(IFNULL({alias}.firstname, ''), ' ', IFNULL({alias}.lastname, '')))")
    }

    fn address_of(alias: &str) -> String {
        format!(
            "TRIM(CONCAT(IFNULL({alias}.street, ''), ', ', IFNULL({alias}.city, ''), ', ', IFNULL({alias}.region, ''), ', ', IFNULL({alias}.postcode, '')))"
        )
    }

    fn customer_name() -> &'static str {
        "TRIM(CONCAT(IFNULL(o.customer_firstname, ''), ' ', IFNULL(o.customer_lastname, '')))"
    }

    fn payment(&self) -> String {
        format!(
            "(SELECT p.method FROM {} p WHERE p.parent_id = o.entity_id LIMIT 1)",
            self.t("sales_order_payment")
        )
    }

    fn addresses(&self) -> String {
        let address = self.t("sales_order_address");
        format!(
            "LEFT JOIN {address} b ON b.entity_id = o.billing_address_id LEFT JOIN {address} s ON s.entity_id = o.shipping_address_id"
        )
    }

    /// (grid, columns, SELECT … FROM … with `{where}` to fill) for each grid.
    fn statements(&self) -> Vec<(&'static str, Vec<&'static str>, String)> {
        let (bn, sn) = (Self::name_of("b"), Self::name_of("s"));
        let (ba, sa) = (Self::address_of("b"), Self::address_of("s"));
        let cn = Self::customer_name();
        let pay = self.payment();
        let joins = self.addresses();
        let order = self.t("sales_order");
        vec![
            (
                "sales_order_grid",
                vec![
                    "entity_id", "status", "store_id", "store_name", "customer_id", "base_grand_total",
                    "base_total_paid", "grand_total", "total_paid", "increment_id", "base_currency_code",
                    "order_currency_code", "shipping_name", "billing_name", "created_at", "updated_at",
                    "billing_address", "shipping_address", "shipping_information", "customer_email",
                    "customer_group", "subtotal", "shipping_and_handling", "customer_name",
                    "payment_method", "total_refunded",
                ],
                format!(
                    "SELECT o.entity_id, o.status, o.store_id, o.store_name, o.customer_id, o.base_grand_total, \
                     o.base_total_paid, o.grand_total, o.total_paid, o.increment_id, o.base_currency_code, \
                     o.order_currency_code, {sn}, {bn}, o.created_at, o.updated_at, {ba}, {sa}, \
                     o.shipping_description, o.customer_email, o.customer_group_id, o.base_subtotal, \
                     o.base_shipping_amount, {cn}, {pay}, o.total_refunded \
                     FROM {order} o {joins} WHERE {{where}}"
                ),
            ),
            (
                "sales_invoice_grid",
                vec![
                    "entity_id", "increment_id", "state", "store_id", "store_name", "order_id",
                    "order_increment_id", "order_created_at", "customer_name", "customer_email",
                    "customer_group_id", "payment_method", "store_currency_code", "order_currency_code",
                    "base_currency_code", "global_currency_code", "billing_name", "billing_address",
                    "shipping_address", "shipping_information", "subtotal", "shipping_and_handling",
                    "grand_total", "created_at", "updated_at", "base_grand_total",
                ],
                format!(
                    "SELECT x.entity_id, x.increment_id, x.state, x.store_id, o.store_name, x.order_id, \
                     o.increment_id, o.created_at, {cn}, o.customer_email, o.customer_group_id, {pay}, \
                     x.store_currency_code, x.order_currency_code, x.base_currency_code, \
                     x.global_currency_code, {bn}, {ba}, {sa}, o.shipping_description, x.base_subtotal, \
                     x.base_shipping_amount, x.grand_total, x.created_at, x.updated_at, x.base_grand_total \
                     FROM {} x JOIN {order} o ON o.entity_id = x.order_id {joins} WHERE {{where}}",
                    self.t("sales_invoice")
                ),
            ),
            (
                "sales_shipment_grid",
                vec![
                    "entity_id", "increment_id", "store_id", "order_increment_id", "order_id",
                    "order_created_at", "customer_name", "total_qty", "shipment_status", "order_status",
                    "billing_address", "shipping_address", "billing_name", "shipping_name",
                    "customer_email", "customer_group_id", "payment_method", "shipping_information",
                    "created_at", "updated_at",
                ],
                format!(
                    "SELECT x.entity_id, x.increment_id, x.store_id, o.increment_id, x.order_id, o.created_at, \
                     {cn}, x.total_qty, x.shipment_status, o.status, {ba}, {sa}, {bn}, {sn}, o.customer_email, \
                     o.customer_group_id, {pay}, o.shipping_description, x.created_at, x.updated_at \
                     FROM {} x JOIN {order} o ON o.entity_id = x.order_id {joins} WHERE {{where}}",
                    self.t("sales_shipment")
                ),
            ),
            (
                "sales_creditmemo_grid",
                vec![
                    "entity_id", "increment_id", "created_at", "updated_at", "order_id",
                    "order_increment_id", "order_created_at", "billing_name", "state", "base_grand_total",
                    "order_status", "store_id", "billing_address", "shipping_address", "customer_name",
                    "customer_email", "customer_group_id", "payment_method", "shipping_information",
                    "subtotal", "shipping_and_handling", "adjustment_positive", "adjustment_negative",
                    "order_base_grand_total",
                ],
                format!(
                    "SELECT x.entity_id, x.increment_id, x.created_at, x.updated_at, x.order_id, o.increment_id, \
                     o.created_at, {bn}, x.state, x.base_grand_total, o.status, x.store_id, {ba}, {sa}, {cn}, \
                     o.customer_email, o.customer_group_id, {pay}, o.shipping_description, x.subtotal, \
                     x.shipping_amount, x.adjustment_positive, x.adjustment_negative, o.base_grand_total \
                     FROM {} x JOIN {order} o ON o.entity_id = x.order_id {joins} WHERE {{where}}",
                    self.t("sales_creditmemo")
                ),
            ),
        ]
    }

    /// Rebuilds grid rows. `None`: every row (the data step); else the rows of these ids.
    pub async fn refresh(
        &self,
        m2c: &mut Conn,
        orders: Option<&BTreeSet<u64>>,
        invoices: &BTreeSet<u64>,
        shipments: &BTreeSet<u64>,
        creditmemos: &BTreeSet<u64>,
    ) -> Result<u64> {
        let mut written = 0;
        for (grid, columns, select) in self.statements() {
            let source = match grid {
                "sales_invoice_grid" => "sales_invoice",
                "sales_shipment_grid" => "sales_shipment",
                "sales_creditmemo_grid" => "sales_creditmemo",
                _ => "sales_order",
            };
            let own: &BTreeSet<u64> = match grid {
                "sales_invoice_grid" => invoices,
                "sales_shipment_grid" => shipments,
                "sales_creditmemo_grid" => creditmemos,
                _ => &BTreeSet::new(),
            };
            let list = |ids: &BTreeSet<u64>| {
                ids.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (condition, gone) = match orders {
                None => ("1 = 1".to_string(), None),
                Some(orders) => {
                    let mut parts = Vec::new();
                    let by_order = if grid == "sales_order_grid" {
                        "o.entity_id"
                    } else {
                        "x.order_id"
                    };
                    if !orders.is_empty() {
                        parts.push(format!("{by_order} IN ({})", list(orders)));
                    }
                    if !own.is_empty() {
                        parts.push(format!("x.entity_id IN ({})", list(own)));
                    }
                    if parts.is_empty() {
                        continue;
                    }
                    // Grid rows whose entity (or order) is gone from M2.
                    let keys: BTreeSet<u64> = if grid == "sales_order_grid" {
                        orders.clone()
                    } else {
                        own.clone()
                    };
                    let mut gone = Vec::new();
                    if !keys.is_empty() {
                        gone.push(format!(
                            "DELETE g FROM {} g LEFT JOIN {} e ON e.entity_id = g.entity_id WHERE g.entity_id IN ({}) AND e.entity_id IS NULL",
                            self.t(grid),
                            self.t(source),
                            list(&keys)
                        ));
                    }
                    if grid != "sales_order_grid" && !orders.is_empty() {
                        gone.push(format!(
                            "DELETE g FROM {} g LEFT JOIN {} e ON e.entity_id = g.entity_id WHERE g.order_id IN ({}) AND e.entity_id IS NULL",
                            self.t(grid),
                            self.t(source),
                            list(orders)
                        ));
                    }
                    (format!("({})", parts.join(" OR ")), Some(gone))
                }
            };
            if orders.is_some() {
                // Increment ids swapped between entities (unique in the grid as in its source):
                // a grid row holding a value its source now gives to one of the entities
                // rebuilt here lets go of it (its own entity changed too, and is rebuilt with
                // its new value now or when its change is drained).
                let alias = if grid == "sales_order_grid" { "o" } else { "x" };
                let free = format!(
                    "UPDATE {} g JOIN {} {alias} ON {alias}.increment_id = g.increment_id AND {alias}.store_id = g.store_id \
                     AND {alias}.entity_id <> g.entity_id SET g.increment_id = NULL WHERE {condition}",
                    self.t(grid),
                    self.t(source)
                );
                m2c.query_drop(&free)
                    .await
                    .map_err(|e| m2(e, &format!("freeing moved increment ids in {grid}")))?;
            }
            let select = select.replace("{where}", &condition);
            let updates: Vec<String> = columns
                .iter()
                .filter(|c| **c != "entity_id")
                .map(|c| format!("{0} = VALUES({0})", quote_ident(c)))
                .collect();
            let sql = format!(
                "INSERT INTO {} ({}) {select} ON DUPLICATE KEY UPDATE {}",
                self.t(grid),
                columns
                    .iter()
                    .map(|c| quote_ident(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                updates.join(", ")
            );
            m2c.query_drop(&sql)
                .await
                .map_err(|e| m2(e, &format!("rebuilding {grid}")))?;
            written += m2c.affected_rows();
            for statement in gone.unwrap_or_default() {
                m2c.query_drop(&statement)
                    .await
                    .map_err(|e| m2(e, &format!("removing rows of {grid}")))?;
            }
        }
        Ok(written)
    }

    /// Rebuilds the grids of changed M1 rows: (M1 table without prefix, key).
    async fn refresh_changed(
        &self,
        m2c: &mut Conn,
        changed: &[(String, Vec<Value>)],
    ) -> Result<u64> {
        let id = |key: &Vec<Value>| match key.first() {
            Some(Value::Int(n)) => Some(*n as u64),
            Some(Value::UInt(n)) => Some(*n),
            Some(Value::Bytes(b)) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        };
        let (mut orders, mut invoices, mut shipments, mut creditmemos) = (
            BTreeSet::new(),
            BTreeSet::new(),
            BTreeSet::new(),
            BTreeSet::new(),
        );
        let mut parents: Vec<(String, u64)> = Vec::new();
        for (table, key) in changed {
            let Some(n) = id(key) else { continue };
            let refresh = match table.as_str() {
                "sales_flat_order" => Refresh::Order,
                "sales_flat_invoice" => Refresh::Invoice,
                "sales_flat_shipment" => Refresh::Shipment,
                "sales_flat_creditmemo" => Refresh::Creditmemo,
                "sales_flat_order_address" => {
                    parents.push(("sales_order_address".into(), n));
                    continue;
                }
                "sales_flat_order_payment" => {
                    parents.push(("sales_order_payment".into(), n));
                    continue;
                }
                _ => continue,
            };
            match refresh {
                Refresh::Order => orders.insert(n),
                Refresh::Invoice => invoices.insert(n),
                Refresh::Shipment => shipments.insert(n),
                Refresh::Creditmemo => creditmemos.insert(n),
            };
        }
        // Address and payment rows name their order in parent_id (as the DMT takes it).
        for (table, n) in parents {
            let parent: Option<Option<u64>> = m2c
                .exec_first(
                    format!(
                        "SELECT parent_id FROM {} WHERE entity_id = ?",
                        self.t(&table)
                    ),
                    (n,),
                )
                .await
                .map_err(|e| m2(e, &format!("reading {table}")))?;
            if let Some(Some(order)) = parent {
                orders.insert(order);
            }
        }
        self.refresh(m2c, Some(&orders), &invoices, &shipments, &creditmemos)
            .await
    }
}

impl Step for OrderGrids {
    fn group(&self) -> &str {
        // Its tables are the Map step's; it follows no deltalog group of its own.
        ""
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

    fn name(&self) -> &str {
        "order_grids"
    }

    fn derives_from(&self) -> Vec<String> {
        self.documents
            .iter()
            .map(|d| format!("{}{d}", self.source_prefix))
            .collect()
    }

    fn after_drain<'a>(
        &'a self,
        _m1: &'a mut Conn,
        m2c: &'a mut Conn,
        changed: &'a [(String, Vec<Value>)],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let unprefixed: Vec<(String, Vec<Value>)> = changed
                .iter()
                .map(|(t, k)| {
                    (
                        t.strip_prefix(self.source_prefix.as_str())
                            .unwrap_or(t)
                            .to_string(),
                        k.clone(),
                    )
                })
                .collect();
            self.refresh_changed(m2c, &unprefixed).await?;
            Ok(())
        })
    }

    fn volume<'a>(
        &'a self,
        _m1: &'a mut Conn,
        m2c: &'a mut Conn,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for (source, grid) in [
                ("sales_order", "sales_order_grid"),
                ("sales_invoice", "sales_invoice_grid"),
                ("sales_shipment", "sales_shipment_grid"),
                ("sales_creditmemo", "sales_creditmemo_grid"),
            ] {
                let count = |t: &str| format!("SELECT COUNT(*) FROM {}", self.t(t));
                let a: Option<u64> = m2c
                    .query_first(count(source))
                    .await
                    .map_err(|e| m2(e, "counting"))?;
                let b: Option<u64> = m2c
                    .query_first(count(grid))
                    .await
                    .map_err(|e| m2(e, "counting"))?;
                if a != b {
                    out.push(format!(
                        "volume check: {grid} has {} rows for {} rows of {source} in M2 (OrderGrids)",
                        b.unwrap_or(0),
                        a.unwrap_or(0)
                    ));
                }
            }
            Ok(out)
        })
    }
}
