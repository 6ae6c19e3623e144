//! From binlog events to transactions of row changes, with positions.
//!
//! The same decoder serves the network stream and binlog files read offline. It tracks the
//! position after the last committed transaction (the only safe place to resume), the GTID
//! (MariaDB's event 162 is decoded here; mysql_common does not), verifies CRC32 checksums, and
//! refuses any event it does not know that could carry rows, instead of skipping it.

use std::sync::Arc;

use mysql_async::binlog::events::{
    Event, EventData, OptionalMetaExtractor, RowsEventData, TableMapEvent,
};
use mysql_async::binlog::{BinlogChecksumAlg, IncidentType};
use mysql_async::Value;

use super::schema::{ColumnInfo, SchemaCache, TableInfo};
use super::values::{normalize, NotDirect};
use super::{BinlogError, Position};

/// A row image: one value per column; `None` where the image lacks the column (a MINIMAL or
/// NOBLOB row image) or the value cannot be used as it is.
pub type Image = Vec<Option<Value>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Insert,
    Update,
    Delete,
}

/// One changed row of a followed table.
#[derive(Debug, Clone)]
pub struct RowChange {
    pub table: Arc<TableInfo>,
    pub kind: RowKind,
    pub before: Option<Image>,
    pub after: Option<Image>,
    /// Why the after-image cannot be written as it is (the row is fetched instead).
    pub not_direct: Option<String>,
}

/// What one event meant.
#[derive(Debug, Clone)]
pub enum Decoded {
    Rows(Vec<RowChange>),
    /// A transaction ended; the position is where the next one starts.
    Commit(Position),
    /// A statement that is not a transaction boundary: DDL, mostly.
    Statement {
        database: String,
        query: String,
    },
    Heartbeat,
    /// Nothing more has arrived yet: a good moment to send what is buffered.
    Idle,
}

const FL_STANDALONE: u8 = 1;

/// Event types mysql_common leaves undecoded that carry nothing the delta needs.
const IGNORED_UNDECODED: &[u8] = &[
    160, // MariaDB ANNOTATE_ROWS: the statement text
    161, // MariaDB BINLOG_CHECKPOINT
    163, // MariaDB GTID_LIST
    164, // MariaDB START_ENCRYPTION (events reach a replica decrypted)
];

#[derive(Debug)]
pub struct Decoder {
    /// The file being read and the end of the last event read in it.
    pub file: String,
    pub pos: u64,
    /// Where the last committed transaction ended.
    committed: Position,
    /// GTID of the transaction being read.
    gtid: Option<String>,
    in_transaction: bool,
    standalone: bool,
    /// Only tables of this database are decoded (`None`: all, for files read offline).
    database: Option<String>,
    /// Without information_schema (offline), take names from the table map's metadata.
    names_from_metadata: bool,
    /// Checksums verified.
    pub checksums_verified: u64,
    /// The server writes checksums (`@@binlog_checksum` is CRC32).
    fake_rotate_checksum: bool,
    /// Header timestamp (epoch seconds) of the last event, and of the last commit read.
    last_time: u32,
    pub committed_time: u32,
}

impl Decoder {
    pub fn new(start: Position, database: Option<String>) -> Self {
        Decoder {
            file: start.file.clone(),
            pos: start.pos,
            committed: start,
            gtid: None,
            in_transaction: false,
            standalone: false,
            database,
            names_from_metadata: false,
            checksums_verified: 0,
            fake_rotate_checksum: true,
            last_time: 0,
            committed_time: 0,
        }
    }

    /// Whether the server's events carry checksums (`@@binlog_checksum`), which decides how
    /// the connect-time Rotate's name is read.
    pub fn with_server_checksums(mut self, on: bool) -> Self {
        self.fake_rotate_checksum = on;
        self
    }

    /// For files read offline: column names from FULL row metadata, else `@0`, `@1` ….
    pub fn names_from_metadata(mut self) -> Self {
        self.names_from_metadata = true;
        self
    }

    /// The position after the last committed transaction.
    pub fn committed(&self) -> &Position {
        &self.committed
    }

