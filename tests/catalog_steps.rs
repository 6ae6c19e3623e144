//! The catalog steps that configs before 1.9.4.2 list in delta mode, against a real MariaDB:
//! TierPrice (tier and group prices into M2's tier prices), ConfigurablePrices (children's
//! prices from their parent's price and option prices) and Url Rewrite (core_url_rewrite into
//! url_rewrite, with cms-page rewrites). Each: migrate:data, then inserts,
//! updates and deletes in M1, then migrate:delta --once from the deltalog and, on a store of
//! its own, from the binlog; M2 must hold what M1 holds through the step, and the volume check
//! must be clean. The catalog tables come from fixtures/schema/m{1,2}-catalog.sql, loaded here
//! only.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::migrate_delta::binlog::BinlogOptions;
use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::sandbox::{
    create_database, M1_BASE, M1_CATALOG, M1_SCHEMA, M2_BASE, M2_CATALOG, M2_SCHEMA,
};
use mage_migrate::setup::Setup;
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use support::TestDatabases;

/// The delta steps a 1.9.4.1 (or older) config.xml lists after the Log step, which the stock
/// 1.9.4.5 fixture config leaves out.
const PRE_1942_DELTA_STEPS: &str = r#"
        <step title="ConfigurablePrices step">
            <delta>Migration\Step\ConfigurablePrices\Delta</delta>
            <volume>Migration\Step\ConfigurablePrices\Volume</volume>
        </step>
        <step title="Tier Price Step">
            <delta>Migration\Step\TierPrice\Delta</delta>
            <volume>Migration\Step\TierPrice\Volume</volume>
        </step>
        <step title="Url Rewrite Step">
            <delta>Migration\Step\UrlRewrite\Version191to2000Delta</delta>
            <volume>Migration\Step\UrlRewrite\Version191to2000</volume>
        </step>"#;

/// Writes the test's config.xml with the pre-1.9.4.2 delta list, and `source_prefix` set.
fn write_config(test: &str, dbs: &TestDatabases, source_prefix: &str) -> std::path::PathBuf {
    let path = support::write_config(test, dbs, None);
    let text = std::fs::read_to_string(&path).unwrap();
    let log_delta = "            <delta>Migration\\Step\\Log\\Delta</delta>\n            <volume>Migration\\Step\\Log\\Volume</volume>\n        </step>";
    assert_eq!(
        text.matches(log_delta).count(),
        1,
        "the fixture config's delta list changed"
    );
    let mut text = text.replace(log_delta, &format!("{log_delta}{PRE_1942_DELTA_STEPS}"));
    if !source_prefix.is_empty() {
        assert!(text.contains("<source_prefix />"));
        text = text.replace(
            "<source_prefix />",
            &format!("<source_prefix>{source_prefix}</source_prefix>"),
        );
    }
    std::fs::write(&path, text).unwrap();
    path
}

async fn m1(dbs: &TestDatabases) -> Conn {
    mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap()
}

async fn m2(dbs: &TestDatabases) -> Conn {
    mage_migrate::db::connect(Side::M2, &dbs.m2, &[])
        .await
        .unwrap()
}

/// A store with the catalog fixture, copied by migrate:data (every built data step).
async fn migrated(test: &str, source_prefix: &str) -> (TestDatabases, Setup) {
    let dbs = support::databases(test).await;
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE, M1_CATALOG])
        .await
        .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE, M2_CATALOG])
        .await
        .unwrap();
    if !source_prefix.is_empty() {
        // An M1 installed with a table prefix: every table renamed (foreign keys follow).
        let tables: Vec<String> = root
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
                (&dbs.m1.name,),
            )
            .await
            .unwrap();
        let renames: Vec<String> = tables
            .iter()
            .map(|t| format!("`{0}`.`{t}` TO `{0}`.`{source_prefix}{t}`", dbs.m1.name))
            .collect();
        root.query_drop(format!("RENAME TABLE {}", renames.join(", ")))
            .await
            .unwrap();
    }
    let setup = Setup::load(&write_config(test, &dbs, source_prefix)).unwrap();
    let skip = migrate_data::unbuilt_steps(&setup, "data");
    for built in [
        "Tier Price Step",
        "ConfigurablePrices step",
        "Url Rewrite Step",
        "Map Step",
    ] {
        assert!(!skip.contains(&built.to_string()), "{skip:?}");
    }
    let report = migrate_data::run(
        &setup,
        &DataOptions {
            skip_steps: skip,
            ..DataOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.warnings.iter().all(|w| !w.contains("Mismatch")),
        "{:?}",
        report.warnings
    );
    (dbs, setup)
}

