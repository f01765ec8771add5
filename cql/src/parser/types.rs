//! The CQL type grammar (`Parser.g`'s `comparatorType`), shared by `CREATE TABLE`,
//! `ALTER TABLE ADD` and [`super::parse_type`].
//!
//! `varchar` is `text`. `tuple<..>` is [`CqlType::Tuple`] (tuples are frozen implicitly);
//! `frozen<x>` wraps a collection or tuple in [`CqlType::Frozen`]. Inside a frozen type or a
//! tuple, nested collections are frozen too (`frozen<list<list<int>>>` holds
//! `Frozen(List(..))` elements), as Cassandra freezes them; a non-frozen collection inside a
//! non-frozen one, or a counter inside a collection or tuple, is invalid. User-defined, custom
//! (`'class'`) and vector types are unsupported.

use nom::Parser;
use nom::sequence::delimited;

use super::lexer::Kind;
use super::stream::{
    Expect, FatalKind, In, PResult, fatal_at, ident, ident_of, is_reserved, sym, unsupported,
};
use crate::types::CqlType;

const TYPE: Expect = Expect::Class("a type");

/// A CQL type.
pub(crate) fn cql_type(i: In<'_>) -> PResult<'_, CqlType> {
    ty(i, false)
}

/// The native type `word` names (`int`, `text`, `varchar`, ...), if any.
pub(crate) fn native(word: &str) -> Option<CqlType> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ascii" => CqlType::Ascii,
        "bigint" => CqlType::Bigint,
        "blob" => CqlType::Blob,
        "boolean" => CqlType::Boolean,
        "counter" => CqlType::Counter,
        "date" => CqlType::Date,
        "decimal" => CqlType::Decimal,
        "double" => CqlType::Double,
        "duration" => CqlType::Duration,
        "float" => CqlType::Float,
        "inet" => CqlType::Inet,
        "int" => CqlType::Int,
        "smallint" => CqlType::Smallint,
        "text" | "varchar" => CqlType::Text,
        "time" => CqlType::Time,
        "timestamp" => CqlType::Timestamp,
        "timeuuid" => CqlType::Timeuuid,
        "tinyint" => CqlType::Tinyint,
        "uuid" => CqlType::Uuid,
        "varint" => CqlType::Varint,
        _ => return None,
    })
}

/// Wraps a bare collection in `Frozen`.
fn freeze(t: CqlType) -> CqlType {
    if t.is_multi_cell() { CqlType::Frozen(Box::new(t)) } else { t }
}

/// A type; `frozen` is true inside `frozen<...>` or a tuple.
fn ty(i: In<'_>, frozen: bool) -> PResult<'_, CqlType> {
    let _depth = i.nest()?;
    let Some(t) = i.peek() else { return i.fail(TYPE) };
    let word = match &t.kind {
        Kind::Word => t.text.to_ascii_lowercase(),
        Kind::Quoted(_) => return user_type(i),
        Kind::Str(_) => return unsupported(t.offset, "a custom type ('class name')"),
        _ => return i.fail(TYPE),
    };
    if let Some(n) = native(&word) {
        return Ok((i.skip(1), n));
    }
    let generic = i.at_sym_n(1, "<");
    match word.as_str() {
        "frozen" if generic => {
            let (j, inner) = delimited(sym("<"), |j| ty(j, true), sym(">")).parse(i.skip(1))?;
            match inner {
                CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..) | CqlType::Tuple(_) => {
                    Ok((j, CqlType::Frozen(Box::new(inner))))
                }
                CqlType::Frozen(_) => Ok((j, inner)),
                _ => fatal_at(
                    t.offset,
                    FatalKind::Syntax,
                    "frozen<> is only allowed on collections, tuples, and user-defined types",
                ),
            }
        }
        "list" | "set" if generic => {
            let (j, elem) = delimited(sym("<"), |j| element(j, frozen), sym(">")).parse(i.skip(1))?;
            let collection = if word == "list" { CqlType::List(elem) } else { CqlType::Set(elem) };
            Ok((j, collection))
        }
        "map" if generic => {
            let (j, (_, key, _, value, _)) =
                (sym("<"), |j| element(j, frozen), sym(","), |j| element(j, frozen), sym(">"))
                    .parse(i.skip(1))?;
            Ok((j, CqlType::Map(key, value)))
        }
        "tuple" if generic => {
            let (mut j, first) = tuple_item(i.skip(2))?;
            let mut items = vec![first];
            while j.at_sym(",") {
                let (k, item) = tuple_item(j.skip(1))?;
                items.push(item);
                j = k;
            }
            let (j, _) = sym(">")(j)?;
            Ok((j, CqlType::Tuple(items)))
        }
        "vector" if generic => unsupported(t.offset, "the vector type"),
        // These take their element types; without `<` they are not a user-defined type.
        "frozen" | "list" | "set" | "map" | "tuple" | "vector" => i.skip(1).fail(Expect::Token("<")),
        _ if !is_reserved(&word) => user_type(i),
        _ => i.fail(TYPE),
    }
}

/// A collection's element type: frozen when the collection is, and never a non-frozen
/// collection or a counter.
fn element(i: In<'_>, frozen: bool) -> PResult<'_, Box<CqlType>> {
    let offset = i.offset();
    let (j, elem) = ty(i, frozen)?;
    if elem.unfrozen() == &CqlType::Counter {
        return fatal_at(offset, FatalKind::Invalid, "counters are not allowed inside collections");
    }
    if !frozen && elem.is_multi_cell() {
        return fatal_at(
            offset,
            FatalKind::Invalid,
            "non-frozen collections are not allowed inside collections (use frozen<...>)",
        );
    }
    Ok((j, Box::new(freeze(elem))))
}

/// A tuple's item type: frozen, and never a counter.
fn tuple_item(i: In<'_>) -> PResult<'_, CqlType> {
    let offset = i.offset();
    let (j, item) = ty(i, true)?;
    if item.unfrozen() == &CqlType::Counter {
        return fatal_at(offset, FatalKind::Invalid, "counters are not allowed inside tuples");
    }
    Ok((j, freeze(item)))
}

/// `[ks.]name`: a user-defined type, which Tessera does not support. After `ks.` a type name
/// must follow.
fn user_type(i: In<'_>) -> PResult<'_, CqlType> {
    let offset = i.offset();
    let (j, first) = ident(i)?;
    let name = if j.at_sym(".") {
        let j = j.skip(1);
        match j.peek().and_then(ident_of) {
            Some(name) => format!("{first}.{name}"),
            None => return j.fail(Expect::Class("a type name")),
        }
    } else {
        first
    };
    unsupported(offset, &format!("the user-defined type '{name}'"))
}
