//! MySQL/MariaDB connections: options from config.xml, session set-up, identifier quoting.

pub mod schema;
mod session;

pub use session::{connect, m2_write_session, opts, pool, session_statements, M2_SQL_MODE};

/// Quotes an identifier with backticks, doubling any backtick inside it.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Classifies a driver error: the server codes that are worth a retry, those that mean we cannot
/// get in, and the rest.
pub fn classify(error: &mysql_async::Error) -> (Option<u16>, crate::error::DbErrorKind) {
    use crate::error::DbErrorKind::*;
    match error {
        mysql_async::Error::Server(e) => {
            let kind = match e.code {
                1205 | 1213 => Transient,
                // 1044/1045 access denied, 1049 unknown database, 1142/1143 table/column
                // privilege, 1227 missing global privilege, 1419 trigger creation with binlog.
                1044 | 1045 | 1049 | 1142 | 1143 | 1227 | 1419 => Access,
                // 1927 connection killed, 1053 server shutdown in progress.
                1053 | 1927 => Transient,
                _ => Statement,
            };
            (Some(e.code), kind)
        }
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => (None, Transient),
        _ => (None, Statement),
    }
}

/// A driver error as one plain line: the server's `ERROR 1045 (28000): Access denied …` or the
/// system's `failed to lookup address information: …`, without the driver's nested
/// `Input/output error: Input/output error: ` and `Server error: `…'` wrappers.
pub fn error_text(error: &mysql_async::Error) -> String {
    match error {
        mysql_async::Error::Server(e) => e.to_string(),
        mysql_async::Error::Io(mysql_async::IoError::Io(e)) => e.to_string(),
        mysql_async::Error::Io(mysql_async::IoError::Tls(e)) => format!("TLS: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_backticks() {
        assert_eq!(quote_ident("sales_order"), "`sales_order`");
        assert_eq!(quote_ident("we`ird"), "`we``ird`");
    }
}
