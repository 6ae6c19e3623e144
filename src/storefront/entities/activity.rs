//! A shopper's activity besides buying: newsletter subscriptions, wishlists and visitor
//! sessions.

use super::money::ONE;
use super::pricing::buy_request;
use crate::storefront::context::Ids;
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Writer, T};
use crate::storefront::text::{Ts, PRODUCTS, WISHLIST_NOTES};

/// A newsletter subscription; `customer_id` 0 for a guest, as M1 stores it.
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

/// A customer's wishlist with 1–4 products and their buy requests.
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
