//! The SerializeToJson family: PHP-serialized columns rewritten as the JSON Magento 2 reads.

use mysql_async::Value;

use super::{php_text, text_value};
use crate::transform::pcre::Pattern;
use crate::transform::php::{self, ArrayKey, PhpValue, UnserializeError};
use crate::transform::{Handler, Record, TransformError};

/// What a handler does with data PHP cannot unserialize.
#[derive(Debug, Clone, Copy)]
struct BrokenData {
    /// Write NULL; when false, the data is an error.
    to_null: bool,
    /// Log the DMT's warning when writing NULL.
    warn: bool,
}

/// `json_encode(convert(unserialize($value)))` on the column `field`; NULL stays NULL, and data
/// PHP cannot unserialize is handled as `broken` says. SerializeToJson, ConvertWithConditions
/// and SalesOrderItem share this path and differ only in `broken` and `convert`.
fn serialized_column_to_json(
    handler: &str,
    record: &mut Record,
    field: &str,
    broken: BrokenData,
    convert: impl FnOnce(PhpValue) -> Result<PhpValue, TransformError>,
) -> Result<(), TransformError> {
    let Some(text) = php_text(record.get(field)) else {
        return Ok(());
    };
    let value = match php::unserialize(&text) {
        Ok(value) => value,
        Err(e @ UnserializeError::Broken { .. }) => {
            if !broken.to_null {
                return Err(TransformError(format!("{handler}: {e}")));
            }
            if broken.warn {
                tracing::warn!(
                    "{handler}: could not unserialize data of column {field} ({e}); writing \
                     NULL, as the DMT does"
                );
            }
            record.set(field, Value::NULL);
            return Ok(());
        }
        Err(e) => return Err(json_error(handler, &e)),
    };
    let json = encode_json(handler, &convert(value)?)?;
    record.set(field, text_value(json));
    Ok(())
}

/// PHP's `json_encode($value)`; its `false` is an error naming `handler`.
fn encode_json(handler: &str, value: &PhpValue) -> Result<String, TransformError> {
    php::json_encode(value).map_err(|e| json_error(handler, &UnserializeError::Unencodable(e)))
}

fn json_error(handler: &str, error: &UnserializeError) -> TransformError {
    TransformError(format!(
        "{handler}: {error}; the DMT's json_encode returns false here and would write an empty \
         value"
    ))
}

/// `Migration\Handler\SerializeToJson(migrateBrokenData = true, suppressWarning = false)`:
/// `json_encode(unserialize($value))`. Data PHP cannot unserialize becomes NULL with a warning,
/// or is an error when `migrateBrokenData` is not `true`. An empty string is `false` to PHP's
/// `unserialize` and so becomes `false`.
#[derive(Debug, Clone)]
pub struct SerializeToJson {
    pub migrate_broken_data: bool,
    pub suppress_warning: bool,
}

impl Handler for SerializeToJson {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let broken = BrokenData {
            to_null: self.migrate_broken_data,
            warn: !self.suppress_warning,
        };
        serialized_column_to_json("SerializeToJson", record, field, broken, Ok)
    }
}

/// `Migration\Handler\SerializeToJson\ConvertWithConditions(conditionalField,
/// conditionalFieldValuesPattern, ignoreBrokenData = true)`: SerializeToJson, only for rows whose
/// `conditionalField` matches the PCRE pattern; other rows keep their value. The conditional
/// field must be set (not NULL) on every row. Broken data becomes NULL with a warning, or is an
/// error when `ignoreBrokenData` is `""` or `"0"`.
#[derive(Debug, Clone)]
pub struct ConvertWithConditions {
    pub conditional_field: String,
    pub pattern: Pattern,
    pub ignore_broken_data: bool,
}

impl Handler for ConvertWithConditions {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let Some(condition) = php_text(record.get(&self.conditional_field)) else {
            return Err(TransformError(format!(
                "ConvertWithConditions: conditional field {} not found in the record (it is NULL)",
                self.conditional_field
            )));
        };
        if !self.pattern.is_match(&condition) {
            return Ok(());
        }
        let broken = BrokenData {
            to_null: self.ignore_broken_data,
            warn: true,
        };
        serialized_column_to_json("ConvertWithConditions", record, field, broken, Ok)
    }
}

