//! `Migration\Step\SalesIncrement\Delta`: when M1's `eav_entity_store` changes (an order,
//! invoice, shipment or credit memo took the next increment id), M2's
//! `sequence_<order|invoice|creditmemo|shipment|rma_item>_<store>` gets that number, so the next
//! M2 increment id follows the last M1 one (dmt-compat §4.3, magento-schema §4).

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, Value};

use super::step::{BoxFuture, Step};
use crate::db::quote_ident;
use crate::error::{Error, Result, Side};
use crate::pipeline::apply::DeltaTable;
use crate::source::deltalog::key_list_condition;

/// The entity types M2 keeps sequences for.
const SEQUENCED: &[&str] = &["order", "invoice", "creditmemo", "shipment", "rma_item"];

#[derive(Debug, Clone)]
pub struct SalesIncrement {
    /// `source_prefix` / `dest_prefix` of config.xml.
    pub source_prefix: String,
    pub dest_prefix: String,
}

/// PHP's `(int) substr($last, strlen($prefix))`: the leading digits after the prefix, 0 when
/// there are none.
pub fn increment_number(last_id: &str, prefix: &str) -> u64 {
    let rest = last_id.get(prefix.len()..).unwrap_or("");
    let rest = rest.trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap_or(0)
}

/// (entity type code, store id, number) for the eav_entity_store rows of these keys, or all.
async fn last_numbers(
    m1: &mut Conn,
    source_prefix: &str,
    keys: Option<&[Vec<Value>]>,
) -> Result<Vec<(String, u64, u64)>> {
    let store = quote_ident(&format!("{source_prefix}eav_entity_store"));
    let types = quote_ident(&format!("{source_prefix}eav_entity_type"));
    let mut sql = format!(
        "SELECT t.entity_type_code, s.store_id, IFNULL(s.increment_prefix, ''), IFNULL(s.increment_last_id, '') \
         FROM {store} s JOIN {types} t ON t.entity_type_id = s.entity_type_id"
    );
    let mut params: Vec<Value> = Vec::new();
    if let Some(keys) = keys {
        sql.push_str(&format!(
            " WHERE {}",
            key_list_condition(&["entity_store_id".to_string()], keys.len(), "s.")
        ));
        params = keys.iter().flatten().cloned().collect();
    }
    let rows: Vec<(String, u64, String, String)> = m1
        .exec(sql, params)
        .await
        .map_err(|e| Error::db(Side::M1, e, "reading eav_entity_store"))?;
    Ok(rows
        .into_iter()
        .filter(|(code, ..)| SEQUENCED.contains(&code.as_str()))
        .map(|(code, store, prefix, last)| (code, store, increment_number(&last, &prefix)))
        .collect())
}

impl SalesIncrement {
    fn sequence_table(&self, code: &str, store: u64) -> String {
        format!("{}sequence_{code}_{store}", self.dest_prefix)
    }

