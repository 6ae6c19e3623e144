//! mage-migrate: moves a live Magento 1 store's data into Magento 2 and keeps it caught up
//! until cutover, as a drop-in for the Data Migration Tool's delta mode.
//!
//! The binary is a thin layer over [`run`]; everything else is usable as a library, so that an
//! extension can register its own steps.

pub mod bench;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod cutover;
pub mod db;
pub mod deltalog;
pub mod demo;
pub mod error;
pub mod metrics;
pub mod migrate_data;
pub mod migrate_delta;
pub mod pipeline;
pub mod precheck;
pub mod sandbox;
pub mod setup;
pub mod source;
pub mod steps;
pub mod storefront;
pub mod transform;
pub mod verify;

mod commands;

pub use commands::run;
pub use error::{Error, Result};
