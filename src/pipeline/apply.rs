//! Applying changed keys to M2, state-based: the current M1 row of a key is upserted; a key whose
//! M1 row is gone is deleted. Replaying a key is harmless, so a crash can only cause re-work.

use std::collections::HashSet;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, Value};

use super::write::{self, OnDuplicate, Rows};
use crate::db::quote_ident;
use crate::db::schema::Table;
use crate::error::{Error, Result, Side};
use crate::source::deltalog::{key_id, key_list_condition, DeltalogReader};
use crate::steps::map::{MapTransformer, TableMapping};

/// One M1 table the delta follows, with everything needed to apply its changes.
#[derive(Debug)]
pub struct DeltaTable {
    pub reader: DeltalogReader,
    pub mapping: TableMapping,
    pub transformer: MapTransformer,
    pub destination: Table,
    /// M2 columns updated when a row exists already: the DMT's
    /// `destination_documents_update_on_duplicate` list where it names the table, else all.
    pub update_columns: Vec<String>,
    /// The M2 columns that hold the deltalog key, in key order.
    pub destination_key: Vec<String>,
    /// The deltalog key is not the whole primary key (the stock deltalog.xml tracks
    /// `review_store` by `review_id` alone): a key then stands for all rows that share it.
    pub partial_key: bool,
    /// M2 foreign keys referencing this table by its key: swept after its deletes.
    pub children: Vec<super::sweep::ChildKey>,
    /// M2 `CASCADE` and `SET NULL` foreign keys of this table to its parents: rows written
    /// from binlog images are checked for a vanished parent (see `sweep::image_orphans`).
    pub parents: Vec<super::sweep::ChildKey>,
    /// The step's logic beyond the map, run in each batch's transaction (SalesIncrement …).
    pub step: Option<std::sync::Arc<dyn crate::steps::Step>>,
    /// Steps that derive from this table's changes once batches drain (their names).
    pub derived_by: Vec<String>,
}

