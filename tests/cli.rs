//! The command line on bad input: one clear line naming file and element, exit code 2, and
//! never a panic.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const CONFIG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<config>
    <steps mode="data">
        <step title="Map Step">
            <integrity>Migration\Step\Map\Integrity</integrity>
            <data>Migration\Step\Map\Data</data>
        </step>
    </steps>
    <steps mode="delta">
        <step title="Map Step">
            <delta>Migration\Step\Map\Delta</delta>
            <volume>Migration\Step\Map\Volume</volume>
        </step>
    </steps>
    <source>
        <database host="127.0.0.1" port="1" name="magento1" user="root" password="s3cret"/>
    </source>
    <destination>
        <database host="127.0.0.1" port="1" name="magento2" user="root"/>
    </destination>
    <options>
        <map_file>etc/map.xml</map_file>
        <delta_document_groups_file>etc/deltalog.xml</delta_document_groups_file>
        <bulk_size>0</bulk_size>
        <source_prefix />
    </options>
</config>
"#;

const MAP: &str = r#"<map>
    <source>
        <document_rules>
            <ignore><document>m2_cl_*</document></ignore>
            <rename><document>sales_flat_order</document><to>sales_order</to></rename>
        </document_rules>
        <field_rules>
            <transform>
                <field>sales_flat_order_payment.method</field>
                <handler class="\Migration\Handler\Convert"><param name="map" value="[a:b]"/></handler>
            </transform>
        </field_rules>
    </source>
    <destination/>
</map>
"#;

const DELTALOG: &str = r#"<groups>
    <group name="delta_map">
        <document key="entity_id">sales_flat_order</document>
    </group>
</groups>
"#;

/// A DMT root with etc/config.xml, etc/map.xml and etc/deltalog.xml, each replaceable.
fn dmt_root(test: &str, config: &str, map: &str, deltalog: &str) -> PathBuf {
    let root = support::scratch_dir(test);
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("config.xml"), config).unwrap();
    std::fs::write(etc.join("map.xml"), map).unwrap();
    std::fs::write(etc.join("deltalog.xml"), deltalog).unwrap();
    etc.join("config.xml")
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], cwd: &Path) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_mage-migrate"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running mage-migrate");
    Outcome {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `migrate:delta` on the given files and returns (exit code, stderr).
fn delta_with(test: &str, config: &str, map: &str, deltalog: &str) -> (i32, String) {
    let path = dmt_root(test, config, map, deltalog);
    let out = run(
        &["migrate:delta", "etc/config.xml"],
        path.parent().unwrap().parent().unwrap(),
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    (out.code, out.stderr)
}

#[test]
fn missing_config_file() {
    let dir = support::scratch_dir("missing_config_file");
    let out = run(&["migrate:delta", "nope/config.xml"], &dir);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "error: nope/config.xml: cannot read the file: no such file\n"
        )
    );
}

#[test]
fn unreadable_config_file() {
    // A directory cannot be read as a file (and root may read any file, so this is the
    // unreadable case that holds for every user).
    let dir = support::scratch_dir("unreadable_config_file");
    std::fs::create_dir_all(dir.join("config.xml")).unwrap();
    let out = run(&["deltalog", "status", "config.xml"], &dir);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("error: config.xml: cannot read the file: "),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn malformed_xml_names_line_and_column() {
    let broken = CONFIG.replace(
        "</step>\n    </steps>\n    <steps mode=\"delta\">",
        "</stepp>\n    </steps>\n    <steps mode=\"delta\">",
    );
    let (code, err) = delta_with("malformed_xml", &broken, MAP, DELTALOG);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: etc/config.xml:7:9: malformed XML: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn malformed_map_xml() {
    let (code, err) = delta_with(
        "malformed_map",
        CONFIG,
        "<map>\n  <source>\n</map>\n",
        DELTALOG,
    );
    assert_eq!(code, 2);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("etc/map.xml:3:"), "{err}");
    assert!(err.contains("malformed XML"), "{err}");
}

#[test]
fn deltalog_document_without_key() {
    let deltalog = DELTALOG.replace(" key=\"entity_id\"", "");
    let (code, err) = delta_with("deltalog_without_key", CONFIG, MAP, &deltalog);
    assert_eq!(
        (code, err.as_str()),
        (2, "error: etc/deltalog.xml:3:9: <document>: sales_flat_order in group \"delta_map\" has no key attribute (write key=\"entity_id\", or key=\"a,b\" for a composite key)\n")
    );
}

#[test]
fn unknown_handler_class() {
    let map = MAP.replace(
        "\\Migration\\Handler\\Convert",
        "\\Vendor\\Handler\\Frobnicate",
    );
    let (code, err) = delta_with("unknown_handler", CONFIG, &map, DELTALOG);
    assert_eq!(
        (code, err.as_str()),
        (2, "error: etc/map.xml:10:17: <handler>: unknown handler class Vendor\\Handler\\Frobnicate; mage-migrate knows the DMT's own Migration\\Handler\\* classes\n")
    );
}

#[test]
fn unknown_step_class_names_the_known_ones() {
    let config = CONFIG.replace("Migration\\Step\\Map\\Delta", "Vendor\\GreatBlog\\Delta");
    let (code, err) = delta_with("unknown_step", &config, MAP, DELTALOG);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: etc/config.xml:11:13: <delta>: unknown step class Vendor\\GreatBlog\\Delta; known delta classes: Migration\\Step\\Customer\\Delta, "),
        "{err}"
    );
    assert!(err.trim_end().ends_with("(step \"Map Step\")"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn missing_required_attribute() {
    let config = CONFIG.replace(
        "host=\"127.0.0.1\" port=\"1\" name=\"magento2\"",
        "port=\"1\" name=\"magento2\"",
    );
    let (code, err) = delta_with("missing_attribute", &config, MAP, DELTALOG);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: etc/config.xml:19:9: <database>: required attribute host is missing\n"
        )
    );
}

#[test]
fn step_without_title() {
    let config = CONFIG.replacen("<step title=\"Map Step\">", "<step>", 1);
    let (code, err) = delta_with("step_without_title", &config, MAP, DELTALOG);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: etc/config.xml:4:9: <step>: required attribute title is missing\n"
        )
    );
}

