//! PHP's `serialize()`: the text `unserialize` reads back as the same value.

use super::float::php_double;
use super::{ArrayKey, PhpValue};

/// PHP's `serialize($value)`.
pub fn serialize(value: &PhpValue) -> Vec<u8> {
    let mut out = Vec::new();
    serialize_into(value, &mut out);
    out
}

fn serialize_str(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("s:{}:\"", s.len()).as_bytes());
    out.extend_from_slice(s);
    out.extend_from_slice(b"\";");
}

fn serialize_into(value: &PhpValue, out: &mut Vec<u8>) {
    match value {
        PhpValue::Null => out.extend_from_slice(b"N;"),
        PhpValue::Bool(b) => out.extend_from_slice(if *b { b"b:1;" } else { b"b:0;" }),
        PhpValue::Int(i) => out.extend_from_slice(format!("i:{i};").as_bytes()),
        PhpValue::Float(f) => {
            let mut text = String::from("d:");
            if f.is_nan() {
                text.push_str("NAN");
            } else if f.is_infinite() {
                text.push_str(if *f > 0.0 { "INF" } else { "-INF" });
            } else {
                php_double(*f, 'E', &mut text);
            }
            text.push(';');
            out.extend_from_slice(text.as_bytes());
        }
        PhpValue::Str(s) => serialize_str(s, out),
        PhpValue::Array(array) => {
            out.extend_from_slice(format!("a:{}:{{", array.len()).as_bytes());
            for (k, v) in array.iter() {
                match k {
                    ArrayKey::Int(i) => out.extend_from_slice(format!("i:{i};").as_bytes()),
                    ArrayKey::Str(s) => serialize_str(s, out),
                }
                serialize_into(v, out);
            }
            out.push(b'}');
        }
        PhpValue::Object(object) => {
            out.extend_from_slice(format!("O:{}:\"", object.class.len()).as_bytes());
            out.extend_from_slice(&object.class);
            out.extend_from_slice(format!("\":{}:{{", object.props.len()).as_bytes());
            for (name, v) in &object.props {
                serialize_str(name, out);
                serialize_into(v, out);
            }
            out.push(b'}');
        }
    }
}
