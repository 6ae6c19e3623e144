//! The rows of one storefront entity at a time (customer, quote, order, invoice, …), shared by
//! the seeder and the live workload so that both write the same shapes.
//!
//! Money is kept in 1/10000 units (the scale of M1's `decimal(12,4)`), rounded to cents as
//! Magento rounds, and never goes through floating point.

use super::context::{Attr, Context, Ids, StoreView};
use super::rng::Rng;
use super::sql::{Writer, T};
use super::text::*;

/// 1.0000 in decimal(12,4) units.
pub(crate) const ONE: i64 = 10_000;

/// Rounds 1/10000 units to whole cents, half away from zero.
pub(crate) fn round_cents(v: i64) -> i64 {
    if v >= 0 {
        (v + 50) / 100 * 100
    } else {
        -((-v + 50) / 100 * 100)
    }
}

/// `v` × `bp` basis points, rounded to cents.
pub(crate) fn percent_of(v: i64, bp: i64) -> i64 {
    round_cents(v * bp / 10_000)
}

/// An amount in base and in display (order) currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Amt {
    pub base: i64,
    pub cur: i64,
}

impl Amt {
    pub fn of(base: i64, rate: i64) -> Amt {
        Amt {
            base,
            cur: round_cents(base * rate / ONE),
        }
    }

    pub fn add(self, o: Amt) -> Amt {
        Amt {
            base: self.base + o.base,
            cur: self.cur + o.cur,
        }
    }

    pub fn sub(self, o: Amt) -> Amt {
        Amt {
            base: self.base - o.base,
            cur: self.cur - o.cur,
        }
    }

    pub fn neg(self) -> Amt {
        Amt {
            base: -self.base,
            cur: -self.cur,
        }
    }
}

/// Who buys: a customer's or a guest's details as copied into quotes and orders.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub customer_id: Option<i64>,
    pub group_id: i64,
    pub email: String,
    pub prefix: Option<String>,
    pub firstname: String,
    pub middlename: Option<String>,
    pub lastname: String,
    pub dob: Option<Ts>,
    pub gender: Option<i64>,
    pub taxvat: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Address {
    pub customer_address_id: Option<i64>,
    pub firstname: String,
    pub lastname: String,
    pub company: Option<String>,
    /// Lines joined by `\n`, as M1 stores a multi-line street.
    pub street: String,
    pub city: String,
    pub region: Option<String>,
    pub region_id: Option<i64>,
    pub postcode: String,
    pub country_id: String,
    pub telephone: String,
    pub fax: Option<String>,
    pub vat_id: Option<String>,
}

impl Address {
    /// Tax rate (basis points) and tax code of the address's country.
    pub fn tax(&self) -> (i64, &'static str) {
        PLACES
            .iter()
            .find(|p| p.country == self.country_id)
            .map(|p| (p.tax_bp, p.tax_code))
            .unwrap_or((0, "NONE"))
    }

    pub fn name(&self) -> String {
        mb3(&format!("{} {}", self.firstname, self.lastname))
    }
}

/// A random name; 4-byte characters only when the caller stores it in a utf8mb4 column too
/// (copies into utf8mb3 tables go through [`mb3`]).
pub(crate) fn random_names(rng: &mut Rng, four_byte: bool) -> (String, String) {
    let first = if four_byte && rng.percent(4) {
        rng.pick(FOUR_BYTE_FIRST_NAMES)
    } else {
        rng.pick(FIRST_NAMES)
    };
    let last = if four_byte && rng.percent(4) {
        rng.pick(FOUR_BYTE_LAST_NAMES)
    } else {
        rng.pick(LAST_NAMES)
    };
    (first.to_string(), last.to_string())
}

pub(crate) fn random_person(rng: &mut Rng, four_byte: bool, email_tag: &str) -> Person {
    let (firstname, lastname) = random_names(rng, four_byte);
    let email = format!(
        "{}.{}{}@{}",
        ascii_slug(&firstname),
        ascii_slug(&lastname),
        email_tag,
        rng.pick(EMAIL_DOMAINS)
    );
    let dob = rng
        .percent(40)
        .then(|| Ts(rng.range(-20 * 365, 35 * 365) * 86_400));
    Person {
        customer_id: None,
        group_id: 0,
        email,
        prefix: rng.percent(15).then(|| rng.pick(PREFIXES).to_string()),
        firstname,
        middlename: rng.percent(10).then(|| rng.pick(MIDDLE_NAMES).to_string()),
        lastname,
        dob,
        gender: rng.percent(50).then(|| rng.range(1, 2)),
        taxvat: rng
            .percent(5)
            .then(|| format!("DE{}", rng.range(100_000_000, 999_999_999))),
    }
}

