use super::*;
use crate::transform::handlers::values::{php_number, Number};

#[test]
fn convert_maps_payment_methods() {
    let map = "[paypal_direct:payflowpro;paypal_standard:paypal_express]";
    let h = build("\\Migration\\Handler\\Convert", &[("map", map)]);
    assert_eq!(run(&*h, text("paypal_direct")).unwrap(), text("payflowpro"));
    assert_eq!(
        run(&*h, text("paypal_standard")).unwrap(),
        text("paypal_express")
    );
    assert_eq!(run(&*h, text("checkmo")).unwrap(), text("checkmo"));
    assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
    let with_default = build(
        "\\Migration\\Handler\\Convert",
        &[
            ("map", "[1:active; 0:inactive]"),
            ("defaultValue", "unknown"),
        ],
    );
    assert_eq!(run(&*with_default, Value::Int(1)).unwrap(), text("active"));
    assert_eq!(run(&*with_default, text("0")).unwrap(), text("inactive"));
    assert_eq!(run(&*with_default, text("7")).unwrap(), text("unknown"));
    assert_eq!(run(&*with_default, Value::NULL).unwrap(), text("unknown"));
    // "0" as default is unset for PHP.
    let zero = build(
        "\\Migration\\Handler\\Convert",
        &[("map", "[a:b]"), ("defaultValue", "0")],
    );
    assert_eq!(run(&*zero, text("c")).unwrap(), text("c"));
    for bad in ["[]", "[a:b;]", "[a:b:c]", "[a]", ""] {
        let e = build_handler(&spec("\\Migration\\Handler\\Convert", &[("map", bad)])).unwrap_err();
        assert!(e.0.contains("param \"map\""), "{bad}: {e}");
    }
}

#[test]
fn set_value_constants_null_and_arithmetic() {
    let zero = build("\\Migration\\Handler\\SetValue", &[("value", "0.0000")]);
    assert_eq!(run(&*zero, text("12.5000")).unwrap(), text("0.0000"));
    assert_eq!(run(&*zero, Value::NULL).unwrap(), text("0.0000"));
    let product = build("\\Migration\\Handler\\SetValue", &[("value", "product")]);
    assert_eq!(run(&*product, Value::NULL).unwrap(), text("product"));
    for null in ["NULL", "null", "Null"] {
        let h = build("\\Migration\\Handler\\SetValue", &[("value", null)]);
        assert_eq!(run(&*h, text("x")).unwrap(), Value::NULL);
    }
    let plus = build("\\Migration\\Handler\\SetValue", &[("value", "+1")]);
    assert_eq!(run(&*plus, text("5")).unwrap(), Value::Int(6));
    assert_eq!(run(&*plus, Value::Int(41)).unwrap(), Value::Int(42));
    assert_eq!(run(&*plus, Value::NULL).unwrap(), Value::Int(1));
    assert_eq!(run(&*plus, text(" 7 ")).unwrap(), Value::Int(8));
    assert_eq!(run(&*plus, text("1.5")).unwrap(), Value::Double(2.5));
    assert_eq!(run(&*plus, text("1e3")).unwrap(), Value::Double(1001.0));
    assert_eq!(
        run(&*plus, Value::Int(i64::MAX)).unwrap(),
        Value::Double(9.223372036854776e18)
    );
    let minus = build("\\Migration\\Handler\\SetValue", &[("value", "-1")]);
    assert_eq!(run(&*minus, Value::Int(3)).unwrap(), Value::Int(2));
    assert_eq!(run(&*minus, text("0")).unwrap(), Value::Int(-1));
    assert_eq!(run(&*minus, Value::UInt(10)).unwrap(), Value::Int(9));
    let half = build("\\Migration\\Handler\\SetValue", &[("value", "-0.5")]);
    assert_eq!(run(&*half, text("2")).unwrap(), Value::Double(1.5));
    for not_a_number in ["abc", "", "5abc", "0x1A"] {
        let e = run(&*plus, text(not_a_number)).unwrap_err();
        assert!(e.0.contains("not a number"), "{not_a_number}: {e}");
    }
    for bad in ["+", "-x", "+1abc"] {
        let e =
            build_handler(&spec("\\Migration\\Handler\\SetValue", &[("value", bad)])).unwrap_err();
        assert!(e.0.contains("param \"value\""), "{bad}: {e}");
    }
    let e = build_handler(&spec("\\Migration\\Handler\\SetValue", &[])).unwrap_err();
    assert_eq!(
        e.0,
        "handler Migration\\Handler\\SetValue: the required param \"value\" is missing"
    );
}

#[test]
fn php_numbers() {
    assert_eq!(php_number(b"5"), Some(Number::Int(5)));
    assert_eq!(php_number(b" +5\n"), Some(Number::Int(5)));
    assert_eq!(php_number(b"-5"), Some(Number::Int(-5)));
    assert_eq!(php_number(b".5"), Some(Number::Float(0.5)));
    assert_eq!(php_number(b"5."), Some(Number::Float(5.0)));
    assert_eq!(php_number(b"1E-2"), Some(Number::Float(0.01)));
    assert_eq!(
        php_number(b"9223372036854775808"),
        Some(Number::Float(9.223372036854776e18))
    );
    for bad in [
        "", " ", ".", "+", "1e", "e1", "1.2.3", "0x1A", "1 2", "--1", "inf", "NaN",
    ] {
        assert_eq!(php_number(bad.as_bytes()), None, "{bad}");
    }
}

#[test]
fn encrypt_refuses_honestly() {
    let h = build("\\Migration\\Handler\\Encrypt", &[]);
    assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
    assert_eq!(run(&*h, text("")).unwrap(), text(""));
    assert_eq!(run(&*h, text("0")).unwrap(), text("0"));
    let e = run(&*h, text("0:2:f0b1c2d3e4f5a6b7:jK8s9dLq1w==")).unwrap_err();
    assert_eq!(
        e.0,
        "Encrypt: re-encrypting card data needs the M1 crypt_key and is not available yet"
    );
}

#[test]
fn set_visible_on_front_hides_pending_payment() {
    let h = build(
        "\\Migration\\Handler\\SalesOrderStatusState\\SetVisibleOnFront",
        &[],
    );
    let cases = [
        ("pending_payment", "pending_payment", 0),
        ("pending_ogone", "pending_payment", 0),
        ("processed_ogone", "processing", 0),
        ("fraud", "pending_payment", 0),
        ("processing", "processing", 1),
        ("pending", "new", 1),
        ("processed_ogone", "complete", 1),
    ];
    for (status, state, visible) in cases {
        let mut r = record(&[
            ("status", text(status)),
            ("state", text(state)),
            ("is_default", Value::Int(1)),
        ]);
        h.handle(&mut r, &Record::new(), "visible_on_front")
            .unwrap();
        assert_eq!(
            r.get("visible_on_front"),
            Some(&Value::Int(visible)),
            "{status}/{state}"
        );
    }
}
