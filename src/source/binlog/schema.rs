//! Column names, signedness, charsets and ENUM/SET labels of the tables the binlog source
//! follows, read from `information_schema`: with the default `binlog_row_metadata` (NO_LOG) a
//! row event carries none of them. Refreshed when a DDL on the table is seen.

use std::collections::HashMap;
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// One column, as the row events need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    /// `DATA_TYPE`, lower case: `int`, `varchar`, `enum` …
    pub data_type: String,
    pub unsigned: bool,
    /// The charset of a text column (`utf8mb4`, `latin1`, …); `None` for other columns.
    pub charset: Option<String>,
    /// ENUM and SET labels, in definition order.
    pub labels: Vec<Vec<u8>>,
}

/// A table's columns in ordinal order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub database: String,
    pub table: String,
    pub columns: Vec<ColumnInfo>,
}

impl TableInfo {
    pub fn position(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }
}

/// The cache: `database.table` → columns. Tables that do not exist are cached as absent.
#[derive(Debug, Default)]
pub struct SchemaCache {
    tables: HashMap<(String, String), Option<Arc<TableInfo>>>,
}

impl SchemaCache {
    pub fn get(&self, database: &str, table: &str) -> Option<Arc<TableInfo>> {
        self.tables
            .get(&(database.to_string(), table.to_string()))
            .cloned()
            .flatten()
    }

    pub fn is_loaded(&self, database: &str, table: &str) -> bool {
        self.tables
            .contains_key(&(database.to_string(), table.to_string()))
    }

    /// Puts a table in the cache (files read offline have no information_schema).
    pub fn insert(&mut self, info: TableInfo) {
        self.tables.insert(
            (info.database.clone(), info.table.clone()),
            Some(Arc::new(info)),
        );
    }

    /// Forgets a table, so the next row event reads it again (after a DDL).
    pub fn forget(&mut self, database: &str, table: &str) {
        self.tables
            .remove(&(database.to_string(), table.to_string()));
    }

    /// Reads one table from `information_schema`.
    pub async fn load(
        &mut self,
        conn: &mut Conn,
        database: &str,
        table: &str,
    ) -> Result<Option<Arc<TableInfo>>, mysql_async::Error> {
        let rows: Vec<(String, String, String, Option<String>)> = conn
            .exec(
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 ORDER BY ORDINAL_POSITION",
                (database, table),
            )
            .await?;
        let info = if rows.is_empty() {
            None
        } else {
            Some(Arc::new(TableInfo {
                database: database.to_string(),
                table: table.to_string(),
                columns: rows
                    .into_iter()
                    .map(|(name, data_type, column_type, charset)| {
                        let data_type = data_type.to_ascii_lowercase();
                        let labels = if data_type == "enum" || data_type == "set" {
                            parse_labels(&column_type)
                        } else {
                            Vec::new()
                        };
                        ColumnInfo {
                            name,
                            unsigned: column_type.to_ascii_lowercase().contains("unsigned"),
                            data_type,
                            charset,
                            labels,
                        }
                    })
                    .collect(),
            }))
        };
        self.tables
            .insert((database.to_string(), table.to_string()), info.clone());
        Ok(info)
    }
}

/// `enum('a','b''c')` → `[a, b'c]`.
pub fn parse_labels(column_type: &str) -> Vec<Vec<u8>> {
    let Some(open) = column_type.find('(') else {
        return Vec::new();
    };
    let inner = column_type[open + 1..].trim_end_matches(')');
    let bytes = inner.as_bytes();
    let mut labels = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\'' {
            i += 1;
            continue;
        }
        i += 1;
        let mut label = Vec::new();
        while i < bytes.len() {
            match bytes[i] {
                b'\'' if bytes.get(i + 1) == Some(&b'\'') => {
                    label.push(b'\'');
                    i += 2;
                }
                b'\'' => {
                    i += 1;
                    break;
                }
                b'\\' if i + 1 < bytes.len() => {
                    label.push(bytes[i + 1]);
                    i += 2;
                }
                b => {
                    label.push(b);
                    i += 1;
                }
            }
        }
        labels.push(label);
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(
            parse_labels("enum('new','it''s','a,b')"),
            vec![b"new".to_vec(), b"it's".to_vec(), b"a,b".to_vec()]
        );
        assert_eq!(parse_labels("set('x')"), vec![b"x".to_vec()]);
        assert!(parse_labels("int(10)").is_empty());
    }
}
