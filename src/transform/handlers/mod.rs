//! The DMT handlers that the stock opensource-to-opensource maps use, as Rust.
//!
//! Each handler does what its PHP class in `src/Migration/Handler/` does to a row, with these
//! rules where PHP leaves room:
//! - Values are what PHP saw through PDO: every column a string or null. `Value::Int` and the
//!   other typed values are read as their text.
//! - Where the DMT's PHP would stop with an exception (a notice turned into one by Magento's
//!   error handler, an undefined index, a TypeError), the handler returns a [`TransformError`].
//! - Where `json_encode` would return `false` (a string that is not UTF-8, INF/NAN, nesting
//!   deeper than 512) the DMT writes `false`, which reaches MySQL as an empty value: the
//!   handler returns a [`TransformError`] instead of writing that.
//! - A column the record does not have is read as NULL (the DMT's records always have every
//!   column of the table; ours carry only the copied and handled ones).
//! - Handlers do no I/O. Those that need a value from the database ([`Lookup`]) read it from a
//!   column the caller fills before the handler runs; see [`required_lookup`].
//!
//! Here: building a handler from map.xml, and reading columns as PHP does. The handlers are in
//! `serialized` (the SerializeToJson family), `values` (Convert, SetValue, Encrypt,
//! SetVisibleOnFront), `fields` (AddPrefix, FieldCopy, GetDestinationValue, SetHash),
//! `timezone` (Timezone), `ip` (ConvertIp), `lookup` (those that need a database value) and
//! `eav` (SetValueAttributeCondition and ConvertEavValue, which need an attribute code looked
//! up and are not built yet).
//!
//! [`TransformError`]: super::TransformError

mod eav;
mod fields;
mod ip;
mod lookup;
mod serialized;
mod timezone;
mod values;

use std::borrow::Cow;

use mysql_async::Value;

use super::handler;
use super::pcre::Pattern;
use super::php;
use super::Handler;
use crate::config::map::HandlerSpec;

pub use eav::{ConvertEavValue, SetValueAttributeCondition, ATTRIBUTE_CODE_LOOKUP};
pub use fields::{crc32, AddPrefix, FieldCopy, GetDestinationValue, SetHash};
pub use ip::ConvertIp;
pub use lookup::{
    required_lookup, store_group_code, Lookup, QuoteMultiAddressStoreId, StoreGroupCode,
};
pub use serialized::{ConvertWithConditions, ItemOption, SalesOrderItem, SerializeToJson};
pub use timezone::Timezone;
pub use values::{Convert, Encrypt, SetValue, SetVisibleOnFront};

/// A handler of map.xml that cannot be built: unknown class, missing or invalid param.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(pub String);

