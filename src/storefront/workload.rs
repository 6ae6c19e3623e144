//! A live storefront: one shopper or admin action per call, each as one M1 transaction.

use std::collections::{BTreeMap, HashMap};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Transaction, TxOpts};

use super::context::{
    col, dec_col, latest_activity, next_increment, other, Context, Ids, StoreView,
};
use super::entities::*;
use super::rng::Rng;
use super::sql::{Writer, T};
use super::text::*;

/// The kinds of storefront action, for weights and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    RegisterCustomer,
    EditCustomer,
    QuoteActivity,
    PlaceOrder,
    ChangeOrderStatus,
    Invoice,
    Ship,
    Refund,
    SubmitReview,
    Newsletter,
    Visit,
    DeleteCustomer,
    CleanQuote,
    DeleteReview,
}

impl ActionKind {
    pub const ALL: [ActionKind; 14] = [
        ActionKind::RegisterCustomer,
        ActionKind::EditCustomer,
        ActionKind::QuoteActivity,
        ActionKind::PlaceOrder,
        ActionKind::ChangeOrderStatus,
        ActionKind::Invoice,
        ActionKind::Ship,
        ActionKind::Refund,
        ActionKind::SubmitReview,
        ActionKind::Newsletter,
        ActionKind::Visit,
        ActionKind::DeleteCustomer,
        ActionKind::CleanQuote,
        ActionKind::DeleteReview,
    ];

    /// What to do instead when nothing qualifies (no order to invoice, no customer to edit…):
    /// an action that creates what the first one lacked.
    fn fallback(self) -> ActionKind {
        match self {
            ActionKind::ChangeOrderStatus
            | ActionKind::Invoice
            | ActionKind::Ship
            | ActionKind::Refund => ActionKind::PlaceOrder,
            ActionKind::EditCustomer | ActionKind::DeleteCustomer => ActionKind::RegisterCustomer,
            ActionKind::CleanQuote | ActionKind::PlaceOrder => ActionKind::QuoteActivity,
            ActionKind::DeleteReview => ActionKind::SubmitReview,
            _ => ActionKind::RegisterCustomer,
        }
    }
}

/// One performed action and the main ids it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// customer_entity + EAV rows + one address (+ its EAV rows), maybe a subscription.
    RegisterCustomer {
        customer_id: u64,
        address_id: u64,
        subscribed: bool,
    },
    /// EAV UPDATEs of changed values, INSERTs of new ones, DELETEs of emptied ones.
    EditCustomer {
        customer_id: u64,
        updated: u32,
        inserted: u32,
        deleted: u32,
    },
    /// A new cart, or items added/changed/removed and shipping rates deleted and re-inserted.
    QuoteActivity {
        quote_id: u64,
        created: bool,
        items_added: u32,
        items_removed: u32,
    },
    /// Order from an active quote: order, items, addresses, payment, history, tax, grid,
    /// eav_entity_store increment, quote deactivated.
    PlaceOrder {
        order_id: u64,
        increment_id: String,
        quote_id: u64,
        customer_id: Option<u64>,
        store_id: u64,
    },
    /// Cancel, hold, unhold or comment: order UPDATE, history INSERT, grid refresh.
    ChangeOrderStatus {
        order_id: u64,
        status: String,
    },
    Invoice {
        order_id: u64,
        invoice_id: u64,
        increment_id: String,
    },
    Ship {
        order_id: u64,
        shipment_id: u64,
        increment_id: String,
    },
    /// A credit memo refunding the whole order.
    Refund {
        order_id: u64,
        creditmemo_id: u64,
        increment_id: String,
    },
    SubmitReview {
        review_id: u64,
        customer_id: Option<u64>,
    },
    /// A subscription (new row) or a status change (UPDATE subscriber_status).
    Newsletter {
        subscriber_id: u64,
        status: i64,
        new: bool,
    },
    /// A new visitor session, or a later page view updating last_visit_at.
    Visit {
        visitor_id: u64,
        new: bool,
    },
    /// Deleted by an admin: M1's ON DELETE CASCADE silently removes the EAV rows, addresses
    /// and wishlist; orders keep the customer's data with customer_id set to NULL.
    DeleteCustomer {
        customer_id: u64,
    },
    /// Removed by the quote cleanup cron, with its items, addresses, rates and payment.
    CleanQuote {
        quote_id: u64,
    },
    DeleteReview {
        review_id: u64,
    },
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::RegisterCustomer { .. } => ActionKind::RegisterCustomer,
            Action::EditCustomer { .. } => ActionKind::EditCustomer,
            Action::QuoteActivity { .. } => ActionKind::QuoteActivity,
            Action::PlaceOrder { .. } => ActionKind::PlaceOrder,
            Action::ChangeOrderStatus { .. } => ActionKind::ChangeOrderStatus,
            Action::Invoice { .. } => ActionKind::Invoice,
            Action::Ship { .. } => ActionKind::Ship,
            Action::Refund { .. } => ActionKind::Refund,
            Action::SubmitReview { .. } => ActionKind::SubmitReview,
            Action::Newsletter { .. } => ActionKind::Newsletter,
            Action::Visit { .. } => ActionKind::Visit,
            Action::DeleteCustomer { .. } => ActionKind::DeleteCustomer,
            Action::CleanQuote { .. } => ActionKind::CleanQuote,
            Action::DeleteReview { .. } => ActionKind::DeleteReview,
        }
    }
}

/// Relative weights of the action kinds. The default follows the schema notes (§3.3) for a
/// store at peak: quote churn first, then orders and their documents, customer saves, and
/// rarer reviews, newsletter changes and deletes. Visitor logging is scaled down (a real store
/// writes far more log rows than anything else) so the sales tables get most of the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadMix {
    pub register_customer: u32,
    pub edit_customer: u32,
    pub quote_activity: u32,
    pub place_order: u32,
    pub change_order_status: u32,
    pub invoice: u32,
    pub ship: u32,
    pub refund: u32,
    pub submit_review: u32,
    pub newsletter: u32,
    pub visit: u32,
    pub delete_customer: u32,
    pub clean_quote: u32,
    pub delete_review: u32,
}

impl Default for WorkloadMix {
    fn default() -> WorkloadMix {
        WorkloadMix {
            register_customer: 40,
            edit_customer: 60,
            quote_activity: 260,
            place_order: 100,
            change_order_status: 25,
            invoice: 90,
            ship: 85,
            refund: 12,
            submit_review: 20,
            newsletter: 25,
            visit: 150,
            delete_customer: 10,
            clean_quote: 30,
            delete_review: 8,
        }
    }
}

impl WorkloadMix {
    pub fn weight(&self, kind: ActionKind) -> u32 {
        match kind {
            ActionKind::RegisterCustomer => self.register_customer,
            ActionKind::EditCustomer => self.edit_customer,
            ActionKind::QuoteActivity => self.quote_activity,
            ActionKind::PlaceOrder => self.place_order,
            ActionKind::ChangeOrderStatus => self.change_order_status,
            ActionKind::Invoice => self.invoice,
            ActionKind::Ship => self.ship,
            ActionKind::Refund => self.refund,
            ActionKind::SubmitReview => self.submit_review,
            ActionKind::Newsletter => self.newsletter,
            ActionKind::Visit => self.visit,
            ActionKind::DeleteCustomer => self.delete_customer,
            ActionKind::CleanQuote => self.clean_quote,
            ActionKind::DeleteReview => self.delete_review,
        }
    }
}

/// Counts of performed actions per kind.
pub type ActionCounts = BTreeMap<ActionKind, u64>;

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

/// Orders that can still be invoiced.
const INVOICEABLE: &str = "state IN ('new', 'processing') AND COALESCE(base_total_invoiced, 0) = 0";
/// Orders with goods not yet shipped.
const SHIPPABLE: &str = "state IN ('new', 'processing') AND is_virtual = 0 \
     AND NOT EXISTS (SELECT 1 FROM sales_flat_shipment s WHERE s.order_id = sales_flat_order.entity_id)";
/// Paid orders not refunded yet.
const REFUNDABLE: &str = "state IN ('processing', 'complete') \
     AND COALESCE(base_total_invoiced, 0) > 0 AND COALESCE(base_total_refunded, 0) = 0";

type Tx<'a> = Transaction<'a>;

/// One action's view of the workload.
struct Act<'a> {
    st: &'a mut State,
    rng: &'a mut Rng,
    seed: u64,
}

