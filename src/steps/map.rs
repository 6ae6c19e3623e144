//! The Map step: every M1 table that map.xml does not ignore is copied to its M2 table, field by
//! field through the map's renames, moves, ignores and handlers.
//!
//! This module plans the mapping from the two schemas and runs the integrity check the DMT's
//! `Map\Integrity` runs, with its messages.

use crate::config::map::HandlerSpec;
use crate::config::{ConfigError, MapRules, Side};
use crate::db::quote_ident;
use crate::db::schema::Schema;
use crate::transform::{required_lookup, Lookup};

/// How one M1 table goes to M2.
#[derive(Debug, Clone)]
pub struct TableMapping {
    /// The M1 document as map.xml names it (without `source_prefix`).
    pub document: String,
    pub source_table: String,
    /// The M2 document as map.xml names it (without `dest_prefix`).
    pub destination: String,
    pub destination_table: String,
    /// Every M1 column, in table order: what is selected.
    pub select_columns: Vec<String>,
    /// The M1 primary key, for keyset paging and for naming rows in messages.
    pub primary_key: Vec<String>,
    /// (index into `select_columns`, M2 column).
    pub copies: Vec<(usize, String)>,
    /// Handlers on M1 fields, in column order: (field, handler).
    pub source_handlers: Vec<(String, HandlerSpec)>,
    /// Handlers on M2 fields, in column order.
    pub destination_handlers: Vec<(String, HandlerSpec)>,
    /// The M2 columns written, in M2 column order: copied or set by a handler.
    pub insert_columns: Vec<String>,
    /// Values some handlers need from other M1 tables, selected with each row as extra
    /// columns after `select_columns`: (column name the handler reads, SQL expression over the
    /// source table aliased `t`).
    pub lookups: Vec<(String, String)>,
    /// A condition on the source table `t` that rows must meet to be copied (the Customer
    /// step leaves out the value rows of attributes that became M2 columns).
    pub filter: Option<String>,
    pub estimated_rows: u64,
}

impl TableMapping {
    /// `SELECT` list and `FROM` clause of a page: every M1 column, then the lookups.
    pub fn select_from(&self) -> String {
        let mut list: Vec<String> = self
            .select_columns
            .iter()
            .map(|c| format!("t.{}", quote_ident(c)))
            .collect();
        for (column, expression) in &self.lookups {
            list.push(format!("{expression} AS {}", quote_ident(column)));
        }
        format!(
            "SELECT {} FROM {} AS t",
            list.join(", "),
            quote_ident(&self.source_table)
        )
    }

    /// A mapping that names only the key, for a table a step writes itself: the pipeline needs
    /// the key to route, acknowledge and name rows; nothing is copied through it.
    pub fn key_only(
        document: &str,
        source_table: String,
        destination: &str,
        destination_table: String,
        select_columns: Vec<String>,
        key: &str,
        key_at: usize,
    ) -> TableMapping {
        TableMapping {
            document: document.to_string(),
            source_table,
            destination: destination.to_string(),
            destination_table,
            select_columns,
            primary_key: vec![key.to_string()],
            copies: vec![(key_at, key.to_string())],
            source_handlers: Vec::new(),
            destination_handlers: Vec::new(),
            insert_columns: vec![key.to_string()],
            lookups: Vec::new(),
            filter: None,
            estimated_rows: 0,
        }
    }

    /// `select_from` with the map's own filter and `condition` (over `t`), when either is set.
    pub fn select_where(&self, condition: Option<&str>) -> String {
        let mut sql = self.select_from();
        match (&self.filter, condition) {
            (Some(f), Some(c)) => sql.push_str(&format!(" WHERE ({f}) AND ({c})")),
            (Some(f), None) => sql.push_str(&format!(" WHERE ({f})")),
            (None, Some(c)) => sql.push_str(&format!(" WHERE {c}")),
            (None, None) => {}
        }
        sql
    }
}

/// The SQL that fills a handler's lookup column, per row of the source table `t`.
fn lookup_expression(lookup: Lookup, source_prefix: &str) -> String {
    match lookup {
        Lookup::QuoteItemStoreId => format!(
            "(SELECT l.store_id FROM {} AS l WHERE l.item_id = t.quote_item_id)",
            quote_ident(&format!("{source_prefix}sales_flat_quote_item"))
        ),
        Lookup::AttributeCode => format!(
            "(SELECT l.attribute_code FROM {} AS l WHERE l.attribute_id = t.attribute_id)",
            quote_ident(&format!("{source_prefix}eav_attribute"))
        ),
        Lookup::StoreGroupNameTaken => format!(
            "EXISTS(SELECT 1 FROM {} AS l WHERE BINARY l.name = BINARY t.name AND l.group_id < t.group_id)",
            quote_ident(&format!("{source_prefix}core_store_group"))
        ),
    }
}

