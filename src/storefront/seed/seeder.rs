//! The seeder's state and the entities it adds one at a time: customers, open carts,
//! reviews, subscribers and visits, at times spread over the history.

use mysql_async::{Conn, TxOpts};

use super::sequences::Sequences;
use super::StoreProfile;
use crate::storefront::context::{Context, Ids};
use crate::storefront::entities::{
    customer_profile, random_address, random_basket, random_ip, random_person, write_customer,
    write_quote, write_review, write_subscriber, write_visit, write_wishlist, Address, Person,
    QuoteDraft,
};
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Writer, T};
use crate::storefront::text::{Ts, EMAIL_DOMAINS, HISTORY_START, PAYMENT_METHODS};

/// A seeded customer, as much as later orders and reviews need: the rest is re-derived.
#[derive(Debug, Clone, Copy)]
pub(super) struct CustomerRef {
    id: i64,
    first_address: i64,
    created_at: Ts,
}

/// What seeding keeps while it runs: reference data, id and increment counters, the rows
/// waiting to be sent, the main random stream, and the customers created so far.
pub(super) struct Seeder<'a> {
    pub(super) profile: &'a StoreProfile,
    pub(super) ctx: Context,
    pub(super) ids: Ids,
    pub(super) seqs: Sequences,
    pub(super) w: Writer,
    pub(super) rng: Rng,
    /// In creation order, hence by `created_at`.
    pub(super) customers: Vec<CustomerRef>,
}

impl Seeder<'_> {
    /// The time of event `k` of `n` spread evenly over `span` seconds of history, jittered
    /// within its slot so that times still increase with `k`.
    pub(super) fn spread(&mut self, k: i64, n: i64, span: i64) -> Ts {
        let n = n.max(1);
        let slot = (span / n).max(1);
        HISTORY_START.plus(span * k / n + self.rng.range(0, slot - 1))
    }

    /// Sends the waiting rows once some table has a full batch.
    pub(super) async fn flush_if_full(
        &mut self,
        conn: &mut Conn,
    ) -> Result<(), mysql_async::Error> {
        if self.w.is_full() {
            let mut tx = conn.start_transaction(TxOpts::default()).await?;
            self.w.flush(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// A customer with addresses; sometimes a newsletter subscription and a wishlist.
    pub(super) fn customer(&mut self, at: Ts) {
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
    pub(super) fn buyer(
        &mut self,
        guest: bool,
        tag: &str,
        at: Ts,
    ) -> (Person, Address, Address, i64) {
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
        let store = self.ctx.random_store(&mut self.rng).id;
        (person, billing, shipping, store)
    }

    /// An open cart of the last days of the history.
    pub(super) fn active_quote(&mut self, at: Ts) {
        let guest = self.rng.percent(40);
        let tag = format!("q{}", self.ids.max(T::Quote) + 1);
        let (person, billing, shipping, store_id) = self.buyer(guest, &tag, at);
        let guest = person.customer_id.is_none();
        let store = self.ctx.store(store_id).clone();
        let rng = &mut self.rng;
        let (tax_bp, _) = shipping.tax();
        let basket = random_basket(rng, 4, store.rate, tax_bp, 0);
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
                basket: &basket,
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

    /// `percent` % of the time a customer created by `at` (if any), else a guest (None).
    fn sometimes_customer_before(&mut self, percent: u32, at: Ts) -> Option<CustomerRef> {
        if self.rng.percent(percent) {
            self.customer_before(at)
        } else {
            None
        }
    }

    pub(super) fn review(&mut self, at: Ts) {
        let customer = self.sometimes_customer_before(70, at);
        let store_id = match customer {
            Some(c) => customer_profile(self.profile.seed, c.id, &self.ctx).store_id,
            None => self.ctx.any_store(&mut self.rng).id,
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

    pub(super) fn guest_subscriber(&mut self, k: i64, at: Ts) {
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
        let store_id = self.ctx.any_store(rng).id;
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

    pub(super) fn visit(&mut self, at: Ts) {
        let customer = self.sometimes_customer_before(30, at);
        let store_id = self.ctx.any_store(&mut self.rng).id;
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
