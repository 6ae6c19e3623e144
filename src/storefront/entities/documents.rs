//! The documents of an order: invoices, shipments (with tracking) and credit memos, each
//! with items, grid row and sometimes a comment; and the view of an order they are made from.

use super::money::{display_money, Amt, ONE};
use super::pricing::base_cost;
use crate::storefront::context::Ids;
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Row, Writer, T};
use crate::storefront::text::{carrier_by_code, php_serialize, Php, Ts};

/// An order as the invoice, shipment and credit memo need it (the workload reads it back).
#[derive(Debug, Clone)]
pub(crate) struct OrderView {
    pub id: i64,
    pub store_id: i64,
    pub increment_id: String,
    pub created_at: Ts,
    pub customer_id: Option<i64>,
    pub billing_address_id: Option<i64>,
    pub shipping_address_id: Option<i64>,
    pub billing_name: String,
    pub shipping_name: String,
    pub shipping_method: Option<String>,
    pub base_currency: String,
    pub order_currency: String,
    pub rate: i64,
    pub subtotal: Amt,
    pub tax: Amt,
    pub shipping: Amt,
    /// Negative, as stored on the order.
    pub discount: Amt,
    pub grand: Amt,
    pub subtotal_incl_tax: Amt,
    pub payment_id: i64,
    pub online: bool,
    /// The latest gateway transaction (id, txn_id), parent of the next one.
    pub last_txn: Option<(i64, String)>,
    pub items: Vec<ItemView>,
}

/// An order item as its invoice, shipment and credit memo items copy it.
#[derive(Debug, Clone)]
pub(crate) struct ItemView {
    pub item_id: i64,
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub qty: i64,
    pub is_virtual: bool,
    pub weight: i64,
    pub price: Amt,
    pub price_incl: Amt,
    pub row: Amt,
    pub row_incl: Amt,
    pub tax: Amt,
    pub discount: Amt,
}

impl OrderView {
    pub fn total_qty(&self) -> i64 {
        self.items.iter().map(|i| i.qty).sum()
    }
}

/// A full invoice of the order, with items, grid row and sometimes a comment.
pub(crate) fn write_invoice(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    v: &OrderView,
    increment_id: &str,
    transaction_id: Option<&str>,
    at: Ts,
) -> i64 {
    let id = ids.take(T::Invoice);
    w.row(T::Invoice, |r| {
        r.int(id)
            .int(v.store_id)
            .dec4(v.grand.base)
            .dec4(0)
            .dec4(v.tax.cur)
            .dec4(v.tax.base)
            .dec4(v.rate)
            .dec4(0)
            .dec4(v.discount.base)
            .dec4(v.rate)
            .dec4(v.grand.cur)
            .dec4(v.shipping.cur)
            .dec4(v.subtotal_incl_tax.cur)
            .dec4(v.subtotal_incl_tax.base)
            .dec4(ONE)
            .dec4(v.shipping.base)
            .dec4(v.total_qty())
            .dec4(ONE)
            .dec4(v.subtotal.cur)
            .dec4(v.subtotal.base)
            .dec4(v.discount.cur)
            .opt_int(v.billing_address_id)
            .null()
            .int(v.id)
            .int(1)
            .int(0)
            .int(2)
            .opt_int(v.shipping_address_id)
            .str(&v.base_currency)
            .opt_str(transaction_id)
            .str(&v.order_currency)
            .str(&v.base_currency)
            .str(&v.base_currency)
            .str(increment_id)
            .ts(at)
            .ts(at)
            .dec4(0)
            .dec4(0)
            .dec4(v.shipping.cur)
            .dec4(v.shipping.base)
            .null();
    });
    for it in &v.items {
        let item_id = ids.take(T::InvoiceItem);
        w.row(T::InvoiceItem, |r| {
            item_columns(r, item_id, id, it);
            // hidden_tax_amount, base_hidden_tax_amount
            r.dec4(0).dec4(0);
        });
    }
    if rng.percent(15) {
        let text = "Merci pour votre commande – invoice sent.";
        write_comment(w, ids, T::InvoiceComment, id, (true, false), text, at);
    }
    w.row(T::InvoiceGrid, |r| {
        r.int(id)
            .int(v.store_id)
            .dec4(v.grand.base)
            .dec4(v.grand.cur)
            .int(v.id)
            .int(2);
        currency_columns(r, v);
        increment_columns(r, v, increment_id, at);
        r.str(&v.billing_name);
    });
    id
}

