//! The token stream the grammar runs on, and how a failed parse becomes an error message.
//!
//! [`In`] is a position in the token list; it implements nom's `Input` so the grammar files can
//! use nom combinators over tokens. A recoverable mismatch (`Err::Error`) carries nothing: each
//! primitive (`kw`, `sym`, `ident`, ...) records what it expected at its position in the
//! shared [`Ctx`], which keeps the expectations at the furthest position any branch reached.
//! That position and set become `mismatched input 'X' expecting ...`. [`quiet`] drops what an
//! optional branch expected when it failed on its first token, so `SELECT a FORM t` reports
//! `expecting 'FROM'` rather than every clause that could have followed. Unsupported
//! constructs and errors that must not backtrack are `Err::Failure` with a `PError::Fatal`.

use std::cell::{Cell, RefCell};
use std::iter::Enumerate;
use std::slice::Iter;

use nom::error::{ErrorKind, ParseError};
use nom::{Err, Needed, Parser};

use super::lexer::{Kind, Token};

/// Words that are keywords and never identifiers (Cassandra's reserved keywords, plus the
/// boolean literals, which the lexer there turns into their own token).
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    "ADD", "ALLOW", "ALTER", "AND", "APPLY", "ASC", "AUTHORIZE", "BATCH", "BEGIN", "BY", "COLUMNFAMILY",
    "CREATE", "DELETE", "DESC", "DESCRIBE", "DROP", "ENTRIES", "EXECUTE", "FROM", "FULL", "GRANT", "IF",
    "IN", "INDEX", "INFINITY", "INSERT", "INTO", "IS", "KEYSPACE", "LIMIT", "MATERIALIZED", "MODIFY",
    "NAN", "NORECURSIVE", "NOT", "NULL", "OF", "ON", "OR", "ORDER", "PRIMARY", "RENAME", "REVOKE",
    "SCHEMA", "SELECT", "SET", "TABLE", "TO", "TOKEN", "TRUNCATE", "UNLOGGED", "UPDATE", "USE", "USING",
    "VIEW", "WHERE", "WITH", "TRUE", "FALSE",
];

/// True for a word that cannot be an unquoted identifier.
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// How many nested terms, types or selectors a statement may have.
const MAX_DEPTH: u32 = 64;

/// What a primitive expected, for the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A keyword or symbol, shown quoted: `'FROM'`, `','`.
    Token(&'static str),
    /// A class of tokens, shown as is: `identifier`.
    Class(&'static str),
}

#[derive(Debug, Clone, Default)]
struct Furthest {
    pos: usize,
    expected: Vec<Expect>,
}

/// Parse-wide state shared by every [`In`]: the furthest failure and the nesting depth.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    furthest: RefCell<Furthest>,
    depth: Cell<u32>,
    /// Byte offset just past the last token, where an unexpected end of input is reported.
    pub end_offset: usize,
}

impl Ctx {
    pub(crate) fn new(end_offset: usize) -> Ctx {
        Ctx { end_offset, ..Ctx::default() }
    }

    fn record(&self, pos: usize, what: Expect) {
        let mut f = self.furthest.borrow_mut();
        if f.expected.is_empty() || pos > f.pos {
            f.pos = pos;
            f.expected.clear();
            f.expected.push(what);
        } else if pos == f.pos && !f.expected.contains(&what) {
            f.expected.push(what);
        }
    }

    /// The furthest position a branch failed at, and what it expected there.
    pub(crate) fn furthest(&self) -> (usize, Vec<Expect>) {
        let f = self.furthest.borrow();
        (f.pos, f.expected.clone())
    }
}

/// What went wrong, for a parse that must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FatalKind {
    Syntax,
    Unsupported,
    Invalid,
}

/// The error type of every grammar function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PError {
    /// A recoverable mismatch; what was expected is in the [`Ctx`].
    Mismatch,
    /// An error that ends the parse, at a byte offset.
    Fatal { kind: FatalKind, offset: usize, message: String },
}

impl<'a> ParseError<In<'a>> for PError {
    fn from_error_kind(_input: In<'a>, _kind: ErrorKind) -> Self {
        PError::Mismatch
    }

    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

pub(crate) type PResult<'a, T> = nom::IResult<In<'a>, T, PError>;

/// A position in the token list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct In<'a> {
    toks: &'a [Token<'a>],
    /// Index of `toks[0]` in the whole token list.
    pos: usize,
    ctx: &'a Ctx,
}

impl<'a> In<'a> {
    pub(crate) fn new(toks: &'a [Token<'a>], ctx: &'a Ctx) -> In<'a> {
        In { toks, pos: 0, ctx }
    }

