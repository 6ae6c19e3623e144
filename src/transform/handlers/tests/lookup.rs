use super::*;

#[test]
fn quote_multi_address_store_id_reads_its_lookup() {
    let h = build("\\Migration\\Handler\\QuoteMultiAddressStoreId", &[]);
    let column = Lookup::QuoteItemStoreId.column();
    // Filled on the record being handled: taken and removed.
    let mut r = record(&[
        ("address_item_id", Value::Int(9)),
        ("quote_item_id", Value::Int(31)),
        (column, text("3")),
    ]);
    h.handle(&mut r, &Record::new(), "store_id").unwrap();
    assert_eq!(r.get("store_id"), Some(&text("3")));
    assert!(!r.contains(column));
    // Filled on the M1 record (a LEFT JOIN), no quote item: NULL.
    let m1 = record(&[("quote_item_id", Value::Int(32)), (column, Value::NULL)]);
    let mut r = record(&[("quote_item_id", Value::Int(32))]);
    h.handle(&mut r, &m1, "store_id").unwrap();
    assert_eq!(r.get("store_id"), Some(&Value::NULL));
    // Not filled: an error naming the query.
    let mut r = record(&[("quote_item_id", Value::Int(33))]);
    let e = h.handle(&mut r, &Record::new(), "store_id").unwrap_err();
    assert!(
        e.0.contains("sales_flat_quote_item") && e.0.contains(column),
        "{e}"
    );
    assert_eq!(
        required_lookup(&spec("\\Migration\\Handler\\QuoteMultiAddressStoreId", &[])),
        Some(Lookup::QuoteItemStoreId)
    );
    assert_eq!(
        required_lookup(&spec("\\Migration\\Handler\\SetValue", &[])),
        None
    );
}

#[test]
fn store_group_code_from_name() {
    assert_eq!(
        store_group_code(b"Main Website Store"),
        b"main_website_store"
    );
    assert_eq!(
        store_group_code(b"  Main Store\tGroup 2 "),
        b"main_store_group_2_"
    );
    assert_eq!(store_group_code(b"123 Shop-\xc3\xa9t\xc3\xa9"), b"shop-t");
    assert_eq!(store_group_code(b"a\x0bb\x85c"), b"a_bc");
    assert_eq!(store_group_code(b"!!!"), b"");
    let h = build("\\Migration\\Handler\\StoreGroupCode", &[]);
    let column = Lookup::StoreGroupNameTaken.column();
    let mut r = record(&[
        ("group_id", Value::Int(1)),
        ("name", text("Main Website Store")),
        (column, Value::Int(0)),
    ]);
    h.handle(&mut r, &Record::new(), "code").unwrap();
    assert_eq!(r.get("code"), Some(&text("main_website_store")));
    assert!(!r.contains(column));
    let mut r = record(&[
        ("group_id", Value::Int(2)),
        ("name", text("Main Website Store")),
    ]);
    let m1 = record(&[(column, text("1"))]);
    h.handle(&mut r, &m1, "code").unwrap();
    // md5("2") = c81e728d9d4c2f636f067f89cc14862c
    assert_eq!(
        r.get("code"),
        Some(&text("main_website_store-c81e728d9d4c2f636f067f89cc14862c"))
    );
    let mut r = record(&[
        ("group_id", Value::Int(3)),
        ("name", text("**")),
        (column, Value::Int(0)),
    ]);
    h.handle(&mut r, &Record::new(), "code").unwrap();
    assert_eq!(r.get("code"), Some(&text("store_group")));
    let mut r = record(&[("group_id", Value::Int(4)), ("name", text("X"))]);
    assert!(h.handle(&mut r, &Record::new(), "code").is_err());
}
