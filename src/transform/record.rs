//! A row on its way from M1 to M2: column names and values, in column order.

use mysql_async::Value;

/// One row of one side. Small (a Magento table has at most ~140 columns), so a vector with
/// linear lookups beats a map and keeps the column order of the INSERT.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    columns: Vec<(String, Value)>,
}

impl Record {
    pub fn new() -> Self {
        Record::default()
    }

    pub fn from_columns(columns: Vec<(String, Value)>) -> Self {
        Record { columns }
    }

    pub fn get(&self, column: &str) -> Option<&Value> {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v)
    }

    /// Sets a column, appending it when the record does not have it yet.
    pub fn set(&mut self, column: &str, value: Value) {
        match self.columns.iter_mut().find(|(c, _)| c == column) {
            Some((_, v)) => *v = value,
            None => self.columns.push((column.to_string(), value)),
        }
    }

    pub fn remove(&mut self, column: &str) -> Option<Value> {
        let at = self.columns.iter().position(|(c, _)| c == column)?;
        Some(self.columns.remove(at).1)
    }

    pub fn contains(&self, column: &str) -> bool {
        self.columns.iter().any(|(c, _)| c == column)
    }

    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(c, _)| c.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns.iter().map(|(c, v)| (c.as_str(), v))
    }

    pub fn into_columns(self) -> Vec<(String, Value)> {
        self.columns
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}
