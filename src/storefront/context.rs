//! What the generator reads from the store before writing: entity type and attribute ids,
//! store views, ratings, the next free id of every table, and session settings.
//!
//! Nothing install-specific is hard-wired: attribute ids are resolved by
//! `(entity_type_id, attribute_code)`, as they differ from store to store.

use std::collections::HashMap;

use mysql_async::prelude::{FromValue, Queryable};
use mysql_async::Row;

use super::rng::Rng;
use super::sql::{Lit, T, TABLES};
use super::text::Ts;

/// A storefront error that is not the server's: data the generator cannot work with.
pub(crate) fn other(message: impl Into<String>) -> mysql_async::Error {
    mysql_async::Error::Other(message.into().into())
}

/// Takes column `i` of a row, converting it without panicking on an unexpected type.
pub(crate) fn col<V: FromValue>(row: &mut Row, i: usize) -> Result<V, mysql_async::Error> {
    match row.take_opt::<V, usize>(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(other(format!("column {i}: {e}"))),
        None => Err(other(format!("column {i} missing"))),
    }
}

/// A DECIMAL column (read as text, NULL as 0) in 1/10000 units, without going through floats.
pub(crate) fn dec_col(row: &mut Row, i: usize) -> Result<i64, mysql_async::Error> {
    let s: Option<String> = col(row, i)?;
    match s {
        None => Ok(0),
        Some(s) => parse_dec4(&s).ok_or_else(|| other(format!("column {i}: not a decimal: {s}"))),
    }
}

/// "12.34" → 123400; more than 4 decimals are cut (a `decimal(12,4)` has no more).
pub(crate) fn parse_dec4(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for c in int.chars() {
        v = v.checked_mul(10)?.checked_add(c.to_digit(10)? as i64)?;
    }
    let mut f: i64 = 0;
    let mut n = 0;
    for c in frac.chars() {
        let d = c.to_digit(10)? as i64;
        if n < 4 {
            f = f * 10 + d;
            n += 1;
        }
    }
    while n < 4 {
        f *= 10;
        n += 1;
    }
    let v = v.checked_mul(10_000)?.checked_add(f)?;
    Some(if neg { -v } else { v })
}

/// Where an EAV attribute's values live.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attr {
    pub id: i64,
    /// `None` for static attributes (a column of the entity table).
    pub table: Option<T>,
}

/// A store view and its display currency.
#[derive(Debug, Clone)]
pub(crate) struct StoreView {
    pub id: i64,
    pub website_id: i64,
    pub name: String,
    /// M1's `sales_flat_order.store_name`: website, group and store names joined by newlines.
    pub full_name: String,
    /// Display currency of the view; the base currency is USD for all.
    pub currency: &'static str,
    /// base → display rate in 1/10000.
    pub rate: i64,
}

/// The store's reference data, resolved once.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub customer_type: i64,
    pub address_type: i64,
    pub customer_set: i64,
    pub address_set: i64,
    pub order_type: i64,
    pub invoice_type: i64,
    pub shipment_type: i64,
    pub creditmemo_type: i64,
    /// `increment_pad_length` per entity type id.
    increment_pads: HashMap<i64, usize>,
    attrs: HashMap<(i64, String), Attr>,
    pub stores: Vec<StoreView>,
    pub review_product_entity: i64,
    /// Approved, pending, not approved.
    pub review_statuses: [i64; 3],
    /// (rating_id, [(option_id, value)]) of the product ratings.
    pub ratings: Vec<(i64, Vec<(i64, i64)>)>,
    pub lit: Lit,
}

