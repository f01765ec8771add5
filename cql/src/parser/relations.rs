//! `WHERE` clauses (`Parser.g`'s `whereClause` and `relation`), shared by SELECT, UPDATE and
//! DELETE: `col op term`, `col IN (..)`/`IN ?`, `col CONTAINS [KEY] term`, `token(a, b) op term`,
//! `(c1, c2) op (t1, t2)` and `(c1, c2) IN ((..), (..))`, joined by `AND`; a relation may be
//! parenthesised. `BETWEEN`, `LIKE`, `IS NOT NULL`, `NOT IN`, `NOT CONTAINS`, `m[k] = v` and
//! `expr(index, ...)` are valid Cassandra that Tessera rejects as unsupported.

use nom::Parser;

use super::lexer::Kind;
use super::stream::{Expect, In, PResult, ident, ident_of, kw, parens1, sym, unsupported};
use super::terms::{marker, term};
use crate::ast::{Operator, Relation, RelationLhs, Term};

/// What `IN` takes, for the error message.
const IN_VALUES: Expect = Expect::Class("a parenthesised list or bind marker");

/// `WHERE relation AND relation ...`
pub(crate) fn where_clause(i: In<'_>) -> PResult<'_, Vec<Relation>> {
    let (i, _) = kw("WHERE")(i)?;
    let (mut i, first) = relation(i)?;
    let mut relations = vec![first];
    while i.at_kw("AND") {
        let (j, r) = relation(i.skip(1))?;
        relations.push(r);
        i = j;
    }
    Ok((i, relations))
}

/// The comparison operator here, if any (nothing is recorded when there is none).
fn comparison(i: In<'_>) -> Option<Operator> {
    let t = i.peek().filter(|t| t.kind == Kind::Sym)?;
    Some(match t.text {
        "=" => Operator::Eq,
        "<" => Operator::Lt,
        "<=" => Operator::Lte,
        ">" => Operator::Gt,
        ">=" => Operator::Gte,
        "!=" => Operator::Neq,
        _ => return None,
    })
}

/// Fails, recording every operator that could have come here.
fn expect_operator<T>(i: In<'_>, with_in: bool) -> PResult<'_, T> {
    const OPS: [Expect; 8] = [
        Expect::Token("="),
        Expect::Token("<"),
        Expect::Token("<="),
        Expect::Token(">"),
        Expect::Token(">="),
        Expect::Token("!="),
        Expect::Token("IN"),
        Expect::Token("CONTAINS"),
    ];
    i.fail_any(if with_in { &OPS[..] } else { &OPS[..6] })
}

/// Rejects the relation forms Tessera does not support, found at `i`.
fn reject_unsupported_operator(i: In<'_>) -> PResult<'_, ()> {
    let offset = i.offset();
    if i.at_kw("BETWEEN") {
        return unsupported(offset, "BETWEEN");
    }
    if i.at_kw("LIKE") {
        return unsupported(offset, "LIKE");
    }
    if i.at_kw("IS") && i.at_kw_n(1, "NOT") && i.at_kw_n(2, "NULL") {
        return unsupported(offset, "IS NOT NULL");
    }
    if i.at_kw("NOT") && i.at_kw_n(1, "IN") {
        return unsupported(offset, "NOT IN");
    }
    if i.at_kw("NOT") && i.at_kw_n(1, "CONTAINS") {
        return unsupported(offset, "NOT CONTAINS");
    }
    Ok((i, ()))
}

/// One relation.
fn relation(i: In<'_>) -> PResult<'_, Relation> {
    let _depth = i.nest()?;
    if i.at_kw("TOKEN") && i.at_sym_n(1, "(") {
        return token_relation(i);
    }
    if i.at_sym("(") {
        let tuple = i.peek_at(1).and_then(ident_of).is_some() && (i.at_sym_n(2, ",") || i.at_sym_n(2, ")"));
        if tuple {
            return tuple_relation(i);
        }
        let (i, (_, r, _)) = (sym("("), relation, sym(")")).parse(i)?;
        return Ok((i, r));
    }
    if i.at_kw("expr") && i.at_sym_n(1, "(") {
        return unsupported(i.offset(), "a custom index expression (expr(...))");
    }
    let (i, column) = ident(i)?;
    if i.at_sym("[") {
        return unsupported(i.offset(), "a relation on a collection element (c[k] = v)");
    }
    reject_unsupported_operator(i)?;
    let lhs = RelationLhs::Column(column);
    if let Some(op) = comparison(i) {
        let (i, rhs) = term(i.skip(1))?;
        return Ok((i, Relation { lhs, op, rhs }));
    }
    if i.at_kw("IN") {
        let (i, rhs) = in_values(i.skip(1))?;
        return Ok((i, Relation { lhs, op: Operator::In, rhs }));
    }
    if i.at_kw("CONTAINS") {
        let (i, op) = match i.at_kw_n(1, "KEY") {
            true => (i.skip(2), Operator::ContainsKey),
            false => (i.skip(1), Operator::Contains),
        };
        let (i, rhs) = term(i)?;
        return Ok((i, Relation { lhs, op, rhs }));
    }
    expect_operator(i, true)
}

/// `token(a, b) op term`
fn token_relation(i: In<'_>) -> PResult<'_, Relation> {
    let (i, columns) = parens1(ident).parse(i.skip(1))?;
    reject_unsupported_operator(i)?;
    let Some(op) = comparison(i) else { return expect_operator(i, false) };
    let (i, rhs) = term(i.skip(1))?;
    Ok((i, Relation { lhs: RelationLhs::Token(columns), op, rhs }))
}

/// `(c1, c2) op (t1, t2)`, `(c1, c2) op ?` or `(c1, c2) IN (...)`.
fn tuple_relation(i: In<'_>) -> PResult<'_, Relation> {
    let (i, columns) = parens1(ident).parse(i)?;
    reject_unsupported_operator(i)?;
    let lhs = RelationLhs::Tuple(columns);
    if i.at_kw("IN") {
        let i = i.skip(1);
        let (i, rhs) = if i.at_sym("(") && i.at_sym_n(1, ")") {
            (i.skip(2), Term::List(Vec::new()))
        } else if i.at_sym("(") {
            let (i, items) = parens1(tuple_or_marker).parse(i)?;
            (i, Term::List(items))
        } else if i.at_sym("?") || i.at_sym(":") {
            marker(i)?
        } else {
            return i.fail(IN_VALUES);
        };
        return Ok((i, Relation { lhs, op: Operator::In, rhs }));
    }
    let Some(op) = comparison(i) else { return expect_operator(i, false) };
    let (i, rhs) = tuple_or_marker(i.skip(1))?;
    Ok((i, Relation { lhs, op, rhs }))
}

/// `(t1, t2)` or a bind marker.
fn tuple_or_marker(i: In<'_>) -> PResult<'_, Term> {
    if i.at_sym("?") || i.at_sym(":") {
        return marker(i);
    }
    if !i.at_sym("(") {
        return i.fail(Expect::Class("a tuple or bind marker"));
    }
    let (i, items) = parens1(term).parse(i)?;
    Ok((i, Term::Tuple(items)))
}

/// After `IN`: `(a, b)`, `()` or a bind marker.
fn in_values(i: In<'_>) -> PResult<'_, Term> {
    if i.at_sym("(") && i.at_sym_n(1, ")") {
        return Ok((i.skip(2), Term::List(Vec::new())));
    }
    if i.at_sym("?") || i.at_sym(":") {
        return marker(i);
    }
    if !i.at_sym("(") {
        return i.fail(IN_VALUES);
    }
    let (i, items) = parens1(term).parse(i)?;
    Ok((i, Term::List(items)))
}
