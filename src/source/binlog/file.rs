//! Binlog files read offline through the same decoder as the network stream: for tests with
//! MySQL's formats (only MariaDB can be installed here) and for looking into a binlog by hand.
//!
//! The file is framed here, event by event, before mysql_common sees it, so a truncated or
//! corrupt file gives an error naming the offset instead of a panic.

use std::io::BufRead;
use std::path::Path;

use mysql_async::binlog::events::{Event, TransactionPayloadEvent};
use mysql_async::binlog::BinlogVersion;
use mysql_common::binlog::EventStreamReader;

use super::decode::{Decoded, Decoder};
use super::schema::SchemaCache;
use super::{BinlogError, Position};

const MAGIC: &[u8; 4] = b"\xfebin";
const HEADER: usize = 19;
const TRANSACTION_PAYLOAD: u8 = 40;

/// What a file held.
#[derive(Debug, Default, Clone)]
pub struct FileSummary {
    pub events: u64,
    pub checksums_verified: u64,
    /// The server version in the format description.
    pub server_version: String,
    /// Where the last complete transaction ended.
    pub committed: Position,
}

/// Decodes every event of a binlog file, passing what they mean to `on`. Table names come from
/// the row metadata (`@0`, `@1` … without FULL metadata); `schema` may add the real ones.
pub fn decode_file(
    path: &Path,
    schema: &SchemaCache,
    mut on: impl FnMut(Decoded),
) -> Result<FileSummary, BinlogError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let fail = |message: String| BinlogError::File {
        file: path.display().to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() < 4 || &bytes[..4] != MAGIC {
        return Err(fail("not a binlog file (no \\xfebin magic)".into()));
    }
    let mut reader = EventStreamReader::new(BinlogVersion::Version4);
    let mut decoder = Decoder::new(Position::new(name, 4), None).names_from_metadata();
    let mut summary = FileSummary::default();
    let mut offset = 4usize;
    while offset < bytes.len() {
        let left = bytes.len() - offset;
        if left < HEADER {
            return Err(fail(format!(
                "truncated at offset {offset}: {left} bytes left, an event header needs {HEADER}"
            )));
        }
        let size = u32::from_le_bytes([
            bytes[offset + 9],
            bytes[offset + 10],
            bytes[offset + 11],
            bytes[offset + 12],
        ]) as usize;
        if size < HEADER {
            return Err(fail(format!(
                "corrupt at offset {offset}: an event of {size} bytes is shorter than its header"
            )));
        }
        if size > left {
            return Err(fail(format!(
                "truncated at offset {offset}: the event needs {size} bytes, the file has {left} more"
            )));
        }
        let slice = &bytes[offset..offset + size];
        let event = read_event(&mut reader, slice)
            .map_err(|e| fail(format!("corrupt event at offset {offset}: {e}")))?;
        summary.events += 1;
        handle(
            &mut reader,
            &mut decoder,
            &event,
            schema,
            &mut on,
            &mut summary,
        )
        .map_err(|e| match e {
            BinlogError::Corrupt { message, .. } => {
                fail(format!("corrupt event at offset {offset}: {message}"))
            }
            other => other,
        })?;
        offset += size;
    }
    summary.checksums_verified = decoder.checksums_verified;
    summary.committed = decoder.committed().clone();
    Ok(summary)
}

/// mysql_common asserts on some malformed input; a file read offline may be anything.
fn read_event<R: BufRead>(reader: &mut EventStreamReader, input: R) -> Result<Event, String> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.read(input)));
    match result {
        Ok(Ok(Some(event))) => Ok(event),
        Ok(Ok(None)) => Err("empty event".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the event parser gave up on it".into()),
    }
}

fn handle(
    reader: &mut EventStreamReader,
    decoder: &mut Decoder,
    event: &Event,
    schema: &SchemaCache,
    on: &mut impl FnMut(Decoded),
    summary: &mut FileSummary,
) -> Result<(), BinlogError> {
    if event.header().event_type_raw() == 15 {
        if let Ok(fde) = event.read_event::<mysql_async::binlog::events::FormatDescriptionEvent>() {
            summary.server_version = fde.server_version().trim_end_matches('\0').to_string();
        }
    }
    for decoded in decoder.handle(event, |id| reader.get_tme(id), schema)? {
        on(decoded);
    }
    if event.header().event_type_raw() == TRANSACTION_PAYLOAD {
        // MySQL 8.0.20+ binlog_transaction_compression: the transaction's events, compressed.
        let payload =
            event
                .read_event::<TransactionPayloadEvent>()
                .map_err(|e| BinlogError::Corrupt {
                    at: decoder.file.clone(),
                    message: format!("transaction payload: {e}"),
                })?;
        let mut inner = payload.decompressed().map_err(|e| BinlogError::Corrupt {
            at: decoder.file.clone(),
            message: format!("transaction payload: {e}"),
        })?;
        loop {
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                reader.read_decompressed(&mut inner)
            }));
            let event = match read {
                Ok(Ok(Some(event))) => event,
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    return Err(BinlogError::Corrupt {
                        at: decoder.file.clone(),
                        message: format!("inside a transaction payload: {e}"),
                    })
                }
                Err(_) => {
                    return Err(BinlogError::Corrupt {
                        at: decoder.file.clone(),
                        message: "inside a transaction payload: the event parser gave up".into(),
                    })
                }
            };
            summary.events += 1;
            for decoded in decoder.handle(&event, |id| reader.get_tme(id), schema)? {
                on(decoded);
            }
        }
    }
    Ok(())
}
