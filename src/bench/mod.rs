//! `mage-migrate bench`: throughput measured on a sandbox database, several runs, with their
//! spread, so a figure in the README names its machine, runs and variation.

use std::io::Write;
use std::time::Instant;

use crate::error::{Error, Result, Side};
use crate::migrate_data::{self, DataOptions};
use crate::sandbox::{self, Server, ServerOptions};
use crate::setup::Setup;
use crate::storefront::{seed_store, StoreProfile};

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub rows: u64,
    pub seconds: f64,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.seconds.max(1e-9)
    }
}

fn sandbox_error(e: impl std::fmt::Display) -> Error {
    Error::Usage(format!("bench sandbox: {e}"))
}

fn db_error(e: mysql_async::Error) -> Error {
    let (code, kind) = crate::db::classify(&e);
    Error::Database {
        side: Side::M1,
        target: "sandbox".into(),
        message: e.to_string(),
        code,
        kind,
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or("? GiB".to_string(), |kib| {
            format!("{:.0} GiB", kib as f64 / 1_048_576.0)
        });
    format!("{cores} cores, {memory}")
}

/// migrate:data (Map step) on a generated store: `runs` runs, each on fresh databases with the
/// same store, all on one private MariaDB on this machine.
pub async fn copy(runs: u32, profile: StoreProfile) -> Result<Vec<Run>> {
    let dir = std::env::temp_dir().join(format!("mage-migrate-bench-{}", std::process::id()));
    let server = Server::start(&dir, &ServerOptions::default()).map_err(sandbox_error)?;
    let result = async {
        let config = sandbox::write_dmt_tree(&dir.join("dmt"), &server).map_err(sandbox_error)?;
        let setup = Setup::load(&config)?;
        let options = DataOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
            ..DataOptions::default()
        };
        let mut measured = Vec::new();
        for run in 1..=runs.max(1) {
            sandbox::create_store_databases(&server)
                .await
                .map_err(db_error)?;
            let mut m1 = crate::db::connect(Side::M1, &server.database("magento1"), &[]).await?;
            seed_store(&mut m1, &profile).await.map_err(db_error)?;
            let _ = m1.disconnect().await;
            let started = Instant::now();
            let report = migrate_data::run(&setup, &options).await?;
            let r = Run {
                rows: report.rows_copied,
                seconds: started.elapsed().as_secs_f64(),
            };
            let _ = writeln!(
                std::io::stdout(),
                "run {run}: {} rows in {:.2} s = {:.0} rows/s",
                r.rows,
                r.seconds,
                r.rate()
            );
            measured.push(r);
        }
        Ok(measured)
    }
    .await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Prints the median and spread of the runs, with the machine.
pub fn summary(what: &str, runs: &[Run]) -> String {
    let mut rates: Vec<f64> = runs.iter().map(Run::rate).collect();
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    format!(
        "{what}: median {median:.0} rows/s over {} runs (min {:.0}, max {:.0}); machine: {}; MariaDB sandbox on the same machine",
        rates.len(),
        rates[0],
        rates[rates.len() - 1],
        machine()
    )
}
