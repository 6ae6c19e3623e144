//! Seeding a Magento 1 store with a few years of history in one pass.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, TxOpts};

use super::context::{col, next_increment, Context, Ids};
use super::entities::*;
use super::rng::Rng;
use super::sql::{Writer, T};
use super::text::*;

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

/// `eav_entity_store`, kept in memory while seeding and written once at the end.
struct Sequences {
    rows: BTreeMap<(i64, i64), Sequence>,
    next_row_id: i64,
}

struct Sequence {
    entity_store_id: Option<i64>,
    prefix: String,
    last: Option<String>,
    changed: bool,
}

impl Sequences {
    async fn load(conn: &mut Conn) -> Result<Sequences, mysql_async::Error> {
        let mut rows = BTreeMap::new();
        let mut max_id = 0;
        let found: Vec<Row> = conn
            .query("SELECT entity_store_id, entity_type_id, store_id, increment_prefix, increment_last_id FROM eav_entity_store ORDER BY entity_store_id")
            .await?;
        for mut row in found {
            let id: i64 = col(&mut row, 0)?;
            let ty: i64 = col(&mut row, 1)?;
            let store: i64 = col(&mut row, 2)?;
            let prefix: Option<String> = col(&mut row, 3)?;
            let last: Option<String> = col(&mut row, 4)?;
            max_id = max_id.max(id);
            // A duplicate (type, store) row is possible on a hand-edited store; M1 uses the
            // first one it finds, so do we.
            rows.entry((ty, store)).or_insert(Sequence {
                entity_store_id: Some(id),
                prefix: prefix.unwrap_or_default(),
                last,
                changed: false,
            });
        }
        Ok(Sequences {
            rows,
            next_row_id: max_id + 1,
        })
    }

    /// The next increment id of an entity type in a store; M1's default prefix is the store id.
    fn next(&mut self, ctx: &Context, entity_type: i64, store_id: i64) -> String {
        let pad = ctx.increment_pad.get(&entity_type).copied().unwrap_or(8);
        let seq = self
            .rows
            .entry((entity_type, store_id))
            .or_insert_with(|| Sequence {
                entity_store_id: None,
                prefix: store_id.to_string(),
                last: None,
                changed: false,
            });
        let (id, _) = next_increment(&seq.prefix, seq.last.as_deref(), pad);
        seq.last = Some(id.clone());
        seq.changed = true;
        id
    }

    /// Inserts the new rows and updates the changed ones; returns the number inserted.
    async fn save<Q: Queryable>(&mut self, q: &mut Q) -> Result<u64, mysql_async::Error> {
        let mut inserted = 0;
        for ((ty, store), seq) in self.rows.iter_mut() {
            if !seq.changed {
                continue;
            }
            match seq.entity_store_id {
                Some(id) => {
                    q.exec_drop(
                        "UPDATE eav_entity_store SET increment_last_id = ? WHERE entity_store_id = ?",
                        (&seq.last, id),
                    )
                    .await?
                }
                None => {
                    let id = self.next_row_id;
                    self.next_row_id += 1;
                    q.exec_drop(
                        "INSERT INTO eav_entity_store (entity_store_id, entity_type_id, store_id, increment_prefix, increment_last_id) VALUES (?, ?, ?, ?, ?)",
                        (id, ty, store, &seq.prefix, &seq.last),
                    )
                    .await?;
                    seq.entity_store_id = Some(id);
                    inserted += 1;
                }
            }
            seq.changed = false;
        }
        Ok(inserted)
    }
}

/// A seeded customer, as much as later orders and reviews need: the rest is re-derived.
#[derive(Debug, Clone, Copy)]
struct CustomerRef {
    id: i64,
    first_address: i64,
    created_at: Ts,
}

struct Seeder<'a> {
    profile: &'a StoreProfile,
    ctx: Context,
    ids: Ids,
    seqs: Sequences,
    w: Writer,
    rng: Rng,
    customers: Vec<CustomerRef>,
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