/// Builds the handler a map.xml `<handler class="…">` names, from its `<param>`s.
///
/// Params the class does not take are ignored, as the DMT's object manager ignores them.
pub fn build_handler(spec: &HandlerSpec) -> Result<Box<dyn Handler>, BuildError> {
    let Some(short) = handler::short_name(&spec.class) else {
        return Err(BuildError(format!(
            "unknown handler class {}: the DMT ships no such handler and mage-migrate has no \
             counterpart for it",
            spec.class
        )));
    };
    let params = Params { spec, short };
    let built: Box<dyn Handler> = match short {
        "SerializeToJson" => Box::new(SerializeToJson {
            migrate_broken_data: params.php_flag_true("migrateBrokenData", true),
            suppress_warning: params.php_flag_true("suppressWarning", false),
        }),
        "SerializeToJson\\ConvertWithConditions" => {
            let field = params.required("conditionalField")?;
            if field.is_empty() {
                return Err(params.invalid("conditionalField", "it is empty"));
            }
            let source = params.required("conditionalFieldValuesPattern")?;
            let pattern = Pattern::new(source)
                .map_err(|e| params.invalid("conditionalFieldValuesPattern", &e))?;
            Box::new(ConvertWithConditions {
                conditional_field: field.to_string(),
                pattern,
                ignore_broken_data: params.php_bool("ignoreBrokenData", true),
            })
        }
        "SerializeToJson\\ItemOption" => Box::new(ItemOption),
        "SerializeToJson\\SalesOrderItem" => Box::new(SalesOrderItem {
            ignore_broken_data: params.php_bool("ignoreBrokenData", true),
        }),
        "Convert" => Box::new(
            Convert::new(params.required("map")?, params.spec.param("defaultValue"))
                .map_err(|e| params.invalid("map", &e))?,
        ),
        "ConvertIp" => Box::new(ConvertIp),
        "SetValue" => Box::new(
            SetValue::new(params.required("value")?).map_err(|e| params.invalid("value", &e))?,
        ),
        "Encrypt" => Box::new(Encrypt),
        "QuoteMultiAddressStoreId" => Box::new(QuoteMultiAddressStoreId),
        "SalesOrderStatusState\\SetVisibleOnFront" => Box::new(SetVisibleOnFront),
        "StoreGroupCode" => Box::new(StoreGroupCode),
        "AddPrefix" => Box::new(AddPrefix {
            prefix: params.required("prefix")?.as_bytes().to_vec(),
        }),
        "Timezone" => Box::new(
            Timezone::new(params.required("offset")?).map_err(|e| params.invalid("offset", &e))?,
        ),
        "FieldCopy" => Box::new(FieldCopy {
            field_copy: params.required("fieldCopy")?.to_string(),
        }),
        "GetDestinationValue" => Box::new(GetDestinationValue {
            set_null_if_empty: params.php_flag_true("setNullIfEmpty", false),
        }),
        "SetHash" => {
            let hash = params.required("hash")?;
            let base_field = params.required("baseField")?;
            Box::new(SetHash::new(hash, base_field).map_err(|e| params.invalid("hash", &e))?)
        }
        "ConvertEavValue" => Box::new(
            ConvertEavValue::new(params.required("map")?, params.required("attributeCode")?)
                .map_err(|e| params.invalid("map", &e))?,
        ),
        "SetValueAttributeCondition" => Box::new(SetValueAttributeCondition::new(
            params.required("attributeCode")?,
            params.required("value")?,
        )),
        other => {
            return Err(BuildError(format!(
                "handler Migration\\Handler\\{other} is not available yet in mage-migrate"
            )))
        }
    };
    Ok(built)
}

/// A handler's `<param>`s, read as the DMT's constructors read them.
struct Params<'a> {
    spec: &'a HandlerSpec,
    short: &'static str,
}

impl Params<'_> {
    fn required(&self, name: &str) -> Result<&str, BuildError> {
        self.spec.param(name).ok_or_else(|| {
            BuildError(format!(
                "handler Migration\\Handler\\{}: the required param \"{name}\" is missing",
                self.short
            ))
        })
    }

    fn invalid(&self, name: &str, why: &str) -> BuildError {
        BuildError(format!(
            "handler Migration\\Handler\\{}: param \"{name}\" is invalid: {why}",
            self.short
        ))
    }

    /// `$param === true || $param == 'true'`: only the text `true` is true.
    fn php_flag_true(&self, name: &str, default: bool) -> bool {
        self.spec.param(name).map_or(default, |v| v == "true")
    }

    /// `(bool)$param`: every text but `""` and `"0"` is true (`"false"` too).
    fn php_bool(&self, name: &str, default: bool) -> bool {
        self.spec
            .param(name)
            .map_or(default, |v| php::str_is_truthy(v.as_bytes()))
    }
}

/// A column as the DMT's PHP has it: its text, or None for NULL (and for a column the record
/// does not have).
fn php_text(value: Option<&Value>) -> Option<Cow<'_, [u8]>> {
    let text = match value? {
        Value::NULL => return None,
        Value::Bytes(b) => return Some(Cow::Borrowed(b)),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Date(y, mo, d, h, mi, s, us) => {
            let mut t = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
            if *us != 0 {
                t.push_str(&format!(".{us:06}"));
            }
            t
        }
        Value::Time(negative, days, h, mi, s, us) => {
            let hours = u64::from(*days) * 24 + u64::from(*h);
            let mut t = format!(
                "{}{hours:02}:{mi:02}:{s:02}",
                if *negative { "-" } else { "" }
            );
            if *us != 0 {
                t.push_str(&format!(".{us:06}"));
            }
            t
        }
    };
    Some(Cow::Owned(text.into_bytes()))
}

/// A text column: what a handler writes, as PHP writes strings.
fn text_value(s: impl Into<Vec<u8>>) -> Value {
    Value::Bytes(s.into())
}

#[cfg(test)]
mod tests;
