use super::*;

/// Inputs and expected outputs of these tests were made with PHP 8.2's `serialize` and the
/// DMT handlers' own code.
const PAYMENT_ADDITIONAL_INFORMATION: &str = r#"a:4:{s:12:"method_title";s:18:"PayPal Payflow/Pro";s:18:"paypal_fraud_rules";a:2:{i:0;a:2:{s:4:"name";s:9:"AVS Check";s:5:"score";d:0.5;}i:1;a:2:{s:4:"name";s:12:"Max €1.000";s:5:"score";i:1;}}s:15:"cc_avs_response";N;s:14:"is_fraud_check";b:1;}"#;

#[test]
fn serialize_to_json_converts_additional_information() {
    let h = build("\\Migration\\Handler\\SerializeToJson", &[]);
    // A wrong length is broken data: NULL.
    let broken = PAYMENT_ADDITIONAL_INFORMATION.replace("s:18:\"PayPal", "s:17:\"PayPal");
    assert_eq!(run(&*h, text(&broken)).unwrap(), Value::NULL);
    assert_eq!(
        json_of(&run(&*h, text(PAYMENT_ADDITIONAL_INFORMATION)).unwrap()),
        concat!(
            r#"{"method_title":"PayPal Payflow\/Pro","paypal_fraud_rules":[{"name":"AVS Check","score":0.5},"#,
            r#"{"name":"Max \u20ac1.000","score":1}],"cc_avs_response":null,"is_fraud_check":true}"#
        )
    );
    assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
    assert_eq!(json_of(&run(&*h, text("")).unwrap()), "false");
    assert_eq!(
        json_of(&run(&*h, text("a:1:{s:3:\"tax\";d:8.25;}")).unwrap()),
        r#"{"tax":8.25}"#
    );
    // A column the record does not have is left alone.
    let mut r = Record::new();
    h.handle(&mut r, &Record::new(), "v").unwrap();
    assert!(r.is_empty());
}

#[test]
fn serialize_to_json_broken_data_and_json_failures() {
    let strict = build(
        "Migration\\Handler\\SerializeToJson",
        &[("migrateBrokenData", "false")],
    );
    let e = run(&*strict, text("a:1:{i:0;")).unwrap_err();
    assert!(e.0.contains("not valid PHP serialized data"), "{e}");
    // Only the text "true" is true, as in the DMT's constructor.
    let one = build(
        "Migration\\Handler\\SerializeToJson",
        &[("migrateBrokenData", "1")],
    );
    assert!(run(&*one, text("x")).is_err());
    let quiet = build(
        "Migration\\Handler\\SerializeToJson",
        &[("migrateBrokenData", "true"), ("suppressWarning", "true")],
    );
    assert_eq!(run(&*quiet, text("x")).unwrap(), Value::NULL);
    // Latin-1 bytes in a string: PHP's json_encode fails; never an empty value.
    let e = run(&*quiet, Value::Bytes(b"s:4:\"caf\xe9\";".to_vec())).unwrap_err();
    assert!(e.0.contains("UTF-8") && e.0.contains("json_encode"), "{e}");
    assert!(run(&*quiet, text("d:INF;")).is_err());
}

