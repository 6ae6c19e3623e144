//! Product reviews with their text, store links and rating votes.

use crate::storefront::context::{Context, Ids};
use crate::storefront::rng::Rng;
use crate::storefront::sql::{Writer, T};
use crate::storefront::text::{
    Ts, FOUR_BYTE_NICKNAMES, FOUR_BYTE_REVIEW_DETAILS, FOUR_BYTE_REVIEW_TITLES, NICKNAMES,
    PRODUCTS, REVIEW_DETAILS, REVIEW_TITLES,
};

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
