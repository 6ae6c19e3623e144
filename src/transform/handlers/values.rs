//! Handlers that compute a column from the record's own values: Convert, SetValue, Encrypt and
//! SetVisibleOnFront.

use std::borrow::Cow;
use std::collections::HashMap;

use mysql_async::Value;

use super::{php_text, text_value};
use crate::transform::php::str_is_truthy;
use crate::transform::{Handler, Record, TransformError};

/// `Migration\Handler\Convert(map, defaultValue = null)`: replaces values by the map
/// `[from:to;from:to]`; an unmapped value becomes `defaultValue` when that is set (and is not
/// `""` or `"0"`, which PHP reads as unset), else stays. NULL is looked up as `""`.
#[derive(Debug, Clone)]
pub struct Convert {
    map: HashMap<Vec<u8>, Vec<u8>>,
    default: Option<Vec<u8>>,
}

/// PHP's `trim()` characters.
fn php_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0b'])
}

/// A map param `[from:to;from:to]` as Convert and ConvertEavValue read it: `rtrim` `]`,
/// `ltrim` `[`, entries split on `;`, each trimmed and exactly one `from:to`; a later entry for
/// the same `from` wins.
pub(super) fn parse_map(map: &str) -> Result<HashMap<Vec<u8>, Vec<u8>>, String> {
    let inner = map.trim_end_matches(']').trim_start_matches('[');
    let mut pairs = HashMap::new();
    for entry in inner.split(';') {
        let parts: Vec<&str> = php_trim(entry).split(':').collect();
        let [from, to] = parts[..] else {
            return Err(format!(
                "\"{entry}\" is not one from:to pair (the DMT's \"Invalid map provided to \
                 convert handler\")"
            ));
        };
        pairs.insert(from.as_bytes().to_vec(), to.as_bytes().to_vec());
    }
    Ok(pairs)
}

impl Convert {
    pub fn new(map: &str, default: Option<&str>) -> Result<Convert, String> {
        Ok(Convert {
            map: parse_map(map)?,
            default: default
                .filter(|d| str_is_truthy(d.as_bytes()))
                .map(|d| d.as_bytes().to_vec()),
        })
    }
}

impl Handler for Convert {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let key = php_text(record.get(field)).unwrap_or(Cow::Borrowed(b""));
        let replacement = self.map.get(key.as_ref()).or(self.default.as_ref());
        if let Some(to) = replacement {
            record.set(field, text_value(to.clone()));
        }
        Ok(())
    }
}

/// A PHP number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    Int(i64),
    Float(f64),
}

/// A PHP 8 numeric string: white space around, a sign, digits with an optional fraction and
/// exponent. None for anything else (PHP 8 warns or throws for those in arithmetic, and the DMT
/// stops).
pub(super) fn php_number(s: &[u8]) -> Option<Number> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c');
    let start = s.iter().position(|b| !is_space(b))?;
    let end = s.iter().rposition(|b| !is_space(b))? + 1;
    let body = std::str::from_utf8(&s[start..end]).ok()?;
    let unsigned = body.strip_prefix(['+', '-']).unwrap_or(body);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part)
        || !frac_part.map_or(true, all_digits)
        || (int_part.is_empty() && frac_part.map_or(true, str::is_empty))
    {
        return None;
    }
    if let Some(exp) = exponent {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if digits.is_empty() || !all_digits(digits) {
            return None;
        }
    }
    if frac_part.is_none() && exponent.is_none() {
        if let Ok(i) = body.trim_start_matches('+').parse::<i64>() {
            return Some(Number::Int(i));
        }
    }
    let normalized = format!(
        "{}{}.{}{}",
        if body.starts_with('-') { "-" } else { "" },
        if int_part.is_empty() { "0" } else { int_part },
        frac_part.filter(|f| !f.is_empty()).unwrap_or("0"),
        exponent.map(|e| format!("e{e}")).unwrap_or_default(),
    );
    normalized.parse().ok().map(Number::Float)
}

fn as_float(n: Number) -> f64 {
    match n {
        Number::Int(i) => i as f64,
        Number::Float(f) => f,
    }
}

#[derive(Debug, Clone)]
enum SetOp {
    Set(Option<Vec<u8>>),
    Add(Number),
    Subtract(Number),
}

