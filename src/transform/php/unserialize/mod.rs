//! PHP's `unserialize()`: the tree of values, references and limits. The grammar of a single
//! token is in `token`.
//!
//! What it accepts is PHP's grammar (`N; b: i: d: s: S: a: O: r: R:`), with string lengths in
//! bytes. Objects: PHP builds an `__PHP_Incomplete_Class` for a class it cannot load, which every
//! Magento 1 class (`Mage_*`, `Varien_*`, …) is in a Magento 2 process; its JSON is
//! `{"__PHP_Incomplete_Class_Name":"Varien_Object", …public properties}` (protected and private
//! properties are left out, as PHP does). `stdClass` gives its properties. Classes that do exist
//! in a Magento 2 process and restore themselves in their own way (PHP's `DateTime`,
//! `ArrayObject`, …, or any namespaced class) are reported as [`JsonError::UnsupportedObject`]
//! rather than guessed. `C:` (custom-serialized) objects of unknown classes make PHP warn, which
//! the DMT turns into an error: they are broken data here.
//!
//! Behaviour of PHP versions that differ: data after the end of the value is ignored (PHP up to
//! 8.2; 8.3 warns); an integer out of the 64-bit range is broken data (PHP 8).

mod token;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::ControlFlow;

use self::token::Token;
use super::json::{JsonError, JSON_MAX_DEPTH};
use super::{ArrayKey, PhpArray, PhpObject, PhpValue};

/// PHP's `unserialize_max_depth` default: more nested non-empty arrays or objects fail.
pub const UNSERIALIZE_MAX_DEPTH: usize = 4096;
/// Values built by one `unserialize` beyond one per input byte (references are copied, so they
/// count again; PHP would share them). Past this the JSON would be too large to be meant.
const EXTRA_NODES: usize = 1 << 20;

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

/// One pass over the input: checking (pass 1) or building (pass 2).
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

    /// A completed value of `slot`: kept when a reference points to it, then put into the array
    /// or object being read. At the top level it is the result: `Break`.
    fn complete(
        &mut self,
        stack: &mut [Frame],
        slot: usize,
        value: Option<PhpValue>,
    ) -> ControlFlow<Option<PhpValue>> {
        if let (Some(slots), Some(v)) = (self.slots.as_mut(), &value) {
            if let Some(entry) = slots.get_mut(&slot) {
                *entry = Some(v.clone());
            }
        }
        let Some(parent) = stack.last_mut() else {
            return ControlFlow::Break(value);
        };
        let key = parent.key.take().unwrap_or(ArrayKey::Int(0));
        parent.remaining -= 1;
        parent.put(key, value);
        ControlFlow::Continue(())
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
                    if let ControlFlow::Break(result) = self.complete(&mut stack, slot, value) {
                        return Ok(result);
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
            if let ControlFlow::Break(result) = self.complete(&mut stack, slot, value) {
                return Ok(result);
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
}
