//! Terms: the values written in statements (`Parser.g`'s `term`, `constant`, `marker`).
//!
//! Constants stay as written ([`Literal`]); a `-` before a number, duration, `NaN` or
//! `Infinity` folds into the literal, before anything else it becomes [`Term::Negate`]. Bind
//! markers (`?`, `:name`) are produced with their token index as `index`; `binds::renumber`
//! turns those into the 0-based order of appearance once the whole statement has parsed, so
//! backtracking cannot disturb the numbering. Type casts, `CAST(...)`, user-type literals
//! and arithmetic (`a + 1`) are valid Cassandra that Tessera rejects as unsupported.

use nom::Parser;
use nom::sequence::delimited;

use super::lexer::{Kind, Token};
use super::stream::{
    Expect, FatalKind, In, PResult, ident, ident_of, is_reserved, list1, parens1, sym, unsupported,
};
use crate::ast::{Literal, Term};

const TERM: Expect = Expect::Class("a term");
const CONSTANT: Expect = Expect::Class("a constant");

/// A term; arithmetic after it (`1 + 2`) is unsupported.
pub(crate) fn term(i: In<'_>) -> PResult<'_, Term> {
    let (i, t) = simple_term(i)?;
    reject_arithmetic(i)?;
    Ok((i, t))
}

/// A term without the arithmetic check, for `c = [1] + c` where `+` follows legitimately.
pub(crate) fn simple_term(i: In<'_>) -> PResult<'_, Term> {
    let _depth = i.nest()?;
    let Some(t) = i.peek() else { return i.fail(TERM) };
    match &t.kind {
        Kind::Sym => match t.text {
            "?" | ":" => marker(i),
            "[" => list_literal(i),
            "{" => brace_literal(i),
            "(" => paren_term(i),
            "-" => negation(i),
            _ => i.fail(TERM),
        },
        Kind::Word if t.text.eq_ignore_ascii_case("null") => Ok((i.skip(1), Term::Literal(Literal::Null))),
        Kind::Word if t.text.eq_ignore_ascii_case("cast") && i.at_sym_n(1, "(") => {
            unsupported(t.offset, "CAST")
        }
        Kind::Word | Kind::Quoted(_) if function_call_ahead(i) => function_call(i),
        _ => match literal_of(t) {
            Ok(Some(lit)) => Ok((i.skip(1), Term::Literal(lit))),
            Ok(None) => i.fail(TERM),
            Err(message) => i.fatal(FatalKind::Syntax, message),
        },
    }
}

/// Fails with `Unsupported` when an arithmetic operator follows.
pub(crate) fn reject_arithmetic(i: In<'_>) -> Result<(), nom::Err<super::stream::PError>> {
    match i.peek() {
        Some(t) if t.kind == Kind::Sym && matches!(t.text, "+" | "-" | "*" | "/" | "%") => {
            unsupported::<()>(t.offset, "arithmetic on terms (+, -, *, /, %)").map(|_| ())
        }
        _ => Ok(()),
    }
}

/// A constant, with an optional leading `-` on numbers: the values DDL options take.
pub(crate) fn constant(i: In<'_>) -> PResult<'_, Literal> {
    let negative = i.at_sym("-");
    let j = if negative { i.skip(1) } else { i };
    let Some(t) = j.peek() else { return j.fail(CONSTANT) };
    match literal_of(t) {
        Ok(Some(lit)) if !negative => Ok((j.skip(1), lit)),
        Ok(Some(lit)) => match negated(&lit) {
            Some(lit) => Ok((j.skip(1), lit)),
            None => j.fail(Expect::Class("a number")),
        },
        Ok(None) => j.fail(CONSTANT),
        Err(message) => j.fatal(FatalKind::Syntax, message),
    }
}

/// `?` or `:name`, numbered by token index until `binds::renumber`.
pub(crate) fn marker(i: In<'_>) -> PResult<'_, Term> {
    if i.at_sym("?") {
        return Ok((i.skip(1), Term::Bind { index: i.pos(), name: None }));
    }
    let index = i.pos();
    let (i, _) = sym(":")(i)?;
    let (i, name) = ident(i)?;
    Ok((i, Term::Bind { index, name: Some(name) }))
}

/// An integer (optionally negative) or a bind marker: `LIMIT`, `TTL` and `TIMESTAMP` values.
pub(crate) fn int_value(i: In<'_>) -> PResult<'_, Term> {
    if i.at_sym("?") || i.at_sym(":") {
        return marker(i);
    }
    let negative = i.at_sym("-");
    let j = if negative { i.skip(1) } else { i };
    match j.peek() {
        Some(t) if t.kind == Kind::Integer => {
            let text = if negative { format!("-{}", t.text) } else { t.text.to_string() };
            Ok((j.skip(1), Term::Literal(Literal::Integer(text))))
        }
        _ => j.fail(Expect::Class("an integer or bind marker")),
    }
}

/// The literal a single token stands for, if any; `Err` for a malformed blob.
pub(crate) fn literal_of(t: &Token<'_>) -> Result<Option<Literal>, String> {
    Ok(Some(match &t.kind {
        Kind::Str(s) => Literal::String(s.clone()),
        Kind::Integer => Literal::Integer(t.text.to_string()),
        Kind::Float => Literal::Float(t.text.to_string()),
        Kind::Duration => Literal::Duration(t.text.to_string()),
        Kind::Uuid => Literal::Uuid(t.text.to_string()),
        Kind::Hex => Literal::Blob(decode_hex(t.text)?),
        Kind::Word => match t.text.to_ascii_lowercase().as_str() {
            "true" => Literal::Boolean(true),
            "false" => Literal::Boolean(false),
            "nan" => Literal::Float("NaN".to_string()),
            "infinity" => Literal::Float("Infinity".to_string()),
            _ => return Ok(None),
        },
        Kind::Quoted(_) | Kind::Sym => return Ok(None),
    }))
}

fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.get(2..).unwrap_or_default().as_bytes();
    if digits.len() % 2 != 0 {
        return Err(format!("invalid blob literal '{text}': odd number of hex digits"));
    }
    let nibble = |b: u8| (b as char).to_digit(16).map(|d| d as u8).unwrap_or(0);
    Ok(digits.chunks(2).map(|p| (nibble(p[0]) << 4) | nibble(p[1])).collect())
}

/// A numeric literal with `-` applied, when it has no sign yet (`-NaN` is `NaN`).
fn negated(lit: &Literal) -> Option<Literal> {
    match lit {
        Literal::Float(s) if s == "NaN" => Some(Literal::Float("NaN".to_string())),
        Literal::Float(s) if s == "Infinity" => Some(Literal::Float("-Infinity".to_string())),
        Literal::Integer(s) if !s.starts_with('-') => Some(Literal::Integer(format!("-{s}"))),
        Literal::Float(s) if !s.starts_with('-') => Some(Literal::Float(format!("-{s}"))),
        Literal::Duration(s) if !s.starts_with('-') => Some(Literal::Duration(format!("-{s}"))),
        _ => None,
    }
}

/// `- term`: folded into a number literal, otherwise `Negate`.
fn negation(i: In<'_>) -> PResult<'_, Term> {
    let (i, _) = sym("-")(i)?;
    let (i, inner) = simple_term(i)?;
    let term = match &inner {
        Term::Literal(lit) => negated(lit).map(Term::Literal),
        _ => None,
    };
    Ok((i, term.unwrap_or_else(|| Term::Negate(Box::new(inner)))))
}

/// `[a, b]`
fn list_literal(i: In<'_>) -> PResult<'_, Term> {
    let (i, _) = sym("[")(i)?;
    if i.at_sym("]") {
        return Ok((i.skip(1), Term::List(Vec::new())));
    }
    let (i, items) = list1(",", term).parse(i)?;
    let (i, _) = sym("]")(i)?;
    Ok((i, Term::List(items)))
}

/// `{}`, `{k: v, ...}` or `{a, b}`; `{field: v}` is a user-type literal (unsupported).
fn brace_literal(i: In<'_>) -> PResult<'_, Term> {
    let (i, open) = sym("{")(i)?;
    if i.at_sym("}") {
        return Ok((i.skip(1), Term::Map(Vec::new())));
    }
    let field_name = i.peek().is_some_and(|t| ident_of(t).is_some() && literal_of(t) == Ok(None));
    if field_name && i.at_sym_n(1, ":") && !function_call_ahead(i) {
        return unsupported(open.offset, "a user-defined type literal ({field: value})");
    }
    let (i, first) = term(i)?;
    if i.at_sym(":") {
        let (i, _) = sym(":")(i)?;
        let (mut i, value) = term(i)?;
        let mut entries = vec![(first, value)];
        while i.at_sym(",") {
            let (j, k) = term(i.skip(1))?;
            let (j, _) = sym(":")(j)?;
            let (j, v) = term(j)?;
            entries.push((k, v));
            i = j;
        }
        let (i, _) = sym("}")(i)?;
        Ok((i, Term::Map(entries)))
    } else {
        let mut items = vec![first];
        let mut i = i;
        while i.at_sym(",") {
            let (j, item) = term(i.skip(1))?;
            items.push(item);
            i = j;
        }
        let (i, _) = sym("}")(i)?;
        Ok((i, Term::Set(items)))
    }
}

/// `(a, b)`, or a type cast `(int) x` (unsupported).
fn paren_term(i: In<'_>) -> PResult<'_, Term> {
    if cast_ahead(i) {
        return unsupported(i.offset(), "a type cast ((type) value)");
    }
    let (i, items) = parens1(term).parse(i)?;
    Ok((i, Term::Tuple(items)))
}

/// True when a type cast `(type) value` starts here (at `(`): a native type, or any
/// `word<...>` (collections, tuples, `frozen`, `vector`), in parentheses; or a `[ks.]name`
/// (a user-defined type) in parentheses followed by the start of a term. A bare name needs
/// that term, since `(name)` alone reads as a tuple (and then fails, a name not being a term).
fn cast_ahead(i: In<'_>) -> bool {
    let Some(t) = i.peek_at(1) else { return false };
    let named = |t: &Token<'_>| ident_of(t).is_some() && !t.text.eq_ignore_ascii_case("null");
    let (close, certain) = match &t.kind {
        Kind::Word if super::types::native(t.text).is_some() => (2, true),
        Kind::Word if !is_reserved(t.text) && i.at_sym_n(2, "<") => match closing_angle(i, 2) {
            Some(n) => (n + 1, true),
            None => return false,
        },
        _ if named(t) && i.at_sym_n(2, ".") && i.peek_at(3).is_some_and(named) => (4, false),
        _ if named(t) => (2, false),
        _ => return false,
    };
    i.at_sym_n(close, ")") && (certain || i.peek_at(close + 1).is_some_and(starts_term))
}

/// The index of the `>` closing the `<` at token `open`, if it closes before any parenthesis.
fn closing_angle(i: In<'_>, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for n in open.. {
        let t = i.peek_at(n)?;
        if t.kind != Kind::Sym {
            continue;
        }
        match t.text {
            "<" => depth += 1,
            ">" if depth == 1 => return Some(n),
            ">" => depth -= 1,
            "(" | ")" | ";" => return None,
            _ => {}
        }
    }
    None
}

/// True when `t` can begin a term.
fn starts_term(t: &Token<'_>) -> bool {
    match &t.kind {
        Kind::Sym => matches!(t.text, "?" | ":" | "[" | "{" | "(" | "-"),
        Kind::Word => !is_reserved(t.text) || matches!(literal_of(t), Ok(Some(_))),
        _ => true,
    }
}

/// True when `t` can name a function: an identifier, `token` or `count`, but not the words
/// the grammar keeps for other uses (`ttl`, `writetime`, `cast`, ...).
fn is_function_name(t: &Token<'_>) -> bool {
    match &t.kind {
        Kind::Quoted(name) => !name.is_empty(),
        Kind::Word => {
            let w = t.text.to_ascii_lowercase();
            w == "token"
                || w == "count"
                || !(is_reserved(&w)
                    || ["ttl", "writetime", "maxwritetime", "key", "cast", "json", "distinct"]
                        .contains(&w.as_str()))
        }
        _ => false,
    }
}

/// True when a function call (`f(` or `ks.f(`) starts here.
pub(crate) fn function_call_ahead(i: In<'_>) -> bool {
    let simple = i.peek().is_some_and(is_function_name) && i.at_sym_n(1, "(");
    let qualified = i.peek().and_then(ident_of).is_some()
        && i.at_sym_n(1, ".")
        && i.peek_at(2).is_some_and(is_function_name)
        && i.at_sym_n(3, "(");
    simple || qualified
}

/// A function name, lower-cased unless quoted; `ks.f` is kept qualified as `ks.f`.
pub(crate) fn function_name(i: In<'_>) -> PResult<'_, String> {
    let name_of = |t: &Token<'_>| match &t.kind {
        Kind::Quoted(name) => name.clone(),
        _ => t.text.to_ascii_lowercase(),
    };
    match (i.peek(), i.peek_at(2)) {
        (Some(ks), Some(f)) if i.at_sym_n(1, ".") && is_function_name(f) => {
            let ks = ident_of(ks).unwrap_or_default();
            Ok((i.skip(3), format!("{ks}.{}", name_of(f))))
        }
        (Some(f), _) if is_function_name(f) => Ok((i.skip(1), name_of(f))),
        _ => i.fail(Expect::Class("a function name")),
    }
}

/// `name(args)`
fn function_call(i: In<'_>) -> PResult<'_, Term> {
    let (i, name) = function_name(i)?;
    if i.at_sym("(") && i.at_sym_n(1, ")") {
        return Ok((i.skip(2), Term::Function { name, args: Vec::new() }));
    }
    let (i, args) = delimited(sym("("), list1(",", term), sym(")")).parse(i)?;
    Ok((i, Term::Function { name, args }))
}