fn delta_options(setup: &Setup, source: &str) -> DeltaOptions {
    let skip = migrate_data::unbuilt_steps(setup, "delta");
    assert_eq!(skip, Vec::<String>::new());
    DeltaOptions {
        skip_steps: skip,
        once: true,
        binlog: (source == "binlog").then(|| BinlogOptions {
            start: None,
            // One id per run: two replicas with one id on a server push each other out.
            server_id: {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                4300 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            heartbeat: std::time::Duration::from_secs(1),
        }),
        ..DeltaOptions::default()
    }
}

async fn delta(setup: &Setup, source: &str) -> migrate_delta::DeltaReport {
    let report = migrate_delta::run(
        setup,
        &delta_options(setup, source),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{source}: {e}"));
    assert_eq!(report.volume, Vec::<String>::new(), "{source}");
    report
}

/// Keys of a deltalog not acknowledged yet.
async fn pending(dbs: &TestDatabases, deltalog: &str) -> u64 {
    let mut c = m1(dbs).await;
    let n: Option<u64> = c
        .query_first(format!(
            "SELECT COUNT(*) FROM `{deltalog}` WHERE processed <> 1"
        ))
        .await
        .unwrap();
    n.unwrap()
}

type Slot = (u64, u64, u64, String, u64);

/// What M2's tier prices must be, from M1 alone: tier prices, then group prices as qty 1 over
/// them (a group price wins the qty-1 slot both feed). Values at M1's scale.
async fn expected_tier_prices(dbs: &TestDatabases) -> BTreeMap<Slot, String> {
    let mut c = m1(dbs).await;
    let mut out = BTreeMap::new();
    let tier: Vec<(u64, u64, u64, String, u64, String)> = c
        .query(
            "SELECT entity_id, all_groups, customer_group_id, CAST(qty AS CHAR), website_id, CAST(value AS CHAR) \
             FROM catalog_product_entity_tier_price",
        )
        .await
        .unwrap();
    for (e, a, g, q, w, v) in tier {
        out.insert((e, a, g, q, w), v);
    }
    let group: Vec<(u64, u64, u64, u64, String)> = c
        .query(
            "SELECT entity_id, all_groups, customer_group_id, website_id, CAST(value AS CHAR) \
             FROM catalog_product_entity_group_price",
        )
        .await
        .unwrap();
    for (e, a, g, w, v) in group {
        out.insert((e, a, g, "1.0000".to_string(), w), v);
    }
    out
}

async fn m2_tier_prices(dbs: &TestDatabases) -> BTreeMap<Slot, String> {
    let mut c = m2(dbs).await;
    let rows: Vec<(u64, u64, u64, String, u64, String)> = c
        .query(
            "SELECT entity_id, all_groups, customer_group_id, CAST(qty AS CHAR), website_id, \
             CAST(CAST(value AS DECIMAL(12,4)) AS CHAR) FROM catalog_product_entity_tier_price",
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|(e, a, g, q, w, v)| ((e, a, g, q, w), v))
        .collect()
}

/// Tier and group price changes a catalog manager makes: new, changed and removed prices,
/// and the qty-1 slot both tables feed given up by one side, then the other.
async fn edit_tier_prices(dbs: &TestDatabases, round: u32) {
    let mut c = m1(dbs).await;
    let statements: &[&str] = if round == 0 {
        &[
            "INSERT INTO catalog_product_entity_tier_price (entity_id, all_groups, customer_group_id, qty, value, website_id) VALUES (102, 1, 0, 2, 43, 0)",
            "UPDATE catalog_product_entity_tier_price SET value = 44 WHERE value_id = 1",
            "DELETE FROM catalog_product_entity_tier_price WHERE value_id = 2",
            // The tier price under group price 1's slot: the group price stays in M2.
            "DELETE FROM catalog_product_entity_tier_price WHERE value_id = 3",
            "INSERT INTO catalog_product_entity_group_price (entity_id, all_groups, customer_group_id, value, website_id) VALUES (103, 0, 1, 42, 0)",
            "UPDATE catalog_product_entity_group_price SET value = 45.5 WHERE value_id = 2",
            "DELETE FROM catalog_product_entity_group_price WHERE value_id = 3",
        ]
    } else {
        &[
            // A tier price of qty 1 under a group price (the group price keeps the slot) …
            "INSERT INTO catalog_product_entity_tier_price (entity_id, all_groups, customer_group_id, qty, value, website_id) VALUES (103, 0, 1, 1, 41, 0)",
            // … and one whose group price goes away (the tier price takes the slot).
            "INSERT INTO catalog_product_entity_tier_price (entity_id, all_groups, customer_group_id, qty, value, website_id) VALUES (101, 0, 2, 1, 39, 0)",
            "DELETE FROM catalog_product_entity_group_price WHERE value_id = 2",
            "UPDATE catalog_product_entity_tier_price SET value = 69 WHERE value_id = 4",
            "UPDATE catalog_product_entity_group_price SET value = 46.25 WHERE value_id = 1",
        ]
    };
    for sql in statements {
        c.query_drop(*sql).await.unwrap();
    }
}

#[tokio::test]
async fn tier_and_group_prices_follow_with_both_sources() {
    for source in ["deltalog", "binlog"] {
        let (dbs, setup) = migrated(&format!("tier_price_{source}"), "").await;
        let want = expected_tier_prices(&dbs).await;
        // 5 tier prices and 3 group prices, one pair sharing a slot (the group price's value).
        assert_eq!(want.len(), 7);
        assert_eq!(
            want.get(&(101, 0, 1, "1.0000".into(), 0)),
            Some(&"47.0000".to_string())
        );
        assert_eq!(
            m2_tier_prices(&dbs).await,
            want,
            "{source}: after migrate:data"
        );
        // M2 numbers its rows itself.
        let mut two = m2(&dbs).await;
        let ids: Vec<u64> = two
            .query("SELECT value_id FROM catalog_product_entity_tier_price ORDER BY value_id")
            .await
            .unwrap();
        assert_eq!(ids, (1..=7).collect::<Vec<u64>>(), "{source}");

        for round in 0..2 {
            edit_tier_prices(&dbs, round).await;
            let report = delta(&setup, source).await;
            assert!(report.upserted + report.deleted > 0, "{source}: {report:?}");
            if source == "binlog" {
                assert!(report.binlog_changes > 0, "{report:?}");
            }
            assert_eq!(
                m2_tier_prices(&dbs).await,
                expected_tier_prices(&dbs).await,
                "{source}: round {round}"
            );
            for table in [
                "m2_cl_catalog_product_entity_tier_price",
                "m2_cl_catalog_product_entity_group_price",
            ] {
                assert_eq!(pending(&dbs, table).await, 0, "{source}: {table}");
            }
        }
        let m2_now = m2_tier_prices(&dbs).await;
        // A group price's delete took only its qty-1 row, not the tier price beside it.
        assert_eq!(
            m2_now.get(&(101, 0, 2, "5.0000".into(), 0)),
            Some(&"42.0000".to_string()),
            "{source}"
        );
        // The slots both tables fed ended as M1 says: group price 1 kept its slot over the new
        // tier price; group price 2 gone, the tier price of qty 1 took its slot.
        assert_eq!(
            m2_now.get(&(101, 0, 1, "1.0000".into(), 0)),
            Some(&"46.2500".to_string()),
            "{source}"
        );
        assert_eq!(
            m2_now.get(&(101, 0, 2, "1.0000".into(), 0)),
            Some(&"39.0000".to_string()),
            "{source}"
        );
        assert_eq!(
            m2_now.get(&(103, 0, 1, "1.0000".into(), 0)),
            Some(&"42.0000".to_string()),
            "{source}"
        );
    }
}

/// M2's `catalog_product_entity_decimal`: (entity, attribute, store) → value at M1's scale.
async fn m2_decimals(dbs: &TestDatabases) -> BTreeMap<(u64, u64, u64), String> {
    let mut c = m2(dbs).await;
    let rows: Vec<(u64, u64, u64, String)> = c
        .query(
            "SELECT entity_id, attribute_id, store_id, CAST(CAST(value AS DECIMAL(12,4)) AS CHAR) \
             FROM catalog_product_entity_decimal",
        )
        .await
        .unwrap();
    rows.into_iter()
        .map(|(e, a, s, v)| ((e, a, s), v))
        .collect()
}

/// The children's prices M1's option prices give, computed here from M1's rows (not with the
/// tool's query): per child and store of the option's website, parent price plus the options
/// of the child's values, or a percent of the parent price. (child, store) → price.
async fn configurable_prices(dbs: &TestDatabases, prefix: &str) -> BTreeMap<(u64, u64), f64> {
    let mut c = m1(dbs).await;
    let parent_price: BTreeMap<u64, f64> = c
        .query::<(u64, f64), _>(format!(
            "SELECT entity_id, value FROM {prefix}catalog_product_entity_decimal WHERE attribute_id = 75 AND store_id = 0"
        ))
        .await
        .unwrap()
        .into_iter()
        .collect();
    let options: Vec<(u64, u64, String, u64, f64, u64)> = c
        .query(format!(
            "SELECT sa.product_id, sa.attribute_id, p.value_index, p.is_percent, p.pricing_value, p.website_id \
             FROM {prefix}catalog_product_super_attribute_pricing p \
             JOIN {prefix}catalog_product_super_attribute sa USING (product_super_attribute_id)"
        ))
        .await
        .unwrap();
    let links: Vec<(u64, u64)> = c
        .query(format!(
            "SELECT product_id, parent_id FROM {prefix}catalog_product_super_link"
        ))
        .await
        .unwrap();
    let values: BTreeMap<(u64, u64), String> = c
        .query::<(u64, u64, String), _>(format!(
            "SELECT entity_id, attribute_id, CAST(value AS CHAR) FROM {prefix}catalog_product_entity_int"
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|(e, a, v)| ((e, a), v))
        .collect();
    let stores: Vec<(u64, u64)> = c
        .query(format!(
            "SELECT store_id, website_id FROM {prefix}core_store"
        ))
        .await
        .unwrap();
    let mut out: BTreeMap<(u64, u64), f64> = BTreeMap::new();
    for (child, parent) in links {
        let Some(base) = parent_price.get(&parent) else {
            continue;
        };
        for (product, attribute, index, percent, price, website) in &options {
            if *product != parent || values.get(&(child, *attribute)) != Some(index) {
                continue;
            }
            for (store, _) in stores.iter().filter(|(_, w)| w == website) {
                let entry = out.entry((child, *store)).or_insert(*base);
                if *percent == 1 {
                    *entry = ((base + base * price / 100.0) * 10_000.0).trunc() / 10_000.0;
                } else {
                    *entry += price;
                }
            }
        }
    }
    out
}

/// Checks M2's prices: every M1 price row copied by the Map step, with the children's prices
/// `expected` holds over them.
async fn check_prices(
    dbs: &TestDatabases,
    expected: &BTreeMap<(u64, u64), f64>,
    prefix: &str,
    context: &str,
) {
    let mut c = m1(dbs).await;
    let mut want: BTreeMap<(u64, u64, u64), String> = c
        .query::<(u64, u64, u64, String), _>(format!(
            "SELECT entity_id, attribute_id, store_id, CAST(value AS CHAR) FROM {prefix}catalog_product_entity_decimal"
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|(e, a, s, v)| ((e, a, s), v))
        .collect();
    for ((child, store), price) in expected {
        want.insert((*child, 75, *store), format!("{price:.4}"));
    }
    assert_eq!(m2_decimals(dbs).await, want, "{context}");
}

/// Option price changes: new, changed, removed (a removed option changes nothing in M2, as
/// with the DMT).
async fn edit_option_prices(dbs: &TestDatabases, round: u32, prefix: &str) {
    let mut c = m1(dbs).await;
    let statements: &[&str] = if round == 0 {
        &[
            "UPDATE {p}catalog_product_super_attribute_pricing SET pricing_value = 6 WHERE value_id = 1",
            "INSERT INTO {p}catalog_product_super_attribute_pricing (product_super_attribute_id, value_index, is_percent, pricing_value, website_id) VALUES (1, '12', 0, 2.25, 0)",
            "DELETE FROM {p}catalog_product_super_attribute_pricing WHERE value_id = 4",
        ]
    } else {
        &[
            "UPDATE {p}catalog_product_super_attribute_pricing SET pricing_value = 20 WHERE value_id = 3",
            "INSERT INTO {p}catalog_product_super_attribute_pricing (product_super_attribute_id, value_index, is_percent, pricing_value, website_id) VALUES (2, '11', 0, 4, 1)",
            "DELETE FROM {p}catalog_product_super_attribute_pricing WHERE value_id = 2",
        ]
    };
    for sql in statements {
        c.query_drop(sql.replace("{p}", prefix)).await.unwrap();
    }
}

#[tokio::test]
async fn configurable_prices_follow_with_both_sources() {
    for source in ["deltalog", "binlog"] {
        let (dbs, setup) = migrated(&format!("configurable_{source}"), "").await;
        let mut expected = configurable_prices(&dbs, "").await;
        // 101: 50 + 5; 102: 50 + 7.5 in the stores of website 1; 201: 80 + 10 %; 202: 80 - 3.
        let fixture: BTreeMap<(u64, u64), f64> = [
            ((101, 0), 55.0),
            ((102, 1), 57.5),
            ((102, 2), 57.5),
            ((201, 0), 88.0),
            ((202, 0), 77.0),
        ]
        .into_iter()
        .collect();
        assert_eq!(expected, fixture);
        check_prices(
            &dbs,
            &expected,
            "",
            &format!("{source}: after migrate:data"),
        )
        .await;
        for round in 0..2 {
            edit_option_prices(&dbs, round, "").await;
            let report = delta(&setup, source).await;
            if source == "binlog" {
                assert!(report.binlog_changes > 0, "{report:?}");
            }
            // Prices M1's options give now; a child whose option went away keeps its M2 price.
            expected.extend(configurable_prices(&dbs, "").await);
            check_prices(&dbs, &expected, "", &format!("{source}: round {round}")).await;
            assert_eq!(
                pending(&dbs, "m2_cl_catalog_product_super_attribute_pricing").await,
                0,
                "{source}"
            );
        }
        // Round 0: 101 at 56, 103 at 52.25, 202 kept 77 (its option deleted); round 1: 201 at
        // 96, 202 at 84 in website 1's stores, 102 kept 57.5 (its option deleted).
        for (key, price) in [
            ((101, 0), 56.0),
            ((103, 0), 52.25),
            ((202, 0), 77.0),
            ((201, 0), 96.0),
            ((202, 1), 84.0),
            ((102, 1), 57.5),
        ] {
            assert_eq!(expected.get(&key), Some(&price), "{source}: {key:?}");
        }
        // verify names the table the step writes besides the map instead of reporting its
        // children's prices as differences.
        let (code, stdout, stderr) = support::cli(&["verify", setup.config.path.to_str().unwrap()]);
        assert!(
            stdout.contains("not verified: catalog_product_entity_decimal: the ConfigurablePrices step writes the prices of configurable products' children into it"),
            "{source}: {stdout}"
        );
        assert_eq!(code, 0, "{source}: {stdout}{stderr}");
    }
}

/// The DMT's ConfigurablePrices delta looks for the prefixed deltalog name among unprefixed
/// table names, so with a source_prefix it stops with "Deltalog for
/// catalog_product_super_attribute_pricing is not installed" (its issue #858). Here it runs.
#[tokio::test]
async fn configurable_prices_with_a_source_prefix() {
    let prefix = "mg_";
    let (dbs, setup) = migrated("configurable_prefix", prefix).await;
    let mut expected = configurable_prices(&dbs, prefix).await;
    assert_eq!(expected.len(), 5);
    check_prices(&dbs, &expected, prefix, "after migrate:data").await;
    edit_option_prices(&dbs, 0, prefix).await;
    delta(&setup, "deltalog").await;
    expected.extend(configurable_prices(&dbs, prefix).await);
    assert_eq!(expected.get(&(101, 0)), Some(&56.0));
    check_prices(&dbs, &expected, prefix, "after migrate:delta").await;
    assert_eq!(
        pending(&dbs, "mg_m2_cl_catalog_product_super_attribute_pricing").await,
        0
    );
}

/// An M2 rewrite as text: (entity_type, entity_id, request_path, target_path, redirect_type,
/// store_id, description, is_autogenerated, metadata).
type Rewrite = [String; 9];

/// What M2's rewrites must be, from M1 alone: (url_rewrite_id, or None for a cms-page rewrite)
/// → rewrite; and the product-category rows.
async fn expected_rewrites(
    dbs: &TestDatabases,
) -> (BTreeMap<(Option<u64>, Rewrite), u32>, Vec<(u64, u64, u64)>) {
    let mut c = m1(dbs).await;
    let rows: Vec<mysql_async::Row> = c
        .query(
            "SELECT url_rewrite_id, store_id, request_path, target_path, is_system, options, description, \
             category_id, product_id FROM core_url_rewrite",
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    let mut links = Vec::new();
    let s = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    for row in rows {
        let id: u64 = row.get(0).unwrap();
        let store: u64 = row.get(1).unwrap();
        let request: Option<String> = row.get(2).unwrap();
        let target: Option<String> = row.get(3).unwrap();
        let system: Option<u64> = row.get(4).unwrap();
        let options: Option<String> = row.get(5).unwrap();
        let description: Option<String> = row.get(6).unwrap();
        let category: Option<u64> = row.get::<Option<u64>, _>(7).unwrap().filter(|c| *c != 0);
        let product: Option<u64> = row.get::<Option<u64>, _>(8).unwrap().filter(|p| *p != 0);
        let system = system.unwrap_or(0);
        let (entity_type, entity_id) = match (product, category) {
            (Some(p), _) => ("product", p),
            (None, Some(c)) => ("category", c),
            _ => ("", 0),
        };
        let in_category = system != 0 && product.is_some() && category.is_some();
        let metadata =
            in_category.then(|| format!("{{\"category_id\":\"{}\"}}", category.unwrap()));
        if in_category && request.is_some() {
            links.push((id, category.unwrap(), product.unwrap()));
        }
        let redirect = match options.as_deref() {
            Some("R") => 302,
            Some("RP") => 301,
            _ => 0,
        };
        out.insert(
            (
                Some(id),
                [
                    entity_type.to_string(),
                    entity_id.to_string(),
                    s(request),
                    s(target),
                    redirect.to_string(),
                    store.to_string(),
                    s(description),
                    system.to_string(),
                    s(metadata),
                ],
            ),
            1,
        );
    }
    // One cms-page rewrite per active page and store (store 0 → 1) whose identifier is no
    // rewrite's request path.
    let pages: Vec<(u64, String, u64)> = c
        .query(
            "SELECT p.page_id, p.identifier, IF(s.store_id = 0, 1, s.store_id) FROM cms_page p \
             JOIN cms_page_store s USING (page_id) WHERE p.is_active = 1 AND p.identifier NOT IN \
             (SELECT request_path FROM core_url_rewrite WHERE request_path IS NOT NULL)",
        )
        .await
        .unwrap();
    for (page, identifier, store) in pages {
        *out.entry((
            None,
            [
                "cms-page".to_string(),
                page.to_string(),
                identifier,
                format!("cms/page/view/page_id/{page}"),
                "0".into(),
                store.to_string(),
                "NULL".into(),
                "1".into(),
                "NULL".into(),
            ],
        ))
        .or_insert(0) += 1;
    }
    links.sort_unstable();
    (out, links)
}

async fn m2_rewrites(
    dbs: &TestDatabases,
) -> (BTreeMap<(Option<u64>, Rewrite), u32>, Vec<(u64, u64, u64)>) {
    let mut c = m2(dbs).await;
    let rows: Vec<mysql_async::Row> = c
        .query(
            "SELECT url_rewrite_id, entity_type, entity_id, IFNULL(request_path, 'NULL'), IFNULL(target_path, 'NULL'), \
             redirect_type, store_id, IFNULL(description, 'NULL'), is_autogenerated, IFNULL(metadata, 'NULL') \
             FROM url_rewrite",
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for row in rows {
        let id: u64 = row.get(0).unwrap();
        let rewrite: Rewrite = std::array::from_fn(|i| {
            let v: mysql_async::Value = row.get(i + 1).unwrap();
            match v {
                mysql_async::Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                other => other.as_sql(true).trim_matches('\'').to_string(),
            }
        });
        let id = (rewrite[0] != "cms-page").then_some(id);
        *out.entry((id, rewrite)).or_insert(0) += 1;
    }
    let mut links: Vec<(u64, u64, u64)> = c
        .query("SELECT url_rewrite_id, category_id, product_id FROM catalog_url_rewrite_product_category")
        .await
        .unwrap();
    links.sort_unstable();
    (out, links)
}

/// Rewrite changes a store makes (a new product, a renamed URL, a redirect removed, a product
/// moved to another category) and CMS page changes no deltalog follows, which reach M2 when
/// the cms-page rewrites are rebuilt after the next rewrite change.
async fn edit_rewrites(dbs: &TestDatabases, round: u32) {
    let mut c = m1(dbs).await;
    let statements: &[&str] = if round == 0 {
        &[
            "INSERT INTO core_url_rewrite (url_rewrite_id, store_id, id_path, request_path, target_path, is_system, product_id) \
             VALUES (6, 1, 'product/102', 'blue-shirt.html', 'catalog/product/view/id/102', 1, 102)",
            "INSERT INTO core_url_rewrite (url_rewrite_id, store_id, id_path, request_path, target_path, is_system, category_id, product_id) \
             VALUES (7, 1, 'product/102/5', 'shirts/blue-shirt.html', 'catalog/product/view/id/102/category/5', 1, 5, 102)",
            "UPDATE core_url_rewrite SET request_path = 'red-shirt-new.html' WHERE url_rewrite_id = 1",
            "DELETE FROM core_url_rewrite WHERE url_rewrite_id = 4",
            "UPDATE core_url_rewrite SET category_id = 6, request_path = 'tops/red-shirt.html' WHERE url_rewrite_id = 2",
            "UPDATE cms_page SET is_active = 1 WHERE page_id = 3",
        ]
    } else {
        &[
            "DELETE FROM core_url_rewrite WHERE url_rewrite_id = 2",
            "UPDATE core_url_rewrite SET options = 'R', is_system = 0 WHERE url_rewrite_id = 5",
            "UPDATE cms_page SET is_active = 0 WHERE page_id = 2",
            // A rewrite taking the request path a cms-page rewrite holds in M2.
            "INSERT INTO core_url_rewrite (url_rewrite_id, store_id, id_path, request_path, target_path, is_system, options) \
             VALUES (8, 1, 'custom/home', 'home', 'cms/index/index', 0, 'RP')",
        ]
    };
    for sql in statements {
        c.query_drop(*sql).await.unwrap();
    }
}

#[tokio::test]
async fn url_rewrites_follow_with_both_sources() {
    for source in ["deltalog", "binlog"] {
        let (dbs, setup) = migrated(&format!("url_rewrite_{source}"), "").await;
        let (want, want_links) = expected_rewrites(&dbs).await;
        // 5 rewrites; cms pages home (store 0 → 1) and about-us (stores 1, 2); old-page is
        // inactive and shirts.html is a rewrite's path.
        assert_eq!(want.values().sum::<u32>(), 8, "{want:?}");
        assert_eq!(want_links, vec![(2, 5, 101)]);
        assert_eq!(
            m2_rewrites(&dbs).await,
            (want, want_links),
            "{source}: after migrate:data"
        );
        for round in 0..2 {
            edit_rewrites(&dbs, round).await;
            let report = delta(&setup, source).await;
            if source == "binlog" {
                assert!(report.binlog_changes > 0, "{report:?}");
            }
            assert_eq!(
                m2_rewrites(&dbs).await,
                expected_rewrites(&dbs).await,
                "{source}: round {round}"
            );
            assert_eq!(pending(&dbs, "m2_cl_core_url_rewrite").await, 0, "{source}");
        }
        let (now, links) = m2_rewrites(&dbs).await;
        // The moved product's category row followed it; the deleted one took its row along.
        assert_eq!(links, vec![(7, 5, 102)], "{source}");
        assert!(
            now.keys().any(|(id, r)| id.is_none() && r[2] == "old-page"),
            "{source}"
        );
        assert!(
            !now.keys().any(|(id, r)| id.is_none() && r[2] == "home"),
            "{source}"
        );
    }
}
