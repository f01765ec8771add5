//! SELECT (`Parser.g`'s `selectStatement` and `selector`): `[JSON] [DISTINCT]`, `*` or
//! selectors (columns, `AS` aliases, `writetime(c)`, `ttl(c)`, `token(..)`, `count(*)`, function
//! calls, literals and markers), then FROM, WHERE, ORDER BY, PER PARTITION LIMIT, LIMIT,
//! ALLOW FILTERING and Tessera's `USING CONSISTENCY level`, in that order.
//!
//! `json` and `distinct` are also valid column names: they are flags only when a selector
//! follows them. GROUP BY, CAST, MAXWRITETIME, arithmetic, field and element selection in
//! selectors, and ORDER BY ... ANN OF are unsupported.

use nom::Parser;

use super::dml::consistency_level;
use super::lexer::{Kind, Token};
use super::qualified_name;
use super::relations::where_clause;
use super::stream::{
    Expect, In, PResult, flag, ident, ident_of, kw, list1, maybe, sym, unsupported, unsupported_plural,
};
use super::terms::{constant, function_call_ahead, function_name, int_value, literal_of, marker, term};
use crate::ast::{Literal, Order, Select, Selector, SelectorExpr, Statement, Term};

/// `SELECT ...`
pub(crate) fn select(i: In<'_>) -> PResult<'_, Statement> {
    let (i, _) = kw("SELECT")(i)?;
    let (i, json) = modifier(i, "JSON");
    let (i, distinct) = modifier(i, "DISTINCT");
    let (i, selectors) =
        if i.at_sym("*") { (i.skip(1), Vec::new()) } else { list1(",", selector).parse(i)? };
    let (i, (_, table)) = (kw("FROM"), qualified_name).parse(i)?;
    let (i, where_clause) = maybe(where_clause).parse(i)?;
    if i.at_kw("GROUP") && i.at_kw_n(1, "BY") {
        return unsupported(i.offset(), "GROUP BY");
    }
    let (i, order_by) = maybe(order_by).parse(i)?;
    let (i, per_partition_limit) = maybe((kw("PER"), kw("PARTITION"), kw("LIMIT"), int_value)).parse(i)?;
    let (i, limit) = maybe((kw("LIMIT"), int_value)).parse(i)?;
    let (i, allow_filtering) = flag(&["ALLOW", "FILTERING"])(i)?;
    let (i, consistency) = maybe((kw("USING"), kw("CONSISTENCY"), consistency_level)).parse(i)?;
    Ok((
        i,
        Statement::Select(Select {
            table,
            json,
            distinct,
            selectors,
            where_clause: where_clause.unwrap_or_default(),
            order_by: order_by.unwrap_or_default(),
            per_partition_limit: per_partition_limit.map(|(_, _, _, n)| n),
            limit: limit.map(|(_, n)| n),
            allow_filtering,
            consistency: consistency.map(|(_, _, c)| c),
        }),
    ))
}

/// `JSON` or `DISTINCT` as a flag: only when a selector follows (otherwise it names a column,
/// as in `SELECT json FROM t` or `SELECT distinct, a FROM t`).
fn modifier<'a>(i: In<'a>, word: &str) -> (In<'a>, bool) {
    if !i.at_kw(word) {
        return (i, false);
    }
    let column_follows = match i.peek_at(1) {
        None => true,
        Some(t) if t.kind == Kind::Sym => matches!(t.text, "," | "." | "[" | "+" | "-" | "/" | "%" | ";"),
        Some(t) => t.text.eq_ignore_ascii_case("FROM") || t.text.eq_ignore_ascii_case("AS"),
    };
    if column_follows { (i, false) } else { (i.skip(1), true) }
}

