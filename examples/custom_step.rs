//! A delta step of your own, in Rust, for a third-party extension ("GreatBlog": posts and their
//! tags, keyed by `post_id` and by `post_id,tag`).
//!
//! config.xml names the step by a class, as the DMT's own steps are named:
//!
//! ```xml
//! <steps mode="delta">
//!     …
//!     <step title="GreatBlog Step">
//!         <delta>Vendor\GreatBlog\Delta</delta>
//!     </step>
//! </steps>
//! <options>
//!     …
//!     <greatblog_map_file>etc/greatblog/map.xml</greatblog_map_file>
//! </options>
//! ```
//!
//! deltalog.xml gets the extension's tables in a group of their own (then `mage-migrate
//! deltalog install` adds their triggers):
//!
//! ```xml
//! <group name="delta_greatblog">
//!     <document key="post_id">mm_blog_post</document>
//!     <document key="post_id,tag">mm_blog_post_tag</document>
//! </group>
//! ```
//!
//! The pipeline migrates the group's tables through the step's map file like any other (both
//! change sources, batches, retries, crash-safe resume); the step adds what the map cannot say:
//! here, M2's `greatblog_post.url_key`, derived from the migrated title, written in the same M2
//! transaction as the post itself.
//!
//! Run: `cargo run --example custom_step -- path/to/config.xml` (applies what is pending, then
//! exits, like `migrate:delta --once`).

use std::sync::Arc;

use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::pipeline::apply::DeltaTable;
use mage_migrate::setup::Setup;
use mage_migrate::steps::step::BoxFuture;
use mage_migrate::steps::{Step, StepRegistry};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Transaction, Value};

/// The class name config.xml uses for the step.
pub const CLASS: &str = "Vendor\\GreatBlog\\Delta";

#[derive(Debug)]
pub struct GreatBlogStep;

/// `Hello, World!` → `hello-world`.
pub fn url_key(title: &str) -> String {
    let mut out = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

impl Step for GreatBlogStep {
    fn group(&self) -> &str {
        "delta_greatblog"
    }

    fn map_file_option(&self) -> Option<&str> {
        Some("greatblog_map_file")
    }

    fn after_apply<'a>(
        &'a self,
        _m1: &'a mut Conn,
        m2: &'a mut Transaction<'_>,
        table: &'a DeltaTable,
        keys: &'a [Vec<Value>],
    ) -> BoxFuture<'a, mage_migrate::Result<()>> {
        Box::pin(async move {
            if table.mapping.destination_table != "greatblog_post" || keys.is_empty() {
                return Ok(());
            }
            // The posts as this transaction wrote them (a deleted one is simply not there).
            let ids: Vec<Value> = keys.iter().filter_map(|k| k.first().cloned()).collect();
            let marks = vec!["?"; ids.len()].join(", ");
            let rows: Vec<(u64, String)> = m2
                .exec(
                    format!(
                        "SELECT post_id, headline FROM greatblog_post WHERE post_id IN ({marks})"
                    ),
                    ids,
                )
                .await
                .map_err(|e| {
                    mage_migrate::Error::db(
                        mage_migrate::error::Side::M2,
                        e,
                        "reading greatblog_post",
                    )
                })?;
            for (id, headline) in rows {
                m2.exec_drop(
                    "UPDATE greatblog_post SET url_key = ? WHERE post_id = ?",
                    (url_key(&headline), id),
                )
                .await
                .map_err(|e| {
                    mage_migrate::Error::db(mage_migrate::error::Side::M2, e, "writing url_key")
                })?;
            }
            Ok(())
        })
    }

    fn volume<'a>(
        &'a self,
        _m1: &'a mut Conn,
        _m2: &'a mut Conn,
    ) -> BoxFuture<'a, mage_migrate::Result<Vec<String>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// The DMT's steps, plus this one under its class name.
pub fn registry() -> StepRegistry {
    let mut registry = StepRegistry::builtin();
    registry.register_step(CLASS, Arc::new(GreatBlogStep));
    registry
}

#[tokio::main]
async fn main() {
    let Some(config) = std::env::args().nth(1) else {
        eprintln!("usage: cargo run --example custom_step -- path/to/config.xml");
        std::process::exit(2);
    };
    let setup = match Setup::load_with(std::path::Path::new(&config), registry()) {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let options = DeltaOptions {
        once: true,
        skip_steps: mage_migrate::migrate_data::unbuilt_steps(&setup, "delta"),
        ..DeltaOptions::default()
    };
    match migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {}).await {
        Ok(report) => println!(
            "{} rows upserted, {} deleted (left to the DMT: {})",
            report.upserted,
            report.deleted,
            report.skipped_steps.join(", ")
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
