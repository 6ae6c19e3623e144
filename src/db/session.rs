use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};

use super::classify;
use crate::config::DatabaseConfig;
use crate::error::{DbErrorKind, Error, Result, Side};

/// Connection options for one side. With `ssl_ca` (and optionally `ssl_cert` + `ssl_key` for a
/// client certificate) in config.xml, every connection — queries and the binlog stream — uses
/// TLS and verifies the server against that CA (and its host name); without them, plain TCP as
/// the DMT does.
pub fn opts(side: Side, db: &DatabaseConfig) -> Result<Opts> {
    let mut builder = OptsBuilder::default()
        .user(Some(db.user.clone()))
        .db_name(Some(db.name.clone()))
        // Without this mysql_async tries the unix socket after TCP and the server logs an
        // access-denied line per connection for accounts bound to 127.0.0.1.
        .prefer_socket(false);
    if !db.password.is_empty() {
        builder = builder.pass(Some(db.password.expose().to_string()));
    }
    if db.ssl_ca.is_some() || db.ssl_cert.is_some() || db.ssl_key.is_some() {
        builder = builder.ssl_opts(Some(tls(side, db)?));
    }
    builder = match db.socket() {
        Some(socket) => builder.socket(Some(socket.to_string())),
        None => builder
            .ip_or_hostname(db.host.clone())
            .tcp_port(db.port.unwrap_or(3306)),
    };
    Ok(builder.into())
}

/// TLS settings from `ssl_ca`, `ssl_cert`, `ssl_key`: each file must exist; a certificate and its
/// key come together.
fn tls(side: Side, db: &DatabaseConfig) -> Result<mysql_async::SslOpts> {
    let readable = |what: &str, path: &std::path::Path| -> Result<()> {
        std::fs::metadata(path).map(|_| ()).map_err(|e| {
            Error::Usage(format!(
                "{side}: {what} {} cannot be read: {e}",
                path.display()
            ))
        })
    };
    let mut ssl = mysql_async::SslOpts::default();
    if let Some(ca) = &db.ssl_ca {
        readable("ssl_ca", ca)?;
        ssl = ssl
            .with_root_certs(vec![ca.clone().into()])
            // Only the CA config.xml names: a managed server's own chain, nothing else.
            .with_disable_built_in_roots(true);
    }
    match (&db.ssl_cert, &db.ssl_key) {
        (Some(cert), Some(key)) => {
            readable("ssl_cert", cert)?;
            readable("ssl_key", key)?;
            ssl = ssl.with_client_identity(Some(mysql_async::ClientIdentity::new(
                cert.clone().into(),
                key.clone().into(),
            )));
        }
        (None, None) => {}
        _ => {
            return Err(Error::Usage(format!(
                "{side}: ssl_cert and ssl_key go together (a client certificate and its key)"
            )))
        }
    }
    Ok(ssl)
}

/// The statements every session runs first. The DMT's stock `SET NAMES utf8;` would mangle
/// 4-byte characters, so `utf8`/`utf8mb3` in a `SET NAMES` becomes utf8mb4 (noted in the log).
/// Both sides run in UTC, since the binlog carries TIMESTAMP values as epoch seconds and both
/// change sources must write identical rows.
pub fn session_statements(side: Side, init_statements: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for statement in init_statements {
        let lower = statement.to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        if words.len() >= 3
            && words[0] == "set"
            && words[1] == "names"
            && matches!(
                words[2].trim_matches(|c| c == '\'' || c == '"'),
                "utf8" | "utf8mb3"
            )
        {
            tracing::debug!(
                "{side}: init statement \"{statement}\" applied as SET NAMES utf8mb4, so 4-byte characters survive"
            );
            continue;
        }
        out.push(statement.clone());
    }
    // Ours come after the user's, so what the tool relies on always holds.
    out.push("SET NAMES utf8mb4".to_string());
    out.push("SET time_zone = '+00:00'".to_string());
    out
}

/// Opens one connection and runs the session set-up.
pub async fn connect(side: Side, db: &DatabaseConfig, init_statements: &[String]) -> Result<Conn> {
    let target = db.describe();
    let wrap = |e: mysql_async::Error, what: &str| {
        let (code, kind) = classify(&e);
        // Connecting failures are "cannot reach", whatever the driver calls them.
        let kind = if what == "connect" && kind != DbErrorKind::Statement {
            DbErrorKind::Access
        } else {
            kind
        };
        Error::Database {
            side,
            target: target.clone(),
            message: format!("{what}: {}", super::error_text(&e)),
            code,
            kind,
        }
    };
    let mut conn = Conn::new(opts(side, db)?)
        .await
        .map_err(|e| wrap(e, "connect"))?;
    for statement in session_statements(side, init_statements) {
        conn.query_drop(&statement)
            .await
            .map_err(|e| wrap(e, &format!("session set-up \"{statement}\"")))?;
    }
    Ok(conn)
}

/// The sql_mode of every M2 write: strict, so a value too long for its M2 column is an error
/// naming table, key and column instead of a silent truncation; `NO_AUTO_VALUE_ON_ZERO`, so
/// store 0 and customer group 0 stay 0.
pub const M2_SQL_MODE: &str =
    "STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

/// A connection pool whose every connection runs the session set-up, then `extra`.
pub fn pool(
    side: Side,
    db: &DatabaseConfig,
    init_statements: &[String],
    extra: &[String],
    max_connections: usize,
) -> Result<mysql_async::Pool> {
    let mut statements = session_statements(side, init_statements);
    statements.extend_from_slice(extra);
    // `setup`, not `init`: a connection given back to the pool is reset (COM_RESET_CONNECTION),
    // which drops every session setting; setup statements run again after each reset.
    // mysql_async runs them last-first, hence the reversal.
    statements.reverse();
    let max = max_connections.max(1);
    // Keep the connections open between batches instead of a handshake per batch.
    let constraints =
        mysql_async::PoolConstraints::new(max, max).expect("min == max is a valid pool constraint");
    let opts = OptsBuilder::from_opts(opts(side, db)?)
        .setup(statements)
        .pool_opts(mysql_async::PoolOpts::default().with_constraints(constraints));
    Ok(mysql_async::Pool::new(opts))
}

/// The M2 session for writes: strict mode and no foreign key checks while rows arrive in
/// table order rather than parent-first.
pub fn m2_write_session() -> Vec<String> {
    vec![
        format!("SET SESSION sql_mode = '{M2_SQL_MODE}'"),
        "SET SESSION foreign_key_checks = 0".to_string(),
        // No gap locks: parallel workers upserting neighbouring keys do not deadlock.
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_set_names_becomes_utf8mb4() {
        let s = session_statements(
            Side::M1,
            &["SET NAMES utf8".into(), "SET sql_mode = ''".into()],
        );
        assert_eq!(
            s,
            [
                "SET sql_mode = ''",
                "SET NAMES utf8mb4",
                "SET time_zone = '+00:00'"
            ]
        );
    }
}
