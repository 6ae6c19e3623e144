//! map.xml semantics: renames and moves both ways, wildcards, ambiguity errors, handlers.
use super::*;

fn rules(xml: &str) -> Result<MapRules, ConfigError> {
    let root = super::super::xml::parse(Path::new("map.xml"), xml.as_bytes())?;
    MapRules::from_element(Path::new("map.xml"), &root)
}

const MAP: &str = r#"<map>
  <source>
<document_rules>
  <ignore><document>m2_cl_*</document></ignore>
  <ignore><document>sales_flat_order_grid</document></ignore>
  <rename><document>sales_flat_order</document><to>sales_order</to></rename>
</document_rules>
<field_rules>
  <ignore><field>sales_flat_order.paypal_ipn_customer_notified</field></ignore>
  <ignore><field>sales_flat_order.mailchimp_*</field></ignore>
  <ignore><datatype>sales_flat_order.customer_group_id</datatype></ignore>
  <move><field>sales_flat_order.hidden_tax_amount</field><to>sales_order.discount_tax_compensation_amount</to></move>
  <move><field>sales_flat_order.bad</field><to>sales_order.send_email</to></move>
  <transform>
    <field>sales_flat_order_payment.method</field>
    <handler class="\Migration\Handler\Convert"><param name="map" value="[paypal_direct:payflowpro]"/></handler>
  </transform>
</field_rules>
  </source>
  <destination>
<document_rules><ignore><document>sales_order_grid</document></ignore></document_rules>
<field_rules><ignore><field>sales_order.send_email</field></ignore></field_rules>
  </destination>
</map>"#;

#[test]
fn documents_map_both_ways_and_wildcards_ignore() {
    let m = rules(MAP).unwrap();
    assert_eq!(
        m.document_map("sales_flat_order", Side::Source).as_deref(),
        Some("sales_order")
    );
    assert_eq!(
        m.document_map("sales_order", Side::Destination).as_deref(),
        Some("sales_flat_order")
    );
    assert_eq!(
        m.document_map("review", Side::Source).as_deref(),
        Some("review")
    );
    assert_eq!(m.document_map("m2_cl_sales_flat_order", Side::Source), None);
    assert_eq!(m.document_map("sales_flat_order_grid", Side::Source), None);
    assert_eq!(m.document_map("sales_order_grid", Side::Destination), None);
    assert!(
        !m.is_document_ignored("xm2_cl_a", Side::Source),
        "anchored at the start"
    );
}

#[test]
fn fields_map_ignore_and_report_ambiguity() {
    let m = rules(MAP).unwrap();
    let f = |d, f, s| m.field_map(d, f, s).map_err(|e| e.to_string());
    assert_eq!(
        f("sales_flat_order", "hidden_tax_amount", Side::Source),
        Ok(Some("discount_tax_compensation_amount".into()))
    );
    assert_eq!(
        f(
            "sales_order",
            "discount_tax_compensation_amount",
            Side::Destination
        ),
        Ok(Some("hidden_tax_amount".into()))
    );
    assert_eq!(
        f("sales_flat_order", "grand_total", Side::Source),
        Ok(Some("grand_total".into()))
    );
    assert_eq!(
        f(
            "sales_flat_order",
            "paypal_ipn_customer_notified",
            Side::Source
        ),
        Ok(None)
    );
    assert_eq!(
        f("sales_flat_order", "mailchimp_flag", Side::Source),
        Ok(None)
    );
    assert_eq!(
        f("sales_flat_order", "bad", Side::Source),
        Err("map.xml: Field has ambiguous configuration: sales_order.send_email".into())
    );
    assert_eq!(
        f("sales_flat_order_grid", "entity_id", Side::Source),
        Err("map.xml: Document has ambiguous configuration: sales_flat_order_grid".into())
    );
    assert!(m.is_datatype_ignored("sales_flat_order", "customer_group_id", Side::Source));
}

#[test]
fn handlers_keep_params() {
    let m = rules(MAP).unwrap();
    let h = m.handlers("sales_flat_order_payment", "method", Side::Source);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].class, "Migration\\Handler\\Convert");
    assert_eq!(h[0].param("map"), Some("[paypal_direct:payflowpro]"));
}

#[test]
fn unknown_handler_class_names_the_element() {
    let err = rules("<map><source><field_rules>\n<transform><field>a.b</field>\n<handler class=\"Vendor\\Nope\"/></transform></field_rules></source><destination/></map>")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("map.xml:3:1: <handler>: unknown handler class Vendor\\Nope"),
        "{err}"
    );
}

#[test]
fn malformed_field_reference() {
    let err = rules("<map><source><field_rules><ignore><field>nodot</field></ignore></field_rules></source><destination/></map>")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "map.xml:1:35: <field>: \"nodot\" is not of the form document.field"
    );
}

#[test]
fn missing_destination() {
    let err = rules("<map><source/></map>").unwrap_err().to_string();
    assert_eq!(
        err,
        "map.xml:1:1: <map>: the <destination> element is missing"
    );
}

#[test]
fn wildcards() {
    assert!(wildcard_matches("m2_cl_*", "m2_cl_x"));
    assert!(wildcard_matches("log_*", "log_visitor"));
    assert!(!wildcard_matches("log_*", "catalog_x"));
    assert!(wildcard_matches("sales_*_grid", "sales_flat_order_grid"));
}

/// The DMT's regex as a plain recursive search: the reference the matcher must agree with.
fn reference(p: &[u8], n: &[u8]) -> bool {
    match p.split_first() {
        None => true,
        Some((b'*', rest)) => (0..=n.len()).any(|i| reference(rest, &n[i..])),
        Some((b'.', rest)) => !n.is_empty() && reference(rest, &n[1..]),
        Some((c, rest)) => n.first() == Some(c) && reference(rest, &n[1..]),
    }
}

#[test]
fn wildcards_agree_with_the_recursive_search_on_every_short_pattern_and_name() {
    // Every pattern of up to 5 symbols over {a, b, *, .} against every name of up to 5 of {a, b}.
    fn words(alphabet: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut all = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|w| {
                    alphabet.iter().map(move |c| {
                        let mut w = w.clone();
                        w.push(*c);
                        w
                    })
                })
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }
    let names = words(b"ab", 5);
    for pattern in words(b"ab*.", 5) {
        for name in &names {
            let (p, n) = (
                std::str::from_utf8(&pattern).unwrap(),
                std::str::from_utf8(name).unwrap(),
            );
            assert_eq!(wildcard_matches(p, n), reference(&pattern, name), "{p} {n}");
        }
    }
}

#[test]
fn many_stars_against_a_long_name_end_at_once() {
    // Exponential for the recursive search: C(60, 12) ways to place the stars.
    let name = "a".repeat(60);
    assert!(!wildcard_matches("*a*a*a*a*a*a*a*a*a*a*a*a*b", &name));
    assert!(wildcard_matches("*a*a*a*a*a*a*a*a*a*a*a*a", &name));
}
