use super::*;

fn json(input: &str) -> String {
    serialized_to_json(input.as_bytes()).unwrap()
}

fn s(text: &str) -> PhpValue {
    PhpValue::str(text)
}

fn key(text: &str) -> ArrayKey {
    ArrayKey::from_bytes(text.as_bytes())
}

#[test]
fn scalars() {
    assert_eq!(unserialize(b"N;").unwrap(), PhpValue::Null);
    assert_eq!(unserialize(b"b:1;").unwrap(), PhpValue::Bool(true));
    assert_eq!(unserialize(b"b:0;").unwrap(), PhpValue::Bool(false));
    assert_eq!(unserialize(b"i:-42;").unwrap(), PhpValue::Int(-42));
    assert_eq!(unserialize(b"i:+7;").unwrap(), PhpValue::Int(7));
    assert_eq!(
        unserialize(b"i:-9223372036854775808;").unwrap(),
        PhpValue::Int(i64::MIN)
    );
    assert!(unserialize(b"i:9223372036854775808;").is_err());
    assert_eq!(unserialize(b"d:0.5;").unwrap(), PhpValue::Float(0.5));
    assert_eq!(unserialize(b"d:.5;").unwrap(), PhpValue::Float(0.5));
    assert_eq!(unserialize(b"d:5.;").unwrap(), PhpValue::Float(5.0));
    assert_eq!(unserialize(b"d:1.5E+25;").unwrap(), PhpValue::Float(1.5e25));
    assert_eq!(unserialize(b"d:-2e-3;").unwrap(), PhpValue::Float(-0.002));
    assert_eq!(
        unserialize(b"d:0.10000000000000001;").unwrap(),
        PhpValue::Float(0.1)
    );
    assert_eq!(
        unserialize(b"d:INF;").unwrap(),
        PhpValue::Float(f64::INFINITY)
    );
    assert_eq!(
        unserialize(b"d:-INF;").unwrap(),
        PhpValue::Float(f64::NEG_INFINITY)
    );
    assert!(matches!(unserialize(b"d:NAN;").unwrap(), PhpValue::Float(f) if f.is_nan()));
    assert_eq!(
        unserialize(b"d:1e99999999999999999999;").unwrap(),
        PhpValue::Float(f64::INFINITY)
    );
    for bad in [
        "d:;", "d:e5;", "d:1e;", "d:+INF;", "d:1.5x;", "d:..5;", "b:2;", "i:;", "i:1", "N", "x:1;",
    ] {
        assert!(unserialize(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn strings_count_bytes() {
    // "é" is two bytes, "€" three; quotes and semicolons inside are data.
    assert_eq!(
        unserialize("s:5:\"caf\u{e9}\";".as_bytes()).unwrap(),
        s("caf\u{e9}")
    );
    assert_eq!(
        unserialize("s:9:\"a\"b;c\u{20ac}\";\";".as_bytes()),
        Err(UnserializeError::Broken {
            offset: 14,
            len: 17
        })
    );
    assert_eq!(
        unserialize("s:10:\"a\"b;c\u{20ac}\";\";".as_bytes()).unwrap(),
        s("a\"b;c\u{20ac}\";")
    );
    // Too short, too long.
    assert!(unserialize(b"s:4:\"abc\";").is_err());
    assert!(unserialize(b"s:2:\"abc\";").is_err());
    assert!(unserialize(b"s:99999999999999999999999:\"a\";").is_err());
    assert_eq!(unserialize(b"S:3:\"a\\41b\";").unwrap(), s("aAb"));
    assert!(unserialize(b"S:3:\"a\\4xb\";").is_err());
}

#[test]
fn arrays_keys_and_order() {
    let v = unserialize(b"a:3:{i:1;s:1:\"a\";s:1:\"0\";s:1:\"b\";s:3:\"key\";N;}").unwrap();
    let PhpValue::Array(a) = &v else {
        panic!("{v:?}")
    };
    let keys: Vec<_> = a.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, vec![ArrayKey::Int(1), ArrayKey::Int(0), key("key")]);
    assert_eq!(json_encode(&v).unwrap(), r#"{"1":"a","0":"b","key":null}"#);
    // A repeated key keeps its first place and takes the last value.
    assert_eq!(
        json("a:3:{i:0;s:1:\"a\";i:1;s:1:\"b\";i:0;s:1:\"c\";}"),
        r#"["c","b"]"#
    );
    assert_eq!(json("a:0:{}"), "[]");
    // "-0", "05" and "5 " stay string keys.
    assert_eq!(
        json("a:3:{s:2:\"-0\";i:1;s:2:\"05\";i:2;s:2:\"5 \";i:3;}"),
        r#"{"-0":1,"05":2,"5 ":3}"#
    );
    for bad in [
        "a:1:{i:0;N;",
        "a:2:{i:0;N;}",
        "a:1:{N;N;}",
        "a:1:{d:1;N;}",
        "a:1:{a:0:{}N;}",
        "a:-1:{}",
        "a:1:{i:0;N;i:1;N;}",
    ] {
        assert!(unserialize(bad.as_bytes()).is_err(), "{bad}");
    }
    // Many keys (the indexed path), with a repeat at the end.
    let mut input = String::from("a:41:{");
    for i in 0..40 {
        input.push_str(&format!("s:2:\"k{}\";i:{i};", i % 10));
    }
    input.push_str("s:2:\"k3\";s:1:\"x\";}");
    let v = unserialize(input.as_bytes()).unwrap();
    let PhpValue::Array(a) = v else { panic!() };
    assert_eq!(a.len(), 10);
    assert_eq!(a.get_str("k3"), Some(&s("x")));
}

#[test]
fn json_strings_like_php() {
    assert_eq!(
        json_encode(&s("a/b \"q\" \\ \u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}")).unwrap(),
        r#""a\/b \"q\" \\ \b\f\n\r\t\u0001\u001f"#.to_string() + "\u{7f}\""
    );
    assert_eq!(
        json_encode(&s("caf\u{e9} \u{20ac} \u{1f600}")).unwrap(),
        r#""caf\u00e9 \u20ac \ud83d\ude00""#
    );
    assert_eq!(json_encode(&s("")).unwrap(), r#""""#);
    assert!(matches!(
        json_encode(&PhpValue::Str(b"caf\xe9".to_vec())),
        Err(JsonError::InvalidUtf8 { .. })
    ));
    // Surrogates encoded in UTF-8 and overlong forms are invalid, as for PHP.
    assert!(json_encode(&PhpValue::Str(b"\xed\xa0\x80".to_vec())).is_err());
    assert!(json_encode(&PhpValue::Str(b"\xc0\xaf".to_vec())).is_err());
}

#[test]
fn json_floats_like_php() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (100.0, "100"),
        (1e15, "1000000000000000"),
        (1e16, "10000000000000000"),
        (1e17, "1.0e+17"),
        (1.5e300, "1.5e+300"),
        (123456789012345680000.0, "1.2345678901234568e+20"),
        (0.0001, "0.0001"),
        (0.00012, "0.00012"),
        (0.00001, "1.0e-5"),
        (1.25e-7, "1.25e-7"),
        (5e-324, "5.0e-324"),
        (10.0 / 3.0, "3.3333333333333335"),
        (12.5, "12.5"),
        (1234.5678, "1234.5678"),
    ];
    for (value, expected) in cases {
        assert_eq!(
            json_encode(&PhpValue::Float(*value)).unwrap(),
            *expected,
            "{value:e}"
        );
    }
    assert_eq!(
        json_encode(&PhpValue::Float(f64::INFINITY)),
        Err(JsonError::InfOrNan)
    );
    assert_eq!(
        json_encode(&PhpValue::Float(f64::NAN)),
        Err(JsonError::InfOrNan)
    );
    assert_eq!(serialize(&PhpValue::Float(1.5e25)), b"d:1.5E+25;".to_vec());
    assert_eq!(serialize(&PhpValue::Float(0.1)), b"d:0.1;".to_vec());
}

#[test]
fn objects() {
    // An M1 class: PHP's incomplete class, public properties only.
    let input = "O:13:\"Varien_Object\":3:{s:8:\"\0*\0_data\";a:1:{s:1:\"a\";i:1;}s:4:\"name\";s:1:\"x\";s:16:\"\0Varien_Object\0p\";i:2;}";
    assert_eq!(
        json(input),
        r#"{"__PHP_Incomplete_Class_Name":"Varien_Object","name":"x"}"#
    );
    assert_eq!(
        json("O:8:\"stdClass\":2:{s:1:\"a\";i:1;i:5;b:1;}"),
        r#"{"a":1,"5":true}"#
    );
    assert_eq!(json("O:8:\"stdClass\":0:{}"), "{}");
    assert!(matches!(
        serialized_to_json(b"O:8:\"DateTime\":0:{}"),
        Err(UnserializeError::Unencodable(
            JsonError::UnsupportedObject { .. }
        ))
    ));
    assert!(matches!(
        serialized_to_json(b"a:1:{i:0;C:11:\"ArrayObject\":21:{x:i:0;a:0:{};m:a:0:{}}}"),
        Err(UnserializeError::Unencodable(
            JsonError::UnsupportedObject { .. }
        ))
    ));
    assert!(matches!(
        serialized_to_json(b"O:9:\"Foo\\Bar\\X\":0:{}"),
        Err(UnserializeError::Unencodable(
            JsonError::UnsupportedObject { .. }
        ))
    ));
    for bad in [
        "O:0:\"\":0:{}",
        "O:3:\"a-b\":0:{}",
        "O:8:\"stdClass\":-1:{}",
        "O:8:\"stdClass\":1:{N;N;}",
        "C:3:\"Foo\":0:{}",
        "E:7:\"Foo:Bar\";",
    ] {
        assert!(
            matches!(
                unserialize(bad.as_bytes()),
                Err(UnserializeError::Broken { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn references() {
    // `R:2` is the string (slot 2: the array is 1), `r:1` would be the array itself.
    assert_eq!(json("a:2:{i:0;s:1:\"x\";i:1;R:2;}"), r#"["x","x"]"#);
    assert_eq!(json("a:2:{i:0;O:8:\"stdClass\":0:{}i:1;r:2;}"), "[{},{}]");
    assert_eq!(json("a:2:{i:0;O:8:\"stdClass\":0:{}i:1;R:2;}"), "[{},{}]");
    // `r:` must point to an object.
    assert!(matches!(
        unserialize(b"a:2:{i:0;a:1:{i:0;i:5;}i:1;r:2;}"),
        Err(UnserializeError::Broken { .. })
    ));
    assert!(matches!(
        unserialize(b"a:2:{i:0;i:5;i:1;r:2;}"),
        Err(UnserializeError::Broken { .. })
    ));
    assert_eq!(
        serialized_to_json(b"O:8:\"stdClass\":1:{s:1:\"a\";r:1;}"),
        Err(UnserializeError::Unencodable(JsonError::Recursion))
    );
    assert_eq!(
        serialized_to_json(b"a:1:{i:0;R:1;}"),
        Err(UnserializeError::Unencodable(JsonError::Recursion))
    );
    assert!(matches!(
        unserialize(b"a:1:{i:0;R:3;}"),
        Err(UnserializeError::Broken { .. })
    ));
    assert!(matches!(
        unserialize(b"r:1;"),
        Err(UnserializeError::Broken { .. })
    ));
    assert!(matches!(
        unserialize(b"R:1;"),
        Err(UnserializeError::Broken { .. })
    ));
    assert!(matches!(
        unserialize(b"R:0;"),
        Err(UnserializeError::Broken { .. })
    ));
    // A billion laughs is refused, not expanded.
    let mut input = String::from("a:60:{i:0;a:2:{i:0;i:1;i:1;i:1;}");
    for i in 1..60 {
        // Slots: the outer array 1, element 0 is 2 (its ints 3 and 4), element i is i + 4.
        let previous = if i == 1 { 2 } else { i + 3 };
        input.push_str(&format!("i:{i};a:2:{{i:0;R:{previous};i:1;R:{previous};}}"));
    }
    input.push('}');
    assert_eq!(
        unserialize(input.as_bytes()),
        Err(UnserializeError::Unencodable(JsonError::TooLarge))
    );
}

#[test]
fn depth_limits() {
    let nested = |n: usize| {
        let mut s = String::new();
        for _ in 0..n {
            s.push_str("a:1:{i:0;");
        }
        s.push_str("N;");
        for _ in 0..n {
            s.push('}');
        }
        s
    };
    assert!(serialized_to_json(nested(512).as_bytes()).is_ok());
    assert_eq!(
        serialized_to_json(nested(513).as_bytes()),
        Err(UnserializeError::Unencodable(JsonError::Depth))
    );
    assert_eq!(
        unserialize(nested(4096).as_bytes()),
        Err(UnserializeError::Unencodable(JsonError::Depth))
    );
    assert!(matches!(
        unserialize(nested(4097).as_bytes()),
        Err(UnserializeError::Broken { .. })
    ));
    // Deep and cut short: broken, checked without deep recursion.
    let cut = nested(100_000);
    assert!(matches!(
        unserialize(&cut.as_bytes()[..cut.len() - 1]),
        Err(UnserializeError::Broken { .. })
    ));
}

#[test]
fn empty_input_and_trailing_data() {
    assert_eq!(unserialize(b"").unwrap(), PhpValue::Bool(false));
    assert_eq!(json(""), "false");
    assert_eq!(unserialize(b"i:1;garbage").unwrap(), PhpValue::Int(1));
}

#[test]
fn truthiness() {
    for v in [
        PhpValue::Null,
        PhpValue::Bool(false),
        PhpValue::Int(0),
        PhpValue::Float(0.0),
        s(""),
        s("0"),
        PhpValue::Array(PhpArray::new()),
    ] {
        assert!(!v.is_truthy(), "{v:?}");
    }
    for v in [
        PhpValue::Int(-1),
        PhpValue::Float(f64::NAN),
        s("0.0"),
        s(" "),
        PhpValue::Array(PhpArray::list([PhpValue::Null])),
    ] {
        assert!(v.is_truthy(), "{v:?}");
    }
}

#[test]
fn magento_payment_additional_information() {
    // sales_flat_order_payment.additional_information of a PayPal Express order.
    let input = concat!(
        "a:5:{s:15:\"paypal_payer_id\";s:13:\"Q6A8WKX9GGZNS\";",
        "s:18:\"paypal_payer_email\";s:20:\"buyer@example.com.au\";",
        "s:19:\"paypal_payer_status\";s:8:\"verified\";",
        "s:20:\"paypal_fraud_filters\";a:2:{i:0;s:12:\"AVS No Match\";i:1;s:22:\"Maximum Amount/Ceiling\";}",
        "s:23:\"paypal_express_checkout\";a:3:{s:5:\"token\";s:20:\"EC-9AB12345CD678901E\";",
        "s:6:\"amount\";d:129.95;s:4:\"note\";s:14:\"Gr\u{fc}\u{df}e \u{2013} ok\";}}"
    );
    assert_eq!(
        json(input),
        concat!(
            r#"{"paypal_payer_id":"Q6A8WKX9GGZNS","paypal_payer_email":"buyer@example.com.au","#,
            r#""paypal_payer_status":"verified","paypal_fraud_filters":["AVS No Match","Maximum Amount\/Ceiling"],"#,
            r#""paypal_express_checkout":{"token":"EC-9AB12345CD678901E","amount":129.95,"note":"Gr\u00fc\u00dfe \u2013 ok"}}"#
        )
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("NaN never equals itself", |f| !f.is_nan()),
            (-1_000_000i64..1_000_000).prop_map(|i| i as f64 / 100.0),
            Just(f64::INFINITY),
            Just(-0.0),
        ]
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..12),
            ".{0,12}".prop_map(String::into_bytes),
            "[0-9-]{1,4}".prop_map(String::into_bytes),
            Just(b"a\";s:1:\"b\";}".to_vec()),
        ]
    }

    fn php_value(utf8_only: bool) -> impl Strategy<Value = PhpValue> {
        let text = move || -> BoxedStrategy<Vec<u8>> {
            if utf8_only {
                ".{0,12}".prop_map(String::into_bytes).boxed()
            } else {
                bytes().boxed()
            }
        };
        let leaf = prop_oneof![
            Just(PhpValue::Null),
            any::<bool>().prop_map(PhpValue::Bool),
            any::<i64>().prop_map(PhpValue::Int),
            if utf8_only {
                float().prop_filter("finite", |f| f.is_finite()).boxed()
            } else {
                float().boxed()
            }
            .prop_map(PhpValue::Float),
            text().prop_map(PhpValue::Str),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            let key = prop_oneof![
                any::<i64>().prop_map(ArrayKey::Int),
                (0i64..4).prop_map(ArrayKey::Int),
                text().prop_map(|k| ArrayKey::from_bytes(&k)),
            ];
            let prop_name = if utf8_only {
                "[a-z_]{0,6}".prop_map(String::into_bytes).boxed()
            } else {
                bytes().boxed()
            };
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5)
                    .prop_map(|vs| PhpValue::Array(PhpArray::list(vs))),
                proptest::collection::vec((key, inner.clone()), 0..5)
                    .prop_map(|es| PhpValue::Array(PhpArray::from_entries(es))),
                (
                    "[A-Za-z_][A-Za-z0-9_]{0,12}",
                    proptest::collection::vec((prop_name, inner), 0..4)
                )
                    .prop_map(|(class, props)| {
                        // Properties are unique, as in any object PHP serializes.
                        let mut unique: Vec<(Vec<u8>, PhpValue)> = Vec::new();
                        for (n, v) in props {
                            if !unique.iter().any(|(m, _)| *m == n) {
                                unique.push((n, v));
                            }
                        }
                        PhpValue::Object(PhpObject {
                            class: class.into_bytes(),
                            props: unique,
                        })
                    }),
            ]
        })
    }

    /// Objects of classes PHP would load are not JSON-encoded; keep the generated ones
    /// to M1-style names.
    fn has_unsupported(v: &PhpValue) -> bool {
        match v {
            PhpValue::Array(a) => a.iter().any(|(_, v)| has_unsupported(v)),
            PhpValue::Object(o) => {
                matches!(o.kind(), ClassKind::Unsupported)
                    || o.props.iter().any(|(_, v)| has_unsupported(v))
            }
            _ => false,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn unserialize_inverts_serialize(v in php_value(false)) {
            let bytes = serialize(&v);
            prop_assert_eq!(unserialize(&bytes), Ok(v));
        }

        #[test]
        fn json_output_is_json(v in php_value(true)) {
            prop_assume!(!has_unsupported(&v));
            let text = json_encode(&v).expect("UTF-8 strings and finite floats encode");
            prop_assert!(text.is_ascii());
            let parsed: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            prop_assert!(same_json(&v, &parsed), "{:?} vs {}", v, text);
        }

        #[test]
        fn unserialize_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = unserialize(&bytes);
        }

        #[test]
        fn truncated_input_never_panics(v in php_value(false), cut in any::<prop::sample::Index>()) {
            let bytes = serialize(&v);
            let cut = cut.index(bytes.len());
            let _ = unserialize(&bytes[..cut]);
        }
    }

    /// The JSON PHP would decode back: strings, numbers, keys.
    fn same_json(v: &PhpValue, j: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (v, j) {
            (PhpValue::Null, J::Null) => true,
            (PhpValue::Bool(a), J::Bool(b)) => a == b,
            (PhpValue::Int(a), J::Number(n)) => n.as_i64() == Some(*a),
            (PhpValue::Float(a), J::Number(n)) => n.as_f64() == Some(*a),
            (PhpValue::Str(a), J::String(b)) => a == b.as_bytes(),
            (PhpValue::Array(a), J::Array(b)) => {
                a.is_list()
                    && a.len() == b.len()
                    && a.iter().zip(b).all(|((_, x), y)| same_json(x, y))
            }
            (PhpValue::Array(a), J::Object(b)) => {
                !a.is_list()
                    && a.len() == b.len()
                    && a.iter().all(|(k, x)| {
                        let k = String::from_utf8(k.to_bytes()).unwrap();
                        b.get(&k).is_some_and(|y| same_json(x, y))
                    })
            }
            (PhpValue::Object(o), J::Object(b)) => {
                let public: Vec<_> = o
                    .props
                    .iter()
                    .filter(|(n, _)| n.first() != Some(&0))
                    .collect();
                let extra = usize::from(matches!(o.kind(), ClassKind::Incomplete));
                public.len() + extra == b.len()
                    && public.iter().all(|(n, x)| {
                        b.get(std::str::from_utf8(n).unwrap())
                            .is_some_and(|y| same_json(x, y))
                    })
            }
            _ => false,
        }
    }
}
