//! The Customer step against a real MariaDB: migrate:data, then migrate:delta from the deltalog
//! and from the binlog. M1 customer and address entities with their EAV values must be M2 rows
//! whose static columns hold those values (password hashes upgraded), with no value rows left
//! for them; edits, value rows deleted by hand, address and customer deletes all follow.

mod support;

use std::sync::Arc;

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::migrate_delta::binlog::BinlogOptions;
use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::storefront::{seed_store, StoreProfile, Workload, WorkloadMix};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use support::TestDatabases;

const CUSTOMER_COLUMNS: &[&str] = &[
    "created_in",
    "prefix",
    "firstname",
    "middlename",
    "lastname",
    "suffix",
    "dob",
    "password_hash",
    "rp_token",
    "rp_token_created_at",
    "default_billing",
    "default_shipping",
    "taxvat",
    "confirmation",
    "gender",
];

const ADDRESS_COLUMNS: &[&str] = &[
    "city",
    "company",
    "country_id",
    "fax",
    "firstname",
    "lastname",
    "middlename",
    "postcode",
    "prefix",
    "region",
    "region_id",
    "street",
    "suffix",
    "telephone",
];

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

/// The M1 attribute id and backend type of an attribute code.
async fn attribute(conn: &mut Conn, entity_type: &str, code: &str) -> (u64, String) {
    conn.exec_first(
        "SELECT a.attribute_id, a.backend_type FROM eav_attribute a JOIN eav_entity_type t \
         ON t.entity_type_id = a.entity_type_id WHERE t.entity_type_code = ? AND a.attribute_code = ?",
        (entity_type, code),
    )
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("no M1 attribute {entity_type}.{code}"))
}

/// What M2 must hold, computed from M1 independently of the tool: entity id → column values
/// (text, '' for none), with the password hash upgraded as the DMT does.
async fn expected(
    conn: &mut Conn,
    entity_type: &str,
    table: &str,
    columns: &[&str],
) -> Vec<(u64, Vec<String>)> {
    let mut select = vec!["e.entity_id".to_string()];
    for code in columns {
        let (id, backend) = attribute(conn, entity_type, code).await;
        let value = if *code == "dob" {
            "DATE(v.value)"
        } else {
            "v.value"
        };
        select.push(format!(
            "IFNULL((SELECT CAST({value} AS CHAR) FROM {table}_{backend} v WHERE v.entity_id = e.entity_id AND v.attribute_id = {id}), '')"
        ));
    }
    let rows: Vec<mysql_async::Row> = conn
        .query(format!(
            "SELECT {} FROM {table} e ORDER BY e.entity_id",
            select.join(", ")
        ))
        .await
        .unwrap();
    rows.into_iter()
        .map(|row| {
            let mut values: Vec<Option<String>> = Vec::new();
            let id: u64 = row.get(0).unwrap();
            for i in 1..row.len() {
                values.push(row.get(i));
            }
            let values = values
                .into_iter()
                .zip(columns)
                .map(|(v, c)| {
                    let v = v.unwrap_or_default();
                    if *c == "password_hash" {
                        upgraded(&v)
                    } else {
                        v
                    }
                })
                .collect();
            (id, values)
        })
        .collect()
}

/// md5:salt → md5:salt:0, sha256:salt → sha256:salt:1 (upgrade_customer_password_hash=1).
fn upgraded(hash: &str) -> String {
    let (digest, salt) = hash.split_once(':').unwrap_or((hash, ""));
    let hex = digest.chars().all(|c| c.is_ascii_hexdigit());
    match (hex, digest.len()) {
        (true, 32) if !salt.contains(':') => format!("{digest}:{salt}:0"),
        (true, 64) if !salt.contains(':') => format!("{digest}:{salt}:1"),
        _ => hash.to_string(),
    }
}

