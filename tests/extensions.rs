//! Third-party extension tables migrated with no code: a group of their own in deltalog.xml, a
//! map file of their own, and a step class declared in `<options>` as the generic map step —
//! composite keys included, with both change sources.

mod support;

#[path = "../examples/custom_step.rs"]
#[allow(dead_code)]
mod custom_step;

use std::sync::Arc;

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::migrate_delta::binlog::BinlogOptions;
use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mysql_async::prelude::Queryable;
use support::TestDatabases;

const M1_DDL: &[&str] = &[
    "CREATE TABLE mm_blog_post (post_id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, title varchar(255) NOT NULL, body text) ENGINE=InnoDB DEFAULT CHARSET=utf8",
    "CREATE TABLE mm_blog_post_tag (post_id int unsigned NOT NULL, tag varchar(64) NOT NULL, weight int NOT NULL DEFAULT 0, PRIMARY KEY (post_id, tag)) ENGINE=InnoDB DEFAULT CHARSET=utf8",
];
const M2_DDL: &[&str] = &[
    "CREATE TABLE greatblog_post (post_id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, headline varchar(255) NOT NULL, body text) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE greatblog_post_tag (post_id int unsigned NOT NULL, tag varchar(64) NOT NULL, weight int NOT NULL DEFAULT 0, PRIMARY KEY (post_id, tag)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
];

/// A store with the blog tables, a config.xml declaring the GreatBlog step, migrated. With
/// `in_rust`, the step is the example's Rust type (registered by class name), and M2's post
/// table has the column it derives; else it is declared in `<options>` as the map step.
async fn blog_store(test: &str, in_rust: bool) -> (TestDatabases, Setup) {
    let dbs = support::databases(test).await;
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    for (db, ddl) in [(&dbs.m1.name, M1_DDL), (&dbs.m2.name, M2_DDL)] {
        root.query_drop(format!("USE `{db}`")).await.unwrap();
        for statement in ddl {
            root.query_drop(*statement).await.unwrap();
        }
    }
    if in_rust {
        root.query_drop(format!(
            "ALTER TABLE `{}`.greatblog_post ADD COLUMN url_key varchar(255) NULL",
            dbs.m2.name
        ))
        .await
        .unwrap();
    }
    let etc = support::fixture_etc();
    let deltalog = std::fs::read_to_string(etc.join("deltalog.xml.dist"))
        .unwrap()
        .replacen(
            "</groups>",
            "    <group name=\"delta_greatblog\">\n        <document key=\"post_id\">mm_blog_post</document>\n        <document key=\"post_id,tag\">mm_blog_post_tag</document>\n    </group>\n</groups>",
            1,
        );
    let config_path = support::write_config(test, &dbs, Some(&deltalog));
    let dir = config_path.parent().unwrap().to_path_buf();
    // The main map leaves the blog to its own step, as an extension's installer would have it.
    let main_map = std::fs::read_to_string(etc.join("1.9.4.5/map.xml.dist"))
        .unwrap()
        .replacen(
            "<source>\n        <document_rules>",
            "<source>\n        <document_rules>\n            <ignore><document>mm_blog_*</document></ignore>",
            1,
        )
        .replacen(
            "<destination>\n        <document_rules>",
            "<destination>\n        <document_rules>\n            <ignore><document>greatblog_*</document></ignore>",
            1,
        );
    assert!(main_map.contains("mm_blog_*") && main_map.contains("greatblog_*"));
    std::fs::write(dir.join("map.xml"), main_map).unwrap();
    let blog_map =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/greatblog/map.xml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let stock_map = format!("{}/1.9.4.5/map.xml.dist", etc.display());
    assert!(config.contains(&stock_map));
    let config = config
        .replace(&stock_map, &dir.join("map.xml").display().to_string())
        .replacen(
            "<options>",
            &format!(
                "<options>\n        {}<greatblog_map_file>{}</greatblog_map_file>",
                if in_rust {
                    ""
                } else {
                    "<mage_migrate_map_step class=\"Vendor\\GreatBlog\\Delta\" group=\"delta_greatblog\" map_file=\"greatblog_map_file\"/>\n        "
                },
                blog_map.display()
            ),
            1,
        )
        .replacen(
            "        <step title=\"SalesIncrement Step\">\n            <delta>",
            "        <step title=\"GreatBlog Step\">\n            <delta>Vendor\\GreatBlog\\Delta</delta>\n        </step>\n        <step title=\"SalesIncrement Step\">\n            <delta>",
            1,
        );
    assert!(
        config.contains("<step title=\"GreatBlog Step\">"),
        "{config}"
    );
    std::fs::write(&config_path, config).unwrap();
    let registry = if in_rust {
        custom_step::registry()
    } else {
        mage_migrate::steps::StepRegistry::builtin()
    };
    let setup = Setup::load_with(&config_path, registry).unwrap_or_else(|e| panic!("{e}"));
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data).await.unwrap();
    (dbs, setup)
}