#[test]
fn convert_with_conditions_converts_only_matching_codes() {
    let h = build(
        "\\Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
        &[
            ("conditionalField", "code"),
            (
                "conditionalFieldValuesPattern",
                "/(parameters)|(info_buyRequest)|(attributes)|(bundle_option_ids)|(bundle_selection_ids)|(bundle_selection_attributes)/",
            ),
        ],
    );
    let buy_request = concat!(
        "a:5:{s:4:\"uenc\";s:44:\"aHR0cDovL2V4YW1wbGUuY29tL3RlZS5odG1sP19fX1M=\";s:7:\"product\";s:3:\"905\";",
        "s:15:\"related_product\";s:0:\"\";s:15:\"super_attribute\";a:2:{i:92;s:2:\"20\";i:180;s:2:\"80\";}",
        "s:3:\"qty\";d:2;}"
    );
    let mut r = record(&[
        ("option_id", Value::Int(7)),
        ("item_id", Value::Int(3)),
        ("code", text("info_buyRequest")),
        ("value", text(buy_request)),
    ]);
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(
        json_of(r.get("value").unwrap()),
        r#"{"uenc":"aHR0cDovL2V4YW1wbGUuY29tL3RlZS5odG1sP19fX1M=","product":"905","related_product":"","super_attribute":{"92":"20","180":"80"},"qty":2}"#
    );
    // Another code: unchanged, even when it looks serialized.
    let mut r = record(&[
        ("code", text("product_type")),
        ("value", text("s:1:\"x\";")),
    ]);
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(r.get("value"), Some(&text("s:1:\"x\";")));
    // Broken data: NULL by default.
    let mut r = record(&[("code", text("attributes")), ("value", text("a:1:{"))]);
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(r.get("value"), Some(&Value::NULL));
    // The conditional field must be set.
    let mut r = record(&[("code", Value::NULL), ("value", text("N;"))]);
    let e = h.handle(&mut r, &Record::new(), "value").unwrap_err();
    assert!(e.0.contains("conditional field code"), "{e}");
    // ignoreBrokenData "0" makes broken data an error; "false" does not ((bool)"false").
    let p = "/info_buyRequest/";
    let strict = build(
        "Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
        &[
            ("conditionalField", "code"),
            ("conditionalFieldValuesPattern", p),
            ("ignoreBrokenData", "0"),
        ],
    );
    let mut r = record(&[("code", text("info_buyRequest")), ("value", text("a:1:{"))]);
    assert!(strict.handle(&mut r, &Record::new(), "value").is_err());
    let lenient = build(
        "Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
        &[
            ("conditionalField", "code"),
            ("conditionalFieldValuesPattern", p),
            ("ignoreBrokenData", "false"),
        ],
    );
    let mut r = record(&[("code", text("info_buyRequest")), ("value", text("a:1:{"))]);
    lenient.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(r.get("value"), Some(&Value::NULL));
}

#[test]
fn item_option_converts_custom_option_values() {
    let h = build("\\Migration\\Handler\\SerializeToJson\\ItemOption", &[]);
    let file_option = concat!(
        "a:9:{s:4:\"type\";s:10:\"image/jpeg\";s:5:\"title\";s:9:\"logo.jpeg\";",
        "s:10:\"quote_path\";s:42:\"/media/custom_options/quote/l/o/abc123.jpg\";",
        "s:10:\"order_path\";s:42:\"/media/custom_options/order/l/o/abc123.jpg\";",
        "s:8:\"fullpath\";s:59:\"/var/www/magento/media/custom_options/quote/l/o/abc123.jpeg\";",
        "s:4:\"size\";s:5:\"48213\";s:5:\"width\";i:400;s:6:\"height\";i:300;",
        "s:10:\"secret_key\";s:20:\"a1b2c3d4e5f6a7b8c9d0\";}"
    );
    let mut r = record(&[("code", text("option_12")), ("value", text(file_option))]);
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(
        json_of(r.get("value").unwrap()),
        concat!(
            r#"{"type":"image\/jpeg","title":"logo.jpeg","quote_path":"\/media\/custom_options\/quote\/l\/o\/abc123.jpg","#,
            r#""order_path":"\/media\/custom_options\/order\/l\/o\/abc123.jpg","#,
            r#""fullpath":"\/var\/www\/magento\/media\/custom_options\/quote\/l\/o\/abc123.jpeg","#,
            r#""size":"48213","width":400,"height":300,"secret_key":"a1b2c3d4e5f6a7b8c9d0"}"#
        )
    );
    // A text option's value is plain text: kept.
    for plain in ["Engraving: Happy 40th!", "b:0;", "", "24"] {
        let mut r = record(&[("code", text("option_5")), ("value", text(plain))]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&text(plain)));
    }
    // Not a custom option code: kept, even serialized.
    let mut r = record(&[("code", text("info_buyRequest")), ("value", text("a:0:{}"))]);
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(r.get("value"), Some(&text("a:0:{}")));
    // option_ids is not option_<digits>.
    let mut r = record(&[
        ("code", text("option_ids")),
        ("value", text("s:3:\"1,2\";")),
    ]);
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(r.get("value"), Some(&text("s:3:\"1,2\";")));
    let mut r = record(&[("value", text("N;"))]);
    assert!(h.handle(&mut r, &Record::new(), "value").is_err());
    let mut r = record(&[("code", text("option_1")), ("value", Value::NULL)]);
    h.handle(&mut r, &Record::new(), "value").unwrap();
    assert_eq!(r.get("value"), Some(&Value::NULL));
}

