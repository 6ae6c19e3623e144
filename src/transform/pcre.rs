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

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    insts: Vec<Inst>,
    anchored: bool,
}

/// A set of bytes.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct ByteSet([u64; 4]);

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

    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    fn union(&mut self, other: &ByteSet) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }

    fn negated(mut self) -> ByteSet {
        for w in &mut self.0 {
            *w = !*w;
        }
        self
    }

    fn single(b: u8) -> ByteSet {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assertion {
    /// `^` (no `m`), `\A`, `\G`.
    Start,
    /// `^` with `m`.
    LineStart,
    /// `\z`, or `$` with `D`.
    End,
    /// `$` (no `m`, no `D`), `\Z`: the end, or before a newline that ends the subject.
    EndOrFinalNewline,
    /// `$` with `m`.
    LineEnd,
    WordBoundary,
    NotWordBoundary,
}

impl Assertion {
    fn holds(self, s: &[u8], pos: usize) -> bool {
        let word = |i: usize| {
            s.get(i)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        };
        let before = pos > 0 && word(pos - 1);
        match self {
            Assertion::Start => pos == 0,
            Assertion::LineStart => pos == 0 || (s[pos - 1] == b'\n' && pos < s.len()),
            Assertion::End => pos == s.len(),
            Assertion::EndOrFinalNewline => {
                pos == s.len() || (pos + 1 == s.len() && s[pos] == b'\n')
            }
            Assertion::LineEnd => pos == s.len() || s[pos] == b'\n',
            Assertion::WordBoundary => before != word(pos),
            Assertion::NotWordBoundary => before == word(pos),
        }
    }
}

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

#[derive(Debug, Clone)]
enum Inst {
    Set(ByteSet),
    Assert(Assertion),
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// Program size past which a pattern (usually a large counted repeat) is refused.
const MAX_INSTS: usize = 20_000;
/// PCRE's limit for `{n,m}`.
const MAX_REPEAT: u32 = 65_535;
const MAX_NESTING: usize = 250;

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

    /// Whether the pattern matches somewhere in `subject` (`preg_match(...) === 1`).
    pub fn is_match(&self, subject: &[u8]) -> bool {
        let n = self.insts.len();
        let mut current = Threads::new(n);
        let mut next = Threads::new(n);
        let mut stack = Vec::new();
        for pos in 0..=subject.len() {
            if (pos == 0 || !self.anchored) && self.add(&mut current, &mut stack, 0, subject, pos) {
                return true;
            }
            if pos == subject.len() || current.list.is_empty() {
                if self.anchored || pos == subject.len() {
                    return false;
                }
                continue;
            }
            let b = subject[pos];
            next.clear();
            for i in 0..current.list.len() {
                let pc = current.list[i];
                if let Inst::Set(set) = &self.insts[pc] {
                    if set.contains(b) && self.add(&mut next, &mut stack, pc + 1, subject, pos + 1)
                    {
                        return true;
                    }
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Adds the thread at `pc` and everything reachable without reading a byte; true when that
    /// reaches the end of the pattern.
    fn add(
        &self,
        threads: &mut Threads,
        stack: &mut Vec<usize>,
        pc: usize,
        subject: &[u8],
        pos: usize,
    ) -> bool {
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !threads.insert(pc) {
                continue;
            }
            match &self.insts[pc] {
                Inst::Match => return true,
                Inst::Jmp(to) => stack.push(*to),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::Assert(a) => {
                    if a.holds(subject, pos) {
                        stack.push(pc + 1);
                    }
                }
                Inst::Set(_) => {}
            }
        }
        false
    }
}

struct Threads {
    seen: Vec<bool>,
    list: Vec<usize>,
}

impl Threads {
    fn new(n: usize) -> Threads {
        Threads {
            seen: vec![false; n],
            list: Vec::with_capacity(n),
        }
    }

    fn insert(&mut self, pc: usize) -> bool {
        if self.seen[pc] {
            return false;
        }
        self.seen[pc] = true;
        self.list.push(pc);
        true
    }

    fn clear(&mut self) {
        for &pc in &self.list {
            self.seen[pc] = false;
        }
        self.list.clear();
    }
}

fn compile(node: &Node, insts: &mut Vec<Inst>) -> Result<(), String> {
    if insts.len() > MAX_INSTS {
        return Err("the pattern is too large".into());
    }
    match node {
        Node::Empty => {}
        Node::Set(set) => insts.push(Inst::Set(*set)),
        Node::Assert(a) => insts.push(Inst::Assert(*a)),
        Node::Concat(nodes) => {
            for n in nodes {
                compile(n, insts)?;
            }
        }
        Node::Alt(branches) => {
            let mut to_end = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                if i + 1 == branches.len() {
                    compile(branch, insts)?;
                } else {
                    let split = insts.len();
                    insts.push(Inst::Split(split + 1, 0));
                    compile(branch, insts)?;
                    to_end.push(insts.len());
                    insts.push(Inst::Jmp(0));
                    let next = insts.len();
                    insts[split] = Inst::Split(split + 1, next);
                }
            }
            let end = insts.len();
            for at in to_end {
                insts[at] = Inst::Jmp(end);
            }
        }
        Node::Repeat { node, min, max } => {
            for _ in 0..*min {
                compile(node, insts)?;
            }
            match max {
                None => {
                    let split = insts.len();
                    insts.push(Inst::Split(split + 1, 0));
                    compile(node, insts)?;
                    insts.push(Inst::Jmp(split));
                    let end = insts.len();
                    insts[split] = Inst::Split(split + 1, end);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(insts.len());
                        insts.push(Inst::Split(0, 0));
                        compile(node, insts)?;
                    }
                    let end = insts.len();
                    for at in splits {
                        insts[at] = Inst::Split(at + 1, end);
                    }
                }
            }
        }
    }
    if insts.len() > MAX_INSTS {
        return Err("the pattern is too large".into());
    }
    Ok(())
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    flags: Flags,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
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

    fn alternation(&mut self, depth: usize) -> Result<Node, String> {
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

    fn literal(&self, b: u8) -> Node {
        let set = ByteSet::single(b);
        Node::Set(if self.flags.caseless {
            set.caseless()
        } else {
            set
        })
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
            b => Ok(self.literal(b)),
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

    /// An escape that stands for bytes (after the backslash), inside or outside a class.
    fn escaped_set(&mut self) -> Result<ByteSet, String> {
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
        let set = ByteSet::single(byte);
        Ok(if self.flags.caseless {
            set.caseless()
        } else {
            set
        })
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

    fn class(&mut self) -> Result<Node, String> {
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
        if self.flags.caseless {
            set = set.caseless();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, subject: &str) -> bool {
        Pattern::new(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(subject.as_bytes())
    }

    #[test]
    fn the_item_option_pattern_of_the_stock_map() {
        let p = "/(parameters)|(info_buyRequest)|(attributes)|(bundle_option_ids)|(bundle_selection_ids)|(bundle_selection_attributes)/";
        for yes in [
            "info_buyRequest",
            "parameters",
            "attributes",
            "bundle_option_ids",
            "bundle_selection_attributes",
            "selection_qty_attributes",
            "x_parameters_y",
        ] {
            assert!(m(p, yes), "{yes}");
        }
        for no in [
            "option_ids",
            "option_12",
            "product_type",
            "",
            "INFO_BUYREQUEST",
        ] {
            assert!(!m(p, no), "{no}");
        }
        assert!(m(&format!("{p}i"), "INFO_BUYREQUEST"));
    }

    #[test]
    fn pcre_basics() {
        assert!(m("/option_\\d+/", "option_12"));
        assert!(!m("/option_\\d+/", "option_x"));
        assert!(m("/^a.c$/", "abc"));
        assert!(m("/^a.c$/", "abc\n"));
        assert!(!m("/^a.c$/D", "abc\n"));
        assert!(!m("/^a.c$/", "a\nc"));
        assert!(m("/^a.c$/s", "a\nc"));
        assert!(m("/^b$/m", "a\nb\nc"));
        assert!(!m("/^b$/", "a\nb\nc"));
        assert!(m("#^[a-z0-9-_]+$#", "store-code_1"));
        assert!(!m("#^[a-z0-9-_]+$#", "Store"));
        assert!(m("#^[^a-z]+$#", "123-_"));
        assert!(m("{^a{2,3}$}", "aaa"));
        assert!(!m("/^a{2,3}$/", "aaaa"));
        assert!(!m("/^a{2,3}$/", "a"));
        assert!(m("/^a{2,}$/", "aaaaa"));
        assert!(m("/^a{2}$/", "aa"));
        assert!(m("/a{x}/", "a{x}"));
        assert!(m("/^(ab)*?c$/", "ababc"));
        assert!(m("/^(?:ab|cd)+$/", "abcdab"));
        assert!(m("/^(?P<n>x)(?<m>y)$/", "xy"));
        assert!(m("/\\bfoo\\b/", "a foo b"));
        assert!(!m("/\\bfoo\\b/", "afoob"));
        assert!(m("/\\Bfoo/", "afoo"));
        assert!(m("/[[:digit:]]+x/", "12x"));
        assert!(m("/\\x41\\x{42}\\0/", "AB\0"));
        assert!(m("/a\\/b/", "a/b"));
        assert!(m("/ a b # comment\n c /x", "abc"));
        assert!(m("/[\\d.]+/", "1.5"));
        assert!(m("/^\\s\\S\\w\\W$/", " x_-"));
        assert!(m("/^[]a]+$/", "]a"));
        assert!(m("/^[a\\-z]+$/", "-"));
        assert!(m("/^[A-Z]+$/i", "abc"));
        assert!(m("/(a|)+b/", "b"));
        assert!(m("/()*b/", "b"));
        assert!(m("/x*/", ""));
        assert!(!m("/^x/A", "ax"));
        assert!(m("/x/A", "xa"));
        assert!(!m("/x/A", "ax"));
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for bad in [
            "",
            "abc",
            "/abc",
            "\\abc\\",
            "/a/u",
            "/a/e",
            "/(a/",
            "/a)/",
            "/(?=a)/",
            "/(?i)a/",
            "/(a)\\1/",
            "/a++/",
            "/*a/",
            "/a**/",
            "/[a/",
            "/[z-a]/",
            "/[\\d-z]/",
            "/a{3,2}/",
            "/a{70000}/",
            "/\\p{L}/",
            "/\\x{100}/",
            "/[[:nope:]]/",
            "/(a{1000}){1000}/",
        ] {
            assert!(Pattern::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn linear_on_pathological_patterns() {
        let p = Pattern::new("/^(a|a)*(a*)*b$/").unwrap();
        let subject = vec![b'a'; 20_000];
        assert!(!p.is_match(&subject));
    }
}
