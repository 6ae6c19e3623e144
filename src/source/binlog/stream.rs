//! The replica connection to Magento 1: asks for the binlog from a position (or a MariaDB
//! GTID), decodes what arrives, and reconnects with backoff from the last committed position
//! when the connection drops.
//!
//! MariaDB glue (mysql_common speaks MySQL's protocol): `@mariadb_slave_capability=4` so the
//! server sends GTID events instead of dummy queries, `@slave_connect_state` for a GTID start,
//! `@master_heartbeat_period` plus a read timeout so a dead connection is noticed.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn, Opts};

use super::decode::{Decoded, Decoder};
use super::schema::SchemaCache;
use super::{BinlogError, Position};
use crate::error::{Error, Result, Side};

/// How the stream starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    Position(Position),
    MariadbGtid(String),
}

#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Our id as a replica: must differ from every server and replica of Magento 1.
    pub server_id: u32,
    /// The server sends a heartbeat this often when idle; twice it without a byte means the
    /// connection is dead.
    pub heartbeat: Duration,
    /// Reconnect attempts after a dropped connection before giving up.
    pub reconnects: u32,
    /// End the stream at the end of the binlog instead of waiting for more (`--once`).
    pub non_blocking: bool,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            server_id: 0,
            heartbeat: Duration::from_secs(2),
            reconnects: 10,
            non_blocking: false,
        }
    }
}

/// The binlog of one Magento 1 database, decoded.
pub struct BinlogReader {
    opts: Opts,
    database: String,
    /// Tables whose rows are decoded (others are skipped unread).
    follow: HashSet<String>,
    options: StreamOptions,
    stream: Option<BinlogStream>,
    decoder: Decoder,
    schema: SchemaCache,
    schema_conn: Option<Conn>,
    start_gtid: Option<String>,
    checksums: bool,
    /// Transactions read since the start.
    pub transactions: u64,
    /// Reconnects after a dropped connection.
    pub reconnected: u64,
    /// When the caller wants an `Idle` if nothing arrives (it has changes buffered).
    deadline: Option<std::time::Instant>,
}

impl std::fmt::Debug for BinlogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogReader")
            .field("database", &self.database)
            .field("committed", self.decoder.committed())
            .finish()
    }
}

fn m1(e: mysql_async::Error, what: &str) -> Error {
    Error::db(Side::M1, e, what)
}

impl BinlogReader {
    /// Connects and asks for the binlog from `from`.
    pub async fn open(
        opts: Opts,
        database: &str,
        follow: HashSet<String>,
        from: From,
        options: StreamOptions,
    ) -> Result<BinlogReader> {
        let (start, start_gtid) = match from {
            From::Position(p) => (p, None),
            From::MariadbGtid(g) => (
                Position {
                    file: String::new(),
                    pos: 4,
                    gtid: g.clone(),
                },
                Some(g),
            ),
        };
        let mut reader = BinlogReader {
            opts,
            database: database.to_string(),
            follow,
            options,
            stream: None,
            decoder: Decoder::new(start, Some(database.to_string())),
            schema: SchemaCache::default(),
            schema_conn: None,
            start_gtid,
            checksums: true,
            transactions: 0,
            reconnected: 0,
            deadline: None,
        };
        reader.connect().await?;
        Ok(reader)
    }

    /// Asks for a `Decoded::Idle` from `next` if no event arrives by `deadline`.
    pub fn idle_at(&mut self, deadline: Option<std::time::Instant>) {
        self.deadline = deadline;
    }

    /// Where the last transaction read ended: resuming there loses nothing read so far.
    pub fn committed(&self) -> &Position {
        self.decoder.committed()
    }

