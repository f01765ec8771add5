//! `parse_type`: every native type, collections, tuples and frozen types (with nested
//! collections frozen), a round trip through a CQL rendering of the type, and the errors for
//! malformed, unsupported and invalid types.

use crate::Error;
use crate::parser::parse_type;
use crate::types::CqlType;

/// CQL text for a type, as `DESCRIBE` would write it.
fn render(t: &CqlType) -> String {
    let list = |ts: &[CqlType]| ts.iter().map(render).collect::<Vec<_>>().join(", ");
    match t {
        CqlType::List(e) => format!("list<{}>", render(e)),
        CqlType::Set(e) => format!("set<{}>", render(e)),
        CqlType::Map(k, v) => format!("map<{}, {}>", render(k), render(v)),
        CqlType::Tuple(ts) => format!("tuple<{}>", list(ts)),
        CqlType::Frozen(inner) => format!("frozen<{}>", render(inner)),
        native => format!("{native:?}").to_lowercase(),
    }
}

fn frozen(t: CqlType) -> CqlType {
    CqlType::Frozen(Box::new(t))
}

fn list(t: CqlType) -> CqlType {
    CqlType::List(Box::new(t))
}

#[test]
fn native_types() {
    let names = [
        ("ascii", CqlType::Ascii),
        ("BIGINT", CqlType::Bigint),
        ("blob", CqlType::Blob),
        ("boolean", CqlType::Boolean),
        ("counter", CqlType::Counter),
        ("date", CqlType::Date),
        ("decimal", CqlType::Decimal),
        ("double", CqlType::Double),
        ("duration", CqlType::Duration),
        ("float", CqlType::Float),
        ("inet", CqlType::Inet),
        ("int", CqlType::Int),
        ("smallint", CqlType::Smallint),
        ("text", CqlType::Text),
        ("varchar", CqlType::Text),
        ("time", CqlType::Time),
        ("timestamp", CqlType::Timestamp),
        ("timeuuid", CqlType::Timeuuid),
        ("tinyint", CqlType::Tinyint),
        ("uuid", CqlType::Uuid),
        ("varint", CqlType::Varint),
    ];
    for (text, ty) in names {
        assert_eq!(parse_type(text), Ok(ty), "{text}");
    }
}

#[test]
fn collections_tuples_and_frozen() {
    assert_eq!(
        parse_type("frozen<map<text, int>>"),
        Ok(frozen(CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Int))))
    );
    assert_eq!(parse_type("tuple<int, text>"), Ok(CqlType::Tuple(vec![CqlType::Int, CqlType::Text])));
    assert_eq!(parse_type("frozen<tuple<int>>"), Ok(frozen(CqlType::Tuple(vec![CqlType::Int]))));
    assert_eq!(
        parse_type("list<tuple<int, int>>"),
        Ok(list(CqlType::Tuple(vec![CqlType::Int, CqlType::Int])))
    );
    assert_eq!(parse_type("list<frozen<list<int>>>"), Ok(list(frozen(list(CqlType::Int)))));
    // Nested collections inside frozen types and tuples are frozen too.
    assert_eq!(parse_type("frozen<list<list<int>>>"), Ok(frozen(list(frozen(list(CqlType::Int))))));
    assert_eq!(
        parse_type("tuple<int, list<int>>"),
        Ok(CqlType::Tuple(vec![CqlType::Int, frozen(list(CqlType::Int))]))
    );
    assert_eq!(parse_type("frozen<frozen<list<int>>>"), Ok(frozen(list(CqlType::Int))));
}

#[test]
fn round_trips() {
    let texts = [
        "int",
        "list<text>",
        "set<frozen<set<uuid>>>",
        "map<text, frozen<map<int, frozen<list<blob>>>>>",
        "frozen<map<text, frozen<list<int>>>>",
        "tuple<int, frozen<list<text>>, tuple<date, time>>",
        "frozen<tuple<bigint, varint>>",
        "map<frozen<tuple<int, int>>, frozen<set<timestamp>>>",
    ];
    for text in texts {
        let ty = parse_type(text).unwrap();
        assert_eq!(render(&ty), text);
        assert_eq!(parse_type(&render(&ty)), Ok(ty));
    }
}

#[test]
fn errors() {
    assert!(matches!(parse_type("list<int"), Err(Error::Syntax { line: 1, column: 9, .. })));
    assert!(matches!(parse_type("map<int>"), Err(Error::Syntax { line: 1, column: 8, .. })));
    assert!(matches!(parse_type("int int"), Err(Error::Syntax { line: 1, column: 5, .. })));
    assert!(matches!(parse_type("frozen<int>"), Err(Error::Syntax { line: 1, column: 1, .. })));
    assert!(matches!(parse_type("address"), Err(Error::Unsupported { line: 1, column: 1, .. })));
    assert!(matches!(parse_type("list<list<int>>"), Err(Error::Invalid(_))));
    assert!(matches!(parse_type(""), Err(Error::Syntax { .. })));
}
