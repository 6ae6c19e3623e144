//! `Migration\Step\Customer\{Data,Delta,Volume}`: M1's customer and address entities with their
//! EAV values become M2 rows whose static columns hold what M1 kept as values
//! (dmt-compat §4.3, magento-schema §1.1).
//!
//! The attributes `customer_attribute_groups_file` names are read from M1's value tables with
//! each entity row (extra columns of its select, so migrate:data, migrate:delta and verify all
//! see the same record); their value rows are left out of M2's value tables; the other values
//! go there with M2's attribute id for the same attribute code. Attribute ids are resolved
//! through `eav_attribute` / `eav_entity_type` of each database, never assumed.
//!
//! A change to a value row rewrites its entity. Which entity a value row belonged to is read
//! from M1 while the row exists, and from M2's `mage_migrate_customer_values` once it is gone
//! (the deltalog logs only `value_id`). Entities are rewritten after the batches drained, from
//! one consistent M1 snapshot that also refreshes that record, so nothing a later delete needs
//! is missing from it and no worker writes the same entity meanwhile.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, TxOpts, Value};

use super::map::TableMapping;
use super::step::{BoxFuture, Step};
use crate::config::{DeltalogTable, Groups};
use crate::db::quote_ident;
use crate::db::schema::Schema;
use crate::deltalog::TrackedTable;
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::{self, DeltaTable};
use crate::source::deltalog::{key_list_condition, DeltalogReader};

/// M2's record of which entity each left-out value row belongs to.
pub const VALUES_TABLE: &str = "mage_migrate_customer_values";

/// The stock entity tables and their EAV entity type codes.
const STOCK: &[(&str, &str)] = &[
    ("customer_entity", "customer"),
    ("customer_address_entity", "customer_address"),
];
const BACKENDS: &[&str] = &["datetime", "decimal", "int", "text", "varchar"];

/// One entity table of the step, as config names it.
#[derive(Debug, Clone)]
struct EntityDoc {
    /// `customer_entity`, without prefix.
    doc: String,
    type_code: String,
    /// Attribute codes that are M2 columns (customer_attribute_groups_file).
    columns: Vec<String>,
}

/// An attribute that became an M2 column: where its M1 values are.
#[derive(Debug, Clone)]
struct StaticAttr {
    code: String,
    m1_id: u64,
    backend: String,
}

/// What a run resolved against both databases.
#[derive(Debug)]
struct Bound {
    entities: Vec<BoundEntity>,
}

#[derive(Debug)]
struct BoundEntity {
    /// The entity table written as the step writes it (static columns included).
    table: DeltaTable,
    /// (M1 value table with prefix, its document, M1 ids of the attributes left out of it).
    values: Vec<(String, String, Vec<u64>)>,
}

#[derive(Debug)]
pub struct Customer {
    pub source_prefix: String,
    pub dest_prefix: String,
    pub upgrade_password_hash: bool,
    entities: Vec<EntityDoc>,
    bound: Mutex<Option<Arc<Bound>>>,
}