/// `ORDER BY c [ASC|DESC], ...`
fn order_by(i: In<'_>) -> PResult<'_, Vec<(String, Order)>> {
    let (i, _) = (kw("ORDER"), kw("BY")).parse(i)?;
    list1(",", ordering).parse(i)
}

fn ordering(i: In<'_>) -> PResult<'_, (String, Order)> {
    let (i, column) = ident(i)?;
    if i.at_kw("ANN") && i.at_kw_n(1, "OF") {
        return unsupported(i.offset(), "ORDER BY ... ANN OF");
    }
    if i.at_kw("ASC") {
        Ok((i.skip(1), (column, Order::Asc)))
    } else if i.at_kw("DESC") {
        Ok((i.skip(1), (column, Order::Desc)))
    } else {
        Ok((i, (column, Order::Asc)))
    }
}

/// `expr [AS alias]`
fn selector(i: In<'_>) -> PResult<'_, Selector> {
    let (i, expr) = unaliased(i)?;
    let (i, alias) = maybe((kw("AS"), ident)).parse(i)?;
    Ok((i, Selector { expr, alias: alias.map(|(_, a)| a) }))
}

/// A selector without its alias; rejects what may follow it but Tessera does not support.
fn unaliased(i: In<'_>) -> PResult<'_, SelectorExpr> {
    let _depth = i.nest()?;
    let (i, expr) = atom(i)?;
    match i.peek() {
        Some(t) if t.kind == Kind::Sym && matches!(t.text, "." | "[") => {
            unsupported(t.offset, "field and element selection in selectors (c.f, c[k])")
        }
        Some(t) if t.kind == Kind::Sym && matches!(t.text, "+" | "-" | "*" | "/" | "%") => {
            unsupported(t.offset, "arithmetic in selectors (+, -, *, /, %)")
        }
        _ => Ok((i, expr)),
    }
}

fn is_word(t: Option<&Token<'_>>, w: &str) -> bool {
    t.is_some_and(|t| t.kind == Kind::Word && t.text.eq_ignore_ascii_case(w))
}

/// A selector's core: a special function, a function call, a literal, a marker or a column.
fn atom(i: In<'_>) -> PResult<'_, SelectorExpr> {
    let Some(t) = i.peek() else { return i.fail(Expect::Class("a selector")) };
    let call = i.at_sym_n(1, "(");
    if call && is_word(Some(t), "count") {
        let star = i.at_sym_n(2, "*") && i.at_sym_n(3, ")");
        let one =
            i.peek_at(2).is_some_and(|t| t.kind == Kind::Integer && t.text == "1") && i.at_sym_n(3, ")");
        if star || one {
            return Ok((i.skip(4), SelectorExpr::CountStar));
        }
    }
    if call && (is_word(Some(t), "writetime") || is_word(Some(t), "ttl")) {
        let (j, (_, column)) = (sym("("), ident).parse(i.skip(1))?;
        if j.at_sym(".") || j.at_sym("[") {
            return unsupported_plural(j.offset(), "WRITETIME and TTL of a field or element");
        }
        let (j, _) = sym(")")(j)?;
        let expr = match is_word(Some(t), "ttl") {
            true => SelectorExpr::Ttl(column),
            false => SelectorExpr::WriteTime(column),
        };
        return Ok((j, expr));
    }
    if call && is_word(Some(t), "maxwritetime") {
        return unsupported(t.offset, "MAXWRITETIME");
    }
    if call && is_word(Some(t), "cast") {
        return unsupported(t.offset, "CAST");
    }
    if function_call_ahead(i) {
        let (i, name) = function_name(i)?;
        let (i, args) = arguments(i)?;
        let columns: Option<Vec<String>> = args
            .iter()
            .map(|a| match a {
                SelectorExpr::Column(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        return Ok((
            i,
            match columns {
                Some(columns) if name == "token" && !columns.is_empty() => SelectorExpr::Token(columns),
                _ => SelectorExpr::Function { name, args },
            },
        ));
    }
    match &t.kind {
        Kind::Sym => match t.text {
            "?" | ":" => marker(i).map(|(i, m)| (i, SelectorExpr::Term(m))),
            "[" | "{" => term(i).map(|(i, v)| (i, SelectorExpr::Term(v))),
            "-" if i.peek_at(1).is_some_and(|t| matches!(literal_of(t), Ok(Some(_)))) => {
                constant(i).map(|(i, c)| (i, SelectorExpr::Term(Term::Literal(c))))
            }
            "-" => unsupported(t.offset, "arithmetic in selectors (+, -, *, /, %)"),
            "(" => {
                unsupported_plural(t.offset, "parenthesised selectors, tuples and type hints in selectors")
            }
            _ => i.fail(Expect::Class("a selector")),
        },
        Kind::Word if t.text.eq_ignore_ascii_case("null") => {
            Ok((i.skip(1), SelectorExpr::Term(Term::Literal(Literal::Null))))
        }
        _ => match literal_of(t) {
            Ok(Some(_)) => constant(i).map(|(i, c)| (i, SelectorExpr::Term(Term::Literal(c)))),
            _ => match ident_of(t) {
                Some(c) => Ok((i.skip(1), SelectorExpr::Column(c))),
                None => i.fail(Expect::Class("a selector")),
            },
        },
    }
}

/// `( selector, ... )`, possibly empty.
fn arguments(i: In<'_>) -> PResult<'_, Vec<SelectorExpr>> {
    let (i, _) = sym("(")(i)?;
    if i.at_sym(")") {
        return Ok((i.skip(1), Vec::new()));
    }
    let (i, args) = list1(",", unaliased).parse(i)?;
    let (i, _) = sym(")")(i)?;
    Ok((i, args))
}
