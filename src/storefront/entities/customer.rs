//! Customers and the people and addresses checkout copies from them: random shoppers, the
//! re-derivable profile of a seeded customer, and its EAV rows.

use crate::storefront::context::{Attr, Context, Ids};
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Writer, T};
use crate::storefront::text::{
    ascii_slug, digits, mb3, Ts, COMPANIES, EMAIL_DOMAINS, FIRST_NAMES, FOUR_BYTE_FIRST_NAMES,
    FOUR_BYTE_LAST_NAMES, FOUR_BYTE_STREET_LINES, LAST_NAMES, MIDDLE_NAMES, PLACES, PREFIXES,
    STREETS, STREET_SECOND_LINES,
};

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

/// A customer's address-book entry, or an address typed in at checkout.
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
    let store = ctx.random_store(&mut rng);
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
        let mut put = |code: &str, v: Val<'_>| eav(w, ids, ty, ctx.customer_attr(code), id, v);
        put("default_billing", Val::I(billing));
        put("default_shipping", Val::I(shipping));
    }
}

/// A random documentation-range client address (IPv4 mostly, some IPv6).
pub(crate) fn random_ip(rng: &mut Rng) -> String {
    if rng.percent(10) {
        format!("2001:db8::{:x}", rng.range(1, 0xffff))
    } else {
        format!("203.0.113.{}", rng.range(1, 254))
    }
}