/// A shipment of every shippable item, with a tracking number and grid row.
pub(crate) fn write_shipment(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    v: &OrderView,
    increment_id: &str,
    at: Ts,
) -> i64 {
    let id = ids.take(T::Shipment);
    let shippable: Vec<&ItemView> = v.items.iter().filter(|i| !i.is_virtual).collect();
    let qty: i64 = shippable.iter().map(|i| i.qty).sum();
    let weight: i64 = shippable.iter().map(|i| i.weight * i.qty / ONE).sum();
    let packages = php_serialize(&Php::Map(vec![]));
    w.row(T::Shipment, |r| {
        r.int(id)
            .int(v.store_id)
            .dec4(weight)
            .dec4(qty)
            .int(1)
            .int(v.id)
            .opt_int(v.customer_id)
            .opt_int(v.shipping_address_id)
            .opt_int(v.billing_address_id)
            .null()
            .str(increment_id)
            .ts(at)
            .ts(at)
            .str(&packages);
    });
    for it in &shippable {
        let item_id = ids.take(T::ShipmentItem);
        w.row(T::ShipmentItem, |r| {
            r.int(item_id)
                .int(id)
                .dec4(it.row.cur)
                .dec4(it.price.cur)
                .dec4(it.weight)
                .dec4(it.qty)
                .int(it.product_id)
                .int(it.item_id)
                .str(&it.name)
                .str(&it.sku);
        });
    }
    let carrier = v.shipping_method.as_deref().and_then(carrier_by_code);
    let (code, title) = match carrier {
        Some(c) if c.carrier == "ups" => ("ups", "United Parcel Service"),
        _ => ("custom", "DHL Paket"),
    };
    let track_id = ids.take(T::ShipmentTrack);
    let number = format!("1Z{}", rng.alnum(16).to_uppercase());
    w.row(T::ShipmentTrack, |r| {
        r.int(track_id)
            .int(id)
            .null()
            .null()
            .int(v.id)
            .str(&number)
            .null()
            .str(title)
            .str(code)
            .ts(at)
            .ts(at);
    });
    if rng.percent(10) {
        let text = "Paket wurde beim Nachbarn abgegeben.";
        write_comment(w, ids, T::ShipmentComment, id, (true, true), text, at);
    }
    w.row(T::ShipmentGrid, |r| {
        r.int(id).int(v.store_id).dec4(qty).int(v.id).null();
        increment_columns(r, v, increment_id, at);
        r.str(&v.shipping_name);
    });
    id
}

