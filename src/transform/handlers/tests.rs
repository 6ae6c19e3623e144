use super::*;
use crate::transform::{Record, TransformError};

fn spec(class: &str, params: &[(&str, &str)]) -> HandlerSpec {
    HandlerSpec {
        class: class.to_string(),
        params: params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        line: 1,
        column: 1,
    }
}

fn build(class: &str, params: &[(&str, &str)]) -> Box<dyn Handler> {
    build_handler(&spec(class, params)).unwrap_or_else(|e| panic!("{class}: {e}"))
}

fn record(columns: &[(&str, Value)]) -> Record {
    Record::from_columns(
        columns
            .iter()
            .map(|(c, v)| (c.to_string(), v.clone()))
            .collect(),
    )
}

fn text(s: &str) -> Value {
    Value::Bytes(s.as_bytes().to_vec())
}

/// Runs a handler on one column and returns the column after it.
fn run(handler: &dyn Handler, value: Value) -> Result<Value, TransformError> {
    let mut r = record(&[("v", value)]);
    handler.handle(&mut r, &Record::new(), "v")?;
    Ok(r.get("v").cloned().unwrap_or(Value::NULL))
}

fn json_of(v: &Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("not text: {other:?}"),
    }
}

// One file of tests per file of handlers.
mod eav;
mod fields;
mod ip;
mod lookup;
mod serialized;
mod timezone;
mod values;

#[test]
fn builder_errors_name_class_and_param() {
    let e = build_handler(&spec("\\Migration\\Handler\\Nope", &[])).unwrap_err();
    assert!(
        e.0.contains("unknown handler class \\Migration\\Handler\\Nope"),
        "{e}"
    );
    let e = build_handler(&spec("Migration\\Handler\\Placeholder", &[])).unwrap_err();
    assert_eq!(
        e.0,
        "handler Migration\\Handler\\Placeholder is not available yet in mage-migrate"
    );
    let e = build_handler(&spec("\\Migration\\Handler\\Convert", &[])).unwrap_err();
    assert!(e.0.contains("\"map\" is missing"), "{e}");
    let cwc = "\\Migration\\Handler\\SerializeToJson\\ConvertWithConditions";
    let e = build_handler(&spec(cwc, &[("conditionalField", "code")])).unwrap_err();
    assert!(
        e.0.contains("\"conditionalFieldValuesPattern\" is missing"),
        "{e}"
    );
    let e = build_handler(&spec(
        cwc,
        &[
            ("conditionalField", "code"),
            ("conditionalFieldValuesPattern", "/(a/"),
        ],
    ))
    .unwrap_err();
    assert!(
        e.0.contains("conditionalFieldValuesPattern\" is invalid"),
        "{e}"
    );
    let e = build_handler(&spec(
        cwc,
        &[
            ("conditionalField", ""),
            ("conditionalFieldValuesPattern", "/a/"),
        ],
    ))
    .unwrap_err();
    assert!(e.0.contains("conditionalField\" is invalid"), "{e}");
    // Class names are case-insensitive, the backslash optional; unknown params ignored.
    build("migration\\handler\\serializetojson", &[("nope", "1")]);
}

#[test]
fn every_fixture_handler_builds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/dmt/etc/opensource-to-opensource");
    let mut files: Vec<_> = std::fs::read_dir(root.join("1.9.4.5"))
        .unwrap()
        .chain(std::fs::read_dir(&root).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.contains("<map") && t.contains("<handler"))
        })
        .collect();
    files.sort();
    let mut built = 0;
    for file in files {
        let rules = crate::config::map::MapRules::load(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for side in [
            crate::config::map::Side::Source,
            crate::config::map::Side::Destination,
        ] {
            for (_, spec) in rules.all_handlers(side) {
                build_handler(spec).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                built += 1;
            }
        }
    }
    assert!(built >= 28, "{built}");
}

/// Odd input of every type never panics any handler.
#[test]
fn odd_values_never_panic() {
    let handlers = [
        build("Migration\\Handler\\SerializeToJson", &[]),
        build(
            "Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
            &[
                ("conditionalField", "code"),
                ("conditionalFieldValuesPattern", "/./"),
            ],
        ),
        build("Migration\\Handler\\SerializeToJson\\ItemOption", &[]),
        build("Migration\\Handler\\SerializeToJson\\SalesOrderItem", &[]),
        build("Migration\\Handler\\Convert", &[("map", "[a:b]")]),
        build("Migration\\Handler\\ConvertIp", &[]),
        build("Migration\\Handler\\SetValue", &[("value", "+1")]),
        build("Migration\\Handler\\Encrypt", &[]),
        build("Migration\\Handler\\QuoteMultiAddressStoreId", &[]),
        build(
            "Migration\\Handler\\SalesOrderStatusState\\SetVisibleOnFront",
            &[],
        ),
        build("Migration\\Handler\\StoreGroupCode", &[]),
        build("Migration\\Handler\\AddPrefix", &[("prefix", "x_")]),
        build("Migration\\Handler\\Timezone", &[("offset", "+2")]),
        build("Migration\\Handler\\Timezone", &[("offset", "-99999")]),
        build("Migration\\Handler\\FieldCopy", &[("fieldCopy", "code")]),
        build("Migration\\Handler\\GetDestinationValue", &[]),
        build(
            "Migration\\Handler\\SetHash",
            &[("hash", "crc32"), ("baseField", "v")],
        ),
        Box::new(SetValueAttributeCondition::new("status", "null")),
        Box::new(ConvertEavValue::new("[1:2]", "status").unwrap()),
    ];
    let values = [
        Value::NULL,
        Value::Bytes(vec![]),
        Value::Bytes(vec![0xff, 0xfe, b':', b';', b'{']),
        Value::Bytes(b"a:1:{s:7:\"options\";s:1:\"x\";}".to_vec()),
        Value::Bytes(b"O:3:\"Foo\":0:{}".to_vec()),
        Value::Int(i64::MIN),
        Value::UInt(u64::MAX),
        Value::Float(f32::NAN),
        Value::Double(f64::INFINITY),
        Value::Date(2024, 2, 29, 23, 59, 59, 999_999),
        Value::Date(0, 0, 0, 0, 0, 0, 0),
        Value::Date(u16::MAX, u8::MAX, u8::MAX, 23, 59, 59, u32::MAX),
        Value::Date(
            u16::MAX,
            u8::MAX,
            u8::MAX,
            u8::MAX,
            u8::MAX,
            u8::MAX,
            u32::MAX,
        ),
        Value::Bytes(b"0000-00-00 00:00:00".to_vec()),
        Value::Bytes(b"9999-99-99 99:99:99.9999999".to_vec()),
        Value::Bytes(b"-99999999999999999999999".to_vec()),
        Value::Time(true, 40, 1, 2, 3, 4),
    ];
    for h in &handlers {
        for v in &values {
            for code in [Value::NULL, v.clone()] {
                let mut r = record(&[("v", v.clone()), ("code", code)]);
                let _ = h.handle(&mut r, &Record::new(), "v");
            }
        }
    }
}