impl Context {
    pub async fn load<Q: Queryable>(q: &mut Q) -> Result<Context, mysql_async::Error> {
        let mode: Option<String> = q.query_first("SELECT @@SESSION.sql_mode").await?;
        let lit = Lit {
            no_backslash_escapes: mode.unwrap_or_default().contains("NO_BACKSLASH_ESCAPES"),
        };

        let mut types: HashMap<String, (i64, i64)> = HashMap::new();
        let mut increment_pads = HashMap::new();
        let rows: Vec<Row> = q
            .query("SELECT entity_type_id, entity_type_code, default_attribute_set_id, increment_pad_length FROM eav_entity_type")
            .await?;
        for mut row in rows {
            let id: i64 = col(&mut row, 0)?;
            let code: String = col(&mut row, 1)?;
            let set: i64 = col(&mut row, 2)?;
            let pad: i64 = col(&mut row, 3)?;
            types.insert(code, (id, set));
            increment_pads.insert(id, pad.clamp(1, 20) as usize);
        }
        let ty = |code: &str| {
            types
                .get(code)
                .copied()
                .ok_or_else(|| other(format!("eav_entity_type has no '{code}'")))
        };
        let (customer_type, customer_set) = ty("customer")?;
        let (address_type, address_set) = ty("customer_address")?;
        let (order_type, _) = ty("order")?;
        let (invoice_type, _) = ty("invoice")?;
        let (shipment_type, _) = ty("shipment")?;
        let (creditmemo_type, _) = ty("creditmemo")?;

        let mut attrs = HashMap::new();
        let rows: Vec<Row> = q
            .exec(
                "SELECT attribute_id, entity_type_id, attribute_code, backend_type FROM eav_attribute WHERE entity_type_id IN (?, ?)",
                (customer_type, address_type),
            )
            .await?;
        for mut row in rows {
            let id: i64 = col(&mut row, 0)?;
            let ty: i64 = col(&mut row, 1)?;
            let code: Option<String> = col(&mut row, 2)?;
            let backend: String = col(&mut row, 3)?;
            let customer = ty == customer_type;
            let table = match (customer, backend.as_str()) {
                (true, "varchar") => Some(T::CustomerVarchar),
                (true, "int") => Some(T::CustomerInt),
                (true, "datetime") => Some(T::CustomerDatetime),
                (true, "text") => Some(T::CustomerText),
                (true, "decimal") => Some(T::CustomerDecimal),
                (false, "varchar") => Some(T::AddressVarchar),
                (false, "int") => Some(T::AddressInt),
                (false, "datetime") => Some(T::AddressDatetime),
                (false, "text") => Some(T::AddressText),
                (false, "decimal") => Some(T::AddressDecimal),
                _ => None,
            };
            if let Some(code) = code {
                attrs.insert((ty, code), Attr { id, table });
            }
        }

        let mut stores = Vec::new();
        let rows: Vec<Row> = q
            .query(
                "SELECT s.store_id, s.website_id, s.name, COALESCE(w.name, ''), COALESCE(g.name, '') \
                 FROM core_store s \
                 LEFT JOIN core_website w ON w.website_id = s.website_id \
                 LEFT JOIN core_store_group g ON g.group_id = s.group_id \
                 WHERE s.store_id > 0 AND s.is_active = 1 ORDER BY s.store_id",
            )
            .await?;
        for mut row in rows {
            let id: i64 = col(&mut row, 0)?;
            let website_id: i64 = col(&mut row, 1)?;
            let name: String = col(&mut row, 2)?;
            let website: String = col(&mut row, 3)?;
            let group: String = col(&mut row, 4)?;
            // The first view shows the base currency; the others show euros, so that orders
            // carry a base_to_order_rate other than 1.
            let (currency, rate) = if stores.is_empty() {
                ("USD", 10_000)
            } else {
                ("EUR", 9_200)
            };
            stores.push(StoreView {
                id,
                website_id,
                full_name: format!("{website}\n{group}\n{name}"),
                name,
                currency,
                rate,
            });
        }
        if stores.is_empty() {
            return Err(other("core_store has no active store view"));
        }

        let review_product_entity: Option<i64> = q
            .query_first("SELECT entity_id FROM review_entity WHERE entity_code = 'product'")
            .await?;
        let review_product_entity =
            review_product_entity.ok_or_else(|| other("review_entity has no 'product'"))?;
        let mut review_statuses = [0; 3];
        for (i, code) in ["Approved", "Pending", "Not Approved"].iter().enumerate() {
            let id: Option<i64> = q
                .exec_first(
                    "SELECT status_id FROM review_status WHERE status_code = ?",
                    (code,),
                )
                .await?;
            review_statuses[i] =
                id.ok_or_else(|| other(format!("review_status has no '{code}'")))?;
        }

        let mut ratings: Vec<(i64, Vec<(i64, i64)>)> = Vec::new();
        let rows: Vec<Row> = q
            .query(
                "SELECT o.rating_id, o.option_id, o.value FROM rating_option o \
                 JOIN rating r ON r.rating_id = o.rating_id \
                 JOIN rating_entity e ON e.entity_id = r.entity_id \
                 WHERE e.entity_code = 'product' ORDER BY o.rating_id, o.value",
            )
            .await?;
        for mut row in rows {
            let rating: i64 = col(&mut row, 0)?;
            let option: i64 = col(&mut row, 1)?;
            let value: i64 = col(&mut row, 2)?;
            match ratings.last_mut() {
                Some((r, options)) if *r == rating => options.push((option, value)),
                _ => ratings.push((rating, vec![(option, value)])),
            }
        }

        Ok(Context {
            customer_type,
            address_type,
            customer_set,
            address_set,
            order_type,
            invoice_type,
            shipment_type,
            creditmemo_type,
            increment_pads,
            attrs,
            stores,
            review_product_entity,
            review_statuses,
            ratings,
            lit,
        })
    }

    pub fn customer_attr(&self, code: &str) -> Option<Attr> {
        self.attrs
            .get(&(self.customer_type, code.to_string()))
            .copied()
    }

    pub fn address_attr(&self, code: &str) -> Option<Attr> {
        self.attrs
            .get(&(self.address_type, code.to_string()))
            .copied()
    }

    pub fn store(&self, id: i64) -> &StoreView {
        self.stores
            .iter()
            .find(|s| s.id == id)
            .unwrap_or(&self.stores[0])
    }

    /// Whether `id` is one of the active store views.
    pub fn has_store(&self, id: i64) -> bool {
        self.stores.iter().any(|s| s.id == id)
    }

