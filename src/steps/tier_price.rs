//! `Migration\Step\TierPrice\{Integrity,Data,Volume,Delta}` (group `delta_tier_price`, option
//! `tier_price_map_file`): M1's `catalog_product_entity_tier_price` and
//! `catalog_product_entity_group_price` both become rows of M2's
//! `catalog_product_entity_tier_price`; a group price is M2's tier price of `qty = 1`
//! (dmt-compat §4.3, §4.4).
//!
//! As the DMT: the M2 `value_id` is M2's own (the data part copies with `value_id = NULL`), rows
//! are written `ON DUPLICATE KEY UPDATE` on M2's unique key (entity, all_groups, group, qty,
//! website), tier prices first and group prices after them, so where both hold the same qty-1
//! slot the group price wins; a deleted group price deletes the M2 row of its key with
//! `qty = 1`. Unlike the DMT's delta, which copies M1's `value_id` (the two M1 tables number
//! their rows independently, so one could overwrite the other's row), the delta never writes
//! `value_id`; and a qty-1 slot both tables feed is settled from M1 after every change of either
//! (the group price if there is one, else the tier price), as the data part leaves it.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, Value};

use super::map::{self, TableMapping};
use super::step::{BoxFuture, Step};
use crate::config::{MapRules, Side as MapSide};
use crate::db::quote_ident;
use crate::db::schema::Schema;
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;
use crate::pipeline::write::{self, OnDuplicate, Rows};
use crate::source::deltalog::keyset_after;

/// M1's tier prices, and M2's table for both.
pub const TIER: &str = "catalog_product_entity_tier_price";
/// M1's group prices (1.7 and later; absent before).
pub const GROUP: &str = "catalog_product_entity_group_price";
/// The columns of M2's qty-1 slot a group price and a tier price can share.
const SLOT: [&str; 4] = ["entity_id", "all_groups", "customer_group_id", "website_id"];

#[derive(Debug)]
pub struct TierPrice {
    pub source_prefix: String,
    pub dest_prefix: String,
    /// The rules of `tier_price_map_file`.
    pub map: MapRules,
}

fn m1e(what: &str) -> impl Fn(mysql_async::Error) -> Error + '_ {
    move |e| Error::db(Side::M1, e, what)
}

fn m2e(what: &str) -> impl Fn(mysql_async::Error) -> Error + '_ {
    move |e| Error::db(Side::M2, e, what)
}

/// A decimal key value equal to 1 (`1`, `1.0000`, 1.0).
fn is_one(v: &Value) -> bool {
    match v {
        Value::Int(i) => *i == 1,
        Value::UInt(u) => *u == 1,
        Value::Float(f) => *f == 1.0,
        Value::Double(d) => *d == 1.0,
        Value::Bytes(b) => {
            std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                == Some(1.0)
        }
        _ => false,
    }
}

impl TierPrice {
    pub fn from_setup(setup: &crate::setup::Setup) -> Result<TierPrice> {
        let o = &setup.config.options;
        Ok(TierPrice {
            source_prefix: o.source_prefix(),
            dest_prefix: o.dest_prefix(),
            map: MapRules::load(&o.required_file("tier_price_map_file")?)?,
        })
    }

    fn m1_table(&self, document: &str) -> String {
        format!("{}{document}", self.source_prefix)
    }

    fn m2_table(&self) -> String {
        format!("{}{TIER}", self.dest_prefix)
    }