async fn blog_changes(dbs: &TestDatabases) {
    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    for statement in [
        "INSERT INTO mm_blog_post (post_id, title, body) VALUES (1, 'Hello wörld', 'first'), (2, 'Second', NULL), (3, 'Third', 'gone soon')",
        "INSERT INTO mm_blog_post_tag VALUES (1, 'news', 1), (1, 'rust', 2), (2, 'news', 0), (3, 'old', 0)",
        "UPDATE mm_blog_post SET title = 'Hello, world' WHERE post_id = 1",
        "UPDATE mm_blog_post_tag SET weight = 7 WHERE post_id = 1 AND tag = 'rust'",
        "DELETE FROM mm_blog_post_tag WHERE post_id = 1 AND tag = 'news'",
        "DELETE FROM mm_blog_post_tag WHERE post_id = 3",
        "DELETE FROM mm_blog_post WHERE post_id = 3",
    ] {
        m1.query_drop(statement).await.unwrap();
    }
}

async fn blog_in_m2(
    dbs: &TestDatabases,
) -> (Vec<(u32, String, Option<String>)>, Vec<(u32, String, i32)>) {
    let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap();
    let posts = m2
        .query("SELECT post_id, headline, body FROM greatblog_post ORDER BY post_id")
        .await
        .unwrap();
    let tags = m2
        .query("SELECT post_id, tag, weight FROM greatblog_post_tag ORDER BY post_id, tag")
        .await
        .unwrap();
    (posts, tags)
}

#[tokio::test]
async fn a_blog_extension_migrates_with_no_code_with_both_sources() {
    for source in ["deltalog", "binlog"] {
        let (dbs, setup) = blog_store(&format!("ext_blog_{source}"), false).await;
        assert!(
            !migrate_data::unbuilt_steps(&setup, "delta").contains(&"GreatBlog Step".to_string())
        );
        blog_changes(&dbs).await;
        let mut options = DeltaOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
            once: true,
            ..DeltaOptions::default()
        };
        if source == "binlog" {
            options.binlog = Some(BinlogOptions {
                start: None,
                server_id: 5000 + (std::process::id() % 1000),
                heartbeat: std::time::Duration::from_secs(1),
            });
        }
        let report = migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert!(report.upserted >= 4, "{source}: {report:?}");
        let (posts, tags) = blog_in_m2(&dbs).await;
        assert_eq!(
            posts,
            vec![
                (1, "Hello, world".to_string(), Some("first".to_string())),
                (2, "Second".to_string(), None)
            ],
            "{source}"
        );
        assert_eq!(
            tags,
            vec![(1, "rust".to_string(), 7), (2, "news".to_string(), 0)],
            "{source}"
        );
    }
}

#[test]
fn a_map_step_declared_without_its_group_is_refused_with_the_line() {
    let dir = support::scratch_dir("ext_bad_decl");
    let etc = support::fixture_etc();
    let config = std::fs::read_to_string(etc.join("1.9.4.5/config.xml.dist"))
        .unwrap()
        .replace(">etc/opensource-to-opensource/", &format!(">{}/", etc.display()))
        .replacen(
            "<options>",
            "<options>\n        <mage_migrate_map_step class=\"Vendor\\GreatBlog\\Delta\" group=\"delta_nothing\"/>",
            1,
        );
    let path = dir.join("config.xml");
    std::fs::write(&path, config).unwrap();
    let err = Setup::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("<mage_migrate_map_step>: deltalog.xml has no group \"delta_nothing\" with documents for Vendor\\GreatBlog\\Delta"),
        "{err}"
    );
}

#[tokio::test]
async fn the_example_step_in_rust_derives_its_column_with_both_sources() {
    assert_eq!(custom_step::url_key("Hello, World!"), "hello-world");
    for source in ["deltalog", "binlog"] {
        let (dbs, setup) = blog_store(&format!("ext_rust_{source}"), true).await;
        blog_changes(&dbs).await;
        let mut options = DeltaOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
            once: true,
            ..DeltaOptions::default()
        };
        assert!(!options.skip_steps.contains(&"GreatBlog Step".to_string()));
        if source == "binlog" {
            options.binlog = Some(BinlogOptions {
                start: None,
                server_id: 6000 + (std::process::id() % 1000),
                heartbeat: std::time::Duration::from_secs(1),
            });
        }
        migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        let (posts, tags) = blog_in_m2(&dbs).await;
        assert_eq!(posts.len(), 2, "{source}");
        assert_eq!(tags.len(), 2, "{source}");
        let mut m2 = mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
            .await
            .unwrap();
        let keys: Vec<(u32, Option<String>)> = m2
            .query("SELECT post_id, url_key FROM greatblog_post ORDER BY post_id")
            .await
            .unwrap();
        assert_eq!(
            keys,
            vec![
                (1, Some("hello-world".to_string())),
                (2, Some("second".to_string()))
            ],
            "{source}"
        );
    }
}
