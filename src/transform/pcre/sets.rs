//! Sets of bytes, and the syntax that builds them: escapes (`\d`, `\x41`, …), classes `[…]`
//! and POSIX names (`[:digit:]`).

use super::parse::Parser;
use super::Node;

/// A set of bytes.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct ByteSet([u64; 4]);

impl std::fmt::Debug for ByteSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ByteSet({} bytes)",
            self.0.iter().map(|w| w.count_ones()).sum::<u32>()
        )
    }
}

impl ByteSet {
    fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    fn insert_range(&mut self, from: u8, to: u8) {
        for b in from..=to {
            self.insert(b);
        }
    }

    pub(super) fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    fn union(&mut self, other: &ByteSet) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    pub(super) fn negated(mut self) -> ByteSet {
        for w in &mut self.0 {
            *w = !*w;
        }
        self
    }

    pub(super) fn single(b: u8) -> ByteSet {
        let mut set = ByteSet::default();
        set.insert(b);
        set
    }

    /// Adds the other ASCII case of every letter.
    fn caseless(mut self) -> ByteSet {
        for b in b'a'..=b'z' {
            let upper = b.to_ascii_uppercase();
            if self.contains(b) || self.contains(upper) {
                self.insert(b);
                self.insert(upper);
            }
        }
        self
    }
}