    /// The mappings of the M1 tables M1 has, tier prices first, both into M2's tier price
    /// table, without `value_id`. None when M1 has neither (a store without the catalog).
    pub fn plan_mappings(
        &self,
        m1_schema: &Schema,
        m2_schema: &Schema,
    ) -> Result<Vec<TableMapping>> {
        let present: Vec<&str> = [TIER, GROUP]
            .into_iter()
            .filter(|d| m1_schema.table(&self.m1_table(d)).is_some())
            .collect();
        if present.is_empty() {
            return Ok(Vec::new());
        }
        let destination_table = self.m2_table();
        let Some(target) = m2_schema.table(&destination_table) else {
            return Err(Error::Integrity(vec![format!(
                "Source documents are not mapped: {} (Magento 2 has no {destination_table})",
                present.join(",")
            )]));
        };
        let (planned, _) = map::plan(
            &self.map,
            m1_schema,
            m2_schema,
            &self.source_prefix,
            &self.dest_prefix,
        )?;
        let mut out = Vec::new();
        for document in present {
            let source_table = self.m1_table(document);
            let mut mapping = match planned.iter().find(|m| {
                m.source_table == source_table && m.destination_table == destination_table
            }) {
                Some(m) => m.clone(),
                // The DMT maps group prices to tier prices in code, not in the map file: the
                // same-named columns, less what the map ignores.
                None => {
                    let Some(table) = m1_schema.table(&source_table) else {
                        continue;
                    };
                    let mut copies = Vec::new();
                    for (i, column) in table.columns.iter().enumerate() {
                        if self
                            .map
                            .is_field_ignored(document, &column.name, MapSide::Source)
                            || self
                                .map
                                .is_field_ignored(TIER, &column.name, MapSide::Destination)
                            || !target.has_column(&column.name)
                        {
                            continue;
                        }
                        copies.push((i, column.name.clone()));
                    }
                    TableMapping {
                        document: document.to_string(),
                        source_table: source_table.clone(),
                        destination: TIER.to_string(),
                        destination_table: destination_table.clone(),
                        select_columns: table.columns.iter().map(|c| c.name.clone()).collect(),
                        primary_key: table.primary_key.clone(),
                        insert_columns: target
                            .columns
                            .iter()
                            .map(|c| c.name.clone())
                            .filter(|c| copies.iter().any(|(_, d)| d == c))
                            .collect(),
                        copies,
                        source_handlers: Vec::new(),
                        destination_handlers: Vec::new(),
                        lookups: Vec::new(),
                        filter: None,
                        estimated_rows: table.estimated_rows,
                    }
                }
            };
            // M2 numbers its rows itself (the DMT's data step sets value_id to NULL).
            mapping.copies.retain(|(_, d)| d != "value_id");
            mapping.insert_columns.retain(|c| c != "value_id");
            mapping
                .destination_handlers
                .retain(|(f, _)| f != "value_id");
            for column in SLOT {
                if !mapping.insert_columns.iter().any(|c| c == column) {
                    return Err(Error::Integrity(vec![format!(
                        "Destination fields are not mapped. Document: {TIER}. Fields: {column} (from {document})"
                    )]));
                }
            }
            out.push(mapping);
        }
        Ok(out)
    }

    /// `TierPrice\Data`: M2's tier prices emptied, then M1's tier prices and group prices
    /// written in M1 key order, `ON DUPLICATE KEY UPDATE`. Returns the rows read from M1.
    pub async fn data(
        &self,
        m1: &mut Conn,
        m2: &mut Conn,
        m1_schema: &Schema,
        m2_schema: &Schema,
    ) -> Result<u64> {
        let mappings = self.plan_mappings(m1_schema, m2_schema)?;
        if mappings.is_empty() {
            return Ok(0);
        }
        let destination_table = self.m2_table();
        let Some(destination) = m2_schema.table(&destination_table) else {
            return Ok(0);
        };
        m2.query_drop(format!("DELETE FROM {}", quote_ident(&destination_table)))
            .await
            .map_err(m2e("emptying catalog_product_entity_tier_price"))?;
        let mut read = 0u64;
        for mapping in &mappings {
            let transformer = map::MapTransformer::new(mapping)?;
            let key: Vec<String> = mapping
                .primary_key
                .iter()
                .map(|k| format!("t.{}", quote_ident(k)))
                .collect();
            let key_at: Vec<usize> = mapping
                .primary_key
                .iter()
                .filter_map(|k| mapping.select_columns.iter().position(|c| c == k))
                .collect();
            let mut after: Option<Vec<Value>> = None;
            loop {
                let (condition, params) = match &after {
                    Some(a) => {
                        let (c, p) = keyset_after(&key, a);
                        (Some(c), p)
                    }
                    None => (None, Vec::new()),
                };
                let sql = format!(
                    "{} ORDER BY {} LIMIT 2000",
                    mapping.select_where(condition.as_deref()),
                    key.join(", ")
                );
                let rows: Vec<mysql_async::Row> = m1.exec(sql, params).await.map_err(|e| {
                    Error::db(Side::M1, e, &format!("reading {}", mapping.source_table))
                })?;
                if rows.is_empty() {
                    break;
                }
                let mut keys = Vec::with_capacity(rows.len());
                let mut values = Vec::with_capacity(rows.len());
                for row in rows {
                    let row = row.unwrap();
                    let k: Vec<Value> = key_at.iter().map(|&i| row[i].clone()).collect();
                    let v = transformer.transform(row).map_err(|e| Error::Data {
                        table: destination_table.clone(),
                        key: write::row_ref(mapping, &k),
                        message: e.0,
                    })?;
                    keys.push(k);
                    values.push(v);
                }
                read += values.len() as u64;
                after = keys.last().cloned();
                let batch = Rows {
                    mapping,
                    destination,
                    rows: &values,
                    keys: &keys,
                };
                write::insert(m2, &batch, OnDuplicate::Update(&mapping.insert_columns)).await?;
            }
        }
        Ok(read)
    }

