use super::*;

fn m(pattern: &str, subject: &str) -> bool {
    Pattern::new(pattern)
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .is_match(subject.as_bytes())
}

#[test]
fn the_item_option_pattern_of_the_stock_map() {
    let p = "/(parameters)|(info_buyRequest)|(attributes)|(bundle_option_ids)|(bundle_selection_ids)|(bundle_selection_attributes)/";
    for yes in [
        "info_buyRequest",
        "parameters",
        "attributes",
        "bundle_option_ids",
        "bundle_selection_attributes",
        "selection_qty_attributes",
        "x_parameters_y",
    ] {
        assert!(m(p, yes), "{yes}");
    }
    for no in [
        "option_ids",
        "option_12",
        "product_type",
        "",
        "INFO_BUYREQUEST",
    ] {
        assert!(!m(p, no), "{no}");
    }
    assert!(m(&format!("{p}i"), "INFO_BUYREQUEST"));
}

#[test]
fn pcre_basics() {
    assert!(m("/option_\\d+/", "option_12"));
    assert!(!m("/option_\\d+/", "option_x"));
    assert!(m("/^a.c$/", "abc"));
    assert!(m("/^a.c$/", "abc\n"));
    assert!(!m("/^a.c$/D", "abc\n"));
    assert!(!m("/^a.c$/", "a\nc"));
    assert!(m("/^a.c$/s", "a\nc"));
    assert!(m("/^b$/m", "a\nb\nc"));
    assert!(!m("/^b$/", "a\nb\nc"));
    assert!(m("#^[a-z0-9-_]+$#", "store-code_1"));
    assert!(!m("#^[a-z0-9-_]+$#", "Store"));
    assert!(m("#^[^a-z]+$#", "123-_"));
    assert!(m("{^a{2,3}$}", "aaa"));
    assert!(!m("/^a{2,3}$/", "aaaa"));
    assert!(!m("/^a{2,3}$/", "a"));
    assert!(m("/^a{2,}$/", "aaaaa"));
    assert!(m("/^a{2}$/", "aa"));
    assert!(m("/a{x}/", "a{x}"));
    assert!(m("/^(ab)*?c$/", "ababc"));
    assert!(m("/^(?:ab|cd)+$/", "abcdab"));
    assert!(m("/^(?P<n>x)(?<m>y)$/", "xy"));
    assert!(m("/\\bfoo\\b/", "a foo b"));
    assert!(!m("/\\bfoo\\b/", "afoob"));
    assert!(m("/\\Bfoo/", "afoo"));
    assert!(m("/[[:digit:]]+x/", "12x"));
    assert!(m("/\\x41\\x{42}\\0/", "AB\0"));
    assert!(m("/a\\/b/", "a/b"));
    assert!(m("/ a b # comment\n c /x", "abc"));
    assert!(m("/[\\d.]+/", "1.5"));
    assert!(m("/^\\s\\S\\w\\W$/", " x_-"));
    assert!(m("/^[]a]+$/", "]a"));
    assert!(m("/^[a\\-z]+$/", "-"));
    assert!(m("/^[A-Z]+$/i", "abc"));
    assert!(m("/(a|)+b/", "b"));
    assert!(m("/()*b/", "b"));
    assert!(m("/x*/", ""));
    assert!(!m("/^x/A", "ax"));
    assert!(m("/x/A", "xa"));
    assert!(!m("/x/A", "ax"));
}

#[test]
fn refuses_what_it_cannot_honour() {
    for bad in [
        "",
        "abc",
        "/abc",
        "\\abc\\",
        "/a/u",
        "/a/e",
        "/(a/",
        "/a)/",
        "/(?=a)/",
        "/(?i)a/",
        "/(a)\\1/",
        "/a++/",
        "/*a/",
        "/a**/",
        "/[a/",
        "/[z-a]/",
        "/[\\d-z]/",
        "/a{3,2}/",
        "/a{70000}/",
        "/\\p{L}/",
        "/\\x{100}/",
        "/[[:nope:]]/",
        "/(a{1000}){1000}/",
    ] {
        assert!(Pattern::new(bad).is_err(), "{bad}");
    }
}

#[test]
fn linear_on_pathological_patterns() {
    let p = Pattern::new("/^(a|a)*(a*)*b$/").unwrap();
    let subject = vec![b'a'; 20_000];
    assert!(!p.is_match(&subject));
}
