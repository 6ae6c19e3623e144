use super::*;

fn with_code(columns: &[(&str, Value)], code: Value) -> Record {
    let mut r = record(columns);
    r.set(ATTRIBUTE_CODE_LOOKUP, code);
    r
}

#[test]
fn set_value_attribute_condition_on_its_attribute_only() {
    let h = SetValueAttributeCondition::new("is_html_allowed_on_front", "1");
    let mut r = with_code(
        &[("attribute_id", text("73")), ("value", text("0"))],
        text("is_html_allowed_on_front"),
    );
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(r.get("value"), Some(&text("1")));
    assert!(!r.contains(ATTRIBUTE_CODE_LOOKUP));
    // Another attribute, an unknown one, another case: unchanged (PHP `==` is exact here).
    for code in [text("name"), Value::NULL, text("IS_HTML_ALLOWED_ON_FRONT")] {
        let mut r = with_code(&[("value", text("0"))], code.clone());
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&text("0")), "{code:?}");
    }
    // Looked up on the M1 record; "null" sets NULL, "NULL" is text.
    let m1 = record(&[(ATTRIBUTE_CODE_LOOKUP, text("frontend_class"))]);
    let null = SetValueAttributeCondition::new("frontend_class", "null");
    let mut r = record(&[("value", text("validate-digits"))]);
    null.handle(&mut r, &m1, "value").unwrap();
    assert_eq!(r.get("value"), Some(&Value::NULL));
    let upper = SetValueAttributeCondition::new("frontend_class", "NULL");
    upper.handle(&mut r, &m1, "value").unwrap();
    assert_eq!(r.get("value"), Some(&text("NULL")));
    // Not looked up: an error naming the query and the column.
    let mut r = record(&[("value", text("0"))]);
    let e = h.handle(&mut r, &Record::new(), "value").unwrap_err();
    assert!(
        e.0.contains("eav_attribute") && e.0.contains(ATTRIBUTE_CODE_LOOKUP),
        "{e}"
    );
}

#[test]
fn convert_eav_value_maps_values_of_its_attribute() {
    let h = ConvertEavValue::new("[0:2;1:1;:3]", "visibility").unwrap();
    let cases = [
        (text("visibility"), text("0"), text("2")),
        (text("visibility"), Value::Int(1), text("1")),
        (text("visibility"), text("4"), text("4")),
        (text("visibility"), Value::NULL, text("3")),
        // utf8_general_ci: case and trailing spaces do not count.
        (text("Visibility "), text("0"), text("2")),
        (text("status"), text("0"), text("0")),
        (Value::NULL, text("0"), text("0")),
    ];
    for (code, value, expected) in cases {
        let mut r = with_code(&[("value", value.clone())], code.clone());
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&expected), "{code:?} {value:?}");
        assert!(!r.contains(ATTRIBUTE_CODE_LOOKUP));
    }
    for bad in ["[]", "[a:b;]", "[a:b:c]"] {
        assert!(ConvertEavValue::new(bad, "x").is_err(), "{bad}");
    }
}

#[test]
fn eav_handlers_are_built_with_their_attribute_code_lookup() {
    for (class, params) in [
        (
            "\\Migration\\Handler\\SetValueAttributeCondition",
            &[("attributeCode", "status"), ("value", "1")][..],
        ),
        (
            "\\Migration\\Handler\\ConvertEavValue",
            &[("map", "[1:2]"), ("attributeCode", "status")][..],
        ),
    ] {
        assert!(build_handler(&spec(class, params)).is_ok(), "{class}");
        let lookup = required_lookup(&spec(class, params));
        assert_eq!(lookup, Some(crate::transform::Lookup::AttributeCode));
        assert_eq!(lookup.map(|l| l.column()), Some(ATTRIBUTE_CODE_LOOKUP));
    }
    let e = build_handler(&spec(
        "\\Migration\\Handler\\ConvertEavValue",
        &[("map", "[1]"), ("attributeCode", "status")],
    ))
    .unwrap_err();
    assert!(e.0.contains("param \"map\" is invalid"), "{e}");
    let e = build_handler(&spec(
        "\\Migration\\Handler\\SetValueAttributeCondition",
        &[("attributeCode", "status")],
    ))
    .unwrap_err();
    assert!(e.0.contains("\"value\" is missing"), "{e}");
}