impl Customer {
    /// The step as config.xml describes it: its attribute groups and password option.
    pub fn from_setup(setup: &crate::setup::Setup) -> Result<Customer> {
        let o = &setup.config.options;
        let attribute_groups = match o.file("customer_attribute_groups_file")? {
            Some(path) => Some(Groups::load(&path)?),
            None => None,
        };
        let entities = STOCK
            .iter()
            .map(|(doc, type_code)| EntityDoc {
                doc: doc.to_string(),
                type_code: type_code.to_string(),
                columns: attribute_groups
                    .as_ref()
                    .and_then(|g| g.group(doc))
                    .map(|g| {
                        g.entries
                            .iter()
                            .filter(|e| e.kind == "attribute")
                            .map(|e| e.value.trim().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Customer {
            source_prefix: o.source_prefix(),
            dest_prefix: o.dest_prefix(),
            upgrade_password_hash: o.upgrade_customer_password_hash()?,
            entities,
            bound: Mutex::new(None),
        })
    }

    /// The documents of the step: entity tables and their value tables, without prefix.
    pub fn documents(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.entities {
            out.push(e.doc.clone());
            out.extend(BACKENDS.iter().map(|b| format!("{}_{b}", e.doc)));
        }
        out
    }

    fn values_table(&self) -> String {
        quote_ident(&format!("{}{VALUES_TABLE}", self.dest_prefix))
    }

    fn derivations_table(&self) -> String {
        quote_ident(&format!(
            "{}{}",
            self.dest_prefix,
            crate::migrate_delta::DERIVATIONS
        ))
    }

    fn bound(&self) -> Result<Arc<Bound>> {
        self.bound
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Error::Usage("the Customer step ran before it was prepared".into()))
    }

    /// The SQL of one attribute's value for entity `t`, typed for its M2 column.
    fn value_expression(
        &self,
        attr: &StaticAttr,
        entity: &EntityDoc,
        column: &crate::db::schema::Column,
    ) -> String {
        let values = quote_ident(&format!(
            "{}{}_{}",
            self.source_prefix, entity.doc, attr.backend
        ));
        let v = "v.`value`";
        let mut value = match column.data_type.as_str() {
            "date" => format!("DATE({v})"),
            _ => v.to_string(),
        };
        if attr.code == "password_hash" && self.upgrade_password_hash {
            // md5:salt → md5:salt:0, sha256:salt → sha256:salt:1 (M2's hash versions); other
            // formats (bcrypt …) are kept as they are.
            value = format!(
                "CASE WHEN {v} REGEXP '^[0-9a-fA-F]{{32}}(:[^:]*)?$' THEN CONCAT(SUBSTRING_INDEX({v}, ':', 1), ':', SUBSTRING({v}, 34), ':0') \
                 WHEN {v} REGEXP '^[0-9a-fA-F]{{64}}(:[^:]*)?$' THEN CONCAT(SUBSTRING_INDEX({v}, ':', 1), ':', SUBSTRING({v}, 66), ':1') \
                 ELSE {v} END"
            );
        }
        let select = format!(
            "(SELECT {value} FROM {values} AS v WHERE v.`entity_id` = t.`entity_id` AND v.`attribute_id` = {})",
            attr.m1_id
        );
        if column.nullable {
            return select;
        }
        // A NOT NULL column M1 has no value for gets the empty value, as Magento's own adapter
        // (which runs without strict mode) writes it.
        let empty = match column.data_type.as_str() {
            "char" | "varchar" | "text" | "mediumtext" | "longtext" | "tinytext" => "''",
            _ => "0",
        };
        format!("COALESCE({select}, {empty})")
    }

    async fn resolve(
        &self,
        m1: &mut Conn,
        m2: &mut Conn,
        m2_schema: &Schema,
        mappings: &mut [TableMapping],
    ) -> Result<()> {
        let mut bound = Bound {
            entities: Vec::new(),
        };
        for entity in &self.entities {
            let m1_entity = format!("{}{}", self.source_prefix, entity.doc);
            let Some(at) = mappings.iter().position(|m| m.source_table == m1_entity) else {
                continue;
            };
            let m1_attrs = attributes(m1, Side::M1, &self.source_prefix, &entity.type_code).await?;
            let m2_attrs = attributes(m2, Side::M2, &self.dest_prefix, &entity.type_code).await?;
            let destination = m2_schema
                .table(&mappings[at].destination_table)
                .cloned()
                .ok_or_else(|| {
                    Error::Integrity(vec![format!(
                        "Source documents are not mapped: {}",
                        entity.doc
                    )])
                })?;
            // The attributes that are M2 columns, with where M1 keeps their values.
            let mut statics = Vec::new();
            for code in &entity.columns {
                let Some((id, backend)) = m1_attrs.get(code) else {
                    continue; // not an attribute of this M1 store: nothing to fill
                };
                if backend == "static" {
                    continue; // already a column in M1: the map copies it
                }
                if !BACKENDS.contains(&backend.as_str()) {
                    continue;
                }
                let column = destination.column(code).ok_or_else(|| {
                    Error::Integrity(vec![format!(
                        "customer_attribute_groups_file names {code} for {}, but Magento 2's {} has no column {code}",
                        entity.doc, destination.name
                    )])
                })?;
                statics.push((
                    StaticAttr {
                        code: code.clone(),
                        m1_id: *id,
                        backend: backend.clone(),
                    },
                    column.clone(),
                ));
            }
            let mapping = &mut mappings[at];
            for (attr, column) in &statics {
                let expression = self.value_expression(attr, entity, column);
                let index = mapping.select_columns.len() + mapping.lookups.len();
                mapping
                    .lookups
                    .push((format!("mage_migrate_{}", attr.code), expression));
                mapping.copies.retain(|(_, d)| d != &attr.code);
                mapping.copies.push((index, attr.code.clone()));
                if !mapping.insert_columns.contains(&attr.code) {
                    mapping.insert_columns.push(attr.code.clone());
                }
            }
            let entity_mapping = mapping.clone();
            // The value tables: left-out rows filtered, attribute ids translated by code.
            let mut values = Vec::new();
            for backend in BACKENDS {
                let doc = format!("{}_{backend}", entity.doc);
                let m1_table = format!("{}{doc}", self.source_prefix);
                let left_out: Vec<u64> = statics
                    .iter()
                    .filter(|(a, _)| a.backend == *backend)
                    .map(|(a, _)| a.m1_id)
                    .collect();
                let Some(mapping) = mappings.iter_mut().find(|m| m.source_table == m1_table) else {
                    continue;
                };
                if !left_out.is_empty() {
                    let list: Vec<String> = left_out.iter().map(u64::to_string).collect();
                    mapping.filter = Some(format!("t.`attribute_id` NOT IN ({})", list.join(", ")));
                }
                let mut cases = Vec::new();
                let mut missing = Vec::new();
                for (code, (m1_id, m1_backend)) in &m1_attrs {
                    if m1_backend != backend || left_out.contains(m1_id) {
                        continue;
                    }
                    match m2_attrs.get(code) {
                        Some((m2_id, _)) => cases.push(format!("WHEN {m1_id} THEN {m2_id}")),
                        None => missing.push((code.clone(), *m1_id)),
                    }
                }
                for (code, m1_id) in missing {
                    let n: Option<u64> = m1
                        .exec_first(
                            format!(
                                "SELECT COUNT(*) FROM {} WHERE attribute_id = ?",
                                quote_ident(&m1_table)
                            ),
                            (m1_id,),
                        )
                        .await
                        .map_err(|e| Error::db(Side::M1, e, &format!("counting {m1_table}")))?;
                    if n.unwrap_or(0) > 0 {
                        return Err(Error::Integrity(vec![format!(
                            "{doc}: {} values of the {} attribute {code} (M1 attribute_id {m1_id}), which Magento 2's eav_attribute does not have; create the attribute in Magento 2 first (the DMT's EAV step does)",
                            n.unwrap_or(0),
                            entity.type_code
                        )]));
                    }
                }
                if let Some(at) = mapping
                    .select_columns
                    .iter()
                    .position(|c| c == "attribute_id")
                {
                    if mapping
                        .copies
                        .iter()
                        .any(|(i, d)| *i == at && d == "attribute_id")
                        && !cases.is_empty()
                    {
                        let index = mapping.select_columns.len() + mapping.lookups.len();
                        mapping.lookups.push((
                            "mage_migrate_attribute_id".into(),
                            format!("CASE t.`attribute_id` {} END", cases.join(" ")),
                        ));
                        mapping.copies.retain(|(_, d)| d != "attribute_id");
                        mapping.copies.push((index, "attribute_id".into()));
                    }
                }
                values.push((m1_table, doc, left_out));
            }
            let tracked = TrackedTable::new(
                &self.source_prefix,
                &DeltalogTable {
                    table: entity.doc.clone(),
                    keys: vec!["entity_id".into()],
                    group: "delta_customer".into(),
                },
            );
            let table = DeltaTable::new(
                DeltalogReader { tracked },
                entity_mapping,
                destination,
                None,
            )?;
            bound.entities.push(BoundEntity { table, values });
        }
        *self.bound.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(bound));
        Ok(())
    }

    /// The step's tables as migrate:data and verify see them: its documents through
    /// `customer_map_file`, resolved against both databases (read-only).
    pub async fn plan_mappings(
        &self,
        setup: &crate::setup::Setup,
        m1: &mut Conn,
        m2: &mut Conn,
        m1_schema: &Schema,
        m2_schema: &Schema,
    ) -> Result<Vec<TableMapping>> {
        let o = &setup.config.options;
        let map = crate::config::MapRules::load(&o.required_file("customer_map_file")?)?;
        let documents: Vec<String> = self
            .documents()
            .iter()
            .map(|d| format!("{}{d}", self.source_prefix))
            .collect();
        let (mappings, _) = super::map::plan(
            &map,
            m1_schema,
            m2_schema,
            &self.source_prefix,
            &self.dest_prefix,
        )?;
        let mut mappings: Vec<TableMapping> = mappings
            .into_iter()
            .filter(|m| documents.contains(&m.source_table))
            .collect();
        self.resolve(m1, m2, m2_schema, &mut mappings).await?;
        Ok(mappings)
    }

    /// The entity ids whose rows these value keys touch: from M1 while the rows exist, from
    /// M2's record once they are gone.
    async fn entities_of_values(
        &self,
        m1: &mut Conn,
        m2: &mut Transaction<'_>,
        m1_table: &str,
        doc: &str,
        left_out: &[u64],
        keys: &[Vec<Value>],
    ) -> Result<BTreeSet<u64>> {
        let mut entities = BTreeSet::new();
        if left_out.is_empty() {
            return Ok(entities);
        }
        let ids: Vec<String> = left_out.iter().map(u64::to_string).collect();
        let key = ["value_id".to_string()];
        for chunk in keys.chunks(1000) {
            let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
            let rows: Vec<u64> = m1
                .exec(
                    format!(
                        "SELECT entity_id FROM {} WHERE {} AND attribute_id IN ({})",
                        quote_ident(m1_table),
                        key_list_condition(&key, chunk.len(), ""),
                        ids.join(", ")
                    ),
                    params.clone(),
                )
                .await
                .map_err(|e| Error::db(Side::M1, e, &format!("reading {m1_table}")))?;
            entities.extend(rows);
            let mut params = params;
            params.insert(0, doc.into());
            let rows: Vec<u64> = m2
                .exec(
                    format!(
                        "SELECT entity_id FROM {} WHERE document = ? AND {}",
                        self.values_table(),
                        key_list_condition(&key, chunk.len(), "")
                    ),
                    params,
                )
                .await
                .map_err(|e| Error::db(Side::M2, e, &format!("reading {VALUES_TABLE}")))?;
            entities.extend(rows);
        }
        Ok(entities)
    }

    /// Rewrites these entities from one consistent M1 snapshot: their rows (static columns
    /// included) upserted or deleted, and the record of their left-out value rows refreshed.
    async fn rewrite(
        &self,
        m1: &mut Conn,
        m2: &mut Conn,
        entity: &BoundEntity,
        ids: &[u64],
    ) -> Result<()> {
        let table = &entity.table;
        let key = ["entity_id".to_string()];
        for chunk in ids.chunks(500) {
            let keys: Vec<Vec<Value>> = chunk.iter().map(|id| vec![Value::from(*id)]).collect();
            let params: Vec<Value> = chunk.iter().map(|id| Value::from(*id)).collect();
            let mut snapshot = m1
                .start_transaction(
                    TxOpts::default()
                        .with_consistent_snapshot(true)
                        .with_readonly(true)
                        .clone(),
                )
                .await
                .map_err(|e| Error::db(Side::M1, e, "starting a snapshot"))?;
            let sql =
                table
                    .mapping
                    .select_where(Some(&key_list_condition(&key, chunk.len(), "t.")));
            let rows: Vec<mysql_async::Row> =
                snapshot.exec(sql, params.clone()).await.map_err(|e| {
                    Error::db(
                        Side::M1,
                        e,
                        &format!("reading {}", table.mapping.source_table),
                    )
                })?;
            let id_at = table
                .mapping
                .select_columns
                .iter()
                .position(|c| c == "entity_id");
            let mut current = Vec::with_capacity(rows.len());
            let mut present = BTreeSet::new();
            for row in rows {
                let row = row.unwrap();
                let id = id_at
                    .and_then(|i| row.get(i))
                    .and_then(|v| mysql_async::from_value_opt::<u64>(v.clone()).ok());
                let (primary, transformed) = apply::transform_image(table, row)?;
                if let Some(id) = id {
                    present.insert(id);
                }
                current.push((primary, transformed));
            }
            let mut recorded: Vec<(String, u64, u64)> = Vec::new();
            for (m1_table, doc, left_out) in &entity.values {
                if left_out.is_empty() {
                    continue;
                }
                let list: Vec<String> = left_out.iter().map(u64::to_string).collect();
                let rows: Vec<(u64, u64)> = snapshot
                    .exec(
                        format!(
                            "SELECT value_id, entity_id FROM {} WHERE {} AND attribute_id IN ({})",
                            quote_ident(m1_table),
                            key_list_condition(&key, chunk.len(), ""),
                            list.join(", ")
                        ),
                        params.clone(),
                    )
                    .await
                    .map_err(|e| Error::db(Side::M1, e, &format!("reading {m1_table}")))?;
                recorded.extend(rows.into_iter().map(|(v, e)| (doc.clone(), v, e)));
            }
            snapshot
                .commit()
                .await
                .map_err(|e| Error::db(Side::M1, e, "ending a snapshot"))?;
            let gone: Vec<Vec<Value>> = keys
                .iter()
                .zip(chunk)
                .filter(|(_, id)| !present.contains(id))
                .map(|(k, _)| k.clone())
                .collect();
            let mut tx = m2
                .start_transaction(TxOpts::default())
                .await
                .map_err(|e| Error::db(Side::M2, e, "starting a transaction"))?;
            apply::delete(&mut tx, table, &gone).await?;
            apply::upsert(&mut tx, m1, table, &current).await?;
            let docs: Vec<String> = entity.values.iter().map(|(_, d, _)| d.clone()).collect();
            let marks = vec!["?"; docs.len()].join(", ");
            let mut forget: Vec<Value> = docs.iter().map(|d| Value::from(d.as_str())).collect();
            forget.extend(params.iter().cloned());
            tx.exec_drop(
                format!(
                    "DELETE FROM {} WHERE document IN ({marks}) AND {}",
                    self.values_table(),
                    key_list_condition(&key, chunk.len(), "")
                ),
                forget,
            )
            .await
            .map_err(|e| Error::db(Side::M2, e, &format!("updating {VALUES_TABLE}")))?;
            record_values(&mut tx, &self.values_table(), &recorded).await?;
            tx.commit()
                .await
                .map_err(|e| Error::db(Side::M2, e, "committing customers"))?;
        }
        Ok(())
    }

    /// migrate:data's part after the copy: the record of every left-out value row, so that a
    /// delete the deltalog reports later finds its entity.
    pub async fn data(&self, m1: &mut Conn, m2: &mut Conn) -> Result<u64> {
        let bound = self.bound()?;
        let table = self.values_table();
        ensure_values_table(m2, &table).await?;
        m2.query_drop(format!("TRUNCATE TABLE {table}"))
            .await
            .map_err(|e| Error::db(Side::M2, e, &format!("emptying {VALUES_TABLE}")))?;
        let mut total = 0u64;
        for entity in &bound.entities {
            for (m1_table, doc, left_out) in &entity.values {
                if left_out.is_empty() {
                    continue;
                }
                let list: Vec<String> = left_out.iter().map(u64::to_string).collect();
                let mut after = 0u64;
                loop {
                    let rows: Vec<(u64, u64)> = m1
                        .exec(
                            format!(
                                "SELECT value_id, entity_id FROM {} WHERE value_id > ? AND attribute_id IN ({}) ORDER BY value_id LIMIT 5000",
                                quote_ident(m1_table),
                                list.join(", ")
                            ),
                            (after,),
                        )
                        .await
                        .map_err(|e| Error::db(Side::M1, e, &format!("reading {m1_table}")))?;
                    let Some(last) = rows.last() else { break };
                    after = last.0;
                    let recorded: Vec<(String, u64, u64)> =
                        rows.iter().map(|(v, e)| (doc.clone(), *v, *e)).collect();
                    let mut tx = m2
                        .start_transaction(TxOpts::default())
                        .await
                        .map_err(|e| Error::db(Side::M2, e, "starting a transaction"))?;
                    record_values(&mut tx, &table, &recorded).await?;
                    tx.commit()
                        .await
                        .map_err(|e| Error::db(Side::M2, e, &format!("writing {VALUES_TABLE}")))?;
                    total += recorded.len() as u64;
                }
            }
        }
        Ok(total)
    }
}

async fn ensure_values_table(m2: &mut Conn, table: &str) -> Result<()> {
    m2.query_drop(format!(
        "CREATE TABLE IF NOT EXISTS {table} (\
           document varchar(64) NOT NULL, \
           value_id int unsigned NOT NULL, \
           entity_id int unsigned NOT NULL, \
           PRIMARY KEY (document, value_id), \
           KEY (entity_id)\
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='mage-migrate: the entity of each M1 customer value row that became an M2 column'"
    ))
    .await
    .map_err(|e| Error::db(Side::M2, e, &format!("creating {VALUES_TABLE}")))
}

async fn record_values(
    tx: &mut Transaction<'_>,
    table: &str,
    recorded: &[(String, u64, u64)],
) -> Result<()> {
    for chunk in recorded.chunks(1000) {
        let marks = vec!["(?, ?, ?)"; chunk.len()].join(", ");
        let params: Vec<Value> = chunk
            .iter()
            .flat_map(|(d, v, e)| [Value::from(d.as_str()), Value::from(*v), Value::from(*e)])
            .collect();
        tx.exec_drop(
            format!(
                "INSERT INTO {table} (document, value_id, entity_id) VALUES {marks} \
                 ON DUPLICATE KEY UPDATE entity_id = VALUES(entity_id)"
            ),
            params,
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, &format!("writing {VALUES_TABLE}")))?;
    }
    Ok(())
}

/// attribute code → (id, backend type) of one entity type.
async fn attributes(
    conn: &mut Conn,
    side: Side,
    prefix: &str,
    type_code: &str,
) -> Result<BTreeMap<String, (u64, String)>> {
    let rows: Vec<(String, u64, String)> = conn
        .exec(
            format!(
                "SELECT a.attribute_code, a.attribute_id, a.backend_type FROM {} a JOIN {} t ON t.entity_type_id = a.entity_type_id WHERE t.entity_type_code = ?",
                quote_ident(&format!("{prefix}eav_attribute")),
                quote_ident(&format!("{prefix}eav_entity_type"))
            ),
            (type_code,),
        )
        .await
        .map_err(|e| Error::db(side, e, "reading eav_attribute"))?;
    Ok(rows
        .into_iter()
        .map(|(code, id, backend)| (code, (id, backend)))
        .collect())
}

impl Step for Customer {
    fn group(&self) -> &str {
        "delta_customer"
    }

