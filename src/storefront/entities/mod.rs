//! The rows of one storefront entity at a time (customer, quote, order, invoice, …), shared by
//! the seeder and the live workload so that both write the same shapes.
//!
//! Money is kept in 1/10000 units (the scale of M1's `decimal(12,4)`), rounded to cents as
//! Magento rounds, and never goes through floating point.

mod activity;
mod customer;
mod documents;
mod money;
mod order;
mod payment;
mod pricing;
mod quote;
mod review;

pub(crate) use activity::*;
pub(crate) use customer::*;
pub(crate) use documents::*;
pub(crate) use money::*;
pub(crate) use order::*;
pub(crate) use payment::*;
pub(crate) use pricing::*;
pub(crate) use quote::*;
pub(crate) use review::*;
