//! Table structures read from `information_schema`: columns in order, primary and unique keys,
//! an estimate of the row count. Used by the integrity check, the copy and the delta.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// `DATA_TYPE`, e.g. `varchar`.
    pub data_type: String,
    /// `COLUMN_TYPE`, e.g. `varchar(128)` or `int(10) unsigned`.
    pub column_type: String,
    pub nullable: bool,
    /// Characters for string columns, for messages about values that do not fit.
    pub max_length: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// Unique keys other than the primary key: (index name, columns).
    pub unique_keys: Vec<(String, Vec<String>)>,
    /// `TABLE_ROWS`: an InnoDB estimate, for progress bars only.
    pub estimated_rows: u64,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.column(name).is_some()
    }
}

/// The base tables of one database, by name.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Reads every base table of the connection's current database.
    pub async fn read(conn: &mut Conn) -> Result<Schema, mysql_async::Error> {
        let tables: Vec<(String, Option<u64>)> = conn
            .query(
                "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
            )
            .await?;
        let mut schema = Schema::default();
        for (name, rows) in tables {
            schema.tables.insert(
                name.clone(),
                Table {
                    name,
                    columns: Vec::new(),
                    primary_key: Vec::new(),
                    unique_keys: Vec::new(),
                    estimated_rows: rows.unwrap_or(0),
                },
            );
        }
        type ColumnRow = (String, String, String, String, String, Option<u64>);
        let columns: Vec<ColumnRow> = conn
            .query(
                "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY TABLE_NAME, ORDINAL_POSITION",
            )
            .await?;
        for (table, name, data_type, column_type, nullable, max_length) in columns {
            if let Some(t) = schema.tables.get_mut(&table) {
                t.columns.push(Column {
                    name,
                    data_type,
                    column_type,
                    nullable: nullable == "YES",
                    max_length,
                });
            }
        }
        // COLUMN_NAME is NULL for a key part that is an expression (MySQL 8.0.13+ functional
        // indexes): read as a String, such a row would panic in the driver. A unique key with
        // an expression part cannot be compared column by column, so it is left out whole.
        let keys: Vec<(String, String, Option<String>)> = conn
            .query(
                "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 \
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            )
            .await?;
        let with_expression: std::collections::HashSet<(String, String)> = keys
            .iter()
            .filter(|(_, _, column)| column.is_none())
            .map(|(table, index, _)| (table.clone(), index.clone()))
            .collect();
        for (table, index, column) in keys {
            let Some(column) = column else { continue };
            if with_expression.contains(&(table.clone(), index.clone())) {
                continue;
            }
            let Some(t) = schema.tables.get_mut(&table) else {
                continue;
            };
            if index == "PRIMARY" {
                t.primary_key.push(column);
            } else {
                match t.unique_keys.iter_mut().find(|(n, _)| *n == index) {
                    Some((_, cols)) => cols.push(column),
                    None => t.unique_keys.push((index, vec![column])),
                }
            }
        }
        Ok(schema)
    }
}
