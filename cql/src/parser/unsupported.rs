//! Valid Cassandra statements Tessera does not implement: secondary indexes, materialized views,
//! user-defined types, functions and aggregates, triggers, roles, users and permissions.
//!
//! Each is recognised by its leading keywords and rejected with `Error::Unsupported` naming
//! it, positioned at the statement's first token, so that none is ever misread as another
//! statement or reported as a syntax error. The CREATE / ALTER / DROP entry points take the
//! input after that first keyword; when nothing matches they fail expecting KEYSPACE or TABLE.

use super::stream::{Expect, In, PResult, unsupported};
use crate::ast::Statement;

/// Keyword sequences after CREATE, and what to call them.
const CREATE: &[(&[&str], &str)] = &[
    (&["INDEX"], "CREATE INDEX"),
    (&["CUSTOM", "INDEX"], "CREATE INDEX"),
    (&["MATERIALIZED", "VIEW"], "CREATE MATERIALIZED VIEW"),
    (&["TYPE"], "CREATE TYPE (user-defined types)"),
    (&["FUNCTION"], "CREATE FUNCTION"),
    (&["OR", "REPLACE", "FUNCTION"], "CREATE FUNCTION"),
    (&["AGGREGATE"], "CREATE AGGREGATE"),
    (&["OR", "REPLACE", "AGGREGATE"], "CREATE AGGREGATE"),
    (&["TRIGGER"], "CREATE TRIGGER"),
    (&["ROLE"], "CREATE ROLE"),
    (&["USER"], "CREATE USER"),
];

const ALTER: &[(&[&str], &str)] = &[
    (&["TYPE"], "ALTER TYPE (user-defined types)"),
    (&["MATERIALIZED", "VIEW"], "ALTER MATERIALIZED VIEW"),
    (&["ROLE"], "ALTER ROLE"),
    (&["USER"], "ALTER USER"),
];

const DROP: &[(&[&str], &str)] = &[
    (&["INDEX"], "DROP INDEX"),
    (&["MATERIALIZED", "VIEW"], "DROP MATERIALIZED VIEW"),
    (&["TYPE"], "DROP TYPE (user-defined types)"),
    (&["FUNCTION"], "DROP FUNCTION"),
    (&["AGGREGATE"], "DROP AGGREGATE"),
    (&["TRIGGER"], "DROP TRIGGER"),
    (&["ROLE"], "DROP ROLE"),
    (&["USER"], "DROP USER"),
    (&["IDENTITY"], "DROP IDENTITY"),
];

/// Statements recognised by their first keywords alone.
const OTHER: &[(&[&str], &str)] = &[
    (&["GRANT"], "GRANT"),
    (&["REVOKE"], "REVOKE"),
    (&["LIST"], "LIST (roles, users and permissions)"),
    (&["ADD", "IDENTITY"], "ADD IDENTITY"),
];

fn at_words(i: In<'_>, words: &[&str]) -> bool {
    words.iter().enumerate().all(|(n, w)| i.at_kw_n(n, w))
}

/// Rejects the first entry of `table` that matches at `i`; fails recoverably expecting
/// `expected` when none does.
fn reject<'a>(
    i: In<'a>,
    start: usize,
    table: &[(&[&str], &str)],
    expected: &[Expect],
) -> PResult<'a, Statement> {
    match table.iter().find(|(words, _)| at_words(i, words)) {
        Some((_, what)) => unsupported(start, what),
        None => i.fail_any(expected),
    }
}

const KEYSPACE_OR_TABLE: [Expect; 2] = [Expect::Token("KEYSPACE"), Expect::Token("TABLE")];

/// After `CREATE` (which starts at byte `start`).
pub(crate) fn create_other(i: In<'_>, start: usize) -> PResult<'_, Statement> {
    reject(i, start, CREATE, &KEYSPACE_OR_TABLE)
}

/// After `ALTER` (which starts at byte `start`).
pub(crate) fn alter_other(i: In<'_>, start: usize) -> PResult<'_, Statement> {
    reject(i, start, ALTER, &KEYSPACE_OR_TABLE)
}

/// After `DROP` (which starts at byte `start`).
pub(crate) fn drop_other(i: In<'_>, start: usize) -> PResult<'_, Statement> {
    reject(i, start, DROP, &KEYSPACE_OR_TABLE)
}

/// GRANT, REVOKE, LIST and ADD IDENTITY; a silent mismatch for anything else (the statement
/// alternatives record what a statement may start with).
pub(crate) fn other_statement(i: In<'_>) -> PResult<'_, Statement> {
    reject(i, i.offset(), OTHER, &[])
}
