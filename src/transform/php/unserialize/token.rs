//! One token of PHP's serialize format: a scalar, the head of an array or object, or a
//! reference; read by the `Parser` that builds the tree.

use super::{Parser, UnserializeError};
use crate::transform::php::{class_kind, ArrayKey, ClassKind, PhpValue};

pub(super) enum Token {
    Scalar(PhpValue),
    Array(usize),
    Object(Vec<u8>, usize),
    /// `r:` (`object` true: an object handle copy) or `R:` (a PHP reference).
    Ref {
        id: usize,
        object: bool,
    },
}

impl<'a> Parser<'a> {
    /// An array key or property name: `i:` or `s:`/`S:`.
    pub(super) fn read_key(&mut self) -> Result<ArrayKey, UnserializeError> {
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
        decimal(digits)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| self.broken(start))
    }

    /// An optional `+` or `-`; true for `-`.
    fn sign(&mut self) -> bool {
        let (negative, len) = sign(&self.s[self.pos..]);
        self.pos += len;
        negative
    }

    /// `len:"` of `s:`, `S:`, `O:` and `C:` (tag at `start`): a length the rest of the input can
    /// hold.
    fn quoted_len(&mut self, start: usize) -> Result<usize, UnserializeError> {
        let len = self.count()?;
        self.expect(b':')?;
        self.expect(b'"')?;
        if self.s.len() - self.pos < len {
            return Err(self.broken(start + 2));
        }
        Ok(len)
    }

    /// `len:"Name":` of `O:` and `C:` (tag at `start`): the class name, once `check` accepts it.
    /// `check` gets the name and its offset, and rejects it with the offset to report.
    fn class_name(
        &mut self,
        start: usize,
        check: impl FnOnce(&[u8], usize) -> Result<(), usize>,
    ) -> Result<&'a [u8], UnserializeError> {
        let s: &'a [u8] = self.s;
        let len = self.quoted_len(start)?;
        if len == 0 {
            return Err(self.broken(start + 2));
        }
        let name_start = self.pos;
        let name = &s[name_start..name_start + len];
        check(name, name_start).map_err(|at| self.broken(at))?;
        self.pos += len;
        self.expect(b'"')?;
        self.expect(b':')?;
        Ok(name)
    }

    pub(super) fn read_token(&mut self) -> Result<Token, UnserializeError> {
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
                let negative = self.sign();
                let digits = self.digits()?;
                let magnitude = decimal(digits).ok_or_else(|| self.broken(start))?;
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
                let len = self.quoted_len(start)?;
                let body = self.pos;
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
                let class = self
                    .class_name(start, |name, at| {
                        let valid = |&b: &u8| {
                            b.is_ascii_alphanumeric() || b == b'_' || b == b'\\' || b >= 0x80
                        };
                        if name.iter().all(valid) {
                            Ok(())
                        } else {
                            Err(at)
                        }
                    })?
                    .to_vec();
                let negative = self.sign();
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
                let class = self.class_name(start, |name, _| {
                    if matches!(class_kind(name), ClassKind::Unsupported) {
                        Ok(())
                    } else {
                        Err(start)
                    }
                })?;
                let class = String::from_utf8_lossy(class).into_owned();
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

/// The body of `d:…;`: PHP's `iv | nv | nvexp`, or `NAN`, `INF`, `-INF`.
fn parse_php_double(body: &[u8]) -> Option<f64> {
    match body {
        b"NAN" => return Some(f64::NAN),
        b"INF" => return Some(f64::INFINITY),
        b"-INF" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let (negative, mut i) = sign(body);
    let sign = if negative { "-" } else { "" };
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

/// An optional `+` or `-` at the start of `s`: whether it is `-`, and its length.
fn sign(s: &[u8]) -> (bool, usize) {
    match s.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    }
}

/// The value of ASCII digits; None past `u64`.
fn decimal(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}
