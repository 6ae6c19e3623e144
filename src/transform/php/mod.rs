//! PHP values, and PHP's `unserialize()`, `serialize()` and `json_encode()` on them, as the
//! DMT's `SerializeToJson` handlers use them.
//!
//! Magento 1 keeps PHP `serialize()` output in many columns (`additional_information`,
//! `product_options`, item option values, …); Magento 2 reads JSON there. The DMT converts with
//! `json_encode(unserialize($value))`; [`serialized_to_json`] does the same, byte for byte.
//! This module holds the values; each function has its own submodule, and `float` holds how PHP
//! prints a double, which `serialize` and `json_encode` share.

mod float;
mod json;
mod serialize;
mod unserialize;

pub use json::{json_encode, JsonError, JSON_MAX_DEPTH};
pub use serialize::serialize;
pub use unserialize::{unserialize, UnserializeError, UNSERIALIZE_MAX_DEPTH};

/// A PHP value.
#[derive(Debug, Clone, PartialEq)]
pub enum PhpValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// PHP strings are bytes: usually UTF-8, not always.
    Str(Vec<u8>),
    Array(PhpArray),
    Object(PhpObject),
}

impl PhpValue {
    pub fn str(s: &str) -> PhpValue {
        PhpValue::Str(s.as_bytes().to_vec())
    }

    /// PHP's conversion to bool (`if ($value)`): null, false, 0, 0.0, `""`, `"0"` and `[]` are
    /// false.
    pub fn is_truthy(&self) -> bool {
        match self {
            PhpValue::Null => false,
            PhpValue::Bool(b) => *b,
            PhpValue::Int(i) => *i != 0,
            PhpValue::Float(f) => *f != 0.0,
            PhpValue::Str(s) => str_is_truthy(s),
            PhpValue::Array(a) => !a.is_empty(),
            PhpValue::Object(_) => true,
        }
    }

    /// Containers nested in this value, itself included (what `json_encode`'s depth counts).
    fn depth(&self) -> usize {
        match self {
            PhpValue::Array(a) => 1 + a.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            PhpValue::Object(o) => 1 + o.props.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn nodes(&self) -> usize {
        match self {
            PhpValue::Array(a) => 1 + a.iter().map(|(_, v)| v.nodes()).sum::<usize>(),
            PhpValue::Object(o) => 1 + o.props.iter().map(|(_, v)| v.nodes()).sum::<usize>(),
            _ => 1,
        }
    }
}

/// PHP's conversion of a string to bool: every string but `""` and `"0"` is true (`"false"`
/// and `"0.0"` too).
pub(crate) fn str_is_truthy(s: &[u8]) -> bool {
    !(s.is_empty() || s == b"0")
}

/// An array key: PHP turns a string key that is a canonical decimal integer into an int key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArrayKey {
    Int(i64),
    Str(Vec<u8>),
}

impl ArrayKey {
    /// The key PHP uses for the string `s`: `"5"` and `"-3"` are int keys, `"05"`, `"-0"`, `"5 "`
    /// and numbers out of the 64-bit range stay strings.
    pub fn from_bytes(s: &[u8]) -> ArrayKey {
        match canonical_int(s) {
            Some(i) => ArrayKey::Int(i),
            None => ArrayKey::Str(s.to_vec()),
        }
    }

    /// The key as PHP prints it.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ArrayKey::Int(i) => i.to_string().into_bytes(),
            ArrayKey::Str(s) => s.clone(),
        }
    }
}

fn canonical_int(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let canonical = match digits {
        [] => false,
        [b'0'] => digits.len() == s.len(),
        [first, rest @ ..] => (b'1'..=b'9').contains(first) && rest.iter().all(u8::is_ascii_digit),
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// A PHP array: an ordered map from int or string keys to values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhpArray {
    entries: Vec<(ArrayKey, PhpValue)>,
}

impl PhpArray {
    pub fn new() -> PhpArray {
        PhpArray::default()
    }

    /// Builds an array as PHP's `$a[$k] = $v` would, in order: a repeated key keeps its first
    /// position and takes the last value.
    pub fn from_entries(entries: impl IntoIterator<Item = (ArrayKey, PhpValue)>) -> PhpArray {
        let mut array = PhpArray::new();
        for (k, v) in entries {
            array.insert(k, v);
        }
        array
    }

    /// A list `[0 => a, 1 => b, …]`.
    pub fn list(values: impl IntoIterator<Item = PhpValue>) -> PhpArray {
        PhpArray {
            entries: values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (ArrayKey::Int(i as i64), v))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ArrayKey, &PhpValue)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&ArrayKey, &mut PhpValue)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn get(&self, key: &ArrayKey) -> Option<&PhpValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &ArrayKey) -> Option<&mut PhpValue> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// `$array['key']`, with PHP's key conversion.
    pub fn get_str(&self, key: &str) -> Option<&PhpValue> {
        self.get(&ArrayKey::from_bytes(key.as_bytes()))
    }

    pub fn get_str_mut(&mut self, key: &str) -> Option<&mut PhpValue> {
        self.get_mut(&ArrayKey::from_bytes(key.as_bytes()))
    }

    /// `$array[$key] = $value`: replaces in place or appends.
    pub fn insert(&mut self, key: ArrayKey, value: PhpValue) {
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Whether `json_encode` writes this array as a JSON list: keys 0, 1, …, n-1 in order.
    pub fn is_list(&self) -> bool {
        self.entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| *k == ArrayKey::Int(i as i64))
    }
}

/// A PHP object: its class and its properties in order. Protected and private properties keep
/// PHP's mangled names (`"\0*\0name"`, `"\0Class\0name"`).
#[derive(Debug, Clone, PartialEq)]
pub struct PhpObject {
    pub class: Vec<u8>,
    pub props: Vec<(Vec<u8>, PhpValue)>,
}

/// How a Magento 2 PHP process would see an object of a class.
enum ClassKind {
    /// `stdClass`: its properties.
    Plain,
    /// Not loadable there: `__PHP_Incomplete_Class`.
    Incomplete,
    /// Loadable there and restored by its own code: not reproduced.
    Unsupported,
}

/// PHP classes with their own unserialize or JSON behaviour that a Magento 1 column might hold.
const BUILTIN_CLASSES: &[&str] = &[
    "ArrayIterator",
    "ArrayObject",
    "DateInterval",
    "DatePeriod",
    "DateTime",
    "DateTimeImmutable",
    "DateTimeZone",
    "Error",
    "ErrorException",
    "Exception",
    "RecursiveArrayIterator",
    "SimpleXMLElement",
    "SplDoublyLinkedList",
    "SplFixedArray",
    "SplObjectStorage",
    "SplQueue",
    "SplStack",
];

impl PhpObject {
    fn kind(&self) -> ClassKind {
        class_kind(&self.class)
    }
}

fn class_kind(name: &[u8]) -> ClassKind {
    if name.eq_ignore_ascii_case(b"stdClass") {
        ClassKind::Plain
    } else if name.contains(&b'\\')
        || BUILTIN_CLASSES
            .iter()
            .any(|c| c.as_bytes().eq_ignore_ascii_case(name))
    {
        ClassKind::Unsupported
    } else {
        ClassKind::Incomplete
    }
}

/// `json_encode(unserialize($input))`, as the DMT's handlers compute it.
pub fn serialized_to_json(input: &[u8]) -> Result<String, UnserializeError> {
    let value = unserialize(input)?;
    json_encode(&value).map_err(UnserializeError::Unencodable)
}

#[cfg(test)]
mod tests;
