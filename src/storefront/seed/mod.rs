//! Seeding a Magento 1 store with a few years of history in one pass.

mod orders;
mod seeder;
mod sequences;

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, TxOpts};

use super::context::{Context, Ids};
use super::rng::Rng;
use super::sql::Writer;
use super::text::{HISTORY_SECONDS, HISTORY_START};
use seeder::Seeder;
use sequences::Sequences;

/// Rows per multi-row INSERT: large enough to amortise round trips, small enough to keep the
/// statement well under `max_allowed_packet` (whose default is 16 MB on MariaDB).
const BATCH_ROWS: usize = 500;
const BATCH_BYTES: usize = 4 << 20;

/// How big a store to seed, and from which seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreProfile {
    /// Same seed, same starting database → same rows.
    pub seed: u64,
    /// Registered customers (1–2 addresses each).
    pub customers: u32,
    /// Placed orders (1–5 items each), spread over two years of history.
    pub orders: u32,
    /// Share of orders placed as guest checkouts, in percent.
    pub guest_order_percent: u32,
    /// Carts still open at the end of the history (besides the converted quote of each order).
    pub active_quotes: u32,
    pub reviews: u32,
    /// Newsletter subscribers without an account (customers subscribe too, ~30 %).
    pub guest_subscribers: u32,
    /// `log_visitor` sessions of the last 180 days (M1's log cleaning keeps no older ones).
    pub visitors: u32,
    /// When true, a few guest orders (every 50th, from the 8th) carry a 200-character
    /// `customer_email`: it fits M1's varchar(255) but not M2's varchar(128), so a migration
    /// must fail or flag it. Off by default, so a clean migration is possible.
    pub oversized_values: bool,
}

impl StoreProfile {
    /// For tests: about 50 customers and 100 orders.
    pub fn tiny() -> StoreProfile {
        StoreProfile {
            seed: 1,
            customers: 50,
            orders: 100,
            guest_order_percent: 30,
            active_quotes: 30,
            reviews: 30,
            guest_subscribers: 10,
            visitors: 150,
            oversized_values: false,
        }
    }

    /// A small store: 1,000 customers and 2,000 orders.
    pub fn small() -> StoreProfile {
        StoreProfile {
            seed: 1,
            customers: 1_000,
            orders: 2_000,
            guest_order_percent: 30,
            active_quotes: 600,
            reviews: 300,
            guest_subscribers: 150,
            visitors: 3_000,
            oversized_values: false,
        }
    }

    pub fn with_seed(mut self, seed: u64) -> StoreProfile {
        self.seed = seed;
        self
    }
}

impl Default for StoreProfile {
    fn default() -> StoreProfile {
        StoreProfile::tiny()
    }
}

/// Rows inserted per table by one [`seed_store`] call (tables it did not touch are absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub rows: BTreeMap<String, u64>,
}

impl SeedSummary {
    /// Rows inserted into `table` (0 if none).
    pub fn rows(&self, table: &str) -> u64 {
        self.rows.get(table).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.rows.values().sum()
    }
}

