//! Handlers that set a column from a constant or another column: AddPrefix, FieldCopy,
//! GetDestinationValue and SetHash.

use mysql_async::Value;

use super::{php_text, text_value};
use crate::transform::php::str_is_truthy;
use crate::transform::{Handler, Record, TransformError};

/// `Migration\Handler\AddPrefix(prefix)`: `prefix . value`. NULL is `""` to PHP's `.`, so a
/// NULL column becomes the prefix alone; a number is prefixed as its text.
#[derive(Debug, Clone)]
pub struct AddPrefix {
    pub prefix: Vec<u8>,
}

impl Handler for AddPrefix {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let mut value = self.prefix.clone();
        if let Some(text) = php_text(record.get(field)) {
            value.extend_from_slice(&text);
        }
        record.set(field, text_value(value));
        Ok(())
    }
}

/// `Migration\Handler\FieldCopy(fieldCopy)`: copies column `fieldCopy` of the same record into
/// the field when that value is truthy for PHP (not NULL, `""` or `"0"`); else the field keeps
/// its value. The copy keeps the value's type (PHP would have its text, which MySQL reads the
/// same).
#[derive(Debug, Clone)]
pub struct FieldCopy {
    pub field_copy: String,
}

impl Handler for FieldCopy {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let source = record.get(&self.field_copy);
        if php_text(source).is_some_and(|t| str_is_truthy(&t)) {
            let value = source.cloned().unwrap_or(Value::NULL);
            record.set(field, value);
        }
        Ok(())
    }
}

/// `Migration\Handler\GetDestinationValue(setNullIfEmpty = false)`: the field takes the opposite
/// record's value of the same column when that is not NULL; when it is NULL (or missing), the
/// field becomes NULL if `setNullIfEmpty` is exactly `true`, else keeps its value. "Empty" means
/// NULL only: `""` and `0` are copied.
#[derive(Debug, Clone)]
pub struct GetDestinationValue {
    pub set_null_if_empty: bool,
}

impl Handler for GetDestinationValue {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        match opposite.get(field) {
            Some(v) if *v != Value::NULL => record.set(field, v.clone()),
            _ if self.set_null_if_empty => record.set(field, Value::NULL),
            _ => {}
        }
        Ok(())
    }
}

/// `Migration\Handler\SetHash(hash, baseField)`: the field becomes `crc32()` of the opposite
/// record's `baseField` (for a destination-side handler, the M1 value), as PHP's unsigned
/// integer. `crc32` is the only algorithm the DMT accepts (`$supportedHashAlgorithms`, compared
/// case-sensitively); any other is a build error. NULL hashes as `""` (0), as PHP before 8.1
/// did; 8.1+ also emits a deprecation for it.
#[derive(Debug, Clone)]
pub struct SetHash {
    pub base_field: String,
}

impl SetHash {
    /// Checks `hash` as the DMT's `validate()` does.
    pub fn new(hash: &str, base_field: &str) -> Result<SetHash, String> {
        if hash != "crc32" {
            return Err(format!(
                "\"{hash}\" hash algorithm is not supported (the DMT supports only crc32)"
            ));
        }
        Ok(SetHash {
            base_field: base_field.to_string(),
        })
    }
}

impl Handler for SetHash {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let text = php_text(opposite.get(&self.base_field)).unwrap_or_default();
        record.set(field, Value::Int(i64::from(crc32(&text))));
        Ok(())
    }
}

/// The CRC-32 table of the IEEE polynomial (reflected, 0xEDB88320), as zlib and PHP use.
const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// PHP's `crc32()`.
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        CRC32_TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8)
    })
}
