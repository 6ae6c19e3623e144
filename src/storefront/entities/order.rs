//! Orders: what became of one (its fate), its items, addresses, payment, tax, grid and
//! status history rows.

use super::customer::{Address, Person};
use super::documents::{ItemView, OrderView};
use super::money::ONE;
use super::payment::{write_order_payment, Payment};
use super::pricing::{base_cost, buy_request, Basket, Line};
use super::quote::QuoteIds;
use crate::storefront::context::{Ids, StoreView};
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Row, Writer, T};
use crate::storefront::text::{mb3, Ts, FOUR_BYTE_HISTORY_COMMENTS, HISTORY_COMMENTS};

/// What became of an order by the time it is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fate {
    pub invoiced: bool,
    pub shipped: bool,
    pub refunded: bool,
    pub canceled: bool,
    pub holded: bool,
    pub updated_at: Ts,
}

impl Fate {
    /// Just placed: nothing has happened to it yet.
    pub fn placed(at: Ts) -> Fate {
        Fate {
            invoiced: false,
            shipped: false,
            refunded: false,
            canceled: false,
            holded: false,
            updated_at: at,
        }
    }

    /// (state, status) as M1's default status of each state.
    pub fn state(&self) -> (&'static str, &'static str) {
        if self.canceled {
            ("canceled", "canceled")
        } else if self.refunded {
            ("closed", "closed")
        } else if self.holded {
            ("holded", "holded")
        } else if self.invoiced && self.shipped {
            ("complete", "complete")
        } else if self.invoiced || self.shipped {
            ("processing", "processing")
        } else {
            ("new", "pending")
        }
    }
}

/// Everything an order is written from.
pub(crate) struct OrderDraft<'a> {
    pub id: i64,
    pub increment_id: &'a str,
    pub store: &'a StoreView,
    pub person: &'a Person,
    pub guest: bool,
    pub billing: &'a Address,
    pub shipping: Option<&'a Address>,
    pub quote: Option<&'a QuoteIds>,
    pub basket: &'a Basket,
    pub coupon: Option<&'static str>,
    pub payment: &'a Payment,
    pub created_at: Ts,
    pub remote_ip: &'a str,
    pub customer_note: Option<&'a str>,
    pub protect_code: &'a str,
}

/// `Some(v)` when `on`, else NULL: the *_invoiced / *_refunded / *_canceled columns.
fn when(on: bool, v: i64) -> Option<i64> {
    on.then_some(v)
}

/// An amount and, as far as the order's fate went, the same again as canceled, invoiced and
/// refunded (NULL where not): the order's `<x>`, `<x>_canceled`, `<x>_invoiced` and
/// `<x>_refunded` columns.
fn amount_columns(r: &mut Row<'_>, fate: &Fate, v: i64) {
    r.dec4(v)
        .opt_dec4(when(fate.canceled, v))
        .opt_dec4(when(fate.invoiced, v))
        .opt_dec4(when(fate.refunded, v));
}

/// One order address, copied from the quote's (when there is one) and the customer's.
#[allow(clippy::too_many_arguments)]
fn write_order_address(
    w: &mut Writer,
    ids: &mut Ids,
    order_id: i64,
    quote_address_id: Option<i64>,
    customer_id: Option<i64>,
    email: &str,
    kind: &str,
    a: &Address,
) -> i64 {
    let id = ids.take(T::OrderAddress);
    w.row(T::OrderAddress, |r| {
        r.int(id)
            .int(order_id)
            .opt_int(a.customer_address_id)
            .opt_int(quote_address_id)
            .opt_int(a.region_id)
            .opt_int(customer_id)
            .opt_str(a.fax.as_deref())
            .opt_str(a.region.as_deref())
            .str(&a.postcode)
            .str(&mb3(&a.lastname))
            .str(&mb3(&a.street))
            .str(&a.city)
            .str(email)
            .str(&a.telephone)
            .str(&a.country_id)
            .str(&mb3(&a.firstname))
            .str(kind)
            .null()
            .null()
            .opt_str(a.company.as_deref())
            .opt_str(a.vat_id.as_deref());
    });
    id
}

