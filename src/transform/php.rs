//! PHP's `unserialize()` and `json_encode()`, as the DMT's `SerializeToJson` handlers use them.
//!
//! Magento 1 keeps PHP `serialize()` output in many columns (`additional_information`,
//! `product_options`, item option values, …); Magento 2 reads JSON there. The DMT converts with
//! `json_encode(unserialize($value))`, so this module reproduces both PHP functions closely
//! enough that the JSON is byte for byte what PHP 7.4/8.x prints with default flags:
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
//!
//! What `unserialize` accepts is PHP's grammar (`N; b: i: d: s: S: a: O: r: R:`), with string
//! lengths in bytes. Objects: PHP builds an `__PHP_Incomplete_Class` for a class it cannot load,
//! which every Magento 1 class (`Mage_*`, `Varien_*`, …) is in a Magento 2 process; its JSON is
//! `{"__PHP_Incomplete_Class_Name":"Varien_Object", …public properties}` (protected and private
//! properties are left out, as PHP does). `stdClass` gives its properties. Classes that do exist
//! in a Magento 2 process and restore themselves in their own way (PHP's `DateTime`,
//! `ArrayObject`, …, or any namespaced class) are reported as [`JsonError::UnsupportedObject`]
//! rather than guessed. `C:` (custom-serialized) objects of unknown classes make PHP warn, which
//! the DMT turns into an error: they are broken data here.
//!
//! Behaviour of PHP versions that differ: data after the end of the value is ignored (PHP up to
//! 8.2; 8.3 warns); an integer out of the 64-bit range is broken data (PHP 8).

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};

/// PHP's `unserialize_max_depth` default: more nested non-empty arrays or objects fail.
pub const UNSERIALIZE_MAX_DEPTH: usize = 4096;
/// `json_encode`'s default `$depth`: more nested arrays or objects make it fail.
pub const JSON_MAX_DEPTH: usize = 512;
/// Values built by one `unserialize` beyond one per input byte (references are copied, so they
/// count again; PHP would share them). Past this the JSON would be too large to be meant.
const EXTRA_NODES: usize = 1 << 20;

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
            PhpValue::Str(s) => !(s.is_empty() || s == b"0"),
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

/// Why `unserialize` did not give a value that `json_encode` can write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnserializeError {
    /// PHP's `unserialize()` fails here ("Error at offset N of M bytes"; a notice or warning that
    /// the DMT's error handler turns into an exception).
    Broken { offset: usize, len: usize },
    /// PHP's `unserialize()` succeeds, but `json_encode()` of the result returns `false`.
    Unencodable(JsonError),
}

impl fmt::Display for UnserializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnserializeError::Broken { offset, len } => write!(
                f,
                "not valid PHP serialized data: error at offset {offset} of {len} bytes"
            ),
            UnserializeError::Unencodable(e) => write!(f, "cannot be written as JSON: {e}"),
        }
    }
}

impl std::error::Error for UnserializeError {}

/// PHP's `unserialize($input)`.
///
/// Like PHP, an empty input gives `false` without an error. Values nested deeper than
/// `json_encode` can write are checked but not built: they give
/// `Err(Unencodable(JsonError::Depth))` when the data is otherwise valid.
pub fn unserialize(input: &[u8]) -> Result<PhpValue, UnserializeError> {
    if input.is_empty() {
        return Ok(PhpValue::Bool(false));
    }
    // Pass 1 checks the whole input and notes which values references point to; pass 2 builds,
    // keeping copies of just those values.
    let mut check = Parser::new(input, None);
    check.run()?;
    if let Some(class) = check.unsupported.take() {
        return Err(UnserializeError::Unencodable(
            JsonError::UnsupportedObject { class },
        ));
    }
    if check.too_deep {
        return Err(UnserializeError::Unencodable(JsonError::Depth));
    }
    let referenced = std::mem::take(&mut check.referenced);
    let mut build = Parser::new(input, Some(referenced));
    match build.run()? {
        Some(value) => Ok(value),
        None => Err(UnserializeError::Broken {
            offset: 0,
            len: input.len(),
        }),
    }
}

/// `json_encode(unserialize($input))`, as the DMT's handlers compute it.
pub fn serialized_to_json(input: &[u8]) -> Result<String, UnserializeError> {
    let value = unserialize(input)?;
    json_encode(&value).map_err(UnserializeError::Unencodable)
}

enum Token {
    Scalar(PhpValue),
    Array(usize),
    Object(Vec<u8>, usize),
    /// `r:` (`object` true: an object handle copy) or `R:` (a PHP reference).
    Ref {
        id: usize,
        object: bool,
    },
}

enum Body {
    Skip,
    Array(PhpArray, Option<HashMap<ArrayKey, usize>>),
    Object(PhpObject, Option<HashMap<Vec<u8>, usize>>),
}

/// Arrays longer than this get a key index while they are built (PHP keeps the first position
/// of a repeated key).
const INDEX_FROM: usize = 16;

struct Frame {
    body: Body,
    remaining: usize,
    key: Option<ArrayKey>,
    slot: usize,
    counted: bool,
}

impl Frame {
    fn put(&mut self, key: ArrayKey, value: Option<PhpValue>) {
        let Some(value) = value else { return };
        match &mut self.body {
            Body::Skip => {}
            Body::Array(array, index) => {
                put_indexed(&mut array.entries, index, key, value);
            }
            Body::Object(object, index) => {
                let name = match key {
                    ArrayKey::Int(i) => i.to_string().into_bytes(),
                    ArrayKey::Str(s) => s,
                };
                put_indexed(&mut object.props, index, name, value);
            }
        }
    }

