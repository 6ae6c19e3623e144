//! Writing rows to M2: multi-row INSERTs (or upserts) split to stay under the placeholder limit
//! and a byte budget well below `max_allowed_packet`, and write errors turned into messages that
//! name the M2 table, the M1 row and the column.

use mysql_async::prelude::Queryable;
use mysql_async::Value;

use crate::db::quote_ident;
use crate::db::schema::Table;
use crate::error::{Error, Result, Side};
use crate::steps::map::TableMapping;

/// The most placeholders one prepared statement may hold.
const MAX_PLACEHOLDERS: usize = 65_535;
/// Bytes of values per statement: far below the smallest usual `max_allowed_packet` (16 MiB),
/// and large enough that statement overhead does not matter.
const MAX_STATEMENT_BYTES: usize = 4 << 20;

/// Rows for one M2 table, with the M1 keys they came from (for messages).
pub struct Rows<'a> {
    pub mapping: &'a TableMapping,
    pub destination: &'a Table,
    /// Values in `mapping.insert_columns` order.
    pub rows: &'a [Vec<Value>],
    /// The M1 primary key of each row.
    pub keys: &'a [Vec<Value>],
}

/// How a row that exists already is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate<'a> {
    /// Plain INSERT (the destination was emptied first).
    Fail,
    /// `ON DUPLICATE KEY UPDATE` of these columns (never REPLACE, which deletes rows).
    Update(&'a [String]),
}

fn value_bytes(v: &Value) -> usize {
    match v {
        Value::Bytes(b) => b.len() + 9,
        _ => 12,
    }
}

fn insert_sql(table: &str, columns: &[String], rows: usize, on_duplicate: OnDuplicate) -> String {
    let columns_sql: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote_ident(table),
        columns_sql.join(", "),
        vec![one; rows].join(", ")
    );
    if let OnDuplicate::Update(update) = on_duplicate {
        let set: Vec<String> = update
            .iter()
            .map(|c| format!("{0} = VALUES({0})", quote_ident(c)))
            .collect();
        sql.push_str(" ON DUPLICATE KEY UPDATE ");
        sql.push_str(&set.join(", "));
    }
    sql
}

/// Writes the rows with as few statements as the limits allow.
pub async fn insert<Q: Queryable>(
    conn: &mut Q,
    rows: &Rows<'_>,
    on_duplicate: OnDuplicate<'_>,
) -> Result<()> {
    let columns = &rows.mapping.insert_columns;
    let max_rows = (MAX_PLACEHOLDERS / columns.len().max(1)).max(1);
    let mut start = 0;
    while start < rows.rows.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < rows.rows.len() && end - start < max_rows {
            let size: usize = rows.rows[end].iter().map(value_bytes).sum();
            if end > start && bytes + size > MAX_STATEMENT_BYTES {
                break;
            }
            bytes += size;
            end += 1;
        }
        let sql = insert_sql(
            &rows.mapping.destination_table,
            columns,
            end - start,
            on_duplicate,
        );
        let params: Vec<Value> = rows.rows[start..end].iter().flatten().cloned().collect();
        if let Err(e) = conn.exec_drop(sql, params).await {
            return Err(write_error(e, rows, start, end));
        }
        start = end;
    }
    Ok(())
}

/// Names a row by its M1 primary key: `entity_id=12` or `(category_id=3, product_id=9)`.
pub fn describe_key(columns: &[String], values: &[Value]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .zip(values)
        .map(|(c, v)| format!("{c}={}", display_value(v)))
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(", "))
    }
}

fn display_value(v: &Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::NULL => "NULL".into(),
        other => other.as_sql(true).trim_matches('\'').to_string(),
    }
}

/// The key part of a data error about a row: `(M1 sales_flat_order entity_id=12)`.
pub fn row_ref(mapping: &TableMapping, key: &[Value]) -> String {
    format!(
        "(M1 {} {})",
        mapping.source_table,
        describe_key(&mapping.primary_key, key)
    )
}

/// Turns a failed INSERT into a message naming the M2 table, the M1 row and the column.
fn write_error(e: mysql_async::Error, rows: &Rows<'_>, start: usize, end: usize) -> Error {
    let mapping = rows.mapping;
    let mysql_async::Error::Server(server) = &e else {
        return Error::db(
            Side::M2,
            e,
            &format!("writing {}", mapping.destination_table),
        );
    };
    // "Data too long for column 'x' at row 3" and friends name the row within the statement.
    let count = end - start;
    let row = server
        .message
        .rsplit("at row ")
        .next()
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1 && *n <= count)
        .or((count == 1).then_some(1))
        .map(|n| start + n - 1);
    let column = server.message.split('\'').nth(1).map(str::to_string);
    match (server.code, row) {
        (1048 | 1062 | 1264 | 1265 | 1292 | 1366 | 1406, Some(row)) => {
            let mut message = server.message.clone();
            if let (1406, Some(column)) = (server.code, &column) {
                let at = mapping.insert_columns.iter().position(|c| c == column);
                let declared = rows
                    .destination
                    .column(column)
                    .map(|c| c.column_type.clone());
                if let (Some(_), Some(declared), Some(Value::Bytes(b))) =
                    (at, declared, at.and_then(|a| rows.rows[row].get(a)))
                {
                    message = format!(
                        "column {column}: the M1 value has {} characters, too long for {declared} (nothing was truncated)",
                        String::from_utf8_lossy(b.as_slice()).chars().count()
                    );
                }
            }
            Error::Data {
                table: mapping.destination_table.clone(),
                key: row_ref(mapping, &rows.keys[row]),
                message,
            }
        }
        _ => Error::db(
            Side::M2,
            e,
            &format!("writing {}", mapping.destination_table),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements() {
        assert_eq!(
            insert_sql("d", &["x".into(), "y".into()], 2, OnDuplicate::Fail),
            "INSERT INTO `d` (`x`, `y`) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(
            insert_sql(
                "d",
                &["x".into(), "y".into()],
                1,
                OnDuplicate::Update(&["y".into()])
            ),
            "INSERT INTO `d` (`x`, `y`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `y` = VALUES(`y`)"
        );
        assert_eq!(
            describe_key(&["entity_id".into()], &[Value::UInt(12)]),
            "entity_id=12"
        );
        assert_eq!(
            describe_key(
                &["a".into(), "b".into()],
                &[Value::Int(1), Value::Bytes(b"x".to_vec())]
            ),
            "(a=1, b=x)"
        );
    }
}