#[test]
fn sales_order_item_converts_product_options() {
    let h = build("\\Migration\\Handler\\SerializeToJson\\SalesOrderItem", &[]);
    // A configurable item with a file custom option, and bundle selection attributes.
    let product_options = r#"a:6:{s:15:"info_buyRequest";a:3:{s:7:"product";s:3:"410";s:15:"super_attribute";a:1:{i:92;s:2:"17";}s:3:"qty";i:1;}s:15:"attributes_info";a:1:{i:0;a:2:{s:5:"label";s:5:"Color";s:5:"value";s:5:"Green";}}s:11:"simple_name";s:22:"Linen Blazer – Green";s:10:"simple_sku";s:9:"wbk002c-G";s:7:"options";a:2:{i:0;a:4:{s:5:"label";s:4:"Logo";s:9:"option_id";s:1:"3";s:11:"option_type";s:4:"file";s:12:"option_value";s:55:"a:2:{s:5:"title";s:8:"logo.png";s:4:"size";s:4:"1024";}";}i:1;a:3:{s:5:"label";s:9:"Engraving";s:11:"option_type";s:5:"field";s:12:"option_value";s:2:"Hi";}}s:27:"bundle_selection_attributes";s:39:"a:2:{s:5:"price";d:19.5;s:3:"qty";i:1;}";}"#;
    let converted = run(&*h, text(product_options)).unwrap();
    assert_eq!(
        json_of(&converted),
        concat!(
            r#"{"info_buyRequest":{"product":"410","super_attribute":{"92":"17"},"qty":1},"#,
            r#""attributes_info":[{"label":"Color","value":"Green"}],"#,
            r#""simple_name":"Linen Blazer \u2013 Green","simple_sku":"wbk002c-G","#,
            r#""options":[{"label":"Logo","option_id":"3","option_type":"file","option_value":"{\"title\":\"logo.png\",\"size\":\"1024\"}"},"#,
            r#"{"label":"Engraving","option_type":"field","option_value":"Hi"}],"#,
            r#""bundle_selection_attributes":"{\"price\":19.5,\"qty\":1}"}"#
        )
    );
    // An empty file value is JSON-encoded as it is.
    let empty = "a:1:{s:7:\"options\";a:1:{i:0;a:2:{s:11:\"option_type\";s:4:\"file\";s:12:\"option_value\";s:0:\"\";}}}";
    assert_eq!(
        json_of(&run(&*h, text(empty)).unwrap()),
        r#"{"options":[{"option_type":"file","option_value":"\"\""}]}"#
    );
    // Broken inner data stops the DMT: an error here.
    let broken_inner = "a:1:{s:27:\"bundle_selection_attributes\";s:3:\"a:1\";}";
    assert!(run(&*h, text(broken_inner)).is_err());
    let missing_value = "a:1:{s:7:\"options\";a:1:{i:0;a:1:{s:11:\"option_type\";s:4:\"file\";}}}";
    assert!(run(&*h, text(missing_value)).is_err());
    // Broken outer data: NULL; an error with ignoreBrokenData "0".
    assert_eq!(run(&*h, text("a:1:{")).unwrap(), Value::NULL);
    let strict = build(
        "Migration\\Handler\\SerializeToJson\\SalesOrderItem",
        &[("ignoreBrokenData", "0")],
    );
    assert!(run(&*strict, text("a:1:{")).is_err());
    assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
    assert_eq!(json_of(&run(&*h, text("s:2:\"hi\";")).unwrap()), r#""hi""#);
}
