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

use std::borrow::Cow;
use std::collections::HashMap;

use md5::{Digest, Md5};
use mysql_async::Value;

use super::handler;
use super::pcre::Pattern;
use super::php::{self, ArrayKey, PhpValue, UnserializeError};
use super::{Handler, Record, TransformError};
use crate::config::map::HandlerSpec;

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
        other => {
            return Err(BuildError(format!(
                "handler Migration\\Handler\\{other} is not available yet in mage-migrate"
            )))
        }
    };
    Ok(built)
}

/// A value from the database that a handler needs and the caller must look up, per row, before
/// the handler runs. The caller puts the result in the column [`Lookup::column`] of the record
/// being handled or of the opposite record (for a destination-side handler, the M1 record: a
/// `LEFT JOIN` in the M1 select fills it in bulk). The handler reads it from its own record
/// first, then from the opposite one, and removes it from its own record. Never filled, it is a
/// [`TransformError`], not a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// `QuoteMultiAddressStoreId` (on `quote_address_item.store_id`): on the M1 database,
    /// `SELECT store_id FROM {prefix}sales_flat_quote_item WHERE item_id = ?` with the record's
    /// `quote_item_id`; the value found, or NULL when there is no such row.
    QuoteItemStoreId,
    /// `StoreGroupCode` (on `store_group.code`): on the M1 database, whether an earlier store
    /// group has exactly the same name:
    /// `SELECT EXISTS(SELECT 1 FROM {prefix}core_store_group WHERE BINARY name = BINARY ? AND
    /// group_id < ?)` with the record's `name` and `group_id`; 1 or 0.
    StoreGroupNameTaken,
}

impl Lookup {
    /// The column that carries the looked-up value; no real column has such a name.
    pub fn column(self) -> &'static str {
        match self {
            Lookup::QuoteItemStoreId => "@lookup:sales_flat_quote_item.store_id",
            Lookup::StoreGroupNameTaken => "@lookup:core_store_group.name_taken",
        }
    }

    /// The query, for messages.
    pub fn query(self) -> &'static str {
        match self {
            Lookup::QuoteItemStoreId => {
                "SELECT store_id FROM sales_flat_quote_item WHERE item_id = <quote_item_id>"
            }
            Lookup::StoreGroupNameTaken => {
                "SELECT EXISTS(SELECT 1 FROM core_store_group WHERE BINARY name = BINARY <name> \
                 AND group_id < <group_id>)"
            }
        }
    }

    /// Takes the looked-up value: from `record` (removing it), else from `opposite`.
    fn take(self, record: &mut Record, opposite: &Record) -> Result<Value, TransformError> {
        if let Some(v) = record.remove(self.column()) {
            return Ok(v);
        }
        opposite.get(self.column()).cloned().ok_or_else(|| {
            TransformError(format!(
                "{}: the value of `{}` was not looked up before the handler ran (the caller \
                 must fill column `{}`)",
                self.handler(),
                self.query(),
                self.column()
            ))
        })
    }

    fn handler(self) -> &'static str {
        match self {
            Lookup::QuoteItemStoreId => "QuoteMultiAddressStoreId",
            Lookup::StoreGroupNameTaken => "StoreGroupCode",
        }
    }
}

/// The lookup the handler of `spec` needs, if any.
pub fn required_lookup(spec: &HandlerSpec) -> Option<Lookup> {
    match handler::short_name(&spec.class)? {
        "QuoteMultiAddressStoreId" => Some(Lookup::QuoteItemStoreId),
        "StoreGroupCode" => Some(Lookup::StoreGroupNameTaken),
        _ => None,
    }
}

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
            .map_or(default, |v| !(v.is_empty() || v == "0"))
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

fn text_value(s: impl Into<Vec<u8>>) -> Value {
    Value::Bytes(s.into())
}

/// The DMT's warning for data it cannot unserialize and writes as NULL.
fn warn_broken(handler: &str, field: &str, error: &UnserializeError) {
    tracing::warn!(
        "{handler}: could not unserialize data of column {field} ({error}); writing NULL, as \
         the DMT does"
    );
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
        let Some(text) = php_text(record.get(field)) else {
            return Ok(());
        };
        match php::serialized_to_json(&text) {
            Ok(json) => record.set(field, text_value(json)),
            Err(e @ UnserializeError::Broken { .. }) => {
                if !self.migrate_broken_data {
                    return Err(TransformError(format!("SerializeToJson: {e}")));
                }
                if !self.suppress_warning {
                    warn_broken("SerializeToJson", field, &e);
                }
                record.set(field, Value::NULL);
            }
            Err(e) => return Err(json_error("SerializeToJson", &e)),
        }
        Ok(())
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
        let Some(text) = php_text(record.get(field)) else {
            return Ok(());
        };
        match php::serialized_to_json(&text) {
            Ok(json) => record.set(field, text_value(json)),
            Err(e @ UnserializeError::Broken { .. }) => {
                if !self.ignore_broken_data {
                    return Err(TransformError(format!("ConvertWithConditions: {e}")));
                }
                warn_broken("ConvertWithConditions", field, &e);
                record.set(field, Value::NULL);
            }
            Err(e) => return Err(json_error("ConvertWithConditions", &e)),
        }
        Ok(())
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
                let json = php::json_encode(&value)
                    .map_err(|e| json_error("ItemOption", &UnserializeError::Unencodable(e)))?;
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
        let json = php::json_encode(&inner)
            .map_err(|e| json_error("SalesOrderItem", &UnserializeError::Unencodable(e)))?;
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
        let Some(text) = php_text(record.get(field)) else {
            return Ok(());
        };
        let data = match php::unserialize(&text) {
            Ok(data) => data,
            Err(e @ UnserializeError::Broken { .. }) => {
                if !self.ignore_broken_data {
                    return Err(TransformError(format!("SalesOrderItem: {e}")));
                }
                warn_broken("SalesOrderItem", field, &e);
                record.set(field, Value::NULL);
                return Ok(());
            }
            Err(e) => return Err(json_error("SalesOrderItem", &e)),
        };
        let data = Self::convert(data)?;
        let json = php::json_encode(&data)
            .map_err(|e| json_error("SalesOrderItem", &UnserializeError::Unencodable(e)))?;
        record.set(field, text_value(json));
        Ok(())
    }
}

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

