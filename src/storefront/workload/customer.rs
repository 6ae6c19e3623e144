//! Customer actions: registration, profile edits (EAV UPDATE, INSERT and DELETE), deletion by
//! an admin, and reading a customer back for checkout.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::Row;

use super::act::{first_id, Act, Tx};
use super::Action;
use crate::storefront::context::{col, Attr};
use crate::storefront::entities::{
    customer_profile, random_names, write_customer, write_subscriber, write_visit, Address, Person,
};
use crate::storefront::sql::T;
use crate::storefront::text::{digits, MIDDLE_NAMES, PLACES};

impl Act<'_> {
    /// A new customer with one address, logged in; a quarter subscribe to the newsletter.
    pub(super) async fn register(
        &mut self,
        tx: &mut Tx<'_>,
    ) -> Result<Option<Action>, mysql_async::Error> {
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
    pub(super) async fn set_eav(
        &mut self,
        tx: &mut Tx<'_>,
        entity_type: i64,
        attr: Option<Attr>,
        entity_id: i64,
        value: Option<String>,
    ) -> Result<(u32, u32, u32), mysql_async::Error> {
        let Some(Attr {
            id: attr_id,
            table: Some(table),
        }) = attr
        else {
            return Ok((0, 0, 0));
        };
        let name = table.name();
        let existing = value_id(tx, attr, entity_id).await?;
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

    /// A profile save: a new name, the middle name or tax number emptied or filled, sometimes
    /// the gender and the first address's phone number.
    pub(super) async fn edit_customer(
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
        let has = value_id(tx, ctx.customer_attr(code), id).await?.is_some();
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

    /// A customer deleted by an admin.
    pub(super) async fn delete_customer(
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
    pub(super) async fn load_customer(
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
        let values = eav_values(
            tx,
            "SELECT attribute_id, value FROM customer_entity_varchar WHERE entity_id = ? \
             UNION ALL SELECT attribute_id, CAST(value AS CHAR) FROM customer_entity_int WHERE entity_id = ?",
            id,
        )
        .await?;
        let ctx = &self.st.ctx;
        let get = |code: &str| values.get(ctx.customer_attr(code));
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
            .filter(|&s| self.st.ctx.has_store(s))
            .unwrap_or(self.st.ctx.stores[0].id);
        Ok(Some((person, address, store_id)))
    }

    /// A customer's address as checkout reads it (None if it is not the customer's).
    pub(super) async fn load_address(
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
        let values = eav_values(
            tx,
            "SELECT attribute_id, value FROM customer_address_entity_varchar WHERE entity_id = ? \
             UNION ALL SELECT attribute_id, value FROM customer_address_entity_text WHERE entity_id = ? \
             UNION ALL SELECT attribute_id, CAST(value AS CHAR) FROM customer_address_entity_int WHERE entity_id = ?",
            address_id,
        )
        .await?;
        let ctx = &self.st.ctx;
        let get = |code: &str| values.get(ctx.address_attr(code));
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
}

/// The value row of an EAV attribute of an entity, if it has one (never for an attribute the
/// store lacks, or a static one).
async fn value_id(
    tx: &mut Tx<'_>,
    attr: Option<Attr>,
    entity_id: i64,
) -> Result<Option<i64>, mysql_async::Error> {
    let Some(Attr {
        id: attr_id,
        table: Some(table),
    }) = attr
    else {
        return Ok(None);
    };
    first_id(
        tx,
        &format!(
            "SELECT value_id FROM `{}` WHERE entity_id = ? AND attribute_id = ?",
            table.name()
        ),
        (entity_id, attr_id),
    )
    .await
}

/// An entity's EAV values by attribute id, as text.
struct EavValues(HashMap<i64, Option<String>>);

impl EavValues {
    /// The value of an attribute (None if the store lacks the attribute or the entity a value).
    fn get(&self, attr: Option<Attr>) -> Option<String> {
        attr.and_then(|a| self.0.get(&a.id).cloned().flatten())
    }
}

/// (attribute_id, value) rows of a query whose every placeholder is the entity id.
async fn eav_values(tx: &mut Tx<'_>, sql: &str, id: i64) -> Result<EavValues, mysql_async::Error> {
    let placeholders = sql.matches('?').count();
    let rows: Vec<Row> = tx.exec(sql, vec![id; placeholders]).await?;
    let mut out = HashMap::new();
    for mut row in rows {
        let attr: i64 = col(&mut row, 0)?;
        let value: Option<String> = col(&mut row, 1)?;
        out.insert(attr, value);
    }
    Ok(EavValues(out))
}
