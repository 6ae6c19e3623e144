//! The deltalog as a change source: claim pending keys, acknowledge them after their M2 commit.
//!
//! `processed`: 0 pending, 2 in flight (claimed by mage-migrate), 1 done (purged at the end of a
//! cycle, as the DMT does). Our triggers reset a changed key to 0, so:
//! - a claim moves 0 → 2 by explicit key list, in primary-key pages, under READ COMMITTED, so it
//!   never takes gap locks that would block the store's own inserts through the triggers;
//! - an acknowledgement removes the row only if it is still at 2: a row changed after its claim
//!   was reset to 0 by the trigger and is claimed again;
//! - at start-up rows left at 2 by a crash are made pending again.
//!
//! A key that is in flight in this process is never claimed a second time until it is
//! acknowledged, so one key is applied by one batch at a time.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};

use crate::db::quote_ident;
use crate::deltalog::TrackedTable;
use crate::error::{Error, Result, Side};

/// `(a = ? AND b = ?) OR …` for a list of keys: the range optimiser turns it into primary-key
/// lookups on every version, which row-constructor `IN` lists do not guarantee.
pub fn key_list_condition(columns: &[String], count: usize, alias: &str) -> String {
    let one: Vec<String> = columns
        .iter()
        .map(|c| format!("{alias}{} = ?", quote_ident(c)))
        .collect();
    if columns.len() == 1 {
        return format!(
            "{alias}{} IN ({})",
            quote_ident(&columns[0]),
            vec!["?"; count].join(", ")
        );
    }
    let one = format!("({})", one.join(" AND "));
    vec![one; count].join(" OR ")
}

/// `(a > ?) OR (a = ? AND b > ?) …` for the keys after `after` in key order, with its
/// parameters: the range optimiser uses the primary key for this form on every MySQL and MariaDB
/// version. `columns` are SQL expressions, already quoted.
pub fn keyset_after(columns: &[String], after: &[Value]) -> (String, Vec<Value>) {
    let mut params = Vec::new();
    let disjuncts: Vec<String> = (0..columns.len().min(after.len()))
        .map(|i| {
            let mut parts: Vec<String> = columns[..i].iter().map(|k| format!("{k} = ?")).collect();
            parts.push(format!("{} > ?", columns[i]));
            params.extend_from_slice(&after[..=i]);
            format!("({})", parts.join(" AND "))
        })
        .collect();
    (disjuncts.join(" OR "), params)
}

/// A stable text for a key, equal for equal values whatever their integer flavour (a signed
/// deltalog column and an unsigned source column give the same id).
pub fn key_id(key: &[Value]) -> String {
    let normal: Vec<Value> = key
        .iter()
        .map(|v| match v {
            Value::Int(i) if *i >= 0 => Value::UInt(*i as u64),
            other => other.clone(),
        })
        .collect();
    crate::migrate_data::state::encode_key(&normal)
}

/// Claims and acknowledges on one deltalog table.
#[derive(Debug, Clone)]
pub struct DeltalogReader {
    pub tracked: TrackedTable,
}

impl DeltalogReader {
    fn m1(e: mysql_async::Error, what: &str) -> Error {
        Error::db(Side::M1, e, what)
    }

