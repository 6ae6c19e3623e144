//! Quotes (carts): the quote row, its items with options, addresses, shipping rates and
//! payment.

use super::customer::{Address, Person};
use super::money::ONE;
use super::pricing::{buy_request, shipped_qty, shipping_price, Basket, Line, Totals};
use crate::storefront::context::{Ids, StoreView};
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Writer, T};
use crate::storefront::text::{mb3, php_serialize, Carrier, Php, Ts, CARRIERS};

/// Everything a quote is written from.
pub(crate) struct QuoteDraft<'a> {
    pub store: &'a StoreView,
    pub person: &'a Person,
    pub guest: bool,
    pub billing: &'a Address,
    pub shipping: &'a Address,
    pub basket: &'a Basket,
    pub coupon: Option<&'static str>,
    pub active: bool,
    pub reserved_order_id: Option<&'a str>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub payment_method: Option<&'a str>,
    pub remote_ip: &'a str,
}

/// The ids a written quote's rows got, which its order refers to.
#[derive(Debug, Clone)]
pub(crate) struct QuoteIds {
    pub quote_id: i64,
    pub item_ids: Vec<i64>,
    pub billing_id: i64,
    pub shipping_id: i64,
    pub payment_id: Option<i64>,
}

/// One cart line with its buy request option (and, half the time, its product type option).
pub(crate) fn write_quote_item(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    quote_id: i64,
    store_id: i64,
    l: &Line,
    at: Ts,
) -> i64 {
    let item_id = ids.take(T::QuoteItem);
    let incl = l.price_incl();
    let row_incl = l.row_incl();
    w.row(T::QuoteItem, |r| {
        r.int(item_id)
            .int(quote_id)
            .ts(at)
            .ts(at)
            .int(l.product_id)
            .int(store_id)
            .int(i64::from(l.is_virtual))
            .str(&l.sku)
            .str(&l.name)
            .opt_str(l.applied_rule_ids())
            .int(0)
            .int(0)
            .int(0)
            .dec4(l.weight)
            .dec4(l.qty)
            .dec4(l.price.cur)
            .dec4(l.price.base)
            .dec4(l.discount_percent())
            .dec4(l.discount.cur)
            .dec4(l.discount.base)
            .dec4(l.tax_bp * 100)
            .dec4(l.tax.cur)
            .dec4(l.tax.base)
            .dec4(l.row.cur)
            .dec4(l.row.base)
            .dec4(l.row.cur - l.discount.cur)
            .dec4(l.weight * l.qty / ONE)
            .str(l.product_type())
            .dec4(incl.cur)
            .dec4(incl.base)
            .dec4(row_incl.cur)
            .dec4(row_incl.base)
            .dec4(0)
            .dec4(0);
    });
    let option_id = ids.take(T::QuoteItemOption);
    let request = buy_request(rng, l.product_id, l.qty);
    w.row(T::QuoteItemOption, |r| {
        r.int(option_id)
            .int(item_id)
            .int(l.product_id)
            .str("info_buyRequest")
            .str(&request);
    });
    if rng.percent(50) {
        let option_id = ids.take(T::QuoteItemOption);
        w.row(T::QuoteItemOption, |r| {
            r.int(option_id)
                .int(item_id)
                .int(l.product_id)
                .str("product_type")
                .str(l.product_type());
        });
    }
    item_id
}

/// The shipping rates of one estimate: the chosen carrier and one or two others.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_rates(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    address_id: i64,
    chosen: Option<&Carrier>,
    shipped_qty: i64,
    rate: i64,
    at: Ts,
) {
    let n = rng.range(2, 3) as usize;
    let start = rng.below(CARRIERS.len() as u64) as usize;
    let mut carriers: Vec<&Carrier> = Vec::new();
    if let Some(c) = chosen {
        carriers.push(c);
    }
    for i in 0..CARRIERS.len() {
        if carriers.len() >= n {
            break;
        }
        let c = &CARRIERS[(start + i) % CARRIERS.len()];
        if !carriers.iter().any(|x| x.code == c.code) {
            carriers.push(c);
        }
    }
    for c in carriers {
        let rate_id = ids.take(T::QuoteShippingRate);
        let price = shipping_price(c, shipped_qty, rate);
        w.row(T::QuoteShippingRate, |r| {
            r.int(rate_id)
                .int(address_id)
                .ts(at)
                .ts(at)
                .str(c.carrier)
                .str(c.carrier_title)
                .str(c.code)
                .str(c.method)
                .null()
                .dec4(price.base)
                .str(c.method_title);
        });
    }
}