    fn finish(self) -> Option<PhpValue> {
        match self.body {
            Body::Skip => None,
            Body::Array(a, _) => Some(PhpValue::Array(a)),
            Body::Object(o, _) => Some(PhpValue::Object(o)),
        }
    }
}

fn put_indexed<K: Clone + Eq + std::hash::Hash>(
    entries: &mut Vec<(K, PhpValue)>,
    index: &mut Option<HashMap<K, usize>>,
    key: K,
    value: PhpValue,
) {
    if index.is_none() && entries.len() >= INDEX_FROM {
        *index = Some(
            entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect(),
        );
    }
    let at = match index {
        Some(map) => map.get(&key).copied(),
        None => entries.iter().position(|(k, _)| *k == key),
    };
    match at {
        Some(i) => entries[i].1 = value,
        None => {
            if let Some(map) = index {
                map.insert(key.clone(), entries.len());
            }
            entries.push((key, value));
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// Pass 2 (building): the slots that references point to, and their values once complete.
    slots: Option<HashMap<usize, Option<PhpValue>>>,
    /// Pass 1: the slots references point to.
    referenced: HashSet<usize>,
    /// Pass 1: whether each slot holds an object (`r:` may point only to one).
    object_slots: Vec<bool>,
    /// Pass 1: the first `C:` object of a class PHP would load itself.
    unsupported: Option<String>,
    /// Values so far; every value but an `R:` takes a slot, numbered from 1.
    next_slot: usize,
    nodes: usize,
    too_deep: bool,
}

impl<'a> Parser<'a> {
    fn new(s: &'a [u8], referenced: Option<HashSet<usize>>) -> Parser<'a> {
        Parser {
            s,
            pos: 0,
            slots: referenced.map(|r| r.into_iter().map(|id| (id, None)).collect()),
            referenced: HashSet::new(),
            object_slots: Vec::new(),
            unsupported: None,
            next_slot: 0,
            nodes: 0,
            too_deep: false,
        }
    }

    fn building(&self) -> bool {
        self.slots.is_some()
    }

    fn broken(&self, offset: usize) -> UnserializeError {
        UnserializeError::Broken {
            offset: offset.min(self.s.len()),
            len: self.s.len(),
        }
    }

    fn count_nodes(&mut self, n: usize) -> Result<(), UnserializeError> {
        self.nodes += n;
        if self.nodes > self.s.len() + EXTRA_NODES {
            return Err(UnserializeError::Unencodable(JsonError::TooLarge));
        }
        Ok(())
    }

    /// A completed value of `slot`: kept when a reference points to it.
    fn complete(&mut self, slot: usize, value: &Option<PhpValue>) {
        if let (Some(slots), Some(v)) = (self.slots.as_mut(), value) {
            if let Some(entry) = slots.get_mut(&slot) {
                *entry = Some(v.clone());
            }
        }
    }

    /// Runs one pass: `Ok(Some(value))` when building, `Ok(None)` when checking.
    fn run(&mut self) -> Result<Option<PhpValue>, UnserializeError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut php_depth = 0usize;
        loop {
            if let Some(top) = stack.last_mut() {
                if top.remaining == 0 {
                    if self.s.get(self.pos) != Some(&b'}') {
                        return Err(self.broken(self.pos));
                    }
                    self.pos += 1;
                    let frame = stack.pop().expect("stack has a top frame");
                    if frame.counted {
                        php_depth -= 1;
                    }
                    let slot = frame.slot;
                    let value = frame.finish();
                    self.complete(slot, &value);
                    match stack.last_mut() {
                        None => return Ok(value),
                        Some(parent) => deliver(parent, value),
                    }
                    continue;
                }
                if top.key.is_none() {
                    let key = self.read_key()?;
                    // `top` is borrowed again: read_key needs `self` mutably.
                    if let Some(top) = stack.last_mut() {
                        top.key = Some(key);
                    }
                    continue;
                }
            }

            let start = self.pos;
            let slot = if self.s.get(start) == Some(&b'R') {
                0
            } else {
                self.next_slot += 1;
                self.next_slot
            };
            let token = self.read_token()?;
            if slot != 0 && !self.building() {
                let object = matches!(token, Token::Object(..) | Token::Ref { object: true, .. });
                self.object_slots.push(object);
            }
            let value = match token {
                Token::Scalar(v) => {
                    self.count_nodes(1)?;
                    Some(v).filter(|_| self.building())
                }
                Token::Array(n) => {
                    let frame = self.open(&stack, false, n, slot, Vec::new(), &mut php_depth)?;
                    stack.push(frame);
                    continue;
                }
                Token::Object(class, n) => {
                    let frame = self.open(&stack, true, n, slot, class, &mut php_depth)?;
                    stack.push(frame);
                    continue;
                }
                Token::Ref { id, object } => self.resolve(&stack, start, id, object)?,
            };
            self.complete(slot, &value);
            match stack.last_mut() {
                None => return Ok(value),
                Some(parent) => deliver(parent, value),
            }
        }
    }

    fn open(
        &mut self,
        stack: &[Frame],
        is_object: bool,
        n: usize,
        slot: usize,
        class: Vec<u8>,
        php_depth: &mut usize,
    ) -> Result<Frame, UnserializeError> {
        // PHP counts objects and non-empty arrays against its depth limit.
        let counted = is_object || n > 0;
        if counted {
            if *php_depth >= UNSERIALIZE_MAX_DEPTH {
                return Err(self.broken(self.pos));
            }
            *php_depth += 1;
        }
        if stack.len() + 1 > JSON_MAX_DEPTH {
            self.too_deep = true;
        }
        self.count_nodes(1)?;
        let body = if !self.building() {
            Body::Skip
        } else if is_object {
            Body::Object(
                PhpObject {
                    class,
                    props: Vec::with_capacity(n.min(64)),
                },
                None,
            )
        } else {
            Body::Array(
                PhpArray {
                    entries: Vec::with_capacity(n.min(64)),
                },
                None,
            )
        };
        Ok(Frame {
            body,
            remaining: n,
            key: None,
            slot,
            counted,
        })
    }

    fn resolve(
        &mut self,
        stack: &[Frame],
        start: usize,
        id: usize,
        object: bool,
    ) -> Result<Option<PhpValue>, UnserializeError> {
        // `r:` has taken its own slot already and may not point to it.
        let last = if object {
            self.next_slot - 1
        } else {
            self.next_slot
        };
        if id == 0 || id > last {
            return Err(self.broken(start));
        }
        if object && !self.building() && !self.object_slots.get(id - 1).copied().unwrap_or(false) {
            return Err(self.broken(start));
        }
        let Some(slots) = self.slots.as_ref() else {
            self.referenced.insert(id);
            return Ok(None);
        };
        match slots.get(&id) {
            Some(Some(v)) => {
                if stack.len() + v.depth() > JSON_MAX_DEPTH {
                    return Err(UnserializeError::Unencodable(JsonError::Depth));
                }
                let (v, nodes) = (v.clone(), v.nodes());
                self.count_nodes(nodes)?;
                Ok(Some(v))
            }
            // Still being built: the value would contain itself.
            Some(None) => Err(UnserializeError::Unencodable(JsonError::Recursion)),
            None => Err(self.broken(start)),
        }
    }

    fn read_key(&mut self) -> Result<ArrayKey, UnserializeError> {
        let start = self.pos;
        match self.s.get(start) {
            Some(b'i') => match self.read_token()? {
                Token::Scalar(PhpValue::Int(i)) => Ok(ArrayKey::Int(i)),
                _ => Err(self.broken(start)),
            },
            Some(b's' | b'S') => match self.read_token()? {
                Token::Scalar(PhpValue::Str(s)) => Ok(ArrayKey::from_bytes(&s)),
                _ => Err(self.broken(start)),
            },
            _ => Err(self.broken(start)),
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), UnserializeError> {
        if self.s.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.broken(self.pos))
        }
    }

    /// `[0-9]+`.
    fn digits(&mut self) -> Result<&'a [u8], UnserializeError> {
        let s: &'a [u8] = self.s;
        let start = self.pos;
        let len = s[start..].iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return Err(self.broken(start));
        }
        self.pos += len;
        Ok(&s[start..start + len])
    }

    /// An unsigned count or length; one too large for memory is as broken as one too large
    /// for the input.
    fn count(&mut self) -> Result<usize, UnserializeError> {
        let start = self.pos;
        let digits = self.digits()?;
        digits
            .iter()
            .try_fold(0usize, |n, d| {
                n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            })
            .ok_or_else(|| self.broken(start))
    }

    fn read_token(&mut self) -> Result<Token, UnserializeError> {
        let start = self.pos;
        let Some(&tag) = self.s.get(start) else {
            return Err(self.broken(start));
        };
        self.pos += 1;
        if tag == b'N' {
            self.expect(b';')?;
            return Ok(Token::Scalar(PhpValue::Null));
        }
        self.expect(b':')?;
        match tag {
            b'b' => {
                let value = match self.s.get(self.pos) {
                    Some(b'0') => false,
                    Some(b'1') => true,
                    _ => return Err(self.broken(self.pos)),
                };
                self.pos += 1;
                self.expect(b';')?;
                Ok(Token::Scalar(PhpValue::Bool(value)))
            }
            b'i' => {
                let negative = match self.s.get(self.pos) {
                    Some(b'-') => {
                        self.pos += 1;
                        true
                    }
                    Some(b'+') => {
                        self.pos += 1;
                        false
                    }
                    _ => false,
                };
                let digits = self.digits()?;
                let mut magnitude: u64 = 0;
                for d in digits {
                    magnitude = magnitude
                        .checked_mul(10)
                        .and_then(|m| m.checked_add(u64::from(d - b'0')))
                        .ok_or_else(|| self.broken(start))?;
                }
                let value = if negative {
                    0i64.checked_sub_unsigned(magnitude)
                } else {
                    i64::try_from(magnitude).ok()
                };
                let value = value.ok_or_else(|| self.broken(start))?;
                self.expect(b';')?;
                Ok(Token::Scalar(PhpValue::Int(value)))
            }
            b'd' => {
                let body_start = self.pos;
                let end = self.s[body_start..]
                    .iter()
                    .position(|&b| b == b';')
                    .map(|i| body_start + i)
                    .ok_or_else(|| self.broken(body_start))?;
                let value =
                    parse_php_double(&self.s[body_start..end]).ok_or(self.broken(body_start))?;
                self.pos = end + 1;
                Ok(Token::Scalar(PhpValue::Float(value)))
            }
            b's' | b'S' => {
                let len = self.count()?;
                self.expect(b':')?;
                self.expect(b'"')?;
                let body = self.pos;
                if self.s.len() - body < len {
                    return Err(self.broken(start + 2));
                }
                let bytes = if tag == b's' {
                    self.pos += len;
                    self.s[body..body + len].to_vec()
                } else {
                    self.escaped_string(len)?
                };
                self.expect(b'"')?;
                self.expect(b';')?;
                Ok(Token::Scalar(PhpValue::Str(bytes)))
            }
            b'a' => {
                let n = self.count()?;
                self.expect(b':')?;
                self.expect(b'{')?;
                // Every element takes at least 4 bytes (`i:0;N;`); a larger count cannot be met.
                if n > self.s.len() - self.pos {
                    return Err(self.broken(start + 2));
                }
                Ok(Token::Array(n))
            }
            b'O' => {
                let len = self.count()?;
                self.expect(b':')?;
                self.expect(b'"')?;
                let name_start = self.pos;
                if len == 0 || self.s.len() - name_start < len {
                    return Err(self.broken(start + 2));
                }
                let class = &self.s[name_start..name_start + len];
                if !class
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'\\' || b >= 0x80)
                {
                    return Err(self.broken(name_start));
                }
                let class = class.to_vec();
                self.pos += len;
                self.expect(b'"')?;
                self.expect(b':')?;
                let negative = match self.s.get(self.pos) {
                    Some(b'-') => {
                        self.pos += 1;
                        true
                    }
                    Some(b'+') => {
                        self.pos += 1;
                        false
                    }
                    _ => false,
                };
                let count_at = self.pos;
                let n = self.count()?;
                if negative && n > 0 {
                    return Err(self.broken(count_at));
                }
                self.expect(b':')?;
                self.expect(b'{')?;
                if n > self.s.len() - self.pos {
                    return Err(self.broken(count_at));
                }
                Ok(Token::Object(class, n))
            }
            b'r' | b'R' => {
                let id = self.count()?;
                self.expect(b';')?;
                Ok(Token::Ref {
                    id,
                    object: tag == b'r',
                })
            }
            b'C' => {
                // `C:len:"Class":datalen:{data}`: PHP warns ("has no unserializer") for a class
                // it cannot load; one it can restores itself, which is not reproduced.
                let len = self.count()?;
                self.expect(b':')?;
                self.expect(b'"')?;
                let name_start = self.pos;
                if len == 0 || self.s.len() - name_start < len {
                    return Err(self.broken(start + 2));
                }
                let class = &self.s[name_start..name_start + len];
                if !matches!(class_kind(class), ClassKind::Unsupported) {
                    return Err(self.broken(start));
                }
                let class = String::from_utf8_lossy(class).into_owned();
                self.pos += len;
                self.expect(b'"')?;
                self.expect(b':')?;
                let data_len = self.count()?;
                self.expect(b':')?;
                self.expect(b'{')?;
                if self.s.len() - self.pos < data_len {
                    return Err(self.broken(self.pos));
                }
                self.pos += data_len;
                self.expect(b'}')?;
                self.unsupported.get_or_insert(class);
                Ok(Token::Scalar(PhpValue::Null))
            }
            // `E:` needs an enum, which no Magento 1 store has.
            _ => Err(self.broken(start)),
        }
    }

    /// The body of `S:len:"…"`: `len` bytes, each a byte or `\` and two hex digits.
    fn escaped_string(&mut self, len: usize) -> Result<Vec<u8>, UnserializeError> {
        let mut out = Vec::with_capacity(len.min(self.s.len()));
        for _ in 0..len {
            let Some(&b) = self.s.get(self.pos) else {
                return Err(self.broken(self.pos));
            };
            if b != b'\\' {
                out.push(b);
                self.pos += 1;
                continue;
            }
            let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
            match (hex(self.s.get(self.pos + 1)), hex(self.s.get(self.pos + 2))) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err(self.broken(self.pos)),
            }
            self.pos += 3;
        }
        Ok(out)
    }
}

