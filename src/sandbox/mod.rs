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
/// The Magento 1.9 catalog tables the TierPrice and ConfigurablePrices steps read, with
/// reference rows (`fixtures/schema/m1-catalog.sql`): loaded after `M1_SCHEMA` and `M1_BASE` by
/// those steps' tests only.
pub const M1_CATALOG: &str = include_str!("../../fixtures/schema/m1-catalog.sql");
/// The Magento 2.4 catalog tables they write (`fixtures/schema/m2-catalog.sql`), no rows.
pub const M2_CATALOG: &str = include_str!("../../fixtures/schema/m2-catalog.sql");

/// The fixture DMT tree (`fixtures/dmt/`), for the demo: written out so the demo runs the same
/// config files a user would, from any directory.
pub const DMT_TREE: &[(&str, &str)] = &[
    (
        "etc/opensource-to-opensource/1.9.4.5/config.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/1.9.4.5/config.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/1.9.4.5/map-tier-price.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/1.9.4.5/map-tier-price.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/1.9.4.5/map.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/1.9.4.5/map.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/class-map.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/class-map.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/customer-attribute-groups.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/customer-attribute-groups.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/customer-document-groups.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/customer-document-groups.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/deltalog.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/deltalog.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/eav-attribute-groups.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/eav-attribute-groups.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/eav-document-groups.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/eav-document-groups.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/log-document-groups.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/log-document-groups.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/map-customer.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/map-customer.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/map-document-groups.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/map-document-groups.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/map-eav.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/map-eav.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/map-log.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/map-log.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/map-stores.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/map-stores.xml.dist"),
    ),
    (
        "etc/opensource-to-opensource/order-grids-document-groups.xml.dist",
        include_str!(
            "../../fixtures/dmt/etc/opensource-to-opensource/order-grids-document-groups.xml.dist"
        ),
    ),
    (
        "etc/opensource-to-opensource/settings.xml.dist",
        include_str!("../../fixtures/dmt/etc/opensource-to-opensource/settings.xml.dist"),
    ),
];

/// (Re)creates `magento1` and `magento2` on `server` with the fixture schemas and reference rows.
pub async fn create_store_databases(server: &Server) -> Result<(), mysql_async::Error> {
    let opts = crate::db::opts(crate::error::Side::M1, &server.database("mysql"))
        .map_err(|e| mysql_async::Error::Other(e.to_string().into()))?;
    let mut root = Conn::new(opts).await?;
    create_database(&mut root, "magento1", &[M1_SCHEMA, M1_BASE]).await?;
    create_database(&mut root, "magento2", &[M2_SCHEMA, M2_BASE]).await?;
    root.disconnect().await
}

/// Writes the fixture DMT tree below `dir` with a config.xml (no `.dist`) whose source and
/// destination are the databases `magento1` and `magento2` on `server`; returns its path.
pub fn write_dmt_tree(
    dir: &std::path::Path,
    server: &Server,
) -> std::io::Result<std::path::PathBuf> {
    for (relative, text) in DMT_TREE {
        let mut path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut text = text.to_string();
        if relative.ends_with("config.xml.dist") {
            for name in ["magento1", "magento2"] {
                text = text.replace(
                    &format!("<database host=\"localhost\" name=\"{name}\" user=\"root\" />"),
                    &format!(
                        "<database host=\"127.0.0.1\" port=\"{}\" name=\"{name}\" user=\"root\" />",
                        server.port
                    ),
                );
            }
            path = path.with_extension("");
        }
        std::fs::write(&path, text)?;
    }
    Ok(dir.join("etc/opensource-to-opensource/1.9.4.5/config.xml"))
}

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
