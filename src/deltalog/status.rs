//! `deltalog status`: per table, whether the deltalog is installed, the state of its three
//! triggers, and how many rows are pending, in flight or processed.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::ddl::Presence;
use super::naming::Event;
use super::state::{read_state, TrackedTable};
use crate::db::quote_ident;
use crate::error::{Error, Result, Side};
use crate::setup::Setup;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerStatus {
    /// Our statement, with the reset of `processed`, in the named trigger.
    Ours(String),
    /// The DMT's statement without the reset: changes made during a migration can be lost
    /// until `deltalog install` upgrades it.
    DmtWithoutReset(String),
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatus {
    pub table: String,
    pub deltalog: String,
    pub source_exists: bool,
    pub installed: bool,
    pub triggers: Vec<(Event, TriggerStatus)>,
    /// `processed = 0`: waiting to be migrated.
    pub pending: u64,
    /// `processed = 2`: claimed by a running delta.
    pub in_flight: u64,
    /// `processed = 1`: migrated, purged at the end of a cycle.
    pub processed: u64,
}

impl TableStatus {
    /// Installed with all three triggers recording changes.
    pub fn complete(&self) -> bool {
        self.installed
            && self
                .triggers
                .iter()
                .all(|(_, s)| !matches!(s, TriggerStatus::Missing))
    }
}

pub async fn status(conn: &mut Conn, setup: &Setup) -> Result<Vec<TableStatus>> {
    let prefix = setup.config.options.source_prefix();
    let tracked: Vec<TrackedTable> = setup
        .deltalog_tables
        .iter()
        .map(|t| TrackedTable::new(&prefix, t))
        .collect();
    let states = read_state(conn, &tracked).await?;
    let mut out = Vec::with_capacity(states.len());
    for state in &states {
        let triggers = Event::ALL
            .into_iter()
            .map(|event| {
                let presence = state.presence(event);
                let status =
                    if let Some((t, _)) = presence.iter().find(|(_, p)| *p == Presence::Ours) {
                        TriggerStatus::Ours(t.name.clone())
                    } else if let Some((t, _)) = presence
                        .iter()
                        .find(|(_, p)| *p == Presence::DmtWithoutReset)
                    {
                        TriggerStatus::DmtWithoutReset(t.name.clone())
                    } else {
                        TriggerStatus::Missing
                    };
                (event, status)
            })
            .collect();
        let (mut pending, mut in_flight, mut processed) = (0, 0, 0);
        if state.deltalog_keys.is_some() {
            let counts: Option<(u64, u64, u64)> = conn
                .query_first(format!(
                    "SELECT CAST(COALESCE(SUM(processed = 0), 0) AS UNSIGNED), \
                     CAST(COALESCE(SUM(processed = 2), 0) AS UNSIGNED), \
                     CAST(COALESCE(SUM(processed = 1), 0) AS UNSIGNED) FROM {}",
                    quote_ident(&state.tracked.deltalog)
                ))
                .await
                .map_err(|e| {
                    Error::db(Side::M1, e, &format!("counting {}", state.tracked.deltalog))
                })?;
            (pending, in_flight, processed) = counts.unwrap_or_default();
        }
        out.push(TableStatus {
            table: state.tracked.table.clone(),
            deltalog: state.tracked.deltalog.clone(),
            source_exists: state.source_exists,
            installed: state.deltalog_keys.is_some(),
            triggers,
            pending,
            in_flight,
            processed,
        });
    }
    Ok(out)
}
