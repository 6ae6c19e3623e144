//! Binlog files written by real MySQL (5.0 – 9.6) and MariaDB servers, read offline through the
//! same event handling as the replica stream: only MariaDB can be installed here, so MySQL's
//! formats are covered from files. GTIDs (MySQL, tagged, anonymous, MariaDB), compressed
//! transaction payloads, JSON, MINIMAL row images and metadata, ENUM/SET, CRC32 checksums,
//! commit positions, and truncated or corrupt input that must give a clear error, not a panic.
//!
//! The files are in `tests/data/binlog/` (where they come from: its README). The expected
//! values were checked against `mariadb-binlog --base64-output=decode-rows -vv FILE` where it
//! can read the file, and by reading the event bytes where it cannot (MySQL 8's JSON, partial
//! JSON and compressed events, MySQL 9's tagged GTID).

use std::path::{Path, PathBuf};

use mage_migrate::source::binlog::decode::{Decoded, RowChange, RowKind};
use mage_migrate::source::binlog::file::{decode_file, FileSummary};
use mage_migrate::source::binlog::schema::{ColumnInfo, SchemaCache, TableInfo};
use mage_migrate::source::binlog::{BinlogError, Position};
use mysql_async::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/binlog")
        .join(name)
}

/// Everything `decode_file` gave for a file.
struct Read {
    result: Result<FileSummary, BinlogError>,
    items: Vec<Decoded>,
}

impl Read {
    fn summary(&self) -> &FileSummary {
        match &self.result {
            Ok(summary) => summary,
            Err(e) => panic!("expected the file to decode, got: {e}"),
        }
    }

