//! Cart and order lines priced for a store and tax rate, and the totals they add up to.

use super::money::{percent_of, round_cents, Amt, ONE};
use crate::storefront::rng::Rng;
use crate::storefront::text::{php_serialize, Carrier, Php, CARRIERS, PRODUCTS};

/// One priced cart or order line.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    /// Unit weight, 1/10000.
    pub weight: i64,
    pub is_virtual: bool,
    /// Quantity, 1/10000.
    pub qty: i64,
    pub price: Amt,
    pub tax_bp: i64,
    pub row: Amt,
    /// Positive, as M1 stores item discounts.
    pub discount: Amt,
    pub tax: Amt,
}

impl Line {
    pub fn price_incl(&self) -> Amt {
        Amt {
            base: self.price.base + percent_of(self.price.base, self.tax_bp),
            cur: self.price.cur + percent_of(self.price.cur, self.tax_bp),
        }
    }

    pub fn row_incl(&self) -> Amt {
        self.row.add(self.tax)
    }

    /// M1's `product_type` of the line's product.
    pub fn product_type(&self) -> &'static str {
        if self.is_virtual {
            "virtual"
        } else {
            "simple"
        }
    }

    /// `applied_rule_ids`: the coupon's sales rule when the line is discounted.
    pub fn applied_rule_ids(&self) -> Option<&'static str> {
        (self.discount.base != 0).then_some("1")
    }

    /// `discount_percent` in 1/10000: the coupon takes 10 %.
    pub fn discount_percent(&self) -> i64 {
        if self.discount.base != 0 {
            10 * ONE
        } else {
            0
        }
    }

    /// The same product and quantity priced again, without discount, for a store's rate and
    /// a tax rate (a cart read back is priced anew when it changes or is checked out).
    pub fn repriced(&self, rate: i64, tax_bp: i64) -> Line {
        price_line(
            self.product_id,
            &self.sku,
            &self.name,
            self.weight,
            self.is_virtual,
            self.qty,
            self.price.base,
            rate,
            tax_bp,
            0,
        )
    }
}

/// What an item cost the shop (`base_cost`): 60 % of its base price, rounded to cents.
pub(crate) fn base_cost(base_price: i64) -> i64 {
    round_cents(base_price * 6 / 10)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn price_line(
    product_id: i64,
    sku: &str,
    name: &str,
    weight: i64,
    is_virtual: bool,
    qty: i64,
    base_price: i64,
    rate: i64,
    tax_bp: i64,
    discount_bp: i64,
) -> Line {
    let price = Amt::of(base_price, rate);
    let row = Amt {
        base: round_cents(price.base * qty / ONE),
        cur: round_cents(price.cur * qty / ONE),
    };
    let discount = Amt {
        base: percent_of(row.base, discount_bp),
        cur: percent_of(row.cur, discount_bp),
    };
    let tax = Amt {
        base: percent_of(row.base - discount.base, tax_bp),
        cur: percent_of(row.cur - discount.cur, tax_bp),
    };
    Line {
        product_id,
        sku: sku.to_string(),
        name: name.to_string(),
        weight,
        is_virtual,
        qty,
        price,
        tax_bp,
        row,
        discount,
        tax,
    }
}

/// 1–`max` distinct catalog products with quantities, priced for a store and tax rate.
pub(crate) fn random_lines(
    rng: &mut Rng,
    max: i64,
    rate: i64,
    tax_bp: i64,
    discount_bp: i64,
) -> Vec<Line> {
    let n = rng.range(1, max) as usize;
    let start = rng.below(PRODUCTS.len() as u64) as usize;
    let step = 1 + rng.below(3) as usize;
    (0..n)
        .map(|i| {
            let p = &PRODUCTS[(start + i * step) % PRODUCTS.len()];
            let qty = if rng.percent(75) { 1 } else { rng.range(2, 3) };
            price_line(
                p.id,
                p.sku,
                p.name,
                p.weight,
                p.virtual_,
                qty * ONE,
                p.price * 100,
                rate,
                tax_bp,
                discount_bp,
            )
        })
        .collect()
}

/// What a cart or order adds up to.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Totals {
    pub subtotal: Amt,
    /// Positive.
    pub discount: Amt,
    pub tax: Amt,
    pub shipping: Amt,
    pub grand: Amt,
    pub subtotal_incl_tax: Amt,
    pub qty: i64,
    pub weight: i64,
    pub virtual_only: bool,
}