/// What the integrity check found: errors stop the run; warnings are reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl IntegrityReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Tables that are the migration's own and never part of the map: the deltalogs in M1 and
/// mage-migrate's state in M2.
fn own_table(name: &str, prefix: &str, own: &str) -> bool {
    name.strip_prefix(prefix).unwrap_or(name).starts_with(own)
}

fn strip<'a>(name: &'a str, prefix: &str) -> &'a str {
    name.strip_prefix(prefix).unwrap_or(name)
}

/// Plans the Map step and checks integrity in both directions, as the DMT does.
pub fn plan(
    map: &MapRules,
    m1: &Schema,
    m2: &Schema,
    source_prefix: &str,
    dest_prefix: &str,
) -> Result<(Vec<TableMapping>, IntegrityReport), ConfigError> {
    let mut report = IntegrityReport::default();
    let mut mappings = Vec::new();
    let mut unmapped_sources = Vec::new();
    for table in m1.tables.values() {
        if own_table(&table.name, source_prefix, "m2_cl_") {
            continue;
        }
        let document = strip(&table.name, source_prefix);
        let Some(destination) = map.document_map(document, Side::Source) else {
            continue;
        };
        let destination_table = format!("{dest_prefix}{destination}");
        let Some(target) = m2.table(&destination_table) else {
            unmapped_sources.push(document.to_string());
            continue;
        };
        let mut copies = Vec::new();
        let mut missing = Vec::new();
        let mut mismatched = Vec::new();
        for (i, column) in table.columns.iter().enumerate() {
            let Some(field) = map.field_map(document, &column.name, Side::Source)? else {
                continue;
            };
            match target.column(&field) {
                None => missing.push(column.name.clone()),
                Some(_) if map.is_field_ignored(&destination, &field, Side::Destination) => {}
                Some(dest_column) => {
                    // As the DMT: the base type is compared, so widening (decimal(12,4) to
                    // decimal(20,4)) or a narrowed varchar is no mismatch here.
                    if !dest_column
                        .data_type
                        .eq_ignore_ascii_case(&column.data_type)
                        && !map.is_datatype_ignored(document, &column.name, Side::Source)
                        && !map.is_datatype_ignored(&destination, &field, Side::Destination)
                    {
                        mismatched.push(column.name.clone());
                    }
                    copies.push((i, field));
                }
            }
        }
        if !missing.is_empty() {
            report.errors.push(format!(
                "Source fields are not mapped. Document: {document}. Fields: {}",
                missing.join(",")
            ));
        }
        if !mismatched.is_empty() {
            report.warnings.push(format!(
                "Mismatch of data types. Source document: {document}. Fields: {}",
                mismatched.join(",")
            ));
        }
        let mut unfed = Vec::new();
        for column in &target.columns {
            if map.is_field_ignored(&destination, &column.name, Side::Destination) {
                continue;
            }
            let source_field = map.field_map(&destination, &column.name, Side::Destination)?;
            let fed = source_field.is_some_and(|f| {
                table.has_column(&f) && !map.is_field_ignored(document, &f, Side::Source)
            });
            if !fed {
                unfed.push(column.name.clone());
            }
        }
        if !unfed.is_empty() {
            report.errors.push(format!(
                "Destination fields are not mapped. Document: {destination}. Fields: {}",
                unfed.join(",")
            ));
        }
        let handlers_of = |doc: &str, side: Side, columns: &mut dyn Iterator<Item = &str>| {
            let mut out = Vec::new();
            for column in columns {
                for spec in map.handlers(doc, column, side) {
                    out.push((column.to_string(), spec.clone()));
                }
            }
            out
        };
        let source_handlers = handlers_of(
            document,
            Side::Source,
            &mut table.columns.iter().map(|c| c.name.as_str()),
        );
        let destination_handlers = handlers_of(
            &destination,
            Side::Destination,
            &mut target.columns.iter().map(|c| c.name.as_str()),
        );
        let insert_columns = target
            .columns
            .iter()
            .map(|c| c.name.clone())
            .filter(|c| {
                copies.iter().any(|(_, d)| d == c)
                    || destination_handlers.iter().any(|(f, _)| f == c)
            })
            .collect();
        let primary_key = if table.primary_key.is_empty() {
            match table.unique_keys.first() {
                Some((_, columns)) => columns.clone(),
                None => {
                    report.errors.push(format!(
                        "Document {document} has no primary or unique key: it cannot be copied in resumable pages"
                    ));
                    Vec::new()
                }
            }
        } else {
            table.primary_key.clone()
        };
        let mut lookups: Vec<(String, String)> = Vec::new();
        for (_, spec) in source_handlers.iter().chain(&destination_handlers) {
            if let Some(lookup) = required_lookup(spec) {
                if !lookups.iter().any(|(c, _)| c == lookup.column()) {
                    lookups.push((
                        lookup.column().to_string(),
                        lookup_expression(lookup, source_prefix),
                    ));
                }
            }
        }
        mappings.push(TableMapping {
            document: document.to_string(),
            source_table: table.name.clone(),
            destination: destination.clone(),
            destination_table,
            select_columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            primary_key,
            copies,
            source_handlers,
            destination_handlers,
            insert_columns,
            lookups,
            filter: None,
            estimated_rows: table.estimated_rows,
        });
    }
    if !unmapped_sources.is_empty() {
        report.errors.insert(
            0,
            format!(
                "Source documents are not mapped: {}",
                unmapped_sources.join(",")
            ),
        );
    }
    let mut unmapped_destinations = Vec::new();
    for table in m2.tables.values() {
        if own_table(&table.name, dest_prefix, "mage_migrate_") {
            continue;
        }
        let destination = strip(&table.name, dest_prefix);
        let Some(document) = map.document_map(destination, Side::Destination) else {
            continue;
        };
        if m1.table(&format!("{source_prefix}{document}")).is_none() {
            unmapped_destinations.push(destination.to_string());
        }
    }
    if !unmapped_destinations.is_empty() {
        let at = usize::from(!unmapped_sources.is_empty());
        report.errors.insert(
            at,
            format!(
                "Destination documents are not mapped: {}",
                unmapped_destinations.join(",")
            ),
        );
    }
    Ok((mappings, report))
}

