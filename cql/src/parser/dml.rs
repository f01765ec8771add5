//! Writes: INSERT (values or JSON), UPDATE, DELETE and BEGIN ... APPLY BATCH, with their
//! `USING TTL / TIMESTAMP / CONSISTENCY` clause (`Parser.g`'s `insertStatement`,
//! `updateStatement`, `deleteStatement`, `batchStatement`, `usingClause`).
//!
//! `USING CONSISTENCY level` is Tessera's addition; DELETE takes no TTL, as in Cassandra. `IF
//! EXISTS` / `IF NOT EXISTS` are kept; conditions on columns (`IF c = 1`) are unsupported. A
//! batch holds only INSERT, UPDATE and DELETE; any other statement in it is a syntax error.

use nom::Parser;

use super::lexer::Kind;
use super::relations::where_clause;
use super::stream::{
    Expect, FatalKind, In, PResult, fatal_at, flag, ident, ident_of, kw, kw_any, list1, maybe, parens1, sym,
    unsupported, unsupported_plural,
};
use super::terms::{function_call_ahead, int_value, marker, reject_arithmetic, simple_term, term};
use super::{qualified_name, statement_keyword};
use crate::Consistency;
use crate::ast::{
    Assignment, Batch, BatchKind, Delete, DeleteTarget, Insert, InsertValues, Literal, Statement, Term,
    Update, Using,
};

