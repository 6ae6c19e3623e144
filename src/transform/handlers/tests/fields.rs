use super::*;

#[test]
fn add_prefix_prepends() {
    let h = build("\\Migration\\Handler\\AddPrefix", &[("prefix", "m1_")]);
    assert_eq!(
        run(&*h, text("catalog/product")).unwrap(),
        text("m1_catalog/product")
    );
    assert_eq!(run(&*h, Value::Int(42)).unwrap(), text("m1_42"));
    assert_eq!(run(&*h, Value::NULL).unwrap(), text("m1_"));
    assert_eq!(run(&*h, text("")).unwrap(), text("m1_"));
    let empty = build("\\Migration\\Handler\\AddPrefix", &[("prefix", "")]);
    assert_eq!(run(&*empty, text("x")).unwrap(), text("x"));
    let e = build_handler(&spec("\\Migration\\Handler\\AddPrefix", &[])).unwrap_err();
    assert!(e.0.contains("\"prefix\" is missing"), "{e}");
}

#[test]
fn field_copy_copies_truthy_values() {
    let h = build("\\Migration\\Handler\\FieldCopy", &[("fieldCopy", "title")]);
    let mut r = record(&[("title", text("Home page")), ("meta_title", Value::NULL)]);
    h.handle(&mut r, &Record::new(), "meta_title").unwrap();
    assert_eq!(r.get("meta_title"), Some(&text("Home page")));
    let mut r = record(&[("title", Value::Int(7)), ("meta_title", text("old"))]);
    h.handle(&mut r, &Record::new(), "meta_title").unwrap();
    assert_eq!(r.get("meta_title"), Some(&Value::Int(7)));
    for falsy in [Value::NULL, text(""), text("0"), Value::Int(0)] {
        let mut r = record(&[("title", falsy.clone()), ("meta_title", text("kept"))]);
        h.handle(&mut r, &Record::new(), "meta_title").unwrap();
        assert_eq!(r.get("meta_title"), Some(&text("kept")), "{falsy:?}");
    }
    // "0.0" and " " are truthy to PHP.
    let mut r = record(&[("title", text("0.0")), ("meta_title", text("kept"))]);
    h.handle(&mut r, &Record::new(), "meta_title").unwrap();
    assert_eq!(r.get("meta_title"), Some(&text("0.0")));
    // The copy comes from the record itself, not the opposite one.
    let mut r = record(&[("meta_title", text("kept"))]);
    let opposite = record(&[("title", text("other side"))]);
    h.handle(&mut r, &opposite, "meta_title").unwrap();
    assert_eq!(r.get("meta_title"), Some(&text("kept")));
}

#[test]
fn get_destination_value_takes_the_opposite_value() {
    let h = build("\\Migration\\Handler\\GetDestinationValue", &[]);
    let m1 = record(&[
        ("website_id", text("3")),
        ("code", text("")),
        ("name", Value::NULL),
    ]);
    let mut r = record(&[
        ("website_id", text("1")),
        ("code", text("base")),
        ("name", text("Main")),
    ]);
    for column in ["website_id", "code", "name", "absent"] {
        h.handle(&mut r, &m1, column).unwrap();
    }
    assert_eq!(r.get("website_id"), Some(&text("3")));
    assert_eq!(r.get("code"), Some(&text("")));
    assert_eq!(r.get("name"), Some(&text("Main")));
    assert!(!r.contains("absent"));
    let h = build(
        "\\Migration\\Handler\\GetDestinationValue",
        &[("setNullIfEmpty", "true")],
    );
    let mut r = record(&[("name", text("Main"))]);
    h.handle(&mut r, &m1, "name").unwrap();
    h.handle(&mut r, &m1, "absent").unwrap();
    assert_eq!(r.get("name"), Some(&Value::NULL));
    assert_eq!(r.get("absent"), Some(&Value::NULL));
    // Only the text "true" is true (`=== 'true'`).
    for flag in ["1", "TRUE", "yes", "false"] {
        let h = build(
            "\\Migration\\Handler\\GetDestinationValue",
            &[("setNullIfEmpty", flag)],
        );
        let mut r = record(&[("name", text("Main"))]);
        h.handle(&mut r, &m1, "name").unwrap();
        assert_eq!(r.get("name"), Some(&text("Main")), "{flag}");
    }
}

/// Expected values from PHP 8.2's `crc32()`.
#[test]
fn set_hash_crc32_as_php() {
    let cases: [(&[u8], u32); 8] = [
        (b"", 0),
        (b"a", 3_904_355_907),
        (b"abc", 891_568_578),
        (b"42", 841_265_288),
        (b"sku-001", 3_947_241_812),
        (
            b"The quick brown fox jumped over the lazy dog.",
            2_191_738_434,
        ),
        (b"\xff\x00", 3_539_857_293),
        (b"1234567890", 639_479_525),
    ];
    for (input, expected) in cases {
        assert_eq!(crc32(input), expected, "{input:?}");
    }
    let h = build(
        "\\Migration\\Handler\\SetHash",
        &[("hash", "crc32"), ("baseField", "sku")],
    );
    let m1 = record(&[("sku", text("sku-001")), ("entity_id", Value::Int(42))]);
    let mut r = record(&[("sku_hash", Value::NULL)]);
    h.handle(&mut r, &m1, "sku_hash").unwrap();
    assert_eq!(r.get("sku_hash"), Some(&Value::Int(3_947_241_812)));
    // The base field is read from the opposite record; an Int hashes as its text.
    let by_id = build(
        "\\Migration\\Handler\\SetHash",
        &[("hash", "crc32"), ("baseField", "entity_id")],
    );
    let mut r = record(&[("entity_id", Value::Int(1))]);
    by_id.handle(&mut r, &m1, "hash").unwrap();
    assert_eq!(r.get("hash"), Some(&Value::Int(841_265_288)));
    // NULL or missing: crc32("") = 0.
    let mut r = Record::new();
    h.handle(&mut r, &Record::new(), "sku_hash").unwrap();
    assert_eq!(r.get("sku_hash"), Some(&Value::Int(0)));
}

#[test]
fn set_hash_accepts_only_crc32() {
    for bad in ["md5", "sha1", "sha256", "CRC32", "crc32b", ""] {
        let e = build_handler(&spec(
            "\\Migration\\Handler\\SetHash",
            &[("hash", bad), ("baseField", "sku")],
        ))
        .unwrap_err();
        assert!(
            e.0.contains("param \"hash\" is invalid") && e.0.contains("not supported"),
            "{bad}: {e}"
        );
    }
    let e =
        build_handler(&spec("\\Migration\\Handler\\SetHash", &[("hash", "crc32")])).unwrap_err();
    assert!(e.0.contains("\"baseField\" is missing"), "{e}");
}
