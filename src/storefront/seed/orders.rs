//! Seeded orders: each with its converted quote, a fate (invoiced, shipped, refunded,
//! canceled, held, or still open) and the documents and history rows that fate implies.

use super::seeder::Seeder;
use crate::storefront::entities::{
    capture_comment, chain_transaction, payment_for, random_basket, random_comment, random_ip,
    refund_comment, write_creditmemo, write_history, write_invoice, write_order, write_quote,
    write_shipment, Fate, OrderDraft, OrderView, QuoteDraft,
};
use crate::storefront::rng::Rng;
use crate::storefront::sql::T;
use crate::storefront::text::{Ts, PAYMENT_METHODS};

/// When an order's documents are dated, had it got them.
struct Dates {
    invoice: Ts,
    ship: Ts,
    refund: Ts,
    cancel: Ts,
}

/// What happens to an order placed at `at`, roughly as §3.3 of the schema notes has it:
/// ~88 % invoiced, ~84 % shipped, ~6 % refunded, ~5 % canceled, the rest still open.
fn random_fate(rng: &mut Rng, at: Ts, virtual_only: bool) -> (Fate, Dates) {
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
    let invoice = at.plus(rng.range(60, 2 * 86_400));
    let ship = invoice.plus(rng.range(2 * 3_600, 3 * 86_400));
    let refund = ship.plus(rng.range(3 * 86_400, 20 * 86_400));
    let cancel = at.plus(rng.range(3_600, 5 * 86_400));
    fate.updated_at = if fate.refunded {
        refund
    } else if fate.shipped {
        ship
    } else if fate.invoiced {
        invoice
    } else if fate.canceled {
        cancel
    } else {
        at
    };
    (
        fate,
        Dates {
            invoice,
            ship,
            refund,
            cancel,
        },
    )
}

impl Seeder<'_> {
    /// Order `j` of the history, placed at `at`, with its quote and documents.
    pub(super) fn order(&mut self, j: i64, at: Ts) {
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
        let discount_bp = if coupon.is_some() { 1_000 } else { 0 };
        let basket = random_basket(rng, 5, store.rate, tax_bp, discount_bp);
        let virtual_only = basket.totals.virtual_only;
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
                basket: &basket,
                coupon,
                active: false,
                reserved_order_id: Some(&increment),
                created_at: quote_at,
                updated_at: at,
                payment_method: Some(method),
                remote_ip: &remote_ip,
            },
        );

        let (fate, dates) = random_fate(&mut self.rng, at, virtual_only);

        let draft = OrderDraft {
            id: order_id,
            increment_id: &increment,
            store: &store,
            person: &person,
            guest,
            billing: &billing,
            shipping: (!virtual_only).then_some(&shipping),
            basket: &basket,
            quote: Some(&quote),
            coupon,
            payment: &payment,
            created_at: at,
            remote_ip: &remote_ip,
            customer_note: note,
            protect_code: &protect_code,
        };
        let mut view = write_order(&mut self.w, &mut self.ids, &mut self.rng, &draft, &fate);
        self.documents(&mut view, &fate, &dates, virtual_only);
    }

    /// The invoice, shipment and credit memo an order's fate implies, with history rows.
    fn documents(&mut self, view: &mut OrderView, fate: &Fate, dates: &Dates, virtual_only: bool) {
        let (w, ids, rng, ctx) = (&mut self.w, &mut self.ids, &mut self.rng, &self.ctx);
        if fate.canceled {
            write_history(
                w,
                ids,
                view.id,
                "canceled",
                None,
                "order",
                false,
                dates.cancel,
            );
        }
        let mut invoice_id = None;
        if fate.invoiced {
            let increment = self.seqs.next(ctx, ctx.invoice_type, view.store_id);
            let txn = view
                .online
                .then(|| chain_transaction(w, ids, rng, view, "capture", dates.invoice));
            invoice_id = Some(write_invoice(
                w,
                ids,
                rng,
                view,
                &increment,
                txn.as_deref(),
                dates.invoice,
            ));
            let comment = txn.as_deref().map(|txn| capture_comment(view, txn));
            write_history(
                w,
                ids,
                view.id,
                "processing",
                comment.as_deref(),
                "invoice",
                false,
                dates.invoice,
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
                dates.invoice.plus(600),
            );
        }
        if fate.shipped && !virtual_only {
            let increment = self.seqs.next(ctx, ctx.shipment_type, view.store_id);
            write_shipment(w, ids, rng, view, &increment, dates.ship);
            let comment = rng.percent(20).then(|| random_comment(rng));
            let status = if fate.invoiced {
                "complete"
            } else {
                "processing"
            };
            write_history(
                w, ids, view.id, status, comment, "shipment", true, dates.ship,
            );
        }
        if fate.refunded {
            let increment = self.seqs.next(ctx, ctx.creditmemo_type, view.store_id);
            let txn = view
                .online
                .then(|| chain_transaction(w, ids, rng, view, "refund", dates.refund));
            write_creditmemo(
                w,
                ids,
                rng,
                view,
                &increment,
                invoice_id,
                txn.as_deref(),
                dates.refund,
            );
            let comment = refund_comment(view);
            write_history(
                w,
                ids,
                view.id,
                "closed",
                Some(&comment),
                "creditmemo",
                false,
                dates.refund,
            );
        }
    }
}
