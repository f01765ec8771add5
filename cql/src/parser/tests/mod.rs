//! Tests of the parser as a whole: one file per statement family, plus errors, script
//! splitting, types and a bounded random-input test. The helpers here parse or expect an
//! error and build the small trees the assertions compare against.
#![allow(clippy::unwrap_used)]

mod ddl;
mod dml;
mod errors;
mod random;
mod select;
mod split;
mod terms;
mod types;

use super::parse_statement;
use crate::Error;
use crate::ast::{Literal, ParsedStatement, QualifiedName, Statement, Term};

/// Parses `text`, panicking with the error if it does not parse.
pub(super) fn parsed(text: &str) -> ParsedStatement {
    parse_statement(text).unwrap_or_else(|e| panic!("{text:?} did not parse: {e}"))
}

pub(super) fn parse(text: &str) -> Statement {
    parsed(text).statement
}

/// The line, column and message of the syntax error `text` gives.
pub(super) fn syntax_error(text: &str) -> (u32, u32, String) {
    match parse_statement(text) {
        Err(Error::Syntax { line, column, message }) => (line, column, message),
        other => panic!("{text:?}: expected a syntax error, got {other:?}"),
    }
}

/// The line, column and message of the Unsupported error `text` gives.
pub(super) fn unsupported_error(text: &str) -> (u32, u32, String) {
    match parse_statement(text) {
        Err(Error::Unsupported { line, column, message }) => (line, column, message),
        other => panic!("{text:?}: expected an Unsupported error, got {other:?}"),
    }
}

pub(super) fn table(name: &str) -> QualifiedName {
    QualifiedName { keyspace: None, name: name.to_string() }
}

pub(super) fn ks_table(ks: &str, name: &str) -> QualifiedName {
    QualifiedName { keyspace: Some(ks.to_string()), name: name.to_string() }
}

pub(super) fn int(s: &str) -> Term {
    Term::Literal(Literal::Integer(s.to_string()))
}

pub(super) fn float(s: &str) -> Term {
    Term::Literal(Literal::Float(s.to_string()))
}

pub(super) fn string(s: &str) -> Term {
    Term::Literal(Literal::String(s.to_string()))
}

pub(super) fn boolean(b: bool) -> Term {
    Term::Literal(Literal::Boolean(b))
}

pub(super) fn bind(index: usize) -> Term {
    Term::Bind { index, name: None }
}

pub(super) fn named(index: usize, name: &str) -> Term {
    Term::Bind { index, name: Some(name.to_string()) }
}

pub(super) fn func(name: &str, args: Vec<Term>) -> Term {
    Term::Function { name: name.to_string(), args }
}