    /// `SalesIncrement\Data`, as the DMT does it: M2's sequence meta and profiles replaced, and
    /// for each sequenced entity type and each M1 store a fresh `sequence_<type>_<store>` holding
    /// M1's last number (prefix = store id, start 1, step 1). Returns the tables created.
    pub async fn data(&self, m1: &mut Conn, m2: &mut Conn) -> Result<u64> {
        let m2e = |e, what: &str| Error::db(Side::M2, e, what);
        let stores: Vec<u64> = m1
            .query(format!(
                "SELECT store_id FROM {} ORDER BY store_id",
                quote_ident(&format!("{}core_store", self.source_prefix))
            ))
            .await
            .map_err(|e| Error::db(Side::M1, e, "reading core_store"))?;
        let numbers = last_numbers(m1, &self.source_prefix, None).await?;
        let meta = quote_ident(&format!("{}sales_sequence_meta", self.dest_prefix));
        let profile = quote_ident(&format!("{}sales_sequence_profile", self.dest_prefix));
        m2.query_drop(format!("DELETE FROM {profile}"))
            .await
            .map_err(|e| m2e(e, "clearing sales_sequence_profile"))?;
        m2.query_drop(format!("DELETE FROM {meta}"))
            .await
            .map_err(|e| m2e(e, "clearing sales_sequence_meta"))?;
        let mut created = 0;
        for code in SEQUENCED {
            for store in &stores {
                let table = self.sequence_table(code, *store);
                let quoted = quote_ident(&table);
                m2.query_drop(format!("DROP TABLE IF EXISTS {quoted}"))
                    .await
                    .map_err(|e| m2e(e, &format!("dropping {table}")))?;
                m2.query_drop(format!(
                    "CREATE TABLE {quoted} (sequence_value int unsigned NOT NULL AUTO_INCREMENT, PRIMARY KEY (sequence_value)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
                ))
                .await
                .map_err(|e| m2e(e, &format!("creating {table}")))?;
                if let Some((_, _, n)) = numbers
                    .iter()
                    .find(|(c, s, n)| c == code && s == store && *n > 0)
                {
                    m2.exec_drop(
                        format!("INSERT INTO {quoted} (sequence_value) VALUES (?)"),
                        (n,),
                    )
                    .await
                    .map_err(|e| m2e(e, &format!("writing {table}")))?;
                }
                m2.exec_drop(
                    format!("INSERT INTO {meta} (entity_type, store_id, sequence_table) VALUES (?, ?, ?)"),
                    (code, store, &table),
                )
                .await
                .map_err(|e| m2e(e, "writing sales_sequence_meta"))?;
                let meta_id = m2.last_insert_id().unwrap_or(0);
                m2.exec_drop(
                    format!(
                        "INSERT INTO {profile} (meta_id, prefix, suffix, start_value, step, max_value, warning_value, is_active) \
                         VALUES (?, ?, '', 1, 1, 4294967295, 4294966295, 1)"
                    ),
                    (meta_id, store.to_string()),
                )
                .await
                .map_err(|e| m2e(e, "writing sales_sequence_profile"))?;
                created += 1;
            }
        }
        Ok(created)
    }
}

impl Step for SalesIncrement {
    fn group(&self) -> &str {
        "delta_sales_sequence"
    }

    fn after_apply<'a>(
        &'a self,
        m1: &'a mut Conn,
        m2: &'a mut Transaction<'_>,
        _table: &'a DeltaTable,
        keys: &'a [Vec<Value>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for chunk in keys.chunks(1000) {
                for (code, store, number) in
                    last_numbers(m1, &self.source_prefix, Some(chunk)).await?
                {
                    if number == 0 {
                        continue;
                    }
                    let table = self.sequence_table(&code, store);
                    let exists: Option<String> = m2
                        .exec_first(
                            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                            (&table,),
                        )
                        .await
                        .map_err(|e| Error::db(Side::M2, e, "looking up a sequence table"))?;
                    if exists.is_none() {
                        // The DMT's data step creates one per M1 store; M2 without it has no
                        // such store yet.
                        tracing::warn!("SalesIncrement: M2 has no {table}; the last {code} increment of store {store} ({number}) is not carried over");
                        continue;
                    }
                    // Never lowers it: an increment id M2 handed out stays taken.
                    m2.exec_drop(
                        format!(
                            "INSERT INTO {} (sequence_value) VALUES (?) ON DUPLICATE KEY UPDATE sequence_value = VALUES(sequence_value)",
                            quote_ident(&table)
                        ),
                        (number,),
                    )
                    .await
                    .map_err(|e| Error::db(Side::M2, e, &format!("writing {table}")))?;
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
            let mut out = Vec::new();
            for (code, store, number) in last_numbers(m1, &self.source_prefix, None).await? {
                let table = self.sequence_table(&code, store);
                let last: Option<Option<u64>> = match m2
                    .query_first(format!(
                        "SELECT MAX(sequence_value) FROM {}",
                        quote_ident(&table)
                    ))
                    .await
                {
                    Ok(v) => v,
                    // No such table in M2: reported by after_apply when it matters.
                    Err(mysql_async::Error::Server(e)) if e.code == 1146 => continue,
                    Err(e) => return Err(Error::db(Side::M2, e, &format!("reading {table}"))),
                };
                let last = last.flatten().unwrap_or(0);
                if last < number {
                    // The DMT's words, with the tables named.
                    out.push(format!(
                        "Mismatch in last increment id of {code} entity: Source: {number} Destination: {last} (store {store}, {table})"
                    ));
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_php_casts_them() {
        assert_eq!(increment_number("100000042", "1"), 42);
        assert_eq!(increment_number("100000042", ""), 100_000_042);
        assert_eq!(increment_number("2000000007", "2"), 7);
        assert_eq!(increment_number("INV-0009x", "INV-"), 9);
        assert_eq!(increment_number("abc", "a"), 0);
        assert_eq!(increment_number("", "1"), 0);
    }
}
