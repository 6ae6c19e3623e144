//! Document actions: invoicing, shipping and refunding an order, each with the order UPDATEs
//! M1 makes.

use mysql_async::prelude::Queryable;

use super::act::{first_id, Act, Tx};
use super::Action;
use crate::storefront::entities::{
    capture_comment, chain_transaction, random_comment, refund_comment, write_creditmemo,
    write_invoice, write_shipment, OrderView,
};
use crate::storefront::sql::T;

/// Orders that can still be invoiced.
const INVOICEABLE: &str = "state IN ('new', 'processing') AND COALESCE(base_total_invoiced, 0) = 0";
/// Orders with goods not yet shipped.
const SHIPPABLE: &str = "state IN ('new', 'processing') AND is_virtual = 0 \
     AND NOT EXISTS (SELECT 1 FROM sales_flat_shipment s WHERE s.order_id = sales_flat_order.entity_id)";
/// Paid orders not refunded yet.
const REFUNDABLE: &str = "state IN ('processing', 'complete') \
     AND COALESCE(base_total_invoiced, 0) > 0 AND COALESCE(base_total_refunded, 0) = 0";

impl Act<'_> {
    /// A random order matching `cond`, read back for its documents.
    async fn pick_order(
        &mut self,
        tx: &mut Tx<'_>,
        cond: &str,
    ) -> Result<Option<OrderView>, mysql_async::Error> {
        let Some(id) = self.pick(tx, T::Order, cond).await? else {
            return Ok(None);
        };
        self.load_view(tx, id).await
    }

    /// A full invoice of an open order; the order is complete if it was shipped already.
    pub(super) async fn invoice(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(mut view) = self.pick_order(tx, INVOICEABLE).await? else {
            return Ok(None);
        };
        let id = view.id;
        let now = self.now();
        let invoice_type = self.st.ctx.invoice_type;
        let increment = self.increment(tx, invoice_type, view.store_id).await?;
        let mut w = self.writer();
        let txn = view.online.then(|| {
            chain_transaction(
                &mut w,
                &mut self.st.ids,
                self.rng,
                &mut view,
                "capture",
                now,
            )
        });
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
        let comment = txn.as_deref().map(|txn| capture_comment(&view, txn));
        self.history(tx, id, comment.as_deref(), "invoice", false)
            .await?;
        self.refresh_grid(tx, id).await?;
        Ok(Some(Action::Invoice {
            order_id: id as u64,
            invoice_id: invoice_id as u64,
            increment_id: increment,
        }))
    }

    /// A shipment of an order's goods; the order is complete if it was invoiced already.
    pub(super) async fn ship(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(view) = self.pick_order(tx, SHIPPABLE).await? else {
            return Ok(None);
        };
        let id = view.id;
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

    /// A credit memo refunding a paid order in full, which closes it.
    pub(super) async fn refund(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
        let Some(mut view) = self.pick_order(tx, REFUNDABLE).await? else {
            return Ok(None);
        };
        let id = view.id;
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
        let txn = view.online.then(|| {
            chain_transaction(&mut w, &mut self.st.ids, self.rng, &mut view, "refund", now)
        });
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
        let comment = refund_comment(&view);
        self.history(tx, id, Some(&comment), "creditmemo", false)
            .await?;
        self.refresh_grid(tx, id).await?;
        Ok(Some(Action::Refund {
            order_id: id as u64,
            creditmemo_id: creditmemo_id as u64,
            increment_id: increment,
        }))
    }
}
