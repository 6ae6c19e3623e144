//! `preg_match($pattern, $subject)` as a yes/no, for the PCRE patterns map.xml passes to
//! handlers (`conditionalFieldValuesPattern="/(parameters)|(info_buyRequest)/"`).
//!
//! Supported, with PCRE's meaning on bytes (no `u` modifier): delimiters (`/…/`, `#…#`,
//! `(…)`, `{…}`, …); modifiers `i m s x D U A`; literals and escapes (`\d \D \w \W \s \S \h \H
//! \v \V`, `\n \r \t \f \e \a \0 \xhh \x{hh}`, escaped punctuation); `.`; classes `[…]` with
//! ranges, negation, escapes and POSIX names; groups `(…)`, `(?:…)` and named ones; `|`;
//! greedy and lazy `* + ? {n} {n,} {n,m}`; anchors `^ $ \A \z \Z \G \b \B`. Anything else
//! (backreferences, lookaround, possessive quantifiers, inline options, `u`) is refused when the
//! pattern is compiled, never guessed.
//!
//! Matching is a Thompson NFA simulation: linear in the subject, whatever the pattern.
//!
//! The pattern is parsed (`parse`, with byte sets, escapes and classes in `sets`) into a tree of
//! `Node`s, which `matcher` compiles to a program and runs.

mod matcher;
mod parse;
mod sets;

use self::matcher::{compile, Assertion, Inst};
use self::parse::Parser;
use self::sets::ByteSet;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    insts: Vec<Inst>,
    anchored: bool,
}

/// The parsed pattern: what `parse` builds and `matcher` compiles.
#[derive(Debug, Clone)]
enum Node {
    Empty,
    Set(ByteSet),
    Assert(Assertion),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

/// The modifiers after the closing delimiter that change what matches.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    caseless: bool,
    multiline: bool,
    dotall: bool,
    extended: bool,
    dollar_endonly: bool,
    anchored: bool,
}

impl Pattern {
    /// Compiles a PHP regex with its delimiters and modifiers, e.g. `/option_\d+/i`.
    pub fn new(regex: &str) -> Result<Pattern, String> {
        let bytes = regex.as_bytes();
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .ok_or("the pattern is empty")?;
        let delimiter = bytes[start];
        if delimiter.is_ascii_alphanumeric() || delimiter == b'\\' || delimiter == 0 {
            return Err("a delimiter must not be alphanumeric, a backslash or NUL".into());
        }
        let closing = match delimiter {
            b'(' => b')',
            b'[' => b']',
            b'{' => b'}',
            b'<' => b'>',
            d => d,
        };
        let body_start = start + 1;
        let mut i = body_start;
        let mut nesting = 0usize;
        let body_end = loop {
            let Some(&b) = bytes.get(i) else {
                return Err(format!(
                    "no ending delimiter '{}' found",
                    char::from(closing)
                ));
            };
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == closing && nesting == 0 {
                break i;
            }
            if closing != delimiter {
                if b == closing {
                    nesting -= 1;
                } else if b == delimiter {
                    nesting += 1;
                }
            }
            i += 1;
        };
        let mut flags = Flags::default();
        for &m in &bytes[body_end + 1..] {
            match m {
                b'i' => flags.caseless = true,
                b'm' => flags.multiline = true,
                b's' => flags.dotall = true,
                b'x' => flags.extended = true,
                b'D' => flags.dollar_endonly = true,
                b'A' => flags.anchored = true,
                // Ungreedy, study, extra, duplicate names, no auto-capture: the same yes/no.
                b'U' | b'S' | b'X' | b'J' | b'n' | b' ' | b'\n' | b'\r' => {}
                other => return Err(format!("modifier '{}' is not supported", char::from(other))),
            }
        }
        let mut parser = Parser {
            s: &bytes[body_start..body_end],
            i: 0,
            flags,
        };
        let node = parser.alternation(0)?;
        if parser.i < parser.s.len() {
            return Err(format!(
                "unmatched closing parenthesis at offset {}",
                parser.i
            ));
        }
        let mut insts = Vec::new();
        compile(&node, &mut insts)?;
        insts.push(Inst::Match);
        Ok(Pattern {
            insts,
            anchored: flags.anchored,
        })
    }
}

#[cfg(test)]
mod tests;
