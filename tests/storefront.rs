//! The storefront generator: seeded M1 stores are deterministic, consistent and international,
//! and the live workload keeps them so while it mixes every kind of storefront action.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use mage_migrate::error::Side;
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA};
use mage_migrate::storefront::{
    seed_store, Action, ActionKind, SeedSummary, StoreProfile, Workload,
};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// A fresh M1 database with schema and reference rows, and a session on it.
async fn m1(test: &str) -> Conn {
    let dbs = support::databases(test).await;
    let mut conn = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .expect("connecting to the M1 database");
    create_database(&mut conn, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .expect("loading the M1 schema");
    conn
}

async fn seeded(test: &str, profile: &StoreProfile) -> (Conn, SeedSummary) {
    let mut conn = m1(test).await;
    let summary = seed_store(&mut conn, profile).await.expect("seeding");
    (conn, summary)
}

async fn tables(conn: &mut Conn) -> Vec<String> {
    conn.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
        .await
        .unwrap()
}

async fn checksums(conn: &mut Conn) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for t in tables(conn).await {
        let row: (String, Option<u64>) = conn
            .query_first(format!("CHECKSUM TABLE `{t}`"))
            .await
            .unwrap()
            .unwrap();
        out.insert(t, row.1.unwrap_or(0));
    }
    out
}

