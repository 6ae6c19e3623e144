//! Order actions: checkout of a cart, and status changes (cancel, hold, unhold, comment);
//! with the order's history rows, grid refresh and read-back for documents.

use mysql_async::prelude::Queryable;
use mysql_async::Row;

use super::act::{first_text, Act, Tx};
use super::quote::repriced;
use super::Action;
use crate::storefront::context::{col, dec_col};
use crate::storefront::entities::{
    payment_for, random_address, random_comment, random_ip, write_history, write_order, Amt,
    Basket, Fate, ItemView, OrderDraft, OrderView, QuoteIds, ONE,
};
use crate::storefront::sql::T;
use crate::storefront::text::{Ts, CARRIERS, PAYMENT_METHODS};

impl Act<'_> {
    /// Checkout of an active cart (a new one if there is none): the order placed, the
    /// store's next order increment taken, and the cart deactivated.
    pub(super) async fn place_order(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
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
        let lines = repriced(&q.items, store.rate, tax_bp);
        let virtual_only = lines.iter().all(|l| l.is_virtual);
        let carrier = if virtual_only {
            None
        } else {
            q.carrier().or_else(|| Some(self.rng.pick(CARRIERS)))
        };
        let basket = Basket::new(lines, carrier, store.rate);
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
            basket: &basket,
            quote: Some(&quote_ids),
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
    pub(super) async fn refresh_grid(
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

    /// A status history row with the order's current status.
    pub(super) async fn history(
        &mut self,
        tx: &mut Tx<'_>,
        order_id: i64,
        comment: Option<&str>,
        entity_name: &str,
        notified: bool,
    ) -> Result<(), mysql_async::Error> {
        let now = self.now();
        let status = order_status(tx, order_id).await?;
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

    /// An admin's change to an open order: a new one canceled, a processing one held, a held
    /// one released, or (a quarter of the time, and for other states) only a comment.
    pub(super) async fn change_status(
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
        let state = first_text(
            tx,
            "SELECT state FROM sales_flat_order WHERE entity_id = ?",
            (id,),
        )
        .await?;
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
        let status = order_status(tx, id).await?.unwrap_or_default();
        Ok(Some(Action::ChangeOrderStatus {
            order_id: id as u64,
            status,
        }))
    }

    /// An order as its documents need it.
    pub(super) async fn load_view(
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
}

/// An order's status (None if the order or its status is missing).
async fn order_status(
    tx: &mut Tx<'_>,
    order_id: i64,
) -> Result<Option<String>, mysql_async::Error> {
    first_text(
        tx,
        "SELECT status FROM sales_flat_order WHERE entity_id = ?",
        (order_id,),
    )
    .await
}