    /// Index of the current token in the statement's token list.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn peek(&self) -> Option<&'a Token<'a>> {
        self.toks.first()
    }

    pub(crate) fn peek_at(&self, n: usize) -> Option<&'a Token<'a>> {
        self.toks.get(n)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }

    /// The input after `n` tokens (at most the rest).
    pub(crate) fn skip(self, n: usize) -> In<'a> {
        let n = n.min(self.toks.len());
        In { toks: &self.toks[n..], pos: self.pos + n, ctx: self.ctx }
    }

    /// Byte offset of the current token, or of the end of input.
    pub(crate) fn offset(&self) -> usize {
        self.peek().map_or(self.ctx.end_offset, |t| t.offset)
    }

    /// True when token `n` ahead is the keyword `k` (no expectation recorded).
    pub(crate) fn at_kw_n(&self, n: usize, k: &str) -> bool {
        self.peek_at(n).is_some_and(|t| is_kw(t, k))
    }

    pub(crate) fn at_kw(&self, k: &str) -> bool {
        self.at_kw_n(0, k)
    }

    /// True when token `n` ahead is the symbol `s` (no expectation recorded).
    pub(crate) fn at_sym_n(&self, n: usize, s: &str) -> bool {
        self.peek_at(n).is_some_and(|t| t.kind == Kind::Sym && t.text == s)
    }

    pub(crate) fn at_sym(&self, s: &str) -> bool {
        self.at_sym_n(0, s)
    }

    /// Records `what` as expected here and fails recoverably.
    pub(crate) fn fail<T>(&self, what: Expect) -> PResult<'a, T> {
        self.ctx.record(self.pos, what);
        Err(Err::Error(PError::Mismatch))
    }

    /// Records each of `what` as expected here and fails recoverably.
    pub(crate) fn fail_any<T>(&self, what: &[Expect]) -> PResult<'a, T> {
        for w in what {
            self.ctx.record(self.pos, *w);
        }
        Err(Err::Error(PError::Mismatch))
    }

    /// Ends the parse with an error at the current token.
    pub(crate) fn fatal<T>(&self, kind: FatalKind, message: impl Into<String>) -> PResult<'a, T> {
        fatal_at(self.offset(), kind, message)
    }

    /// Enters one level of nesting; the guard leaves it when dropped.
    pub(crate) fn nest(&self) -> Result<DepthGuard<'a>, Err<PError>> {
        let depth = self.ctx.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(Err::Failure(PError::Fatal {
                kind: FatalKind::Syntax,
                offset: self.offset(),
                message: format!("statement nests deeper than {MAX_DEPTH} levels"),
            }));
        }
        self.ctx.depth.set(depth);
        Ok(DepthGuard { ctx: self.ctx })
    }
}

/// Leaves a nesting level on drop.
pub(crate) struct DepthGuard<'a> {
    ctx: &'a Ctx,
}

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.ctx.depth.set(self.ctx.depth.get().saturating_sub(1));
    }
}

/// An error that ends the parse, at a byte offset.
pub(crate) fn fatal_at<'a, T>(offset: usize, kind: FatalKind, message: impl Into<String>) -> PResult<'a, T> {
    Err(Err::Failure(PError::Fatal { kind, offset, message: message.into() }))
}

/// `Unsupported` at a byte offset: "`what` is not supported".
pub(crate) fn unsupported<'a, T>(offset: usize, what: &str) -> PResult<'a, T> {
    fatal_at(offset, FatalKind::Unsupported, format!("{what} is not supported"))
}

/// `Unsupported` at a byte offset for a plural `what`: "`what` are not supported".
pub(crate) fn unsupported_plural<'a, T>(offset: usize, what: &str) -> PResult<'a, T> {
    fatal_at(offset, FatalKind::Unsupported, format!("{what} are not supported"))
}

fn is_kw(t: &Token<'_>, k: &str) -> bool {
    t.kind == Kind::Word && t.text.eq_ignore_ascii_case(k)
}

/// The keyword `k` (case-insensitive).
pub(crate) fn kw<'a>(k: &'static str) -> impl Fn(In<'a>) -> PResult<'a, &'a Token<'a>> {
    move |i: In<'a>| match i.peek() {
        Some(t) if is_kw(t, k) => Ok((i.skip(1), t)),
        _ => i.fail(Expect::Token(k)),
    }
}

/// Any of the keywords `ks`; a mismatch expects every one of them (`'ASC' or 'DESC'`).
pub(crate) fn kw_any<'a>(ks: &'static [&'static str]) -> impl Fn(In<'a>) -> PResult<'a, &'a Token<'a>> {
    move |i: In<'a>| match i.peek() {
        Some(t) if ks.iter().any(|k| is_kw(t, k)) => Ok((i.skip(1), t)),
        _ => {
            for k in ks {
                i.ctx.record(i.pos, Expect::Token(k));
            }
            Err(Err::Error(PError::Mismatch))
        }
    }
}