    fn rows(&self) -> Vec<&RowChange> {
        self.items
            .iter()
            .flat_map(|d| match d {
                Decoded::Rows(rows) => rows.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    fn commits(&self) -> Vec<(u64, &str)> {
        self.items
            .iter()
            .filter_map(|d| match d {
                Decoded::Commit(p) => Some((p.pos, p.gtid.as_str())),
                _ => None,
            })
            .collect()
    }
}

fn read_with(name: &str, schema: &SchemaCache) -> Read {
    let mut items = Vec::new();
    let result = decode_file(&data(name), schema, |d| items.push(d));
    Read { result, items }
}

fn read(name: &str) -> Read {
    read_with(name, &SchemaCache::default())
}

fn int(i: i64) -> Option<Value> {
    Some(Value::Int(i))
}

fn bytes(b: &[u8]) -> Option<Value> {
    Some(Value::Bytes(b.to_vec()))
}

fn names(row: &RowChange) -> Vec<&str> {
    row.table.columns.iter().map(|c| c.name.as_str()).collect()
}

/// The events of a file as the file frames them (offset, type, size), found here
/// independently of the decoder: 4-byte magic, then events whose size is at header byte 9.
fn frames(bytes: &[u8]) -> Vec<(usize, u8, usize)> {
    let mut out = Vec::new();
    let mut offset = 4;
    while offset + 19 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[offset + 9..offset + 13].try_into().unwrap()) as usize;
        if size < 19 || offset + size > bytes.len() {
            break;
        }
        out.push((offset, bytes[offset + 4], size));
        offset += size;
    }
    out
}

/// CRC-32 (ISO-HDLC, the one MySQL's binlog_checksum=CRC32 uses), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Whether the event ends in the CRC32 of the rest. A format description's checksum is taken
/// with LOG_EVENT_BINLOG_IN_USE_F (flag 0x1) clear, and a file its server did not close still
/// has the flag set.
fn crc_matches(bytes: &[u8], (offset, event_type, size): (usize, u8, usize)) -> bool {
    let mut event = bytes[offset..offset + size].to_vec();
    if event_type == 15 {
        event[17] &= !0x01;
    }
    let (body, stored) = event.split_at(size - 4);
    crc32(body) == u32::from_le_bytes(stored.try_into().unwrap())
}

/// How many events carry a CRC32 checksum: none unless the format description names CRC32
/// (algorithm byte 1, just before its own checksum; MySQL 5.6.1–5.6.5 write 0, OFF, and
/// older servers no such byte), else those whose last 4 bytes are the CRC32 of the rest.
fn events_with_checksum(bytes: &[u8]) -> u64 {
    let frames = frames(bytes);
    match frames.first() {
        Some(&(offset, 15, size))
            if bytes[offset + size - 5] == 1 && crc_matches(bytes, (offset, 15, size)) =>
        {
            frames
                .into_iter()
                .filter(|&f| crc_matches(bytes, f))
                .count() as u64
        }
        _ => 0,
    }
}

enum Expect {
    /// Decodes; the format description names this server version.
    Ok(&'static str),
    /// Fails; the message holds this text.
    Err(&'static str),
}

/// Every file in `tests/data/binlog/` and what reading it gives.
const FILES: &[(&str, Expect)] = &[
    ("binlog-invisible-columns.000001", Expect::Ok("8.0.26")),
    (
        "binlog_56_gtid_reserved_word.000001",
        Expect::Ok("5.6.41-debug-log"),
    ),
    ("binlog_savepoint.000001", Expect::Ok("5.1.43-debug-log")),
    ("binlog_transaction.000001", Expect::Ok("5.0.86-debug-log")),
    (
        "binlog_transaction_previous_GTID_no_tag.000001",
        Expect::Ok("8.0.40"),
    ),
    (
        "binlog_transaction_with_GTID.000001",
        Expect::Ok("5.6.24-debug-log"),
    ),
    (
        "binlog_transaction_with_GTID_TAG.000001",
        Expect::Ok("9.6.0"),
    ),
    (
        "binlog_transaction_with_anonymous_GTID.000001",
        Expect::Ok("5.7.6-m16-debug-log"),
    ),
    (
        "binlog_truncated_event.000001",
        Expect::Err("truncated at offset 4: 10 bytes left, an event header needs 19"),
    ),
    (
        "binlog_truncated_prev_gtid_event.000001",
        Expect::Err("truncated at offset 120: 9 bytes left, an event header needs 19"),
    ),
    ("bug11747887-bin.000003", Expect::Ok("5.6.4-m7-debug-log")),
    ("bug16266.000001", Expect::Ok("5.0.16-debug-log")),
    ("bug27213339-bin.000001", Expect::Ok("5.7.22-debug-log")),
    ("bug32407.001", Expect::Ok("5.7.1-m11-log")),
    (
        "bug33029-slave-relay-bin.000001",
        Expect::Ok("5.0.58-debug-log"),
    ),
    // MySQL 5.1.30 with an INCIDENT event of an unknown type: the server says it lost events.
    (
        "bug40482-bin.000001",
        Expect::Err("bug40482-bin.000001:106: an INCIDENT event (unknown type 66)"),
    ),
    (
        "corrupt-relay-bin.000624",
        Expect::Err("corrupt event at offset 91204: event type 2: can't parse"),
    ),
    ("json-opaque.binlog", Expect::Ok("9.0.1")),
    ("json.binlog.000001", Expect::Ok("8.0.22")),
    (
        "mariadb-bin.000001",
        Expect::Ok("10.5.15-MariaDB-1:10.5.15+maria~focal-log"),
    ),
    ("master-bin.000001", Expect::Ok("8.0.2-dmr-debug-log-asan")),
    ("minimal_row_metadata.000001", Expect::Ok("8.0.40")),
    ("mysql-enum-string-set.000001", Expect::Ok("8.0.28")),
    ("mysql_type_bit.000001", Expect::Ok("8.0.26")),
    (
        "rpl_atomic_ddl_rollback_full.000001",
        Expect::Ok("5.7.22-debug-log"),
    ),
    (
        "rpl_atomic_ddl_rollback_table.000001",
        Expect::Ok("5.7.22-debug-log"),
    ),
    (
        "rpl_atomic_ddl_rollback_view.000001",
        Expect::Ok("5.7.22-debug-log"),
    ),
    (
        "rpl_cross_version_default_utf8mb4_collation.000001",
        Expect::Ok("5.7.22-debug-log"),
    ),
    (
        "rpl_unfiltered_hidden_gcol.000001",
        Expect::Ok("8.0.17-debug"),
    ),
    ("slave-relay-bin.000001", Expect::Ok("5.7.25-debug-log")),
    ("time_issue.000001", Expect::Ok("8.0.40")),
    ("transaction_compression.000001", Expect::Ok("8.0.32")),
    (
        "update-full-row.binlog",
        Expect::Ok("5.1.37-ndb-6.2.19-debug-log"),
    ),
    (
        "update-partial-row.binlog",
        Expect::Ok("5.1.37-ndb-6.2.19-debug-log"),
    ),
    ("vector.binlog", Expect::Ok("9.0.1")),
    ("ver_trunk_row_v2.001", Expect::Ok("5.6.4-m7-debug-log")),
    (
        "write-full-row.binlog",
        Expect::Ok("5.1.37-ndb-6.2.19-debug-log"),
    ),
    (
        "write-partial-row.binlog",
        Expect::Ok("5.1.37-ndb-6.2.19-debug-log"),
    ),
];

#[test]
fn every_file_is_in_the_table() {
    let mut on_disk: Vec<String> = std::fs::read_dir(data(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    on_disk.sort();
    let listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, listed);
}

/// No file panics; each decodes (with the server version of its format description, every
/// event counted and every checksum verified) or fails with one line naming the file and why.
#[test]
fn every_file_decodes_or_fails_with_one_clear_line() {
    let mut failures = Vec::new();
    for (name, expect) in FILES {
        let outcome = std::panic::catch_unwind(|| read(name));
        let Ok(got) = outcome else {
            failures.push(format!("{name}: panicked"));
            continue;
        };
        match (expect, &got.result) {
            (Expect::Ok(version), Ok(summary)) => {
                let bytes = std::fs::read(data(name)).unwrap();
                let outer = frames(&bytes).len() as u64;
                // The compressed transaction's 4 inner events count as events too.
                let inner = if *name == "transaction_compression.000001" {
                    4
                } else {
                    0
                };
                if summary.server_version != *version
                    || summary.events != outer + inner
                    || summary.checksums_verified != events_with_checksum(&bytes)
                {
                    failures.push(format!(
                        "{name}: {summary:?}; expected server {version}, {} events, {} checksums",
                        outer + inner,
                        events_with_checksum(&bytes)
                    ));
                }
            }
            (Expect::Err(text), Err(e)) => {
                let line = e.to_string();
                if !line.contains(text) || !line.contains(name) || line.contains('\n') {
                    failures.push(format!("{name}: error `{line}`, expected `{text}`"));
                }
            }
            (Expect::Ok(_), Err(e)) => failures.push(format!("{name}: unexpected error `{e}`")),
            (Expect::Err(text), Ok(s)) => {
                failures.push(format!("{name}: decoded ({s:?}), expected `{text}`"))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn truncated_and_corrupt_files_say_so() {
    for (name, word) in [
        ("binlog_truncated_event.000001", "truncated"),
        ("binlog_truncated_prev_gtid_event.000001", "truncated"),
        ("corrupt-relay-bin.000624", "corrupt"),
    ] {
        let got = read(name);
        let e = got.result.expect_err(name);
        assert!(matches!(e, BinlogError::File { .. }), "{name}: {e:?}");
        let line = e.to_string();
        assert!(line.starts_with("binlog "), "{line}");
        assert!(line.contains(word) && line.contains("offset"), "{line}");
    }
    // The truncated files end before their first full event: nothing came out.
    assert!(read("binlog_truncated_event.000001").items.is_empty());
    assert!(read("binlog_truncated_prev_gtid_event.000001")
        .items
        .is_empty());
    // The relay log is read up to the broken event (mariadb-binlog: `Could not read entry at
    // offset 91204`). Before it: the INSERT … (175, …) and its XID, whose end_log_pos 321066
    // is the master's (a relay log keeps them); then a BEGIN and an INTVAR without a COMMIT.
    let relay = read("corrupt-relay-bin.000624");
    let n = relay.items.len();
    let Decoded::Statement { database, query } = &relay.items[n - 2] else {
        panic!("{:?}", relay.items[n - 2]);
    };
    assert_eq!(database, "RELATE");
    assert!(
        query.ends_with(
            "values (175, '2007-10-17 00:31:09', 428135870, 489255469, 10, 0, 1301, 1485, 'Y')"
        ),
        "{query}"
    );
    assert!(
        matches!(&relay.items[n - 1], Decoded::Commit(p) if p.pos == 321_066),
        "{:?}",
        relay.items[n - 1]
    );
}

#[test]
fn mysql_5_6_gtids_are_uuid_colon_number() {
    // The GTID event at offset 151 holds SID 006c2cf2-b1ea-11e4-9057-8c705a3d3e78, GNO 1;
    // the transactions end at 297 (CREATE), 603 (COMMIT) and 766 (DROP), as mariadb-binlog shows.
    let got = read("binlog_transaction_with_GTID.000001");
    let uuid = "006c2cf2-b1ea-11e4-9057-8c705a3d3e78";
    assert_eq!(
        got.commits(),
        vec![
            (297, format!("{uuid}:1").as_str()),
            (603, format!("{uuid}:2").as_str()),
            (766, format!("{uuid}:3").as_str()),
        ]
    );
    assert!(matches!(
        &got.items[2],
        Decoded::Statement { database, query } if database == "test" && query == "INSERT INTO t1 VALUES (1)"
    ));

    let got = read("binlog_56_gtid_reserved_word.000001");
    let gtids: Vec<String> = (1..=6)
        .map(|n| format!("11111111-1111-1111-1111-111111111111:{n}"))
        .collect();
    let expected: Vec<(u64, &str)> = [308, 458, 781, 1066, 1229, 1399]
        .into_iter()
        .zip(gtids.iter().map(String::as_str))
        .collect();
    assert_eq!(got.commits(), expected);
    // The one row event: INSERT INTO `test`.`GENERATED` SET @1=65.
    let rows = got.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].table.database.as_str(),
            rows[0].table.table.as_str()
        ),
        ("test", "GENERATED")
    );
    assert_eq!(rows[0].kind, RowKind::Insert);
    assert_eq!(rows[0].after, Some(vec![int(65)]));
}

#[test]
fn mysql_9_tagged_gtid_is_uuid_tag_number() {
    // GTID_TAGGED_LOG_EVENT (42) at 245, in the serialization library's varints: SID
    // 55778904-0299-11f1-b1b8-4ef0c4956feb, GNO 3, tag "mytag". Its row: (3, 100, 250.00).
    let got = read("binlog_transaction_with_GTID_TAG.000001");
    let gtid = "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3";
    assert_eq!(got.commits(), vec![(541, gtid)]);
    let rows = got.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].table.database.as_str(),
            rows[0].table.table.as_str()
        ),
        ("test", "orders")
    );
    assert_eq!(
        rows[0].after,
        Some(vec![int(3), int(100), bytes(b"250.00")])
    );
    // The file ends in a Rotate: the next transaction starts in binlog.000005, after this GTID.
    assert_eq!(
        got.summary().committed,
        Position {
            file: "binlog.000005".into(),
            pos: 4,
            gtid: gtid.into()
        }
    );

    // The same server's PREVIOUS_GTIDS alone: no transaction.
    let got = read("binlog_transaction_previous_GTID_no_tag.000001");
    assert!(got.items.is_empty());
    assert_eq!(got.summary().events, 3);
}

#[test]
fn anonymous_gtids_give_an_empty_gtid() {
    let got = read("binlog_transaction_with_anonymous_GTID.000001");
    assert_eq!(got.commits(), vec![(316, ""), (590, "")]);
    assert_eq!(
        got.summary().committed,
        Position::new("master-bin.000002", 4)
    );
}

#[test]
fn mariadb_gtids_are_domain_server_sequence() {
    // mariadb-binlog: `GTID 0-1-1 trans` … Xid end_log_pos 702, `GTID 0-1-2 trans` … 1074.
    let got = read("mariadb-bin.000001");
    assert_eq!(got.commits(), vec![(702, "0-1-1"), (1074, "0-1-2")]);
    let rows = got.rows();
    assert_eq!(rows.len(), 2);
    // FULL metadata: names from the table map. TIMESTAMP is epoch seconds before the schema
    // says it is one; ENUM an index.
    assert_eq!(
        names(rows[1]),
        ["id", "topic", "event_type", "event", "created"]
    );
    assert_eq!(
        rows[1].after,
        Some(vec![
            int(63),
            bytes(b"foo"),
            int(2),
            bytes(br#"{"foo":1}"#),
            bytes(b"1650493195"),
        ])
    );
}

#[test]
fn compressed_transaction_payload_rows_come_out() {
    // TRANSACTION_PAYLOAD (40) at 274..431, zstd: BEGIN, TABLE_MAP test.tb1 (one INT),
    // WRITE_ROWS (1), XID; the inner events have log_pos 0 and no checksum.
    let got = read("transaction_compression.000001");
    let rows = got.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].table.database.as_str(),
            rows[0].table.table.as_str()
        ),
        ("test", "tb1")
    );
    assert_eq!(rows[0].kind, RowKind::Insert);
    assert_eq!(rows[0].after, Some(vec![int(1)]));
    assert_eq!(rows[0].not_direct, None);
    // The transaction ends where the payload event ends; GTIDs are off (anonymous).
    assert_eq!(got.commits(), vec![(431, "")]);
    let summary = got.summary();
    assert_eq!(summary.events, 9, "5 in the file, 4 inside the payload");
    assert_eq!(summary.checksums_verified, 5, "only the file's own events");
    assert_eq!(summary.committed, Position::new("binlog.000043", 4));
}

