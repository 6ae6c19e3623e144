//! An order's payment: its details by method, the payment row, and gateway transactions.

use super::customer::Person;
use super::documents::OrderView;
use super::order::{Fate, OrderDraft};
use crate::storefront::context::Ids;
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Writer, T};
use crate::storefront::text::{mb3, php_serialize, Php, Ts};

/// Payment details of an order.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub method: String,
    pub cc_type: Option<&'static str>,
    pub cc_last4: Option<String>,
    pub cc_owner: Option<String>,
    pub cc_exp_month: Option<String>,
    pub cc_exp_year: Option<String>,
    pub po_number: Option<String>,
    pub additional_information: Option<String>,
}

impl Payment {
    /// PayPal Express captures online and records gateway transactions.
    pub fn online(&self) -> bool {
        self.method == "paypal_express"
    }
}

/// The details a payment `method` records, made up for `person`.
pub(crate) fn payment_for(rng: &mut Rng, method: &str, person: &Person) -> Payment {
    let mut p = Payment {
        method: method.to_string(),
        cc_type: None,
        cc_last4: None,
        cc_owner: None,
        cc_exp_month: None,
        cc_exp_year: None,
        po_number: None,
        additional_information: None,
    };
    match method {
        "ccsave" => {
            p.cc_type = Some(*rng.pick(&["VI", "MC", "AE"]));
            p.cc_last4 = Some(format!("{:04}", rng.below(10_000)));
            p.cc_owner = Some(mb3(&format!("{} {}", person.firstname, person.lastname)));
            p.cc_exp_month = Some(rng.range(1, 12).to_string());
            p.cc_exp_year = Some(rng.range(2021, 2028).to_string());
        }
        "purchaseorder" => p.po_number = Some(format!("PO-{}", rng.range(10_000, 99_999))),
        "paypal_express" => {
            let payer = rng.alnum(13).to_uppercase();
            let correlation = rng.hex(13);
            p.additional_information = Some(php_serialize(&Php::Map(vec![
                ("paypal_payer_id", Php::Str(&payer)),
                ("paypal_payer_email", Php::Str(&person.email)),
                ("paypal_payer_status", Php::Str("verified")),
                ("paypal_correlation_id", Php::Str(&correlation)),
            ])));
        }
        "checkmo" => {
            p.additional_information = Some(php_serialize(&Php::Map(vec![])));
        }
        _ => {}
    }
    p
}

/// The order's payment row as it stands after `fate`, and for an online method the gateway's
/// authorization. Returns the payment id and the authorization (transaction id, txn_id).
pub(crate) fn write_order_payment(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    d: &OrderDraft<'_>,
    fate: &Fate,
) -> (i64, Option<(i64, String)>) {
    let t = &d.basket.totals;
    let order_id = d.id;
    let payment_id = ids.take(T::OrderPayment);
    let p = d.payment;
    let paid = fate.invoiced;
    let refunded = fate.refunded;
    let auth_txn = p.online().then(|| rng.alnum(17).to_uppercase());
    w.row(T::OrderPayment, |r| {
        r.int(payment_id)
            .int(order_id)
            .opt_dec4(paid.then_some(t.shipping.base))
            .opt_dec4(paid.then_some(t.shipping.cur))
            .opt_dec4(refunded.then_some(t.grand.cur))
            .opt_dec4(paid.then_some(t.grand.base))
            .opt_dec4(fate.canceled.then_some(t.grand.cur))
            .opt_dec4(p.online().then_some(t.grand.base))
            .opt_dec4((paid && p.online()).then_some(t.grand.base))
            .opt_dec4((refunded && p.online()).then_some(t.grand.base))
            .dec4(t.shipping.base)
            .dec4(t.shipping.cur)
            .opt_dec4(paid.then_some(t.grand.cur))
            .opt_dec4(p.online().then_some(t.grand.cur))
            .dec4(t.grand.base)
            .opt_dec4(refunded.then_some(t.shipping.base))
            .opt_dec4(refunded.then_some(t.shipping.cur))
            .opt_dec4(refunded.then_some(t.grand.base))
            .dec4(t.grand.cur)
            .opt_dec4(fate.canceled.then_some(t.grand.base))
            .opt_int(d.quote.and_then(|q| q.payment_id))
            .opt_str(p.cc_exp_month.as_deref())
            .str(&p.method)
            .opt_str(p.cc_last4.as_deref())
            .opt_str(auth_txn.as_deref())
            .opt_str(p.cc_owner.as_deref())
            .opt_str(p.cc_type)
            .opt_str(p.po_number.as_deref())
            .opt_str(p.cc_exp_year.as_deref())
            .opt_str(p.additional_information.as_deref());
    });
    // The authorization stays open until the order is invoiced or canceled.
    let closed = fate.invoiced || fate.canceled;
    let auth = auth_txn.map(|txn| {
        transaction_row(
            w,
            ids,
            order_id,
            payment_id,
            txn,
            None,
            "authorization",
            closed,
            d.created_at,
        )
    });
    (payment_id, auth)
}

/// A gateway transaction (PayPal): capture at invoice, refund at credit memo.
pub(crate) fn write_transaction(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    v: &OrderView,
    kind: &str,
    parent: Option<(i64, &str)>,
    at: Ts,
) -> (i64, String) {
    let txn = rng.alnum(17).to_uppercase();
    transaction_row(w, ids, v.id, v.payment_id, txn, parent, kind, true, at)
}

/// A gateway transaction whose parent is the order's latest one, and which becomes the
/// latest; returns its txn_id.
pub(crate) fn chain_transaction(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    v: &mut OrderView,
    kind: &str,
    at: Ts,
) -> String {
    let parent = v.last_txn.take();
    let t = write_transaction(
        w,
        ids,
        rng,
        v,
        kind,
        parent.as_ref().map(|(id, t)| (*id, t.as_str())),
        at,
    );
    let txn = t.1.clone();
    v.last_txn = Some(t);
    txn
}

/// One `sales_payment_transaction` row, with the gateway's payment status of its `kind` in
/// the raw details. Returns (transaction id, txn_id).
#[allow(clippy::too_many_arguments)]
fn transaction_row(
    w: &mut Writer,
    ids: &mut Ids,
    order_id: i64,
    payment_id: i64,
    txn: String,
    parent: Option<(i64, &str)>,
    kind: &str,
    closed: bool,
    at: Ts,
) -> (i64, String) {
    let id = ids.take(T::PaymentTransaction);
    let status = match kind {
        "authorization" => "Pending",
        "refund" => "Refunded",
        _ => "Completed",
    };
    let info = php_serialize(&Php::Map(vec![(
        "raw_details_info",
        Php::Map(vec![("payment_status", Php::Str(status))]),
    )]));
    w.row(T::PaymentTransaction, |r| {
        r.int(id)
            .opt_int(parent.map(|p| p.0))
            .int(order_id)
            .int(payment_id)
            .str(&txn)
            .opt_str(parent.map(|p| p.1))
            .str(kind)
            .int(i64::from(closed))
            .bytes(info.as_bytes())
            .ts(at);
    });
    (id, txn)
}
