//! Terms, seen through `INSERT ... VALUES (term)`: numbers keep their text and sign, every
//! other constant kind, collections and tuples, function calls and negation, and bind markers
//! numbered in text order however deeply they nest.

use super::{bind, boolean, float, func, int, named, parsed, string};
use crate::ast::{InsertValues, Literal, Statement, Term};

/// The terms of `INSERT INTO t (...) VALUES (<values>)` and the statement's marker names.
fn values(text: &str) -> (Vec<Term>, Vec<Option<String>>) {
    let p = parsed(&format!("INSERT INTO t (c) VALUES ({text})"));
    match p.statement {
        Statement::Insert(i) => match i.values {
            InsertValues::Values { values, .. } => (values, p.bind_markers),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn one(text: &str) -> Term {
    let (mut v, _) = values(text);
    assert_eq!(v.len(), 1, "{text}");
    v.remove(0)
}

fn lit(l: Literal) -> Term {
    Term::Literal(l)
}

#[test]
fn numbers_keep_their_text_and_sign() {
    assert_eq!(one("42"), int("42"));
    assert_eq!(one("-42"), int("-42"));
    assert_eq!(one("- 7"), int("-7"));
    assert_eq!(one("123456789012345678901234567890"), int("123456789012345678901234567890"));
    assert_eq!(one("1.5"), float("1.5"));
    assert_eq!(one("-2e10"), float("-2e10"));
    assert_eq!(one("1E-3"), float("1E-3"));
    assert_eq!(one("1."), float("1."));
    assert_eq!(one("NaN"), float("NaN"));
    assert_eq!(one("-nan"), float("NaN"));
    assert_eq!(one("Infinity"), float("Infinity"));
    assert_eq!(one("-Infinity"), float("-Infinity"));
}

#[test]
fn other_constants() {
    assert_eq!(one("'it''s'"), string("it's"));
    assert_eq!(one("''"), string(""));
    assert_eq!(one("$$it's a 'quote'; -- not a comment$$"), string("it's a 'quote'; -- not a comment"));
    assert_eq!(one("TRUE"), boolean(true));
    assert_eq!(one("false"), boolean(false));
    assert_eq!(one("null"), lit(Literal::Null));
    assert_eq!(
        one("123e4567-E89B-12d3-a456-426614174000"),
        lit(Literal::Uuid("123e4567-E89B-12d3-a456-426614174000".into()))
    );
    assert_eq!(one("0xCAFE01"), lit(Literal::Blob(vec![0xca, 0xfe, 0x01])));
    assert_eq!(one("0x"), lit(Literal::Blob(vec![])));
    assert_eq!(one("1h30m"), lit(Literal::Duration("1h30m".into())));
    assert_eq!(one("12mo"), lit(Literal::Duration("12mo".into())));
    assert_eq!(one("-3d"), lit(Literal::Duration("-3d".into())));
    assert_eq!(one("P1D"), lit(Literal::Duration("P1D".into())));
    assert_eq!(one("PT1H30M"), lit(Literal::Duration("PT1H30M".into())));
    assert_eq!(one("P0001-02-03T04:05:06"), lit(Literal::Duration("P0001-02-03T04:05:06".into())));
}

#[test]
fn collections_and_tuples() {
    assert_eq!(one("[1, 2]"), Term::List(vec![int("1"), int("2")]));
    assert_eq!(one("[]"), Term::List(vec![]));
    assert_eq!(one("{'a', 'b'}"), Term::Set(vec![string("a"), string("b")]));
    assert_eq!(one("{}"), Term::Map(vec![]));
    assert_eq!(
        one("{'k': 1, 'j': [2]}"),
        Term::Map(vec![(string("k"), int("1")), (string("j"), Term::List(vec![int("2")]))])
    );
    assert_eq!(one("(1, 'a', null)"), Term::Tuple(vec![int("1"), string("a"), lit(Literal::Null)]));
    assert_eq!(
        one("((1), [{2: (3, 4)}])"),
        Term::Tuple(vec![
            Term::Tuple(vec![int("1")]),
            Term::List(vec![Term::Map(vec![(int("2"), Term::Tuple(vec![int("3"), int("4")]))])]),
        ])
    );
}

#[test]
fn parenthesised_terms_stay_tuples_beside_type_casts() {
    // Words that could look like a type name in `(type) value` but are terms here.
    assert_eq!(one("(null)"), Term::Tuple(vec![lit(Literal::Null)]));
    assert_eq!(one("(NaN)"), Term::Tuple(vec![float("NaN")]));
    assert_eq!(one("(true, 1)"), Term::Tuple(vec![boolean(true), int("1")]));
    assert_eq!(one("(now())"), Term::Tuple(vec![func("now", vec![])]));
    assert_eq!(one("(ks.f(1))"), Term::Tuple(vec![func("ks.f", vec![int("1")])]));
    assert_eq!(one("(-1)"), Term::Tuple(vec![int("-1")]));
    assert_eq!(one("((1), 2)"), Term::Tuple(vec![Term::Tuple(vec![int("1")]), int("2")]));
    let (v, _) = values("(null), (1, 2)");
    assert_eq!(v, vec![Term::Tuple(vec![lit(Literal::Null)]), Term::Tuple(vec![int("1"), int("2")])]);
}

#[test]
fn functions_and_negation() {
    assert_eq!(one("now()"), func("now", vec![]));
    assert_eq!(one("uuid()"), func("uuid", vec![]));
    assert_eq!(one("currentTimestamp()"), func("currenttimestamp", vec![]));
    assert_eq!(one("toTimestamp(now())"), func("totimestamp", vec![func("now", vec![])]));
    assert_eq!(one("system.now()"), func("system.now", vec![]));
    assert_eq!(one("\"MyFn\"(1, ?)"), func("MyFn", vec![int("1"), bind(0)]));
    assert_eq!(one("-?"), Term::Negate(Box::new(bind(0))));
    assert_eq!(one("-abs(1)"), Term::Negate(Box::new(func("abs", vec![int("1")]))));
    assert_eq!(one("- -5"), Term::Negate(Box::new(int("-5"))));
}

#[test]
fn markers_are_numbered_in_text_order() {
    let (v, names) = values("?, :Named, [?, :\"Q\"], {?: ?}, f(?, :x), (?)");
    assert_eq!(
        v,
        vec![
            bind(0),
            named(1, "named"),
            Term::List(vec![bind(2), named(3, "Q")]),
            Term::Map(vec![(bind(4), bind(5))]),
            func("f", vec![bind(6), named(7, "x")]),
            Term::Tuple(vec![bind(8)]),
        ]
    );
    assert_eq!(
        names,
        vec![None, Some("named".into()), None, Some("Q".into()), None, None, None, Some("x".into()), None]
    );
}