impl Seeder<'_> {
    /// The time of event `k` of `n` spread evenly over `span` seconds of history, jittered
    /// within its slot so that times still increase with `k`.
    fn spread(&mut self, k: i64, n: i64, span: i64) -> Ts {
        let n = n.max(1);
        let slot = (span / n).max(1);
        HISTORY_START.plus(span * k / n + self.rng.range(0, slot - 1))
    }

    async fn flush_if_full(&mut self, conn: &mut Conn) -> Result<(), mysql_async::Error> {
        if self.w.is_full() {
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            self.w.flush(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    fn customer(&mut self, at: Ts) {
        let id = self.ids.take(T::CustomerEntity);
        let p = customer_profile(self.profile.seed, id, &self.ctx);
        let address_ids: Vec<i64> = p
            .addresses
            .iter()
            .map(|_| self.ids.take(T::AddressEntity))
            .collect();
        write_customer(&mut self.w, &mut self.ids, &self.ctx, &p, &address_ids, at);
        if self.rng.percent(30) {
            let status = match self.rng.below(20) {
                0 => 2,
                1..=3 => 3,
                _ => 1,
            };
            write_subscriber(
                &mut self.w,
                &mut self.ids,
                &mut self.rng,
                p.store_id,
                id,
                &p.person.email,
                status,
                at,
            );
        }
        if self.rng.percent(15) {
            let later = at.plus(self.rng.range(3_600, 90 * 86_400));
            write_wishlist(
                &mut self.w,
                &mut self.ids,
                &mut self.rng,
                id,
                p.store_id,
                later,
            );
        }
        self.customers.push(CustomerRef {
            id,
            first_address: address_ids.first().copied().unwrap_or(0),
            created_at: at,
        });
    }

    /// A registered customer (billing and shipping from the address book) or a guest.
    fn buyer(&mut self, guest: bool, tag: &str, at: Ts) -> (Person, Address, Address, i64) {
        let customer = if guest {
            None
        } else {
            self.customer_before(at)
        };
        if let Some(c) = customer {
            let p = customer_profile(self.profile.seed, c.id, &self.ctx);
            let mut billing = p.addresses[0].clone();
            billing.customer_address_id = Some(c.first_address);
            let mut shipping = billing.clone();
            if let Some(second) = p.addresses.get(1) {
                shipping = second.clone();
                shipping.customer_address_id = Some(c.first_address + 1);
            }
            return (p.person, billing, shipping, p.store_id);
        }
        let person = random_person(&mut self.rng, false, tag);
        let billing = random_address(&mut self.rng, &person.firstname, &person.lastname, false);
        let shipping = if self.rng.percent(85) {
            billing.clone()
        } else {
            random_address(&mut self.rng, &person.firstname, &person.lastname, false)
        };
        let store = if self.ctx.stores.len() > 1 && self.rng.percent(30) {
            self.ctx.stores[1 + self.rng.below(self.ctx.stores.len() as u64 - 1) as usize].id
        } else {
            self.ctx.stores[0].id
        };
        (person, billing, shipping, store)
    }

    fn order(&mut self, j: i64, at: Ts) {
        let oversized = self.profile.oversized_values && j % 50 == 7;
        let guest = oversized || self.rng.percent(self.profile.guest_order_percent);
        let order_id = self.ids.take(T::Order);
        let (mut person, billing, shipping, store_id) =
            self.buyer(guest, &format!("g{order_id}"), at);
        if oversized {
            let domain = "@example.com";
            let local = format!("oversized.{}", "x".repeat(200 - 10 - domain.len()));
            person.email = format!("{local}{domain}");
        }
        let guest = person.customer_id.is_none();
        let store = self.ctx.store(store_id).clone();
        let rng = &mut self.rng;
        let coupon = rng.percent(15).then_some("SUMMER10");
        let (tax_bp, _) = shipping.tax();
        let lines = random_lines(
            rng,
            5,
            store.rate,
            tax_bp,
            if coupon.is_some() { 1_000 } else { 0 },
        );
        let virtual_only = lines.iter().all(|l| l.is_virtual);
        let carrier = (!virtual_only).then(|| rng.pick(CARRIERS));
        let t = totals(&lines, carrier, store.rate);
        let method = *rng.pick(PAYMENT_METHODS);
        let payment = payment_for(rng, method, &person);
        let remote_ip = random_ip(rng);
        let protect_code = rng.hex(6);
        let note = rng.percent(5).then(|| random_comment(rng));
        let increment = self.seqs.next(&self.ctx, self.ctx.order_type, store.id);

        let quote_at = at.plus(-self.rng.range(120, 3 * 86_400));
        let quote = write_quote(
            &mut self.w,
            &mut self.ids,
            &mut self.rng,
            &QuoteDraft {
                store: &store,
                person: &person,
                guest,
                billing: &billing,
                shipping: &shipping,
                lines: &lines,
                totals: &t,
                carrier,
                coupon,
                active: false,
                reserved_order_id: Some(&increment),
                created_at: quote_at,
                updated_at: at,
                payment_method: Some(method),
                remote_ip: &remote_ip,
            },
        );

        // What happened next, roughly as §3.3 of the schema notes has it: ~88 % invoiced,
        // ~84 % shipped, ~6 % refunded, ~5 % canceled, the rest still open.
        let rng = &mut self.rng;
        let roll = rng.below(100);
        let mut fate = Fate::placed(at);
        match roll {
            0..=4 => fate.canceled = true,
            5..=10 => {}
            11 => {
                fate.invoiced = true;
                fate.holded = true;
            }
            12..=15 => fate.invoiced = true,
            16 => fate.shipped = true,
            17..=22 => {
                fate.invoiced = true;
                fate.shipped = true;
                fate.refunded = true;
            }
            _ => {
                fate.invoiced = true;
                fate.shipped = true;
            }
        }
        if virtual_only {
            // Nothing to ship: M1 completes a virtual order on invoice.
            fate.shipped = fate.invoiced;
        }
        let invoice_at = at.plus(rng.range(60, 2 * 86_400));
        let ship_at = invoice_at.plus(rng.range(2 * 3_600, 3 * 86_400));
        let refund_at = ship_at.plus(rng.range(3 * 86_400, 20 * 86_400));
        let cancel_at = at.plus(rng.range(3_600, 5 * 86_400));
        fate.updated_at = if fate.refunded {
            refund_at
        } else if fate.shipped {
            ship_at
        } else if fate.invoiced {
            invoice_at
        } else if fate.canceled {
            cancel_at
        } else {
            at
        };

        let draft = OrderDraft {
            id: order_id,
            increment_id: &increment,
            store: &store,
            person: &person,
            guest,
            billing: &billing,
            shipping: (!virtual_only).then_some(&shipping),
            lines: &lines,
            quote: Some(&quote),
            totals: &t,
            carrier,
            coupon,
            payment: &payment,
            created_at: at,
            remote_ip: &remote_ip,
            customer_note: note,
            protect_code: &protect_code,
        };
        let mut view = write_order(&mut self.w, &mut self.ids, &mut self.rng, &draft, &fate);
        self.documents(
            &mut view,
            &fate,
            invoice_at,
            ship_at,
            refund_at,
            cancel_at,
            virtual_only,
        );
    }

    /// The invoice, shipment and credit memo an order's fate implies, with history rows.
    #[allow(clippy::too_many_arguments)]
    fn documents(
        &mut self,
        view: &mut OrderView,
        fate: &Fate,
        invoice_at: Ts,
        ship_at: Ts,
        refund_at: Ts,
        cancel_at: Ts,
        virtual_only: bool,
    ) {
        let (w, ids, rng, ctx) = (&mut self.w, &mut self.ids, &mut self.rng, &self.ctx);
        if fate.canceled {
            write_history(w, ids, view.id, "canceled", None, "order", false, cancel_at);
        }
        let mut invoice_id = None;
        if fate.invoiced {
            let increment = self.seqs.next(ctx, ctx.invoice_type, view.store_id);
            let mut txn = None;
            if view.online {
                let parent = view.last_txn.clone();
                let t = write_transaction(
                    w,
                    ids,
                    rng,
                    view,
                    "capture",
                    parent.as_ref().map(|(id, t)| (*id, t.as_str())),
                    invoice_at,
                );
                txn = Some(t.1.clone());
                view.last_txn = Some(t);
            }
            invoice_id = Some(write_invoice(
                w,
                ids,
                rng,
                view,
                &increment,
                txn.as_deref(),
                invoice_at,
            ));
            let comment = view.online.then(|| {
                format!(
                    "Captured amount of ${} online. Transaction ID: \"{}\".",
                    display_money(view.grand.base),
                    txn.as_deref().unwrap_or("")
                )
            });
            write_history(
                w,
                ids,
                view.id,
                "processing",
                comment.as_deref(),
                "invoice",
                false,
                invoice_at,
            );
        }
        if fate.holded {
            write_history(
                w,
                ids,
                view.id,
                "holded",
                None,
                "order",
                false,
                invoice_at.plus(600),
            );
        }
        if fate.shipped && !virtual_only {
            let increment = self.seqs.next(ctx, ctx.shipment_type, view.store_id);
            write_shipment(w, ids, rng, view, &increment, ship_at);
            let comment = rng.percent(20).then(|| random_comment(rng));
            let status = if fate.invoiced {
                "complete"
            } else {
                "processing"
            };
            write_history(w, ids, view.id, status, comment, "shipment", true, ship_at);
        }
        if fate.refunded {
            let increment = self.seqs.next(ctx, ctx.creditmemo_type, view.store_id);
            let mut txn = None;
            if view.online {
                let parent = view.last_txn.clone();
                let t = write_transaction(
                    w,
                    ids,
                    rng,
                    view,
                    "refund",
                    parent.as_ref().map(|(id, t)| (*id, t.as_str())),
                    refund_at,
                );
                txn = Some(t.1.clone());
                view.last_txn = Some(t);
            }
            write_creditmemo(
                w,
                ids,
                rng,
                view,
                &increment,
                invoice_id,
                txn.as_deref(),
                refund_at,
            );
            let comment = format!(
                "Refunded amount of ${} {}.",
                display_money(view.grand.base),
                if view.online { "online" } else { "offline" }
            );
            write_history(
                w,
                ids,
                view.id,
                "closed",
                Some(&comment),
                "creditmemo",
                false,
                refund_at,
            );
        }
    }

    fn active_quote(&mut self, at: Ts) {
        let guest = self.rng.percent(40);
        let tag = format!("q{}", self.ids.max(T::Quote) + 1);
        let (person, billing, shipping, store_id) = self.buyer(guest, &tag, at);
        let guest = person.customer_id.is_none();
        let store = self.ctx.store(store_id).clone();
        let rng = &mut self.rng;
        let (tax_bp, _) = shipping.tax();
        let lines = random_lines(rng, 4, store.rate, tax_bp, 0);
        let carrier = (!lines.iter().all(|l| l.is_virtual)).then(|| rng.pick(CARRIERS));
        let t = totals(&lines, carrier, store.rate);
        let method = rng.percent(50).then(|| *rng.pick(PAYMENT_METHODS));
        let ip = random_ip(rng);
        let updated = at.plus(rng.range(0, 3 * 86_400));
        write_quote(
            &mut self.w,
            &mut self.ids,
            &mut self.rng,
            &QuoteDraft {
                store: &store,
                person: &person,
                guest,
                billing: &billing,
                shipping: &shipping,
                lines: &lines,
                totals: &t,
                carrier,
                coupon: None,
                active: true,
                reserved_order_id: None,
                created_at: at,
                updated_at: updated,
                payment_method: method,
                remote_ip: &ip,
            },
        );
    }

    /// A customer created by `at`, chosen at random (None if there is none yet).
    fn customer_before(&mut self, at: Ts) -> Option<CustomerRef> {
        let n = self.customers.partition_point(|c| c.created_at <= at);
        (n > 0).then(|| self.customers[self.rng.below(n as u64) as usize])
    }

    fn review(&mut self, at: Ts) {
        let customer = if self.rng.percent(70) {
            self.customer_before(at)
        } else {
            None
        };
        let store_id = match customer {
            Some(c) => customer_profile(self.profile.seed, c.id, &self.ctx).store_id,
            None => self.ctx.stores[self.rng.below(self.ctx.stores.len() as u64) as usize].id,
        };
        write_review(
            &mut self.w,
            &mut self.ids,
            &mut self.rng,
            &self.ctx,
            customer.map(|c| c.id),
            store_id,
            at,
        );
    }

    fn guest_subscriber(&mut self, k: i64, at: Ts) {
        let rng = &mut self.rng;
        // Shoppers type international addresses; the table is utf8mb4, so some are emoji.
        let email = match rng.below(10) {
            0 => format!("fan😀{k}@example.com"),
            1 => format!("josé.{k}@exämple.fr"),
            _ => format!(
                "news{k}.{}@{}",
                rng.alnum(5).to_lowercase(),
                rng.pick(EMAIL_DOMAINS)
            ),
        };
        let status = if rng.percent(85) { 1 } else { 3 };
        let store_id = self.ctx.stores[rng.below(self.ctx.stores.len() as u64) as usize].id;
        write_subscriber(
            &mut self.w,
            &mut self.ids,
            &mut self.rng,
            store_id,
            0,
            &email,
            status,
            at,
        );
    }

    fn visit(&mut self, at: Ts) {
        let customer = if self.rng.percent(30) {
            self.customer_before(at)
        } else {
            None
        };
        let store_id = self.ctx.stores[self.rng.below(self.ctx.stores.len() as u64) as usize].id;
        write_visit(
            &mut self.w,
            &mut self.ids,
            &mut self.rng,
            store_id,
            customer.map(|c| c.id),
            at,
        );
    }
}

/// 1/10000 units as "12.34", for history comments.
pub(crate) fn display_money(v: i64) -> String {
    let c = round_cents(v) / 100;
    format!("{}.{:02}", c / 100, (c % 100).abs())
}
