//! The orphan sweep. M1's own foreign keys delete (or null) a deleted parent's children without
//! firing a trigger, and a child upserted by a batch that read M1 just before the parent was
//! deleted reaches M2 after M2's cascade has run: it would stay an orphan for ever. So after the
//! batches of a step have drained, the children of every parent deleted meanwhile are given what
//! M2's foreign key would have done to them had they been there: deleted (`CASCADE`) or nulled
//! (`SET NULL`).

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

use crate::db::quote_ident;
use crate::error::{Error, Result, Side};
use crate::source::deltalog::{key_id, key_list_condition};

/// An M2 foreign key whose parent is a followed table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildKey {
    pub constraint: String,
    pub child: String,
    pub columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, `RESTRICT`, `NO ACTION`.
    pub on_delete: String,
    /// Child columns `ON UPDATE CURRENT_TIMESTAMP`: kept as they are when the sweep nulls the
    /// key, as M1's own `SET NULL` left them (M2's cascade does not touch them either).
    pub keep_columns: Vec<String>,
}

/// Every foreign key of the M2 database, by parent table.
pub async fn read_child_keys(m2: &mut Conn) -> Result<Vec<ChildKey>> {
    let rows: Vec<(String, String, String, String, String, String)> = m2
        .query(
            "SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, \
             k.REFERENCED_COLUMN_NAME, r.DELETE_RULE \
             FROM information_schema.KEY_COLUMN_USAGE k \
             JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
              AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, "reading foreign keys"))?;
    let mut keys: Vec<ChildKey> = Vec::new();
    for (constraint, child, column, parent, parent_column, on_delete) in rows {
        match keys
            .iter_mut()
            .find(|k| k.constraint == constraint && k.child == child)
        {
            Some(k) => {
                k.columns.push(column);
                k.parent_columns.push(parent_column);
            }
            None => keys.push(ChildKey {
                constraint,
                child,
                columns: vec![column],
                parent,
                parent_columns: vec![parent_column],
                on_delete,
                keep_columns: Vec::new(),
            }),
        }
    }
    let stamped: Vec<(String, String)> = m2
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND LOWER(EXTRA) LIKE '%on update%' \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .await
        .map_err(|e| Error::db(Side::M2, e, "reading columns"))?;
    for key in &mut keys {
        key.keep_columns = stamped
            .iter()
            .filter(|(t, _)| *t == key.child)
            .map(|(_, c)| c.clone())
            .collect();
    }
    Ok(keys)
}

/// Applies `key`'s delete rule to the children of these deleted parent keys that are still
/// there (their parent row is gone from M2). Returns the rows deleted or nulled.
pub async fn sweep(m2: &mut Conn, key: &ChildKey, parents: &[Vec<Value>]) -> Result<u64> {
    let action = match key.on_delete.as_str() {
        "CASCADE" => "DELETE FROM",
        "SET NULL" => "UPDATE",
        // A restricting key would have refused the parent's delete: nothing to repair here.
        _ => return Ok(0),
    };
    // Parents that are really gone from M2 (one may have been inserted again meanwhile). Two
    // statements rather than a NOT EXISTS, which MariaDB refuses on a self-referencing key.
    let parent_columns: Vec<String> = key.parent_columns.iter().map(|c| quote_ident(c)).collect();
    let mut present = std::collections::HashSet::new();
    for chunk in parents.chunks(1000) {
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            parent_columns.join(", "),
            quote_ident(&key.parent),
            key_list_condition(&key.parent_columns, chunk.len(), "")
        );
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        let rows: Vec<mysql_async::Row> = m2
            .exec(sql, params)
            .await
            .map_err(|e| Error::db(Side::M2, e, &format!("reading {}", key.parent)))?;
        present.extend(rows.into_iter().map(|r| key_id(&r.unwrap())));
    }
    let gone: Vec<&Vec<Value>> = parents
        .iter()
        .filter(|p| !present.contains(&key_id(p)))
        .collect();
    let mut changed = 0;
    // Foreign key checks on, so a swept child's own children follow as M2 defines.
    m2.query_drop("SET SESSION foreign_key_checks = 1")
        .await
        .map_err(|e| Error::db(Side::M2, e, "enabling foreign key checks"))?;
    for chunk in gone.chunks(1000) {
        let condition = key_list_condition(&key.columns, chunk.len(), "");
        let sql = if action == "UPDATE" {
            let set: Vec<String> = key
                .columns
                .iter()
                .map(|c| format!("{} = NULL", quote_ident(c)))
                .chain(
                    key.keep_columns
                        .iter()
                        .map(|c| format!("{0} = {0}", quote_ident(c))),
                )
                .collect();
            format!(
                "UPDATE {} SET {} WHERE {condition}",
                quote_ident(&key.child),
                set.join(", ")
            )
        } else {
            format!("DELETE FROM {} WHERE {condition}", quote_ident(&key.child))
        };
        let params: Vec<Value> = chunk.iter().copied().flatten().cloned().collect();
        m2.exec_drop(sql, params)
            .await
            .map_err(|e| Error::db(Side::M2, e, &format!("sweeping {}", key.child)))?;
        changed += m2.affected_rows();
    }
    m2.query_drop("SET SESSION foreign_key_checks = 0")
        .await
        .map_err(|e| Error::db(Side::M2, e, "disabling foreign key checks"))?;
    Ok(changed)
}