/// One status history row (the M1 order comments table, utf8mb4 in this fixture).
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_history(
    w: &mut Writer,
    ids: &mut Ids,
    order_id: i64,
    status: &str,
    comment: Option<&str>,
    entity_name: &str,
    notified: bool,
    at: Ts,
) {
    let id = ids.take(T::OrderStatusHistory);
    w.row(T::OrderStatusHistory, |r| {
        r.int(id)
            .int(order_id)
            .int(i64::from(notified))
            .int(i64::from(comment.is_some() && notified))
            .opt_str(comment)
            .str(status)
            .ts(at)
            .str(entity_name);
    });
}

/// A shopper's or admin's free-text comment; sometimes with emoji (the table is utf8mb4).
pub(crate) fn random_comment(rng: &mut Rng) -> &'static str {
    if rng.percent(35) {
        rng.pick::<&str>(FOUR_BYTE_HISTORY_COMMENTS)
    } else {
        rng.pick::<&str>(HISTORY_COMMENTS)
    }
}

/// The order with items, addresses, payment, first status history row, tax rows and grid row,
/// written as they stand after `fate`. Returns what later documents need.
pub(crate) fn write_order(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    d: &OrderDraft<'_>,
    fate: &Fate,
) -> OrderView {
    let t = &d.basket.totals;
    let rate = d.store.rate;
    let order_id = d.id;
    let (state, status) = fate.state();
    let customer_id = if d.guest { None } else { d.person.customer_id };

    let billing_id = write_order_address(
        w,
        ids,
        order_id,
        d.quote.map(|q| q.billing_id),
        customer_id,
        &d.person.email,
        "billing",
        d.billing,
    );
    let shipping_id = d.shipping.map(|a| {
        write_order_address(
            w,
            ids,
            order_id,
            d.quote.map(|q| q.shipping_id),
            customer_id,
            &d.person.email,
            "shipping",
            a,
        )
    });

    let tax_id = (t.tax.base != 0).then(|| ids.take(T::OrderTax));
    let items: Vec<ItemView> = d
        .basket
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| write_order_item(w, ids, rng, d, fate, i, l))
        .collect();

    let (payment_id, auth) = write_order_payment(w, ids, rng, d, fate);

    if let Some(tax_id) = tax_id {
        let (tax_bp, code) = d.shipping.unwrap_or(d.billing).tax();
        w.row(T::OrderTax, |r| {
            r.int(tax_id)
                .int(order_id)
                .str(code)
                .str(code)
                .dec4(tax_bp * 100)
                .dec4(t.tax.cur)
                .int(0)
                .int(0)
                .dec4(t.tax.base)
                .int(0)
                .dec4(t.tax.base)
                .int(0);
        });
        for (it, l) in items.iter().zip(&d.basket.lines) {
            let id = ids.take(T::OrderTaxItem);
            w.row(T::OrderTaxItem, |r| {
                r.int(id).int(tax_id).int(it.item_id).dec4(l.tax_bp * 100);
            });
        }
    }

    let discount = t.discount.neg();
    let person = d.person;
    let shipping_description = d
        .basket
        .carrier
        .filter(|_| !t.virtual_only)
        .map(|c| c.description());
    let total_item_count = d.basket.lines.len() as i64;
    let online = d.payment.online();
    w.row(T::Order, |r| {
        r.int(order_id)
            .str(state)
            .str(status)
            .opt_str(d.coupon)
            .str(d.protect_code)
            .opt_str(shipping_description.as_deref())
            .int(i64::from(t.virtual_only))
            .int(d.store.id)
            .opt_int(customer_id);
        // base_discount_amount … base_total_refunded
        amount_columns(r, fate, discount.base);
        r.dec4(t.grand.base);
        amount_columns(r, fate, t.shipping.base);
        r.dec4(0).opt_dec4(when(fate.refunded, 0));
        amount_columns(r, fate, t.subtotal.base);
        amount_columns(r, fate, t.tax.base);
        r.dec4(ONE)
            .dec4(rate)
            .opt_dec4(when(fate.canceled, t.grand.base))
            .opt_dec4(when(fate.invoiced, t.grand.base))
            .opt_dec4(when(fate.invoiced, 0))
            .opt_dec4(when(fate.refunded && !online, t.grand.base))
            .opt_dec4(when(fate.refunded && online, t.grand.base))
            .opt_dec4(when(fate.invoiced, t.grand.base))
            .dec4(t.qty)
            .opt_dec4(when(fate.refunded, t.grand.base));
        // discount_amount … total_refunded
        amount_columns(r, fate, discount.cur);
        r.dec4(t.grand.cur);
        amount_columns(r, fate, t.shipping.cur);
        r.dec4(0)
            .opt_dec4(when(fate.refunded, 0))
            .dec4(ONE)
            .dec4(rate);
        amount_columns(r, fate, t.subtotal.cur);
        amount_columns(r, fate, t.tax.cur);
        r.opt_dec4(when(fate.canceled, t.grand.cur))
            .opt_dec4(when(fate.invoiced, t.grand.cur))
            .opt_dec4(when(fate.refunded && !online, t.grand.cur))
            .opt_dec4(when(fate.refunded && online, t.grand.cur))
            .opt_dec4(when(fate.invoiced, t.grand.cur))
            .dec4(t.qty)
            .opt_dec4(when(fate.refunded, t.grand.cur))
            // customer_is_guest …
            .int(i64::from(d.guest))
            .int(1)
            .int(billing_id)
            .int(person.group_id)
            .int(1)
            .opt_int(d.quote.map(|q| q.shipping_id))
            .opt_int(d.quote.map(|q| q.quote_id))
            .opt_int(shipping_id)
            .dec4(t.subtotal_incl_tax.base)
            .dec4(if fate.invoiced || fate.canceled {
                0
            } else {
                t.grand.base
            })
            .dec4(t.subtotal_incl_tax.cur)
            .dec4(if fate.invoiced || fate.canceled {
                0
            } else {
                t.grand.cur
            })
            .dec4(t.weight)
            .opt_ts(person.dob)
            .str(d.increment_id)
            .opt_str(d.coupon.map(|_| "1"))
            .str("USD")
            .str(&person.email)
            .str(&mb3(&person.firstname))
            .str(&mb3(&person.lastname))
            .opt_str(person.middlename.as_deref().map(mb3).as_deref())
            .opt_str(person.prefix.as_deref())
            .opt_str(person.taxvat.as_deref())
            .opt_str(d.coupon.map(|c| format!("Discount ({c})")).as_deref())
            .str("USD")
            .opt_str(fate.holded.then_some("processing"))
            .opt_str(fate.holded.then_some("processing"))
            .str(d.store.currency)
            .str(d.remote_ip)
            .opt_str(d.basket.carrier.filter(|_| !t.virtual_only).map(|c| c.code))
            .str("USD")
            .str(&d.store.full_name)
            .null()
            .opt_str(d.customer_note.map(mb3).as_deref())
            .ts(d.created_at)
            .ts(fate.updated_at)
            .int(total_item_count)
            .opt_int(person.gender)
            .dec4(0)
            .dec4(0)
            .dec4(0)
            .dec4(0)
            .dec4(t.shipping.cur)
            .dec4(t.shipping.base)
            .int(0)
            .opt_str(d.coupon.map(|_| "Summer sale"));
    });

    let billing_name = d.billing.name();
    let shipping_name = d.shipping.map(|a| a.name()).unwrap_or_default();
    w.row(T::OrderGrid, |r| {
        r.int(order_id)
            .str(status)
            .int(d.store.id)
            .str(&d.store.full_name)
            .opt_int(customer_id)
            .dec4(t.grand.base)
            .opt_dec4(when(fate.invoiced, t.grand.base))
            .dec4(t.grand.cur)
            .opt_dec4(when(fate.invoiced, t.grand.cur))
            .str(d.increment_id)
            .str("USD")
            .str(d.store.currency)
            .opt_str(d.shipping.map(|_| shipping_name.as_str()))
            .str(&billing_name)
            .ts(d.created_at)
            .ts(fate.updated_at);
    });

    write_history(
        w,
        ids,
        order_id,
        "pending",
        d.customer_note,
        "order",
        true,
        d.created_at,
    );

    OrderView {
        id: order_id,
        store_id: d.store.id,
        increment_id: d.increment_id.to_string(),
        created_at: d.created_at,
        customer_id,
        billing_address_id: Some(billing_id),
        shipping_address_id: shipping_id,
        billing_name,
        shipping_name,
        shipping_method: d.basket.carrier.map(|c| c.code.to_string()),
        base_currency: "USD".to_string(),
        order_currency: d.store.currency.to_string(),
        rate,
        subtotal: t.subtotal,
        tax: t.tax,
        shipping: t.shipping,
        discount,
        grand: t.grand,
        subtotal_incl_tax: t.subtotal_incl_tax,
        payment_id,
        online,
        last_txn: auth,
        items,
    }
}

