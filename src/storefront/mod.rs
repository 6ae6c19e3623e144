//! A seeded generator of realistic Magento 1 store data, and a live storefront workload.
//!
//! [`seed_store`] fills an M1 database (the `fixtures/schema/m1.sql` subset with its reference
//! rows) with two years of history: customers with their EAV values (names, password hashes
//! in both the md5 and the sha256 format, dates of birth, default addresses) and 1–2 addresses
//! each; a converted quote and an order for every sale (1–5 items, billing and shipping
//! addresses, payment, status history, tax rows, grid row, per-store increment ids kept in
//! `eav_entity_store` as M1 keeps them); invoices, shipments (with tracking) and credit memos
//! for a realistic share of the orders; guest orders; open carts with items, options,
//! addresses, shipping rates and payment; reviews with votes; newsletter subscribers;
//! wishlists; visitor logs. Text is international (2- and 3-byte UTF-8 everywhere); 4-byte
//! characters (emoji, CJK extension B) appear only in the six utf8mb4 tables of the fixture,
//! and are replaced by `?` where M1 copies such a value into a utf8mb3 table.
//!
//! [`Workload`] then performs one storefront action per call, each as one M1 transaction with
//! the row changes M1's own code makes: registrations, profile edits (EAV UPDATE, INSERT and
//! DELETE), cart activity with shipping-rate churn, checkouts, status changes, invoices,
//! shipments, refunds, reviews, newsletter changes, visits, and deletes (a customer deleted by
//! an admin, whose EAV rows and addresses go by cascade; a quote removed by the cleanup cron;
//! a review).
//!
//! # Determinism
//!
//! The same seed and the same starting database give the same rows, byte for byte: the
//! generator uses its own PRNG ([`rng`]), never the clock (timestamps are a fixed date plus
//! generated offsets, stored with the session in UTC), and gives every id explicitly.
//!
//! # Memory
//!
//! Rows are rendered into multi-row INSERTs of at most 500 rows (or 4 MB) per table and sent
//! batch by batch inside transactions; the seeder keeps only a few numbers per customer (its
//! details are re-derived from the seed when an order needs them), never the store.

mod context;
mod entities;
pub mod rng;
mod seed;
mod sql;
mod text;
mod workload;

pub use seed::{seed_store, SeedSummary, StoreProfile};
pub use workload::{Action, ActionCounts, ActionKind, Workload, WorkloadMix};