/// `Migration\Handler\SetValue(value)`: sets a constant; `NULL` (any case) sets NULL. A value
/// that starts with `+` or `-` adds or subtracts the rest to the current value, so `-1` means
/// "subtract 1", not "set -1", as in the DMT.
#[derive(Debug, Clone)]
pub struct SetValue {
    op: SetOp,
}

impl SetValue {
    pub fn new(value: &str) -> Result<SetValue, String> {
        if value.eq_ignore_ascii_case("NULL") {
            return Ok(SetValue {
                op: SetOp::Set(None),
            });
        }
        let amount = |rest: &str| {
            php_number(rest.as_bytes()).ok_or_else(|| {
                format!(
                    "\"{value}\" adds or subtracts \"{rest}\", which is not a number (a value \
                     starting with + or - is arithmetic in the DMT)"
                )
            })
        };
        let op = if let Some(rest) = value.strip_prefix('+') {
            SetOp::Add(amount(rest)?)
        } else if let Some(rest) = value.strip_prefix('-') {
            SetOp::Subtract(amount(rest)?)
        } else {
            SetOp::Set(Some(value.as_bytes().to_vec()))
        };
        Ok(SetValue { op })
    }
}

impl Handler for SetValue {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let (amount, sign) = match &self.op {
            SetOp::Set(None) => {
                record.set(field, Value::NULL);
                return Ok(());
            }
            SetOp::Set(Some(v)) => {
                record.set(field, text_value(v.clone()));
                return Ok(());
            }
            SetOp::Add(n) => (*n, 1),
            SetOp::Subtract(n) => (*n, -1),
        };
        let current = match record.get(field) {
            None | Some(Value::NULL) => Number::Int(0),
            Some(Value::Int(i)) => Number::Int(*i),
            Some(Value::Float(f)) => Number::Float(f64::from(*f)),
            Some(Value::Double(d)) => Number::Float(*d),
            Some(other) => {
                let text = php_text(Some(other)).unwrap_or_default();
                php_number(&text).ok_or_else(|| {
                    TransformError(format!(
                        "SetValue: cannot add to or subtract from \"{}\", which is not a number",
                        String::from_utf8_lossy(&text)
                    ))
                })?
            }
        };
        let result = match (current, amount) {
            (Number::Int(a), Number::Int(b)) => {
                let exact = if sign > 0 {
                    a.checked_add(b)
                } else {
                    a.checked_sub(b)
                };
                match exact {
                    Some(i) => Number::Int(i),
                    None => Number::Float(a as f64 + sign as f64 * b as f64),
                }
            }
            (a, b) => Number::Float(as_float(a) + f64::from(sign) * as_float(b)),
        };
        record.set(
            field,
            match result {
                Number::Int(i) => Value::Int(i),
                Number::Float(f) => Value::Double(f),
            },
        );
        Ok(())
    }
}

/// `Migration\Handler\Encrypt`: re-encrypts card numbers from the M1 key to the M2 key. Not
/// built yet: NULL, `""` and `"0"` (which the DMT leaves alone) pass, any other value is an
/// error rather than a copy of M1 ciphertext that M2 could not read.
#[derive(Debug, Clone)]
pub struct Encrypt;

impl Handler for Encrypt {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        match php_text(record.get(field)) {
            None => Ok(()),
            Some(v) if !str_is_truthy(&v) => Ok(()),
            Some(_) => Err(TransformError(
                "Encrypt: re-encrypting card data needs the M1 crypt_key and is not available yet"
                    .into(),
            )),
        }
    }
}

/// `Migration\Handler\SalesOrderStatusState\SetVisibleOnFront`: sets `visible_on_front` (that
/// column, whatever field the map names) to 0 for the statuses M1 hid (`pending_payment`
/// state, and `pending_ogone`/`processed_ogone` with their states), else 1.
#[derive(Debug, Clone)]
pub struct SetVisibleOnFront;

impl Handler for SetVisibleOnFront {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        _field: &str,
    ) -> Result<(), TransformError> {
        let status = php_text(record.get("status")).unwrap_or_default();
        let state = php_text(record.get("state")).unwrap_or_default();
        let hidden = matches!(
            (status.as_ref(), state.as_ref()),
            (b"pending_ogone", b"pending_payment")
                | (b"pending_payment", b"pending_payment")
                | (b"processed_ogone", b"processing")
        ) || state.as_ref() == b"pending_payment";
        record.set("visible_on_front", Value::Int(i64::from(!hidden)));
        Ok(())
    }
}