pub(crate) fn totals(lines: &[Line], carrier: Option<&Carrier>, rate: i64) -> Totals {
    let mut t = Totals {
        virtual_only: lines.iter().all(|l| l.is_virtual),
        ..Totals::default()
    };
    let mut shipped_qty = 0;
    for l in lines {
        t.subtotal = t.subtotal.add(l.row);
        t.discount = t.discount.add(l.discount);
        t.tax = t.tax.add(l.tax);
        t.subtotal_incl_tax = t.subtotal_incl_tax.add(l.row_incl());
        t.qty += l.qty;
        if !l.is_virtual {
            t.weight += l.weight * l.qty / ONE;
            shipped_qty += l.qty;
        }
    }
    if let Some(c) = carrier {
        if !t.virtual_only {
            t.shipping = shipping_price(c, shipped_qty, rate);
        }
    }
    t.grand = t.subtotal.sub(t.discount).add(t.tax).add(t.shipping);
    t
}

/// The quantity of the lines that need shipping.
pub(crate) fn shipped_qty(lines: &[Line]) -> i64 {
    lines.iter().filter(|l| !l.is_virtual).map(|l| l.qty).sum()
}

/// A carrier's price for `shipped_qty` (1/10000) shipped items, in base and display currency.
pub(crate) fn shipping_price(c: &Carrier, shipped_qty: i64, rate: i64) -> Amt {
    Amt::of(c.per_item * 100 * shipped_qty / ONE, rate)
}

/// The lines of a cart or order, its carrier (None when nothing ships) and their totals.
pub(crate) struct Basket {
    pub lines: Vec<Line>,
    pub carrier: Option<&'static Carrier>,
    pub totals: Totals,
}

impl Basket {
    pub fn new(lines: Vec<Line>, carrier: Option<&'static Carrier>, rate: i64) -> Basket {
        let totals = totals(&lines, carrier, rate);
        Basket {
            lines,
            carrier,
            totals,
        }
    }
}

/// A random [`Basket`] of 1–`max` lines (see [`random_lines`]) with a random carrier unless
/// every line is virtual.
pub(crate) fn random_basket(
    rng: &mut Rng,
    max: i64,
    rate: i64,
    tax_bp: i64,
    discount_bp: i64,
) -> Basket {
    let lines = random_lines(rng, max, rate, tax_bp, discount_bp);
    let carrier = (!lines.iter().all(|l| l.is_virtual)).then(|| rng.pick(CARRIERS));
    Basket::new(lines, carrier, rate)
}

/// The serialized `info_buyRequest` M1 keeps with quote, order and wishlist items.
pub(crate) fn buy_request(rng: &mut Rng, product_id: i64, qty: i64) -> String {
    let product = product_id.to_string();
    let qty = (qty / ONE).to_string();
    let uenc = format!("aHR0cDovL3d3dy5leGFtcGxlLmNvbS9{}", rng.alnum(12));
    let form_key = rng.alnum(16);
    php_serialize(&Php::Map(vec![(
        "info_buyRequest",
        Php::Map(vec![
            ("uenc", Php::Str(&uenc)),
            ("product", Php::Str(&product)),
            ("form_key", Php::Str(&form_key)),
            ("qty", Php::Str(&qty)),
        ]),
    )]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_to_cents() {
        assert_eq!(round_cents(12_345), 12_300);
        assert_eq!(round_cents(12_350), 12_400);
        assert_eq!(round_cents(-12_350), -12_400);
        assert_eq!(percent_of(100 * ONE, 825), 8 * ONE + 2_500);
        let l = price_line(
            1,
            "S",
            "N",
            0,
            false,
            2 * ONE,
            1_999 * 100,
            9_200,
            2_000,
            1_000,
        );
        assert_eq!(l.row.base, 3_998 * 100);
        assert_eq!(l.discount.base, 400 * 100);
        assert_eq!(
            l.tax.base,
            round_cents((3_998 - 400) * 100 * 2_000 / 10_000)
        );
        let t = totals(std::slice::from_ref(&l), Some(&CARRIERS[0]), 9_200);
        assert_eq!(t.shipping.base, 1_000 * 100);
        assert_eq!(
            t.grand.base,
            l.row.base - l.discount.base + l.tax.base + t.shipping.base
        );
    }
}