/// Line `i` of the order as it stands after `fate`.
#[allow(clippy::too_many_arguments)]
fn write_order_item(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    d: &OrderDraft<'_>,
    fate: &Fate,
    i: usize,
    l: &Line,
) -> ItemView {
    let item_id = ids.take(T::OrderItem);
    let incl = l.price_incl();
    let row_incl = l.row_incl();
    let options = buy_request(rng, l.product_id, l.qty);
    let quote_item_id = d.quote.and_then(|q| q.item_ids.get(i).copied());
    let shipped = fate.shipped && !l.is_virtual;
    w.row(T::OrderItem, |r| {
        r.int(item_id)
            .int(d.id)
            .opt_int(quote_item_id)
            .int(d.store.id)
            .ts(d.created_at)
            .ts(fate.updated_at)
            .int(l.product_id)
            .str(l.product_type())
            .str(&options)
            .dec4(l.weight)
            .int(i64::from(l.is_virtual))
            .str(&l.sku)
            .str(&l.name)
            .opt_str(l.applied_rule_ids())
            .int(0)
            .int(0)
            .int(0)
            .dec4(if fate.canceled { l.qty } else { 0 })
            .dec4(if fate.invoiced { l.qty } else { 0 })
            .dec4(l.qty)
            .dec4(if fate.refunded { l.qty } else { 0 })
            .dec4(if shipped { l.qty } else { 0 })
            .dec4(base_cost(l.price.base))
            .dec4(l.price.cur)
            .dec4(l.price.base)
            .dec4(l.price.cur)
            .dec4(l.price.base)
            .dec4(l.tax_bp * 100)
            .dec4(l.tax.cur)
            .dec4(l.tax.base)
            .dec4(if fate.invoiced { l.tax.cur } else { 0 })
            .dec4(if fate.invoiced { l.tax.base } else { 0 })
            .dec4(l.discount_percent())
            .dec4(l.discount.cur)
            .dec4(l.discount.base)
            .dec4(if fate.invoiced { l.discount.cur } else { 0 })
            .dec4(if fate.invoiced { l.discount.base } else { 0 })
            .dec4(if fate.refunded { l.row.cur } else { 0 })
            .dec4(if fate.refunded { l.row.base } else { 0 })
            .dec4(l.row.cur)
            .dec4(l.row.base)
            .dec4(if fate.invoiced { l.row.cur } else { 0 })
            .dec4(if fate.invoiced { l.row.base } else { 0 })
            .dec4(l.weight * l.qty / ONE)
            .dec4(incl.cur)
            .dec4(incl.base)
            .dec4(row_incl.cur)
            .dec4(row_incl.base)
            .dec4(0)
            .dec4(0)
            .int(0)
            .opt_dec4(fate.canceled.then_some(l.tax.cur))
            .opt_dec4(fate.refunded.then_some(l.tax.cur))
            .opt_dec4(fate.refunded.then_some(l.tax.base))
            .opt_dec4(fate.refunded.then_some(l.discount.cur))
            .opt_dec4(fate.refunded.then_some(l.discount.base));
    });
    ItemView {
        item_id,
        product_id: l.product_id,
        sku: l.sku.clone(),
        name: l.name.clone(),
        qty: l.qty,
        is_virtual: l.is_virtual,
        weight: l.weight,
        price: l.price,
        price_incl: incl,
        row: l.row,
        row_incl,
        tax: l.tax,
        discount: l.discount,
    }
}