    /// Seconds since the last transaction read was committed on Magento 1 (its event time).
    pub fn lag_seconds(&self) -> f64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match self.decoder.committed_time {
            0 => 0.0,
            t => now.saturating_sub(u64::from(t)) as f64,
        }
    }

    pub fn checksums_verified(&self) -> u64 {
        self.decoder.checksums_verified
    }

    /// Reads the table's columns again (after a DDL).
    pub fn forget_table(&mut self, table: &str) {
        self.schema.forget(&self.database, table);
    }

    async fn connect(&mut self) -> Result<()> {
        let mut conn = Conn::new(self.opts.clone())
            .await
            .map_err(|e| m1(e, "connecting for the binlog"))?;
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| m1(e, "reading the server version"))?;
        let mariadb = version.unwrap_or_default().contains("MariaDB");
        let checksum: Option<String> = conn
            .query_first("SELECT @@GLOBAL.binlog_checksum")
            .await
            .map_err(|e| m1(e, "reading @@binlog_checksum"))?;
        self.checksums = checksum.is_some_and(|c| !c.eq_ignore_ascii_case("NONE"));
        let heartbeat_ns = self
            .options
            .heartbeat
            .as_nanos()
            .min(u128::from(u32::MAX) * 1_000_000);
        let mut setup = vec![format!("SET @master_heartbeat_period = {heartbeat_ns}")];
        if mariadb {
            // GTID events instead of dummy queries; annotate events are not asked for.
            setup.push("SET @mariadb_slave_capability = 4".into());
        }
        let committed = self.decoder.committed().clone();
        let gtid_start = committed.file.is_empty();
        if gtid_start {
            let gtid = self.start_gtid.clone().unwrap_or_default();
            if !mariadb {
                return Err(Error::Usage(format!(
                    "a GTID start position ({gtid}) is MariaDB's form; on MySQL give FILE:POS"
                )));
            }
            conn.exec_drop("SET @slave_connect_state = ?", (gtid,))
                .await
                .map_err(|e| m1(e, "setting @slave_connect_state"))?;
            setup.push("SET @slave_gtid_strict_mode = 0".into());
            setup.push("SET @slave_gtid_ignore_duplicates = 0".into());
        }
        for statement in &setup {
            conn.query_drop(statement)
                .await
                .map_err(|e| m1(e, &format!("binlog session set-up \"{statement}\"")))?;
        }
        let file = if gtid_start {
            Vec::new()
        } else {
            committed.file.clone().into_bytes()
        };
        let pos = if gtid_start { 4 } else { committed.pos };
        let mut request = BinlogStreamRequest::new(self.options.server_id)
            .with_filename(&file)
            .with_pos(pos);
        if self.options.non_blocking {
            request = request.with_non_blocking();
        }
        let stream = conn
            .get_binlog_stream(request)
            .await
            .map_err(|e| self.stream_error(e))?;
        self.decoder = Decoder::new(committed, Some(self.database.clone()))
            .with_server_checksums(self.checksums);
        self.stream = Some(stream);
        Ok(())
    }

    fn stream_error(&self, e: mysql_async::Error) -> Error {
        if let mysql_async::Error::Server(s) = &e {
            if s.code == 1236 {
                return Error::Binlog(BinlogError::Purged {
                    position: self.decoder.committed().to_string(),
                    message: s.message.clone(),
                });
            }
        }
        if let mysql_async::Error::Server(s) = &e {
            // MariaDB answers a dump request without the privilege with 1045, MySQL with 1227.
            if s.code == 1045 || s.code == 1227 {
                return Error::Database {
                    side: Side::M1,
                    target: String::new(),
                    message: format!(
                        "reading the binlog needs the REPLICATION SLAVE privilege: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO this user (the server said: {})",
                        s.message
                    ),
                    code: Some(s.code),
                    kind: crate::error::DbErrorKind::Access,
                };
            }
        }
        m1(e, "reading the binlog")
    }

    /// The next decoded events; `None` at the end of the binlog in non-blocking mode. A dropped
    /// connection is reopened from the last committed position (rows of a transaction cut in
    /// half come again, which state-based apply makes harmless).
    pub async fn next(&mut self) -> Result<Option<Vec<Decoded>>> {
        let mut attempt = 0;
        loop {
            match self.next_once().await {
                Ok(next) => return Ok(next),
                Err(e) if e.is_transient() && attempt < self.options.reconnects => {
                    attempt += 1;
                    self.reconnected += 1;
                    let wait = Duration::from_millis(250u64 << attempt.min(5));
                    tracing::warn!(
                        "{e}; reconnecting to the binlog at {} in {:.1} s (attempt {attempt} of {})",
                        self.decoder.committed(),
                        wait.as_secs_f64(),
                        self.options.reconnects
                    );
                    self.stream = None;
                    tokio::time::sleep(wait).await;
                    if let Err(e) = self.connect().await {
                        if !e.is_transient()
                            && !matches!(
                                &e,
                                Error::Database {
                                    kind: crate::error::DbErrorKind::Access,
                                    ..
                                }
                            )
                        {
                            return Err(e);
                        }
                        tracing::warn!("{e}");
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn next_once(&mut self) -> Result<Option<Vec<Decoded>>> {
        if self.stream.is_none() {
            self.connect().await?;
        }
        let idle = self.options.heartbeat * 2 + Duration::from_secs(1);
        loop {
            let Some(stream) = self.stream.as_mut() else {
                return Err(transient("the binlog connection is closed"));
            };
            let next = match self.deadline {
                // Something is buffered: wait no longer than the caller's deadline for more
                // (a pending `next` dropped by the timeout loses nothing: the stream keeps its
                // state).
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline.into(), stream.next()).await {
                        Ok(next) => Ok(next),
                        Err(_) => {
                            self.deadline = None;
                            return Ok(Some(vec![Decoded::Idle]));
                        }
                    }
                }
                None => tokio::time::timeout(idle, stream.next()).await,
            };
            let event = match next {
                Err(_) => {
                    return Err(transient(&format!(
                        "no binlog event nor heartbeat for {:.0} s",
                        idle.as_secs_f64()
                    )))
                }
                Ok(None) => {
                    self.stream = None;
                    if self.options.non_blocking {
                        return Ok(None);
                    }
                    return Err(transient("the server ended the binlog stream"));
                }
                Ok(Some(Err(e))) => {
                    self.stream = None;
                    return Err(self.stream_error(e));
                }
                Ok(Some(Ok(event))) => event,
            };
            // A table map of a followed table: make sure its columns are known first.
            if event.header().event_type_raw() == 19 {
                if let Ok(Some(mysql_async::binlog::events::EventData::TableMapEvent(map))) =
                    event.read_data()
                {
                    let (db, table) = (map.database_name(), map.table_name());
                    if db == self.database
                        && self.follow.contains(table.as_ref())
                        && !self.schema.is_loaded(&db, &table)
                    {
                        let (db, table) = (db.into_owned(), table.into_owned());
                        self.load_schema(&db, &table).await?;
                    }
                }
            }
            let Some(stream) = self.stream.as_ref() else {
                return Err(transient("the binlog connection is closed"));
            };
            let decoded = self
                .decoder
                .handle(&event, |id| stream.get_tme(id), &self.schema)?;
            if decoded.is_empty() {
                continue;
            }
            self.transactions += decoded
                .iter()
                .filter(|d| matches!(d, Decoded::Commit(_)))
                .count() as u64;
            return Ok(Some(decoded));
        }
    }

    async fn load_schema(&mut self, database: &str, table: &str) -> Result<()> {
        if self.schema_conn.is_none() {
            self.schema_conn = Some(
                Conn::new(self.opts.clone())
                    .await
                    .map_err(|e| m1(e, "connecting for information_schema"))?,
            );
        }
        let Some(conn) = self.schema_conn.as_mut() else {
            return Ok(());
        };
        match self.schema.load(conn, database, table).await {
            Err(e) => {
                self.schema_conn = None;
                return Err(m1(e, &format!("reading the columns of {table}")));
            }
            Ok(None) => {
                tracing::warn!("binlog: {database}.{table} has no columns in information_schema")
            }
            Ok(Some(info)) => {
                tracing::debug!("binlog: {database}.{table}: {} columns", info.columns.len())
            }
        }
        Ok(())
    }

    pub async fn close(mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = stream.close().await;
        }
        if let Some(conn) = self.schema_conn.take() {
            let _ = conn.disconnect().await;
        }
    }
}

fn transient(message: &str) -> Error {
    Error::Database {
        side: Side::M1,
        target: String::new(),
        message: message.to_string(),
        code: None,
        kind: crate::error::DbErrorKind::Transient,
    }
}

/// The end of Magento 1's binlog now: `SHOW MASTER STATUS` (BINLOG MONITOR / REPLICATION
/// CLIENT), with `@@gtid_binlog_pos` on MariaDB.
pub async fn current_position(conn: &mut Conn) -> Result<Position> {
    let row: Option<mysql_async::Row> = conn
        .query_first("SHOW MASTER STATUS")
        .await
        .map_err(|e| m1(e, "reading the binlog position (SHOW MASTER STATUS)"))?;
    let Some(row) = row else {
        return Err(Error::Usage(
            "binary logging is off on Magento 1 (SHOW MASTER STATUS is empty): the binlog source needs log_bin = ON, binlog_format = ROW; or use --source deltalog".into(),
        ));
    };
    let file: String = row.get(0).unwrap_or_default();
    let pos: u64 = row.get(1).unwrap_or_default();
    let gtid: Option<String> = conn
        .query_first("SELECT @@GLOBAL.gtid_binlog_pos")
        .await
        .ok()
        .flatten();
    Ok(Position {
        file,
        pos,
        gtid: gtid.unwrap_or_default(),
    })
}
