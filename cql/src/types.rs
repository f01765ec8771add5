//! CQL types: the type grammar's text form (`frozen<map<text, int>>`), what each type needs from
//! the rest of the system, and (in [`crate::value`]) their values.
//!
//! `Frozen` wraps a collection or tuple stored as one cell; a bare `List`, `Set` or `Map` is a
//! non-frozen collection, stored element by element. Tuples are always frozen, whether or not
//! the text says so. `frozen` never reaches the wire.

/// A CQL data type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CqlType {
    Ascii,
    Bigint,
    Blob,
    Boolean,
    Counter,
    Date,
    Decimal,
    Double,
    Duration,
    Float,
    Inet,
    Int,
    Smallint,
    Text,
    Time,
    Timestamp,
    Timeuuid,
    Tinyint,
    Uuid,
    Varint,
    List(Box<CqlType>),
    Set(Box<CqlType>),
    Map(Box<CqlType>, Box<CqlType>),
    Tuple(Vec<CqlType>),
    Frozen(Box<CqlType>),
}

impl CqlType {
    /// The type with any `Frozen` wrapper removed.
    pub fn unfrozen(&self) -> &CqlType {
        match self {
            CqlType::Frozen(t) => t.unfrozen(),
            t => t,
        }
    }

    /// True for a list, set or map that is not frozen: stored one cell per element.
    pub fn is_multi_cell(&self) -> bool {
        matches!(self, CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..))
    }

    /// True for list, set and map, frozen or not.
    pub fn is_collection(&self) -> bool {
        matches!(self.unfrozen(), CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..))
    }
}

/// Cassandra's type text, as `system_schema.columns.type` shows it: lower case, `text` for
/// `varchar`, `, ` between parameters (`frozen<map<text, int>>`). Reads back with `FromStr`.
impl std::fmt::Display for CqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            CqlType::Ascii => "ascii",
            CqlType::Bigint => "bigint",
            CqlType::Blob => "blob",
            CqlType::Boolean => "boolean",
            CqlType::Counter => "counter",
            CqlType::Date => "date",
            CqlType::Decimal => "decimal",
            CqlType::Double => "double",
            CqlType::Duration => "duration",
            CqlType::Float => "float",
            CqlType::Inet => "inet",
            CqlType::Int => "int",
            CqlType::Smallint => "smallint",
            CqlType::Text => "text",
            CqlType::Time => "time",
            CqlType::Timestamp => "timestamp",
            CqlType::Timeuuid => "timeuuid",
            CqlType::Tinyint => "tinyint",
            CqlType::Uuid => "uuid",
            CqlType::Varint => "varint",
            CqlType::List(e) => return write!(f, "list<{e}>"),
            CqlType::Set(e) => return write!(f, "set<{e}>"),
            CqlType::Map(k, v) => return write!(f, "map<{k}, {v}>"),
            CqlType::Frozen(t) => return write!(f, "frozen<{t}>"),
            CqlType::Tuple(types) => {
                f.write_str("tuple<")?;
                for (i, t) in types.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                return f.write_str(">");
            }
        };
        f.write_str(name)
    }
}

/// Parses Cassandra's type text, case-insensitively and with any spaces: `int`, `varchar`
/// (→ `Text`), `list<int>`, `frozen<map<text, frozen<list<int>>>>`, `tuple<int, text>`. The
/// error names the unknown type or the malformed part.
impl std::str::FromStr for CqlType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut p = TypeParser { text: s, rest: s };
        let ty = p.parse_type()?;
        p.skip_spaces();
        if !p.rest.is_empty() {
            return Err(format!("unexpected '{}' after the type in '{s}'", p.rest.trim()));
        }
        Ok(ty)
    }
}

/// Recursive descent over type text.
struct TypeParser<'a> {
    text: &'a str,
    rest: &'a str,
}