/// The symbol `s`.
pub(crate) fn sym<'a>(s: &'static str) -> impl Fn(In<'a>) -> PResult<'a, &'a Token<'a>> {
    move |i: In<'a>| match i.peek() {
        Some(t) if t.kind == Kind::Sym && t.text == s => Ok((i.skip(1), t)),
        _ => i.fail(Expect::Token(s)),
    }
}

/// The name a token stands for when it is an identifier: an unreserved word lower-cased, or a
/// non-empty quoted name as written.
pub(crate) fn ident_of(t: &Token<'_>) -> Option<String> {
    match &t.kind {
        Kind::Word if !is_reserved(t.text) => Some(t.text.to_ascii_lowercase()),
        Kind::Quoted(name) if !name.is_empty() => Some(name.clone()),
        _ => None,
    }
}

/// An identifier: an unreserved word (lower-cased) or a quoted name (kept).
pub(crate) fn ident(i: In<'_>) -> PResult<'_, String> {
    match i.peek().and_then(ident_of) {
        Some(name) => Ok((i.skip(1), name)),
        None => i.fail(Expect::Class("identifier")),
    }
}

/// The end of the token list.
pub(crate) fn end(i: In<'_>) -> PResult<'_, ()> {
    if i.is_empty() { Ok((i, ())) } else { i.fail(Expect::Class("end of input")) }
}

/// Runs `p`; when it fails on its first token, forgets what it expected there (an optional
/// clause that is simply absent should not appear in the error message).
pub(crate) fn quiet<'a, O, P>(mut p: P) -> impl FnMut(In<'a>) -> PResult<'a, O>
where
    P: Parser<In<'a>, Output = O, Error = PError>,
{
    move |i: In<'a>| {
        let saved = i.ctx.furthest.borrow().clone();
        match p.parse(i) {
            Err(Err::Error(e)) => {
                if i.ctx.furthest.borrow().pos <= i.pos {
                    *i.ctx.furthest.borrow_mut() = saved;
                }
                Err(Err::Error(e))
            }
            other => other,
        }
    }
}

/// An optional clause: `opt(quiet(p))`.
pub(crate) fn maybe<'a, O, P>(p: P) -> impl FnMut(In<'a>) -> PResult<'a, Option<O>>
where
    P: Parser<In<'a>, Output = O, Error = PError>,
{
    let mut p = nom::combinator::opt(quiet(p));
    move |i: In<'a>| p.parse(i)
}

/// True when the optional keyword sequence `ks` is present (and consumes it).
pub(crate) fn flag<'a>(ks: &'static [&'static str]) -> impl FnMut(In<'a>) -> PResult<'a, bool> {
    let mut p = maybe(move |i: In<'a>| {
        let mut cur = i;
        for k in ks {
            cur = kw(k)(cur)?.0;
        }
        Ok((cur, ()))
    });
    move |i: In<'a>| p.parse(i).map(|(j, o)| (j, o.is_some()))
}

/// One or more `p` separated by `sep`.
pub(crate) fn list1<'a, O, P>(sep: &'static str, p: P) -> impl FnMut(In<'a>) -> PResult<'a, Vec<O>>
where
    P: Parser<In<'a>, Output = O, Error = PError>,
{
    let mut p = nom::multi::separated_list1(quiet(sym(sep)), p);
    move |i: In<'a>| p.parse(i)
}

/// `( p, p, ... )` with at least one element.
pub(crate) fn parens1<'a, O, P>(p: P) -> impl FnMut(In<'a>) -> PResult<'a, Vec<O>>
where
    P: Parser<In<'a>, Output = O, Error = PError>,
{
    let mut p = nom::sequence::delimited(sym("("), list1(",", p), sym(")"));
    move |i: In<'a>| p.parse(i)
}

impl<'a> nom::Input for In<'a> {
    type Item = &'a Token<'a>;
    type Iter = Iter<'a, Token<'a>>;
    type IterIndices = Enumerate<Iter<'a, Token<'a>>>;

    fn input_len(&self) -> usize {
        self.toks.len()
    }

    fn take(&self, index: usize) -> Self {
        In { toks: &self.toks[..index], pos: self.pos, ctx: self.ctx }
    }

    fn take_from(&self, index: usize) -> Self {
        In { toks: &self.toks[index..], pos: self.pos + index, ctx: self.ctx }
    }

    fn take_split(&self, index: usize) -> (Self, Self) {
        (self.take_from(index), self.take(index))
    }

    fn position<P>(&self, predicate: P) -> Option<usize>
    where
        P: Fn(Self::Item) -> bool,
    {
        self.toks.iter().position(predicate)
    }

    fn iter_elements(&self) -> Self::Iter {
        self.toks.iter()
    }

    fn iter_indices(&self) -> Self::IterIndices {
        self.toks.iter().enumerate()
    }

    fn slice_index(&self, count: usize) -> Result<usize, Needed> {
        if self.toks.len() >= count { Ok(count) } else { Err(Needed::new(count - self.toks.len())) }
    }
}
