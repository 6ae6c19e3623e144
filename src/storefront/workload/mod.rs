//! A live storefront: one shopper or admin action per call, each as one M1 transaction.

mod act;
mod action;
mod activity;
mod customer;
mod documents;
mod order;
mod quote;
mod review;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, TxOpts};

use super::context::{latest_activity, other, Context, Ids};
use super::rng::Rng;
use super::text::{Ts, WORKLOAD_START};
use act::Act;
pub use action::{Action, ActionCounts, ActionKind, WorkloadMix};

/// What the actions share between calls: reference data, id counters, and the clock.
struct State {
    ctx: Context,
    ids: Ids,
    now: Ts,
}

/// A seeded stream of storefront actions against an M1 database.
///
/// Deterministic for a given seed and starting database: the same store and seed give the
/// same sequence of transactions. Ids are allocated past the largest existing id (and past
/// `AUTO_INCREMENT`), so it continues after [`super::seed_store`] or on any M1 store.
pub struct Workload {
    seed: u64,
    rng: Rng,
    mix: WorkloadMix,
    state: Option<State>,
}

impl Workload {
    pub fn new(seed: u64) -> Workload {
        Workload {
            seed,
            rng: Rng::new(seed ^ 0x5EED_F00D),
            mix: WorkloadMix::default(),
            state: None,
        }
    }

    pub fn with_mix(mut self, mix: WorkloadMix) -> Workload {
        self.mix = mix;
        self
    }

    pub fn mix(&self) -> &WorkloadMix {
        &self.mix
    }

    /// Reads what the actions need: reference data, the next id of every table, and the
    /// latest activity (the workload's clock starts after it). Sets the session time zone to
    /// UTC. Called by the first [`Workload::step`] if not called before.
    pub async fn load_state(&mut self, conn: &mut Conn) -> Result<(), mysql_async::Error> {
        conn.query_drop("SET time_zone = '+00:00'").await?;
        let ctx = Context::load(conn).await?;
        let ids = Ids::load(conn).await?;
        let latest = latest_activity(conn).await?;
        let now = if latest.0 + 60 > WORKLOAD_START.0 {
            latest.plus(60)
        } else {
            WORKLOAD_START
        };
        self.state = Some(State { ctx, ids, now });
        Ok(())
    }

    /// Performs one action chosen by the mix, as one transaction.
    pub async fn step(&mut self, conn: &mut Conn) -> Result<Action, mysql_async::Error> {
        let weights: Vec<u32> = ActionKind::ALL
            .iter()
            .map(|&k| self.mix.weight(k))
            .collect();
        let kind = match self.rng.weighted(&weights) {
            Some(i) => ActionKind::ALL[i],
            None => return Err(other("the workload mix gives every action weight 0")),
        };
        self.perform(conn, kind).await
    }

    /// Performs one action of the given kind; when nothing qualifies for it (no order left to
    /// ship, say), performs the action that creates what it lacked instead.
    pub async fn perform(
        &mut self,
        conn: &mut Conn,
        kind: ActionKind,
    ) -> Result<Action, mysql_async::Error> {
        if self.state.is_none() {
            self.load_state(conn).await?;
        }
        let mut kind = kind;
        // At most a chain of three: e.g. Invoice → PlaceOrder → QuoteActivity, which always
        // succeeds (it creates a cart when there is none).
        for _ in 0..4 {
            if let Some(action) = self.try_perform(conn, kind).await? {
                return Ok(action);
            }
            kind = kind.fallback();
        }
        Err(other(format!("no storefront action could run ({kind:?})")))
    }

    /// Runs `n` steps; returns how many actions of each kind were performed.
    pub async fn run(
        &mut self,
        conn: &mut Conn,
        n: u64,
    ) -> Result<ActionCounts, mysql_async::Error> {
        let mut counts = ActionCounts::new();
        for _ in 0..n {
            let action = self.step(conn).await?;
            *counts.entry(action.kind()).or_insert(0) += 1;
        }
        Ok(counts)
    }

    async fn try_perform(
        &mut self,
        conn: &mut Conn,
        kind: ActionKind,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(st) = self.state.as_mut() else {
            return Err(other("workload state not loaded"));
        };
        st.now = st.now.plus(self.rng.range(1, 30));
        let mut a = Act {
            st,
            rng: &mut self.rng,
            seed: self.seed,
        };
        let mut tx = conn.start_transaction(TxOpts::default()).await?;
        let result = match kind {
            ActionKind::RegisterCustomer => a.register(&mut tx).await,
            ActionKind::EditCustomer => a.edit_customer(&mut tx).await,
            ActionKind::QuoteActivity => a.quote_activity(&mut tx).await,
            ActionKind::PlaceOrder => a.place_order(&mut tx).await,
            ActionKind::ChangeOrderStatus => a.change_status(&mut tx).await,
            ActionKind::Invoice => a.invoice(&mut tx).await,
            ActionKind::Ship => a.ship(&mut tx).await,
            ActionKind::Refund => a.refund(&mut tx).await,
            ActionKind::SubmitReview => a.review(&mut tx).await,
            ActionKind::Newsletter => a.newsletter(&mut tx).await,
            ActionKind::Visit => a.visit(&mut tx).await,
            ActionKind::DeleteCustomer => a.delete_customer(&mut tx).await,
            ActionKind::CleanQuote => a.clean_quote(&mut tx).await,
            ActionKind::DeleteReview => a.delete_review(&mut tx).await,
        };
        match result {
            Ok(Some(action)) => {
                tx.commit().await?;
                Ok(Some(action))
            }
            Ok(None) => {
                tx.rollback().await?;
                Ok(None)
            }
            // Dropping the transaction rolls it back.
            Err(e) => Err(e),
        }
    }
}
