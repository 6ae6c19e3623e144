use super::*;

const TZ: &str = "\\Migration\\Handler\\Timezone";

fn tz(offset: &str) -> Box<dyn Handler> {
    build(TZ, &[("offset", offset)])
}

/// Expected values from PHP 8.2, UTC: `(new DateTime($v))->modify("$offset hour")
/// ->format('Y-m-d H:i:s')`, as the DMT runs it.
#[test]
fn timezone_shifts_datetimes_as_php() {
    let cases = [
        ("2024-03-10 01:30:00", "+2", "2024-03-10 03:30:00"),
        ("2024-03-31 01:30:00", "+1", "2024-03-31 02:30:00"),
        ("2024-12-31 23:15:00.250000", "+1", "2025-01-01 00:15:00"),
        ("2024-02-29 23:59:59", "2", "2024-03-01 01:59:59"),
        ("2024-02-29 00:00:01", "-2", "2024-02-28 22:00:01"),
        ("2024-00-10 10:00:00", "+2", "2023-12-10 12:00:00"),
        ("2024-02-00 10:00:00", "-2", "2024-01-31 08:00:00"),
        ("2024-02-30 23:00:00", "+2", "2024-03-02 01:00:00"),
        ("0000-01-01 00:30:00", "-2", "-0001-12-31 22:30:00"),
        ("9999-12-31 23:00:00", "+2", "10000-01-01 01:00:00"),
        ("1970-01-01 00:00:00", "-14", "1969-12-31 10:00:00"),
        ("2000-02-28 22:00:00", "+12", "2000-02-29 10:00:00"),
        ("1900-02-28 22:00:00", "+12", "1900-03-01 10:00:00"),
        ("2024-01-01 10:00:00.5", "+0", "2024-01-01 10:00:00"),
        ("2024-01-01 10:00:00", "-20", "2023-12-31 14:00:00"),
        ("2023-03-01 05:00:00", "-6", "2023-02-28 23:00:00"),
        ("2024-01-01 10:00:00", "-0", "2024-01-01 10:00:00"),
        ("1600-02-29 23:00:00", "+1", "1600-03-01 00:00:00"),
        ("2024-01-31 00:00:00", "-0001", "2024-01-30 23:00:00"),
    ];
    for (value, offset, expected) in cases {
        assert_eq!(
            run(&*tz(offset), text(value)).unwrap(),
            text(expected),
            "{value} {offset}"
        );
    }
}

#[test]
fn timezone_shifts_binary_protocol_dates() {
    let h = tz("-3");
    assert_eq!(
        run(&*h, Value::Date(2024, 1, 1, 1, 0, 0, 500_000)).unwrap(),
        text("2023-12-31 22:00:00")
    );
    assert_eq!(
        run(&*h, Value::Date(2024, 3, 1, 2, 59, 59, 0)).unwrap(),
        text("2024-02-29 23:59:59")
    );
    // The zero date stays as it is, as text or binary.
    for zero in [
        Value::Date(0, 0, 0, 0, 0, 0, 0),
        text("0000-00-00 00:00:00"),
    ] {
        assert_eq!(run(&*h, zero.clone()).unwrap(), zero);
    }
}

/// Expected values from PHP 8.2: `setTimestamp($v)`, `modify`, `getTimestamp()`.
#[test]
fn timezone_shifts_unix_times() {
    let cases: [(i64, &str, i64); 5] = [
        (1_700_000_000, "-3", 1_699_989_200),
        (1, "+12", 43_201),
        (-86_400, "+1", -82_800),
        (4_294_967_295, "+2", 4_294_974_495),
        (1, "-14", -50_399),
    ];
    for (value, offset, expected) in cases {
        let h = tz(offset);
        assert_eq!(run(&*h, Value::Int(value)).unwrap(), Value::Int(expected));
        assert_eq!(
            run(&*h, text(&value.to_string())).unwrap(),
            Value::Int(expected)
        );
    }
    assert_eq!(
        run(&*tz("+1"), Value::UInt(1_700_000_000)).unwrap(),
        Value::Int(1_700_003_600)
    );
    assert!(run(&*tz("+1"), Value::Int(i64::MAX)).is_err());
}

#[test]
fn timezone_leaves_falsy_values_and_offsets() {
    let h = tz("+5");
    for v in [
        Value::NULL,
        text(""),
        text("0"),
        Value::Int(0),
        Value::UInt(0),
    ] {
        assert_eq!(run(&*h, v.clone()).unwrap(), v);
    }
    for offset in ["", "0"] {
        let h = tz(offset);
        let v = text("2024-01-01 10:00:00.5");
        assert_eq!(run(&*h, v.clone()).unwrap(), v);
        assert_eq!(run(&*h, Value::Int(7)).unwrap(), Value::Int(7));
    }
    // A record without the column is left without it.
    let mut r = Record::new();
    h.handle(&mut r, &Record::new(), "created_at").unwrap();
    assert!(r.is_empty());
}

#[test]
fn timezone_refuses_other_types() {
    let h = tz("+1");
    for v in [
        text("2024-01-01"),
        text("10:00:00"),
        text("yesterday"),
        text("2024-13-01 00:00:00"),
        text("2024-02-32 00:00:00"),
        text("2024-01-01 24:00:00"),
        text("2024-01-01T10:00:00"),
        Value::Double(1.5),
        Value::Float(0.0),
        Value::Time(false, 0, 1, 0, 0, 0),
    ] {
        assert!(run(&*h, v.clone()).is_err(), "{v:?}");
    }
}

#[test]
fn timezone_offsets_as_the_dmt_validates_them() {
    for ok in ["+12", "12", "-14", "-15", "-999", "+0", "-0", "+007"] {
        build(TZ, &[("offset", ok)]);
    }
    for bad in [
        "+13", "13", "2.5", "+2h", "abc", "+ 2", " 2", "--2", "+1e1", "+", "-",
    ] {
        let e = build_handler(&spec(TZ, &[("offset", bad)])).unwrap_err();
        assert!(e.0.contains("param \"offset\" is invalid"), "{bad}: {e}");
    }
    let e = build_handler(&spec(TZ, &[])).unwrap_err();
    assert!(e.0.contains("\"offset\" is missing"), "{e}");
}