/// One quote address; only the shipping address carries totals, as M1 collects them there.
#[allow(clippy::too_many_arguments)]
fn write_quote_address(
    w: &mut Writer,
    ids: &mut Ids,
    q: &QuoteDraft<'_>,
    quote_id: i64,
    kind: &str,
    a: &Address,
    with_totals: bool,
) -> i64 {
    let address_id = ids.take(T::QuoteAddress);
    let t = if with_totals {
        q.basket.totals
    } else {
        Totals::default()
    };
    let (tax_bp, tax_code) = a.tax();
    let applied = with_totals.then(|| {
        php_serialize(&Php::Map(vec![(
            tax_code,
            Php::Map(vec![
                ("id", Php::Str(tax_code)),
                ("percent", Php::Int(tax_bp / 100)),
            ]),
        )]))
    });
    let shipping_incl = t.shipping;
    w.row(T::QuoteAddress, |r| {
        r.int(address_id)
            .int(quote_id)
            .ts(q.created_at)
            .ts(q.updated_at)
            .opt_int(q.person.customer_id)
            .int(0)
            .opt_int(a.customer_address_id)
            .str(kind)
            .str(&q.person.email)
            .str(&mb3(&a.firstname))
            .str(&mb3(&a.lastname))
            .opt_str(a.company.as_deref())
            .str(&mb3(&a.street))
            .str(&a.city)
            .opt_str(a.region.as_deref())
            .opt_int(a.region_id)
            .str(&a.postcode)
            .str(&a.country_id)
            .str(&a.telephone)
            .int(i64::from(kind == "shipping"))
            .int(i64::from(kind == "shipping"));
        match (with_totals, q.basket.carrier) {
            (true, Some(c)) => r.str(c.code).str(&c.description()),
            _ => r.null().null(),
        };
        r.dec4(t.weight)
            .dec4(t.subtotal.cur)
            .dec4(t.subtotal.base)
            .dec4(t.subtotal.cur - t.discount.cur)
            .dec4(t.subtotal.base - t.discount.base)
            .dec4(t.tax.cur)
            .dec4(t.tax.base)
            .dec4(t.shipping.cur)
            .dec4(t.shipping.base)
            .dec4(0)
            .dec4(0)
            .dec4(-t.discount.cur)
            .dec4(-t.discount.base)
            .dec4(t.grand.cur)
            .dec4(t.grand.base)
            .opt_str(applied.as_deref())
            .dec4(t.subtotal_incl_tax.cur)
            .dec4(shipping_incl.cur)
            .dec4(shipping_incl.base);
    });
    address_id
}

/// A quote with its items, item options, both addresses, shipping rates and payment.
pub(crate) fn write_quote(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    q: &QuoteDraft<'_>,
) -> QuoteIds {
    let quote_id = ids.take(T::Quote);
    let t = &q.basket.totals;
    let store = q.store;
    w.row(T::Quote, |r| {
        r.int(quote_id)
            .int(store.id)
            .ts(q.created_at)
            .ts(q.updated_at)
            .int(i64::from(q.active))
            .int(i64::from(t.virtual_only))
            .int(0)
            .int(q.basket.lines.len() as i64)
            .dec4(t.qty)
            .int(0)
            .dec4(ONE)
            .dec4(store.rate)
            .str("USD")
            .str("USD")
            .str(store.currency)
            .dec4(t.grand.cur)
            .dec4(t.grand.base)
            .str(if q.guest { "guest" } else { "customer" })
            .opt_int(q.person.customer_id)
            .int(3)
            .int(q.person.group_id)
            .str(&q.person.email)
            .str(&mb3(&q.person.firstname))
            .str(&mb3(&q.person.lastname))
            .opt_ts(q.person.dob)
            .int(1)
            .int(i64::from(q.guest))
            .str(q.remote_ip)
            .opt_str(q.coupon.map(|_| "1"))
            .opt_str(q.reserved_order_id)
            .opt_str(q.coupon)
            .str("USD")
            .dec4(ONE)
            .dec4(store.rate)
            .opt_str(q.person.gender.map(|g| g.to_string()).as_deref())
            .dec4(t.subtotal.cur)
            .dec4(t.subtotal.base)
            .dec4(t.subtotal.cur - t.discount.cur)
            .dec4(t.subtotal.base - t.discount.base)
            .int(i64::from(q.active))
            .int(0)
            .int(0);
    });
    let item_ids = q
        .basket
        .lines
        .iter()
        .map(|l| write_quote_item(w, ids, rng, quote_id, store.id, l, q.created_at))
        .collect();
    let billing_id = write_quote_address(w, ids, q, quote_id, "billing", q.billing, false);
    let shipping_id = write_quote_address(w, ids, q, quote_id, "shipping", q.shipping, true);
    if !t.virtual_only {
        write_rates(
            w,
            ids,
            rng,
            shipping_id,
            q.basket.carrier,
            shipped_qty(&q.basket.lines),
            store.rate,
            q.updated_at,
        );
    }
    let payment_id = q.payment_method.map(|method| {
        let payment_id = ids.take(T::QuotePayment);
        w.row(T::QuotePayment, |r| {
            r.int(payment_id)
                .int(quote_id)
                .ts(q.created_at)
                .ts(q.updated_at)
                .str(method)
                .null()
                .null()
                .null()
                .int(0)
                .int(0)
                .null()
                .null();
        });
        payment_id
    });
    QuoteIds {
        quote_id,
        item_ids,
        billing_id,
        shipping_id,
        payment_id,
    }
}