/// Rows written from binlog after-images whose M2 parent is gone. An image is the row as it was
/// in its transaction; if M1 deleted it later through its own foreign key (a parent's delete,
/// which logs no row event for the child) after M2's cascade had run, it would stay an orphan.
/// Those whose M1 row is gone are deleted here (foreign key checks on, so their own children
/// follow); those M1 still has are written again from M1's current row, which holds what an
/// `ON DELETE SET NULL` made of them (or still names a parent on its way). Returns both.
pub async fn image_orphans(
    m1: &mut Conn,
    m2: &mut Conn,
    table: &crate::pipeline::apply::DeltaTable,
    keys: &[Vec<Value>],
) -> Result<u64> {
    let child = quote_ident(&table.mapping.destination_table);
    let mut orphans: Vec<Vec<Value>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for fk in &table.parents {
        let join: Vec<String> = fk
            .columns
            .iter()
            .zip(&fk.parent_columns)
            .map(|(c, p)| format!("p.{} = c.{}", quote_ident(p), quote_ident(c)))
            .collect();
        let not_null: Vec<String> = fk
            .columns
            .iter()
            .map(|c| format!("c.{} IS NOT NULL", quote_ident(c)))
            .collect();
        let select: Vec<String> = table
            .destination_key
            .iter()
            .map(|c| format!("c.{}", quote_ident(c)))
            .collect();
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "SELECT {} FROM {child} c LEFT JOIN {} p ON {} WHERE ({}) AND {} AND p.{} IS NULL",
                select.join(", "),
                quote_ident(&fk.parent),
                join.join(" AND "),
                key_list_condition(&table.destination_key, chunk.len(), "c."),
                not_null.join(" AND "),
                quote_ident(&fk.parent_columns[0]),
            );
            let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
            let rows: Vec<mysql_async::Row> = m2.exec(sql, params).await.map_err(|e| {
                Error::db(Side::M2, e, &format!("checking {} for orphans", fk.child))
            })?;
            for row in rows {
                let key = row.unwrap();
                if seen.insert(key_id(&key)) {
                    orphans.push(key);
                }
            }
        }
    }
    if orphans.is_empty() {
        return Ok(0);
    }
    // What M1's own foreign keys did to them since (no row event records it): a CASCADE left
    // them gone, a SET NULL left them with the column emptied. M1's current rows say which.
    let (current, gone) = crate::pipeline::apply::read_current(m1, table, &orphans).await?;
    let mut tx = m2
        .start_transaction(mysql_async::TxOpts::default())
        .await
        .map_err(|e| Error::db(Side::M2, e, "starting a transaction"))?;
    let deleted = crate::pipeline::apply::delete(&mut tx, table, &gone).await?;
    let rewritten = crate::pipeline::apply::upsert(&mut tx, m1, table, &current).await?;
    tx.commit()
        .await
        .map_err(|e| Error::db(Side::M2, e, "committing the orphan sweep"))?;
    Ok(deleted + rewritten)
}