#[test]
fn json_comes_out_as_json_text() {
    let got = read("json.binlog.000001");
    let rows = got.rows();
    assert_eq!(
        rows.len(),
        18,
        "6 inserts, 6 full updates, 6 partial JSON updates"
    );
    // t(id, json_col JSON, name AS json_col->>'$.name', age AS json_col->'$.age').
    assert_eq!(
        rows[0].after,
        Some(vec![
            int(1),
            bytes(br#"{"age":24,"data":"xxxxxxxxxx","name":"Joe"}"#),
            bytes(b"Joe"),
            int(24),
        ])
    );
    assert_eq!(
        rows[11].after.as_ref().unwrap()[1],
        bytes(br#"{"age":41,"data":"zzzzzzzzzz","name":"Pete"}"#)
    );
    // PARTIAL_JSON updates with a MINIMAL image: the key in the before-image, the changed
    // columns in the after-image, each in its own place; the JSON diff is not a value.
    let partial = rows[12];
    assert_eq!(partial.kind, RowKind::Update);
    assert_eq!(partial.before, Some(vec![int(1), None, None, None]));
    assert_eq!(
        partial.after,
        Some(vec![None, None, bytes(b"Joe"), int(26)])
    );
    assert!(
        partial
            .not_direct
            .as_deref()
            .unwrap()
            .contains("PARTIAL_JSON"),
        "{:?}",
        partial.not_direct
    );

    // MySQL 9: JSON with opaque values (DECIMAL, DATE … inside) cannot be written as text
    // and are fetched instead; plain JSON is text.
    let got = read("json-opaque.binlog");
    let rows = got.rows();
    assert_eq!(rows.len(), 8);
    assert_eq!(names(rows[0]), ["a"]);
    for row in &rows[..6] {
        assert_eq!(row.after, Some(vec![None]));
        assert!(row.not_direct.as_deref().unwrap().contains("opaque"));
    }
    assert_eq!(
        rows[6].after,
        Some(vec![bytes(br#"{"e":[0,1,true,false]}"#)])
    );
    assert_eq!(rows[7].after, Some(vec![bytes(br#"{"e":null}"#)]));
}

/// `mysql.t(f1 CHAR(128), f2 VARCHAR(300), f3 ENUM('var1','variant2','foo'),
/// f4 SET('one','two','three','four'), f5 TEXT)`; mariadb-binlog shows @3=1, @4=b'00000101',
/// then @3=2, @4=b'00001010'.
const ENUM_SET: &str = "mysql-enum-string-set.000001";

#[test]
fn enum_is_an_index_and_set_a_bitmask_without_a_schema() {
    let got = read(ENUM_SET);
    let rows = got.rows();
    assert_eq!(
        rows.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [RowKind::Insert, RowKind::Update, RowKind::Delete]
    );
    assert_eq!(names(rows[0]), ["f1", "f2", "f3", "f4", "f5"]);
    let insert = rows[0].after.as_ref().unwrap();
    assert_eq!(insert[2], int(1));
    assert_eq!(insert[3], bytes(&[0b0000_0101]));
    let update = rows[1].after.as_ref().unwrap();
    assert_eq!(
        update[..4],
        [
            bytes(b"field1"),
            bytes(b"field_2"),
            int(2),
            bytes(&[0b0000_1010])
        ]
    );
    assert_eq!(rows[2].before.as_ref(), rows[1].after.as_ref());
}

#[test]
fn enum_and_set_labels_come_from_the_schema() {
    let column = |name: &str, data_type: &str, labels: &[&str]| ColumnInfo {
        name: name.into(),
        data_type: data_type.into(),
        unsigned: false,
        charset: None,
        labels: labels.iter().map(|l| l.as_bytes().to_vec()).collect(),
    };
    let mut schema = SchemaCache::default();
    schema.insert(TableInfo {
        database: "mysql".into(),
        table: "t".into(),
        columns: vec![
            column("f1", "char", &[]),
            column("f2", "varchar", &[]),
            column("f3", "enum", &["var1", "variant2", "foo"]),
            column("f4", "set", &["one", "two", "three", "four"]),
            column("f5", "text", &[]),
        ],
    });
    let got = read_with(ENUM_SET, &schema);
    let rows = got.rows();
    let insert = rows[0].after.as_ref().unwrap();
    assert_eq!(insert[2..4], [bytes(b"var1"), bytes(b"one,three")]);
    let update = rows[1].after.as_ref().unwrap();
    assert_eq!(update[2..4], [bytes(b"variant2"), bytes(b"two,four")]);
    assert_eq!(
        rows[2].before.as_ref().unwrap()[2..4],
        [bytes(b"variant2"), bytes(b"two,four")]
    );
    assert!(rows.iter().all(|r| r.not_direct.is_none()));
}

#[test]
fn minimal_images_put_each_value_in_its_own_column() {
    // MySQL 8.0.40, binlog_row_metadata=MINIMAL and a MINIMAL image: mariadb-binlog shows
    // @1=1, @3='a', @5=3230202323 (unsigned, from the metadata) of five columns.
    let got = read("minimal_row_metadata.000001");
    let rows = got.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].table.database.as_str(),
            rows[0].table.table.as_str()
        ),
        ("noria", "t1")
    );
    assert_eq!(names(rows[0]), ["@0", "@1", "@2", "@3", "@4"]);
    assert_eq!(
        rows[0].after,
        Some(vec![int(1), None, bytes(b"a"), None, int(3_230_202_323)])
    );
    assert_eq!(
        rows[0].not_direct.as_deref(),
        Some("the after-image lacks @1 (binlog_row_image is not FULL)")
    );
    assert_eq!(got.commits(), vec![(451, "")]);

    // NDB partial rows (MySQL 5.1): UPDATE WHERE @1=4 @3=4 SET @1=4 @3=40; DELETE WHERE @1=2.
    let got = read("update-partial-row.binlog");
    let rows = got.rows();
    let update = rows.iter().find(|r| r.kind == RowKind::Update).unwrap();
    assert_eq!(update.before, Some(vec![int(4), None, int(4)]));
    assert_eq!(update.after, Some(vec![int(4), None, int(40)]));
    let delete = rows.iter().find(|r| r.kind == RowKind::Delete).unwrap();
    assert_eq!(delete.before, Some(vec![int(2), None, None]));
    assert_eq!(names(delete), ["@0", "@1", "@2"]);

    // A hidden generated column (MySQL 8.0.17) is not in the image: @1=1, @3='1'.
    let got = read("rpl_unfiltered_hidden_gcol.000001");
    assert_eq!(got.rows()[0].after, Some(vec![int(1), None, bytes(b"1")]));
}

#[test]
fn negative_time_and_bit_values() {
    // mariadb-binlog: @1='-507:48:27' /* TIME(0) */.
    let got = read("time_issue.000001");
    assert_eq!(
        got.rows()[0].after,
        Some(vec![Some(Value::Time(true, 21, 3, 48, 27, 0))])
    );
    // foo(a BIT(3), b TEXT, c BIT(8)), FULL metadata.
    let got = read("mysql_type_bit.000001");
    let rows = got.rows();
    assert_eq!(names(rows[0]), ["a", "b", "c"]);
    assert_eq!(
        rows[0].after,
        Some(vec![bytes(&[4]), bytes(b"foo"), bytes(&[32])])
    );
}

/// A copy of `name` with one byte changed, in the test's own temp dir.
fn tampered(name: &str, find: &[u8], event_type: u8) -> PathBuf {
    let mut bytes = std::fs::read(data(name)).unwrap();
    let (offset, _, size) = frames(&bytes)
        .into_iter()
        .find(|&(_, t, _)| t == event_type)
        .unwrap();
    let at = offset
        + bytes[offset..offset + size]
            .windows(find.len())
            .position(|w| w == find)
            .unwrap();
    bytes[at] ^= 0x01;
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tampered-{name}"));
    std::fs::write(&path, &bytes).unwrap();
    path
}

#[test]
fn checksums_are_verified_where_the_server_wrote_them() {
    for (name, verified) in [
        // MySQL 5.6.24 and 8.0: binlog_checksum=CRC32, every event.
        ("binlog_transaction_with_GTID.000001", 11),
        (ENUM_SET, 21),
        // MariaDB 10.5, not closed: the format description's flag 0x1 is set, but its
        // checksum was taken without it.
        ("mariadb-bin.000001", 13),
        // MySQL 5.6.4: the format description names OFF; MySQL 5.0/5.1: no checksums at all.
        ("bug11747887-bin.000003", 0),
        ("ver_trunk_row_v2.001", 0),
        ("binlog_transaction.000001", 0),
        ("update-full-row.binlog", 0),
    ] {
        let got = read(name);
        let summary = got.summary();
        assert_eq!(summary.checksums_verified, verified, "{name}");
        if verified > 0 {
            assert_eq!(summary.events, verified, "{name}: every event has one");
        }
    }
}

#[test]
fn a_changed_byte_in_a_row_value_fails_the_crc32_check() {
    // MySQL 8: the first WRITE_ROWS (30) holds f1 = '0123456789…'; '0' becomes '1', which
    // still parses: only the checksum can tell.
    for (name, find, event_type) in [
        (ENUM_SET, &b"0123456789"[..], 30u8),
        ("mariadb-bin.000001", &b"foo"[..], 23u8),
    ] {
        let path = tampered(name, find, event_type);
        let mut rows = 0;
        let result = decode_file(&path, &SchemaCache::default(), |d| {
            if matches!(d, Decoded::Rows(_)) {
                rows += 1;
            }
        });
        let e = result.expect_err(name);
        assert!(
            matches!(e, BinlogError::Checksum { event_type: t, .. } if t == event_type),
            "{name}: {e:?}"
        );
        let line = e.to_string();
        assert!(line.contains("CRC32") && line.contains(name), "{line}");
        assert_eq!(rows, 0, "{name}: no row of the changed event came out");
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn the_committed_position_is_the_end_of_the_last_transaction() {
    // The end_log_pos of each file's last XID, COMMIT or DDL (mariadb-binlog); the files end
    // with a Stop event or nothing after it.
    for (name, pos, gtid) in [
        (
            "binlog_transaction_with_GTID.000001",
            766,
            "006c2cf2-b1ea-11e4-9057-8c705a3d3e78:3",
        ),
        ("mariadb-bin.000001", 1074, "0-1-2"),
        (ENUM_SET, 3331, "93e95066-a2f4-11ec-9b69-9657f0ae95e2:5"),
        (
            "binlog-invisible-columns.000001",
            1787,
            "97c7af02-4c50-11ec-acd8-681842034964:5",
        ),
        ("json.binlog.000001", 4011, ""),
        ("vector.binlog", 3443, ""),
        ("bug27213339-bin.000001", 11102, ""),
        ("binlog_savepoint.000001", 868, ""),
        ("bug16266.000001", 513, ""),
        ("slave-relay-bin.000001", 493, ""),
    ] {
        let got = read(name);
        assert_eq!(
            got.summary().committed,
            Position {
                file: name.into(),
                pos,
                gtid: gtid.into()
            },
            "{name}"
        );
    }
    // Files that end in a Rotate: the last transaction's end, then the next file's start.
    for (name, last, next) in [
        ("minimal_row_metadata.000001", 451, "binlog.000021"),
        ("time_issue.000001", 428, "binlog.000005"),
        ("binlog_transaction.000001", 1626, "master-bin.000002"),
        ("ver_trunk_row_v2.001", 151_678, "master-bin.000002"),
    ] {
        let got = read(name);
        assert_eq!(got.commits().last().map(|c| c.0), Some(last), "{name}");
        assert_eq!(got.summary().committed, Position::new(next, 4), "{name}");
    }
}