pub(crate) fn random_address(rng: &mut Rng, first: &str, last: &str, four_byte: bool) -> Address {
    let place = rng.pick(PLACES);
    let mut street = format!("{} {}", rng.pick(STREETS), rng.range(1, 240));
    if rng.percent(25) {
        street.push('\n');
        if four_byte && rng.percent(10) {
            street.push_str(rng.pick::<&str>(FOUR_BYTE_STREET_LINES));
        } else {
            street.push_str(rng.pick::<&str>(STREET_SECOND_LINES));
        }
    }
    Address {
        customer_address_id: None,
        firstname: first.to_string(),
        lastname: last.to_string(),
        company: rng.percent(15).then(|| rng.pick(COMPANIES).to_string()),
        street,
        city: place.city.to_string(),
        region: place.region.map(str::to_string),
        region_id: place.region_id,
        postcode: digits(rng, place.postcode),
        country_id: place.country.to_string(),
        telephone: digits(rng, &format!("{} ### ####", place.phone)),
        fax: rng
            .percent(5)
            .then(|| digits(rng, &format!("{} ### ####", place.phone))),
        vat_id: (place.country != "US" && rng.percent(5))
            .then(|| format!("{}{}", place.country, rng.range(10_000_000, 99_999_999))),
    }
}

/// The stable part of a seeded customer, re-derived from (seed, customer id) whenever an order
/// needs it, so the seeder keeps no customer in memory.
pub(crate) struct CustomerProfile {
    pub person: Person,
    pub store_id: i64,
    pub created_in: String,
    pub password_hash: String,
    pub confirmation: Option<String>,
    pub rp_token: Option<String>,
    pub addresses: Vec<Address>,
}

/// Stream id of customer profiles in [`Rng::derive`].
const STREAM_CUSTOMER: u64 = 1;

pub(crate) fn customer_profile(seed: u64, customer_id: i64, ctx: &Context) -> CustomerProfile {
    let mut rng = Rng::derive(seed, STREAM_CUSTOMER, customer_id as u64);
    let mut person = random_person(&mut rng, true, &customer_id.to_string());
    person.customer_id = Some(customer_id);
    person.group_id = if rng.percent(90) { 1 } else { rng.range(2, 3) };
    // Account forms fill in more than checkout does: ~5 varchar values per customer, as the
    // schema notes (§1.1) count them.
    if person.prefix.is_none() && rng.percent(20) {
        person.prefix = Some(rng.pick(PREFIXES).to_string());
    }
    if person.middlename.is_none() && rng.percent(15) {
        person.middlename = Some(rng.pick(MIDDLE_NAMES).to_string());
    }
    if person.taxvat.is_none() && rng.percent(10) {
        person.taxvat = Some(format!("GB{}", rng.range(100_000_000, 999_999_999)));
    }
    let store = if ctx.stores.len() > 1 && rng.percent(30) {
        &ctx.stores[1 + rng.below(ctx.stores.len() as u64 - 1) as usize]
    } else {
        &ctx.stores[0]
    };
    // M1 before 1.9.3 stored md5(salt . password):salt with a 2-character salt; newer saves
    // use sha256 with a 32-character salt. Stores carry both (DMT converts each kind).
    let password_hash = if rng.percent(70) {
        format!("{}:{}", rng.hex(32), rng.alnum(2))
    } else {
        format!("{}:{}", rng.hex(64), rng.alnum(32))
    };
    let n_addresses = if rng.percent(40) { 2 } else { 1 };
    let addresses = (0..n_addresses)
        .map(|i| {
            if i == 0 {
                random_address(&mut rng, &person.firstname, &person.lastname, true)
            } else {
                let (f, l) = random_names(&mut rng, true);
                random_address(&mut rng, &f, &l, true)
            }
        })
        .collect();
    CustomerProfile {
        store_id: store.id,
        created_in: store.name.clone(),
        password_hash,
        confirmation: rng.percent(3).then(|| rng.hex(32)),
        rp_token: rng.percent(35).then(|| rng.hex(32)),
        addresses,
        person,
    }
}