async fn count(conn: &mut Conn, sql: &str) -> u64 {
    conn.query_first::<u64, _>(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or(0)
}

/// Every invariant a consistent M1 store keeps; panics naming the first one broken.
async fn check_invariants(conn: &mut Conn) {
    // Foreign keys (they were checked on insert; a cascade or SET NULL must not leave orphans
    // either).
    let fks: Vec<(String, String, String, String)> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
             FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL",
        )
        .await
        .unwrap();
    assert!(fks.len() > 80, "only {} foreign keys found", fks.len());
    for (table, column, parent, parent_column) in &fks {
        let orphans = count(
            conn,
            &format!(
                "SELECT COUNT(*) FROM `{table}` c LEFT JOIN `{parent}` p ON p.`{parent_column}` = c.`{column}` \
                 WHERE c.`{column}` IS NOT NULL AND p.`{parent_column}` IS NULL"
            ),
        )
        .await;
        assert_eq!(orphans, 0, "{table}.{column} → {parent}.{parent_column}");
    }
    // References M1 keeps without a foreign key.
    for (what, sql) in [
        (
            "votes of missing reviews",
            "SELECT COUNT(*) FROM rating_option_vote v LEFT JOIN review r ON r.review_id = v.review_id \
             WHERE v.review_id IS NOT NULL AND r.review_id IS NULL",
        ),
        (
            "subscriptions of missing customers",
            "SELECT COUNT(*) FROM newsletter_subscriber s LEFT JOIN customer_entity c ON c.entity_id = s.customer_id \
             WHERE s.customer_id <> 0 AND c.entity_id IS NULL",
        ),
        (
            "default addresses that are not the customer's",
            "SELECT COUNT(*) FROM customer_entity_int v \
             JOIN eav_attribute a ON a.attribute_id = v.attribute_id \
               AND a.attribute_code IN ('default_billing', 'default_shipping') \
             JOIN eav_entity_type t ON t.entity_type_id = a.entity_type_id AND t.entity_type_code = 'customer' \
             LEFT JOIN customer_address_entity ad ON ad.entity_id = v.value AND ad.parent_id = v.entity_id \
             WHERE ad.entity_id IS NULL",
        ),
        (
            "orders without 1-5 items",
            "SELECT COUNT(*) FROM sales_flat_order o WHERE \
             (SELECT COUNT(*) FROM sales_flat_order_item i WHERE i.order_id = o.entity_id) NOT BETWEEN 1 AND 5",
        ),
        (
            "orders without exactly one payment",
            "SELECT COUNT(*) FROM sales_flat_order o WHERE \
             (SELECT COUNT(*) FROM sales_flat_order_payment p WHERE p.parent_id = o.entity_id) <> 1",
        ),
        (
            "orders whose billing address is not theirs",
            "SELECT COUNT(*) FROM sales_flat_order o LEFT JOIN sales_flat_order_address a \
             ON a.entity_id = o.billing_address_id AND a.parent_id = o.entity_id AND a.address_type = 'billing' \
             WHERE a.entity_id IS NULL",
        ),
        (
            "physical orders without their shipping address",
            "SELECT COUNT(*) FROM sales_flat_order o LEFT JOIN sales_flat_order_address a \
             ON a.entity_id = o.shipping_address_id AND a.parent_id = o.entity_id AND a.address_type = 'shipping' \
             WHERE o.is_virtual = 0 AND a.entity_id IS NULL",
        ),
        (
            "orders without a grid row or with a stale one",
            "SELECT COUNT(*) FROM sales_flat_order o LEFT JOIN sales_flat_order_grid g ON g.entity_id = o.entity_id \
             WHERE g.entity_id IS NULL OR NOT (g.status <=> o.status AND g.increment_id <=> o.increment_id \
               AND g.grand_total <=> o.grand_total AND g.base_total_paid <=> o.base_total_paid \
               AND g.customer_id <=> o.customer_id AND g.updated_at <=> o.updated_at AND g.store_id <=> o.store_id)",
        ),
        (
            "invoices without a grid row",
            "SELECT COUNT(*) FROM sales_flat_invoice i LEFT JOIN sales_flat_invoice_grid g ON g.entity_id = i.entity_id \
             WHERE g.entity_id IS NULL OR g.increment_id <> i.increment_id",
        ),
        (
            "shipments without a grid row",
            "SELECT COUNT(*) FROM sales_flat_shipment s LEFT JOIN sales_flat_shipment_grid g ON g.entity_id = s.entity_id \
             WHERE g.entity_id IS NULL",
        ),
        (
            "credit memos without a grid row",
            "SELECT COUNT(*) FROM sales_flat_creditmemo c LEFT JOIN sales_flat_creditmemo_grid g ON g.entity_id = c.entity_id \
             WHERE g.entity_id IS NULL",
        ),
        (
            "invoiced orders without an invoice, or the reverse",
            "SELECT COUNT(*) FROM sales_flat_order o WHERE (COALESCE(o.base_total_invoiced, 0) > 0) <> \
             EXISTS (SELECT 1 FROM sales_flat_invoice i WHERE i.order_id = o.entity_id)",
        ),
        (
            "complete orders not invoiced and shipped",
            "SELECT COUNT(*) FROM sales_flat_order o WHERE o.state = 'complete' AND (o.base_total_invoiced IS NULL \
             OR (o.is_virtual = 0 AND NOT EXISTS (SELECT 1 FROM sales_flat_shipment s WHERE s.order_id = o.entity_id)))",
        ),
        (
            "orders whose totals do not add up",
            "SELECT COUNT(*) FROM sales_flat_order o WHERE o.base_grand_total <> \
             o.base_subtotal + o.base_discount_amount + o.base_tax_amount + o.base_shipping_amount",
        ),
        (
            "order subtotals unlike the sum of their items",
            "SELECT COUNT(*) FROM sales_flat_order o WHERE o.base_subtotal <> \
             (SELECT SUM(i.base_row_total) FROM sales_flat_order_item i WHERE i.order_id = o.entity_id)",
        ),
        (
            "duplicate eav_entity_store rows",
            "SELECT COUNT(*) FROM (SELECT entity_type_id, store_id FROM eav_entity_store \
             GROUP BY entity_type_id, store_id HAVING COUNT(*) > 1) d",
        ),
    ] {
        assert_eq!(count(conn, sql).await, 0, "{what}");
    }
    // eav_entity_store.increment_last_id is the latest increment of its type and store.
    for (code, table) in [
        ("order", "sales_flat_order"),
        ("invoice", "sales_flat_invoice"),
        ("shipment", "sales_flat_shipment"),
        ("creditmemo", "sales_flat_creditmemo"),
    ] {
        let rows: Vec<(u64, Option<String>, Option<String>)> = conn
            .query(format!(
                "SELECT d.store_id, d.max_increment, s.increment_last_id \
                 FROM (SELECT store_id, MAX(increment_id) AS max_increment FROM {table} GROUP BY store_id) d \
                 LEFT JOIN eav_entity_store s ON s.store_id = d.store_id AND s.entity_type_id = \
                   (SELECT entity_type_id FROM eav_entity_type WHERE entity_type_code = '{code}')"
            ))
            .await
            .unwrap();
        for (store, max, last) in rows {
            assert_eq!(max, last, "{code} increment of store {store}");
            let last = last.unwrap_or_default();
            assert_eq!(last.len(), 9, "{code} increment {last}: prefix + 8 digits");
            assert!(
                last.starts_with(&store.to_string()),
                "{code} increment {last}"
            );
        }
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_store_and_another_seed_another() {
    let profile = StoreProfile::tiny().with_seed(42);
    let (mut a, sa) = seeded("det_a", &profile).await;
    let (mut b, sb) = seeded("det_b", &profile).await;
    let other = StoreProfile {
        oversized_values: true,
        ..StoreProfile::tiny().with_seed(43)
    };
    let (mut c, _) = seeded("det_c", &other).await;

    assert_eq!(sa, sb);
    let (ca, cb, cc) = (
        checksums(&mut a).await,
        checksums(&mut b).await,
        checksums(&mut c).await,
    );
    assert_eq!(ca.len(), 66, "tables: {:?}", ca.keys());
    assert_eq!(ca, cb, "same seed, different contents");
    let differing: Vec<&String> = ca
        .iter()
        .filter(|(t, sum)| cc.get(*t) != Some(sum))
        .map(|(t, _)| t)
        .collect();
    assert!(
        differing.contains(&&"sales_flat_order".to_string())
            && differing.contains(&&"customer_entity_varchar".to_string()),
        "another seed should change orders and customers, changed only {differing:?}"
    );

    // Oversized values only when asked for: 200-character e-mails fit M1's varchar(255), not
    // M2's varchar(128).
    let long = "SELECT COUNT(*) FROM sales_flat_order WHERE CHAR_LENGTH(customer_email) > 128";
    assert_eq!(count(&mut a, long).await, 0);
    let n = count(
        &mut c,
        "SELECT COUNT(*) FROM sales_flat_order WHERE CHAR_LENGTH(customer_email) = 200",
    )
    .await;
    assert!(n >= 2, "{n} oversized e-mails");
}

#[tokio::test]
async fn the_summary_counts_what_is_in_the_store_and_the_store_is_consistent() {
    let (mut conn, summary) = seeded("summary", &StoreProfile::tiny()).await;
    for (table, n) in &summary.rows {
        let actual = count(&mut conn, &format!("SELECT COUNT(*) FROM `{table}`")).await;
        assert_eq!(actual, *n, "{table}");
    }
    // What a tiny store must contain.
    for (table, at_least) in [
        ("customer_entity", 50),
        ("customer_entity_varchar", 250),
        ("customer_entity_int", 50),
        ("customer_address_entity", 50),
        ("customer_address_entity_varchar", 400),
        ("customer_address_entity_text", 50),
        ("customer_address_entity_int", 20),
        ("sales_flat_order", 100),
        ("sales_flat_order_item", 100),
        ("sales_flat_order_address", 150),
        ("sales_flat_order_payment", 100),
        ("sales_flat_order_status_history", 100),
        ("sales_flat_order_grid", 100),
        ("sales_order_tax", 50),
        ("sales_order_tax_item", 50),
        ("sales_flat_invoice", 60),
        ("sales_flat_invoice_item", 60),
        ("sales_flat_invoice_grid", 60),
        ("sales_flat_shipment", 50),
        ("sales_flat_shipment_item", 50),
        ("sales_flat_shipment_track", 50),
        ("sales_flat_shipment_grid", 50),
        ("sales_flat_creditmemo", 1),
        ("sales_flat_creditmemo_item", 1),
        ("sales_flat_creditmemo_grid", 1),
        ("sales_flat_quote", 130),
        ("sales_flat_quote_item", 130),
        ("sales_flat_quote_item_option", 130),
        ("sales_flat_quote_address", 260),
        ("sales_flat_quote_payment", 100),
        ("sales_flat_quote_shipping_rate", 200),
        ("review", 30),
        ("review_detail", 30),
        ("review_store", 60),
        ("rating_option_vote", 90),
        ("newsletter_subscriber", 10),
        ("wishlist", 1),
        ("wishlist_item", 1),
        ("log_visitor", 150),
        ("log_customer", 1),
        ("eav_entity_store", 8),
    ] {
        assert!(
            summary.rows(table) >= at_least,
            "{table}: {} rows",
            summary.rows(table)
        );
    }
    assert_eq!(summary.rows("customer_entity"), 50);
    assert_eq!(summary.rows("sales_flat_order"), 100);

    check_invariants(&mut conn).await;

    // Both stores, guests, customers, both password formats, both quote states.
    for (what, sql, at_least) in [
        ("store 1 orders", "SELECT COUNT(*) FROM sales_flat_order WHERE store_id = 1", 20),
        ("store 2 orders", "SELECT COUNT(*) FROM sales_flat_order WHERE store_id = 2", 5),
        (
            "guest orders",
            "SELECT COUNT(*) FROM sales_flat_order WHERE customer_id IS NULL AND customer_is_guest = 1",
            10,
        ),
        (
            "customer orders",
            "SELECT COUNT(*) FROM sales_flat_order WHERE customer_id IS NOT NULL AND customer_is_guest = 0",
            30,
        ),
        (
            "md5 password hashes",
            "SELECT COUNT(*) FROM customer_entity_varchar v JOIN eav_attribute a USING (attribute_id) \
             WHERE a.attribute_code = 'password_hash' AND v.value REGEXP '^[0-9a-f]{32}:[A-Za-z0-9]{2}$'",
            10,
        ),
        (
            "sha256 password hashes",
            "SELECT COUNT(*) FROM customer_entity_varchar v JOIN eav_attribute a USING (attribute_id) \
             WHERE a.attribute_code = 'password_hash' AND v.value REGEXP '^[0-9a-f]{64}:[A-Za-z0-9]{32}$'",
            3,
        ),
        (
            "multi-line streets",
            "SELECT COUNT(*) FROM customer_address_entity_text WHERE value LIKE '%\\n%'",
            1,
        ),
        ("active quotes", "SELECT COUNT(*) FROM sales_flat_quote WHERE is_active = 1", 30),
        (
            "converted quotes",
            "SELECT COUNT(*) FROM sales_flat_quote q JOIN sales_flat_order o ON o.quote_id = q.entity_id \
             WHERE q.is_active = 0 AND q.reserved_order_id = o.increment_id",
            100,
        ),
        (
            "serialized product options",
            "SELECT COUNT(*) FROM sales_flat_order_item WHERE product_options LIKE 'a:1:{s:15:\"info_buyRequest\";a:4:{%'",
            100,
        ),
        (
            "dates of birth",
            "SELECT COUNT(*) FROM customer_entity_datetime v JOIN eav_attribute a USING (attribute_id) \
             WHERE a.attribute_code = 'dob' AND TIME(v.value) = '00:00:00'",
            5,
        ),
    ] {
        let n = count(&mut conn, sql).await;
        assert!(n >= at_least, "{what}: {n}");
    }
    // Timestamps come from the fixed history, never the clock.
    let (min, max): (String, String) = conn
        .query_first("SELECT MIN(created_at), MAX(updated_at) FROM sales_flat_order")
        .await
        .unwrap()
        .unwrap();
    assert!(
        min.as_str() >= "2019-01-01" && max.as_str() < "2021-03-01",
        "{min} … {max}"
    );
}

#[tokio::test]
async fn four_byte_characters_are_only_in_utf8mb4_tables() {
    let (mut conn, _) = seeded("fourbyte", &StoreProfile::tiny().with_seed(3)).await;
    // A 4-byte UTF-8 sequence starts with a byte F0–F4, at a byte (two hex digit) boundary.
    let four = |col: &str| format!("HEX({col}) REGEXP '^(..)*F[0-4]'");
    for (table, column) in [
        ("review_detail", "CONCAT(title, detail, nickname)"),
        ("customer_entity_varchar", "value"),
        ("sales_flat_order_status_history", "comment"),
        ("newsletter_subscriber", "subscriber_email"),
    ] {
        let n = count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM {table} WHERE {}", four(column)),
        )
        .await;
        assert!(n > 0, "no 4-byte character in {table}");
    }
    let emoji = count(
        &mut conn,
        "SELECT COUNT(*) FROM review_detail WHERE LOCATE(CAST('😀' AS BINARY), CAST(CONCAT(title, detail, nickname) AS BINARY)) > 0",
    )
    .await;
    assert!(emoji > 0, "no 😀 in review_detail");
    // Non-ASCII 2/3-byte text in the utf8mb3 tables.
    for (table, column) in [
        ("sales_flat_order_item", "name"),
        (
            "sales_flat_order_address",
            "CONCAT_WS(' ', firstname, lastname, city, street)",
        ),
        (
            "sales_flat_order",
            "CONCAT_WS(' ', customer_firstname, customer_lastname)",
        ),
    ] {
        let n = count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM {table} WHERE LENGTH({column}) > CHAR_LENGTH({column})"),
        )
        .await;
        assert!(n > 0, "no non-ASCII text in {table}");
    }
}