/// A credit memo refunding the whole order, with items and grid row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_creditmemo(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    v: &OrderView,
    increment_id: &str,
    invoice_id: Option<i64>,
    transaction_id: Option<&str>,
    at: Ts,
) -> i64 {
    let id = ids.take(T::Creditmemo);
    w.row(T::Creditmemo, |r| {
        r.int(id)
            .int(v.store_id)
            .dec4(0)
            .dec4(0)
            .dec4(v.rate)
            .dec4(v.discount.base)
            .dec4(v.rate)
            .dec4(v.grand.cur)
            .dec4(0)
            .dec4(v.subtotal_incl_tax.base)
            .dec4(v.shipping.cur)
            .dec4(v.subtotal_incl_tax.cur)
            .dec4(0)
            .dec4(v.shipping.base)
            .dec4(ONE)
            .dec4(ONE)
            .dec4(0)
            .dec4(v.subtotal.base)
            .dec4(v.discount.cur)
            .dec4(v.subtotal.cur)
            .dec4(0)
            .dec4(v.grand.base)
            .dec4(0)
            .dec4(v.tax.base)
            .dec4(0)
            .dec4(v.tax.cur)
            .int(v.id)
            .int(1)
            .null()
            .int(2)
            .opt_int(v.shipping_address_id)
            .opt_int(v.billing_address_id)
            .opt_int(invoice_id);
        currency_columns(r, v);
        r.opt_str(transaction_id)
            .str(increment_id)
            .ts(at)
            .ts(at)
            .dec4(v.shipping.cur)
            .dec4(v.shipping.base);
    });
    for it in &v.items {
        let item_id = ids.take(T::CreditmemoItem);
        w.row(T::CreditmemoItem, |r| item_columns(r, item_id, id, it));
    }
    if rng.percent(30) {
        let text = "Retour reçu, remboursement effectué.";
        write_comment(w, ids, T::CreditmemoComment, id, (false, false), text, at);
    }
    w.row(T::CreditmemoGrid, |r| {
        r.int(id)
            .int(v.store_id)
            .dec4(v.rate)
            .dec4(v.rate)
            .dec4(v.grand.cur)
            .dec4(ONE)
            .dec4(ONE)
            .dec4(v.grand.base)
            .int(v.id)
            .null()
            .int(2)
            .opt_int(invoice_id);
        currency_columns(r, v);
        increment_columns(r, v, increment_id, at);
        r.str(&v.billing_name);
    });
    id
}

/// The columns invoice and credit memo items share, from `base_price` to `name`: the whole
/// order item, as documents here always cover all of it.
fn item_columns(r: &mut Row<'_>, id: i64, parent_id: i64, it: &ItemView) {
    r.int(id)
        .int(parent_id)
        .dec4(it.price.base)
        .dec4(it.tax.cur)
        .dec4(it.row.base)
        .dec4(it.discount.cur)
        .dec4(it.row.cur)
        .dec4(it.discount.base)
        .dec4(it.price_incl.cur)
        .dec4(it.tax.base)
        .dec4(it.price_incl.base)
        .dec4(it.qty)
        .dec4(base_cost(it.price.base))
        .dec4(it.price.cur)
        .dec4(it.row_incl.base)
        .dec4(it.row_incl.cur)
        .int(it.product_id)
        .int(it.item_id)
        .str(&it.sku)
        .str(&it.name);
}

/// store, order, base and global currency codes, in that column order.
fn currency_columns(r: &mut Row<'_>, v: &OrderView) {
    r.str(&v.base_currency)
        .str(&v.order_currency)
        .str(&v.base_currency)
        .str(&v.base_currency);
}

/// A grid row's increment id, the order's increment id, and both creation times.
fn increment_columns(r: &mut Row<'_>, v: &OrderView, increment_id: &str, at: Ts) {
    r.str(increment_id)
        .str(&v.increment_id)
        .ts(at)
        .ts(v.created_at);
}

/// A comment on a document; `flags` are (is_customer_notified, is_visible_on_front).
fn write_comment(
    w: &mut Writer,
    ids: &mut Ids,
    table: T,
    parent_id: i64,
    flags: (bool, bool),
    comment: &str,
    at: Ts,
) {
    let id = ids.take(table);
    w.row(table, |r| {
        r.int(id)
            .int(parent_id)
            .int(i64::from(flags.0))
            .int(i64::from(flags.1))
            .str(comment)
            .ts(at);
    });
}

/// The order history comment of an online capture.
pub(crate) fn capture_comment(v: &OrderView, txn: &str) -> String {
    format!(
        "Captured amount of ${} online. Transaction ID: \"{txn}\".",
        display_money(v.grand.base)
    )
}

/// The order history comment of a refund.
pub(crate) fn refund_comment(v: &OrderView) -> String {
    format!(
        "Refunded amount of ${} {}.",
        display_money(v.grand.base),
        if v.online { "online" } else { "offline" }
    )
}
