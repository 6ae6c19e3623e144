//! Sandbox databases for the tests, the benchmarks and the demo: a private MariaDB server, the
//! Magento 1 / Magento 2 schema fixtures, and loading them.

mod server;

pub use server::{SandboxError, Server, ServerOptions};

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::db::quote_ident;

/// The Magento 1.9 schema subset written for this project (`fixtures/schema/m1.sql`).
pub const M1_SCHEMA: &str = include_str!("../../fixtures/schema/m1.sql");
/// Its reference rows: websites, stores, EAV types and attributes, ratings.
pub const M1_BASE: &str = include_str!("../../fixtures/schema/m1-base.sql");
/// The Magento 2.4 counterpart (`fixtures/schema/m2.sql`).
pub const M2_SCHEMA: &str = include_str!("../../fixtures/schema/m2.sql");
/// Its reference rows.
pub const M2_BASE: &str = include_str!("../../fixtures/schema/m2-base.sql");

/// Creates (or empties and re-creates) a database and loads SQL scripts into it.
pub async fn create_database(
    conn: &mut Conn,
    name: &str,
    scripts: &[&str],
) -> Result<(), mysql_async::Error> {
    let db = quote_ident(name);
    conn.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await?;
    conn.query_drop(format!(
        "CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    ))
    .await?;
    conn.query_drop(format!("USE {db}")).await?;
    for script in scripts {
        // mysql_async enables multi-statement queries: a whole script runs in one call.
        conn.query_drop(*script).await?;
    }
    Ok(())
}