    /// Pending keys after `after` in key order, at most `limit` (not yet claimed).
    pub async fn pending_page(
        &self,
        conn: &mut Conn,
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        let keys: Vec<String> = self.tracked.keys.iter().map(|k| quote_ident(k)).collect();
        let mut sql = format!(
            "SELECT {} FROM {} WHERE processed = 0",
            keys.join(", "),
            quote_ident(&self.tracked.deltalog)
        );
        let mut params = Vec::new();
        if let Some(after) = after {
            let (condition, values) = keyset_after(&keys, after);
            sql.push_str(&format!(" AND ({condition})"));
            params = values;
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT {limit}", keys.join(", ")));
        let rows: Vec<mysql_async::Row> = conn
            .exec(sql, params)
            .await
            .map_err(|e| Self::m1(e, &format!("reading {}", self.tracked.deltalog)))?;
        Ok(rows.into_iter().map(mysql_async::Row::unwrap).collect())
    }

    /// Moves these keys from pending to in flight.
    pub async fn claim(&self, conn: &mut Conn, keys: &[Vec<Value>]) -> Result<()> {
        self.set_processed(conn, keys, 0, 2).await
    }

    /// Acknowledges applied keys, only where still in flight: a row the trigger reset to 0
    /// meanwhile stays, to be claimed again. The row is deleted at once rather than marked 1
    /// and purged at the end of the cycle: the same end state, one write less per key.
    pub async fn acknowledge(&self, conn: &mut Conn, keys: &[Vec<Value>]) -> Result<()> {
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "DELETE FROM {} WHERE processed = 2 AND ({})",
                quote_ident(&self.tracked.deltalog),
                key_list_condition(&self.tracked.keys, chunk.len(), "")
            );
            let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
            conn.exec_drop(sql, params)
                .await
                .map_err(|e| Self::m1(e, &format!("acknowledging in {}", self.tracked.deltalog)))?;
        }
        Ok(())
    }

    async fn set_processed(
        &self,
        conn: &mut Conn,
        keys: &[Vec<Value>],
        from: u8,
        to: u8,
    ) -> Result<()> {
        for chunk in keys.chunks(1000) {
            let sql = format!(
                "UPDATE {} SET processed = {to} WHERE processed = {from} AND ({})",
                quote_ident(&self.tracked.deltalog),
                key_list_condition(&self.tracked.keys, chunk.len(), "")
            );
            let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
            conn.exec_drop(sql, params)
                .await
                .map_err(|e| Self::m1(e, &format!("updating {}", self.tracked.deltalog)))?;
        }
        Ok(())
    }

    /// Rows a crashed run left in flight become pending again.
    pub async fn release_in_flight(&self, conn: &mut Conn) -> Result<u64> {
        conn.query_drop(format!(
            "UPDATE {} SET processed = 0 WHERE processed = 2",
            quote_ident(&self.tracked.deltalog)
        ))
        .await
        .map_err(|e| Self::m1(e, &format!("releasing {}", self.tracked.deltalog)))?;
        Ok(conn.affected_rows())
    }

    /// `-r`: every row still in the deltalog becomes pending.
    pub async fn make_all_pending(&self, conn: &mut Conn) -> Result<u64> {
        conn.query_drop(format!(
            "UPDATE {} SET processed = 0 WHERE processed <> 0",
            quote_ident(&self.tracked.deltalog)
        ))
        .await
        .map_err(|e| Self::m1(e, &format!("resetting {}", self.tracked.deltalog)))?;
        Ok(conn.affected_rows())
    }

    /// The DMT's end-of-cycle purge of done rows.
    pub async fn purge(&self, conn: &mut Conn) -> Result<()> {
        conn.query_drop(format!(
            "DELETE FROM {} WHERE (`processed` = 1)",
            quote_ident(&self.tracked.deltalog)
        ))
        .await
        .map_err(|e| Self::m1(e, &format!("purging {}", self.tracked.deltalog)))
    }

    /// Rows waiting (`processed = 0`), for the progress line.
    pub async fn backlog(&self, conn: &mut Conn) -> Result<u64> {
        let n: Option<u64> = conn
            .query_first(format!(
                "SELECT COUNT(*) FROM {} WHERE processed = 0",
                quote_ident(&self.tracked.deltalog)
            ))
            .await
            .map_err(|e| Self::m1(e, &format!("counting {}", self.tracked.deltalog)))?;
        Ok(n.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lists() {
        assert_eq!(
            key_list_condition(&["id".into()], 3, ""),
            "`id` IN (?, ?, ?)"
        );
        assert_eq!(
            key_list_condition(&["a".into(), "b".into()], 2, "t."),
            "(t.`a` = ? AND t.`b` = ?) OR (t.`a` = ? AND t.`b` = ?)"
        );
        assert_eq!(key_id(&[Value::Int(5)]), key_id(&[Value::UInt(5)]));
    }
}