    /// M1's value for a qty-1 slot: its group price if it has one, else its tier price of qty 1.
    async fn slot_value(&self, m1: &mut Conn, slot: &[Value]) -> Result<Option<Value>> {
        let condition = SLOT
            .iter()
            .map(|c| format!("{} = ?", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let group = self.m1_table(GROUP);
        let group_value: Option<Value> = match m1
            .exec_first(
                format!(
                    "SELECT value FROM {} WHERE {condition}",
                    quote_ident(&group)
                ),
                slot.to_vec(),
            )
            .await
        {
            Ok(v) => v,
            // A store before 1.7 has no group prices.
            Err(mysql_async::Error::Server(e)) if e.code == 1146 => None,
            Err(e) => return Err(m1e("reading catalog_product_entity_group_price")(e)),
        };
        if group_value.is_some() {
            return Ok(group_value);
        }
        m1.exec_first(
            format!(
                "SELECT value FROM {} WHERE {condition} AND qty = 1",
                quote_ident(&self.m1_table(TIER))
            ),
            slot.to_vec(),
        )
        .await
        .map_err(m1e("reading catalog_product_entity_tier_price"))
    }
}

impl Step for TierPrice {
    fn group(&self) -> &str {
        "delta_tier_price"
    }

    fn map_file_option(&self) -> Option<&str> {
        Some("tier_price_map_file")
    }

    fn prepare<'a>(
        &'a self,
        m1: &'a mut Conn,
        _m2: &'a mut Conn,
        m2_schema: &'a Schema,
        mappings: &'a mut Vec<TableMapping>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let m1_schema = Schema::read(m1).await.map_err(m1e("reading the schema"))?;
            let own = self.plan_mappings(&m1_schema, m2_schema)?;
            mappings.retain(|m| !own.iter().any(|o| o.source_table == m.source_table));
            mappings.extend(own);
            Ok(())
        })
    }

    fn delete_condition(&self, source_table: &str) -> Option<String> {
        (source_table == self.m1_table(GROUP)).then(|| format!("{} = 1", quote_ident("qty")))
    }

    fn after_apply<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Transaction<'_>,
        table: &'a DeltaTable,
        keys: &'a [Vec<Value>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let source = &table.reader.tracked.source_table;
            let is_group = *source == self.m1_table(GROUP);
            let position = |c: &str| table.keys().iter().position(|k| k == c);
            let Some(slot_at) = SLOT.iter().map(|c| position(c)).collect::<Option<Vec<_>>>() else {
                return Ok(());
            };
            let qty_at = position("qty");
            let mut slots: Vec<Vec<Value>> = Vec::new();
            for key in keys {
                if !is_group && !qty_at.is_some_and(|i| key.get(i).is_some_and(is_one)) {
                    continue;
                }
                let slot: Vec<Value> = slot_at.iter().map(|&i| key[i].clone()).collect();
                if !slots.contains(&slot) {
                    slots.push(slot);
                }
            }
            let m2_table = quote_ident(&self.m2_table());
            let condition = SLOT
                .iter()
                .map(|c| format!("{} = ?", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(" AND ");
            for slot in slots {
                // Locked in M2 before M1 is read, so two workers settling the same slot (one
                // for the group price, one for the tier price) take turns, the later reading
                // the later M1.
                m2.exec_drop(
                    format!(
                        "SELECT value_id FROM {m2_table} WHERE {condition} AND qty = 1 FOR UPDATE"
                    ),
                    slot.clone(),
                )
                .await
                .map_err(m2e("locking a tier price"))?;
                let Some(value) = self.slot_value(m1, &slot).await? else {
                    // Neither table has it: the generic delete removed it already.
                    continue;
                };
                let mut params = slot.clone();
                params.push(value);
                m2.exec_drop(
                    format!(
                        "INSERT INTO {m2_table} (entity_id, all_groups, customer_group_id, website_id, qty, value) \
                         VALUES (?, ?, ?, ?, 1, ?) ON DUPLICATE KEY UPDATE value = VALUES(value)"
                    ),
                    params,
                )
                .await
                .map_err(m2e("writing catalog_product_entity_tier_price"))?;
            }
            Ok(())
        })
    }

    fn volume<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Conn,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move { self.volume_check(m1, m2).await })
    }
}