#[tokio::test]
async fn the_workload_mixes_every_action_and_keeps_the_store_consistent() {
    let (mut conn, _) = seeded("workload", &StoreProfile::tiny().with_seed(5)).await;
    let mut workload = Workload::new(9);
    workload.load_state(&mut conn).await.unwrap();

    // Library users may run it on a spawned task.
    fn assert_send<F: Send>(_: &F) {}
    assert_send(&workload.step(&mut conn));

    let started = Instant::now();
    let counts = workload.run(&mut conn, 300).await.unwrap();
    eprintln!("300 workload steps in {:?}: {counts:?}", started.elapsed());
    assert_eq!(counts.values().sum::<u64>(), 300);
    for kind in [
        ActionKind::RegisterCustomer,
        ActionKind::EditCustomer,
        ActionKind::QuoteActivity,
        ActionKind::PlaceOrder,
        ActionKind::ChangeOrderStatus,
        ActionKind::Invoice,
        ActionKind::Ship,
        ActionKind::Refund,
        ActionKind::SubmitReview,
        ActionKind::Newsletter,
        ActionKind::Visit,
        ActionKind::CleanQuote,
    ] {
        assert!(
            counts.get(&kind).copied().unwrap_or(0) > 0,
            "no {kind:?} in {counts:?}"
        );
    }
    check_invariants(&mut conn).await;

    // A placed order took the next increment of its store.
    let Action::PlaceOrder {
        order_id,
        increment_id,
        store_id,
        ..
    } = workload
        .perform(&mut conn, ActionKind::PlaceOrder)
        .await
        .unwrap()
    else {
        panic!("PlaceOrder did something else");
    };
    let (inc, status): (String, String) = conn
        .exec_first(
            "SELECT increment_id, status FROM sales_flat_order WHERE entity_id = ?",
            (order_id,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (inc.as_str(), status.as_str()),
        (increment_id.as_str(), "pending")
    );
    let last: String = conn
        .exec_first(
            "SELECT increment_last_id FROM eav_entity_store WHERE store_id = ? AND entity_type_id = \
             (SELECT entity_type_id FROM eav_entity_type WHERE entity_type_code = 'order')",
            (store_id,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last, increment_id);

    // A customer deleted by an admin takes its EAV rows and addresses with it (cascade).
    let eav: HashMap<u64, u64> = conn
        .query::<(u64, u64), _>(
            "SELECT entity_id, COUNT(*) FROM customer_entity_varchar GROUP BY entity_id",
        )
        .await
        .unwrap()
        .into_iter()
        .collect();
    let addresses: Vec<(u64, u64)> = conn
        .query("SELECT parent_id, entity_id FROM customer_address_entity")
        .await
        .unwrap();
    let Action::DeleteCustomer { customer_id } = workload
        .perform(&mut conn, ActionKind::DeleteCustomer)
        .await
        .unwrap()
    else {
        panic!("DeleteCustomer did something else");
    };
    assert!(
        eav.get(&customer_id).copied().unwrap_or(0) >= 3,
        "customer {customer_id} had no EAV rows"
    );
    let mine: Vec<u64> = addresses
        .iter()
        .filter(|(parent, _)| *parent == customer_id)
        .map(|(_, id)| *id)
        .collect();
    assert!(!mine.is_empty(), "customer {customer_id} had no address");
    for table in [
        "customer_entity",
        "customer_entity_varchar",
        "customer_entity_int",
        "customer_entity_datetime",
    ] {
        let n = count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM {table} WHERE entity_id = {customer_id}"),
        )
        .await;
        assert_eq!(n, 0, "{table} rows of deleted customer {customer_id}");
    }
    for table in [
        "customer_address_entity",
        "customer_address_entity_varchar",
        "customer_address_entity_text",
        "customer_address_entity_int",
    ] {
        let ids: Vec<String> = mine.iter().map(u64::to_string).collect();
        let n = count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) FROM {table} WHERE entity_id IN ({})",
                ids.join(",")
            ),
        )
        .await;
        assert_eq!(n, 0, "{table} rows of deleted customer {customer_id}");
    }

    // The other deletes.
    let Action::CleanQuote { quote_id } = workload
        .perform(&mut conn, ActionKind::CleanQuote)
        .await
        .unwrap()
    else {
        panic!("CleanQuote did something else");
    };
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM sales_flat_quote_item WHERE quote_id = {quote_id}")
        )
        .await,
        0
    );
    let Action::DeleteReview { review_id } = workload
        .perform(&mut conn, ActionKind::DeleteReview)
        .await
        .unwrap()
    else {
        panic!("DeleteReview did something else");
    };
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM review_detail WHERE review_id = {review_id}")
        )
        .await,
        0
    );
    check_invariants(&mut conn).await;
}

