//! `--metrics-addr 127.0.0.1:PORT`: a Prometheus text endpoint (`GET /metrics`) for an operator
//! watching migrate:delta: rows applied per table, batches, retries, backlog per table, lag and
//! the binlog position. No dependency: a few lines of HTTP over tokio's listener.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::error::{Error, Result};

/// What the endpoint shows; updated by the delta run.
#[derive(Debug, Default)]
pub struct Metrics {
    /// M1 table → (upserted, deleted) since the start.
    applied: Mutex<BTreeMap<String, (u64, u64)>>,
    /// M1 table → keys pending in its deltalog at the end of the last cycle.
    backlog: Mutex<BTreeMap<String, u64>>,
    pub batches: AtomicU64,
    pub retries: AtomicU64,
    pub cycles: AtomicU64,
    /// Seconds between the last binlog transaction applied and now (0 when caught up).
    lag_millis: AtomicU64,
    /// The binlog position read up to: (file, offset).
    position: Mutex<Option<(String, u64)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A label value, escaped as the text format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn applied(&self, table: &str, upserted: u64, deleted: u64) {
        let mut map = lock(&self.applied);
        let entry = map.entry(table.to_string()).or_default();
        entry.0 += upserted;
        entry.1 += deleted;
    }

    pub fn backlog(&self, table: &str, keys: u64) {
        lock(&self.backlog).insert(table.to_string(), keys);
    }

    pub fn lag(&self, seconds: f64) {
        self.lag_millis
            .store((seconds.max(0.0) * 1000.0) as u64, Ordering::Relaxed);
    }

    pub fn position(&self, file: &str, offset: u64) {
        *lock(&self.position) = Some((file.to_string(), offset));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP mage_migrate_rows_upserted_total Rows written to Magento 2, by Magento 1 table.\n# TYPE mage_migrate_rows_upserted_total counter");
        let applied = lock(&self.applied).clone();
        for (table, (upserted, _)) in &applied {
            let _ = writeln!(
                out,
                "mage_migrate_rows_upserted_total{{table=\"{}\"}} {upserted}",
                label(table)
            );
        }
        let _ = writeln!(out, "# HELP mage_migrate_rows_deleted_total Rows deleted from Magento 2, by Magento 1 table.\n# TYPE mage_migrate_rows_deleted_total counter");
        for (table, (_, deleted)) in &applied {
            let _ = writeln!(
                out,
                "mage_migrate_rows_deleted_total{{table=\"{}\"}} {deleted}",
                label(table)
            );
        }
        let _ = writeln!(out, "# HELP mage_migrate_backlog_keys Keys pending in the deltalog, by Magento 1 table.\n# TYPE mage_migrate_backlog_keys gauge");
        for (table, keys) in lock(&self.backlog).iter() {
            let _ = writeln!(
                out,
                "mage_migrate_backlog_keys{{table=\"{}\"}} {keys}",
                label(table)
            );
        }
        for (name, help, value) in [
            (
                "mage_migrate_batches_total",
                "Magento 2 transactions committed.",
                self.batches.load(Ordering::Relaxed),
            ),
            (
                "mage_migrate_retries_total",
                "Batches retried after a deadlock, lock wait or lost connection.",
                self.retries.load(Ordering::Relaxed),
            ),
            (
                "mage_migrate_cycles_total",
                "Cycles that applied changes.",
                self.cycles.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP mage_migrate_lag_seconds Age of the last binlog transaction applied (0 when caught up).\n# TYPE mage_migrate_lag_seconds gauge\nmage_migrate_lag_seconds {:.3}",
            self.lag_millis.load(Ordering::Relaxed) as f64 / 1000.0
        );
        if let Some((file, offset)) = lock(&self.position).clone() {
            let _ = writeln!(
                out,
                "# HELP mage_migrate_binlog_position Offset in the binlog file read up to.\n# TYPE mage_migrate_binlog_position gauge\nmage_migrate_binlog_position{{file=\"{}\"}} {offset}",
                label(&file)
            );
        }
        out
    }
}

/// Serves `GET /metrics` on `addr` until the process ends. Binds before returning, so a taken
/// port is an error at start, not a silent absence.
pub async fn serve(addr: &str, metrics: Arc<Metrics>) -> Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Usage(format!("--metrics-addr {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("--metrics-addr {addr}: {e}")))?;
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                // The request line and headers; a scraper sends nothing else.
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let (status, body) =
                    if head.starts_with("GET /metrics ") || head.starts_with("GET / ") {
                        ("200 OK", metrics.render())
                    } else {
                        ("404 Not Found", "try /metrics\n".to_string())
                    };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let m = Metrics::default();
        m.applied("sales_flat_order", 3, 1);
        m.backlog("sales_flat_order", 7);
        m.position("mysql-bin.000002", 1234);
        m.lag(0.25);
        let text = m.render();
        assert!(
            text.contains("mage_migrate_rows_upserted_total{table=\"sales_flat_order\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("mage_migrate_rows_deleted_total{table=\"sales_flat_order\"} 1\n"));
        assert!(text.contains("mage_migrate_backlog_keys{table=\"sales_flat_order\"} 7\n"));
        assert!(text.contains("mage_migrate_binlog_position{file=\"mysql-bin.000002\"} 1234\n"));
        assert!(text.contains("mage_migrate_lag_seconds 0.250\n"));
        assert_eq!(label("a\"b"), "a\\\"b");
    }
}