async fn actual(conn: &mut Conn, table: &str, columns: &[&str]) -> Vec<(u64, Vec<String>)> {
    let select: Vec<String> = columns
        .iter()
        .map(|c| format!("IFNULL(CAST(`{c}` AS CHAR), '')"))
        .collect();
    let rows: Vec<mysql_async::Row> = conn
        .query(format!(
            "SELECT entity_id, {} FROM {table} ORDER BY entity_id",
            select.join(", ")
        ))
        .await
        .unwrap();
    rows.into_iter()
        .map(|row| {
            let id: u64 = row.get(0).unwrap();
            let values = (1..row.len())
                .map(|i| row.get::<Option<String>, _>(i).unwrap().unwrap_or_default())
                .collect();
            (id, values)
        })
        .collect()
}

/// The differences between M1 (through the step) and M2, one line each.
async fn differences(dbs: &TestDatabases) -> Vec<String> {
    let (mut one, mut two) = (m1(dbs).await, m2(dbs).await);
    let mut out = Vec::new();
    for (entity_type, table, columns) in [
        ("customer", "customer_entity", CUSTOMER_COLUMNS),
        (
            "customer_address",
            "customer_address_entity",
            ADDRESS_COLUMNS,
        ),
    ] {
        let want = expected(&mut one, entity_type, table, columns).await;
        let have = actual(&mut two, table, columns).await;
        let have_map: std::collections::BTreeMap<u64, Vec<String>> = have.into_iter().collect();
        let want_ids: std::collections::BTreeSet<u64> = want.iter().map(|(id, _)| *id).collect();
        for (id, values) in &want {
            match have_map.get(id) {
                None => out.push(format!("{table} {id}: missing in M2")),
                Some(got) => {
                    for ((c, w), g) in columns.iter().zip(values).zip(got) {
                        if w != g {
                            out.push(format!("{table} {id}.{c}: M1 {w:?}, M2 {g:?}"));
                        }
                    }
                }
            }
        }
        for id in have_map.keys().filter(|id| !want_ids.contains(id)) {
            out.push(format!("{table} {id}: only in M2"));
        }
        // Plain columns the Map-like part copies.
        let plain = if table == "customer_entity" {
            "entity_id, IFNULL(email, ''), IFNULL(website_id, 0), group_id, store_id, is_active"
        } else {
            "entity_id, IFNULL(parent_id, 0), is_active, 0, 0, 0"
        };
        let sql = format!("SELECT {plain} FROM {table} ORDER BY entity_id");
        let a: Vec<(u64, String, u64, u64, u64, u64)> = one.query(&sql).await.unwrap();
        let b: Vec<(u64, String, u64, u64, u64, u64)> = two.query(&sql).await.unwrap();
        if a != b {
            out.push(format!("{table}: static columns differ"));
        }
    }
    // The values that became columns have no value rows in M2.
    for table in [
        "customer_entity_varchar",
        "customer_entity_int",
        "customer_entity_datetime",
        "customer_address_entity_varchar",
        "customer_address_entity_text",
        "customer_address_entity_int",
    ] {
        let n: Option<u64> = two
            .query_first(format!(
                "SELECT COUNT(*) FROM {table} v JOIN eav_attribute a ON a.attribute_id = v.attribute_id WHERE a.backend_type = 'static'"
            ))
            .await
            .unwrap();
        if n != Some(0) {
            out.push(format!(
                "{table}: {n:?} value rows of M2 columns in M2, expected none"
            ));
        }
    }
    out
}

async fn migrated(test: &str) -> (TestDatabases, Setup) {
    let dbs = support::databases(test).await;
    let mut root = support::root_conn(support::server()).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    let mut conn = m1(&dbs).await;
    seed_store(&mut conn, &StoreProfile::tiny()).await.unwrap();
    let setup = Setup::load(&support::write_config(test, &dbs, None)).unwrap();
    let skip = migrate_data::unbuilt_steps(&setup, "data");
    assert!(
        !skip.contains(&"Customer Attributes Step".to_string()),
        "{skip:?}"
    );
    let data = DataOptions {
        skip_steps: skip,
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data).await.unwrap();
    (dbs, setup)
}