#[tokio::test]
async fn the_workload_also_runs_on_a_store_without_data() {
    let mut conn = m1("empty").await;
    let mut workload = Workload::new(1);
    let counts = workload.run(&mut conn, 150).await.unwrap();
    assert!(
        counts.get(&ActionKind::PlaceOrder).copied().unwrap_or(0) > 0,
        "{counts:?}"
    );
    assert!(count(&mut conn, "SELECT COUNT(*) FROM sales_flat_invoice").await > 0);
    check_invariants(&mut conn).await;
}

#[tokio::test]
async fn the_same_workload_seed_replays_the_same_actions() {
    let profile = StoreProfile::tiny().with_seed(11);
    let (mut a, _) = seeded("replay_a", &profile).await;
    let (mut b, _) = seeded("replay_b", &profile).await;
    let mut wa = Workload::new(4);
    let mut wb = Workload::new(4);
    for _ in 0..60 {
        let x = wa.step(&mut a).await.unwrap();
        let y = wb.step(&mut b).await.unwrap();
        assert_eq!(x, y);
    }
    assert_eq!(checksums(&mut a).await, checksums(&mut b).await);
}

/// The seeding rate of the small profile. Run with
/// `cargo test --release --test storefront -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "timing: run on demand with --release"]
async fn seeding_rate_of_the_small_profile() {
    let mut conn = m1("rate").await;
    let started = Instant::now();
    let summary = seed_store(&mut conn, &StoreProfile::small()).await.unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "small profile: {} rows in {:.2?} = {:.0} rows/s",
        summary.total(),
        elapsed,
        summary.total() as f64 / elapsed.as_secs_f64()
    );
    for (table, n) in &summary.rows {
        let actual = count(&mut conn, &format!("SELECT COUNT(*) FROM `{table}`")).await;
        assert_eq!(actual, *n, "{table}");
    }
    check_invariants(&mut conn).await;
}
