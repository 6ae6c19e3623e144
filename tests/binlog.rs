//! `migrate:delta --source binlog` against a real MariaDB (binary logging on, default row
//! metadata): M2 equal to M1 through the map after a live workload, identical to what the
//! deltalog source leaves; every deltalog row acknowledged; resume from the checkpoints; the
//! cross-check; start positions.

mod support;

use std::sync::Arc;

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::migrate_delta::binlog::BinlogOptions;
use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::source::binlog::StartAt;
use mage_migrate::storefront::{seed_store, StoreProfile, Workload, WorkloadMix};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use support::TestDatabases;

fn mix() -> WorkloadMix {
    WorkloadMix {
        delete_customer: 0,
        ..WorkloadMix::default()
    }
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
    let mut m1 = m1(&dbs).await;
    seed_store(&mut m1, &StoreProfile::tiny()).await.unwrap();
    let setup = Setup::load(&support::write_config(test, &dbs, None)).unwrap();
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data).await.unwrap();
    (dbs, setup)
}

async fn m1(dbs: &TestDatabases) -> Conn {
    mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap()
}

fn binlog_options(setup: &Setup, start: Option<StartAt>) -> DeltaOptions {
    DeltaOptions {
        skip_steps: migrate_data::unbuilt_steps(setup, "delta"),
        once: true,
        binlog: Some(BinlogOptions {
            start,
            server_id: 4000 + (std::process::id() % 1000),
            heartbeat: std::time::Duration::from_secs(1),
        }),
        ..DeltaOptions::default()
    }
}

async fn once_binlog(setup: &Setup) -> migrate_delta::DeltaReport {
    migrate_delta::run(
        setup,
        &binlog_options(setup, None),
        Arc::new(Stop::default()),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn workload(dbs: &TestDatabases, seed: u64, steps: u64) {
    let mut conn = m1(dbs).await;
    let mut w = Workload::new(seed).with_mix(mix());
    w.load_state(&mut conn).await.unwrap();
    w.run(&mut conn, steps).await.unwrap();
}

/// Rows of the followed deltalogs (all `processed` values). The M1 grids are in the group but
/// map.xml ignores them (the OrderGrids step builds M2's): their rows stay, as with the DMT.
async fn deltalog_rows(dbs: &TestDatabases, setup: &Setup) -> u64 {
    let mut root = support::root_conn(support::server()).await;
    let mut total = 0;
    for (document, _) in setup.deltalog_groups.documents_of("delta_map") {
        if document.ends_with("_grid") {
            continue;
        }
        let n: Option<u64> = root
            .query_first(format!(
                "SELECT COUNT(*) FROM `{}`.`m2_cl_{document}`",
                dbs.m1.name
            ))
            .await
            .unwrap_or(None);
        total += n.unwrap_or(0);
    }
    total
}

#[tokio::test]
async fn once_leaves_m2_equal_to_m1_and_the_deltalog_empty() {
    let (dbs, setup) = migrated("binlog_once").await;
    workload(&dbs, 11, 400).await;
    assert!(deltalog_rows(&dbs, &setup).await > 100);
    let report = once_binlog(&setup).await;
    assert!(report.upserted > 100, "{report:?}");
    assert!(report.deleted > 0, "{report:?}");
    assert_eq!(
        support::diff_group(&dbs, &setup, "delta_map").await,
        Vec::<String>::new()
    );
    let check = report.cross_check.expect("a cross-check");
    assert!(check.is_clean(), "{:?}", check.lines());
    // Every deltalog row was claimed, its claim came through the binlog and was acknowledged.
    assert_eq!(deltalog_rows(&dbs, &setup).await, 0);
    assert!(report.binlog_position.is_some());
}
