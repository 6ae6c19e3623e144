//! TLS end to end: `ssl_ca`, `ssl_cert` and `ssl_key` of config.xml for queries and the binlog
//! stream, against a sandbox MariaDB started with certificates this test generates (openssl),
//! for a user the server admits only with a client certificate (`REQUIRE X509`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use mage_migrate::error::Side;
use mage_migrate::migrate_data::{self, DataOptions};
use mage_migrate::migrate_delta::binlog::BinlogOptions;
use mage_migrate::migrate_delta::{self, DeltaOptions, Stop};
use mage_migrate::sandbox::{create_database, M1_BASE, M1_SCHEMA, M2_BASE, M2_SCHEMA};
use mage_migrate::setup::Setup;
use mage_migrate::storefront::{seed_store, StoreProfile, Workload, WorkloadMix};
use mysql_async::prelude::Queryable;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA.
fn certificates(dir: &Path, ca_name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            &format!("/CN={ca_name}"),
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    // Version 3 certificates (webpki refuses version 1).
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for who in ["server", "client"] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{who}.key"),
                "-out",
                &format!("{who}.csr"),
                "-subj",
                &format!("/CN=mage-migrate {who}"),
            ],
        );
        let (csr, pem) = (format!("{who}.csr"), format!("{who}.pem"));
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            csr.as_str(),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            pem.as_str(),
            "-days",
            "2",
        ];
        let ext = format!("{who}.ext");
        args.extend(["-extfile", ext.as_str()]);
        let refs = args;
        openssl(dir, &refs);
    }
}

fn with_tls(config: &str, name: &str, attributes: &str) -> String {
    let tag = format!("name=\"{name}\" user=\"root\"");
    assert!(config.contains(&tag), "{config}");
    config.replace(
        &tag,
        &format!("name=\"{name}\" user=\"tls_user\" password=\"pw\" {attributes}"),
    )
}

#[tokio::test]
async fn both_sources_work_over_tls_with_a_client_certificate() {
    let dir: PathBuf = support::scratch_dir("tls_certs");
    certificates(&dir, "mage-migrate test CA");
    let other = dir.join("other");
    certificates(&other, "another CA");
    let p = |f: &str| dir.join(f).display().to_string();
    let server = support::own_server(&[
        &format!("--ssl-ca={}", p("ca.pem")),
        &format!("--ssl-cert={}", p("server.pem")),
        &format!("--ssl-key={}", p("server.key")),
    ]);
    let dbs = support::databases_on(&server, "tls").await;
    let mut root = support::root_conn(&server).await;
    create_database(&mut root, &dbs.m1.name, &[M1_SCHEMA, M1_BASE])
        .await
        .unwrap();
    create_database(&mut root, &dbs.m2.name, &[M2_SCHEMA, M2_BASE])
        .await
        .unwrap();
    for statement in [
        "CREATE USER 'tls_user'@'127.0.0.1' IDENTIFIED BY 'pw' REQUIRE X509".to_string(),
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT, SUPER ON *.* TO 'tls_user'@'127.0.0.1'"
            .to_string(),
        format!("GRANT ALL ON `{}`.* TO 'tls_user'@'127.0.0.1'", dbs.m1.name),
        format!("GRANT ALL ON `{}`.* TO 'tls_user'@'127.0.0.1'", dbs.m2.name),
    ] {
        root.query_drop(statement).await.unwrap();
    }
    let mut m1 = mage_migrate::db::connect(Side::M1, &dbs.m1, &[])
        .await
        .unwrap();
    seed_store(&mut m1, &StoreProfile::tiny()).await.unwrap();
    let path = support::write_config("tls", &dbs, None);
    let plain = std::fs::read_to_string(&path).unwrap();
    let attributes = format!(
        "ssl_ca=\"{}\" ssl_cert=\"{}\" ssl_key=\"{}\"",
        p("ca.pem"),
        p("client.pem"),
        p("client.key")
    );
    let config = with_tls(
        &with_tls(&plain, &dbs.m1.name, &attributes),
        &dbs.m2.name,
        &attributes,
    );
    std::fs::write(&path, &config).unwrap();
    let setup = Setup::load(&path).unwrap();
    let data = DataOptions {
        skip_steps: migrate_data::unbuilt_steps(&setup, "data"),
        ..DataOptions::default()
    };
    migrate_data::run(&setup, &data)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (seed, source) in [(1, "deltalog"), (2, "binlog")] {
        let mut w = Workload::new(seed).with_mix(WorkloadMix {
            delete_customer: 0,
            ..WorkloadMix::default()
        });
        w.load_state(&mut m1).await.unwrap();
        w.run(&mut m1, 100).await.unwrap();
        let mut options = DeltaOptions {
            skip_steps: migrate_data::unbuilt_steps(&setup, "delta"),
            once: true,
            ..DeltaOptions::default()
        };
        if source == "binlog" {
            options.binlog = Some(BinlogOptions {
                start: None,
                server_id: 7000 + (std::process::id() % 1000),
                heartbeat: std::time::Duration::from_secs(1),
            });
        }
        let report = migrate_delta::run(&setup, &options, Arc::new(Stop::default()), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert!(report.upserted > 10, "{source}: {report:?}");
        assert_eq!(
            support::diff_group(&dbs, &setup, "delta_map").await,
            Vec::<String>::new(),
            "{source}"
        );
    }
    // The same user without TLS is refused by the server; a CA that did not sign the server's
    // certificate is refused by the tool.
    let config_path = path.display().to_string();
    std::fs::write(&path, config.replace(&attributes, "")).unwrap();
    let (code, _, stderr) = support::cli(&["deltalog", "status", config_path.as_str()]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("Access denied for user 'tls_user'"),
        "{stderr}"
    );
    assert!(!stderr.contains("pw\""), "{stderr}");
    let wrong = format!(
        "ssl_ca=\"{}\" ssl_cert=\"{}\" ssl_key=\"{}\"",
        other.join("ca.pem").display(),
        p("client.pem"),
        p("client.key")
    );
    std::fs::write(&path, config.replace(&attributes, &wrong)).unwrap();
    let (code, _, stderr) = support::cli(&["deltalog", "status", config_path.as_str()]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    // A certificate without its key is a configuration error.
    let half = format!(
        "ssl_ca=\"{}\" ssl_cert=\"{}\"",
        p("ca.pem"),
        p("client.pem")
    );
    std::fs::write(&path, config.replace(&attributes, &half)).unwrap();
    let (code, _, stderr) = support::cli(&["deltalog", "status", config_path.as_str()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("ssl_cert and ssl_key go together"),
        "{stderr}"
    );
}