impl TypeParser<'_> {
    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("expected '{c}' in type '{}'", self.text)) }
    }

    /// `type` or `type, type, ...` inside `<...>`, with the closing `>`.
    fn parameters(&mut self) -> Result<Vec<CqlType>, String> {
        self.expect('<')?;
        let mut types = vec![self.parse_type()?];
        while self.eat(',') {
            types.push(self.parse_type()?);
        }
        self.expect('>')?;
        Ok(types)
    }

    fn parse_type(&mut self) -> Result<CqlType, String> {
        self.skip_spaces();
        let len =
            self.rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(self.rest.len());
        if len == 0 {
            return Err(format!("expected a type name in '{}'", self.text));
        }
        let (name, rest) = self.rest.split_at(len);
        self.rest = rest;
        let lower = name.to_ascii_lowercase();
        let simple = match lower.as_str() {
            "ascii" => Some(CqlType::Ascii),
            "bigint" => Some(CqlType::Bigint),
            "blob" => Some(CqlType::Blob),
            "boolean" => Some(CqlType::Boolean),
            "counter" => Some(CqlType::Counter),
            "date" => Some(CqlType::Date),
            "decimal" => Some(CqlType::Decimal),
            "double" => Some(CqlType::Double),
            "duration" => Some(CqlType::Duration),
            "float" => Some(CqlType::Float),
            "inet" => Some(CqlType::Inet),
            "int" => Some(CqlType::Int),
            "smallint" => Some(CqlType::Smallint),
            "text" | "varchar" => Some(CqlType::Text),
            "time" => Some(CqlType::Time),
            "timestamp" => Some(CqlType::Timestamp),
            "timeuuid" => Some(CqlType::Timeuuid),
            "tinyint" => Some(CqlType::Tinyint),
            "uuid" => Some(CqlType::Uuid),
            "varint" => Some(CqlType::Varint),
            _ => None,
        };
        if let Some(ty) = simple {
            return Ok(ty);
        }
        let text = self.text;
        let count = |n: usize, types: Vec<CqlType>| -> Result<Vec<CqlType>, String> {
            if types.len() == n {
                Ok(types)
            } else {
                Err(format!(
                    "{lower}<> takes {n} type parameter{}, got {} in '{}'",
                    if n == 1 { "" } else { "s" },
                    types.len(),
                    text
                ))
            }
        };
        let boxed = |mut types: Vec<CqlType>| Box::new(types.remove(0));
        match lower.as_str() {
            "list" => Ok(CqlType::List(boxed(count(1, self.parameters()?)?))),
            "set" => Ok(CqlType::Set(boxed(count(1, self.parameters()?)?))),
            "map" => {
                let mut kv = count(2, self.parameters()?)?;
                let v = kv.remove(1);
                Ok(CqlType::Map(boxed(kv), Box::new(v)))
            }
            "tuple" => Ok(CqlType::Tuple(self.parameters()?)),
            "frozen" => {
                let inner = boxed(count(1, self.parameters()?)?);
                match *inner {
                    CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..) | CqlType::Tuple(_) => {
                        Ok(CqlType::Frozen(inner))
                    }
                    other => {
                        Err(format!("frozen<> is only allowed on collections and tuples, not on {other}"))
                    }
                }
            }
            _ => Err(format!("unknown type '{name}'")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::CqlType;

    fn parse(s: &str) -> Result<CqlType, String> {
        s.parse()
    }

    #[test]
    fn parses_simple_and_nested_types() {
        assert_eq!(parse("int").unwrap(), CqlType::Int);
        assert_eq!(parse(" VarChar ").unwrap(), CqlType::Text);
        assert_eq!(parse("list<int>").unwrap(), CqlType::List(Box::new(CqlType::Int)));
        assert_eq!(
            parse("frozen<map<text, frozen<list<int>>>>").unwrap(),
            CqlType::Frozen(Box::new(CqlType::Map(
                Box::new(CqlType::Text),
                Box::new(CqlType::Frozen(Box::new(CqlType::List(Box::new(CqlType::Int))))),
            )))
        );
        assert_eq!(parse("Tuple < int ,text >").unwrap(), CqlType::Tuple(vec![CqlType::Int, CqlType::Text]));
    }

    #[test]
    fn display_is_cassandra_text_and_round_trips() {
        for text in [
            "ascii",
            "bigint",
            "blob",
            "boolean",
            "counter",
            "date",
            "decimal",
            "double",
            "duration",
            "float",
            "inet",
            "int",
            "smallint",
            "text",
            "time",
            "timestamp",
            "timeuuid",
            "tinyint",
            "uuid",
            "varint",
            "list<int>",
            "set<frozen<list<text>>>",
            "map<text, int>",
            "frozen<map<text, frozen<list<int>>>>",
            "tuple<int, text>",
            "frozen<tuple<int, tuple<text, blob>>>",
        ] {
            let ty = parse(text).unwrap();
            assert_eq!(ty.to_string(), text);
            assert_eq!(parse(&ty.to_string()).unwrap(), ty);
        }
        assert_eq!(parse("MAP<VARCHAR,INT>").unwrap().to_string(), "map<text, int>");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(parse("integer").unwrap_err(), "unknown type 'integer'");
        assert_eq!(parse("list<foo>").unwrap_err(), "unknown type 'foo'");
        assert!(parse("list<int, int>").unwrap_err().contains("takes 1 type parameter"));
        assert!(parse("map<int>").unwrap_err().contains("takes 2 type parameters"));
        assert!(parse("list<int").unwrap_err().contains("expected '>'"));
        assert!(parse("int x").unwrap_err().contains("unexpected 'x'"));
        assert!(parse("frozen<int>").unwrap_err().contains("only allowed on collections"));
        assert!(parse("").unwrap_err().contains("expected a type name"));
        assert!(parse("list<>").unwrap_err().contains("expected a type name"));
    }
}