    fn name(&self) -> &str {
        "customer"
    }

    fn map_file_option(&self) -> Option<&str> {
        Some("customer_map_file")
    }

    /// The entity rows are written once the batches drained, from one M1 snapshot (see
    /// `after_drain`): not also in the batches, where a customer's delete would cascade into
    /// the orders other workers are writing and deadlock with them.
    fn writes_itself(&self, source_table: &str) -> bool {
        self.entities
            .iter()
            .any(|e| format!("{}{}", self.source_prefix, e.doc) == source_table)
    }

    fn prepare<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Conn,
        m2_schema: &'a Schema,
        mappings: &'a mut Vec<TableMapping>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.resolve(m1, m2, m2_schema, mappings).await?;
            ensure_values_table(m2, &self.values_table()).await
        })
    }

    fn after_apply<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Transaction<'_>,
        table: &'a DeltaTable,
        keys: &'a [Vec<Value>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let bound = self.bound()?;
            let source = &table.reader.tracked.source_table;
            for entity in &bound.entities {
                let Some((m1_table, doc, left_out)) =
                    entity.values.iter().find(|(t, _, _)| t == source)
                else {
                    continue;
                };
                // A value row that is (or was) one of the entity's columns: the entity is
                // rewritten once the batches drained, recorded with this batch.
                let ids = self
                    .entities_of_values(m1, m2, m1_table, doc, left_out, keys)
                    .await?;
                let entity_table = &entity.table.reader.tracked.source_table;
                let keys: Vec<Vec<Value>> =
                    ids.into_iter().map(|id| vec![Value::from(id)]).collect();
                let keys: Vec<&[Value]> = keys.iter().map(Vec::as_slice).collect();
                crate::pipeline::workers::insert_derivations(
                    m2,
                    &self.derivations_table(),
                    self.name(),
                    entity_table,
                    &keys,
                )
                .await?;
            }
            Ok(())
        })
    }

    fn derives_from(&self) -> Vec<String> {
        self.entities
            .iter()
            .map(|e| format!("{}{}", self.source_prefix, e.doc))
            .collect()
    }

    fn after_drain<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Conn,
        changed: &'a [(String, Vec<Value>)],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let bound = self.bound()?;
            let mut by_entity: HashMap<&str, BTreeSet<u64>> = HashMap::new();
            for (table, key) in changed {
                let id = key
                    .first()
                    .and_then(|v| mysql_async::from_value_opt::<u64>(v.clone()).ok());
                if let Some(id) = id {
                    by_entity.entry(table.as_str()).or_default().insert(id);
                }
            }
            for entity in &bound.entities {
                if let Some(ids) = by_entity.get(entity.table.reader.tracked.source_table.as_str())
                {
                    let ids: Vec<u64> = ids.iter().copied().collect();
                    self.rewrite(m1, m2, entity, &ids).await?;
                }
            }
            Ok(())
        })
    }

    fn volume<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Conn,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let mut lines = Vec::new();
            for entity in &self.entities {
                let count = |prefix: &str| {
                    format!(
                        "SELECT COUNT(*) FROM {}",
                        quote_ident(&format!("{prefix}{}", entity.doc))
                    )
                };
                let source: Option<u64> = m1
                    .query_first(count(&self.source_prefix))
                    .await
                    .map_err(|e| Error::db(Side::M1, e, &format!("counting {}", entity.doc)))?;
                let destination: Option<u64> = m2
                    .query_first(count(&self.dest_prefix))
                    .await
                    .map_err(|e| Error::db(Side::M2, e, &format!("counting {}", entity.doc)))?;
                if source != destination {
                    lines.push(format!(
                        "Mismatch of entities in the document: {} Source: {} Destination: {}",
                        entity.doc,
                        source.unwrap_or(0),
                        destination.unwrap_or(0)
                    ));
                }
            }
            Ok(lines)
        })
    }
}
