//! Cart actions: a new cart, items added, changed or removed with totals collected again,
//! the cleanup cron's delete, and reading a cart back for checkout.

use mysql_async::prelude::Queryable;
use mysql_async::Row;

use super::act::{Act, Tx};
use super::Action;
use crate::storefront::context::{col, dec_col, other};
use crate::storefront::entities::{
    price_line, random_address, random_basket, random_ip, random_lines, random_person, shipped_qty,
    totals, write_quote, write_quote_item, write_rates, Address, Line, Person, QuoteDraft, ONE,
};
use crate::storefront::sql::{dec4_str, T};
use crate::storefront::text::{carrier_by_code, Carrier, PAYMENT_METHODS};

impl Act<'_> {
    /// A new active cart of a random customer (60 %) or a guest.
    pub(super) async fn new_quote(&mut self, tx: &mut Tx<'_>) -> Result<i64, mysql_async::Error> {
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
        let basket = random_basket(self.rng, 3, store.rate, tax_bp, 0);
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
                basket: &basket,
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

    /// A shopper at a cart: a new one (40 %, or when there is none), or an item added,
    /// removed or its quantity changed, and the totals collected again.
    pub(super) async fn quote_activity(
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
        let mut q = self.load_quote(tx, quote_id).await?;
        let store = self.st.ctx.store(q.store_id).clone();
        let tax_bp = q.shipping.as_ref().map(|a| a.1.tax().0).unwrap_or(0);
        let mut items = std::mem::take(&mut q.items);
        let mut w = self.writer();
        let mut added = 0;
        let mut removed = 0;
        // Carts stay at 1–5 lines, like the orders the seeder writes.
        if (self.rng.percent(40) || items.is_empty()) && items.len() < 5 {
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
        let lines = repriced(&items, store.rate, tax_bp);
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
        let carrier = q.carrier();
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
                write_rates(
                    &mut w,
                    &mut self.st.ids,
                    self.rng,
                    *address_id,
                    carrier,
                    shipped_qty(&lines),
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
    pub(super) async fn load_quote(
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

    /// A quote removed by the cleanup cron: mostly converted ones.
    pub(super) async fn clean_quote(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
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
}

/// A quote as read back for checkout: items re-priced later with the order's tax rate.
pub(super) struct LoadedQuote {
    pub(super) store_id: i64,
    pub(super) person: Person,
    pub(super) remote_ip: Option<String>,
    /// (item id, line priced at rate 1 without tax).
    pub(super) items: Vec<(i64, Line)>,
    pub(super) billing: Option<(i64, Address)>,
    /// (address id, address, shipping method).
    pub(super) shipping: Option<(i64, Address, Option<String>)>,
    /// (payment id, method).
    pub(super) payment: Option<(i64, Option<String>)>,
}

impl LoadedQuote {
    /// The carrier of the shipping address's method, if it has one we know.
    pub(super) fn carrier(&self) -> Option<&'static Carrier> {
        self.shipping
            .as_ref()
            .and_then(|(_, _, m)| m.as_deref())
            .and_then(carrier_by_code)
    }
}

/// Cart items priced again for a store's rate and a tax rate.
pub(super) fn repriced(items: &[(i64, Line)], rate: i64, tax_bp: i64) -> Vec<Line> {
    items
        .iter()
        .map(|(_, l)| l.repriced(rate, tax_bp))
        .collect()
}

/// A decimal(12,4) parameter, sent as text so no float is involved.
fn dec(v: i64) -> String {
    dec4_str(v)
}