impl DeltaTable {
    pub fn new(
        reader: DeltalogReader,
        mapping: TableMapping,
        destination: Table,
        update_only: Option<Vec<String>>,
    ) -> Result<DeltaTable> {
        let transformer = MapTransformer::new(&mapping)?;
        let destination_key = reader
            .tracked
            .keys
            .iter()
            .map(|k| {
                mapping
                    .select_columns
                    .iter()
                    .position(|c| c == k)
                    .and_then(|i| mapping.copies.iter().find(|(s, _)| *s == i))
                    .map(|(_, d)| d.clone())
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "{}: the deltalog key column {k} of {} is not copied to M2 by map.xml, so its changes cannot be applied",
                            mapping.destination_table, mapping.source_table
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut primary = mapping.primary_key.clone();
        let mut keys = reader.tracked.keys.clone();
        primary.sort();
        keys.sort();
        let partial_key = primary != keys;
        let update_columns = match update_only {
            Some(list) => list
                .into_iter()
                .filter(|c| mapping.insert_columns.contains(c))
                .collect(),
            None => mapping.insert_columns.clone(),
        };
        Ok(DeltaTable {
            reader,
            mapping,
            transformer,
            destination,
            update_columns,
            destination_key,
            partial_key,
            children: Vec::new(),
            parents: Vec::new(),
            step: None,
            derived_by: Vec::new(),
        })
    }

    /// The deltalog key columns of M1.
    pub fn keys(&self) -> &[String] {
        &self.reader.tracked.keys
    }
}

/// What one applied batch did to one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub upserted: u64,
    pub deleted: u64,
}

/// A binlog after-image (M1 values in select order) → (M1 primary key, transformed M2 row).
pub fn transform_image(table: &DeltaTable, row: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>)> {
    let mapping = &table.mapping;
    let primary: Vec<Value> = mapping
        .primary_key
        .iter()
        .filter_map(|k| mapping.select_columns.iter().position(|c| c == k))
        .map(|i| row.get(i).cloned().unwrap_or(Value::NULL))
        .collect();
    let transformed = table.transformer.transform(row).map_err(|e| Error::Data {
        table: mapping.destination_table.clone(),
        key: write::row_ref(mapping, &primary),
        message: e.0,
    })?;
    Ok((primary, transformed))
}

/// The M1 rows of these keys as they are now: (M1 primary key, transformed M2 row) for the
/// rows that exist, and the keys that have no row any more.
pub async fn read_current(
    m1: &mut Conn,
    table: &DeltaTable,
    keys: &[Vec<Value>],
) -> Result<(Vec<(Vec<Value>, Vec<Value>)>, Vec<Vec<Value>>)> {
    let mapping = &table.mapping;
    let position = |k: &String| mapping.select_columns.iter().position(|c| c == k);
    let primary_at: Vec<usize> = mapping.primary_key.iter().filter_map(position).collect();
    let key_at: Vec<usize> = table.keys().iter().filter_map(position).collect();
    let mut found = Vec::with_capacity(keys.len());
    let mut seen = HashSet::with_capacity(keys.len());
    for chunk in keys.chunks(1000) {
        let sql = mapping.select_where(Some(&key_list_condition(table.keys(), chunk.len(), "t.")));
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        let rows: Vec<mysql_async::Row> = m1
            .exec(sql, params)
            .await
            .map_err(|e| Error::db(Side::M1, e, &format!("reading {}", mapping.source_table)))?;
        for row in rows {
            let row = row.unwrap();
            let key: Vec<Value> = key_at.iter().map(|&i| row[i].clone()).collect();
            seen.insert(key_id(&key));
            let primary: Vec<Value> = primary_at.iter().map(|&i| row[i].clone()).collect();
            let transformed = table.transformer.transform(row).map_err(|e| Error::Data {
                table: mapping.destination_table.clone(),
                key: write::row_ref(mapping, &primary),
                message: e.0,
            })?;
            found.push((primary, transformed));
        }
    }
    let gone = keys
        .iter()
        .filter(|k| !seen.contains(&key_id(k)))
        .cloned()
        .collect();
    Ok((found, gone))
}

/// Deletes the M2 rows of keys whose M1 rows are gone, with foreign key checks on so M2's own
/// cascades fire, as the DMT does.
pub async fn delete(
    tx: &mut Transaction<'_>,
    table: &DeltaTable,
    keys: &[Vec<Value>],
) -> Result<u64> {
    if keys.is_empty() {
        return Ok(0);
    }
    let m2 = |e, what: &str| Error::db(Side::M2, e, what);
    tx.query_drop("SET SESSION foreign_key_checks = 1")
        .await
        .map_err(|e| m2(e, "enabling foreign key checks"))?;
    let mut deleted = 0;
    // A step may narrow what a key stands for in M2 (TierPrice: group prices are `qty = 1`).
    let extra = table
        .step
        .as_ref()
        .and_then(|s| s.delete_condition(&table.reader.tracked.source_table))
        .map_or(String::new(), |c| format!(" AND ({c})"));
    for chunk in keys.chunks(1000) {
        let sql = format!(
            "DELETE FROM {} WHERE ({}){extra}",
            quote_ident(&table.mapping.destination_table),
            key_list_condition(&table.destination_key, chunk.len(), "")
        );
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        match tx.exec_drop(sql, params).await {
            Ok(()) => deleted += tx.affected_rows(),
            Err(mysql_async::Error::Server(e)) if e.code == 1451 => {
                // Only the failed statement was undone: find the key it was, one by one.
                let single = format!(
                    "DELETE FROM {} WHERE ({}){extra}",
                    quote_ident(&table.mapping.destination_table),
                    key_list_condition(&table.destination_key, 1, "")
                );
                let mut culprit = None;
                for key in chunk {
                    if tx.exec_drop(&single, key.clone()).await.is_err() {
                        culprit = Some(key);
                        break;
                    }
                }
                return Err(Error::Data {
                    table: table.mapping.destination_table.clone(),
                    key: culprit.map_or_else(
                        || format!("(one of {} keys deleted in M1)", chunk.len()),
                        |k| write::row_ref(&table.mapping, k),
                    ),
                    message: format!("an M2 foreign key restricts the delete: {}", e.message),
                });
            }
            Err(e) => {
                return Err(m2(
                    e,
                    &format!("deleting from {}", table.mapping.destination_table),
                ))
            }
        }
    }
    tx.query_drop("SET SESSION foreign_key_checks = 0")
        .await
        .map_err(|e| m2(e, "disabling foreign key checks"))?;
    Ok(deleted)
}

/// Upserts current rows. Before it, rows of M2 that hold the same value of a secondary unique
/// key under another primary key are dealt with, because `ON DUPLICATE KEY UPDATE` would
/// otherwise silently overwrite that other row (the DMT's issue #911): when M1 no longer has
/// that other row its delete is merely pending and is applied first; when M1 holds it with other
/// values now, its pending update is applied first; when M1 still holds it with the same values,
/// it is a definite error naming both keys.
pub async fn upsert(
    tx: &mut Transaction<'_>,
    m1: &mut Conn,
    table: &DeltaTable,
    rows: &[(Vec<Value>, Vec<Value>)],
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let rows = consistent_rows(tx, m1, table, rows).await?;
    let rows = rows.as_slice();
    if rows.is_empty() {
        return Ok(0);
    }
    // Holders parked by the clash resolution get their own M1 rows after this upsert: values
    // swapped between rows (a → b's value, b → a's) can only be written in that order. A chain
    // of such moves takes a round each.
    let mut pending = rows.to_vec();
    for _ in 0..16 {
        let (later, stale) = if table.partial_key {
            (Vec::new(), HashSet::new())
        } else {
            resolve_unique_clashes(tx, m1, table, &pending).await?
        };
        pending.retain(|(key, _)| !stale.contains(&key_id(key)));
        let (keys, values): (Vec<Vec<Value>>, Vec<Vec<Value>>) = pending.into_iter().unzip();
        let batch = Rows {
            mapping: &table.mapping,
            destination: &table.destination,
            rows: &values,
            keys: &keys,
        };
        write::insert(tx, &batch, OnDuplicate::Update(&table.update_columns)).await?;
        if later.is_empty() {
            return Ok(rows.len() as u64);
        }
        pending = later;
    }
    Err(Error::Data {
        table: table.mapping.destination_table.clone(),
        key: write::row_ref(&table.mapping, &rows[0].0),
        message: "unique values move along a chain of more than 16 rows in one batch; nothing was written".into(),
    })
}

/// Rows of one batch that hold the same value of a unique key come from binlog images of
/// different moments (one row's move away from the value is still to come): those rows are
/// read again from M1, in one statement, so the batch writes one consistent state; rows M1 no
/// longer has are deleted.
async fn consistent_rows(
    tx: &mut Transaction<'_>,
    m1: &mut Conn,
    table: &DeltaTable,
    rows: &[(Vec<Value>, Vec<Value>)],
) -> Result<Vec<(Vec<Value>, Vec<Value>)>> {
    // Rows are keyed by the M1 primary key; reading again goes by the deltalog key.
    if table.partial_key || table.keys() != table.mapping.primary_key.as_slice() {
        return Ok(rows.to_vec());
    }
    let column_at = |c: &String| table.mapping.insert_columns.iter().position(|i| i == c);
    let mut again: HashSet<String> = HashSet::new();
    for (_, columns) in &table.destination.unique_keys {
        let Some(at) = columns
            .iter()
            .map(column_at)
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        let mut first: std::collections::HashMap<String, &Vec<Value>> = Default::default();
        for (key, row) in rows {
            let unique: Vec<Value> = at.iter().map(|&i| row[i].clone()).collect();
            if unique.contains(&Value::NULL) {
                continue;
            }
            if let Some(other) = first.insert(loose(&unique), key) {
                again.insert(key_id(other));
                again.insert(key_id(key));
            }
        }
    }
    if again.is_empty() {
        return Ok(rows.to_vec());
    }
    let keys: Vec<Vec<Value>> = rows
        .iter()
        .filter(|(key, _)| again.contains(&key_id(key)))
        .map(|(key, _)| key.clone())
        .collect();
    let (current, gone) = read_current(m1, table, &keys).await?;
    delete(tx, table, &gone).await?;
    let mut out: Vec<(Vec<Value>, Vec<Value>)> = rows
        .iter()
        .filter(|(key, _)| !again.contains(&key_id(key)))
        .cloned()
        .collect();
    out.extend(current);
    Ok(out)
}

/// Frees the unique value the M2 row `key` holds, for another row of this transaction; the row
/// gets its own values back when it is written after. A nullable column of the key is set to
/// NULL (NULLs never clash) where the upsert writes it back; else, where the upsert writes every
/// column M2 has, the row is deleted (foreign key checks are off while upserting: no cascade)
/// and written again whole. False when neither is safe.
async fn park(
    tx: &mut Transaction<'_>,
    table: &DeltaTable,
    columns: &[String],
    key: &[Value],
) -> Result<bool> {
    let nullable = columns.iter().find(|c| {
        table.update_columns.contains(c)
            && table
                .destination
                .columns
                .iter()
                .any(|d| &d.name == *c && d.nullable)
    });
    let whole = table.update_columns.len() == table.mapping.insert_columns.len()
        && table
            .destination
            .columns
            .iter()
            .all(|d| table.mapping.insert_columns.contains(&d.name));
    let target = quote_ident(&table.mapping.destination_table);
    let condition = key_list_condition(&table.destination_key, 1, "");
    let sql = match nullable {
        Some(column) => format!(
            "UPDATE {target} SET {} = NULL WHERE {condition}",
            quote_ident(column)
        ),
        None if whole => format!("DELETE FROM {target} WHERE {condition}"),
        None => return Ok(false),
    };
    tx.exec_drop(sql, key.to_vec()).await.map_err(|e| {
        Error::db(
            Side::M2,
            e,
            &format!(
                "freeing a unique value of {} for a moment",
                table.mapping.destination_table
            ),
        )
    })?;
    Ok(true)
}

/// A unique value as a case-insensitive, trailing-space-insensitive collation compares it.
fn loose(values: &[Value]) -> String {
    let normal: Vec<Value> = values
        .iter()
        .map(|v| match v {
            Value::Bytes(b) => Value::Bytes(
                String::from_utf8_lossy(b)
                    .trim_end_matches(' ')
                    .to_lowercase()
                    .into_bytes(),
            ),
            other => other.clone(),
        })
        .collect();
    key_id(&normal)
}

/// Returns the rows to write after the upsert (holders parked meanwhile, and M1's current rows
/// of ours found stale), and the keys of ours not to write in this round (stale).
async fn resolve_unique_clashes(
    tx: &mut Transaction<'_>,
    m1: &mut Conn,
    table: &DeltaTable,
    rows: &[(Vec<Value>, Vec<Value>)],
) -> Result<(Vec<(Vec<Value>, Vec<Value>)>, HashSet<String>)> {
    let mut later = Vec::new();
    let mut stale = HashSet::new();
    let mapping = &table.mapping;
    let column_at = |c: &String| mapping.insert_columns.iter().position(|i| i == c);
    let key_at: Vec<usize> = table.destination_key.iter().filter_map(column_at).collect();
    for (name, columns) in &table.destination.unique_keys {
        let Some(at) = columns
            .iter()
            .map(column_at)
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        // NULLs never clash in a unique key.
        let wanted: Vec<(&Vec<Value>, Vec<Value>)> = rows
            .iter()
            .map(|(key, row)| (key, at.iter().map(|&i| row[i].clone()).collect::<Vec<_>>()))
            .filter(|(_, unique)| !unique.contains(&Value::NULL))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let mut select: Vec<String> = table
            .destination_key
            .iter()
            .map(|c| quote_ident(c))
            .collect();
        select.extend(columns.iter().map(|c| quote_ident(c)));
        let mut clashes = Vec::new();
        let ours: HashSet<String> = rows.iter().map(|(key, _)| key_id(key)).collect();
        for chunk in wanted.chunks(500) {
            // FOR UPDATE: the holder is locked before M1 is read about it, so its own worker's
            // write lands either before this read or after this transaction.
            let sql = format!(
                "SELECT {} FROM {} WHERE {} FOR UPDATE",
                select.join(", "),
                quote_ident(&mapping.destination_table),
                key_list_condition(columns, chunk.len(), "")
            );
            let params: Vec<Value> = chunk.iter().flat_map(|(_, u)| u.clone()).collect();
            let found: Vec<mysql_async::Row> = tx.exec(sql, params).await.map_err(|e| {
                Error::db(
                    Side::M2,
                    e,
                    &format!("checking {name} of {}", mapping.destination_table),
                )
            })?;
            for row in found {
                let row = row.unwrap();
                let (holder, unique) = row.split_at(key_at.len());
                if ours.contains(&key_id(holder)) {
                    // Rewritten by this upsert, but rows are written one by one: a row of the
                    // batch that takes this value may come first.
                    park(tx, table, columns, holder).await?;
                    continue;
                }
                // The server matched under the column's collation (case, trailing spaces):
                // attribute the clash the same way, exact match first.
                let unique_id = key_id(unique);
                let loose_id = loose(unique);
                let wanted_by = chunk
                    .iter()
                    .find(|(_, u)| key_id(u) == unique_id)
                    .or_else(|| chunk.iter().find(|(_, u)| loose(u) == loose_id))
                    .or(chunk.first());
                if let Some((wanted_by, _)) = wanted_by {
                    clashes.push((holder.to_vec(), (*wanted_by).clone(), unique.to_vec()));
                }
            }
        }
        for (holder, wanted_by, unique) in clashes {
            // The holder's M1 key has the same values as its M2 key (keys are copied).
            let (current, gone) = read_current(m1, table, std::slice::from_ref(&holder)).await?;
            if !gone.is_empty() {
                delete(tx, table, &gone).await?;
                continue;
            }
            let still_same = current.first().is_some_and(|(_, row)| {
                loose(&at.iter().map(|&i| row[i].clone()).collect::<Vec<_>>()) == loose(&unique)
            });
            if still_same {
                // Ours may be the row that is out of date: a binlog image, or a row read before
                // M1 moved the value on. Then M1 changed it since, and that change is pending:
                // write M1's row as it is now (or nothing, if it is gone) in a later round.
                let (now, _) = read_current(m1, table, std::slice::from_ref(&wanted_by)).await?;
                let moved_on = now.first().map_or(true, |(_, row)| {
                    loose(&at.iter().map(|&i| row[i].clone()).collect::<Vec<_>>()) != loose(&unique)
                });
                if moved_on {
                    stale.insert(key_id(&wanted_by));
                    later.extend(now);
                    continue;
                }
                return Err(Error::Data {
                    table: mapping.destination_table.clone(),
                    key: write::row_ref(mapping, &wanted_by),
                    message: format!(
                        "unique key {name} ({}) clashes with M2 row {}, which M1 still holds with the same values; nothing was overwritten",
                        columns.join(", "),
                        write::describe_key(&table.destination_key, &holder)
                    ),
                });
            }
            // The holder's own change is pending. Its new values may be ones our rows hold
            // now (a swap): free this value, and write the holder after the upsert.
            if park(tx, table, columns, &holder).await? {
                later.extend(current);
                continue;
            }
            // Else apply it now, then the upsert can proceed.
            let (keys, values): (Vec<Vec<Value>>, Vec<Vec<Value>>) = current.into_iter().unzip();
            let batch = Rows {
                mapping,
                destination: &table.destination,
                rows: &values,
                keys: &keys,
            };
            write::insert(tx, &batch, OnDuplicate::Update(&table.update_columns)).await?;
        }
    }
    Ok((later, stale))
}