impl Parser<'_> {
    /// `set`, with the other case of its letters under the `i` modifier.
    pub(super) fn folded(&self, set: ByteSet) -> ByteSet {
        if self.flags.caseless {
            set.caseless()
        } else {
            set
        }
    }

    /// An escape that stands for bytes (after the backslash), inside or outside a class.
    pub(super) fn escaped_set(&mut self) -> Result<ByteSet, String> {
        let at = self.i;
        let b = self.peek().ok_or("the pattern ends with a backslash")?;
        self.i += 1;
        if let Some(set) = type_escape(b) {
            return Ok(set);
        }
        let byte = match b {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'f' => 0x0c,
            b'e' => 0x1b,
            b'a' => 0x07,
            b'0' => {
                let digits = self.s[self.i..]
                    .iter()
                    .take(2)
                    .take_while(|b| (b'0'..=b'7').contains(*b))
                    .count();
                let mut value = 0u32;
                for d in &self.s[self.i..self.i + digits] {
                    value = value * 8 + u32::from(d - b'0');
                }
                self.i += digits;
                value as u8
            }
            b'x' => self.hex_escape()?,
            b if b.is_ascii_alphanumeric() => {
                return Err(format!(
                    "the escape \\{} at offset {at} is not supported",
                    char::from(b)
                ))
            }
            b => b,
        };
        Ok(self.folded(ByteSet::single(byte)))
    }

    fn hex_escape(&mut self) -> Result<u8, String> {
        if self.peek() == Some(b'{') {
            let rest = &self.s[self.i + 1..];
            let close = rest
                .iter()
                .position(|b| *b == b'}')
                .ok_or("\\x{ is not closed")?;
            let digits = std::str::from_utf8(&rest[..close]).map_err(|e| e.to_string())?;
            let value = u32::from_str_radix(digits, 16)
                .map_err(|_| format!("\\x{{{digits}}} is not a hex number"))?;
            self.i += close + 2;
            return u8::try_from(value)
                .map_err(|_| format!("\\x{{{digits}}} is above \\xff (needs the u modifier)"));
        }
        let digits = self.s[self.i..]
            .iter()
            .take(2)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let mut value = 0u8;
        for d in &self.s[self.i..self.i + digits] {
            value = value * 16 + (*d as char).to_digit(16).unwrap_or(0) as u8;
        }
        self.i += digits;
        Ok(value)
    }

    pub(super) fn class(&mut self) -> Result<Node, String> {
        let start = self.i - 1;
        let negated = self.peek() == Some(b'^');
        if negated {
            self.i += 1;
        }
        let mut set = ByteSet::default();
        let mut first = true;
        loop {
            let b = self
                .peek()
                .ok_or_else(|| format!("missing terminating ] for the class at offset {start}"))?;
            if b == b']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            if b == b'[' && self.s.get(self.i + 1) == Some(&b':') {
                set.union(&self.posix_class()?);
                continue;
            }
            let low = self.class_item()?;
            let is_range =
                self.peek() == Some(b'-') && self.s.get(self.i + 1).is_some_and(|b| *b != b']');
            match low {
                ClassItem::Byte(lo) if is_range => {
                    self.i += 1;
                    match self.class_item()? {
                        ClassItem::Byte(hi) if hi >= lo => set.insert_range(lo, hi),
                        ClassItem::Byte(_) => {
                            return Err(format!(
                                "range out of order in the class at offset {start}"
                            ))
                        }
                        ClassItem::Set(_) => {
                            return Err(format!("invalid range in the class at offset {start}"))
                        }
                    }
                }
                ClassItem::Set(_) if is_range => {
                    return Err(format!("invalid range in the class at offset {start}"))
                }
                ClassItem::Byte(b) => set.insert(b),
                ClassItem::Set(s) => set.union(&s),
            }
        }
        let set = self.folded(set);
        Ok(Node::Set(if negated { set.negated() } else { set }))
    }

    fn class_item(&mut self) -> Result<ClassItem, String> {
        let b = self.peek().ok_or("missing terminating ] for a class")?;
        self.i += 1;
        if b != b'\\' {
            return Ok(ClassItem::Byte(b));
        }
        let e = self.peek().ok_or("the pattern ends with a backslash")?;
        if e == b'b' {
            self.i += 1;
            return Ok(ClassItem::Byte(0x08));
        }
        if type_escape(e).is_some() {
            self.i += 1;
            return Ok(ClassItem::Set(type_escape(e).unwrap_or_default()));
        }
        // Caseless folding is applied to the whole class afterwards.
        let caseless = std::mem::replace(&mut self.flags.caseless, false);
        let set = self.escaped_set();
        self.flags.caseless = caseless;
        let set = set?;
        let byte = (0..=255u8)
            .find(|b| set.contains(*b))
            .ok_or("an empty escape in a class")?;
        Ok(ClassItem::Byte(byte))
    }

    fn posix_class(&mut self) -> Result<ByteSet, String> {
        let rest = &self.s[self.i + 2..];
        let close = rest
            .windows(2)
            .position(|w| w == b":]")
            .ok_or("a POSIX class is not closed")?;
        let name = &rest[..close];
        self.i += 2 + close + 2;
        let (negated, name) = match name.strip_prefix(b"^") {
            Some(n) => (true, n),
            None => (false, name),
        };
        let mut set = ByteSet::default();
        let test: fn(&u8) -> bool = match name {
            b"alpha" => u8::is_ascii_alphabetic,
            b"digit" => u8::is_ascii_digit,
            b"alnum" => u8::is_ascii_alphanumeric,
            b"upper" => u8::is_ascii_uppercase,
            b"lower" => u8::is_ascii_lowercase,
            b"xdigit" => u8::is_ascii_hexdigit,
            b"punct" => u8::is_ascii_punctuation,
            b"space" => |b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'),
            b"blank" => |b| matches!(b, b' ' | b'\t'),
            b"cntrl" => u8::is_ascii_control,
            b"print" => |b| (0x20..0x7f).contains(b),
            b"graph" => u8::is_ascii_graphic,
            b"word" => |b| b.is_ascii_alphanumeric() || *b == b'_',
            b"ascii" => u8::is_ascii,
            other => {
                return Err(format!(
                    "unknown POSIX class name [:{}:]",
                    String::from_utf8_lossy(other)
                ))
            }
        };
        for b in 0..=255u8 {
            if test(&b) {
                set.insert(b);
            }
        }
        Ok(if negated { set.negated() } else { set })
    }
}

enum ClassItem {
    Byte(u8),
    Set(ByteSet),
}

/// `\d \D \w \W \s \S \h \H \v \V` as PCRE has them without `u`.
fn type_escape(b: u8) -> Option<ByteSet> {
    let mut set = ByteSet::default();
    let (base, negated) = match b {
        b'd' | b'D' => {
            set.insert_range(b'0', b'9');
            (set, b == b'D')
        }
        b'w' | b'W' => {
            set.insert_range(b'0', b'9');
            set.insert_range(b'a', b'z');
            set.insert_range(b'A', b'Z');
            set.insert(b'_');
            (set, b == b'W')
        }
        b's' | b'S' => {
            for c in [b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r'] {
                set.insert(c);
            }
            (set, b == b'S')
        }
        b'h' | b'H' => {
            for c in [b' ', b'\t', 0xa0] {
                set.insert(c);
            }
            (set, b == b'H')
        }
        b'v' | b'V' => {
            for c in [b'\n', 0x0b, 0x0c, b'\r', 0x85] {
                set.insert(c);
            }
            (set, b == b'V')
        }
        _ => return None,
    };
    Some(if negated { base.negated() } else { base })
}
