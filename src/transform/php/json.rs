//! PHP's `json_encode()` with default flags, byte for byte what PHP 7.4/8.x prints:
//!
//! - `/` is written `\/`, every non-ASCII character `\uXXXX` (lowercase hex, surrogate pairs above
//!   U+FFFF), control characters `\b \f \n \r \t` or `\u00XX`;
//! - an array whose keys are 0..n-1 in order is a JSON list, any other array a JSON object (int
//!   keys written as strings); an object is always a JSON object of its public properties;
//! - floats as PHP prints them with `serialize_precision = -1`: the shortest digits that read back
//!   to the same double, `1.0` as `1`, `1e17` as `1.0e+17`, `0.00001` as `1.0e-5`.
//!
//! Where PHP's `json_encode` returns `false` (a string that is not UTF-8, INF or NAN, nesting
//! deeper than 512, a value that contains itself) [`json_encode`] returns a [`JsonError`].

use std::fmt::{self, Write as _};

use super::float::php_double;
use super::{ClassKind, PhpValue};

/// `json_encode`'s default `$depth`: more nested arrays or objects make it fail.
pub const JSON_MAX_DEPTH: usize = 512;

/// Why `json_encode` would return `false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// A string (value or key) is not valid UTF-8; `preview` shows its start.
    InvalidUtf8 { preview: String },
    /// INF or NAN.
    InfOrNan,
    /// Arrays or objects nested deeper than [`JSON_MAX_DEPTH`].
    Depth,
    /// A value that contains itself (through a PHP reference).
    Recursion,
    /// An object of a class that a Magento 2 PHP process would load and restore itself.
    UnsupportedObject { class: String },
    /// More values than this tool builds for one column.
    TooLarge,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::InvalidUtf8 { preview } => write!(
                f,
                "malformed UTF-8 characters, possibly incorrectly encoded, in the string {preview}"
            ),
            JsonError::InfOrNan => f.write_str("Inf and NaN cannot be JSON encoded"),
            JsonError::Depth => write!(
                f,
                "maximum stack depth exceeded (arrays nested deeper than {JSON_MAX_DEPTH})"
            ),
            JsonError::Recursion => f.write_str("recursion detected (a value contains itself)"),
            JsonError::UnsupportedObject { class } => write!(
                f,
                "an object of class {class}, which a Magento 2 process restores with its own \
                 code; its JSON form is not reproduced"
            ),
            JsonError::TooLarge => write!(
                f,
                "too many values after copying references; refusing to expand"
            ),
        }
    }
}

impl std::error::Error for JsonError {}

/// PHP's `json_encode($value)` with default flags and depth.
pub fn json_encode(value: &PhpValue) -> Result<String, JsonError> {
    let mut out = String::new();
    encode(value, &mut out, 0)?;
    Ok(out)
}

fn encode(value: &PhpValue, out: &mut String, depth: usize) -> Result<(), JsonError> {
    match value {
        PhpValue::Null => out.push_str("null"),
        PhpValue::Bool(true) => out.push_str("true"),
        PhpValue::Bool(false) => out.push_str("false"),
        PhpValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        PhpValue::Float(f) => {
            if !f.is_finite() {
                return Err(JsonError::InfOrNan);
            }
            php_double(*f, 'e', out);
        }
        PhpValue::Str(s) => escape(s, out)?,
        PhpValue::Array(array) => {
            if depth + 1 > JSON_MAX_DEPTH {
                return Err(JsonError::Depth);
            }
            if array.is_list() {
                out.push('[');
                for (i, (_, v)) in array.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    encode(v, out, depth + 1)?;
                }
                out.push(']');
            } else {
                out.push('{');
                for (i, (k, v)) in array.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    escape(&k.to_bytes(), out)?;
                    out.push(':');
                    encode(v, out, depth + 1)?;
                }
                out.push('}');
            }
        }
        PhpValue::Object(object) => {
            if depth + 1 > JSON_MAX_DEPTH {
                return Err(JsonError::Depth);
            }
            let mut first = true;
            out.push('{');
            match object.kind() {
                ClassKind::Unsupported => {
                    return Err(JsonError::UnsupportedObject {
                        class: String::from_utf8_lossy(&object.class).into_owned(),
                    })
                }
                ClassKind::Incomplete => {
                    out.push_str("\"__PHP_Incomplete_Class_Name\":");
                    escape(&object.class, out)?;
                    first = false;
                }
                ClassKind::Plain => {}
            }
            for (name, v) in &object.props {
                // Protected and private properties: mangled names start with NUL.
                if name.first() == Some(&0) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                escape(name, out)?;
                out.push(':');
                encode(v, out, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn escape(s: &[u8], out: &mut String) -> Result<(), JsonError> {
    let text = std::str::from_utf8(s).map_err(|_| JsonError::InvalidUtf8 {
        preview: preview(s),
    })?;
    out.reserve(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    Ok(())
}

/// Up to 40 bytes of a string, printable ASCII as is and other bytes as `\xNN`, quoted.
fn preview(s: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in s.iter().take(40) {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    if s.len() > 40 {
        out.push('…');
    }
    out.push('"');
    out
}