/// Edits a Magento engineer would recognise, made with SQL as M1's EAV save makes them (and
/// one it never makes: a value row deleted without touching its customer). Returns the ids of
/// the customer and the address deleted.
async fn edit(dbs: &TestDatabases, round: u64) -> (u64, u64) {
    let mut c = m1(dbs).await;
    let firstname = attribute(&mut c, "customer", "firstname").await.0;
    let dob = attribute(&mut c, "customer", "dob").await.0;
    let password = attribute(&mut c, "customer", "password_hash").await.0;
    let billing = attribute(&mut c, "customer", "default_billing").await.0;
    // Customers with two addresses: the one edited gets its second as default billing.
    let two: Vec<(u64, u64)> = c
        .query(
            "SELECT parent_id, MAX(entity_id) FROM customer_address_entity GROUP BY parent_id HAVING COUNT(*) > 1 ORDER BY parent_id",
        )
        .await
        .unwrap();
    let (edited, second) = two[(round as usize * 2) % two.len()];
    let (deleted_customer, deleted_address) = two[(round as usize * 2 + 1) % two.len()];
    c.exec_drop(
        "UPDATE customer_entity_varchar SET value = ? WHERE entity_id = ? AND attribute_id = ?",
        (format!("Zoë{round} 😀"), edited, firstname),
    )
    .await
    .unwrap();
    c.exec_drop(
        "INSERT INTO customer_entity_datetime (entity_type_id, attribute_id, entity_id, value) VALUES (1, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE value = VALUES(value)",
        (dob, edited, format!("198{round}-02-03 00:00:00")),
    )
    .await
    .unwrap();
    let new_hash = if round % 2 == 0 {
        format!("{}:Xy", "ab".repeat(16))
    } else {
        format!("{}:{}", "cd".repeat(32), "s".repeat(32))
    };
    c.exec_drop(
        "UPDATE customer_entity_varchar SET value = ? WHERE entity_id = ? AND attribute_id = ?",
        (new_hash, edited, password),
    )
    .await
    .unwrap();
    c.exec_drop(
        "INSERT INTO customer_entity_int (entity_type_id, attribute_id, entity_id, value) VALUES (1, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE value = VALUES(value)",
        (billing, edited, second),
    )
    .await
    .unwrap();
    c.exec_drop(
        "UPDATE customer_entity SET updated_at = NOW() WHERE entity_id = ?",
        (edited,),
    )
    .await
    .unwrap();
    // A value row removed by hand: the customer row itself is not touched.
    let lonely: Option<u64> = c
        .exec_first(
            "SELECT v.value_id FROM customer_entity_varchar v WHERE v.attribute_id = ? AND v.entity_id NOT IN (?, ?) ORDER BY v.value_id LIMIT 1 OFFSET ?",
            (firstname, edited, deleted_customer, round * 3),
        )
        .await
        .unwrap();
    c.exec_drop(
        "DELETE FROM customer_entity_varchar WHERE value_id = ?",
        (lonely.unwrap(),),
    )
    .await
    .unwrap();
    // An address deleted, then a whole customer (M1 cascades to its addresses and values).
    c.exec_drop(
        "DELETE FROM customer_address_entity WHERE entity_id = ?",
        (deleted_address,),
    )
    .await
    .unwrap();
    c.exec_drop(
        "DELETE FROM customer_entity WHERE entity_id = ?",
        (deleted_customer,),
    )
    .await
    .unwrap();
    // And the storefront: registrations, profile edits, deletes.
    let mut w = Workload::new(100 + round).with_mix(WorkloadMix::default());
    w.load_state(&mut c).await.unwrap();
    w.run(&mut c, 150).await.unwrap();
    (deleted_customer, deleted_address)
}