impl TierPrice {
    /// `TierPrice\Volume`: M1's distinct (entity, all_groups, group, qty, website) over both
    /// tables (a group price counting as qty 1) against M2's rows.
    pub async fn volume_check(&self, m1: &mut Conn, m2: &mut Conn) -> Result<Vec<String>> {
        let existing: Vec<String> = m1
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)",
                (self.m1_table(TIER), self.m1_table(GROUP)),
            )
            .await
            .map_err(m1e("listing tables"))?;
        if existing.is_empty() {
            return Ok(Vec::new());
        }
        let mut parts = Vec::new();
        let mut documents = Vec::new();
        for (document, qty) in [(TIER, "qty"), (GROUP, "1.0000")] {
            let name = self.m1_table(document);
            if existing.contains(&name) {
                parts.push(format!(
                    "SELECT entity_id, all_groups, customer_group_id, CAST({qty} AS DECIMAL(12,4)), website_id FROM {}",
                    quote_ident(&name)
                ));
                documents.push(name);
            }
        }
        let source: Option<u64> = m1
            .query_first(format!(
                "SELECT COUNT(*) FROM ({}) AS u",
                parts.join(" UNION ")
            ))
            .await
            .map_err(m1e("counting tier and group prices"))?;
        let destination: Option<u64> = match m2
            .query_first(format!(
                "SELECT COUNT(*) FROM {}",
                quote_ident(&self.m2_table())
            ))
            .await
        {
            Ok(n) => n,
            Err(mysql_async::Error::Server(e)) if e.code == 1146 => Some(0),
            Err(e) => return Err(m2e("counting catalog_product_entity_tier_price")(e)),
        };
        let (source, destination) = (source.unwrap_or(0), destination.unwrap_or(0));
        Ok(if source == destination {
            Vec::new()
        } else {
            vec![format!(
                "Mismatch of amount of entities in documents: Source: {source} ({}) Destination: {destination} ({})",
                documents.join(" + "),
                self.m2_table()
            )]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qty_one_in_every_form_a_key_takes() {
        assert!(is_one(&Value::Bytes(b"1.0000".to_vec())));
        assert!(is_one(&Value::Bytes(b"1".to_vec())));
        assert!(is_one(&Value::Double(1.0)));
        assert!(is_one(&Value::UInt(1)));
        assert!(!is_one(&Value::Bytes(b"10.0000".to_vec())));
        assert!(!is_one(&Value::Bytes(b"0.5000".to_vec())));
        assert!(!is_one(&Value::NULL));
    }
}