    /// Whether rows of this table are decoded.
    pub fn follows(&self, database: &str) -> bool {
        self.database.as_deref().map_or(true, |d| d == database)
    }

    fn here(&self) -> String {
        format!("{}:{}", self.file, self.pos)
    }

    /// Handles one event. `tme` finds a table map by id (the stream keeps them).
    pub fn handle<'t>(
        &mut self,
        event: &Event,
        tme: impl Fn(u64) -> Option<&'t TableMapEvent<'static>>,
        schema: &SchemaCache,
    ) -> Result<Vec<Decoded>, BinlogError> {
        let header = event.header();
        let kind = header.event_type_raw();
        if header.timestamp() != 0 {
            self.last_time = header.timestamp();
        }
        let footer = event.footer();
        if footer.get_checksum_enabled() {
            if let (Some(stored), Ok(Some(alg))) = (event.checksum(), footer.get_checksum_alg()) {
                if alg == BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32 {
                    if u32::from_le_bytes(stored) != event.calc_checksum(alg) {
                        return Err(BinlogError::Checksum {
                            at: format!("{}:{}", self.file, header.log_pos()),
                            event_type: kind,
                        });
                    }
                    self.checksums_verified += 1;
                }
            }
        }
        // log_pos is where the event ends; 0 for the fake events a server sends on connect and
        // for the events inside a compressed transaction payload.
        let log_pos = u64::from(header.log_pos());
        let data = event.read_data().map_err(|e| BinlogError::Corrupt {
            at: self.here(),
            message: format!("event type {kind}: {e}"),
        })?;
        let mut out = Vec::new();
        match data {
            None if kind == 162 => {
                // MariaDB GTID: seq_no u64, domain u32, flags u8 (server id from the header).
                let d = event.data();
                if d.len() < 13 {
                    return Err(BinlogError::Corrupt {
                        at: self.here(),
                        message: "a MariaDB GTID event shorter than 13 bytes".into(),
                    });
                }
                let seq = u64::from_le_bytes(d[0..8].try_into().unwrap_or_default());
                let domain = u32::from_le_bytes(d[8..12].try_into().unwrap_or_default());
                self.gtid = Some(format!("{domain}-{}-{seq}", header.server_id()));
                self.standalone = d[12] & FL_STANDALONE != 0;
                self.in_transaction = !self.standalone;
            }
            None if IGNORED_UNDECODED.contains(&kind) => {}
            None if (165..=171).contains(&kind) => {
                return Err(BinlogError::Unsupported {
                    at: self.here(),
                    message: format!(
                        "a compressed MariaDB event (type {kind}); set log_bin_compress = OFF on Magento 1, or use --source deltalog"
                    ),
                })
            }
            None => {
                return Err(BinlogError::Unsupported {
                    at: self.here(),
                    message: format!(
                        "an event of unknown type {kind}, which may carry rows; it is not skipped (use --source deltalog)"
                    ),
                })
            }
            Some(EventData::RotateEvent(r)) => {
                if log_pos != 0 {
                    // A real rotate, at a transaction boundary: the next file starts.
                    self.file = r.name().into_owned();
                    self.pos = r.position();
                    self.committed.file = self.file.clone();
                    self.committed.pos = self.pos;
                } else if self.file.is_empty() {
                    // The fake Rotate sent on connect names the file a GTID start landed in.
                    // It is read before the format description, so with checksums on its
                    // name ends in the 4 checksum bytes.
                    let raw = r.name_raw();
                    let cut = if self.fake_rotate_checksum && raw.len() > 4 { 4 } else { 0 };
                    self.file = String::from_utf8_lossy(&raw[..raw.len() - cut]).into_owned();
                    self.pos = r.position();
                    if self.committed.file.is_empty() {
                        self.committed.file = self.file.clone();
                        self.committed.pos = self.pos;
                    }
                }
                return Ok(out);
            }
            Some(EventData::GtidEvent(g)) => {
                let sid = g.sid();
                let uuid = format!(
                    "{}-{}-{}-{}-{}",
                    hex(&sid[0..4]),
                    hex(&sid[4..6]),
                    hex(&sid[6..8]),
                    hex(&sid[8..10]),
                    hex(&sid[10..16])
                );
                self.gtid = Some(match g.tag() {
                    Some(tag) => format!("{uuid}:{}:{}", tag.as_str(), g.gno()),
                    None => format!("{uuid}:{}", g.gno()),
                });
            }
            Some(EventData::AnonymousGtidEvent(_)) => self.gtid = None,
            Some(EventData::QueryEvent(q)) => {
                let query = q.query();
                let trimmed = query.trim();
                if trimmed.eq_ignore_ascii_case("BEGIN") {
                    self.in_transaction = true;
                } else if trimmed.eq_ignore_ascii_case("COMMIT")
                    || trimmed.eq_ignore_ascii_case("ROLLBACK")
                {
                    self.advance(log_pos);
                    out.push(self.commit());
                    return Ok(out);
                } else {
                    out.push(Decoded::Statement {
                        database: q.schema().into_owned(),
                        query: query.into_owned(),
                    });
                    if !self.in_transaction || self.standalone {
                        self.advance(log_pos);
                        out.push(self.commit());
                        return Ok(out);
                    }
                }
            }
            Some(EventData::XidEvent(_)) => {
                self.advance(log_pos);
                out.push(self.commit());
                return Ok(out);
            }
            Some(EventData::HeartbeatEvent) => {
                out.push(Decoded::Heartbeat);
                return Ok(out);
            }
            Some(EventData::RowsEvent(rows)) => {
                let table_id = rows.table_id();
                let map = tme(table_id).ok_or_else(|| BinlogError::Corrupt {
                    at: self.here(),
                    message: format!("a row event for table id {table_id} without its table map"),
                })?;
                let database = map.database_name();
                if self.follows(&database) {
                    let changes = self.rows(&rows, map, schema)?;
                    if !changes.is_empty() {
                        out.push(Decoded::Rows(changes));
                    }
                }
            }
            Some(EventData::IncidentEvent(incident))
                if incident.incident_type() != Ok(IncidentType::INCIDENT_NONE) =>
            {
                // The server lost changes it could not log (a replica stops here too).
                let what = match incident.incident_type() {
                    Ok(t) => format!("{t:?}"),
                    Err(e) => format!("unknown type {}", e.0),
                };
                return Err(BinlogError::Unsupported {
                    at: self.here(),
                    message: format!(
                        "an INCIDENT event ({what}{}{}): the server recorded that changes are missing from the binlog here; use --source deltalog",
                        if incident.message_raw().is_empty() { "" } else { ": " },
                        incident.message()
                    ),
                });
            }
            Some(
                EventData::PreGaWriteRowsEvent(_)
                | EventData::PreGaUpdateRowsEvent(_)
                | EventData::PreGaDeleteRowsEvent(_),
            ) => {
                return Err(BinlogError::Unsupported {
                    at: self.here(),
                    message: format!("a pre-GA row event (type {kind}) from MySQL 5.1.0-5.1.17"),
                })
            }
            Some(_) => {}
        }
        self.advance(log_pos);
        Ok(out)
    }

    fn advance(&mut self, log_pos: u64) {
        if log_pos != 0 {
            self.pos = log_pos;
        }
    }

    fn commit(&mut self) -> Decoded {
        self.committed_time = self.last_time;
        self.in_transaction = false;
        self.standalone = false;
        self.committed = Position {
            file: self.file.clone(),
            pos: self.pos,
            gtid: self
                .gtid
                .take()
                .unwrap_or_else(|| self.committed.gtid.clone()),
        };
        Decoded::Commit(self.committed.clone())
    }

    fn rows(
        &self,
        rows: &RowsEventData<'_>,
        map: &TableMapEvent<'static>,
        schema: &SchemaCache,
    ) -> Result<Vec<RowChange>, BinlogError> {
        let (database, table) = (map.database_name(), map.table_name());
        let count = map.columns_count() as usize;
        let info = match schema.get(&database, &table) {
            Some(info) => info,
            // Offline without a schema: names from FULL row metadata, else `@N`.
            None if self.names_from_metadata => Arc::new(TableInfo {
                database: database.to_string(),
                table: table.to_string(),
                columns: metadata_names(map, count)
                    .into_iter()
                    .map(|name| ColumnInfo {
                        name,
                        data_type: String::new(),
                        unsigned: false,
                        charset: None,
                        labels: Vec::new(),
                    })
                    .collect(),
            }),
            // A table the delta does not follow.
            None => return Ok(Vec::new()),
        };
        if !info.columns.is_empty() && info.columns.len() != count {
            return Err(BinlogError::SchemaChanged {
                at: self.here(),
                table: format!("{database}.{table}"),
                message: format!(
                    "its row events have {count} columns, information_schema shows {}",
                    info.columns.len()
                ),
            });
        }
        // With binlog_row_metadata=FULL the table map names its columns as they were when the
        // row was written: a difference from information_schema is a DDL in between.
        if !self.names_from_metadata
            && !info.columns.is_empty()
            && map.iter_optional_meta().next().is_some()
        {
            let names = metadata_names(map, count);
            if !names[0].starts_with('@') {
                if let Some((i, name)) = names
                    .iter()
                    .enumerate()
                    .find(|(i, n)| info.columns.get(*i).is_some_and(|c| &c.name != *n))
                {
                    return Err(BinlogError::SchemaChanged {
                        at: self.here(),
                        table: format!("{database}.{table}"),
                        message: format!(
                            "column {} is {name} in the binlog's metadata, {} in information_schema",
                            i + 1,
                            info.columns[i].name
                        ),
                    });
                }
            }
        }
        let kind = match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => {
                RowKind::Insert
            }
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => {
                RowKind::Delete
            }
            _ => RowKind::Update,
        };
        // A row image holds only the columns set in its bitmap (MINIMAL and NOBLOB images, NDB
        // partial rows), in table order: the image's `k`-th value is the `k`-th column present,
        // not column `k`. `slots[i]` is where column `i` is in the image, if it is.
        let slots = |present: Option<Vec<bool>>| -> Vec<Option<usize>> {
            let present = present.unwrap_or_else(|| vec![true; count]);
            let mut next = 0;
            let mut slots = Vec::with_capacity(count);
            for i in 0..count {
                if present.get(i).copied().unwrap_or(false) {
                    slots.push(Some(next));
                    next += 1;
                } else {
                    slots.push(None);
                }
            }
            slots
        };
        let before_slots = slots(
            rows.columns_before_image()
                .map(|bits| bits.iter().map(|bit| *bit).collect()),
        );
        let after_slots = slots(
            rows.columns_after_image()
                .map(|bits| bits.iter().map(|bit| *bit).collect()),
        );
        let mut out = Vec::new();
        if !matches!(rows, RowsEventData::PartialUpdateRowsEvent(_))
            && !info.columns.is_empty()
            && !info.columns[0].data_type.is_empty()
        {
            // With the columns known from information_schema: decoded here, without building
            // mysql_common's per-row column descriptions (most of its cost, spec/binlog.md §2).
            let before_bits: Option<Vec<bool>> = rows
                .columns_before_image()
                .map(|bits| bits.iter().map(|bit| *bit).collect());
            let after_bits: Option<Vec<bool>> = rows
                .columns_after_image()
                .map(|bits| bits.iter().map(|bit| *bit).collect());
            let mut buf = mysql_common::io::ParseBuf(rows.rows_data());
            let corrupt = |e: std::io::Error| BinlogError::Corrupt {
                at: self.here(),
                message: format!("a row of {database}.{table}: {e}"),
            };
            while !buf.0.is_empty() {
                let mut not_direct = None;
                let before = match &before_bits {
                    Some(bits) => Some(
                        read_image(&mut buf, map, bits, &info, &mut not_direct).map_err(corrupt)?,
                    ),
                    None => None,
                };
                let after = match &after_bits {
                    Some(bits) => Some(
                        read_image(&mut buf, map, bits, &info, &mut not_direct).map_err(corrupt)?,
                    ),
                    None => None,
                };
                if not_direct.is_none() {
                    if let Some(after) = &after {
                        if let Some(i) = after.iter().position(Option::is_none) {
                            not_direct = Some(format!(
                                "the after-image lacks {} (binlog_row_image is not FULL)",
                                info.columns.get(i).map_or("a column", |c| c.name.as_str())
                            ));
                        }
                    }
                }
                out.push(RowChange {
                    table: info.clone(),
                    kind,
                    before,
                    after,
                    not_direct,
                });
            }
            return Ok(out);
        }
        for row in rows.rows(map) {
            let (before, after) = row.map_err(|e| BinlogError::Corrupt {
                at: self.here(),
                message: format!("a row of {database}.{table}: {e}"),
            })?;
            let mut not_direct = None;
            let mut image = |row: Option<mysql_async::binlog::row::BinlogRow>,
                             slots: &[Option<usize>]| {
                row.map(|row| {
                    (0..count)
                        .map(|i| {
                            let value = row.as_ref(slots.get(i).copied().flatten()?)?;
                            let column = info.columns.get(i)?;
                            match normalize(value, column) {
                                Ok(v) => Some(v),
                                Err(NotDirect(why)) => {
                                    not_direct.get_or_insert(why);
                                    None
                                }
                            }
                        })
                        .collect::<Image>()
                })
            };
            let before = image(before, &before_slots);
            let after = image(after, &after_slots);
            if not_direct.is_none() {
                if let Some(after) = &after {
                    if let Some(i) = after.iter().position(Option::is_none) {
                        not_direct = Some(format!(
                            "the after-image lacks {} (binlog_row_image is not FULL)",
                            info.columns.get(i).map_or("a column", |c| c.name.as_str())
                        ));
                    }
                }
            }
            out.push(RowChange {
                table: info.clone(),
                kind,
                before,
                after,
                not_direct,
            });
        }
        Ok(out)
    }
}