/// Applies one table's mapping to its rows, as the DMT's RecordTransformer does: source-side
/// handlers on the M1 record, then the copy through the field map, then destination-side
/// handlers on the M2 record.
#[derive(Debug)]
pub struct MapTransformer {
    /// M1 columns, then lookup columns: the names of a selected row's values.
    select_columns: Vec<String>,
    copies: Vec<(usize, String)>,
    source_handlers: Vec<(String, Box<dyn crate::transform::Handler>)>,
    destination_handlers: Vec<(String, Box<dyn crate::transform::Handler>)>,
    insert_columns: Vec<String>,
}

/// Builds a handler from map.xml, or says why it cannot.
pub type HandlerBuilder =
    dyn Fn(&HandlerSpec) -> Result<Box<dyn crate::transform::Handler>, String>;

impl MapTransformer {
    /// With the handlers of this version (`crate::transform::build_handler`).
    pub fn new(mapping: &TableMapping) -> crate::Result<Self> {
        Self::with_builder(mapping, &|spec| {
            crate::transform::build_handler(spec).map_err(|e| e.to_string())
        })
    }

    pub fn with_builder(mapping: &TableMapping, build: &HandlerBuilder) -> crate::Result<Self> {
        let build_all = |handlers: &[(String, HandlerSpec)], doc: &str| {
            handlers
                .iter()
                .map(|(field, spec)| {
                    build(spec).map(|h| (field.clone(), h)).map_err(|message| {
                        crate::Error::Usage(format!(
                            "map.xml line {}: handler {} on {doc}.{field}: {message}",
                            spec.line, spec.class
                        ))
                    })
                })
                .collect::<crate::Result<Vec<_>>>()
        };
        Ok(MapTransformer {
            select_columns: mapping
                .select_columns
                .iter()
                .chain(mapping.lookups.iter().map(|(c, _)| c))
                .cloned()
                .collect(),
            copies: mapping.copies.clone(),
            source_handlers: build_all(&mapping.source_handlers, &mapping.document)?,
            destination_handlers: build_all(&mapping.destination_handlers, &mapping.destination)?,
            insert_columns: mapping.insert_columns.clone(),
        })
    }

    /// M1 values in select order → M2 values in insert order.
    pub fn transform(
        &self,
        row: Vec<mysql_async::Value>,
    ) -> Result<Vec<mysql_async::Value>, crate::transform::TransformError> {
        use crate::transform::Record;
        use mysql_async::Value;
        if self.source_handlers.is_empty() && self.destination_handlers.is_empty() {
            // The common case: a straight copy, no records built.
            let mut row: Vec<Option<Value>> = row.into_iter().map(Some).collect();
            let mut out = Vec::with_capacity(self.insert_columns.len());
            for column in &self.insert_columns {
                let value = self
                    .copies
                    .iter()
                    .find(|(_, d)| d == column)
                    .and_then(|(i, _)| row.get_mut(*i).and_then(Option::take))
                    .unwrap_or(Value::NULL);
                out.push(value);
            }
            return Ok(out);
        }
        let mut source =
            Record::from_columns(self.select_columns.iter().cloned().zip(row).collect());
        let empty = Record::new();
        for (field, handler) in &self.source_handlers {
            handler.handle(&mut source, &empty, field)?;
        }
        let mut destination = Record::new();
        for (i, column) in &self.copies {
            let value = source
                .get(&self.select_columns[*i])
                .cloned()
                .unwrap_or(Value::NULL);
            destination.set(column, value);
        }
        for (field, handler) in &self.destination_handlers {
            handler.handle(&mut destination, &source, field)?;
        }
        Ok(self
            .insert_columns
            .iter()
            .map(|c| destination.get(c).cloned().unwrap_or(Value::NULL))
            .collect())
    }
}