/// One EAV value.
pub(crate) enum Val<'a> {
    S(&'a str),
    I(i64),
    D(Ts),
}

/// Writes one EAV value row into the table of the attribute's backend type; an attribute the
/// store does not have, or a static one, is skipped (M1 would keep nothing in a value table).
pub(crate) fn eav(
    w: &mut Writer,
    ids: &mut Ids,
    entity_type: i64,
    attr: Option<Attr>,
    entity_id: i64,
    v: Val<'_>,
) {
    let Some(Attr {
        id,
        table: Some(table),
    }) = attr
    else {
        return;
    };
    let value_id = ids.take(table);
    w.row(table, |r| {
        r.int(value_id).int(entity_type).int(id).int(entity_id);
        match v {
            Val::S(s) => r.str(s),
            Val::I(i) => r.int(i),
            Val::D(t) => r.ts(t),
        };
    });
}

/// customer_address_entity and its EAV values.
pub(crate) fn write_address(
    w: &mut Writer,
    ids: &mut Ids,
    ctx: &Context,
    address_id: i64,
    customer_id: i64,
    a: &Address,
    at: Ts,
) {
    w.row(T::AddressEntity, |r| {
        r.int(address_id)
            .int(ctx.address_type)
            .int(ctx.address_set)
            .null()
            .int(customer_id)
            .ts(at)
            .ts(at)
            .int(1);
    });
    let ty = ctx.address_type;
    let mut put = |code: &str, v: Val<'_>| eav(w, ids, ty, ctx.address_attr(code), address_id, v);
    put("firstname", Val::S(&a.firstname));
    put("lastname", Val::S(&a.lastname));
    if let Some(c) = &a.company {
        put("company", Val::S(c));
    }
    put("street", Val::S(&a.street));
    put("city", Val::S(&a.city));
    put("country_id", Val::S(&a.country_id));
    if let Some(region) = &a.region {
        put("region", Val::S(region));
    }
    if let Some(id) = a.region_id {
        put("region_id", Val::I(id));
    }
    put("postcode", Val::S(&a.postcode));
    put("telephone", Val::S(&a.telephone));
    if let Some(fax) = &a.fax {
        put("fax", Val::S(fax));
    }
    if let Some(vat) = &a.vat_id {
        put("vat_id", Val::S(vat));
        put("vat_is_valid", Val::I(1));
    }
}

/// customer_entity, its EAV values, its addresses (ids given) and the default address links.
pub(crate) fn write_customer(
    w: &mut Writer,
    ids: &mut Ids,
    ctx: &Context,
    p: &CustomerProfile,
    address_ids: &[i64],
    created_at: Ts,
) {
    let Some(id) = p.person.customer_id else {
        return;
    };
    let store = ctx.store(p.store_id);
    w.row(T::CustomerEntity, |r| {
        r.int(id)
            .int(ctx.customer_type)
            .int(ctx.customer_set)
            .int(store.website_id)
            .str(&p.person.email)
            .int(p.person.group_id)
            .null()
            .int(store.id)
            .ts(created_at)
            .ts(created_at)
            .int(1)
            .int(0);
    });
    let ty = ctx.customer_type;
    {
        let mut put = |code: &str, v: Val<'_>| eav(w, ids, ty, ctx.customer_attr(code), id, v);
        put("created_in", Val::S(&p.created_in));
        if let Some(prefix) = &p.person.prefix {
            put("prefix", Val::S(prefix));
        }
        put("firstname", Val::S(&p.person.firstname));
        if let Some(m) = &p.person.middlename {
            put("middlename", Val::S(m));
        }
        put("lastname", Val::S(&p.person.lastname));
        put("password_hash", Val::S(&p.password_hash));
        if let Some(dob) = p.person.dob {
            put("dob", Val::D(dob));
        }
        if let Some(g) = p.person.gender {
            put("gender", Val::I(g));
        }
        if let Some(t) = &p.person.taxvat {
            put("taxvat", Val::S(t));
        }
        if let Some(c) = &p.confirmation {
            put("confirmation", Val::S(c));
        }
        if let Some(token) = &p.rp_token {
            put("rp_token", Val::S(token));
            put("rp_token_created_at", Val::D(created_at.plus(3_600)));
        }
    }
    for (a, &address_id) in p.addresses.iter().zip(address_ids) {
        write_address(w, ids, ctx, address_id, id, a, created_at);
    }
    if let Some(&billing) = address_ids.first() {
        let shipping = address_ids.get(1).copied().unwrap_or(billing);
        eav(
            w,
            ids,
            ty,
            ctx.customer_attr("default_billing"),
            id,
            Val::I(billing),
        );
        eav(
            w,
            ids,
            ty,
            ctx.customer_attr("default_shipping"),
            id,
            Val::I(shipping),
        );
    }
}

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
            t.shipping = Amt::of(c.per_item * 100 * shipped_qty / ONE, rate);
        }
    }
    t.grand = t.subtotal.sub(t.discount).add(t.tax).add(t.shipping);
    t
}

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