/// Fills an M1 database (schema and reference rows already loaded; `conn`'s default database)
/// with customers, quotes, orders and their documents, reviews, subscribers, wishlists and
/// visitor logs; see the module documentation for the contract.
///
/// Sets the session time zone to UTC (TIMESTAMP values are then stored exactly as generated).
/// Foreign key checks stay on: every row goes in after its parents.
pub async fn seed_store(
    conn: &mut Conn,
    profile: &StoreProfile,
) -> Result<SeedSummary, mysql_async::Error> {
    conn.query_drop("SET time_zone = '+00:00'").await?;
    let ctx = Context::load(conn).await?;
    let ids = Ids::load(conn).await?;
    let seqs = Sequences::load(conn).await?;
    let mut s = Seeder {
        profile,
        w: Writer::new(ctx.lit, BATCH_ROWS, BATCH_BYTES),
        ctx,
        ids,
        seqs,
        rng: Rng::new(profile.seed),
        customers: Vec::with_capacity(profile.customers as usize),
    };
    let mut extra: BTreeMap<String, u64> = BTreeMap::new();

    // Ratings must be visible in a store view for votes there; a fresh install has none
    // assigned, an admin assigns them once.
    let mut rating_store = 0;
    for (rating_id, _) in &s.ctx.ratings {
        for store in &s.ctx.stores {
            conn.exec_drop(
                "INSERT IGNORE INTO rating_store (rating_id, store_id) VALUES (?, ?)",
                (rating_id, store.id),
            )
            .await?;
            rating_store += conn.affected_rows();
        }
    }
    if rating_store > 0 {
        extra.insert("rating_store".into(), rating_store);
    }

    let span = HISTORY_SECONDS;
    let n_orders = i64::from(profile.orders);
    let n_customers = i64::from(profile.customers);
    let mut next_customer = 0;
    let mut next_customer_at = s.spread(0, n_customers, span);
    for j in 0..n_orders {
        let at = s.spread(j, n_orders, span);
        while next_customer < n_customers && next_customer_at <= at {
            s.customer(next_customer_at);
            next_customer += 1;
            next_customer_at = s.spread(next_customer, n_customers, span);
            s.flush_if_full(conn).await?;
        }
        s.order(j, at);
        s.flush_if_full(conn).await?;
    }
    while next_customer < n_customers {
        s.customer(next_customer_at);
        next_customer += 1;
        next_customer_at = s.spread(next_customer, n_customers, span);
        s.flush_if_full(conn).await?;
    }

    // Open carts of the last 30 days.
    let n = i64::from(profile.active_quotes);
    for k in 0..n {
        let at = HISTORY_START
            .plus(span - 30 * 86_400)
            .plus((30 * 86_400) * k / n.max(1));
        s.active_quote(at);
        s.flush_if_full(conn).await?;
    }
    let n = i64::from(profile.reviews);
    for k in 0..n {
        let at = s.spread(k, n, span);
        s.review(at);
        s.flush_if_full(conn).await?;
    }
    let n = i64::from(profile.guest_subscribers);
    for k in 0..n {
        let at = s.spread(k, n, span);
        s.guest_subscriber(k, at);
        s.flush_if_full(conn).await?;
    }
    let n = i64::from(profile.visitors);
    let window = 180 * 86_400;
    for k in 0..n {
        let at = HISTORY_START
            .plus(span - window)
            .plus(window * k / n.max(1) + s.rng.range(0, window / n.max(1) - 1));
        s.visit(at);
        s.flush_if_full(conn).await?;
    }

    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    s.w.flush(&mut tx).await?;
    let inserted = s.seqs.save(&mut tx).await?;
    tx.commit().await?;
    if inserted > 0 {
        extra.insert("eav_entity_store".into(), inserted);
    }

    aggregate_reviews(conn, &s.ctx, &mut extra).await?;

    let mut rows = s.w.counts();
    rows.extend(extra);
    Ok(SeedSummary { rows })
}

/// Rebuilds `review_entity_summary` and `rating_option_vote_aggregated` from the approved
/// reviews and their votes, as M1's review aggregation does (they are derived data).
async fn aggregate_reviews(
    conn: &mut Conn,
    ctx: &Context,
    out: &mut BTreeMap<String, u64>,
) -> Result<(), mysql_async::Error> {
    let approved = ctx.review_statuses[0];
    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    tx.query_drop("DELETE FROM review_entity_summary").await?;
    tx.exec_drop(
        "INSERT INTO review_entity_summary (entity_pk_value, entity_type, reviews_count, rating_summary, store_id) \
         SELECT r.entity_pk_value, r.entity_id, COUNT(DISTINCT r.review_id), \
                COALESCE(ROUND(AVG(v.percent)), 0), rs.store_id \
         FROM review r \
         JOIN review_store rs ON rs.review_id = r.review_id \
         LEFT JOIN rating_option_vote v ON v.review_id = r.review_id \
         WHERE r.status_id = ? \
         GROUP BY r.entity_pk_value, r.entity_id, rs.store_id \
         ORDER BY r.entity_pk_value, r.entity_id, rs.store_id",
        (approved,),
    )
    .await?;
    let summary = tx.affected_rows();
    tx.query_drop("DELETE FROM rating_option_vote_aggregated")
        .await?;
    tx.exec_drop(
        "INSERT INTO rating_option_vote_aggregated (rating_id, entity_pk_value, vote_count, vote_value_sum, percent, percent_approved, store_id) \
         SELECT v.rating_id, v.entity_pk_value, COUNT(*), SUM(v.value), ROUND(AVG(v.percent)), \
                COALESCE(ROUND(AVG(CASE WHEN r.status_id = ? THEN v.percent END)), 0), rs.store_id \
         FROM rating_option_vote v \
         JOIN review r ON r.review_id = v.review_id \
         JOIN review_store rs ON rs.review_id = r.review_id \
         GROUP BY v.rating_id, v.entity_pk_value, rs.store_id \
         ORDER BY v.rating_id, v.entity_pk_value, rs.store_id",
        (approved,),
    )
    .await?;
    let aggregated = tx.affected_rows();
    tx.commit().await?;
    for (table, n) in [
        ("review_entity_summary", summary),
        ("rating_option_vote_aggregated", aggregated),
    ] {
        if n > 0 {
            out.insert(table.into(), n);
        }
    }
    Ok(())
}
