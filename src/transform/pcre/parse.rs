//! Parses the body of a pattern (between its delimiters) into a [`Node`] tree: alternation,
//! concatenation, quantifiers, groups and anchors. Byte sets, escapes and classes are in `sets`.

use super::matcher::Assertion;
use super::sets::ByteSet;
use super::{Flags, Node};

/// PCRE's limit for `{n,m}`.
const MAX_REPEAT: u32 = 65_535;
const MAX_NESTING: usize = 250;

/// A recursive-descent parser over the pattern body.
pub(super) struct Parser<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
    pub(super) flags: Flags,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// With `x`: skips unescaped white space and `#` comments.
    fn skip_extended(&mut self) {
        if !self.flags.extended {
            return;
        }
        while let Some(b) = self.peek() {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
                self.i += 1;
            } else if b == b'#' {
                while let Some(b) = self.peek() {
                    self.i += 1;
                    if b == b'\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    pub(super) fn alternation(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_NESTING {
            return Err("parentheses are nested too deeply".into());
        }
        let mut branches = vec![self.concatenation(depth)?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            branches.push(self.concatenation(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concatenation(&mut self, depth: usize) -> Result<Node, String> {
        let mut items = Vec::new();
        loop {
            self.skip_extended();
            match self.peek() {
                None | Some(b'|') | Some(b')') => break,
                _ => {}
            }
            let atom_at = self.i;
            let atom = self.atom(depth)?;
            self.skip_extended();
            let atom = self.quantified(atom, atom_at)?;
            items.push(atom);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    fn quantified(&mut self, atom: Node, atom_at: usize) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                (0, None)
            }
            Some(b'+') => {
                self.i += 1;
                (1, None)
            }
            Some(b'?') => {
                self.i += 1;
                (0, Some(1))
            }
            Some(b'{') => match self.counted() {
                Some(bounds) => bounds?,
                None => return Ok(atom),
            },
            _ => return Ok(atom),
        };
        if matches!(atom, Node::Assert(_)) {
            return Err(format!(
                "quantifier does not follow a repeatable item at offset {atom_at}"
            ));
        }
        match self.peek() {
            Some(b'?') => self.i += 1, // lazy: the same yes/no
            Some(b'+') => return Err("possessive quantifiers are not supported".into()),
            _ => {}
        }
        if self.matches_quantifier() {
            return Err(format!("nested quantifier at offset {}", self.i));
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    fn matches_quantifier(&self) -> bool {
        matches!(self.peek(), Some(b'*' | b'+' | b'?'))
    }

    /// `{n}`, `{n,}`, `{n,m}`; None when the brace is a literal (as PCRE reads `a{x}`).
    #[allow(clippy::type_complexity)]
    fn counted(&mut self) -> Option<Result<(u32, Option<u32>), String>> {
        let rest = &self.s[self.i + 1..];
        let close = rest.iter().position(|b| *b == b'}')?;
        let inner = std::str::from_utf8(&rest[..close]).ok()?;
        let (lo, hi) = match inner.split_once(',') {
            None => (inner, Some(inner)),
            Some((lo, hi)) => (lo, if hi.is_empty() { None } else { Some(hi) }),
        };
        let number = |t: &str| -> Option<u32> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                Some(t.parse().unwrap_or(u32::MAX))
            }
        };
        let min = number(lo)?;
        let max = match hi {
            None => None,
            Some(hi) => Some(number(hi)?),
        };
        self.i += close + 2;
        if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT) {
            return Some(Err("number too big in {} quantifier".into()));
        }
        if max.is_some_and(|m| m < min) {
            return Some(Err("numbers out of order in {} quantifier".into()));
        }
        Some(Ok((min, max)))
    }

    fn atom(&mut self, depth: usize) -> Result<Node, String> {
        let at = self.i;
        let b = self.peek().ok_or("unexpected end of pattern")?;
        self.i += 1;
        match b {
            b'(' => {
                if self.peek() == Some(b'?') {
                    self.i += 1;
                    match self.peek() {
                        Some(b':') => self.i += 1,
                        Some(b'P') if self.s.get(self.i + 1) == Some(&b'<') => {
                            self.i += 2;
                            self.group_name(b'>')?;
                        }
                        Some(b'<')
                            if self
                                .s
                                .get(self.i + 1)
                                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') =>
                        {
                            self.i += 1;
                            self.group_name(b'>')?;
                        }
                        Some(b'\'') => {
                            self.i += 1;
                            self.group_name(b'\'')?;
                        }
                        _ => {
                            return Err(format!(
                                "the group construct at offset {at} is not supported"
                            ))
                        }
                    }
                }
                let inner = self.alternation(depth + 1)?;
                if self.peek() != Some(b')') {
                    return Err(format!("missing closing parenthesis for offset {at}"));
                }
                self.i += 1;
                Ok(inner)
            }
            b'*' | b'+' | b'?' => Err(format!(
                "quantifier does not follow a repeatable item at offset {at}"
            )),
            b'[' => self.class(),
            b'.' => {
                let set = if self.flags.dotall {
                    ByteSet::default().negated()
                } else {
                    ByteSet::single(b'\n').negated()
                };
                Ok(Node::Set(set))
            }
            b'^' => Ok(Node::Assert(if self.flags.multiline {
                Assertion::LineStart
            } else {
                Assertion::Start
            })),
            b'$' => Ok(Node::Assert(if self.flags.multiline {
                Assertion::LineEnd
            } else if self.flags.dollar_endonly {
                Assertion::End
            } else {
                Assertion::EndOrFinalNewline
            })),
            b'\\' => self.escape(),
            b => Ok(Node::Set(self.folded(ByteSet::single(b)))),
        }
    }

    fn group_name(&mut self, end: u8) -> Result<(), String> {
        let len = self.s[self.i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        self.i += len;
        if len == 0 || self.peek() != Some(end) {
            return Err("a group name is malformed".into());
        }
        self.i += 1;
        Ok(())
    }

    fn escape(&mut self) -> Result<Node, String> {
        let at = self.i;
        let b = self.peek().ok_or("the pattern ends with a backslash")?;
        self.i += 1;
        let assertion = match b {
            b'A' | b'G' => Some(Assertion::Start),
            b'z' => Some(Assertion::End),
            b'Z' => Some(Assertion::EndOrFinalNewline),
            b'b' => Some(Assertion::WordBoundary),
            b'B' => Some(Assertion::NotWordBoundary),
            _ => None,
        };
        if let Some(a) = assertion {
            return Ok(Node::Assert(a));
        }
        self.i = at;
        let set = self.escaped_set()?;
        Ok(Node::Set(set))
    }
}