/// A random documentation-range client address (IPv4 mostly, some IPv6).
pub(crate) fn random_ip(rng: &mut Rng) -> String {
    if rng.percent(10) {
        format!("2001:db8::{:x}", rng.range(1, 0xffff))
    } else {
        format!("203.0.113.{}", rng.range(1, 254))
    }
}

pub(crate) struct QuoteDraft<'a> {
    pub store: &'a StoreView,
    pub person: &'a Person,
    pub guest: bool,
    pub billing: &'a Address,
    pub shipping: &'a Address,
    pub lines: &'a [Line],
    pub totals: &'a Totals,
    pub carrier: Option<&'static Carrier>,
    pub coupon: Option<&'static str>,
    pub active: bool,
    pub reserved_order_id: Option<&'a str>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub payment_method: Option<&'a str>,
    pub remote_ip: &'a str,
}

#[derive(Debug, Clone)]
pub(crate) struct QuoteIds {
    pub quote_id: i64,
    pub item_ids: Vec<i64>,
    pub billing_id: i64,
    pub shipping_id: i64,
    pub payment_id: Option<i64>,
}

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
            .opt_str((l.discount.base != 0).then_some("1"))
            .int(0)
            .int(0)
            .int(0)
            .dec4(l.weight)
            .dec4(l.qty)
            .dec4(l.price.cur)
            .dec4(l.price.base)
            .dec4(if l.discount.base != 0 { 10 * ONE } else { 0 })
            .dec4(l.discount.cur)
            .dec4(l.discount.base)
            .dec4(l.tax_bp * 100)
            .dec4(l.tax.cur)
            .dec4(l.tax.base)
            .dec4(l.row.cur)
            .dec4(l.row.base)
            .dec4(l.row.cur - l.discount.cur)
            .dec4(l.weight * l.qty / ONE)
            .str(if l.is_virtual { "virtual" } else { "simple" })
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
                .str(if l.is_virtual { "virtual" } else { "simple" });
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
        let price = Amt::of(c.per_item * 100 * shipped_qty / ONE, rate);
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
        *q.totals
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
        match (with_totals, q.carrier) {
            (true, Some(c)) => r
                .str(c.code)
                .str(&format!("{} - {}", c.carrier_title, c.method_title)),
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
    let t = q.totals;
    let store = q.store;
    w.row(T::Quote, |r| {
        r.int(quote_id)
            .int(store.id)
            .ts(q.created_at)
            .ts(q.updated_at)
            .int(i64::from(q.active))
            .int(i64::from(t.virtual_only))
            .int(0)
            .int(q.lines.len() as i64)
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
        .lines
        .iter()
        .map(|l| write_quote_item(w, ids, rng, quote_id, store.id, l, q.created_at))
        .collect();
    let billing_id = write_quote_address(w, ids, q, quote_id, "billing", q.billing, false);
    let shipping_id = write_quote_address(w, ids, q, quote_id, "shipping", q.shipping, true);
    if !t.virtual_only {
        let shipped_qty = q
            .lines
            .iter()
            .filter(|l| !l.is_virtual)
            .map(|l| l.qty)
            .sum();
        write_rates(
            w,
            ids,
            rng,
            shipping_id,
            q.carrier,
            shipped_qty,
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

pub(crate) struct OrderDraft<'a> {
    pub id: i64,
    pub increment_id: &'a str,
    pub store: &'a StoreView,
    pub person: &'a Person,
    pub guest: bool,
    pub billing: &'a Address,
    pub shipping: Option<&'a Address>,
    pub lines: &'a [Line],
    pub quote: Option<&'a QuoteIds>,
    pub totals: &'a Totals,
    pub carrier: Option<&'static Carrier>,
    pub coupon: Option<&'static str>,
    pub payment: &'a Payment,
    pub created_at: Ts,
    pub remote_ip: &'a str,
    pub customer_note: Option<&'a str>,
    pub protect_code: &'a str,
}

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

/// `Some(v)` when `on`, else NULL: the *_invoiced / *_refunded / *_canceled columns.
fn when(on: bool, v: i64) -> Option<i64> {
    on.then_some(v)
}

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
    let t = d.totals;
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

    let mut items = Vec::with_capacity(d.lines.len());
    let tax_id = (t.tax.base != 0).then(|| ids.take(T::OrderTax));
    let mut tax_items = Vec::new();
    for (i, l) in d.lines.iter().enumerate() {
        let item_id = ids.take(T::OrderItem);
        let incl = l.price_incl();
        let row_incl = l.row_incl();
        let options = buy_request(rng, l.product_id, l.qty);
        let quote_item_id = d.quote.and_then(|q| q.item_ids.get(i).copied());
        let shipped = fate.shipped && !l.is_virtual;
        w.row(T::OrderItem, |r| {
            r.int(item_id)
                .int(order_id)
                .opt_int(quote_item_id)
                .int(d.store.id)
                .ts(d.created_at)
                .ts(fate.updated_at)
                .int(l.product_id)
                .str(if l.is_virtual { "virtual" } else { "simple" })
                .str(&options)
                .dec4(l.weight)
                .int(i64::from(l.is_virtual))
                .str(&l.sku)
                .str(&l.name)
                .opt_str((l.discount.base != 0).then_some("1"))
                .int(0)
                .int(0)
                .int(0)
                .dec4(if fate.canceled { l.qty } else { 0 })
                .dec4(if fate.invoiced { l.qty } else { 0 })
                .dec4(l.qty)
                .dec4(if fate.refunded { l.qty } else { 0 })
                .dec4(if shipped { l.qty } else { 0 })
                .dec4(round_cents(l.price.base * 6 / 10))
                .dec4(l.price.cur)
                .dec4(l.price.base)
                .dec4(l.price.cur)
                .dec4(l.price.base)
                .dec4(l.tax_bp * 100)
                .dec4(l.tax.cur)
                .dec4(l.tax.base)
                .dec4(if fate.invoiced { l.tax.cur } else { 0 })
                .dec4(if fate.invoiced { l.tax.base } else { 0 })
                .dec4(if l.discount.base != 0 { 10 * ONE } else { 0 })
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
        if tax_id.is_some() {
            tax_items.push((item_id, l.tax_bp));
        }
        items.push(ItemView {
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
        });
    }

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
    let mut auth = None;
    if let Some(txn) = &auth_txn {
        let id = ids.take(T::PaymentTransaction);
        auth = Some((id, txn.clone()));
        let info = php_serialize(&Php::Map(vec![(
            "raw_details_info",
            Php::Map(vec![("payment_status", Php::Str("Pending"))]),
        )]));
        w.row(T::PaymentTransaction, |r| {
            r.int(id)
                .null()
                .int(order_id)
                .int(payment_id)
                .str(txn)
                .null()
                .str("authorization")
                .int(i64::from(fate.invoiced || fate.canceled))
                .bytes(info.as_bytes())
                .ts(d.created_at);
        });
    }

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
        for (item_id, bp) in tax_items {
            let id = ids.take(T::OrderTaxItem);
            w.row(T::OrderTaxItem, |r| {
                r.int(id).int(tax_id).int(item_id).dec4(bp * 100);
            });
        }
    }

    let discount = t.discount.neg();
    let person = d.person;
    let shipping_description = d
        .carrier
        .filter(|_| !t.virtual_only)
        .map(|c| format!("{} - {}", c.carrier_title, c.method_title));
    let total_item_count = d.lines.len() as i64;
    let online = p.online();
    w.row(T::Order, |r| {
        r.int(order_id)
            .str(state)
            .str(status)
            .opt_str(d.coupon)
            .str(d.protect_code)
            .opt_str(shipping_description.as_deref())
            .int(i64::from(t.virtual_only))
            .int(d.store.id)
            .opt_int(customer_id)
            // base_discount_amount … base_total_refunded
            .dec4(discount.base)
            .opt_dec4(fate.canceled.then_some(discount.base))
            .opt_dec4(when(fate.invoiced, discount.base))
            .opt_dec4(when(fate.refunded, discount.base))
            .dec4(t.grand.base)
            .dec4(t.shipping.base)
            .opt_dec4(when(fate.canceled, t.shipping.base))
            .opt_dec4(when(fate.invoiced, t.shipping.base))
            .opt_dec4(when(fate.refunded, t.shipping.base))
            .dec4(0)
            .opt_dec4(when(fate.refunded, 0))
            .dec4(t.subtotal.base)
            .opt_dec4(when(fate.canceled, t.subtotal.base))
            .opt_dec4(when(fate.invoiced, t.subtotal.base))
            .opt_dec4(when(fate.refunded, t.subtotal.base))
            .dec4(t.tax.base)
            .opt_dec4(when(fate.canceled, t.tax.base))
            .opt_dec4(when(fate.invoiced, t.tax.base))
            .opt_dec4(when(fate.refunded, t.tax.base))
            .dec4(ONE)
            .dec4(rate)
            .opt_dec4(when(fate.canceled, t.grand.base))
            .opt_dec4(when(fate.invoiced, t.grand.base))
            .opt_dec4(when(fate.invoiced, 0))
            .opt_dec4(when(fate.refunded && !online, t.grand.base))
            .opt_dec4(when(fate.refunded && online, t.grand.base))
            .opt_dec4(when(fate.invoiced, t.grand.base))
            .dec4(t.qty)
            .opt_dec4(when(fate.refunded, t.grand.base))
            // discount_amount … total_refunded
            .dec4(discount.cur)
            .opt_dec4(when(fate.canceled, discount.cur))
            .opt_dec4(when(fate.invoiced, discount.cur))
            .opt_dec4(when(fate.refunded, discount.cur))
            .dec4(t.grand.cur)
            .dec4(t.shipping.cur)
            .opt_dec4(when(fate.canceled, t.shipping.cur))
            .opt_dec4(when(fate.invoiced, t.shipping.cur))
            .opt_dec4(when(fate.refunded, t.shipping.cur))
            .dec4(0)
            .opt_dec4(when(fate.refunded, 0))
            .dec4(ONE)
            .dec4(rate)
            .dec4(t.subtotal.cur)
            .opt_dec4(when(fate.canceled, t.subtotal.cur))
            .opt_dec4(when(fate.invoiced, t.subtotal.cur))
            .opt_dec4(when(fate.refunded, t.subtotal.cur))
            .dec4(t.tax.cur)
            .opt_dec4(when(fate.canceled, t.tax.cur))
            .opt_dec4(when(fate.invoiced, t.tax.cur))
            .opt_dec4(when(fate.refunded, t.tax.cur))
            .opt_dec4(when(fate.canceled, t.grand.cur))
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
            .opt_str(d.carrier.filter(|_| !t.virtual_only).map(|c| c.code))
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
        shipping_method: d.carrier.map(|c| c.code.to_string()),
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

/// A gateway transaction (PayPal): capture at invoice, refund at credit memo.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_transaction(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    v: &OrderView,
    kind: &str,
    parent: Option<(i64, &str)>,
    at: Ts,
) -> (i64, String) {
    let id = ids.take(T::PaymentTransaction);
    let txn = rng.alnum(17).to_uppercase();
    let info = php_serialize(&Php::Map(vec![(
        "raw_details_info",
        Php::Map(vec![(
            "payment_status",
            Php::Str(if kind == "refund" {
                "Refunded"
            } else {
                "Completed"
            }),
        )]),
    )]));
    w.row(T::PaymentTransaction, |r| {
        r.int(id)
            .opt_int(parent.map(|p| p.0))
            .int(v.id)
            .int(v.payment_id)
            .str(&txn)
            .opt_str(parent.map(|p| p.1))
            .str(kind)
            .int(1)
            .bytes(info.as_bytes())
            .ts(at);
    });
    (id, txn)
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
            r.int(item_id)
                .int(id)
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
                .dec4(round_cents(it.price.base * 6 / 10))
                .dec4(it.price.cur)
                .dec4(it.row_incl.base)
                .dec4(it.row_incl.cur)
                .int(it.product_id)
                .int(it.item_id)
                .str(&it.sku)
                .str(&it.name)
                .dec4(0)
                .dec4(0);
        });
    }
    if rng.percent(15) {
        let comment_id = ids.take(T::InvoiceComment);
        w.row(T::InvoiceComment, |r| {
            r.int(comment_id)
                .int(id)
                .int(1)
                .int(0)
                .str("Merci pour votre commande – invoice sent.")
                .ts(at);
        });
    }
    w.row(T::InvoiceGrid, |r| {
        r.int(id)
            .int(v.store_id)
            .dec4(v.grand.base)
            .dec4(v.grand.cur)
            .int(v.id)
            .int(2)
            .str(&v.base_currency)
            .str(&v.order_currency)
            .str(&v.base_currency)
            .str(&v.base_currency)
            .str(increment_id)
            .str(&v.increment_id)
            .ts(at)
            .ts(v.created_at)
            .str(&v.billing_name);
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
    let carrier = v
        .shipping_method
        .as_deref()
        .and_then(|m| CARRIERS.iter().find(|c| c.code == m));
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
        let comment_id = ids.take(T::ShipmentComment);
        w.row(T::ShipmentComment, |r| {
            r.int(comment_id)
                .int(id)
                .int(1)
                .int(1)
                .str("Paket wurde beim Nachbarn abgegeben.")
                .ts(at);
        });
    }
    w.row(T::ShipmentGrid, |r| {
        r.int(id)
            .int(v.store_id)
            .dec4(qty)
            .int(v.id)
            .null()
            .str(increment_id)
            .str(&v.increment_id)
            .ts(at)
            .ts(v.created_at)
            .str(&v.shipping_name);
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
            .opt_int(invoice_id)
            .str(&v.base_currency)
            .str(&v.order_currency)
            .str(&v.base_currency)
            .str(&v.base_currency)
            .opt_str(transaction_id)
            .str(increment_id)
            .ts(at)
            .ts(at)
            .dec4(v.shipping.cur)
            .dec4(v.shipping.base);
    });
    for it in &v.items {
        let item_id = ids.take(T::CreditmemoItem);
        w.row(T::CreditmemoItem, |r| {
            r.int(item_id)
                .int(id)
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
                .dec4(round_cents(it.price.base * 6 / 10))
                .dec4(it.price.cur)
                .dec4(it.row_incl.base)
                .dec4(it.row_incl.cur)
                .int(it.product_id)
                .int(it.item_id)
                .str(&it.sku)
                .str(&it.name);
        });
    }
    if rng.percent(30) {
        let comment_id = ids.take(T::CreditmemoComment);
        w.row(T::CreditmemoComment, |r| {
            r.int(comment_id)
                .int(id)
                .int(0)
                .int(0)
                .str("Retour reçu, remboursement effectué.")
                .ts(at);
        });
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
            .opt_int(invoice_id)
            .str(&v.base_currency)
            .str(&v.order_currency)
            .str(&v.base_currency)
            .str(&v.base_currency)
            .str(increment_id)
            .str(&v.increment_id)
            .ts(at)
            .ts(v.created_at)
            .str(&v.billing_name);
    });
    id
}

/// A product review with its text, store links and one vote per rating.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_review(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    ctx: &Context,
    customer_id: Option<i64>,
    store_id: i64,
    at: Ts,
) -> i64 {
    let review_id = ids.take(T::Review);
    let product = rng.pick(PRODUCTS).id;
    let status = match rng.below(10) {
        0 => ctx.review_statuses[1],
        1 => ctx.review_statuses[2],
        _ => ctx.review_statuses[0],
    };
    w.row(T::Review, |r| {
        r.int(review_id)
            .ts(at)
            .int(ctx.review_product_entity)
            .int(product)
            .int(status);
    });
    let four = rng.percent(30);
    let title = if four {
        rng.pick(FOUR_BYTE_REVIEW_TITLES)
    } else {
        rng.pick(REVIEW_TITLES)
    };
    let detail = if rng.percent(30) {
        rng.pick(FOUR_BYTE_REVIEW_DETAILS)
    } else {
        rng.pick(REVIEW_DETAILS)
    };
    let nickname = if rng.percent(20) {
        rng.pick(FOUR_BYTE_NICKNAMES)
    } else {
        rng.pick(NICKNAMES)
    };
    let detail_id = ids.take(T::ReviewDetail);
    w.row(T::ReviewDetail, |r| {
        r.int(detail_id)
            .int(review_id)
            .int(store_id)
            .str(title)
            .str(detail)
            .str(nickname)
            .opt_int(customer_id);
    });
    // M1 links a review to the admin store too, so it shows in every scope's grid.
    for s in [0, store_id] {
        w.row(T::ReviewStore, |r| {
            r.int(review_id).int(s);
        });
    }
    let ip = [203u8, 0, 113, rng.range(1, 254) as u8];
    let ip_text = format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
    for (rating_id, options) in &ctx.ratings {
        if options.is_empty() {
            continue;
        }
        let &(option_id, value) = rng.pick(options);
        let vote_id = ids.take(T::RatingVote);
        w.row(T::RatingVote, |r| {
            r.int(vote_id)
                .int(option_id)
                .str(&ip_text)
                .bytes(&ip)
                .opt_int(customer_id)
                .int(product)
                .int(*rating_id)
                .int(review_id)
                .int(value * 20)
                .int(value);
        });
    }
    review_id
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn write_subscriber(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    store_id: i64,
    customer_id: i64,
    email: &str,
    status: i64,
    at: Ts,
) -> i64 {
    let id = ids.take(T::Subscriber);
    let code = rng.hex(32);
    w.row(T::Subscriber, |r| {
        r.int(id)
            .int(store_id)
            .ts(at)
            .int(customer_id)
            .str(email)
            .int(status)
            .str(&code);
    });
    id
}

pub(crate) fn write_wishlist(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    customer_id: i64,
    store_id: i64,
    at: Ts,
) -> i64 {
    let id = ids.take(T::Wishlist);
    let code = rng.hex(32);
    w.row(T::Wishlist, |r| {
        r.int(id)
            .int(customer_id)
            .int(i64::from(rng.percent(10)))
            .str(&code)
            .ts(at);
    });
    for _ in 0..rng.range(1, 4) {
        let item_id = ids.take(T::WishlistItem);
        let p = rng.pick(PRODUCTS);
        let note = rng.percent(20).then(|| *rng.pick(WISHLIST_NOTES));
        w.row(T::WishlistItem, |r| {
            r.int(item_id)
                .int(id)
                .int(p.id)
                .int(store_id)
                .ts(at)
                .opt_str(note)
                .dec4(ONE);
        });
        let option_id = ids.take(T::WishlistItemOption);
        let request = buy_request(rng, p.id, ONE);
        w.row(T::WishlistItemOption, |r| {
            r.int(option_id)
                .int(item_id)
                .int(p.id)
                .str("info_buyRequest")
                .str(&request);
        });
    }
    id
}

/// A visitor session, and the customer's login when `customer_id` is given.
pub(crate) fn write_visit(
    w: &mut Writer,
    ids: &mut Ids,
    rng: &mut Rng,
    store_id: i64,
    customer_id: Option<i64>,
    at: Ts,
) -> i64 {
    let id = ids.take(T::LogVisitor);
    let session = rng.alnum(26).to_lowercase();
    let last = at.plus(rng.range(5, 1_800));
    w.row(T::LogVisitor, |r| {
        r.int(id)
            .str(&session)
            .ts(at)
            .ts(last)
            .int(rng.range(0, 50_000))
            .int(store_id);
    });
    if let Some(c) = customer_id {
        let log_id = ids.take(T::LogCustomer);
        let logout = rng.percent(30).then_some(last);
        w.row(T::LogCustomer, |r| {
            r.int(log_id)
                .int(id)
                .int(c)
                .ts(at)
                .opt_ts(logout)
                .int(store_id);
        });
    }
    id
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