fn deliver(parent: &mut Frame, value: Option<PhpValue>) {
    let key = parent.key.take().unwrap_or(ArrayKey::Int(0));
    parent.remaining -= 1;
    parent.put(key, value);
}

/// The body of `d:…;`: PHP's `iv | nv | nvexp`, or `NAN`, `INF`, `-INF`.
fn parse_php_double(body: &[u8]) -> Option<f64> {
    match body {
        b"NAN" => return Some(f64::NAN),
        b"INF" => return Some(f64::INFINITY),
        b"-INF" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let mut i = 0;
    let sign = match body.first() {
        Some(b'-') => {
            i += 1;
            "-"
        }
        Some(b'+') => {
            i += 1;
            ""
        }
        _ => "",
    };
    let run = |from: usize| {
        body[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int_len = run(i);
    let int_part = &body[i..i + int_len];
    i += int_len;
    let mut frac_part: &[u8] = &[];
    if body.get(i) == Some(&b'.') {
        i += 1;
        let frac_len = run(i);
        frac_part = &body[i..i + frac_len];
        i += frac_len;
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut exponent = String::new();
    if matches!(body.get(i), Some(b'e' | b'E')) {
        i += 1;
        match body.get(i) {
            Some(b'-') => {
                exponent.push('-');
                i += 1;
            }
            Some(b'+') => i += 1,
            _ => {}
        }
        let exp_len = run(i);
        if exp_len == 0 {
            return None;
        }
        exponent.push_str(std::str::from_utf8(&body[i..i + exp_len]).ok()?);
        i += exp_len;
    }
    if i != body.len() {
        return None;
    }
    let text = format!(
        "{sign}{}.{}e{}",
        if int_part.is_empty() {
            "0"
        } else {
            std::str::from_utf8(int_part).ok()?
        },
        if frac_part.is_empty() {
            "0"
        } else {
            std::str::from_utf8(frac_part).ok()?
        },
        if exponent.is_empty() { "0" } else { &exponent },
    );
    text.parse().ok()
}

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

/// A finite double as PHP prints it with `serialize_precision = -1` (`php_gcvt` with the
/// shortest round-trip digits and 17 as the limit for plain notation).
fn php_double(value: f64, exp_char: char, out: &mut String) {
    // `{:e}` gives the shortest digits that read back to the same double: "1.2345e-7".
    let formatted = format!("{:e}", value.abs());
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exponent.parse::<i32>().unwrap_or(0) + 1;
    if value.is_sign_negative() {
        out.push('-');
    }
    if !(-3..=17).contains(&decpt) {
        let mut chars = digits.chars();
        out.extend(chars.next());
        out.push('.');
        let rest = chars.as_str();
        out.push_str(if rest.is_empty() { "0" } else { rest });
        out.push(exp_char);
        out.push(if decpt - 1 < 0 { '-' } else { '+' });
        let _ = write!(out, "{}", (decpt - 1).unsigned_abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..-decpt {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let decpt = decpt as usize;
        if digits.len() <= decpt {
            out.push_str(&digits);
            for _ in digits.len()..decpt {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..decpt]);
            out.push('.');
            out.push_str(&digits[decpt..]);
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn json(input: &str) -> String {
        serialized_to_json(input.as_bytes()).unwrap()
    }

    fn s(text: &str) -> PhpValue {
        PhpValue::str(text)
    }

    fn key(text: &str) -> ArrayKey {
        ArrayKey::from_bytes(text.as_bytes())
    }

    #[test]
    fn scalars() {
        assert_eq!(unserialize(b"N;").unwrap(), PhpValue::Null);
        assert_eq!(unserialize(b"b:1;").unwrap(), PhpValue::Bool(true));
        assert_eq!(unserialize(b"b:0;").unwrap(), PhpValue::Bool(false));
        assert_eq!(unserialize(b"i:-42;").unwrap(), PhpValue::Int(-42));
        assert_eq!(unserialize(b"i:+7;").unwrap(), PhpValue::Int(7));
        assert_eq!(
            unserialize(b"i:-9223372036854775808;").unwrap(),
            PhpValue::Int(i64::MIN)
        );
        assert!(unserialize(b"i:9223372036854775808;").is_err());
        assert_eq!(unserialize(b"d:0.5;").unwrap(), PhpValue::Float(0.5));
        assert_eq!(unserialize(b"d:.5;").unwrap(), PhpValue::Float(0.5));
        assert_eq!(unserialize(b"d:5.;").unwrap(), PhpValue::Float(5.0));
        assert_eq!(unserialize(b"d:1.5E+25;").unwrap(), PhpValue::Float(1.5e25));
        assert_eq!(unserialize(b"d:-2e-3;").unwrap(), PhpValue::Float(-0.002));
        assert_eq!(
            unserialize(b"d:0.10000000000000001;").unwrap(),
            PhpValue::Float(0.1)
        );
        assert_eq!(
            unserialize(b"d:INF;").unwrap(),
            PhpValue::Float(f64::INFINITY)
        );
        assert_eq!(
            unserialize(b"d:-INF;").unwrap(),
            PhpValue::Float(f64::NEG_INFINITY)
        );
        assert!(matches!(unserialize(b"d:NAN;").unwrap(), PhpValue::Float(f) if f.is_nan()));
        assert_eq!(
            unserialize(b"d:1e99999999999999999999;").unwrap(),
            PhpValue::Float(f64::INFINITY)
        );
        for bad in [
            "d:;", "d:e5;", "d:1e;", "d:+INF;", "d:1.5x;", "d:..5;", "b:2;", "i:;", "i:1", "N",
            "x:1;",
        ] {
            assert!(unserialize(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_count_bytes() {
        // "é" is two bytes, "€" three; quotes and semicolons inside are data.
        assert_eq!(
            unserialize("s:5:\"caf\u{e9}\";".as_bytes()).unwrap(),
            s("caf\u{e9}")
        );
        assert_eq!(
            unserialize("s:9:\"a\"b;c\u{20ac}\";\";".as_bytes()),
            Err(UnserializeError::Broken {
                offset: 14,
                len: 17
            })
        );
        assert_eq!(
            unserialize("s:10:\"a\"b;c\u{20ac}\";\";".as_bytes()).unwrap(),
            s("a\"b;c\u{20ac}\";")
        );
        // Too short, too long.
        assert!(unserialize(b"s:4:\"abc\";").is_err());
        assert!(unserialize(b"s:2:\"abc\";").is_err());
        assert!(unserialize(b"s:99999999999999999999999:\"a\";").is_err());
        assert_eq!(unserialize(b"S:3:\"a\\41b\";").unwrap(), s("aAb"));
        assert!(unserialize(b"S:3:\"a\\4xb\";").is_err());
    }

    #[test]
    fn arrays_keys_and_order() {
        let v = unserialize(b"a:3:{i:1;s:1:\"a\";s:1:\"0\";s:1:\"b\";s:3:\"key\";N;}").unwrap();
        let PhpValue::Array(a) = &v else {
            panic!("{v:?}")
        };
        let keys: Vec<_> = a.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, vec![ArrayKey::Int(1), ArrayKey::Int(0), key("key")]);
        assert_eq!(json_encode(&v).unwrap(), r#"{"1":"a","0":"b","key":null}"#);
        // A repeated key keeps its first place and takes the last value.
        assert_eq!(
            json("a:3:{i:0;s:1:\"a\";i:1;s:1:\"b\";i:0;s:1:\"c\";}"),
            r#"["c","b"]"#
        );
        assert_eq!(json("a:0:{}"), "[]");
        // "-0", "05" and "5 " stay string keys.
        assert_eq!(
            json("a:3:{s:2:\"-0\";i:1;s:2:\"05\";i:2;s:2:\"5 \";i:3;}"),
            r#"{"-0":1,"05":2,"5 ":3}"#
        );
        for bad in [
            "a:1:{i:0;N;",
            "a:2:{i:0;N;}",
            "a:1:{N;N;}",
            "a:1:{d:1;N;}",
            "a:1:{a:0:{}N;}",
            "a:-1:{}",
            "a:1:{i:0;N;i:1;N;}",
        ] {
            assert!(unserialize(bad.as_bytes()).is_err(), "{bad}");
        }
        // Many keys (the indexed path), with a repeat at the end.
        let mut input = String::from("a:41:{");
        for i in 0..40 {
            input.push_str(&format!("s:2:\"k{}\";i:{i};", i % 10));
        }
        input.push_str("s:2:\"k3\";s:1:\"x\";}");
        let v = unserialize(input.as_bytes()).unwrap();
        let PhpValue::Array(a) = v else { panic!() };
        assert_eq!(a.len(), 10);
        assert_eq!(a.get_str("k3"), Some(&s("x")));
    }

    #[test]
    fn json_strings_like_php() {
        assert_eq!(
            json_encode(&s("a/b \"q\" \\ \u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}")).unwrap(),
            r#""a\/b \"q\" \\ \b\f\n\r\t\u0001\u001f"#.to_string() + "\u{7f}\""
        );
        assert_eq!(
            json_encode(&s("caf\u{e9} \u{20ac} \u{1f600}")).unwrap(),
            r#""caf\u00e9 \u20ac \ud83d\ude00""#
        );
        assert_eq!(json_encode(&s("")).unwrap(), r#""""#);
        assert!(matches!(
            json_encode(&PhpValue::Str(b"caf\xe9".to_vec())),
            Err(JsonError::InvalidUtf8 { .. })
        ));
        // Surrogates encoded in UTF-8 and overlong forms are invalid, as for PHP.
        assert!(json_encode(&PhpValue::Str(b"\xed\xa0\x80".to_vec())).is_err());
        assert!(json_encode(&PhpValue::Str(b"\xc0\xaf".to_vec())).is_err());
    }

    #[test]
    fn json_floats_like_php() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (100.0, "100"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e17, "1.0e+17"),
            (1.5e300, "1.5e+300"),
            (123456789012345680000.0, "1.2345678901234568e+20"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.00001, "1.0e-5"),
            (1.25e-7, "1.25e-7"),
            (5e-324, "5.0e-324"),
            (10.0 / 3.0, "3.3333333333333335"),
            (12.5, "12.5"),
            (1234.5678, "1234.5678"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                json_encode(&PhpValue::Float(*value)).unwrap(),
                *expected,
                "{value:e}"
            );
        }
        assert_eq!(
            json_encode(&PhpValue::Float(f64::INFINITY)),
            Err(JsonError::InfOrNan)
        );
        assert_eq!(
            json_encode(&PhpValue::Float(f64::NAN)),
            Err(JsonError::InfOrNan)
        );
        assert_eq!(serialize(&PhpValue::Float(1.5e25)), b"d:1.5E+25;".to_vec());
        assert_eq!(serialize(&PhpValue::Float(0.1)), b"d:0.1;".to_vec());
    }

    #[test]
    fn objects() {
        // An M1 class: PHP's incomplete class, public properties only.
        let input = "O:13:\"Varien_Object\":3:{s:8:\"\0*\0_data\";a:1:{s:1:\"a\";i:1;}s:4:\"name\";s:1:\"x\";s:16:\"\0Varien_Object\0p\";i:2;}";
        assert_eq!(
            json(input),
            r#"{"__PHP_Incomplete_Class_Name":"Varien_Object","name":"x"}"#
        );
        assert_eq!(
            json("O:8:\"stdClass\":2:{s:1:\"a\";i:1;i:5;b:1;}"),
            r#"{"a":1,"5":true}"#
        );
        assert_eq!(json("O:8:\"stdClass\":0:{}"), "{}");
        assert!(matches!(
            serialized_to_json(b"O:8:\"DateTime\":0:{}"),
            Err(UnserializeError::Unencodable(
                JsonError::UnsupportedObject { .. }
            ))
        ));
        assert!(matches!(
            serialized_to_json(b"a:1:{i:0;C:11:\"ArrayObject\":21:{x:i:0;a:0:{};m:a:0:{}}}"),
            Err(UnserializeError::Unencodable(
                JsonError::UnsupportedObject { .. }
            ))
        ));
        assert!(matches!(
            serialized_to_json(b"O:9:\"Foo\\Bar\\X\":0:{}"),
            Err(UnserializeError::Unencodable(
                JsonError::UnsupportedObject { .. }
            ))
        ));
        for bad in [
            "O:0:\"\":0:{}",
            "O:3:\"a-b\":0:{}",
            "O:8:\"stdClass\":-1:{}",
            "O:8:\"stdClass\":1:{N;N;}",
            "C:3:\"Foo\":0:{}",
            "E:7:\"Foo:Bar\";",
        ] {
            assert!(
                matches!(
                    unserialize(bad.as_bytes()),
                    Err(UnserializeError::Broken { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn references() {
        // `R:2` is the string (slot 2: the array is 1), `r:1` would be the array itself.
        assert_eq!(json("a:2:{i:0;s:1:\"x\";i:1;R:2;}"), r#"["x","x"]"#);
        assert_eq!(json("a:2:{i:0;O:8:\"stdClass\":0:{}i:1;r:2;}"), "[{},{}]");
        assert_eq!(json("a:2:{i:0;O:8:\"stdClass\":0:{}i:1;R:2;}"), "[{},{}]");
        // `r:` must point to an object.
        assert!(matches!(
            unserialize(b"a:2:{i:0;a:1:{i:0;i:5;}i:1;r:2;}"),
            Err(UnserializeError::Broken { .. })
        ));
        assert!(matches!(
            unserialize(b"a:2:{i:0;i:5;i:1;r:2;}"),
            Err(UnserializeError::Broken { .. })
        ));
        assert_eq!(
            serialized_to_json(b"O:8:\"stdClass\":1:{s:1:\"a\";r:1;}"),
            Err(UnserializeError::Unencodable(JsonError::Recursion))
        );
        assert_eq!(
            serialized_to_json(b"a:1:{i:0;R:1;}"),
            Err(UnserializeError::Unencodable(JsonError::Recursion))
        );
        assert!(matches!(
            unserialize(b"a:1:{i:0;R:3;}"),
            Err(UnserializeError::Broken { .. })
        ));
        assert!(matches!(
            unserialize(b"r:1;"),
            Err(UnserializeError::Broken { .. })
        ));
        assert!(matches!(
            unserialize(b"R:1;"),
            Err(UnserializeError::Broken { .. })
        ));
        assert!(matches!(
            unserialize(b"R:0;"),
            Err(UnserializeError::Broken { .. })
        ));
        // A billion laughs is refused, not expanded.
        let mut input = String::from("a:60:{i:0;a:2:{i:0;i:1;i:1;i:1;}");
        for i in 1..60 {
            // Slots: the outer array 1, element 0 is 2 (its ints 3 and 4), element i is i + 4.
            let previous = if i == 1 { 2 } else { i + 3 };
            input.push_str(&format!("i:{i};a:2:{{i:0;R:{previous};i:1;R:{previous};}}"));
        }
        input.push('}');
        assert_eq!(
            unserialize(input.as_bytes()),
            Err(UnserializeError::Unencodable(JsonError::TooLarge))
        );
    }

    #[test]
    fn depth_limits() {
        let nested = |n: usize| {
            let mut s = String::new();
            for _ in 0..n {
                s.push_str("a:1:{i:0;");
            }
            s.push_str("N;");
            for _ in 0..n {
                s.push('}');
            }
            s
        };
        assert!(serialized_to_json(nested(512).as_bytes()).is_ok());
        assert_eq!(
            serialized_to_json(nested(513).as_bytes()),
            Err(UnserializeError::Unencodable(JsonError::Depth))
        );
        assert_eq!(
            unserialize(nested(4096).as_bytes()),
            Err(UnserializeError::Unencodable(JsonError::Depth))
        );
        assert!(matches!(
            unserialize(nested(4097).as_bytes()),
            Err(UnserializeError::Broken { .. })
        ));
        // Deep and cut short: broken, checked without deep recursion.
        let cut = nested(100_000);
        assert!(matches!(
            unserialize(&cut.as_bytes()[..cut.len() - 1]),
            Err(UnserializeError::Broken { .. })
        ));
    }

    #[test]
    fn empty_input_and_trailing_data() {
        assert_eq!(unserialize(b"").unwrap(), PhpValue::Bool(false));
        assert_eq!(json(""), "false");
        assert_eq!(unserialize(b"i:1;garbage").unwrap(), PhpValue::Int(1));
    }

    #[test]
    fn truthiness() {
        for v in [
            PhpValue::Null,
            PhpValue::Bool(false),
            PhpValue::Int(0),
            PhpValue::Float(0.0),
            s(""),
            s("0"),
            PhpValue::Array(PhpArray::new()),
        ] {
            assert!(!v.is_truthy(), "{v:?}");
        }
        for v in [
            PhpValue::Int(-1),
            PhpValue::Float(f64::NAN),
            s("0.0"),
            s(" "),
            PhpValue::Array(PhpArray::list([PhpValue::Null])),
        ] {
            assert!(v.is_truthy(), "{v:?}");
        }
    }

    #[test]
    fn magento_payment_additional_information() {
        // sales_flat_order_payment.additional_information of a PayPal Express order.
        let input = concat!(
            "a:5:{s:15:\"paypal_payer_id\";s:13:\"Q6A8WKX9GGZNS\";",
            "s:18:\"paypal_payer_email\";s:20:\"buyer@example.com.au\";",
            "s:19:\"paypal_payer_status\";s:8:\"verified\";",
            "s:20:\"paypal_fraud_filters\";a:2:{i:0;s:12:\"AVS No Match\";i:1;s:22:\"Maximum Amount/Ceiling\";}",
            "s:23:\"paypal_express_checkout\";a:3:{s:5:\"token\";s:20:\"EC-9AB12345CD678901E\";",
            "s:6:\"amount\";d:129.95;s:4:\"note\";s:14:\"Gr\u{fc}\u{df}e \u{2013} ok\";}}"
        );
        assert_eq!(
            json(input),
            concat!(
                r#"{"paypal_payer_id":"Q6A8WKX9GGZNS","paypal_payer_email":"buyer@example.com.au","#,
                r#""paypal_payer_status":"verified","paypal_fraud_filters":["AVS No Match","Maximum Amount\/Ceiling"],"#,
                r#""paypal_express_checkout":{"token":"EC-9AB12345CD678901E","amount":129.95,"note":"Gr\u00fc\u00dfe \u2013 ok"}}"#
            )
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn float() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<f64>().prop_filter("NaN never equals itself", |f| !f.is_nan()),
                (-1_000_000i64..1_000_000).prop_map(|i| i as f64 / 100.0),
                Just(f64::INFINITY),
                Just(-0.0),
            ]
        }

        fn bytes() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..12),
                ".{0,12}".prop_map(String::into_bytes),
                "[0-9-]{1,4}".prop_map(String::into_bytes),
                Just(b"a\";s:1:\"b\";}".to_vec()),
            ]
        }

        fn php_value(utf8_only: bool) -> impl Strategy<Value = PhpValue> {
            let text = move || -> BoxedStrategy<Vec<u8>> {
                if utf8_only {
                    ".{0,12}".prop_map(String::into_bytes).boxed()
                } else {
                    bytes().boxed()
                }
            };
            let leaf = prop_oneof![
                Just(PhpValue::Null),
                any::<bool>().prop_map(PhpValue::Bool),
                any::<i64>().prop_map(PhpValue::Int),
                if utf8_only {
                    float().prop_filter("finite", |f| f.is_finite()).boxed()
                } else {
                    float().boxed()
                }
                .prop_map(PhpValue::Float),
                text().prop_map(PhpValue::Str),
            ];
            leaf.prop_recursive(4, 48, 6, move |inner| {
                let key = prop_oneof![
                    any::<i64>().prop_map(ArrayKey::Int),
                    (0i64..4).prop_map(ArrayKey::Int),
                    text().prop_map(|k| ArrayKey::from_bytes(&k)),
                ];
                let prop_name = if utf8_only {
                    "[a-z_]{0,6}".prop_map(String::into_bytes).boxed()
                } else {
                    bytes().boxed()
                };
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..5)
                        .prop_map(|vs| PhpValue::Array(PhpArray::list(vs))),
                    proptest::collection::vec((key, inner.clone()), 0..5)
                        .prop_map(|es| PhpValue::Array(PhpArray::from_entries(es))),
                    (
                        "[A-Za-z_][A-Za-z0-9_]{0,12}",
                        proptest::collection::vec((prop_name, inner), 0..4)
                    )
                        .prop_map(|(class, props)| {
                            // Properties are unique, as in any object PHP serializes.
                            let mut unique: Vec<(Vec<u8>, PhpValue)> = Vec::new();
                            for (n, v) in props {
                                if !unique.iter().any(|(m, _)| *m == n) {
                                    unique.push((n, v));
                                }
                            }
                            PhpValue::Object(PhpObject {
                                class: class.into_bytes(),
                                props: unique,
                            })
                        }),
                ]
            })
        }

        /// Objects of classes PHP would load are not JSON-encoded; keep the generated ones
        /// to M1-style names.
        fn has_unsupported(v: &PhpValue) -> bool {
            match v {
                PhpValue::Array(a) => a.iter().any(|(_, v)| has_unsupported(v)),
                PhpValue::Object(o) => {
                    matches!(o.kind(), ClassKind::Unsupported)
                        || o.props.iter().any(|(_, v)| has_unsupported(v))
                }
                _ => false,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn unserialize_inverts_serialize(v in php_value(false)) {
                let bytes = serialize(&v);
                prop_assert_eq!(unserialize(&bytes), Ok(v));
            }

            #[test]
            fn json_output_is_json(v in php_value(true)) {
                prop_assume!(!has_unsupported(&v));
                let text = json_encode(&v).expect("UTF-8 strings and finite floats encode");
                prop_assert!(text.is_ascii());
                let parsed: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
                prop_assert!(same_json(&v, &parsed), "{:?} vs {}", v, text);
            }

            #[test]
            fn unserialize_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
                let _ = unserialize(&bytes);
            }

            #[test]
            fn truncated_input_never_panics(v in php_value(false), cut in any::<prop::sample::Index>()) {
                let bytes = serialize(&v);
                let cut = cut.index(bytes.len());
                let _ = unserialize(&bytes[..cut]);
            }
        }

        /// The JSON PHP would decode back: strings, numbers, keys.
        fn same_json(v: &PhpValue, j: &serde_json::Value) -> bool {
            use serde_json::Value as J;
            match (v, j) {
                (PhpValue::Null, J::Null) => true,
                (PhpValue::Bool(a), J::Bool(b)) => a == b,
                (PhpValue::Int(a), J::Number(n)) => n.as_i64() == Some(*a),
                (PhpValue::Float(a), J::Number(n)) => n.as_f64() == Some(*a),
                (PhpValue::Str(a), J::String(b)) => a == b.as_bytes(),
                (PhpValue::Array(a), J::Array(b)) => {
                    a.is_list()
                        && a.len() == b.len()
                        && a.iter().zip(b).all(|((_, x), y)| same_json(x, y))
                }
                (PhpValue::Array(a), J::Object(b)) => {
                    !a.is_list()
                        && a.len() == b.len()
                        && a.iter().all(|(k, x)| {
                            let k = String::from_utf8(k.to_bytes()).unwrap();
                            b.get(&k).is_some_and(|y| same_json(x, y))
                        })
                }
                (PhpValue::Object(o), J::Object(b)) => {
                    let public: Vec<_> = o
                        .props
                        .iter()
                        .filter(|(n, _)| n.first() != Some(&0))
                        .collect();
                    let extra = usize::from(matches!(o.kind(), ClassKind::Incomplete));
                    public.len() + extra == b.len()
                        && public.iter().all(|(n, x)| {
                            b.get(std::str::from_utf8(n).unwrap())
                                .is_some_and(|y| same_json(x, y))
                        })
                }
                _ => false,
            }
        }
    }
}