#[test]
fn map_file_not_found_says_where_it_looked() {
    let config = CONFIG.replace("etc/map.xml", "etc/missing-map.xml");
    let (code, err) = delta_with("map_not_found", &config, MAP, DELTALOG);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: etc/config.xml:22:9: <map_file>: file etc/missing-map.xml not found in the current directory, beside config.xml, or under the DMT root "),
        "{err}"
    );
}

#[test]
fn bad_bulk_size() {
    let config = CONFIG.replace("<bulk_size>0</bulk_size>", "<bulk_size>lots</bulk_size>");
    let (code, err) = delta_with("bad_bulk_size", &config, MAP, DELTALOG);
    assert_eq!(
        (code, err.as_str()),
        (2, "error: etc/config.xml:24:9: <bulk_size>: \"lots\" is not a row count: use 0 (automatic) or a positive number\n")
    );
}

#[test]
fn files_resolve_beside_config_xml_from_any_directory() {
    let path = dmt_root("resolve_anywhere", CONFIG, MAP, DELTALOG);
    let elsewhere = support::scratch_dir("resolve_anywhere_cwd");
    let out = run(&["verify", path.to_str().unwrap()], &elsewhere);
    // The files were all found and read: what is left is the unreachable database.
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error: M1 (source) root@127.0.0.1:1/magento1: connect: "),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unreadable_tls_file_is_named_before_connecting() {
    let config = CONFIG.replace(
        "user=\"root\" password=\"s3cret\"/>",
        "user=\"root\" password=\"s3cret\" ssl_ca=\"/nonexistent/ca.pem\"/>",
    );
    let path = dmt_root("tls_file", &config, MAP, DELTALOG);
    let root = path.parent().unwrap().parent().unwrap();
    let out = run(&["verify", "etc/config.xml"], root);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: M1 (source): ssl_ca /nonexistent/ca.pem cannot be read: No such file or directory (os error 2)\n"
    );
}

#[test]
fn unreachable_database_exits_3_naming_it_without_the_password() {
    let path = dmt_root("unreachable", CONFIG, MAP, DELTALOG);
    let root = path.parent().unwrap().parent().unwrap();
    let out = run(&["deltalog", "status", "etc/config.xml"], root);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error: M1 (source) root@127.0.0.1:1/magento1: connect: "),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(!out.stderr.contains("s3cret"));
}

#[test]
fn passwords_never_reach_the_output() {
    let config = CONFIG.replace("<bulk_size>0</bulk_size>", "<bulk_size>-1</bulk_size>");
    let (_, err) = delta_with("password_hidden", &config, MAP, DELTALOG);
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn every_command_has_help() {
    let dir = support::scratch_dir("help");
    for args in [
        vec!["migrate:data", "--help"],
        vec!["migrate:delta", "--help"],
        vec!["deltalog", "install", "--help"],
        vec!["deltalog", "status", "--help"],
        vec!["deltalog", "remove", "--help"],
        vec!["precheck", "--help"],
        vec!["verify", "--help"],
        vec!["bench", "--help"],
        vec!["demo", "--help"],
    ] {
        let out = run(&args, &dir);
        assert_eq!(out.code, 0, "{args:?}");
        assert!(
            out.stdout.contains("Usage: mage-migrate"),
            "{args:?}: {}",
            out.stdout
        );
    }
    let out = run(&["--help"], &dir);
    assert!(out.stdout.contains("migrate:delta"));
    assert!(out.stdout.contains("Exit codes: 0 done"));
}

#[test]
fn bad_usage_exits_2() {
    let dir = support::scratch_dir("bad_usage");
    let out = run(&["migrate:delta"], &dir);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("<CONFIG>"), "{}", out.stderr);
    let out = run(&["migrate:delta", "--source=kafka", "c.xml"], &dir);
    assert_eq!(out.code, 2);
}