/// `Migration\Handler\SerializeToJson\ItemOption`: for item options whose `code` contains
/// `option_<digits>` (custom options), a value PHP can unserialize becomes its JSON; any other
/// value (plain text, broken data, or data that unserializes to `false`) is kept. `code` must be
/// set on every row.
#[derive(Debug, Clone)]
pub struct ItemOption;

/// `/option_\d+/`.
fn is_custom_option_code(code: &[u8]) -> bool {
    code.windows(8)
        .any(|w| w.starts_with(b"option_") && w[7].is_ascii_digit())
}

impl Handler for ItemOption {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let Some(code) = php_text(record.get("code")) else {
            return Err(TransformError(
                "ItemOption: field code not found in the record (it is NULL)".into(),
            ));
        };
        if !is_custom_option_code(&code) {
            return Ok(());
        }
        let Some(text) = php_text(record.get(field)) else {
            return Ok(());
        };
        match php::unserialize(&text) {
            Err(UnserializeError::Broken { .. }) | Ok(PhpValue::Bool(false)) => Ok(()),
            Err(e) => Err(json_error("ItemOption", &e)),
            Ok(value) => {
                let json = encode_json("ItemOption", &value)?;
                record.set(field, text_value(json));
                Ok(())
            }
        }
    }
}

/// `Migration\Handler\SerializeToJson\SalesOrderItem(ignoreBrokenData = true)`: the
/// `product_options` of an order item. Like SerializeToJson, and inside it the value of each
/// file option (`options[*].option_value` where `option_type` is `"file"`) and
/// `bundle_selection_attributes`, both themselves serialized, become JSON strings. Broken outer
/// data becomes NULL with a warning (an error when `ignoreBrokenData` is `""` or `"0"`); broken
/// inner data is an error, as it stops the DMT.
#[derive(Debug, Clone)]
pub struct SalesOrderItem {
    pub ignore_broken_data: bool,
}

impl SalesOrderItem {
    /// `$v ? json_encode(unserialize($v)) : json_encode($v)`, for a nested serialized value.
    fn nested_to_json(value: &PhpValue, what: &str) -> Result<PhpValue, TransformError> {
        let inner = if value.is_truthy() {
            let PhpValue::Str(text) = value else {
                return Err(TransformError(format!(
                    "SalesOrderItem: {what} is not a string of serialized data"
                )));
            };
            php::unserialize(text)
                .map_err(|e| TransformError(format!("SalesOrderItem: {what}: {e}")))?
        } else {
            value.clone()
        };
        let json = encode_json("SalesOrderItem", &inner)?;
        Ok(PhpValue::Str(json.into_bytes()))
    }

    fn convert(mut data: PhpValue) -> Result<PhpValue, TransformError> {
        let array =
            match &mut data {
                PhpValue::Array(array) => array,
                PhpValue::Object(_) => return Err(TransformError(
                    "SalesOrderItem: the data is an object, which the DMT cannot read as an array"
                        .into(),
                )),
                _ => return Ok(data),
            };
        match array.get_str_mut("options") {
            None | Some(PhpValue::Null) => {}
            Some(PhpValue::Array(options)) => {
                for (key, option) in options.iter_mut() {
                    let PhpValue::Array(option) = option else {
                        continue;
                    };
                    if option.get_str("option_type") != Some(&PhpValue::str("file")) {
                        continue;
                    }
                    let what = format!(
                        "options[{}].option_value",
                        String::from_utf8_lossy(&key.to_bytes())
                    );
                    let Some(value) = option.get_str("option_value") else {
                        return Err(TransformError(format!(
                            "SalesOrderItem: {what} is missing for a file option"
                        )));
                    };
                    let converted = Self::nested_to_json(value, &what)?;
                    option.insert(ArrayKey::from_bytes(b"option_value"), converted);
                }
            }
            Some(_) => {
                return Err(TransformError(
                    "SalesOrderItem: options is not an array".into(),
                ))
            }
        }
        if let Some(value) = array.get_str("bundle_selection_attributes") {
            if *value != PhpValue::Null {
                let converted = Self::nested_to_json(value, "bundle_selection_attributes")?;
                array.insert(
                    ArrayKey::from_bytes(b"bundle_selection_attributes"),
                    converted,
                );
            }
        }
        Ok(data)
    }
}

impl Handler for SalesOrderItem {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let broken = BrokenData {
            to_null: self.ignore_broken_data,
            warn: true,
        };
        serialized_column_to_json("SalesOrderItem", record, field, broken, Self::convert)
    }
}
