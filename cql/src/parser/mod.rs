//! The CQL parser: statement text → [`crate::ast`], following Cassandra's `Parser.g` and
//! `Lexer.g`. The server calls [`parse_statement`] for QUERY and PREPARE; `tess shell` calls
//! [`split_statements`] on scripts; [`parse_type`] reads type text such as schema tables hold.
//!
//! Text is first split into tokens (`lexer`); the grammar then runs over the tokens with nom
//! combinators (`stream` adapts the token list to nom and tracks expectations for error
//! messages). One file per part of the grammar: `terms`, `types`, `relations`, `select`,
//! `dml`, `ddl`, `describe` and `unsupported`. Errors carry the 1-based line and column
//! of the first token that does not fit: `line 1:10 mismatched input 'FORM' expecting 'FROM'`.

mod binds;
mod ddl;
mod describe;
mod dml;
mod lexer;
mod relations;
mod select;
mod split;
mod stream;
mod terms;
mod types;
mod unsupported;

#[cfg(test)]
mod tests;

use nom::Parser;

pub use split::split_statements;

use crate::ast::{ParsedStatement, QualifiedName, Statement};
use crate::error::{Error, Result};
use crate::types::CqlType;
use lexer::{Kind, Token};
use stream::{Ctx, Expect, FatalKind, In, PError, PResult, end, ident, maybe, sym};

/// Parses one statement; a trailing `;` and surrounding whitespace and comments (`--`, `//`,
/// `/* */`) are allowed.
pub fn parse_statement(text: &str) -> Result<ParsedStatement> {
    let mut statement = run(text, whole_statement)?;
    let bind_markers = binds::renumber(&mut statement);
    Ok(ParsedStatement { statement, bind_markers })
}

/// Parses CQL type text (`frozen<map<text, int>>`), with the grammar CREATE TABLE uses.
pub fn parse_type(text: &str) -> Result<CqlType> {
    run(text, whole_type)
}

fn whole_statement(i: In<'_>) -> PResult<'_, Statement> {
    let (i, (s, _, _)) = (statement, maybe(sym(";")), end).parse(i)?;
    Ok((i, s))
}

fn whole_type(i: In<'_>) -> PResult<'_, CqlType> {
    let (i, (t, _)) = (types::cql_type, end).parse(i)?;
    Ok((i, t))
}

/// Tokenizes `text`, runs `parser` over all of it and turns a failure into an [`Error`].
fn run<T>(text: &str, parser: for<'a> fn(In<'a>) -> PResult<'a, T>) -> Result<T> {
    let tokens = lexer::tokenize(text).map_err(|e| syntax(text, e.offset, e.message))?;
    let ctx = Ctx::new(tokens.last().map_or(0, |t| t.offset + t.text.len()));
    match parser(In::new(&tokens, &ctx)) {
        Ok((_, value)) => Ok(value),
        Err(nom::Err::Error(PError::Fatal { kind, offset, message }))
        | Err(nom::Err::Failure(PError::Fatal { kind, offset, message })) => Err(match kind {
            FatalKind::Syntax => syntax(text, offset, message),
            FatalKind::Unsupported => {
                let (line, column) = line_column(text, offset);
                Error::Unsupported { line, column, message }
            }
            FatalKind::Invalid => Error::Invalid(message),
        }),
        Err(_) => Err(mismatch(text, &tokens, &ctx)),
    }
}

/// The error for a recoverable mismatch: the furthest token any branch reached.
fn mismatch(text: &str, tokens: &[Token<'_>], ctx: &Ctx) -> Error {
    let (pos, expected) = ctx.furthest();
    let names: Vec<String> = expected
        .iter()
        .map(|e| match e {
            Expect::Token(t) => format!("'{t}'"),
            Expect::Class(c) => c.to_string(),
        })
        .collect();
    let expecting = match names.as_slice() {
        [] => "a statement".to_string(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        many => format!("one of {}", many.join(", ")),
    };
    match tokens.get(pos) {
        Some(t) => {
            let found: String = t.text.chars().take(40).collect();
            let ellipsis = if found.len() < t.text.len() { "..." } else { "" };
            syntax(text, t.offset, format!("mismatched input '{found}{ellipsis}' expecting {expecting}"))
        }
        None => syntax(text, ctx.end_offset, format!("unexpected end of input, expecting {expecting}")),
    }
}

fn syntax(text: &str, offset: usize, message: String) -> Error {
    let (line, column) = line_column(text, offset);
    Error::Syntax { line, column, message }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before[line_start..].chars().count() + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

/// One statement, without the trailing `;`.
fn statement(i: In<'_>) -> PResult<'_, Statement> {
    nom::branch::alt((
        select::select,
        dml::insert,
        dml::update,
        dml::delete,
        dml::batch,
        ddl::use_statement,
        ddl::truncate,
        ddl::create,
        ddl::alter,
        ddl::drop,
        describe::describe,
        unsupported::other_statement,
    ))
    .parse(i)
}

/// Keywords that start a statement, upper-case.
const STATEMENT_KEYWORDS: [&str; 15] = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "USE", "TRUNCATE", "CREATE", "ALTER", "DROP",
    "DESCRIBE", "DESC", "GRANT", "REVOKE", "LIST",
];

/// The statement keyword `t` is, if it is one (upper-case).
pub(crate) fn statement_keyword(t: &Token<'_>) -> Option<&'static str> {
    if t.kind != Kind::Word {
        return None;
    }
    STATEMENT_KEYWORDS.iter().copied().find(|k| k.eq_ignore_ascii_case(t.text))
}

/// `[keyspace.]name`
pub(crate) fn qualified_name(i: In<'_>) -> PResult<'_, QualifiedName> {
    let (i, first) = ident(i)?;
    if !i.at_sym(".") {
        return Ok((i, QualifiedName { keyspace: None, name: first }));
    }
    let (i, name) = ident(i.skip(1))?;
    Ok((i, QualifiedName { keyspace: Some(first), name }))
}
