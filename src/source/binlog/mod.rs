//! The Magento 1 binary log as a change source: row events of the followed tables become
//! changed keys with their after-images.
//!
//! - [`decode`]: events → transactions of row changes, positions, GTIDs, checksums.
//! - [`values`]: binlog values → the values a `SELECT` returns, so both sources write equal rows.
//! - [`schema`]: names, signedness, charsets and ENUM/SET labels from `information_schema`.
//! - [`stream`]: the replica connection to MariaDB (and MySQL), with the MariaDB glue,
//!   heartbeats, and reconnects from the last checkpoint.
//! - [`file`]: binlog files read offline, through the same decoder.

pub mod decode;
pub mod file;
pub mod schema;
pub mod stream;
pub mod values;

use std::fmt;

/// A place in the binlog: the file and the offset where the next transaction starts, and the
/// GTID of the last transaction before it (empty when unknown or GTIDs are off).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    pub file: String,
    pub pos: u64,
    pub gtid: String,
}

impl Position {
    pub fn new(file: impl Into<String>, pos: u64) -> Self {
        Position {
            file: file.into(),
            pos,
            gtid: String::new(),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)?;
        if !self.gtid.is_empty() {
            write!(f, " (GTID {})", self.gtid)?;
        }
        Ok(())
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Position {
    /// File names of one server sort by their number; same length, so text order is enough,
    /// and a longer number (after `.999999`) is a later file.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.file.len(), &self.file, self.pos).cmp(&(other.file.len(), &other.file, other.pos))
    }
}

/// `--start-position`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// The current end of the binlog, after draining the deltalog.
    Now,
    At(Position),
    /// A MariaDB GTID position (`0-1-42`, or one per domain, comma-separated).
    MariadbGtid(String),
}

impl std::str::FromStr for StartAt {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("now") {
            return Ok(StartAt::Now);
        }
        if let Some((file, pos)) = s.rsplit_once(':') {
            if let Ok(pos) = pos.parse::<u64>() {
                if !file.is_empty() && pos >= 4 {
                    return Ok(StartAt::At(Position::new(file, pos)));
                }
            }
        }
        let gtid_part = |p: &str| {
            let parts: Vec<&str> = p.split('-').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        if !s.is_empty() && s.split(',').all(|p| gtid_part(p.trim())) {
            return Ok(StartAt::MariadbGtid(s.replace(' ', "")));
        }
        Err(format!(
            "`{s}` is not a start position: give `now`, FILE:POS (e.g. mysql-bin.000042:1337) or a MariaDB GTID (e.g. 0-1-4711)"
        ))
    }
}

/// Why the binlog stream stopped for good.
#[derive(Debug, thiserror::Error)]
pub enum BinlogError {
    #[error("binlog {at}: event type {event_type} fails its CRC32 checksum; the binlog is corrupt or was changed in transit")]
    Checksum { at: String, event_type: u8 },
    #[error("binlog {at}: {message}")]
    Corrupt { at: String, message: String },
    #[error("binlog {at}: {message}")]
    Unsupported { at: String, message: String },
    #[error("binlog {at}: {table} was altered while the delta follows it ({message}); schemas must stay frozen during a migration: restart after the change is reflected in map.xml")]
    SchemaChanged {
        at: String,
        table: String,
        message: String,
    },
    #[error("binlog {file}: {message}")]
    File { file: String, message: String },
    #[error("the binlog position {position} is no longer on Magento 1 (binlogs purged, error 1236: {message}); `--source deltalog` loses nothing, since the triggers recorded every change")]
    Purged { position: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_positions() {
        assert_eq!("now".parse::<StartAt>(), Ok(StartAt::Now));
        assert_eq!(
            "mysql-bin.000042:1337".parse::<StartAt>(),
            Ok(StartAt::At(Position::new("mysql-bin.000042", 1337)))
        );
        assert_eq!(
            "0-1-4711, 1-2-3".parse::<StartAt>(),
            Ok(StartAt::MariadbGtid("0-1-4711,1-2-3".into()))
        );
        let err = "mysql-bin.000042".parse::<StartAt>().unwrap_err();
        assert!(err.starts_with("`mysql-bin.000042` is not a start position: give `now`"));
        assert!("x:1".parse::<StartAt>().is_err());
    }

    #[test]
    fn positions_order_by_file_number_then_offset() {
        let p = |f: &str, n| Position::new(f, n);
        assert!(p("mysql-bin.000002", 4) > p("mysql-bin.000001", 999_999));
        assert!(p("mysql-bin.1000000", 4) > p("mysql-bin.999999", 4));
        assert_eq!(
            [p("b.000001", 9), p("b.000001", 4)].into_iter().min(),
            Some(p("b.000001", 4))
        );
    }
}