/// First column of the first row as an integer, if any.
async fn first_id<P: Into<mysql_async::Params> + Send>(
    tx: &mut Tx<'_>,
    sql: &str,
    params: P,
) -> Result<Option<i64>, mysql_async::Error> {
    let row: Option<Row> = tx.exec_first(sql, params).await?;
    match row {
        Some(mut row) => Ok(col::<Option<i64>>(&mut row, 0)?),
        None => Ok(None),
    }
}

impl Act<'_> {
    fn writer(&self) -> Writer {
        Writer::new(self.st.ctx.lit, usize::MAX, usize::MAX)
    }

    fn now(&self) -> Ts {
        self.st.now
    }

    /// A random row of `table` matching `cond`: the first at or after a random id, else the
    /// last before it. Cheap on the primary key, and spread over the whole table.
    async fn pick(
        &mut self,
        tx: &mut Tx<'_>,
        table: T,
        cond: &str,
    ) -> Result<Option<i64>, mysql_async::Error> {
        let Some(pk) = table.pk() else {
            return Ok(None);
        };
        let max = self.st.ids.max(table);
        if max < 1 {
            return Ok(None);
        }
        let r = self.rng.range(1, max);
        let name = table.name();
        let up = format!(
            "SELECT `{pk}` FROM `{name}` WHERE `{pk}` >= ? AND ({cond}) ORDER BY `{pk}` LIMIT 1"
        );
        if let Some(id) = first_id(tx, &up, (r,)).await? {
            return Ok(Some(id));
        }
        let down = format!(
            "SELECT `{pk}` FROM `{name}` WHERE `{pk}` < ? AND ({cond}) ORDER BY `{pk}` DESC LIMIT 1"
        );
        first_id(tx, &down, (r,)).await
    }

    fn random_store(&mut self) -> StoreView {
        let stores = &self.st.ctx.stores;
        if stores.len() > 1 && self.rng.percent(30) {
            stores[1 + self.rng.below(stores.len() as u64 - 1) as usize].clone()
        } else {
            stores[0].clone()
        }
    }

    /// The next increment id of a type in a store, under a row lock on eav_entity_store as
    /// M1 takes it (the hot row of every order, invoice, shipment and credit memo).
    async fn increment(
        &mut self,
        tx: &mut Tx<'_>,
        entity_type: i64,
        store_id: i64,
    ) -> Result<String, mysql_async::Error> {
        let pad = self
            .st
            .ctx
            .increment_pad
            .get(&entity_type)
            .copied()
            .unwrap_or(8);
        let row: Option<Row> = tx
            .exec_first(
                "SELECT entity_store_id, increment_prefix, increment_last_id FROM eav_entity_store \
                 WHERE entity_type_id = ? AND store_id = ? ORDER BY entity_store_id LIMIT 1 FOR UPDATE",
                (entity_type, store_id),
            )
            .await?;
        match row {
            Some(mut row) => {
                let id: i64 = col(&mut row, 0)?;
                let prefix: Option<String> = col(&mut row, 1)?;
                let last: Option<String> = col(&mut row, 2)?;
                let (next, _) =
                    next_increment(prefix.as_deref().unwrap_or(""), last.as_deref(), pad);
                tx.exec_drop(
                    "UPDATE eav_entity_store SET increment_last_id = ? WHERE entity_store_id = ?",
                    (&next, id),
                )
                .await?;
                Ok(next)
            }
            None => {
                let prefix = store_id.to_string();
                let (next, _) = next_increment(&prefix, None, pad);
                tx.exec_drop(
                    "INSERT INTO eav_entity_store (entity_type_id, store_id, increment_prefix, increment_last_id) VALUES (?, ?, ?, ?)",
                    (entity_type, store_id, &prefix, &next),
                )
                .await?;
                Ok(next)
            }
        }
    }

    // ---- customers -------------------------------------------------------------------

    async fn register(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let now = self.now();
        let mut w = self.writer();
        let id = self.st.ids.take(T::CustomerEntity);
        let mut p = customer_profile(self.seed, id, &self.st.ctx);
        p.addresses.truncate(1);
        let address_id = self.st.ids.take(T::AddressEntity);
        write_customer(
            &mut w,
            &mut self.st.ids,
            &self.st.ctx,
            &p,
            &[address_id],
            now,
        );
        let subscribed = self.rng.percent(25);
        if subscribed {
            write_subscriber(
                &mut w,
                &mut self.st.ids,
                self.rng,
                p.store_id,
                id,
                &p.person.email,
                1,
                now,
            );
        }
        let store_id = p.store_id;
        write_visit(&mut w, &mut self.st.ids, self.rng, store_id, Some(id), now);
        w.flush(tx).await?;
        // M1 saves the customer again once the address has an id (default_billing/shipping).
        tx.exec_drop(
            "UPDATE customer_entity SET updated_at = ? WHERE entity_id = ?",
            (now.to_string(), id),
        )
        .await?;
        Ok(Some(Action::RegisterCustomer {
            customer_id: id as u64,
            address_id: address_id as u64,
            subscribed,
        }))
    }

    /// Sets an EAV value as M1's EAV save does: UPDATE if a row exists, INSERT if not, and
    /// DELETE when the new value is empty. Returns (updated, inserted, deleted).
    async fn set_eav(
        &mut self,
        tx: &mut Tx<'_>,
        entity_type: i64,
        attr: Option<super::context::Attr>,
        entity_id: i64,
        value: Option<String>,
    ) -> Result<(u32, u32, u32), mysql_async::Error> {
        let Some(super::context::Attr {
            id: attr_id,
            table: Some(table),
        }) = attr
        else {
            return Ok((0, 0, 0));
        };
        let name = table.name();
        let existing = first_id(
            tx,
            &format!("SELECT value_id FROM `{name}` WHERE entity_id = ? AND attribute_id = ?"),
            (entity_id, attr_id),
        )
        .await?;
        match (existing, value) {
            (Some(value_id), Some(v)) => {
                tx.exec_drop(
                    format!("UPDATE `{name}` SET value = ? WHERE value_id = ?"),
                    (v, value_id),
                )
                .await?;
                Ok((1, 0, 0))
            }
            (Some(value_id), None) => {
                tx.exec_drop(
                    format!("DELETE FROM `{name}` WHERE value_id = ?"),
                    (value_id,),
                )
                .await?;
                Ok((0, 0, 1))
            }
            (None, Some(v)) => {
                let value_id = self.st.ids.take(table);
                tx.exec_drop(
                    format!("INSERT INTO `{name}` (value_id, entity_type_id, attribute_id, entity_id, value) VALUES (?, ?, ?, ?, ?)"),
                    (value_id, entity_type, attr_id, entity_id, v),
                )
                .await?;
                Ok((0, 1, 0))
            }
            (None, None) => Ok((0, 0, 0)),
        }
    }

    async fn edit_customer(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::CustomerEntity, "1").await? else {
            return Ok(None);
        };
        let now = self.now();
        let ctx = self.st.ctx.clone();
        let ty = ctx.customer_type;
        let mut total = (0, 0, 0);
        let add = |t: &mut (u32, u32, u32), d: (u32, u32, u32)| {
            t.0 += d.0;
            t.1 += d.1;
            t.2 += d.2;
        };
        // A name change (sometimes to one with an emoji: the value table is utf8mb4).
        let (first, last) = random_names(self.rng, true);
        let (code, value) = if self.rng.percent(50) {
            ("firstname", first)
        } else {
            ("lastname", last)
        };
        let d = self
            .set_eav(tx, ty, ctx.customer_attr(code), id, Some(value))
            .await?;
        add(&mut total, d);
        // The middle name or tax number field emptied if set, filled if empty.
        let code = if self.rng.percent(50) {
            "middlename"
        } else {
            "taxvat"
        };
        let has = match ctx.customer_attr(code) {
            Some(super::context::Attr {
                id: attr_id,
                table: Some(table),
            }) => first_id(
                tx,
                &format!(
                    "SELECT value_id FROM `{}` WHERE entity_id = ? AND attribute_id = ?",
                    table.name()
                ),
                (id, attr_id),
            )
            .await?
            .is_some(),
            _ => false,
        };
        let value = (!has).then(|| {
            if code == "middlename" {
                self.rng.pick(MIDDLE_NAMES).to_string()
            } else {
                format!("FR{}", self.rng.range(10_000_000_000, 99_999_999_999))
            }
        });
        let d = self
            .set_eav(tx, ty, ctx.customer_attr(code), id, value)
            .await?;
        add(&mut total, d);
        if self.rng.percent(30) {
            let gender = self.rng.range(1, 3).to_string();
            let d = self
                .set_eav(tx, ty, ctx.customer_attr("gender"), id, Some(gender))
                .await?;
            add(&mut total, d);
        }
        // Sometimes a new phone number on the first address.
        if self.rng.percent(40) {
            let address = first_id(
                tx,
                "SELECT entity_id FROM customer_address_entity WHERE parent_id = ? ORDER BY entity_id LIMIT 1",
                (id,),
            )
            .await?;
            if let Some(address) = address {
                let place = self.rng.pick(PLACES);
                let phone = digits(self.rng, &format!("{} ### ####", place.phone));
                let d = self
                    .set_eav(
                        tx,
                        ctx.address_type,
                        ctx.address_attr("telephone"),
                        address,
                        Some(phone),
                    )
                    .await?;
                add(&mut total, d);
                tx.exec_drop(
                    "UPDATE customer_address_entity SET updated_at = ? WHERE entity_id = ?",
                    (now.to_string(), address),
                )
                .await?;
            }
        }
        tx.exec_drop(
            "UPDATE customer_entity SET updated_at = ? WHERE entity_id = ?",
            (now.to_string(), id),
        )
        .await?;
        Ok(Some(Action::EditCustomer {
            customer_id: id as u64,
            updated: total.0,
            inserted: total.1,
            deleted: total.2,
        }))
    }

    async fn delete_customer(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::CustomerEntity, "1").await? else {
            return Ok(None);
        };
        // M1's newsletter observer drops the subscription (no foreign key there); the cascade
        // does the rest.
        tx.exec_drop(
            "DELETE FROM newsletter_subscriber WHERE customer_id = ?",
            (id,),
        )
        .await?;
        tx.exec_drop("DELETE FROM customer_entity WHERE entity_id = ?", (id,))
            .await?;
        Ok(Some(Action::DeleteCustomer {
            customer_id: id as u64,
        }))
    }

    /// A customer's details and default address as checkout reads them.
    async fn load_customer(
        &mut self,
        tx: &mut Tx<'_>,
        id: i64,
    ) -> Result<Option<(Person, Option<Address>, i64)>, mysql_async::Error> {
        let row: Option<Row> = tx
            .exec_first(
                "SELECT email, group_id, store_id FROM customer_entity WHERE entity_id = ?",
                (id,),
            )
            .await?;
        let Some(mut row) = row else {
            return Ok(None);
        };
        let email: Option<String> = col(&mut row, 0)?;
        let group_id: i64 = col(&mut row, 1)?;
        let store_id: Option<i64> = col(&mut row, 2)?;
        let values = self
            .values(
                tx,
                "SELECT attribute_id, value FROM customer_entity_varchar WHERE entity_id = ? \
                 UNION ALL SELECT attribute_id, CAST(value AS CHAR) FROM customer_entity_int WHERE entity_id = ?",
                id,
            )
            .await?;
        let ctx = &self.st.ctx;
        let get = |code: &str| {
            ctx.customer_attr(code)
                .and_then(|a| values.get(&a.id).cloned().flatten())
        };
        let person = Person {
            customer_id: Some(id),
            group_id,
            email: email.unwrap_or_default(),
            prefix: get("prefix"),
            firstname: get("firstname").unwrap_or_default(),
            middlename: get("middlename"),
            lastname: get("lastname").unwrap_or_default(),
            dob: None,
            gender: get("gender").and_then(|g| g.parse().ok()),
            taxvat: get("taxvat"),
        };
        let billing = get("default_billing").and_then(|v| v.parse::<i64>().ok());
        let address = match billing {
            Some(a) => self.load_address(tx, id, a).await?,
            None => None,
        };
        let store_id = store_id
            .filter(|s| self.st.ctx.stores.iter().any(|v| v.id == *s))
            .unwrap_or(self.st.ctx.stores[0].id);
        Ok(Some((person, address, store_id)))
    }

    /// (attribute_id, value) rows of a query whose every placeholder is the entity id.
    async fn values(
        &mut self,
        tx: &mut Tx<'_>,
        sql: &str,
        id: i64,
    ) -> Result<HashMap<i64, Option<String>>, mysql_async::Error> {
        let placeholders = sql.matches('?').count();
        let rows: Vec<Row> = tx.exec(sql, vec![id; placeholders]).await?;
        let mut out = HashMap::new();
        for mut row in rows {
            let attr: i64 = col(&mut row, 0)?;
            let value: Option<String> = col(&mut row, 1)?;
            out.insert(attr, value);
        }
        Ok(out)
    }

    async fn load_address(
        &mut self,
        tx: &mut Tx<'_>,
        customer_id: i64,
        address_id: i64,
    ) -> Result<Option<Address>, mysql_async::Error> {
        let exists = first_id(
            tx,
            "SELECT entity_id FROM customer_address_entity WHERE entity_id = ? AND parent_id = ?",
            (address_id, customer_id),
        )
        .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let values = self
            .values(
                tx,
                "SELECT attribute_id, value FROM customer_address_entity_varchar WHERE entity_id = ? \
                 UNION ALL SELECT attribute_id, value FROM customer_address_entity_text WHERE entity_id = ? \
                 UNION ALL SELECT attribute_id, CAST(value AS CHAR) FROM customer_address_entity_int WHERE entity_id = ?",
                address_id,
            )
            .await?;
        let ctx = &self.st.ctx;
        let get = |code: &str| {
            ctx.address_attr(code)
                .and_then(|a| values.get(&a.id).cloned().flatten())
        };
        Ok(Some(Address {
            customer_address_id: Some(address_id),
            firstname: get("firstname").unwrap_or_default(),
            lastname: get("lastname").unwrap_or_default(),
            company: get("company"),
            street: get("street").unwrap_or_default(),
            city: get("city").unwrap_or_default(),
            region: get("region"),
            region_id: get("region_id").and_then(|v| v.parse().ok()),
            postcode: get("postcode").unwrap_or_default(),
            country_id: get("country_id").unwrap_or_else(|| "US".to_string()),
            telephone: get("telephone").unwrap_or_default(),
            fax: get("fax"),
            vat_id: get("vat_id"),
        }))
    }

    // ---- quotes ----------------------------------------------------------------------

    /// A new active cart of a random customer (60 %) or a guest.
    async fn new_quote(&mut self, tx: &mut Tx<'_>) -> Result<i64, mysql_async::Error> {
        let now = self.now();
        let mut buyer = None;
        if self.rng.percent(60) {
            if let Some(id) = self.pick(tx, T::CustomerEntity, "1").await? {
                buyer = self.load_customer(tx, id).await?;
            }
        }
        let (person, billing, store) = match buyer {
            Some((person, address, store_id)) => {
                let address = match address {
                    Some(a) => a,
                    None => random_address(self.rng, &person.firstname, &person.lastname, false),
                };
                let store = self.st.ctx.store(store_id).clone();
                (person, address, store)
            }
            None => {
                let tag = format!("w{}", self.st.ids.max(T::Quote) + 1);
                let person = random_person(self.rng, false, &tag);
                let a = random_address(self.rng, &person.firstname, &person.lastname, false);
                let store = self.random_store();
                (person, a, store)
            }
        };
        let guest = person.customer_id.is_none();
        let (tax_bp, _) = billing.tax();
        let lines = random_lines(self.rng, 3, store.rate, tax_bp, 0);
        let carrier = (!lines.iter().all(|l| l.is_virtual)).then(|| self.rng.pick(CARRIERS));
        let t = totals(&lines, carrier, store.rate);
        let ip = random_ip(self.rng);
        let method = self
            .rng
            .percent(50)
            .then(|| *self.rng.pick(PAYMENT_METHODS));
        let mut w = self.writer();
        let ids = write_quote(
            &mut w,
            &mut self.st.ids,
            self.rng,
            &QuoteDraft {
                store: &store,
                person: &person,
                guest,
                billing: &billing,
                shipping: &billing,
                lines: &lines,
                totals: &t,
                carrier,
                coupon: None,
                active: true,
                reserved_order_id: None,
                created_at: now,
                updated_at: now,
                payment_method: method,
                remote_ip: &ip,
            },
        );
        w.flush(tx).await?;
        Ok(ids.quote_id)
    }

    async fn quote_activity(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let existing = if self.rng.percent(60) {
            self.pick(tx, T::Quote, "is_active = 1").await?
        } else {
            None
        };
        let Some(quote_id) = existing else {
            let quote_id = self.new_quote(tx).await?;
            return Ok(Some(Action::QuoteActivity {
                quote_id: quote_id as u64,
                created: true,
                items_added: 0,
                items_removed: 0,
            }));
        };
        let now = self.now();
        let q = self.load_quote(tx, quote_id).await?;
        let store = self.st.ctx.store(q.store_id).clone();
        let mut items = q.items;
        let mut w = self.writer();
        let mut added = 0;
        let mut removed = 0;
        // Carts stay at 1–5 lines, like the orders the seeder writes.
        if (self.rng.percent(40) || items.is_empty()) && items.len() < 5 {
            let tax_bp = q.shipping.as_ref().map(|a| a.1.tax().0).unwrap_or(0);
            let mut line = random_lines(self.rng, 1, store.rate, tax_bp, 0);
            if let Some(l) = line.pop() {
                let item_id = write_quote_item(
                    &mut w,
                    &mut self.st.ids,
                    self.rng,
                    quote_id,
                    store.id,
                    &l,
                    now,
                );
                items.push((item_id, l));
                added += 1;
            }
        } else if items.len() > 1 && self.rng.percent(30) {
            let i = self.rng.below(items.len() as u64) as usize;
            let (item_id, _) = items.remove(i);
            tx.exec_drop(
                "DELETE FROM sales_flat_quote_item WHERE item_id = ?",
                (item_id,),
            )
            .await?;
            removed += 1;
        } else {
            let i = self.rng.below(items.len() as u64) as usize;
            items[i].1.qty = self.rng.range(1, 4) * ONE;
        }
        // Totals are collected again: every item re-saved, the quote and its shipping address
        // updated, the shipping rates deleted and estimated again.
        let tax_bp = q.shipping.as_ref().map(|a| a.1.tax().0).unwrap_or(0);
        let lines: Vec<Line> = items
            .iter()
            .map(|(_, l)| {
                price_line(
                    l.product_id,
                    &l.sku,
                    &l.name,
                    l.weight,
                    l.is_virtual,
                    l.qty,
                    l.price.base,
                    store.rate,
                    tax_bp,
                    0,
                )
            })
            .collect();
        for ((item_id, _), l) in items.iter().zip(&lines) {
            if added > 0 && *item_id >= self.st.ids.max(T::QuoteItem) {
                continue; // the new row is written below with these values already
            }
            tx.exec_drop(
                "UPDATE sales_flat_quote_item SET qty = ?, row_total = ?, base_row_total = ?, \
                 row_total_with_discount = ?, tax_amount = ?, base_tax_amount = ?, tax_percent = ?, \
                 row_total_incl_tax = ?, base_row_total_incl_tax = ?, row_weight = ?, updated_at = ? \
                 WHERE item_id = ?",
                vec![
                    dec(l.qty),
                    dec(l.row.cur),
                    dec(l.row.base),
                    dec(l.row.cur),
                    dec(l.tax.cur),
                    dec(l.tax.base),
                    dec(l.tax_bp * 100),
                    dec(l.row_incl().cur),
                    dec(l.row_incl().base),
                    dec(l.weight * l.qty / ONE),
                    now.to_string(),
                    item_id.to_string(),
                ],
            )
            .await?;
        }
        let carrier = q
            .shipping
            .as_ref()
            .and_then(|(_, _, m)| m.as_deref())
            .and_then(|m| CARRIERS.iter().find(|c| c.code == m));
        let t = totals(&lines, carrier, store.rate);
        tx.exec_drop(
            "UPDATE sales_flat_quote SET items_count = ?, items_qty = ?, subtotal = ?, base_subtotal = ?, \
             subtotal_with_discount = ?, base_subtotal_with_discount = ?, grand_total = ?, base_grand_total = ?, \
             updated_at = ? WHERE entity_id = ?",
            vec![
                lines.len().to_string(),
                dec(t.qty),
                dec(t.subtotal.cur),
                dec(t.subtotal.base),
                dec(t.subtotal.cur),
                dec(t.subtotal.base),
                dec(t.grand.cur),
                dec(t.grand.base),
                now.to_string(),
                quote_id.to_string(),
            ],
        )
        .await?;
        if let Some((address_id, _, _)) = &q.shipping {
            tx.exec_drop(
                "UPDATE sales_flat_quote_address SET weight = ?, subtotal = ?, base_subtotal = ?, \
                 tax_amount = ?, base_tax_amount = ?, shipping_amount = ?, base_shipping_amount = ?, \
                 grand_total = ?, base_grand_total = ?, updated_at = ? WHERE address_id = ?",
                vec![
                    dec(t.weight),
                    dec(t.subtotal.cur),
                    dec(t.subtotal.base),
                    dec(t.tax.cur),
                    dec(t.tax.base),
                    dec(t.shipping.cur),
                    dec(t.shipping.base),
                    dec(t.grand.cur),
                    dec(t.grand.base),
                    now.to_string(),
                    address_id.to_string(),
                ],
            )
            .await?;
            tx.exec_drop(
                "DELETE FROM sales_flat_quote_shipping_rate WHERE address_id = ?",
                (address_id,),
            )
            .await?;
            if !t.virtual_only {
                let shipped: i64 = lines.iter().filter(|l| !l.is_virtual).map(|l| l.qty).sum();
                write_rates(
                    &mut w,
                    &mut self.st.ids,
                    self.rng,
                    *address_id,
                    carrier,
                    shipped,
                    store.rate,
                    now,
                );
            }
        }
        w.flush(tx).await?;
        Ok(Some(Action::QuoteActivity {
            quote_id: quote_id as u64,
            created: false,
            items_added: added,
            items_removed: removed,
        }))
    }

    /// A quote as checkout reads it.
    async fn load_quote(
        &mut self,
        tx: &mut Tx<'_>,
        quote_id: i64,
    ) -> Result<LoadedQuote, mysql_async::Error> {
        let row: Option<Row> = tx
            .exec_first(
                "SELECT store_id, customer_id, customer_group_id, customer_email, customer_firstname, \
                 customer_lastname, customer_gender, customer_is_guest, remote_ip \
                 FROM sales_flat_quote WHERE entity_id = ?",
                (quote_id,),
            )
            .await?;
        let Some(mut row) = row else {
            return Err(other(format!("quote {quote_id} vanished")));
        };
        let store_id: i64 = col(&mut row, 0)?;
        let customer_id: Option<i64> = col(&mut row, 1)?;
        let group_id: Option<i64> = col(&mut row, 2)?;
        let email: Option<String> = col(&mut row, 3)?;
        let firstname: Option<String> = col(&mut row, 4)?;
        let lastname: Option<String> = col(&mut row, 5)?;
        let gender: Option<String> = col(&mut row, 6)?;
        let is_guest: Option<i64> = col(&mut row, 7)?;
        let remote_ip: Option<String> = col(&mut row, 8)?;
        let guest = is_guest.unwrap_or(0) == 1 || customer_id.unwrap_or(0) == 0;
        let person = Person {
            customer_id: if guest { None } else { customer_id },
            group_id: group_id.unwrap_or(0),
            email: email.unwrap_or_default(),
            prefix: None,
            firstname: firstname.unwrap_or_default(),
            middlename: None,
            lastname: lastname.unwrap_or_default(),
            dob: None,
            gender: gender.and_then(|g| g.parse().ok()),
            taxvat: None,
        };
        let rows: Vec<Row> = tx
            .exec(
                "SELECT item_id, product_id, sku, name, weight, is_virtual, qty, base_price \
                 FROM sales_flat_quote_item WHERE quote_id = ? AND parent_item_id IS NULL ORDER BY item_id",
                (quote_id,),
            )
            .await?;
        let mut items = Vec::new();
        for mut row in rows {
            let item_id: i64 = col(&mut row, 0)?;
            let product_id: Option<i64> = col(&mut row, 1)?;
            let sku: Option<String> = col(&mut row, 2)?;
            let name: Option<String> = col(&mut row, 3)?;
            let weight = dec_col(&mut row, 4)?;
            let is_virtual: Option<i64> = col(&mut row, 5)?;
            let qty = dec_col(&mut row, 6)?;
            let base_price = dec_col(&mut row, 7)?;
            let line = price_line(
                product_id.unwrap_or(0),
                &sku.unwrap_or_default(),
                &name.unwrap_or_default(),
                weight,
                is_virtual.unwrap_or(0) == 1,
                qty.max(ONE),
                base_price,
                ONE,
                0,
                0,
            );
            items.push((item_id, line));
        }
        let rows: Vec<Row> = tx
            .exec(
                "SELECT address_id, address_type, customer_address_id, firstname, lastname, company, street, \
                 city, region, region_id, postcode, country_id, telephone, shipping_method \
                 FROM sales_flat_quote_address WHERE quote_id = ? ORDER BY address_id",
                (quote_id,),
            )
            .await?;
        let mut billing = None;
        let mut shipping = None;
        for mut row in rows {
            let address_id: i64 = col(&mut row, 0)?;
            let kind: Option<String> = col(&mut row, 1)?;
            let a = Address {
                customer_address_id: col(&mut row, 2)?,
                firstname: col::<Option<String>>(&mut row, 3)?.unwrap_or_default(),
                lastname: col::<Option<String>>(&mut row, 4)?.unwrap_or_default(),
                company: col(&mut row, 5)?,
                street: col::<Option<String>>(&mut row, 6)?.unwrap_or_default(),
                city: col::<Option<String>>(&mut row, 7)?.unwrap_or_default(),
                region: col(&mut row, 8)?,
                region_id: col(&mut row, 9)?,
                postcode: col::<Option<String>>(&mut row, 10)?.unwrap_or_default(),
                country_id: col::<Option<String>>(&mut row, 11)?
                    .filter(|c| c.len() == 2)
                    .unwrap_or_else(|| "US".to_string()),
                telephone: col::<Option<String>>(&mut row, 12)?.unwrap_or_default(),
                fax: None,
                vat_id: None,
            };
            let method: Option<String> = col(&mut row, 13)?;
            match kind.as_deref() {
                Some("billing") => billing = Some((address_id, a)),
                _ => shipping = Some((address_id, a, method)),
            }
        }
        let payment: Option<Row> = tx
            .exec_first(
                "SELECT payment_id, method FROM sales_flat_quote_payment WHERE quote_id = ? ORDER BY payment_id LIMIT 1",
                (quote_id,),
            )
            .await?;
        let payment = match payment {
            Some(mut row) => {
                let id: i64 = col(&mut row, 0)?;
                let method: Option<String> = col(&mut row, 1)?;
                Some((id, method))
            }
            None => None,
        };
        Ok(LoadedQuote {
            store_id,
            person,
            remote_ip,
            items,
            billing,
            shipping,
            payment,
        })
    }

    async fn clean_quote(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        // The cron removes converted carts first; abandoned ones once they are old enough.
        let cond = if self.rng.percent(80) {
            "is_active = 0"
        } else {
            "1"
        };
        let Some(id) = self.pick(tx, T::Quote, cond).await? else {
            return Ok(None);
        };
        tx.exec_drop("DELETE FROM sales_flat_quote WHERE entity_id = ?", (id,))
            .await?;
        Ok(Some(Action::CleanQuote {
            quote_id: id as u64,
        }))
    }

    // ---- orders ----------------------------------------------------------------------

    async fn place_order(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let picked = self
            .pick(
                tx,
                T::Quote,
                // A cart whose customer an admin deleted cannot be checked out any more.
                "is_active = 1 AND items_count > 0 AND customer_email IS NOT NULL \
                 AND (COALESCE(customer_id, 0) = 0 OR EXISTS (SELECT 1 FROM customer_entity c \
                 WHERE c.entity_id = sales_flat_quote.customer_id))",
            )
            .await?;
        let quote_id = match picked {
            Some(id) => id,
            None => self.new_quote(tx).await?,
        };
        let now = self.now();
        let q = self.load_quote(tx, quote_id).await?;
        if q.items.is_empty() {
            return Ok(None);
        }
        let store = self.st.ctx.store(q.store_id).clone();
        let billing = match (&q.billing, &q.shipping) {
            (Some((_, a)), _) => a.clone(),
            (None, Some((_, a, _))) => a.clone(),
            (None, None) => {
                random_address(self.rng, &q.person.firstname, &q.person.lastname, false)
            }
        };
        let shipping = q
            .shipping
            .as_ref()
            .map(|(_, a, _)| a.clone())
            .unwrap_or_else(|| billing.clone());
        let (tax_bp, _) = shipping.tax();
        let lines: Vec<Line> = q
            .items
            .iter()
            .map(|(_, l)| {
                price_line(
                    l.product_id,
                    &l.sku,
                    &l.name,
                    l.weight,
                    l.is_virtual,
                    l.qty,
                    l.price.base,
                    store.rate,
                    tax_bp,
                    0,
                )
            })
            .collect();
        let virtual_only = lines.iter().all(|l| l.is_virtual);
        let carrier = if virtual_only {
            None
        } else {
            q.shipping
                .as_ref()
                .and_then(|(_, _, m)| m.as_deref())
                .and_then(|m| CARRIERS.iter().find(|c| c.code == m))
                .or_else(|| Some(self.rng.pick(CARRIERS)))
        };
        let t = totals(&lines, carrier, store.rate);
        let method = q
            .payment
            .as_ref()
            .and_then(|(_, m)| m.clone())
            .unwrap_or_else(|| self.rng.pick(PAYMENT_METHODS).to_string());
        let payment = payment_for(self.rng, &method, &q.person);
        let protect_code = self.rng.hex(6);
        let note = self.rng.percent(5).then(|| random_comment(self.rng));
        let remote_ip = q.remote_ip.clone().unwrap_or_else(|| random_ip(self.rng));
        let order_type = self.st.ctx.order_type;
        let increment = self.increment(tx, order_type, store.id).await?;
        let order_id = self.st.ids.take(T::Order);
        let quote_ids = QuoteIds {
            quote_id,
            item_ids: q.items.iter().map(|(id, _)| *id).collect(),
            billing_id: q.billing.as_ref().map(|b| b.0).unwrap_or(0),
            shipping_id: q.shipping.as_ref().map(|s| s.0).unwrap_or(0),
            payment_id: q.payment.as_ref().map(|p| p.0),
        };
        let guest = q.person.customer_id.is_none();
        let mut person = q.person.clone();
        if person.email.is_empty() {
            person.email = format!("guest{order_id}@example.com");
        }
        let draft = OrderDraft {
            id: order_id,
            increment_id: &increment,
            store: &store,
            person: &person,
            guest,
            billing: &billing,
            shipping: (!virtual_only).then_some(&shipping),
            lines: &lines,
            quote: Some(&quote_ids),
            totals: &t,
            carrier,
            coupon: None,
            payment: &payment,
            created_at: now,
            remote_ip: &remote_ip,
            customer_note: note,
            protect_code: &protect_code,
        };
        let mut w = self.writer();
        write_order(
            &mut w,
            &mut self.st.ids,
            self.rng,
            &draft,
            &Fate::placed(now),
        );
        w.flush(tx).await?;
        tx.exec_drop(
            "UPDATE sales_flat_quote SET is_active = 0, reserved_order_id = ?, updated_at = ? WHERE entity_id = ?",
            (&increment, now.to_string(), quote_id),
        )
        .await?;
        Ok(Some(Action::PlaceOrder {
            order_id: order_id as u64,
            increment_id: increment,
            quote_id: quote_id as u64,
            customer_id: person.customer_id.map(|c| c as u64),
            store_id: store.id as u64,
        }))
    }

    /// M1's `updateGridRecords`: the grid row rebuilt from the order by INSERT … SELECT …
    /// ON DUPLICATE KEY UPDATE.
    async fn refresh_grid(
        &mut self,
        tx: &mut Tx<'_>,
        order_id: i64,
    ) -> Result<(), mysql_async::Error> {
        tx.exec_drop(
            "INSERT INTO sales_flat_order_grid (entity_id, status, store_id, store_name, customer_id, \
             base_grand_total, base_total_paid, grand_total, total_paid, increment_id, base_currency_code, \
             order_currency_code, shipping_name, billing_name, created_at, updated_at) \
             SELECT o.entity_id, o.status, o.store_id, o.store_name, o.customer_id, o.base_grand_total, \
             o.base_total_paid, o.grand_total, o.total_paid, o.increment_id, o.base_currency_code, \
             o.order_currency_code, \
             IF(s.entity_id IS NULL, NULL, CONCAT_WS(' ', s.firstname, s.lastname)), \
             IF(b.entity_id IS NULL, NULL, CONCAT_WS(' ', b.firstname, b.lastname)), \
             o.created_at, o.updated_at \
             FROM sales_flat_order o \
             LEFT JOIN sales_flat_order_address s ON s.entity_id = o.shipping_address_id \
             LEFT JOIN sales_flat_order_address b ON b.entity_id = o.billing_address_id \
             WHERE o.entity_id = ? \
             ON DUPLICATE KEY UPDATE status = VALUES(status), store_id = VALUES(store_id), \
             store_name = VALUES(store_name), customer_id = VALUES(customer_id), \
             base_grand_total = VALUES(base_grand_total), base_total_paid = VALUES(base_total_paid), \
             grand_total = VALUES(grand_total), total_paid = VALUES(total_paid), \
             increment_id = VALUES(increment_id), base_currency_code = VALUES(base_currency_code), \
             order_currency_code = VALUES(order_currency_code), shipping_name = VALUES(shipping_name), \
             billing_name = VALUES(billing_name), created_at = VALUES(created_at), \
             updated_at = VALUES(updated_at)",
            (order_id,),
        )
        .await
    }

    async fn history(
        &mut self,
        tx: &mut Tx<'_>,
        order_id: i64,
        comment: Option<&str>,
        entity_name: &str,
        notified: bool,
    ) -> Result<(), mysql_async::Error> {
        let now = self.now();
        let row: Option<Row> = tx
            .exec_first(
                "SELECT status FROM sales_flat_order WHERE entity_id = ?",
                (order_id,),
            )
            .await?;
        let status: Option<String> = match row {
            Some(mut r) => col(&mut r, 0)?,
            None => None,
        };
        let mut w = self.writer();
        write_history(
            &mut w,
            &mut self.st.ids,
            order_id,
            status.as_deref().unwrap_or("pending"),
            comment,
            entity_name,
            notified,
            now,
        );
        w.flush(tx).await
    }

    async fn change_status(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self
            .pick(tx, T::Order, "state IN ('new', 'processing', 'holded')")
            .await?
        else {
            return Ok(None);
        };
        let now = self.now().to_string();
        let state: Option<String> = {
            let row: Option<Row> = tx
                .exec_first(
                    "SELECT state FROM sales_flat_order WHERE entity_id = ?",
                    (id,),
                )
                .await?;
            match row {
                Some(mut r) => col(&mut r, 0)?,
                None => None,
            }
        };
        let comment_only = self.rng.percent(25);
        let mut comment = None;
        match (state.as_deref(), comment_only) {
            (Some("new"), false) => {
                tx.exec_drop(
                    "UPDATE sales_flat_order SET state = 'canceled', status = 'canceled', \
                     base_subtotal_canceled = base_subtotal, subtotal_canceled = subtotal, \
                     base_tax_canceled = base_tax_amount, tax_canceled = tax_amount, \
                     base_shipping_canceled = base_shipping_amount, shipping_canceled = shipping_amount, \
                     base_discount_canceled = base_discount_amount, discount_canceled = discount_amount, \
                     base_total_canceled = base_grand_total, total_canceled = grand_total, \
                     base_total_due = 0, total_due = 0, updated_at = ? WHERE entity_id = ?",
                    (&now, id),
                )
                .await?;
                tx.exec_drop(
                    "UPDATE sales_flat_order_item SET qty_canceled = qty_ordered - qty_invoiced, \
                     tax_canceled = tax_amount, updated_at = ? WHERE order_id = ?",
                    (&now, id),
                )
                .await?;
                tx.exec_drop(
                    "UPDATE sales_flat_order_payment SET amount_canceled = amount_ordered, \
                     base_amount_canceled = base_amount_ordered WHERE parent_id = ?",
                    (id,),
                )
                .await?;
            }
            (Some("processing"), false) => {
                tx.exec_drop(
                    "UPDATE sales_flat_order SET hold_before_state = state, hold_before_status = status, \
                     state = 'holded', status = 'holded', updated_at = ? WHERE entity_id = ?",
                    (&now, id),
                )
                .await?;
            }
            (Some("holded"), false) => {
                tx.exec_drop(
                    "UPDATE sales_flat_order SET state = COALESCE(hold_before_state, 'processing'), \
                     status = COALESCE(hold_before_status, 'processing'), hold_before_state = NULL, \
                     hold_before_status = NULL, updated_at = ? WHERE entity_id = ?",
                    (&now, id),
                )
                .await?;
            }
            _ => {
                comment = Some(random_comment(self.rng));
                tx.exec_drop(
                    "UPDATE sales_flat_order SET updated_at = ? WHERE entity_id = ?",
                    (&now, id),
                )
                .await?;
            }
        }
        self.history(tx, id, comment, "order", comment.is_some())
            .await?;
        self.refresh_grid(tx, id).await?;
        let status = {
            let row: Option<Row> = tx
                .exec_first(
                    "SELECT status FROM sales_flat_order WHERE entity_id = ?",
                    (id,),
                )
                .await?;
            match row {
                Some(mut r) => col::<Option<String>>(&mut r, 0)?.unwrap_or_default(),
                None => String::new(),
            }
        };
        Ok(Some(Action::ChangeOrderStatus {
            order_id: id as u64,
            status,
        }))
    }

    /// An order as its documents need it.
    async fn load_view(
        &mut self,
        tx: &mut Tx<'_>,
        order_id: i64,
    ) -> Result<Option<OrderView>, mysql_async::Error> {
        let row: Option<Row> = tx
            .exec_first(
                "SELECT o.store_id, o.increment_id, UNIX_TIMESTAMP(o.created_at), o.customer_id, \
                 o.billing_address_id, o.shipping_address_id, o.shipping_method, o.base_currency_code, \
                 o.order_currency_code, o.base_to_order_rate, \
                 o.base_subtotal, o.subtotal, o.base_tax_amount, o.tax_amount, \
                 o.base_shipping_amount, o.shipping_amount, o.base_discount_amount, o.discount_amount, \
                 o.base_grand_total, o.grand_total, o.base_subtotal_incl_tax, o.subtotal_incl_tax, \
                 (SELECT CONCAT_WS(' ', a.firstname, a.lastname) FROM sales_flat_order_address a WHERE a.entity_id = o.billing_address_id), \
                 (SELECT CONCAT_WS(' ', a.firstname, a.lastname) FROM sales_flat_order_address a WHERE a.entity_id = o.shipping_address_id), \
                 (SELECT p.entity_id FROM sales_flat_order_payment p WHERE p.parent_id = o.entity_id ORDER BY p.entity_id LIMIT 1), \
                 (SELECT p.method FROM sales_flat_order_payment p WHERE p.parent_id = o.entity_id ORDER BY p.entity_id LIMIT 1) \
                 FROM sales_flat_order o WHERE o.entity_id = ?",
                (order_id,),
            )
            .await?;
        let Some(mut r) = row else {
            return Ok(None);
        };
        let amt = |r: &mut Row, i: usize| -> Result<Amt, mysql_async::Error> {
            Ok(Amt {
                base: dec_col(r, i)?,
                cur: dec_col(r, i + 1)?,
            })
        };
        let store_id: Option<i64> = col(&mut r, 0)?;
        let increment_id: Option<String> = col(&mut r, 1)?;
        let created_at: Option<i64> = col(&mut r, 2)?;
        let customer_id: Option<i64> = col(&mut r, 3)?;
        let billing_address_id: Option<i64> = col(&mut r, 4)?;
        let shipping_address_id: Option<i64> = col(&mut r, 5)?;
        let shipping_method: Option<String> = col(&mut r, 6)?;
        let base_currency: Option<String> = col(&mut r, 7)?;
        let order_currency: Option<String> = col(&mut r, 8)?;
        let rate = dec_col(&mut r, 9)?;
        let subtotal = amt(&mut r, 10)?;
        let tax = amt(&mut r, 12)?;
        let shipping = amt(&mut r, 14)?;
        let discount = amt(&mut r, 16)?;
        let grand = amt(&mut r, 18)?;
        let subtotal_incl_tax = amt(&mut r, 20)?;
        let billing_name: Option<String> = col(&mut r, 22)?;
        let shipping_name: Option<String> = col(&mut r, 23)?;
        let payment_id: Option<i64> = col(&mut r, 24)?;
        let method: Option<String> = col(&mut r, 25)?;

        let rows: Vec<Row> = tx
            .exec(
                "SELECT item_id, product_id, sku, name, qty_ordered, is_virtual, weight, \
                 base_price, price, base_price_incl_tax, price_incl_tax, base_row_total, row_total, \
                 base_row_total_incl_tax, row_total_incl_tax, base_tax_amount, tax_amount, \
                 base_discount_amount, discount_amount \
                 FROM sales_flat_order_item WHERE order_id = ? AND parent_item_id IS NULL ORDER BY item_id",
                (order_id,),
            )
            .await?;
        let mut items = Vec::new();
        for mut r in rows {
            let item_id: i64 = col(&mut r, 0)?;
            let product_id: Option<i64> = col(&mut r, 1)?;
            let sku: Option<String> = col(&mut r, 2)?;
            let name: Option<String> = col(&mut r, 3)?;
            let qty = dec_col(&mut r, 4)?;
            let is_virtual: Option<i64> = col(&mut r, 5)?;
            let weight = dec_col(&mut r, 6)?;
            items.push(ItemView {
                item_id,
                product_id: product_id.unwrap_or(0),
                sku: sku.unwrap_or_default(),
                name: name.unwrap_or_default(),
                qty,
                is_virtual: is_virtual.unwrap_or(0) == 1,
                weight,
                price: amt(&mut r, 7)?,
                price_incl: amt(&mut r, 9)?,
                row: amt(&mut r, 11)?,
                row_incl: amt(&mut r, 13)?,
                tax: amt(&mut r, 15)?,
                discount: amt(&mut r, 17)?,
            });
        }
        let last_txn: Option<Row> = tx
            .exec_first(
                "SELECT transaction_id, txn_id FROM sales_payment_transaction WHERE order_id = ? \
                 ORDER BY transaction_id DESC LIMIT 1",
                (order_id,),
            )
            .await?;
        let last_txn = match last_txn {
            Some(mut r) => {
                let id: i64 = col(&mut r, 0)?;
                let txn: Option<String> = col(&mut r, 1)?;
                Some((id, txn.unwrap_or_default()))
            }
            None => None,
        };
        let store_id = store_id.unwrap_or(self.st.ctx.stores[0].id);
        Ok(Some(OrderView {
            id: order_id,
            store_id,
            increment_id: increment_id.unwrap_or_default(),
            created_at: created_at.map(Ts).unwrap_or(self.now()),
            customer_id,
            billing_address_id,
            shipping_address_id,
            billing_name: billing_name.unwrap_or_default(),
            shipping_name: shipping_name.unwrap_or_default(),
            shipping_method,
            base_currency: base_currency.unwrap_or_else(|| "USD".to_string()),
            order_currency: order_currency.unwrap_or_else(|| "USD".to_string()),
            rate: if rate == 0 { ONE } else { rate },
            subtotal,
            tax,
            shipping,
            discount,
            grand,
            subtotal_incl_tax,
            payment_id: payment_id.unwrap_or(0),
            online: method.as_deref() == Some("paypal_express") && payment_id.is_some(),
            last_txn,
            items,
        }))
    }

    async fn invoice(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::Order, INVOICEABLE).await? else {
            return Ok(None);
        };
        let Some(mut view) = self.load_view(tx, id).await? else {
            return Ok(None);
        };
        let now = self.now();
        let invoice_type = self.st.ctx.invoice_type;
        let increment = self.increment(tx, invoice_type, view.store_id).await?;
        let mut w = self.writer();
        let mut txn = None;
        if view.online {
            let parent = view.last_txn.clone();
            let t = write_transaction(
                &mut w,
                &mut self.st.ids,
                self.rng,
                &view,
                "capture",
                parent.as_ref().map(|(id, t)| (*id, t.as_str())),
                now,
            );
            txn = Some(t.1.clone());
            view.last_txn = Some(t);
        }
        let invoice_id = write_invoice(
            &mut w,
            &mut self.st.ids,
            self.rng,
            &view,
            &increment,
            txn.as_deref(),
            now,
        );
        w.flush(tx).await?;
        let shipped = first_id(
            tx,
            "SELECT 1 FROM sales_flat_order o WHERE o.entity_id = ? AND (o.is_virtual = 1 OR EXISTS \
             (SELECT 1 FROM sales_flat_shipment s WHERE s.order_id = o.entity_id))",
            (id,),
        )
        .await?
        .is_some();
        let state = if shipped { "complete" } else { "processing" };
        let now_s = now.to_string();
        tx.exec_drop(
            "UPDATE sales_flat_order SET state = ?, status = ?, \
             base_subtotal_invoiced = base_subtotal, subtotal_invoiced = subtotal, \
             base_tax_invoiced = base_tax_amount, tax_invoiced = tax_amount, \
             base_shipping_invoiced = base_shipping_amount, shipping_invoiced = shipping_amount, \
             base_discount_invoiced = base_discount_amount, discount_invoiced = discount_amount, \
             base_total_invoiced = base_grand_total, total_invoiced = grand_total, \
             base_total_invoiced_cost = 0, base_total_paid = base_grand_total, total_paid = grand_total, \
             base_total_due = 0, total_due = 0, updated_at = ? WHERE entity_id = ?",
            (state, state, &now_s, id),
        )
        .await?;
        tx.exec_drop(
            "UPDATE sales_flat_order_item SET qty_invoiced = qty_ordered, row_invoiced = row_total, \
             base_row_invoiced = base_row_total, tax_invoiced = tax_amount, base_tax_invoiced = base_tax_amount, \
             discount_invoiced = discount_amount, base_discount_invoiced = base_discount_amount, \
             updated_at = ? WHERE order_id = ?",
            (&now_s, id),
        )
        .await?;
        tx.exec_drop(
            "UPDATE sales_flat_order_payment SET amount_paid = amount_ordered, base_amount_paid = base_amount_ordered, \
             shipping_captured = shipping_amount, base_shipping_captured = base_shipping_amount, \
             base_amount_paid_online = IF(? , base_amount_ordered, base_amount_paid_online), \
             last_trans_id = COALESCE(?, last_trans_id) WHERE parent_id = ?",
            (view.online, txn.clone(), id),
        )
        .await?;
        let comment = view.online.then(|| {
            format!(
                "Captured amount of ${} online. Transaction ID: \"{}\".",
                super::seed::display_money(view.grand.base),
                txn.as_deref().unwrap_or("")
            )
        });
        self.history(tx, id, comment.as_deref(), "invoice", false)
            .await?;
        self.refresh_grid(tx, id).await?;
        Ok(Some(Action::Invoice {
            order_id: id as u64,
            invoice_id: invoice_id as u64,
            increment_id: increment,
        }))
    }

    async fn ship(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::Order, SHIPPABLE).await? else {
            return Ok(None);
        };
        let Some(view) = self.load_view(tx, id).await? else {
            return Ok(None);
        };
        let now = self.now();
        let shipment_type = self.st.ctx.shipment_type;
        let increment = self.increment(tx, shipment_type, view.store_id).await?;
        let mut w = self.writer();
        let shipment_id =
            write_shipment(&mut w, &mut self.st.ids, self.rng, &view, &increment, now);
        w.flush(tx).await?;
        let now_s = now.to_string();
        tx.exec_drop(
            "UPDATE sales_flat_order_item SET qty_shipped = qty_ordered, updated_at = ? \
             WHERE order_id = ? AND COALESCE(is_virtual, 0) = 0",
            (&now_s, id),
        )
        .await?;
        tx.exec_drop(
            "UPDATE sales_flat_order SET \
             state = IF(COALESCE(base_total_invoiced, 0) > 0, 'complete', 'processing'), \
             status = IF(COALESCE(base_total_invoiced, 0) > 0, 'complete', 'processing'), \
             updated_at = ? WHERE entity_id = ?",
            (&now_s, id),
        )
        .await?;
        let comment = self.rng.percent(20).then(|| random_comment(self.rng));
        self.history(tx, id, comment, "shipment", true).await?;
        self.refresh_grid(tx, id).await?;
        Ok(Some(Action::Ship {
            order_id: id as u64,
            shipment_id: shipment_id as u64,
            increment_id: increment,
        }))
    }

    async fn refund(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::Order, REFUNDABLE).await? else {
            return Ok(None);
        };
        let Some(mut view) = self.load_view(tx, id).await? else {
            return Ok(None);
        };
        let now = self.now();
        let invoice_id = first_id(
            tx,
            "SELECT entity_id FROM sales_flat_invoice WHERE order_id = ? ORDER BY entity_id LIMIT 1",
            (id,),
        )
        .await?;
        let creditmemo_type = self.st.ctx.creditmemo_type;
        let increment = self.increment(tx, creditmemo_type, view.store_id).await?;
        let mut w = self.writer();
        let mut txn = None;
        if view.online {
            let parent = view.last_txn.clone();
            let t = write_transaction(
                &mut w,
                &mut self.st.ids,
                self.rng,
                &view,
                "refund",
                parent.as_ref().map(|(id, t)| (*id, t.as_str())),
                now,
            );
            txn = Some(t.1.clone());
            view.last_txn = Some(t);
        }
        let creditmemo_id = write_creditmemo(
            &mut w,
            &mut self.st.ids,
            self.rng,
            &view,
            &increment,
            invoice_id,
            txn.as_deref(),
            now,
        );
        w.flush(tx).await?;
        let now_s = now.to_string();
        let online = view.online;
        tx.exec_drop(
            "UPDATE sales_flat_order SET state = 'closed', status = 'closed', \
             base_subtotal_refunded = base_subtotal, subtotal_refunded = subtotal, \
             base_tax_refunded = base_tax_amount, tax_refunded = tax_amount, \
             base_shipping_refunded = base_shipping_amount, shipping_refunded = shipping_amount, \
             base_shipping_tax_refunded = 0, shipping_tax_refunded = 0, \
             base_discount_refunded = base_discount_amount, discount_refunded = discount_amount, \
             base_total_refunded = base_grand_total, total_refunded = grand_total, \
             base_total_online_refunded = IF(?, base_grand_total, NULL), \
             total_online_refunded = IF(?, grand_total, NULL), \
             base_total_offline_refunded = IF(?, NULL, base_grand_total), \
             total_offline_refunded = IF(?, NULL, grand_total), \
             updated_at = ? WHERE entity_id = ?",
            (online, online, online, online, &now_s, id),
        )
        .await?;
        tx.exec_drop(
            "UPDATE sales_flat_order_item SET qty_refunded = qty_ordered, amount_refunded = row_total, \
             base_amount_refunded = base_row_total, tax_refunded = tax_amount, base_tax_refunded = base_tax_amount, \
             discount_refunded = discount_amount, base_discount_refunded = base_discount_amount, \
             updated_at = ? WHERE order_id = ?",
            (&now_s, id),
        )
        .await?;
        tx.exec_drop(
            "UPDATE sales_flat_order_payment SET amount_refunded = amount_ordered, \
             base_amount_refunded = base_amount_ordered, shipping_refunded = shipping_amount, \
             base_shipping_refunded = base_shipping_amount, \
             base_amount_refunded_online = IF(?, base_amount_ordered, NULL) WHERE parent_id = ?",
            (online, id),
        )
        .await?;
        if let Some(invoice_id) = invoice_id {
            tx.exec_drop(
                "UPDATE sales_flat_invoice SET base_total_refunded = base_grand_total, is_used_for_refund = 1, \
                 updated_at = ? WHERE entity_id = ?",
                (&now_s, invoice_id),
            )
            .await?;
        }
        let comment = format!(
            "Refunded amount of ${} {}.",
            super::seed::display_money(view.grand.base),
            if online { "online" } else { "offline" }
        );
        self.history(tx, id, Some(&comment), "creditmemo", false)
            .await?;
        self.refresh_grid(tx, id).await?;
        Ok(Some(Action::Refund {
            order_id: id as u64,
            creditmemo_id: creditmemo_id as u64,
            increment_id: increment,
        }))
    }

    // ---- reviews, newsletter, visitors -------------------------------------------------

    async fn review(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let mut customer = None;
        let mut store_id = self.random_store().id;
        if self.rng.percent(60) {
            if let Some(id) = self.pick(tx, T::CustomerEntity, "1").await? {
                customer = Some(id);
                let s = first_id(
                    tx,
                    "SELECT store_id FROM customer_entity WHERE entity_id = ?",
                    (id,),
                )
                .await?;
                if let Some(s) = s.filter(|s| self.st.ctx.stores.iter().any(|v| v.id == *s)) {
                    store_id = s;
                }
            }
        }
        let now = self.now();
        let mut w = self.writer();
        let review_id = write_review(
            &mut w,
            &mut self.st.ids,
            self.rng,
            &self.st.ctx,
            customer,
            store_id,
            now,
        );
        w.flush(tx).await?;
        Ok(Some(Action::SubmitReview {
            review_id: review_id as u64,
            customer_id: customer.map(|c| c as u64),
        }))
    }

    async fn delete_review(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::Review, "1").await? else {
            return Ok(None);
        };
        // Votes point at the review without a foreign key; M1 deletes them with it.
        tx.exec_drop("DELETE FROM rating_option_vote WHERE review_id = ?", (id,))
            .await?;
        tx.exec_drop("DELETE FROM review WHERE review_id = ?", (id,))
            .await?;
        Ok(Some(Action::DeleteReview {
            review_id: id as u64,
        }))
    }

    async fn newsletter(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let now = self.now();
        if self.rng.percent(60) {
            if let Some(id) = self.pick(tx, T::Subscriber, "1").await? {
                let current = first_id(
                    tx,
                    "SELECT subscriber_status FROM newsletter_subscriber WHERE subscriber_id = ?",
                    (id,),
                )
                .await?;
                let status = if current == Some(1) { 3 } else { 1 };
                tx.exec_drop(
                    "UPDATE newsletter_subscriber SET subscriber_status = ?, change_status_at = ? WHERE subscriber_id = ?",
                    (status, now.to_string(), id),
                )
                .await?;
                return Ok(Some(Action::Newsletter {
                    subscriber_id: id as u64,
                    status,
                    new: false,
                }));
            }
        }
        let n = self.st.ids.max(T::Subscriber) + 1;
        let email = if self.rng.percent(10) {
            format!("news😀{n}@example.com")
        } else {
            format!("reader{n}@{}", self.rng.pick(EMAIL_DOMAINS))
        };
        let store_id = self.random_store().id;
        let mut w = self.writer();
        let id = write_subscriber(
            &mut w,
            &mut self.st.ids,
            self.rng,
            store_id,
            0,
            &email,
            1,
            now,
        );
        w.flush(tx).await?;
        Ok(Some(Action::Newsletter {
            subscriber_id: id as u64,
            status: 1,
            new: true,
        }))
    }

    async fn visit(&mut self, tx: &mut Tx<'_>) -> Result<Option<Action>, mysql_async::Error> {
        let now = self.now();
        let max = self.st.ids.max(T::LogVisitor);
        if max > 0 && self.rng.percent(40) {
            // A further page view of a recent session.
            let from = (max - 50).max(1);
            let id = first_id(
                tx,
                "SELECT visitor_id FROM log_visitor WHERE visitor_id >= ? ORDER BY visitor_id LIMIT 1",
                (self.rng.range(from, max),),
            )
            .await?;
            if let Some(id) = id {
                tx.exec_drop(
                    "UPDATE log_visitor SET last_visit_at = ?, last_url_id = ? WHERE visitor_id = ?",
                    (now.to_string(), self.rng.range(1, 50_000), id),
                )
                .await?;
                return Ok(Some(Action::Visit {
                    visitor_id: id as u64,
                    new: false,
                }));
            }
        }
        let customer = if self.rng.percent(30) {
            self.pick(tx, T::CustomerEntity, "1").await?
        } else {
            None
        };
        let store_id = self.random_store().id;
        let mut w = self.writer();
        let id = write_visit(&mut w, &mut self.st.ids, self.rng, store_id, customer, now);
        w.flush(tx).await?;
        Ok(Some(Action::Visit {
            visitor_id: id as u64,
            new: true,
        }))
    }
}

/// A quote as read back for checkout: items re-priced later with the order's tax rate.
struct LoadedQuote {
    store_id: i64,
    person: Person,
    remote_ip: Option<String>,
    items: Vec<(i64, Line)>,
    billing: Option<(i64, Address)>,
    /// (address id, address, shipping method).
    shipping: Option<(i64, Address, Option<String>)>,
    payment: Option<(i64, Option<String>)>,
}

/// A decimal(12,4) parameter, sent as text so no float is involved.
fn dec(v: i64) -> String {
    super::sql::dec4_str(v)
}
