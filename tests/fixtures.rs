//! The project's fixtures, read as the DMT would read its stock 1.9.4.5 files, and loaded into
//! real MariaDB databases.

mod support;

use std::path::{Path, PathBuf};

use mage_migrate::config::{read_xml, BulkSize, Groups, MapRules, Side};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mysql_async::prelude::Queryable;

const ETC: &str = "fixtures/dmt/etc/opensource-to-opensource";

fn etc(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(ETC).join(file)
}

fn setup() -> Setup {
    Setup::load(&etc("1.9.4.5/config.xml.dist")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn stock_like_config_loads_with_its_steps_and_options() {
    let s = setup();
    let delta: Vec<(&str, Vec<&str>)> = s
        .steps("delta")
        .iter()
        .map(|r| {
            (
                r.config.title.as_str(),
                r.classes.iter().map(|c| c.step.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        delta,
        [
            ("Customer Attributes Step", vec!["customer", "customer"]),
            ("Map Step", vec!["map", "map"]),
            ("Log Step", vec!["log", "log"]),
            ("OrderGrids Step", vec!["order_grids", "order_grids"]),
            (
                "SalesIncrement Step",
                vec!["sales_increment", "sales_increment"]
            ),
            ("Inventory Step", vec!["inventory", "inventory"]),
        ]
    );
    let data: Vec<&str> = s
        .steps("data")
        .iter()
        .map(|r| r.config.title.as_str())
        .collect();
    assert_eq!(data.first(), Some(&"Data Integrity Step"));
    assert_eq!(data.last(), Some(&"PostProcessing Step"));
    assert!(data.contains(&"Map Step"));
    assert_eq!(s.steps("settings").len(), 2);

    let o = &s.config.options;
    assert_eq!(o.bulk_size().unwrap(), BulkSize::Auto);
    assert_eq!(o.source_prefix(), "");
    assert_eq!(o.dest_prefix(), "");
    assert_eq!(o.init_statements_source(), ["SET NAMES utf8"]);
    assert!(o.upgrade_customer_password_hash().unwrap());
    assert_eq!(o.get("edition_number").as_deref(), Some("1.9.4.5"));
    assert_eq!(s.config.source.name, "magento1");
    assert_eq!(s.config.destination.name, "magento2");
    // Options resolve against the DMT root, the folder above etc/.
    assert_eq!(
        s.config.options.required_file("map_file").unwrap(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/dmt")
            .join("etc/opensource-to-opensource/1.9.4.5/map.xml.dist")
    );
    for option in [
        "customer_map_file",
        "customer_document_groups_file",
        "customer_attribute_groups_file",
        "log_map_file",
        "log_document_groups_file",
        "order_grids_document_groups_file",
        "map_document_groups",
        "stores_map_file",
    ] {
        let path = o.required_file(option).unwrap();
        assert!(path.is_file(), "{option}");
    }
}

#[test]
fn deltalog_groups_flatten_like_the_dmt() {
    let s = setup();
    let entries: usize = s
        .deltalog_groups
        .groups
        .iter()
        .map(|g| g.documents().count())
        .sum();
    assert_eq!(entries, 105);
    assert_eq!(s.deltalog_tables.len(), 103);
    let find = |t: &str| s.deltalog_tables.iter().find(|d| d.table == t).unwrap();
    assert_eq!(find("sales_flat_order").keys, ["entity_id"]);
    assert_eq!(
        find("catalog_category_product").keys,
        ["category_id", "product_id"]
    );
    assert_eq!(
        find("catalog_product_entity_tier_price").keys,
        [
            "entity_id",
            "all_groups",
            "customer_group_id",
            "qty",
            "website_id"
        ]
    );
    // Listed in delta_map and delta_inventory: the last group wins, the first position stays.
    assert_eq!(find("cataloginventory_stock_item").group, "delta_inventory");
    assert_eq!(find("log_visitor").keys, ["visitor_id"]);
    let groups: Vec<&str> = s
        .deltalog_groups
        .groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(
        groups,
        [
            "delta_map",
            "delta_log",
            "delta_customer",
            "delta_sales_sequence",
            "delta_inventory",
            "delta_tier_price",
            "delta_url_rewrite",
            "delta_configurable_price"
        ]
    );
}

#[test]
fn main_map_renames_moves_ignores_and_transforms() {
    let m = setup().map;
    assert_eq!(
        m.document_map("sales_flat_order", Side::Source).as_deref(),
        Some("sales_order")
    );
    assert_eq!(
        m.document_map("sales_flat_quote_item", Side::Source)
            .as_deref(),
        Some("quote_item")
    );
    assert_eq!(
        m.document_map("sales_order", Side::Destination).as_deref(),
        Some("sales_flat_order")
    );
    assert_eq!(
        m.document_map("review", Side::Source).as_deref(),
        Some("review")
    );
    for ignored in [
        "customer_entity",
        "m2_cl_sales_flat_order",
        "sales_flat_order_grid",
        "log_visitor",
    ] {
        assert_eq!(m.document_map(ignored, Side::Source), None, "{ignored}");
    }
    assert_eq!(
        m.field_map("sales_flat_order", "base_hidden_tax_amount", Side::Source)
            .unwrap()
            .as_deref(),
        Some("base_discount_tax_compensation_amount")
    );
    assert_eq!(
        m.field_map("sales_flat_order_payment", "cc_last4", Side::Source)
            .unwrap()
            .as_deref(),
        Some("cc_last_4")
    );
    assert_eq!(
        m.field_map(
            "sales_flat_order",
            "paypal_ipn_customer_notified",
            Side::Source
        )
        .unwrap(),
        None
    );
    let h = m.handlers("sales_flat_order_payment", "method", Side::Source);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].class, "Migration\\Handler\\Convert");
    assert!(h[0]
        .param("map")
        .unwrap()
        .contains("paypal_direct:payflowpro"));
    let option_handlers: Vec<&str> = m
        .handlers("sales_flat_quote_item_option", "value", Side::Source)
        .iter()
        .map(|h| h.class.as_str())
        .collect();
    assert_eq!(
        option_handlers,
        [
            "Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
            "Migration\\Handler\\SerializeToJson\\ItemOption"
        ]
    );
}

#[test]
fn customer_and_log_maps_and_groups() {
    let s = setup();
    let o = &s.config.options;
    let customer = MapRules::load(&o.required_file("customer_map_file").unwrap()).unwrap();
    assert!(customer.is_field_ignored("customer_entity", "entity_type_id", Side::Source));
    assert_eq!(
        customer
            .document_map("customer_entity", Side::Source)
            .as_deref(),
        Some("customer_entity")
    );
    let attributes =
        Groups::load(&o.required_file("customer_attribute_groups_file").unwrap()).unwrap();
    let names: Vec<&str> = attributes
        .group("customer_entity")
        .unwrap()
        .entries
        .iter()
        .map(|e| e.value.as_str())
        .collect();
    assert!(
        names.contains(&"firstname") && names.contains(&"password_hash"),
        "{names:?}"
    );

    let log = MapRules::load(&o.required_file("log_map_file").unwrap()).unwrap();
    assert_eq!(
        log.document_map("log_visitor", Side::Source).as_deref(),
        Some("customer_visitor")
    );
    assert_eq!(
        log.field_map("log_visitor", "first_visit_at", Side::Source)
            .unwrap()
            .as_deref(),
        Some("created_at")
    );

    let grids =
        Groups::load(&o.required_file("order_grids_document_groups_file").unwrap()).unwrap();
    let docs: Vec<(&str, Option<&str>)> = grids.documents_of("source_documents");
    assert!(
        docs.contains(&("sales_flat_order", Some("entity_id"))),
        "{docs:?}"
    );
    assert_eq!(docs.len(), 6, "{docs:?}");
}

#[test]
fn every_fixture_xml_file_parses_with_its_reader() {
    let mut count = 0;
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dmt")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let root = read_xml(&path).unwrap_or_else(|e| panic!("{e}"));
            match root.name.as_str() {
                "map" => drop(MapRules::load(&path).unwrap_or_else(|e| panic!("{e}"))),
                "groups" => drop(Groups::load(&path).unwrap_or_else(|e| panic!("{e}"))),
                "config" => drop(Setup::load(&path).unwrap_or_else(|e| panic!("{e}"))),
                // settings.xml and class-map.xml have formats of their own, read by later steps.
                _ => {}
            }
            count += 1;
        }
    }
    assert_eq!(count, 17);
}

#[tokio::test]
async fn schemas_and_reference_rows_load_into_real_databases() {
    let dbs = support::databases("fixtures_load").await;
    let mut conn = support::root_conn(support::server()).await;
    create_database(&mut conn, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut conn, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    let count = |db: &str| {
        format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}'")
    };
    let m1: u64 = conn
        .query_first(count(&dbs.m1.name))
        .await
        .unwrap()
        .unwrap();
    let m2: u64 = conn
        .query_first(count(&dbs.m2.name))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((m1, m2), (66, 81));
    // Store 0 and website 0 are real rows on both sides.
    let stores: Vec<(u16, String)> = conn
        .query(format!(
            "SELECT store_id, code FROM `{}`.core_store ORDER BY store_id",
            dbs.m1.name
        ))
        .await
        .unwrap();
    assert_eq!(
        stores,
        [(0, "admin".into()), (1, "default".into()), (2, "fr".into())]
    );
    let m2_stores: Vec<u16> = conn
        .query(format!(
            "SELECT store_id FROM `{}`.store ORDER BY store_id",
            dbs.m2.name
        ))
        .await
        .unwrap();
    assert_eq!(m2_stores, [0, 1, 2]);
    // Every table of the M1 subset that map.xml maps has its M2 table.
    let map = setup().map;
    let m1_tables: Vec<String> = conn
        .query(format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'",
            dbs.m1.name
        ))
        .await
        .unwrap();
    for table in m1_tables {
        if let Some(target) = map.document_map(&table, Side::Source) {
            let found: Option<String> = conn
                .exec_first(
                    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                    (&dbs.m2.name, &target),
                )
                .await
                .unwrap();
            assert_eq!(
                found.as_deref(),
                Some(target.as_str()),
                "{table} maps to a missing M2 table"
            );
        }
    }
}