/// Column names from the table map's FULL row metadata; `@N` where it has none.
fn metadata_names(map: &TableMapEvent<'_>, count: usize) -> Vec<String> {
    let mut names: Vec<String> = OptionalMetaExtractor::new(map.iter_optional_meta())
        .map(|meta| {
            meta.iter_column_name()
                .map_while(Result::ok)
                .map(|n| n.name().into_owned())
                .take(count)
                .collect()
        })
        .unwrap_or_default();
    for i in names.len()..count {
        names.push(format!("@{i}"));
    }
    names
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One row image: the null bitmap of the columns present, then their values.
fn read_image<'a>(
    buf: &mut mysql_common::io::ParseBuf<'a>,
    map: &'a TableMapEvent<'static>,
    present: &[bool],
    info: &TableInfo,
    not_direct: &mut Option<String>,
) -> std::io::Result<Image> {
    let count = present.len();
    let n = present.iter().filter(|b| **b).count();
    let nulls: &[u8] = buf.parse(n.div_ceil(8))?;
    let mut image: Image = vec![None; count];
    let mut k = 0;
    for (i, slot) in image.iter_mut().enumerate() {
        if !present[i] {
            continue;
        }
        let is_null = nulls.get(k / 8).is_some_and(|b| b & (1 << (k % 8)) != 0);
        k += 1;
        if is_null {
            *slot = Some(Value::NULL);
            continue;
        }
        let column_type = map
            .get_column_type(i)
            .map_err(std::io::Error::other)?
            .ok_or_else(|| std::io::Error::other(format!("no type for column {i}")))?;
        let meta = map.get_column_metadata(i).unwrap_or(&[]);
        let value: mysql_async::binlog::value::BinlogValue<'a> =
            buf.parse((column_type, meta, false, false))?;
        *slot = match info.columns.get(i) {
            Some(column) => match normalize(&value, column) {
                Ok(v) => Some(v),
                Err(NotDirect(why)) => {
                    not_direct.get_or_insert(why);
                    None
                }
            },
            None => None,
        };
    }
    Ok(image)
}
