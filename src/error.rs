//! The library's error type: every failure is either transient (worth a retry) or definite
//! (report it and stop), and maps to one of the exit codes in the README.

use crate::config::ConfigError;

/// Which database an error concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Magento 1, the source.
    M1,
    /// Magento 2, the destination.
    M2,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::M1 => "M1 (source)",
            Side::M2 => "M2 (destination)",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file is missing, malformed or contradicts itself.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// A command-line mistake the argument parser could not catch.
    #[error("{0}")]
    Usage(String),

    /// A command or option that a later version will build. Says so rather than pretending.
    #[error("{what} is not available yet in mage-migrate {version}", version = env!("CARGO_PKG_VERSION"))]
    NotAvailable { what: String },

    /// A database could not be reached or refused us (exit 3), or a statement failed.
    #[error("{side} {target}: {message}")]
    Database {
        side: Side,
        /// `user@host:port/name`, never the password.
        target: String,
        message: String,
        /// The server's error code, when the server answered.
        code: Option<u16>,
        kind: DbErrorKind,
    },

    /// The integrity check found tables or fields map.xml does not account for.
    #[error("integrity check failed; map.xml does not account for:\n  {}", .0.join("\n  "))]
    Integrity(Vec<String>),

    /// The binlog stream cannot go on: a corrupt or unknown event, a checksum mismatch, a
    /// changed table, a purged position.
    #[error(transparent)]
    Binlog(#[from] crate::source::binlog::BinlogError),

    /// A precheck failed before a run (exit 1): one line per failure, each with its fix.
    #[error("prechecks failed (mage-migrate precheck shows them all):\n  {}", .0.join("\n  "))]
    Precheck(Vec<String>),

    /// A row that cannot be written as it is: names table, key and column.
    #[error("{table} {key}: {message}")]
    Data {
        table: String,
        key: String,
        message: String,
    },
}

/// What kind of database failure, which decides retry and exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// Deadlock (1213), lock wait timeout (1205), lost connection: retry.
    Transient,
    /// Cannot connect, bad login, missing privilege: exit 3.
    Access,
    /// Any other failed statement: a definite error.
    Statement,
}

impl Error {
    /// Whether retrying the same work may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Database {
                kind: DbErrorKind::Transient,
                ..
            }
        )
    }

    /// The process exit code for this error (see the README's table).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage(_) | Error::NotAvailable { .. } => 2,
            Error::Database {
                kind: DbErrorKind::Access | DbErrorKind::Transient,
                ..
            } => 3,
            Error::Integrity(_) | Error::Precheck(_) => 1,
            Error::Database { .. } | Error::Data { .. } | Error::Binlog(_) => 4,
        }
    }

    /// Names the database in an error raised where only the side was known.
    pub fn with_target(mut self, described: &str) -> Self {
        if let Error::Database { target, .. } = &mut self {
            if target.is_empty() {
                *target = described.to_string();
            }
        }
        self
    }

    /// A failed statement or connection on one side, classified (retry, access, definite).
    pub fn db(side: Side, e: mysql_async::Error, what: &str) -> Self {
        let (code, kind) = crate::db::classify(&e);
        Error::Database {
            side,
            target: String::new(),
            message: format!("{what}: {}", crate::db::error_text(&e)),
            code,
            kind,
        }
    }

    pub fn not_available(what: impl Into<String>) -> Self {
        Error::NotAvailable { what: what.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
