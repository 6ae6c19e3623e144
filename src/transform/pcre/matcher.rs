//! Runs a pattern: compiles the parsed tree to a Thompson NFA program and simulates it, linear in
//! the subject whatever the pattern.

use super::sets::ByteSet;
use super::{Node, Pattern};

/// A position test, which reads no byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Assertion {
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

/// One instruction of the NFA program.
#[derive(Debug, Clone)]
pub(super) enum Inst {
    Set(ByteSet),
    Assert(Assertion),
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// Program size past which a pattern (usually a large counted repeat) is refused.
const MAX_INSTS: usize = 20_000;

impl Pattern {
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

/// Appends the program for `node` to `insts`.
pub(super) fn compile(node: &Node, insts: &mut Vec<Inst>) -> Result<(), String> {
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
