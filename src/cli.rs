//! Command-line definitions. Commands carry the names Magento engineers know from the DMT.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mage-migrate",
    version,
    about = "Moves a live Magento 1 store's data into Magento 2 and keeps it caught up until cutover.",
    long_about = "Moves a live Magento 1 store's data into Magento 2 and keeps it caught up until \
cutover. A drop-in for the Data Migration Tool's delta mode: it reads the DMT's own config.xml, \
map.xml and deltalog.xml, and uses the same m2_cl_* deltalog tables and triggers in Magento 1.\n\n\
Exit codes: 0 done (also after CTRL+C), 1 problems found (verify differences, skipped keys, failed \
precheck), 2 bad usage or configuration, 3 a database cannot be reached or lacks a privilege, \
4 a data error stopped the run, 130 stopped at once by a second CTRL+C."
)]
pub struct Cli {
    /// More output: -v for debug, -vv for trace.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Log lines as text, or as JSON objects (one per line) for a log pipeline.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// The DMT's config.xml (for example `etc/opensource-to-opensource/1.9.4.5/config.xml`).
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Path to the DMT config.xml.
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChangeSource {
    /// The m2_cl_* tables filled by the triggers, as the DMT reads them.
    Deltalog,
    /// The Magento 1 binary log, cross-checked against the deltalog.
    Binlog,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy the bulk of the data from Magento 1 to Magento 2, installing the deltalog first.
    ///
    /// Runs the built-in steps of config.xml's <steps mode="data">: integrity check, deltalog
    /// installation, then the copy of every mapped table through map.xml. Resumable; -r starts
    /// over, as the DMT's does.
    #[command(name = "migrate:data")]
    MigrateData {
        #[command(flatten)]
        config: ConfigArg,
        /// Start from the beginning: forget progress and empty the deltalog.
        #[arg(short, long)]
        reset: bool,
        /// Leave a step to the DMT (repeatable); names the step's title in config.xml.
        #[arg(long = "skip-step", value_name = "TITLE")]
        skip_step: Vec<String>,
        /// Tables copied at the same time.
        #[arg(long, default_value_t = 4, value_name = "N")]
        parallel: usize,
        /// Read at most this many rows per second from Magento 1 (all tables together), so a
        /// live store is not slowed down. Unlimited when not given.
        #[arg(long, value_name = "ROWS")]
        max_rows_per_second: Option<u64>,
    },

    /// Keep Magento 2 caught up with every change made in Magento 1, until CTRL+C.
    ///
    /// Reads the changes the triggers recorded in the m2_cl_* tables (or, with --source=binlog,
    /// the Magento 1 binlog) and applies them to Magento 2 through map.xml and the delta steps
    /// of config.xml. A first CTRL+C stops gracefully; nothing acknowledged is ever unwritten.
    #[command(name = "migrate:delta")]
    MigrateDelta {
        #[command(flatten)]
        config: ConfigArg,
        /// Forget the delta state: every row still in the deltalog becomes pending again, so
        /// everything recorded since the last purge is applied once more (harmless: rows are
        /// written as M1 has them now). It cannot bring back changes already purged.
        #[arg(short, long)]
        reset: bool,
        /// Where changes are read from.
        #[arg(long, value_enum, default_value_t = ChangeSource::Deltalog)]
        source: ChangeSource,
        /// Binlog source: where to start when no checkpoint says so. `now` (after a bulk copy
        /// done by the DMT: what the deltalog holds from before is migrated through it),
        /// FILE:POS (e.g. mysql-bin.000042:1337) or a MariaDB GTID (0-1-4711). Default: the
        /// worker checkpoints, else the position migrate:data recorded.
        #[arg(long, value_name = "now|FILE:POS|GTID")]
        start_position: Option<crate::source::binlog::StartAt>,
        /// Binlog source: our server id as a replica; must differ from every server and
        /// replica of Magento 1 (default: derived from the M1 host, port and database).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        server_id: Option<u32>,
        /// Apply what is pending, then exit (for the final catch-up of a cutover). With the
        /// binlog: up to the end of the binlog when it starts, then the deltalog rows left.
        #[arg(long)]
        once: bool,
        /// Leave a delta step to the DMT (repeatable); names the step's title in config.xml.
        #[arg(long = "skip-step", value_name = "TITLE")]
        skip_step: Vec<String>,
        /// Parallel workers writing to Magento 2 (default: twice the cores, 2 to 16).
        #[arg(long, value_name = "N")]
        workers: Option<usize>,
        /// Changed keys per Magento 2 transaction, at most.
        #[arg(long, default_value_t = 5000, value_name = "N")]
        batch_rows: usize,
        /// Claimed pages each worker's queue holds before claiming waits (memory stays at most
        /// workers × capacity × page keys, whatever the backlog).
        #[arg(long, default_value_t = 8, value_name = "N")]
        channel_capacity: usize,
        /// Milliseconds to wait after a cycle that found nothing (the DMT waits 5 s).
        #[arg(long, default_value_t = 500, value_name = "MS")]
        poll_interval_ms: u64,
        /// Set aside a key that fails with a definite error (a value too long for Magento 2, a
        /// unique clash with a live row, …) in the `mage_migrate_quarantine` table of Magento 2,
        /// acknowledge it and go on; exit 1 at the end. Without it such an error stops the run.
        #[arg(long)]
        skip_errors: bool,
        /// Append a JSON summary of every cycle that did work to this file (one object a line).
        #[arg(long, value_name = "PATH")]
        report_json: Option<std::path::PathBuf>,
        /// Serve Prometheus metrics (rows applied per table, batches, retries, backlog, lag,
        /// binlog position) at http://ADDR/metrics, e.g. 127.0.0.1:9187.
        #[arg(long, value_name = "ADDR")]
        metrics_addr: Option<String>,
    },

    /// Install, inspect or remove the m2_cl_* deltalog tables and triggers in Magento 1.
    #[command(subcommand)]
    Deltalog(DeltalogCommand),

    /// Check both databases before a run: reachability, privileges, binlog settings.
    ///
    /// One line per check (`ok`, `WARN` or `FAIL`); each failure says how to fix it. Exits 1
    /// when a check failed. With --source=deltalog: both databases reachable, and the triggers
    /// can be created (SUPER or log_bin_trust_function_creators with binary logging on). With
    /// --source=binlog also: log_bin, binlog_format=ROW, binlog_row_image=FULL,
    /// log_bin_compress off, REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR), the start
    /// position migrate:data recorded still on the server, and a server id of its own.
    Precheck {
        #[command(flatten)]
        config: ConfigArg,
        /// The change source to check for.
        #[arg(long, value_enum, default_value_t = ChangeSource::Deltalog)]
        source: ChangeSource,
        /// The server id the binlog reader registers with on Magento 1 (default: derived from
        /// M1's host, port and database, in 0x4D4D0000–0x4D4DFFFF).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        server_id: Option<u32>,
    },

    /// At cutover, with the store frozen: GO or NO-GO.
    ///
    /// Checks that Magento 1 has stopped changing (its binlog position, else its deltalog, for
    /// --quiet-seconds), runs the last catch-up (migrate:delta --once), runs verify, and prints
    /// GO or NO-GO with the reasons, then the steps left to the operator. Exit 0 on GO, 1 on
    /// NO-GO.
    Cutover {
        #[command(flatten)]
        config: ConfigArg,
        /// Where the last catch-up reads changes from.
        #[arg(long, value_enum, default_value_t = ChangeSource::Deltalog)]
        source: ChangeSource,
        /// Seconds Magento 1 must stay unchanged.
        #[arg(long, default_value_t = 5, value_name = "S")]
        quiet_seconds: u64,
        /// Leave a delta step to the DMT (repeatable).
        #[arg(long = "skip-step", value_name = "TITLE")]
        skip_step: Vec<String>,
    },

    /// After cutover: drop mage-migrate's own state tables (mage_migrate_*) from Magento 2.
    ///
    /// Copy progress, the recorded binlog position, worker checkpoints, quarantined keys and
    /// pending derivations. Run `deltalog remove` first for the triggers and m2_cl_* tables in
    /// Magento 1. Magento's own tables are never touched.
    Cleanup(ConfigArg),

    /// Compare Magento 2 with Magento 1 through the map, table by table, in chunks.
    ///
    /// Reads M1 in primary-key chunks, transforms each row through map.xml, and compares a
    /// checksum of the chunk with one of the same key range in M2; only a chunk that differs
    /// is compared row by row. A differing key is read again after --recheck-after-ms (so a
    /// change migrate:delta has not applied yet is not reported). Read-only on both sides.
    /// Exits 1 when tables differ, naming the keys missing in M2, extra in M2 and different.
    Verify {
        #[command(flatten)]
        config: ConfigArg,
        /// Only these tables (M1 or M2 names, comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "T1,T2")]
        tables: Vec<String>,
        /// Write the result as one JSON object to this file (keys capped at 1,000 per table).
        #[arg(long, value_name = "PATH")]
        report_json: Option<PathBuf>,
        /// Rows per chunk, fixed (default: adapted so a chunk takes about --chunk-time-ms).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        chunk_rows: Option<u64>,
        /// Target time per chunk when the chunk size adapts (100 to 50,000 rows).
        #[arg(long, default_value_t = 500, value_name = "MS")]
        chunk_time_ms: u64,
        /// Read at most this many rows per second from Magento 1 (besides spending at most
        /// about half of the time reading it).
        #[arg(long, value_name = "ROWS")]
        max_rows_per_second: Option<u64>,
        /// Milliseconds to wait before a differing key is read again on both sides.
        #[arg(long, default_value_t = 2000, value_name = "MS")]
        recheck_after_ms: u64,
    },

    /// Measure throughput on a private sandbox database and print rows per second.
    ///
    /// `bench copy` times migrate:data's copy of a generated store. `bench delta` builds a
    /// backlog of changed keys with a live storefront, then times from the same state (a)
    /// migrate:delta --once, (b) a DMT-loop emulation and (c) a server-side INSERT…SELECT
    /// ceiling. Several runs each, with median and spread.
    Bench {
        /// What to measure.
        #[arg(value_enum, default_value_t = BenchSubject::Copy)]
        subject: BenchSubject,
        /// How many runs.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        /// Store size: `tiny` (100 orders) or `small` (2,000 orders, ~115,000 rows).
        #[arg(long, value_enum, default_value_t = BenchProfile::Small)]
        profile: BenchProfile,
        /// `bench delta`: changed keys to build up in the deltalog before the catch-up.
        #[arg(long, default_value_t = 200_000, value_name = "KEYS")]
        backlog: u64,
    },

    /// Run a whole migration on an embedded sandbox database: a live store, migrate:data,
    /// migrate:delta and the cutover catch-up.
    Demo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchSubject {
    /// migrate:data's bulk copy.
    Copy,
    /// migrate:delta's catch-up of a deltalog backlog.
    Delta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchProfile {
    Tiny,
    Small,
}

#[derive(Debug, Subcommand)]
pub enum DeltalogCommand {
    /// Create the m2_cl_* tables and AFTER triggers for every table in deltalog.xml.
    ///
    /// Idempotent: a second install changes nothing and keeps pending rows. Triggers installed
    /// by the DMT are upgraded; other modules' triggers are left alone.
    Install {
        #[command(flatten)]
        config: ConfigArg,
        /// Print the DDL for a DBA instead of running it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Per table: installed or not, trigger state, pending and in-flight rows.
    Status(ConfigArg),
    /// Drop the m2_cl_* tables and our triggers; other triggers survive intact.
    Remove(ConfigArg),
}