/// `USING TTL t AND TIMESTAMP ts AND CONSISTENCY level`, any subset in any order; `ttl` says
/// whether TTL is allowed.
pub(crate) fn using_clause(i: In<'_>, ttl: bool) -> PResult<'_, Using> {
    let (mut i, _) = kw("USING")(i)?;
    let mut using = Using::default();
    loop {
        let offset = i.offset();
        let twice =
            |what: &str| fatal_at(offset, FatalKind::Syntax, format!("{what} is given twice in USING"));
        if ttl && i.at_kw("TTL") {
            if using.ttl.is_some() {
                return twice("TTL");
            }
            let (j, v) = int_value(i.skip(1))?;
            using.ttl = Some(v);
            i = j;
        } else if i.at_kw("TIMESTAMP") {
            if using.timestamp.is_some() {
                return twice("TIMESTAMP");
            }
            let (j, v) = int_value(i.skip(1))?;
            using.timestamp = Some(v);
            i = j;
        } else if i.at_kw("CONSISTENCY") {
            if using.consistency.is_some() {
                return twice("CONSISTENCY");
            }
            let (j, c) = consistency_level(i.skip(1))?;
            using.consistency = Some(c);
            i = j;
        } else {
            let all = [Expect::Token("TTL"), Expect::Token("TIMESTAMP"), Expect::Token("CONSISTENCY")];
            return i.fail_any(if ttl { &all[..] } else { &all[1..] });
        }
        if !i.at_kw("AND") {
            return Ok((i, using));
        }
        i = i.skip(1);
    }
}

/// A consistency level name (`QUORUM`, `local_one`, ...); an unknown name is a syntax error.
pub(crate) fn consistency_level(i: In<'_>) -> PResult<'_, Consistency> {
    match i.peek() {
        Some(t) if t.kind == Kind::Word => match t.text.parse::<Consistency>() {
            Ok(c) => Ok((i.skip(1), c)),
            Err(message) => i.fatal(FatalKind::Syntax, message),
        },
        _ => i.fail(Expect::Class("a consistency level")),
    }
}

/// `INSERT INTO t (cols) VALUES (terms) | JSON value [DEFAULT NULL|UNSET] [IF NOT EXISTS]
/// [USING ...]`
pub(crate) fn insert(i: In<'_>) -> PResult<'_, Statement> {
    let (i, (_, _, table)) = (kw("INSERT"), kw("INTO"), qualified_name).parse(i)?;
    let (i, values) = if i.at_kw("JSON") { json_values(i.skip(1))? } else { column_values(i)? };
    let (i, if_not_exists) = flag(&["IF", "NOT", "EXISTS"])(i)?;
    let (i, using) = maybe(|j| using_clause(j, true)).parse(i)?;
    let using = using.unwrap_or_default();
    Ok((i, Statement::Insert(Insert { table, values, if_not_exists, using })))
}

/// `(cols) VALUES (terms)`
fn column_values(i: In<'_>) -> PResult<'_, InsertValues> {
    let (i, columns) = parens1(ident).parse(i)?;
    let (i, _) = kw("VALUES")(i)?;
    let (i, values) = parens1(term).parse(i)?;
    Ok((i, InsertValues::Values { columns, values }))
}

/// After `JSON`: `'text'` or a marker, then `DEFAULT NULL` / `DEFAULT UNSET`.
fn json_values(i: In<'_>) -> PResult<'_, InsertValues> {
    let (i, value) = match i.peek().map(|t| &t.kind) {
        Some(Kind::Str(s)) => (i.skip(1), Term::Literal(Literal::String(s.clone()))),
        _ if i.at_sym("?") || i.at_sym(":") => marker(i)?,
        _ => return i.fail(Expect::Class("a JSON string or bind marker")),
    };
    let (i, default) = maybe((kw("DEFAULT"), kw_any(&["NULL", "UNSET"]))).parse(i)?;
    let default_unset = default.is_some_and(|(_, t)| t.text.eq_ignore_ascii_case("UNSET"));
    Ok((i, InsertValues::Json { value, default_unset }))
}

/// `UPDATE t [USING ...] SET assignments WHERE relations [IF EXISTS]`
pub(crate) fn update(i: In<'_>) -> PResult<'_, Statement> {
    let (i, (_, table)) = (kw("UPDATE"), qualified_name).parse(i)?;
    let (i, using) = maybe(|j| using_clause(j, true)).parse(i)?;
    let (i, _) = kw("SET")(i)?;
    let (i, assignments) = list1(",", assignment).parse(i)?;
    let (i, where_clause) = where_clause(i)?;
    let (i, if_exists) = if_exists(i)?;
    let using = using.unwrap_or_default();
    Ok((i, Statement::Update(Update { table, using, assignments, where_clause, if_exists })))
}

/// `[IF EXISTS]` after a WHERE clause; `IF col ...` is unsupported.
fn if_exists(i: In<'_>) -> PResult<'_, bool> {
    if !i.at_kw("IF") {
        return Ok((i, false));
    }
    let j = i.skip(1);
    if j.at_kw("EXISTS") {
        return Ok((j.skip(1), true));
    }
    if j.peek().and_then(ident_of).is_some() {
        return unsupported_plural(i.offset(), "conditions on columns (IF col = ...)");
    }
    let (j, _) = kw("EXISTS")(j)?;
    Ok((j, true))
}

/// True when the token here is a column name rather than the start of a term.
fn column_ahead(i: In<'_>) -> bool {
    i.peek().and_then(ident_of).is_some() && !function_call_ahead(i)
}

/// `c = v`, `c[k] = v`, `c = c + v`, `c = c - v`, `c = v + c`, `c += v`, `c -= v`.
fn assignment(i: In<'_>) -> PResult<'_, Assignment> {
    let (i, column) = ident(i)?;
    if i.at_sym("[") {
        let (i, (_, key, _, _, value)) = (sym("["), term, sym("]"), sym("="), term).parse(i)?;
        return Ok((i, Assignment::SetElement { column, key, value }));
    }
    if i.at_sym(".") {
        return unsupported(i.offset(), "setting a user-defined type field (c.field = v)");
    }
    if i.at_sym("+=") || i.at_sym("-=") {
        let add = i.at_sym("+=");
        let (i, value) = term(i.skip(1))?;
        return Ok((
            i,
            if add { Assignment::Add { column, value } } else { Assignment::Remove { column, value } },
        ));
    }
    let (i, _) = sym("=")(i)?;
    if column_ahead(i) && (i.at_sym_n(1, "+") || i.at_sym_n(1, "-")) {
        let offset = i.offset();
        let (i, other) = ident(i)?;
        let add = i.at_sym("+");
        if other != column {
            let sign = if add { '+' } else { '-' };
            let message = format!("Only expressions of the form X = X {sign} <value> are supported.");
            return fatal_at(offset, FatalKind::Syntax, message);
        }
        let (i, value) = term(i.skip(1))?;
        return Ok((
            i,
            if add { Assignment::Add { column, value } } else { Assignment::Remove { column, value } },
        ));
    }
    let (i, value) = simple_term(i)?;
    if i.at_sym("+") && column_ahead(i.skip(1)) {
        let offset = i.skip(1).offset();
        let (i, other) = ident(i.skip(1))?;
        if other != column {
            let message = "Only expressions of the form X = <value> + X are supported.";
            return fatal_at(offset, FatalKind::Syntax, message);
        }
        return Ok((i, Assignment::Prepend { column, value }));
    }
    reject_arithmetic(i)?;
    Ok((i, Assignment::Set { column, value }))
}

/// `DELETE [targets] FROM t [USING TIMESTAMP ts] WHERE relations [IF EXISTS]`
pub(crate) fn delete(i: In<'_>) -> PResult<'_, Statement> {
    let (i, _) = kw("DELETE")(i)?;
    let (i, targets) = if i.at_kw("FROM") { (i, Vec::new()) } else { list1(",", delete_target).parse(i)? };
    let (i, (_, table)) = (kw("FROM"), qualified_name).parse(i)?;
    let (i, using) = maybe(|j| using_clause(j, false)).parse(i)?;
    let (i, where_clause) = where_clause(i)?;
    let (i, if_exists) = if_exists(i)?;
    let using = using.unwrap_or_default();
    Ok((i, Statement::Delete(Delete { table, targets, using, where_clause, if_exists })))
}

/// `c` or `c[k]`.
fn delete_target(i: In<'_>) -> PResult<'_, DeleteTarget> {
    let (i, column) = ident(i)?;
    if i.at_sym(".") {
        return unsupported(i.offset(), "deleting a user-defined type field (c.field)");
    }
    if !i.at_sym("[") {
        return Ok((i, DeleteTarget::Column(column)));
    }
    let (i, (_, key, _)) = (sym("["), term, sym("]")).parse(i)?;
    Ok((i, DeleteTarget::Element { column, key }))
}

/// `BEGIN [UNLOGGED|COUNTER] BATCH [USING ...] stmt; ... APPLY BATCH`
pub(crate) fn batch(i: In<'_>) -> PResult<'_, Statement> {
    let (i, (_, first)) = (kw("BEGIN"), kw_any(&["UNLOGGED", "COUNTER", "BATCH"])).parse(i)?;
    let (i, kind) = match first.text.to_ascii_uppercase().as_str() {
        "UNLOGGED" => (kw("BATCH")(i)?.0, BatchKind::Unlogged),
        "COUNTER" => (kw("BATCH")(i)?.0, BatchKind::Counter),
        _ => (i, BatchKind::Logged),
    };
    let (mut i, using) = maybe(|j| using_clause(j, true)).parse(i)?;
    let mut statements = Vec::new();
    while !i.at_kw("APPLY") {
        let (j, stmt) = if i.at_kw("INSERT") {
            insert(i)?
        } else if i.at_kw("UPDATE") {
            update(i)?
        } else if i.at_kw("DELETE") {
            delete(i)?
        } else if let Some(word) = i.peek().and_then(statement_keyword) {
            let message =
                format!("{word} statements are not allowed in a batch (only INSERT, UPDATE and DELETE)");
            return i.fatal(FatalKind::Syntax, message);
        } else {
            let expected = ["INSERT", "UPDATE", "DELETE", "APPLY"].map(Expect::Token);
            return i.fail_any(&expected);
        };
        statements.push(stmt);
        i = if j.at_sym(";") { j.skip(1) } else { j };
    }
    let (i, _) = (kw("APPLY"), kw("BATCH")).parse(i)?;
    Ok((i, Statement::Batch(Batch { kind, using: using.unwrap_or_default(), statements })))
}