impl Convert {
    pub fn new(map: &str, default: Option<&str>) -> Result<Convert, String> {
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
        Ok(Convert {
            map: pairs,
            default: default
                .filter(|d| !(d.is_empty() || *d == "0"))
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

/// `Migration\Handler\ConvertIp`: an IPv4 address, as text or packed in 4 bytes, becomes its
/// `ip2long` number; anything else (IPv6 included, as PHP's `ip2long` has no IPv6) becomes 0.
#[derive(Debug, Clone)]
pub struct ConvertIp;

/// PHP's `filter_var(FILTER_VALIDATE_IP, FILTER_FLAG_IPV4)`: four decimal parts 0-255, no
/// leading zeros, nothing else.
fn ipv4_text(s: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(s).ok()?;
    let mut value = 0u32;
    let mut parts = 0;
    for part in text.split('.') {
        parts += 1;
        let canonical = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        let octet: u8 = part.parse().ok().filter(|_| canonical)?;
        value = (value << 8) | u32::from(octet);
    }
    (parts == 4).then_some(value)
}

/// PHP's `filter_var(FILTER_VALIDATE_IP, FILTER_FLAG_IPV6)`.
fn is_ipv6_text(s: &[u8]) -> bool {
    if !s.contains(&b':') {
        return false;
    }
    let mut s = s;
    let mut blocks = 0usize;
    // An IPv4 tail (`::ffff:1.2.3.4`) counts as two blocks.
    if let Some(dot) = s.iter().position(|b| *b == b'.') {
        let v4_start = s[..dot]
            .iter()
            .rposition(|b| *b == b':')
            .map_or(0, |i| i + 1);
        if ipv4_text(&s[v4_start..]).is_none() || v4_start < 2 {
            return false;
        }
        s = if s[v4_start - 2] == b':' {
            &s[..v4_start]
        } else {
            &s[..v4_start - 1]
        };
        blocks = 2;
    }
    let mut compressed = false;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b':' {
            i += 1;
            if i >= s.len() {
                return false;
            }
            if s[i] == b':' {
                if compressed {
                    return false;
                }
                compressed = true;
                blocks += 1;
                i += 1;
                if i == s.len() {
                    return blocks <= 8;
                }
            } else if i == 1 {
                return false;
            }
        }
        let digits = s[i..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if !(1..=4).contains(&digits) {
            return false;
        }
        i += digits;
        blocks += 1;
        if blocks > 8 {
            return false;
        }
    }
    (compressed && blocks <= 8) || blocks == 8
}

fn ip2long(value: &[u8]) -> i64 {
    if let Some(v4) = ipv4_text(value) {
        return i64::from(v4);
    }
    if is_ipv6_text(value) {
        return 0;
    }
    // Not an address as text: PHP's inet_ntop reads 4 bytes as a packed IPv4 address (16
    // bytes as IPv6, which ip2long cannot convert).
    match <[u8; 4]>::try_from(value) {
        Ok(packed) => i64::from(u32::from_be_bytes(packed)),
        Err(_) => 0,
    }
}

impl Handler for ConvertIp {
    fn handle(
        &self,
        record: &mut Record,
        _opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let number = php_text(record.get(field)).map_or(0, |v| ip2long(&v));
        record.set(field, Value::Int(number));
        Ok(())
    }
}

/// A PHP number.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Int(i64),
    Float(f64),
}

/// A PHP 8 numeric string: white space around, a sign, digits with an optional fraction and
/// exponent. None for anything else (PHP 8 warns or throws for those in arithmetic, and the DMT
/// stops).
fn php_number(s: &[u8]) -> Option<Number> {
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
            Some(v) if v.is_empty() || v.as_ref() == b"0" => Ok(()),
            Some(_) => Err(TransformError(
                "Encrypt: re-encrypting card data needs the M1 crypt_key and is not available yet"
                    .into(),
            )),
        }
    }
}

/// `Migration\Handler\QuoteMultiAddressStoreId`: the `store_id` of the address item's quote
/// item. Needs [`Lookup::QuoteItemStoreId`]; NULL when the quote item does not exist (the DMT's
/// `fetchOne` gives `false` there).
#[derive(Debug, Clone)]
pub struct QuoteMultiAddressStoreId;

impl Handler for QuoteMultiAddressStoreId {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let store_id = Lookup::QuoteItemStoreId.take(record, opposite)?;
        record.set(field, store_id);
        Ok(())
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

/// `Migration\Handler\StoreGroupCode`: a store group code made from its name: white space runs
/// to `_`, lower case, only `a-z 0-9 - _` kept, leading characters other than letters dropped;
/// `store_group` when nothing is left. A name that an earlier group (smaller `group_id`) already
/// has gets `-` and 32 hex digits appended: the DMT's are random (`md5(mt_rand())`), these are
/// the md5 of the group id, so a rerun writes the same code. Needs
/// [`Lookup::StoreGroupNameTaken`].
#[derive(Debug, Clone)]
pub struct StoreGroupCode;

/// The code the DMT makes from a store group name, before the duplicate suffix.
pub fn store_group_code(name: &[u8]) -> Vec<u8> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let mut code = Vec::with_capacity(name.len());
    let mut in_space = false;
    for &b in name {
        if is_space(b) {
            if !in_space {
                code.push(b'_');
            }
            in_space = true;
            continue;
        }
        in_space = false;
        let b = b.to_ascii_lowercase();
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' {
            code.push(b);
        }
    }
    let first_letter = code
        .iter()
        .position(u8::is_ascii_lowercase)
        .unwrap_or(code.len());
    code.drain(..first_letter);
    code
}