async fn gone_in_m2(dbs: &TestDatabases, customer: u64, address: u64) {
    let mut two = m2(dbs).await;
    let n: Option<u64> = two
        .exec_first(
            "SELECT COUNT(*) FROM customer_address_entity WHERE parent_id = ? OR entity_id = ?",
            (customer, address),
        )
        .await
        .unwrap();
    assert_eq!(
        n,
        Some(0),
        "the deleted customer's addresses are gone in M2"
    );
    let n: Option<u64> = two
        .exec_first(
            "SELECT COUNT(*) FROM customer_entity WHERE entity_id = ?",
            (customer,),
        )
        .await
        .unwrap();
    assert_eq!(n, Some(0));
}

#[tokio::test]
async fn customers_follow_through_data_deltalog_and_binlog() {
    let (dbs, setup) = migrated("customer_step").await;
    assert_eq!(differences(&dbs).await, Vec::<String>::new());
    // Both hash kinds were upgraded.
    let mut two = m2(&dbs).await;
    let kinds: Vec<String> = two
        .query("SELECT DISTINCT RIGHT(password_hash, 2) FROM customer_entity ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(kinds, vec![":0", ":1"]);
    let customers: Option<u64> = two
        .query_first("SELECT COUNT(*) FROM customer_entity")
        .await
        .unwrap();
    assert!(customers.unwrap() > 10, "{customers:?}");

    // The stock 1.9.4.5 delta list runs as it is: nothing to skip, no unknown class.
    assert_eq!(
        migrate_data::unbuilt_steps(&setup, "delta"),
        Vec::<String>::new()
    );
    let (code, _, stderr) = support::cli(&[
        "migrate:delta",
        setup.config.path.to_str().unwrap(),
        "--once",
    ]);
    assert_eq!(code, 0, "{stderr}");

    // The deltalog source.
    let (customer, address) = edit(&dbs, 0).await;
    let report = migrate_delta::run(
        &setup,
        &DeltaOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
            once: true,
            ..DeltaOptions::default()
        },
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.upserted > 0, "{report:?}");
    assert_eq!(differences(&dbs).await, Vec::<String>::new());
    gone_in_m2(&dbs, customer, address).await;
    // The operator's view of the deltalog follower: its last cycle and pace.
    let (code, stdout, stderr) =
        support::cli(&["deltalog", "status", setup.config.path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let pace = stdout
        .lines()
        .find(|l| l.starts_with("deltalog source: the last cycle, "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(pace.contains(" s ago, "), "{pace}");

    // The binlog source, from where migrate:data left M1's binlog.
    let (customer, address) = edit(&dbs, 1).await;
    let report = migrate_delta::run(
        &setup,
        &DeltaOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
            once: true,
            binlog: Some(BinlogOptions {
                start: None,
                server_id: 4900,
                heartbeat: std::time::Duration::from_secs(1),
            }),
            ..DeltaOptions::default()
        },
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.binlog_changes > 0, "{report:?}");
    assert_eq!(differences(&dbs).await, Vec::<String>::new());
    gone_in_m2(&dbs, customer, address).await;
    assert!(
        report.volume.iter().all(|l| !l.contains("customer")),
        "{:?}",
        report.volume
    );

    // A value row deleted by hand, its customer otherwise untouched: only the step's record
    // of which customer the row belonged to can tell (the deltalog logs value_id alone).
    for source in ["deltalog", "binlog"] {
        let mut one = m1(&dbs).await;
        let firstname = attribute(&mut one, "customer", "firstname").await.0;
        let (value_id, customer): (u64, u64) = one
            .exec_first(
                "SELECT value_id, entity_id FROM customer_entity_varchar WHERE attribute_id = ? \
                 AND entity_id NOT IN (SELECT entity_id FROM m2_cl_customer_entity) ORDER BY entity_id LIMIT 1",
                (firstname,),
            )
            .await
            .unwrap()
            .unwrap();
        let before: Option<Option<String>> = two
            .exec_first(
                "SELECT firstname FROM customer_entity WHERE entity_id = ?",
                (customer,),
            )
            .await
            .unwrap();
        assert!(matches!(before, Some(Some(_))), "{before:?}");
        one.exec_drop(
            "DELETE FROM customer_entity_varchar WHERE value_id = ?",
            (value_id,),
        )
        .await
        .unwrap();
        let options = DeltaOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
            once: true,
            binlog: (source == "binlog").then(|| BinlogOptions {
                start: None,
                server_id: 4901,
                heartbeat: std::time::Duration::from_secs(1),
            }),
            ..DeltaOptions::default()
        };
        migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        let after: Option<Option<String>> = two
            .exec_first(
                "SELECT firstname FROM customer_entity WHERE entity_id = ?",
                (customer,),
            )
            .await
            .unwrap();
        assert_eq!(after, Some(None), "{source}: customer {customer}");
        assert_eq!(differences(&dbs).await, Vec::<String>::new(), "{source}");
    }

    // An attribute of the store's own, not an M2 column: its values go to M2's value table
    // with M2's id for the same code, whatever ids the two databases gave it.
    let mut one = m1(&dbs).await;
    one.query_drop("INSERT INTO eav_attribute (attribute_id, entity_type_id, attribute_code, backend_type) VALUES (200, 1, 'loyalty_tier', 'varchar')")
        .await
        .unwrap();
    two.query_drop("INSERT INTO eav_attribute (attribute_id, entity_type_id, attribute_code, backend_type) VALUES (90, 1, 'loyalty_tier', 'varchar')")
        .await
        .unwrap();
    let ids: Vec<u64> = one
        .query("SELECT entity_id FROM customer_entity ORDER BY entity_id LIMIT 3")
        .await
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        one.exec_drop(
            "INSERT INTO customer_entity_varchar (entity_type_id, attribute_id, entity_id, value) VALUES (1, 200, ?, ?)",
            (id, ["gold", "silver", "bronze"][i]),
        )
        .await
        .unwrap();
    }
    for source in ["deltalog", "binlog"] {
        let options = DeltaOptions {
            skip_steps: Vec::new(),
            once: true,
            binlog: (source == "binlog").then(|| BinlogOptions {
                start: None,
                server_id: 4902,
                heartbeat: std::time::Duration::from_secs(1),
            }),
            ..DeltaOptions::default()
        };
        migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        let want: Vec<(u64, u64, String)> = one
            .query("SELECT entity_id, 90, value FROM customer_entity_varchar WHERE attribute_id = 200 ORDER BY entity_id")
            .await
            .unwrap();
        let have: Vec<(u64, u64, String)> = two
            .query("SELECT entity_id, attribute_id, value FROM customer_entity_varchar WHERE attribute_id = 90 ORDER BY entity_id")
            .await
            .unwrap();
        assert_eq!(have, want, "{source}");
        assert_eq!(differences(&dbs).await, Vec::<String>::new(), "{source}");
        // Then one value changed and one removed, for the next source.
        one.exec_drop(
            "UPDATE customer_entity_varchar SET value = 'platinum' WHERE attribute_id = 200 AND entity_id = ?",
            (ids[0],),
        )
        .await
        .unwrap();
        one.exec_drop(
            "DELETE FROM customer_entity_varchar WHERE attribute_id = 200 AND entity_id = ?",
            (ids[2],),
        )
        .await
        .unwrap();
    }
    // A value of an attribute Magento 2 does not have stops the run and names it.
    one.query_drop("INSERT INTO eav_attribute (attribute_id, entity_type_id, attribute_code, backend_type) VALUES (201, 1, 'legacy_flag', 'int')")
        .await
        .unwrap();
    one.exec_drop(
        "INSERT INTO customer_entity_int (entity_type_id, attribute_id, entity_id, value) VALUES (1, 201, ?, 1)",
        (ids[1],),
    )
    .await
    .unwrap();
    let (code, _, stderr) = support::cli(&[
        "migrate:delta",
        setup.config.path.to_str().unwrap(),
        "--once",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("customer_entity_int: 1 values of the customer attribute legacy_flag (M1 attribute_id 201), which Magento 2's eav_attribute does not have; create the attribute in Magento 2 first (the DMT's EAV step does)"),
        "{stderr}"
    );
}
