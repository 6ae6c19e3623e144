//! `bench delta`'s lag part: the change-to-M2 lag of each source under a steady storefront load.
//!
//! While a paced storefront writes to M1 and `migrate:delta` follows (not `--once`), a marker
//! writer updates one of 50 order-history rows every 100 ms (`comment = 'lag:<n>'`) and notes
//! when its COMMIT returned; a poller reads the 50 rows in M2 every 2 ms and notes when each
//! marker shows. Lag = shown − committed, per marker; a marker overwritten before it showed
//! (after 5 s) counts as a miss.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use crate::error::{Error, Result, Side};
use crate::migrate_delta::{self, DeltaOptions, Stop};
use crate::setup::Setup;

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct LagRun {
    /// Marker lags in seconds, sorted.
    pub lags: Vec<f64>,
    pub missed: u64,
    /// Storefront actions per second achieved during the run.
    pub actions_per_second: f64,
}

impl LagRun {
    pub fn percentile(&self, p: f64) -> f64 {
        if self.lags.is_empty() {
            return f64::NAN;
        }
        let at = ((self.lags.len() as f64 - 1.0) * p).round() as usize;
        self.lags[at.min(self.lags.len() - 1)]
    }
}

const MARKERS: usize = 50;

/// Runs one lag measurement on databases already migrated, for `seconds`.
pub async fn measure(
    setup: &Setup,
    options: DeltaOptions,
    actions_per_second: f64,
    seed: u64,
    seconds: u64,
) -> Result<LagRun> {
    let m1e = |e| Error::db(Side::M1, e, "lag bench");
    let m2e = |e| Error::db(Side::M2, e, "lag bench");
    let mut m1 = crate::db::connect(Side::M1, &setup.config.source, &[]).await?;
    let rows: Vec<u64> = m1
        .query(format!(
            "SELECT entity_id FROM sales_flat_order_status_history ORDER BY entity_id LIMIT {MARKERS}"
        ))
        .await
        .map_err(m1e)?;
    if rows.len() < MARKERS {
        return Err(Error::Usage(
            "lag bench: the store has too few order history rows".into(),
        ));
    }
    let stop = Arc::new(Stop::default());
    let follower = {
        let (setup, stop) = (setup.clone(), stop.clone());
        tokio::spawn(async move { migrate_delta::run(&setup, &options, stop, |_| {}).await })
    };
    let until = Instant::now() + Duration::from_secs(seconds);
    // The paced storefront.
    let load = {
        let db = setup.config.source.clone();
        tokio::spawn(async move {
            let mut conn = crate::db::connect(Side::M1, &db, &[]).await?;
            let mut workload = crate::storefront::Workload::new(seed);
            workload.load_state(&mut conn).await.map_err(m1e)?;
            let started = Instant::now();
            let mut done = 0u64;
            while Instant::now() < until {
                let due = (started.elapsed().as_secs_f64() * actions_per_second) as u64;
                if done < due {
                    let n = (due - done).min(20);
                    workload.run(&mut conn, n).await.map_err(m1e)?;
                    done += n;
                } else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            Ok::<f64, Error>(done as f64 / started.elapsed().as_secs_f64())
        })
    };
    // The poller, on M2.
    let committed: Arc<std::sync::Mutex<HashMap<u64, Instant>>> = Arc::default();
    let poller = {
        let db = setup.config.destination.clone();
        let committed = committed.clone();
        let ids = rows.clone();
        tokio::spawn(async move {
            let mut conn = crate::db::connect(Side::M2, &db, &[]).await?;
            let list = ids
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "SELECT comment FROM sales_order_status_history WHERE entity_id IN ({list})"
            );
            let mut seen: HashMap<u64, f64> = HashMap::new();
            let end = until + Duration::from_secs(6);
            while Instant::now() < end {
                let comments: Vec<Option<String>> = conn.query(&sql).await.map_err(m2e)?;
                let now = Instant::now();
                for c in comments.into_iter().flatten() {
                    if let Some(n) = c.strip_prefix("lag:").and_then(|n| n.parse::<u64>().ok()) {
                        if seen.contains_key(&n) {
                            continue;
                        }
                        let at = committed.lock().ok().and_then(|m| m.get(&n).copied());
                        if let Some(at) = at {
                            seen.insert(n, now.saturating_duration_since(at).as_secs_f64());
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Ok::<HashMap<u64, f64>, Error>(seen)
        })
    };
    // The markers, on M1.
    let mut n = 0u64;
    let mut next = Instant::now();
    while Instant::now() < until {
        n += 1;
        let id = rows[(n as usize) % MARKERS];
        m1.exec_drop(
            "UPDATE sales_flat_order_status_history SET comment = ? WHERE entity_id = ?",
            (format!("lag:{n}"), id),
        )
        .await
        .map_err(m1e)?;
        if let Ok(mut m) = committed.lock() {
            m.insert(n, Instant::now());
        }
        next += Duration::from_millis(100);
        tokio::time::sleep_until(next.into()).await;
    }
    let achieved = load
        .await
        .map_err(|e| Error::Usage(format!("lag bench load: {e}")))??;
    let seen = poller
        .await
        .map_err(|e| Error::Usage(format!("lag bench poller: {e}")))??;
    stop.request();
    follower
        .await
        .map_err(|e| Error::Usage(format!("lag bench follower: {e}")))??;
    let mut lags: Vec<f64> = seen.values().copied().collect();
    lags.sort_by(f64::total_cmp);
    Ok(LagRun {
        missed: n.saturating_sub(lags.len() as u64),
        lags,
        actions_per_second: achieved,
    })
}

/// `p50 … p99 … max` over runs, for the summary.
pub fn summary(what: &str, runs: &[LagRun], changes_per_action: f64, target_p99: f64) -> String {
    if runs.is_empty() {
        return format!("{what}: no runs");
    }
    let p50: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.3}", r.percentile(0.5)))
        .collect();
    let p99: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.3}", r.percentile(0.99)))
        .collect();
    let worst = runs
        .iter()
        .map(|r| r.percentile(0.99))
        .fold(0.0f64, f64::max);
    let missed: u64 = runs.iter().map(|r| r.missed).sum();
    let rate: f64 = runs.iter().map(|r| r.actions_per_second).sum::<f64>() / runs.len() as f64;
    format!(
        "{what}: lag p50 per run {} s, p99 per run {} s (target p99 < {target_p99} s: {}); markers not seen within 5 s: {missed}; load {:.0} storefront actions/s ≈ {:.0} row changes/s",
        p50.join(" / "),
        p99.join(" / "),
        if worst < target_p99 && missed == 0 { "met" } else { "MISSED" },
        rate,
        rate * changes_per_action
    )
}