impl Handler for StoreGroupCode {
    fn handle(
        &self,
        record: &mut Record,
        opposite: &Record,
        field: &str,
    ) -> Result<(), TransformError> {
        let taken = Lookup::StoreGroupNameTaken.take(record, opposite)?;
        let column = |name: &str| record.get(name).or_else(|| opposite.get(name));
        let name = php_text(column("name")).unwrap_or_default();
        let mut code = store_group_code(&name);
        let taken = match &taken {
            Value::NULL => false,
            v => php_text(Some(v)).is_some_and(|t| !(t.is_empty() || t.as_ref() == b"0")),
        };
        if taken {
            let group_id = php_text(column("group_id")).unwrap_or_default();
            let digest = Md5::digest(&group_id);
            code.push(b'-');
            for byte in digest {
                code.extend_from_slice(format!("{byte:02x}").as_bytes());
            }
        }
        if code.is_empty() {
            code = b"store_group".to_vec();
        }
        record.set(field, text_value(code));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(class: &str, params: &[(&str, &str)]) -> HandlerSpec {
        HandlerSpec {
            class: class.to_string(),
            params: params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            line: 1,
            column: 1,
        }
    }

    fn build(class: &str, params: &[(&str, &str)]) -> Box<dyn Handler> {
        build_handler(&spec(class, params)).unwrap_or_else(|e| panic!("{class}: {e}"))
    }

    fn record(columns: &[(&str, Value)]) -> Record {
        Record::from_columns(
            columns
                .iter()
                .map(|(c, v)| (c.to_string(), v.clone()))
                .collect(),
        )
    }

    fn text(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    /// Runs a handler on one column and returns the column after it.
    fn run(handler: &dyn Handler, value: Value) -> Result<Value, TransformError> {
        let mut r = record(&[("v", value)]);
        handler.handle(&mut r, &Record::new(), "v")?;
        Ok(r.get("v").cloned().unwrap_or(Value::NULL))
    }

    fn json_of(v: &Value) -> String {
        match v {
            Value::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("not text: {other:?}"),
        }
    }

    /// Inputs and expected outputs of these tests were made with PHP 8.2's `serialize` and the
    /// DMT handlers' own code.
    const PAYMENT_ADDITIONAL_INFORMATION: &str = r#"a:4:{s:12:"method_title";s:18:"PayPal Payflow/Pro";s:18:"paypal_fraud_rules";a:2:{i:0;a:2:{s:4:"name";s:9:"AVS Check";s:5:"score";d:0.5;}i:1;a:2:{s:4:"name";s:12:"Max €1.000";s:5:"score";i:1;}}s:15:"cc_avs_response";N;s:14:"is_fraud_check";b:1;}"#;

    #[test]
    fn serialize_to_json_converts_additional_information() {
        let h = build("\\Migration\\Handler\\SerializeToJson", &[]);
        // A wrong length is broken data: NULL.
        let broken = PAYMENT_ADDITIONAL_INFORMATION.replace("s:18:\"PayPal", "s:17:\"PayPal");
        assert_eq!(run(&*h, text(&broken)).unwrap(), Value::NULL);
        assert_eq!(
            json_of(&run(&*h, text(PAYMENT_ADDITIONAL_INFORMATION)).unwrap()),
            concat!(
                r#"{"method_title":"PayPal Payflow\/Pro","paypal_fraud_rules":[{"name":"AVS Check","score":0.5},"#,
                r#"{"name":"Max \u20ac1.000","score":1}],"cc_avs_response":null,"is_fraud_check":true}"#
            )
        );
        assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
        assert_eq!(json_of(&run(&*h, text("")).unwrap()), "false");
        assert_eq!(
            json_of(&run(&*h, text("a:1:{s:3:\"tax\";d:8.25;}")).unwrap()),
            r#"{"tax":8.25}"#
        );
        // A column the record does not have is left alone.
        let mut r = Record::new();
        h.handle(&mut r, &Record::new(), "v").unwrap();
        assert!(r.is_empty());
    }

    #[test]
    fn serialize_to_json_broken_data_and_json_failures() {
        let strict = build(
            "Migration\\Handler\\SerializeToJson",
            &[("migrateBrokenData", "false")],
        );
        let e = run(&*strict, text("a:1:{i:0;")).unwrap_err();
        assert!(e.0.contains("not valid PHP serialized data"), "{e}");
        // Only the text "true" is true, as in the DMT's constructor.
        let one = build(
            "Migration\\Handler\\SerializeToJson",
            &[("migrateBrokenData", "1")],
        );
        assert!(run(&*one, text("x")).is_err());
        let quiet = build(
            "Migration\\Handler\\SerializeToJson",
            &[("migrateBrokenData", "true"), ("suppressWarning", "true")],
        );
        assert_eq!(run(&*quiet, text("x")).unwrap(), Value::NULL);
        // Latin-1 bytes in a string: PHP's json_encode fails; never an empty value.
        let e = run(&*quiet, Value::Bytes(b"s:4:\"caf\xe9\";".to_vec())).unwrap_err();
        assert!(e.0.contains("UTF-8") && e.0.contains("json_encode"), "{e}");
        assert!(run(&*quiet, text("d:INF;")).is_err());
    }

    #[test]
    fn convert_with_conditions_converts_only_matching_codes() {
        let h = build(
            "\\Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
            &[
                ("conditionalField", "code"),
                (
                    "conditionalFieldValuesPattern",
                    "/(parameters)|(info_buyRequest)|(attributes)|(bundle_option_ids)|(bundle_selection_ids)|(bundle_selection_attributes)/",
                ),
            ],
        );
        let buy_request = concat!(
            "a:5:{s:4:\"uenc\";s:44:\"aHR0cDovL2V4YW1wbGUuY29tL3RlZS5odG1sP19fX1M=\";s:7:\"product\";s:3:\"905\";",
            "s:15:\"related_product\";s:0:\"\";s:15:\"super_attribute\";a:2:{i:92;s:2:\"20\";i:180;s:2:\"80\";}",
            "s:3:\"qty\";d:2;}"
        );
        let mut r = record(&[
            ("option_id", Value::Int(7)),
            ("item_id", Value::Int(3)),
            ("code", text("info_buyRequest")),
            ("value", text(buy_request)),
        ]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(
            json_of(r.get("value").unwrap()),
            r#"{"uenc":"aHR0cDovL2V4YW1wbGUuY29tL3RlZS5odG1sP19fX1M=","product":"905","related_product":"","super_attribute":{"92":"20","180":"80"},"qty":2}"#
        );
        // Another code: unchanged, even when it looks serialized.
        let mut r = record(&[
            ("code", text("product_type")),
            ("value", text("s:1:\"x\";")),
        ]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&text("s:1:\"x\";")));
        // Broken data: NULL by default.
        let mut r = record(&[("code", text("attributes")), ("value", text("a:1:{"))]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&Value::NULL));
        // The conditional field must be set.
        let mut r = record(&[("code", Value::NULL), ("value", text("N;"))]);
        let e = h.handle(&mut r, &Record::new(), "value").unwrap_err();
        assert!(e.0.contains("conditional field code"), "{e}");
        // ignoreBrokenData "0" makes broken data an error; "false" does not ((bool)"false").
        let p = "/info_buyRequest/";
        let strict = build(
            "Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
            &[
                ("conditionalField", "code"),
                ("conditionalFieldValuesPattern", p),
                ("ignoreBrokenData", "0"),
            ],
        );
        let mut r = record(&[("code", text("info_buyRequest")), ("value", text("a:1:{"))]);
        assert!(strict.handle(&mut r, &Record::new(), "value").is_err());
        let lenient = build(
            "Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
            &[
                ("conditionalField", "code"),
                ("conditionalFieldValuesPattern", p),
                ("ignoreBrokenData", "false"),
            ],
        );
        let mut r = record(&[("code", text("info_buyRequest")), ("value", text("a:1:{"))]);
        lenient.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&Value::NULL));
    }

    #[test]
    fn item_option_converts_custom_option_values() {
        let h = build("\\Migration\\Handler\\SerializeToJson\\ItemOption", &[]);
        let file_option = concat!(
            "a:9:{s:4:\"type\";s:10:\"image/jpeg\";s:5:\"title\";s:9:\"logo.jpeg\";",
            "s:10:\"quote_path\";s:42:\"/media/custom_options/quote/l/o/abc123.jpg\";",
            "s:10:\"order_path\";s:42:\"/media/custom_options/order/l/o/abc123.jpg\";",
            "s:8:\"fullpath\";s:59:\"/var/www/magento/media/custom_options/quote/l/o/abc123.jpeg\";",
            "s:4:\"size\";s:5:\"48213\";s:5:\"width\";i:400;s:6:\"height\";i:300;",
            "s:10:\"secret_key\";s:20:\"a1b2c3d4e5f6a7b8c9d0\";}"
        );
        let mut r = record(&[("code", text("option_12")), ("value", text(file_option))]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(
            json_of(r.get("value").unwrap()),
            concat!(
                r#"{"type":"image\/jpeg","title":"logo.jpeg","quote_path":"\/media\/custom_options\/quote\/l\/o\/abc123.jpg","#,
                r#""order_path":"\/media\/custom_options\/order\/l\/o\/abc123.jpg","#,
                r#""fullpath":"\/var\/www\/magento\/media\/custom_options\/quote\/l\/o\/abc123.jpeg","#,
                r#""size":"48213","width":400,"height":300,"secret_key":"a1b2c3d4e5f6a7b8c9d0"}"#
            )
        );
        // A text option's value is plain text: kept.
        for plain in ["Engraving: Happy 40th!", "b:0;", "", "24"] {
            let mut r = record(&[("code", text("option_5")), ("value", text(plain))]);
            h.handle(&mut r, &Record::new(), "value").unwrap();
            assert_eq!(r.get("value"), Some(&text(plain)));
        }
        // Not a custom option code: kept, even serialized.
        let mut r = record(&[("code", text("info_buyRequest")), ("value", text("a:0:{}"))]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&text("a:0:{}")));
        // option_ids is not option_<digits>.
        let mut r = record(&[
            ("code", text("option_ids")),
            ("value", text("s:3:\"1,2\";")),
        ]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&text("s:3:\"1,2\";")));
        let mut r = record(&[("value", text("N;"))]);
        assert!(h.handle(&mut r, &Record::new(), "value").is_err());
        let mut r = record(&[("code", text("option_1")), ("value", Value::NULL)]);
        h.handle(&mut r, &Record::new(), "value").unwrap();
        assert_eq!(r.get("value"), Some(&Value::NULL));
    }

    #[test]
    fn sales_order_item_converts_product_options() {
        let h = build("\\Migration\\Handler\\SerializeToJson\\SalesOrderItem", &[]);
        // A configurable item with a file custom option, and bundle selection attributes.
        let product_options = r#"a:6:{s:15:"info_buyRequest";a:3:{s:7:"product";s:3:"410";s:15:"super_attribute";a:1:{i:92;s:2:"17";}s:3:"qty";i:1;}s:15:"attributes_info";a:1:{i:0;a:2:{s:5:"label";s:5:"Color";s:5:"value";s:5:"Green";}}s:11:"simple_name";s:22:"Linen Blazer – Green";s:10:"simple_sku";s:9:"wbk002c-G";s:7:"options";a:2:{i:0;a:4:{s:5:"label";s:4:"Logo";s:9:"option_id";s:1:"3";s:11:"option_type";s:4:"file";s:12:"option_value";s:55:"a:2:{s:5:"title";s:8:"logo.png";s:4:"size";s:4:"1024";}";}i:1;a:3:{s:5:"label";s:9:"Engraving";s:11:"option_type";s:5:"field";s:12:"option_value";s:2:"Hi";}}s:27:"bundle_selection_attributes";s:39:"a:2:{s:5:"price";d:19.5;s:3:"qty";i:1;}";}"#;
        let converted = run(&*h, text(product_options)).unwrap();
        assert_eq!(
            json_of(&converted),
            concat!(
                r#"{"info_buyRequest":{"product":"410","super_attribute":{"92":"17"},"qty":1},"#,
                r#""attributes_info":[{"label":"Color","value":"Green"}],"#,
                r#""simple_name":"Linen Blazer \u2013 Green","simple_sku":"wbk002c-G","#,
                r#""options":[{"label":"Logo","option_id":"3","option_type":"file","option_value":"{\"title\":\"logo.png\",\"size\":\"1024\"}"},"#,
                r#"{"label":"Engraving","option_type":"field","option_value":"Hi"}],"#,
                r#""bundle_selection_attributes":"{\"price\":19.5,\"qty\":1}"}"#
            )
        );
        // An empty file value is JSON-encoded as it is.
        let empty = "a:1:{s:7:\"options\";a:1:{i:0;a:2:{s:11:\"option_type\";s:4:\"file\";s:12:\"option_value\";s:0:\"\";}}}";
        assert_eq!(
            json_of(&run(&*h, text(empty)).unwrap()),
            r#"{"options":[{"option_type":"file","option_value":"\"\""}]}"#
        );
        // Broken inner data stops the DMT: an error here.
        let broken_inner = "a:1:{s:27:\"bundle_selection_attributes\";s:3:\"a:1\";}";
        assert!(run(&*h, text(broken_inner)).is_err());
        let missing_value =
            "a:1:{s:7:\"options\";a:1:{i:0;a:1:{s:11:\"option_type\";s:4:\"file\";}}}";
        assert!(run(&*h, text(missing_value)).is_err());
        // Broken outer data: NULL; an error with ignoreBrokenData "0".
        assert_eq!(run(&*h, text("a:1:{")).unwrap(), Value::NULL);
        let strict = build(
            "Migration\\Handler\\SerializeToJson\\SalesOrderItem",
            &[("ignoreBrokenData", "0")],
        );
        assert!(run(&*strict, text("a:1:{")).is_err());
        assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
        assert_eq!(json_of(&run(&*h, text("s:2:\"hi\";")).unwrap()), r#""hi""#);
    }

    #[test]
    fn convert_maps_payment_methods() {
        let map = "[paypal_direct:payflowpro;paypal_standard:paypal_express]";
        let h = build("\\Migration\\Handler\\Convert", &[("map", map)]);
        assert_eq!(run(&*h, text("paypal_direct")).unwrap(), text("payflowpro"));
        assert_eq!(
            run(&*h, text("paypal_standard")).unwrap(),
            text("paypal_express")
        );
        assert_eq!(run(&*h, text("checkmo")).unwrap(), text("checkmo"));
        assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
        let with_default = build(
            "\\Migration\\Handler\\Convert",
            &[
                ("map", "[1:active; 0:inactive]"),
                ("defaultValue", "unknown"),
            ],
        );
        assert_eq!(run(&*with_default, Value::Int(1)).unwrap(), text("active"));
        assert_eq!(run(&*with_default, text("0")).unwrap(), text("inactive"));
        assert_eq!(run(&*with_default, text("7")).unwrap(), text("unknown"));
        assert_eq!(run(&*with_default, Value::NULL).unwrap(), text("unknown"));
        // "0" as default is unset for PHP.
        let zero = build(
            "\\Migration\\Handler\\Convert",
            &[("map", "[a:b]"), ("defaultValue", "0")],
        );
        assert_eq!(run(&*zero, text("c")).unwrap(), text("c"));
        for bad in ["[]", "[a:b;]", "[a:b:c]", "[a]", ""] {
            let e =
                build_handler(&spec("\\Migration\\Handler\\Convert", &[("map", bad)])).unwrap_err();
            assert!(e.0.contains("param \"map\""), "{bad}: {e}");
        }
    }

    #[test]
    fn convert_ip_takes_text_and_packed_ipv4() {
        let h = build("\\Migration\\Handler\\ConvertIp", &[]);
        let cases: Vec<(Value, i64)> = vec![
            (text("192.168.1.10"), 3_232_235_786),
            (text("255.255.255.255"), 4_294_967_295),
            (text("0.0.0.0"), 0),
            (Value::Bytes(vec![192, 168, 1, 10]), 3_232_235_786),
            (Value::Bytes(vec![10, 0, 0, 1]), 167_772_161),
            // IPv6, as text or packed: ip2long has no IPv6.
            (text("2001:db8::8a2e:370:7334"), 0),
            (text("::ffff:192.168.1.10"), 0),
            (text("1::2"), 0),
            (
                Value::Bytes(vec![
                    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34,
                ]),
                0,
            ),
            // Four bytes that are not an address as text are read as packed, like inet_ntop.
            (text("1234"), 825_373_492),
            (text("01.2.3.4"), 0),
            (text(" 1.2.3.4"), 0),
            (text("256.1.1.1"), 0),
            (text("localhost"), 0),
            (Value::NULL, 0),
            (Value::Int(3_232_235_786), 0),
        ];
        for (input, expected) in cases {
            assert_eq!(
                run(&*h, input.clone()).unwrap(),
                Value::Int(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn ipv6_validation_like_php_filter() {
        for yes in [
            "::",
            "::1",
            "1::2",
            "1:2:3:4:5:6:7:8",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1::1.2.3.4",
            "a:b:c:d:e:f:1.2.3.4",
            "fe80::1",
        ] {
            assert!(is_ipv6_text(yes.as_bytes()), "{yes}");
        }
        for no in [
            "1.2.3.4",
            "1:2:3:4:5:6:7:8:9",
            ":1::2",
            "1::2::3",
            "fe80::1%eth0",
            "1:",
            "12345::",
            "abcd",
            "1:2:3:4:5:6:7",
            ":",
            "::1.2.3",
        ] {
            assert!(!is_ipv6_text(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn set_value_constants_null_and_arithmetic() {
        let zero = build("\\Migration\\Handler\\SetValue", &[("value", "0.0000")]);
        assert_eq!(run(&*zero, text("12.5000")).unwrap(), text("0.0000"));
        assert_eq!(run(&*zero, Value::NULL).unwrap(), text("0.0000"));
        let product = build("\\Migration\\Handler\\SetValue", &[("value", "product")]);
        assert_eq!(run(&*product, Value::NULL).unwrap(), text("product"));
        for null in ["NULL", "null", "Null"] {
            let h = build("\\Migration\\Handler\\SetValue", &[("value", null)]);
            assert_eq!(run(&*h, text("x")).unwrap(), Value::NULL);
        }
        let plus = build("\\Migration\\Handler\\SetValue", &[("value", "+1")]);
        assert_eq!(run(&*plus, text("5")).unwrap(), Value::Int(6));
        assert_eq!(run(&*plus, Value::Int(41)).unwrap(), Value::Int(42));
        assert_eq!(run(&*plus, Value::NULL).unwrap(), Value::Int(1));
        assert_eq!(run(&*plus, text(" 7 ")).unwrap(), Value::Int(8));
        assert_eq!(run(&*plus, text("1.5")).unwrap(), Value::Double(2.5));
        assert_eq!(run(&*plus, text("1e3")).unwrap(), Value::Double(1001.0));
        assert_eq!(
            run(&*plus, Value::Int(i64::MAX)).unwrap(),
            Value::Double(9.223372036854776e18)
        );
        let minus = build("\\Migration\\Handler\\SetValue", &[("value", "-1")]);
        assert_eq!(run(&*minus, Value::Int(3)).unwrap(), Value::Int(2));
        assert_eq!(run(&*minus, text("0")).unwrap(), Value::Int(-1));
        assert_eq!(run(&*minus, Value::UInt(10)).unwrap(), Value::Int(9));
        let half = build("\\Migration\\Handler\\SetValue", &[("value", "-0.5")]);
        assert_eq!(run(&*half, text("2")).unwrap(), Value::Double(1.5));
        for not_a_number in ["abc", "", "5abc", "0x1A"] {
            let e = run(&*plus, text(not_a_number)).unwrap_err();
            assert!(e.0.contains("not a number"), "{not_a_number}: {e}");
        }
        for bad in ["+", "-x", "+1abc"] {
            let e = build_handler(&spec("\\Migration\\Handler\\SetValue", &[("value", bad)]))
                .unwrap_err();
            assert!(e.0.contains("param \"value\""), "{bad}: {e}");
        }
        let e = build_handler(&spec("\\Migration\\Handler\\SetValue", &[])).unwrap_err();
        assert_eq!(
            e.0,
            "handler Migration\\Handler\\SetValue: the required param \"value\" is missing"
        );
    }

    #[test]
    fn php_numbers() {
        assert_eq!(php_number(b"5"), Some(Number::Int(5)));
        assert_eq!(php_number(b" +5\n"), Some(Number::Int(5)));
        assert_eq!(php_number(b"-5"), Some(Number::Int(-5)));
        assert_eq!(php_number(b".5"), Some(Number::Float(0.5)));
        assert_eq!(php_number(b"5."), Some(Number::Float(5.0)));
        assert_eq!(php_number(b"1E-2"), Some(Number::Float(0.01)));
        assert_eq!(
            php_number(b"9223372036854775808"),
            Some(Number::Float(9.223372036854776e18))
        );
        for bad in [
            "", " ", ".", "+", "1e", "e1", "1.2.3", "0x1A", "1 2", "--1", "inf", "NaN",
        ] {
            assert_eq!(php_number(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn encrypt_refuses_honestly() {
        let h = build("\\Migration\\Handler\\Encrypt", &[]);
        assert_eq!(run(&*h, Value::NULL).unwrap(), Value::NULL);
        assert_eq!(run(&*h, text("")).unwrap(), text(""));
        assert_eq!(run(&*h, text("0")).unwrap(), text("0"));
        let e = run(&*h, text("0:2:f0b1c2d3e4f5a6b7:jK8s9dLq1w==")).unwrap_err();
        assert_eq!(
            e.0,
            "Encrypt: re-encrypting card data needs the M1 crypt_key and is not available yet"
        );
    }

    #[test]
    fn quote_multi_address_store_id_reads_its_lookup() {
        let h = build("\\Migration\\Handler\\QuoteMultiAddressStoreId", &[]);
        let column = Lookup::QuoteItemStoreId.column();
        // Filled on the record being handled: taken and removed.
        let mut r = record(&[
            ("address_item_id", Value::Int(9)),
            ("quote_item_id", Value::Int(31)),
            (column, text("3")),
        ]);
        h.handle(&mut r, &Record::new(), "store_id").unwrap();
        assert_eq!(r.get("store_id"), Some(&text("3")));
        assert!(!r.contains(column));
        // Filled on the M1 record (a LEFT JOIN), no quote item: NULL.
        let m1 = record(&[("quote_item_id", Value::Int(32)), (column, Value::NULL)]);
        let mut r = record(&[("quote_item_id", Value::Int(32))]);
        h.handle(&mut r, &m1, "store_id").unwrap();
        assert_eq!(r.get("store_id"), Some(&Value::NULL));
        // Not filled: an error naming the query.
        let mut r = record(&[("quote_item_id", Value::Int(33))]);
        let e = h.handle(&mut r, &Record::new(), "store_id").unwrap_err();
        assert!(
            e.0.contains("sales_flat_quote_item") && e.0.contains(column),
            "{e}"
        );
        assert_eq!(
            required_lookup(&spec("\\Migration\\Handler\\QuoteMultiAddressStoreId", &[])),
            Some(Lookup::QuoteItemStoreId)
        );
        assert_eq!(
            required_lookup(&spec("\\Migration\\Handler\\SetValue", &[])),
            None
        );
    }

    #[test]
    fn set_visible_on_front_hides_pending_payment() {
        let h = build(
            "\\Migration\\Handler\\SalesOrderStatusState\\SetVisibleOnFront",
            &[],
        );
        let cases = [
            ("pending_payment", "pending_payment", 0),
            ("pending_ogone", "pending_payment", 0),
            ("processed_ogone", "processing", 0),
            ("fraud", "pending_payment", 0),
            ("processing", "processing", 1),
            ("pending", "new", 1),
            ("processed_ogone", "complete", 1),
        ];
        for (status, state, visible) in cases {
            let mut r = record(&[
                ("status", text(status)),
                ("state", text(state)),
                ("is_default", Value::Int(1)),
            ]);
            h.handle(&mut r, &Record::new(), "visible_on_front")
                .unwrap();
            assert_eq!(
                r.get("visible_on_front"),
                Some(&Value::Int(visible)),
                "{status}/{state}"
            );
        }
    }

    #[test]
    fn store_group_code_from_name() {
        assert_eq!(
            store_group_code(b"Main Website Store"),
            b"main_website_store"
        );
        assert_eq!(
            store_group_code(b"  Main Store\tGroup 2 "),
            b"main_store_group_2_"
        );
        assert_eq!(store_group_code(b"123 Shop-\xc3\xa9t\xc3\xa9"), b"shop-t");
        assert_eq!(store_group_code(b"a\x0bb\x85c"), b"a_bc");
        assert_eq!(store_group_code(b"!!!"), b"");
        let h = build("\\Migration\\Handler\\StoreGroupCode", &[]);
        let column = Lookup::StoreGroupNameTaken.column();
        let mut r = record(&[
            ("group_id", Value::Int(1)),
            ("name", text("Main Website Store")),
            (column, Value::Int(0)),
        ]);
        h.handle(&mut r, &Record::new(), "code").unwrap();
        assert_eq!(r.get("code"), Some(&text("main_website_store")));
        assert!(!r.contains(column));
        let mut r = record(&[
            ("group_id", Value::Int(2)),
            ("name", text("Main Website Store")),
        ]);
        let m1 = record(&[(column, text("1"))]);
        h.handle(&mut r, &m1, "code").unwrap();
        // md5("2") = c81e728d9d4c2f636f067f89cc14862c
        assert_eq!(
            r.get("code"),
            Some(&text("main_website_store-c81e728d9d4c2f636f067f89cc14862c"))
        );
        let mut r = record(&[
            ("group_id", Value::Int(3)),
            ("name", text("**")),
            (column, Value::Int(0)),
        ]);
        h.handle(&mut r, &Record::new(), "code").unwrap();
        assert_eq!(r.get("code"), Some(&text("store_group")));
        let mut r = record(&[("group_id", Value::Int(4)), ("name", text("X"))]);
        assert!(h.handle(&mut r, &Record::new(), "code").is_err());
    }

    #[test]
    fn builder_errors_name_class_and_param() {
        let e = build_handler(&spec("\\Migration\\Handler\\Nope", &[])).unwrap_err();
        assert!(
            e.0.contains("unknown handler class \\Migration\\Handler\\Nope"),
            "{e}"
        );
        let e = build_handler(&spec("Migration\\Handler\\Placeholder", &[])).unwrap_err();
        assert_eq!(
            e.0,
            "handler Migration\\Handler\\Placeholder is not available yet in mage-migrate"
        );
        let e = build_handler(&spec("\\Migration\\Handler\\Convert", &[])).unwrap_err();
        assert!(e.0.contains("\"map\" is missing"), "{e}");
        let cwc = "\\Migration\\Handler\\SerializeToJson\\ConvertWithConditions";
        let e = build_handler(&spec(cwc, &[("conditionalField", "code")])).unwrap_err();
        assert!(
            e.0.contains("\"conditionalFieldValuesPattern\" is missing"),
            "{e}"
        );
        let e = build_handler(&spec(
            cwc,
            &[
                ("conditionalField", "code"),
                ("conditionalFieldValuesPattern", "/(a/"),
            ],
        ))
        .unwrap_err();
        assert!(
            e.0.contains("conditionalFieldValuesPattern\" is invalid"),
            "{e}"
        );
        let e = build_handler(&spec(
            cwc,
            &[
                ("conditionalField", ""),
                ("conditionalFieldValuesPattern", "/a/"),
            ],
        ))
        .unwrap_err();
        assert!(e.0.contains("conditionalField\" is invalid"), "{e}");
        // Class names are case-insensitive, the backslash optional; unknown params ignored.
        build("migration\\handler\\serializetojson", &[("nope", "1")]);
    }

    #[test]
    fn every_fixture_handler_builds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/dmt/etc/opensource-to-opensource");
        let mut files: Vec<_> = std::fs::read_dir(root.join("1.9.4.5"))
            .unwrap()
            .chain(std::fs::read_dir(&root).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| {
                std::fs::read_to_string(p)
                    .is_ok_and(|t| t.contains("<map") && t.contains("<handler"))
            })
            .collect();
        files.sort();
        let mut built = 0;
        for file in files {
            let rules = crate::config::map::MapRules::load(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for side in [
                crate::config::map::Side::Source,
                crate::config::map::Side::Destination,
            ] {
                for (_, spec) in rules.all_handlers(side) {
                    build_handler(spec).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                    built += 1;
                }
            }
        }
        assert!(built >= 28, "{built}");
    }

    /// Odd input of every type never panics any handler.
    #[test]
    fn odd_values_never_panic() {
        let handlers = [
            build("Migration\\Handler\\SerializeToJson", &[]),
            build(
                "Migration\\Handler\\SerializeToJson\\ConvertWithConditions",
                &[
                    ("conditionalField", "code"),
                    ("conditionalFieldValuesPattern", "/./"),
                ],
            ),
            build("Migration\\Handler\\SerializeToJson\\ItemOption", &[]),
            build("Migration\\Handler\\SerializeToJson\\SalesOrderItem", &[]),
            build("Migration\\Handler\\Convert", &[("map", "[a:b]")]),
            build("Migration\\Handler\\ConvertIp", &[]),
            build("Migration\\Handler\\SetValue", &[("value", "+1")]),
            build("Migration\\Handler\\Encrypt", &[]),
            build("Migration\\Handler\\QuoteMultiAddressStoreId", &[]),
            build(
                "Migration\\Handler\\SalesOrderStatusState\\SetVisibleOnFront",
                &[],
            ),
            build("Migration\\Handler\\StoreGroupCode", &[]),
        ];
        let values = [
            Value::NULL,
            Value::Bytes(vec![]),
            Value::Bytes(vec![0xff, 0xfe, b':', b';', b'{']),
            Value::Bytes(b"a:1:{s:7:\"options\";s:1:\"x\";}".to_vec()),
            Value::Bytes(b"O:3:\"Foo\":0:{}".to_vec()),
            Value::Int(i64::MIN),
            Value::UInt(u64::MAX),
            Value::Float(f32::NAN),
            Value::Double(f64::INFINITY),
            Value::Date(2024, 2, 29, 23, 59, 59, 999_999),
            Value::Time(true, 40, 1, 2, 3, 4),
        ];
        for h in &handlers {
            for v in &values {
                for code in [Value::NULL, v.clone()] {
                    let mut r = record(&[("v", v.clone()), ("code", code)]);
                    let _ = h.handle(&mut r, &Record::new(), "v");
                }
            }
        }
    }
}