    /// A shopper's store view: the first (default) one, or 30 % of the time one of the others.
    pub fn random_store(&self, rng: &mut Rng) -> &StoreView {
        if self.stores.len() > 1 && rng.percent(30) {
            &self.stores[1 + rng.below(self.stores.len() as u64 - 1) as usize]
        } else {
            &self.stores[0]
        }
    }

    /// Any store view, each as likely.
    pub fn any_store(&self, rng: &mut Rng) -> &StoreView {
        &self.stores[rng.below(self.stores.len() as u64) as usize]
    }

    /// The digits after the prefix of an entity type's increment ids (M1's default is 8).
    pub fn increment_pad(&self, entity_type: i64) -> usize {
        self.increment_pads.get(&entity_type).copied().unwrap_or(8)
    }
}

/// The next free id of every table with an auto-increment key. Ids are given explicitly, so
/// inserts are deterministic and can be batched; a deleted row's id is never reused.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    next: [i64; TABLES],
}

impl Ids {
    pub async fn load<Q: Queryable>(q: &mut Q) -> Result<Ids, mysql_async::Error> {
        let mut next = [1i64; TABLES];
        let parts: Vec<String> = T::ALL
            .iter()
            .filter_map(|t| {
                t.pk().map(|pk| {
                    format!(
                        "SELECT '{}', COALESCE(MAX(`{pk}`), 0) FROM `{}`",
                        t.name(),
                        t.name()
                    )
                })
            })
            .collect();
        let rows: Vec<Row> = q.query(parts.join(" UNION ALL ")).await?;
        let mut max: HashMap<String, i64> = HashMap::new();
        for mut row in rows {
            let name: String = col(&mut row, 0)?;
            let m: i64 = col(&mut row, 1)?;
            max.insert(name, m);
        }
        // AUTO_INCREMENT is past ids whose rows were deleted; MAX alone would reuse them.
        let rows: Vec<Row> = q
            .query("SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            .await?;
        let mut auto: HashMap<String, i64> = HashMap::new();
        for mut row in rows {
            let name: String = col(&mut row, 0)?;
            let a: Option<i64> = col(&mut row, 1)?;
            if let Some(a) = a {
                auto.insert(name, a);
            }
        }
        for t in T::ALL {
            if t.pk().is_some() {
                let from_max = max.get(t.name()).copied().unwrap_or(0) + 1;
                let from_auto = auto.get(t.name()).copied().unwrap_or(1);
                next[t.index()] = from_max.max(from_auto);
            }
        }
        Ok(Ids { next })
    }

    /// Allocates the next id of `table`.
    pub fn take(&mut self, table: T) -> i64 {
        let id = self.next[table.index()];
        self.next[table.index()] += 1;
        id
    }

    /// The highest id allocated or found so far (0 if none).
    pub fn max(&self, table: T) -> i64 {
        self.next[table.index()] - 1
    }
}

/// M1's numeric increment (`Mage_Eav_Model_Entity_Increment_Numeric`): strip the prefix from
/// the last id if it starts with it, take the number, add one, pad to `pad` digits after the
/// prefix. Returns the new id and its number.
pub(crate) fn next_increment(prefix: &str, last: Option<&str>, pad: usize) -> (String, i64) {
    let last = last.unwrap_or("");
    let rest = last.strip_prefix(prefix).unwrap_or(last);
    // PHP's (int) cast: leading digits, 0 if none.
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n = digits.parse::<i64>().unwrap_or(0) + 1;
    (format!("{prefix}{n:0>pad$}"), n)
}

/// The latest activity in the store, so the workload's clock continues after it.
pub(crate) async fn latest_activity<Q: Queryable>(q: &mut Q) -> Result<Ts, mysql_async::Error> {
    let latest: Option<i64> = q
        .query_first(
            "SELECT CAST(GREATEST( \
               COALESCE((SELECT UNIX_TIMESTAMP(MAX(updated_at)) FROM sales_flat_order), 0), \
               COALESCE((SELECT UNIX_TIMESTAMP(MAX(updated_at)) FROM customer_entity), 0), \
               COALESCE((SELECT UNIX_TIMESTAMP(MAX(updated_at)) FROM sales_flat_quote), 0), \
               COALESCE((SELECT UNIX_TIMESTAMP(MAX(last_visit_at)) FROM log_visitor), 0)) AS SIGNED)",
        )
        .await?;
    Ok(Ts(latest.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increments_follow_m1() {
        assert_eq!(next_increment("1", None, 8), ("100000001".to_string(), 1));
        assert_eq!(
            next_increment("2", Some("200000041"), 8),
            ("200000042".to_string(), 42)
        );
        assert_eq!(
            next_increment("", Some("000000007"), 8),
            ("00000008".to_string(), 8)
        );
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_dec4("12.3400"), Some(123_400));
        assert_eq!(parse_dec4("-0.5"), Some(-5_000));
        assert_eq!(parse_dec4("7"), Some(70_000));
        assert_eq!(parse_dec4("1.23456"), Some(12_345));
        assert_eq!(parse_dec4("x"), None);
        assert_eq!(parse_dec4(""), None);
    }
}
