//! PHP `serialize()` strings, as Magento 1 writes them into its tables.

/// A PHP value for [`php_serialize`].
pub enum Php<'a> {
    Str(&'a str),
    Int(i64),
    Map(Vec<(&'a str, Php<'a>)>),
}

/// PHP `serialize()` of a value: string lengths count bytes, as PHP does. M1 keeps
/// `product_options`, buy requests and payment details like this; the DMT converts them to JSON.
pub fn php_serialize(v: &Php<'_>) -> String {
    let mut out = String::new();
    php_into(&mut out, v);
    out
}

fn php_into(out: &mut String, v: &Php<'_>) {
    match v {
        Php::Str(s) => {
            out.push_str(&format!("s:{}:\"", s.len()));
            out.push_str(s);
            out.push_str("\";");
        }
        Php::Int(i) => out.push_str(&format!("i:{i};")),
        Php::Map(entries) => {
            out.push_str(&format!("a:{}:{{", entries.len()));
            for (k, val) in entries {
                php_into(out, &Php::Str(k));
                php_into(out, val);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_serialize_counts_bytes() {
        let v = Php::Map(vec![("name", Php::Str("Zoë")), ("qty", Php::Int(2))]);
        assert_eq!(
            php_serialize(&v),
            "a:2:{s:4:\"name\";s:4:\"Zoë\";s:3:\"qty\";i:2;}"
        );
    }
}
