//! Handlers that act on rows of one EAV attribute, named by its code: SetValueAttributeCondition
//! and ConvertEavValue.
//!
//! Both need the `attribute_code` of the row's `attribute_id`, which only M1's `eav_attribute`
//! knows (the DMT reads it through its source adapter). They read it from the column
//! [`ATTRIBUTE_CODE_LOOKUP`], which the Map step fills with each row
//! ([`Lookup::AttributeCode`]).
//!
//! [`Lookup`]: super::Lookup

use std::borrow::Cow;
use std::collections::HashMap;

use mysql_async::Value;

use super::values::{parse_map, php_number, Number};
use super::{php_text, text_value};
use crate::transform::{Handler, Record, TransformError};

/// The column that carries the looked-up attribute code: on the M1 database,
/// `SELECT attribute_code FROM {prefix}eav_attribute WHERE attribute_id = ?` with the M1 row's
/// `attribute_id`; the code found, or NULL when there is no such attribute (or the row's
/// `attribute_id` is NULL). In the Map step's SELECT on the M1 table `t`:
/// `(SELECT l.attribute_code FROM {prefix}eav_attribute AS l WHERE l.attribute_id =
/// t.attribute_id)`. Read from the record being handled (and removed from it), else from the
/// opposite record; never filled, it is a [`TransformError`].
pub const ATTRIBUTE_CODE_LOOKUP: &str = "@lookup:eav_attribute.attribute_code";

const ATTRIBUTE_CODE_QUERY: &str =
    "SELECT attribute_code FROM eav_attribute WHERE attribute_id = <attribute_id>";

/// Takes the looked-up attribute code: None for NULL.
fn take_attribute_code(
    handler: &str,
    record: &mut Record,
    opposite: &Record,
) -> Result<Option<Vec<u8>>, TransformError> {
    let value = match record.remove(ATTRIBUTE_CODE_LOOKUP) {
        Some(v) => v,
        None => opposite
            .get(ATTRIBUTE_CODE_LOOKUP)
            .cloned()
            .ok_or_else(|| {
                TransformError(format!(
                    "{handler}: the value of `{ATTRIBUTE_CODE_QUERY}` was not looked up before \
                     the handler ran (the caller must fill column `{ATTRIBUTE_CODE_LOOKUP}`)"
                ))
            })?,
    };
    Ok(php_text(Some(&value)).map(Cow::into_owned))
}

/// PHP 8's `$a == $b` for two strings: as numbers when both are numeric, else byte for byte.
fn php_loose_eq(a: &[u8], b: &[u8]) -> bool {
    match (php_number(a), php_number(b)) {
        (Some(Number::Int(x)), Some(Number::Int(y))) => x == y,
        (Some(x), Some(y)) => as_f64(x) == as_f64(y),
        _ => a == b,
    }
}

fn as_f64(n: Number) -> f64 {
    match n {
        Number::Int(i) => i as f64,
        Number::Float(f) => f,
    }
}

/// `Migration\Handler\SetValueAttributeCondition(attributeCode, value)`: on a row whose
/// `attribute_id` is the attribute `attributeCode` (PHP `==` on the code), sets the field to
/// `value`; `null` (lower case only, unlike SetValue) sets NULL. Other rows keep their value.
/// Needs [`ATTRIBUTE_CODE_LOOKUP`]. The DMT reads `eav_attribute` once per run; the lookup
/// reads it per row, so an attribute created during the delta is seen.
#[derive(Debug, Clone)]
pub struct SetValueAttributeCondition {
    attribute_code: Vec<u8>,
    value: Option<Vec<u8>>,
}

impl SetValueAttributeCondition {
    pub fn new(attribute_code: &str, value: &str) -> SetValueAttributeCondition {
        SetValueAttributeCondition {
            attribute_code: attribute_code.as_bytes().to_vec(),
            value: (value != "null").then(|| value.as_bytes().to_vec()),
        }
    }
}

impl Handler for SetValueAttributeCondition {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let code = take_attribute_code("SetValueAttributeCondition", record, opposite)?;
        if code.is_some_and(|c| php_loose_eq(&c, &self.attribute_code)) {
            let value = self.value.clone().map_or(Value::NULL, text_value);
            record.set(field, value);
        }
        Ok(())
    }
}

/// `Migration\Handler\ConvertEavValue(map, attributeCode)`: on a row whose `attribute_id` is an
/// attribute with code `attributeCode`, replaces the value by the map `[from:to;from:to]` (read
/// as Convert reads it; NULL is looked up as `""`); an unmapped value stays. Other rows keep
/// their value. Needs [`ATTRIBUTE_CODE_LOOKUP`].
///
/// The DMT matches the code in SQL (`WHERE attribute_code = ?`), under M1's `utf8_general_ci`:
/// here ASCII case and trailing spaces are ignored likewise; other accents and foldings of
/// that collation are not (Magento's attribute codes are `[a-z_0-9]`).
#[derive(Debug, Clone)]
pub struct ConvertEavValue {
    map: HashMap<Vec<u8>, Vec<u8>>,
    attribute_code: Vec<u8>,
}

impl ConvertEavValue {
    pub fn new(map: &str, attribute_code: &str) -> Result<ConvertEavValue, String> {
        Ok(ConvertEavValue {
            map: parse_map(map)?,
            attribute_code: attribute_code.as_bytes().to_vec(),
        })
    }
}

/// `a = b` under a `_general_ci` PAD SPACE collation, for ASCII.
fn sql_ci_eq(a: &[u8], b: &[u8]) -> bool {
    let trim = |s: &[u8]| s.len() - s.iter().rev().take_while(|&&c| c == b' ').count();
    a[..trim(a)].eq_ignore_ascii_case(&b[..trim(b)])
}

impl Handler for ConvertEavValue {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let code = take_attribute_code("ConvertEavValue", record, opposite)?;
        if !code.is_some_and(|c| sql_ci_eq(&c, &self.attribute_code)) {
            return Ok(());
        }
        let key = php_text(record.get(field)).unwrap_or(Cow::Borrowed(b""));
        if let Some(to) = self.map.get(key.as_ref()) {
            record.set(field, text_value(to.clone()));
        }
        Ok(())
    }
}
