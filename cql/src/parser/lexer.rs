//! The lexer: statement text → tokens, following Cassandra's `Lexer.g`.
//!
//! Whitespace and comments (`--` and `//` to the end of the line, `/* ... */`) are dropped. A
//! token keeps its source slice and byte offset, so the parser can quote what it found and point
//! at its line and column. Strings (`'it''s'`, `$$...$$`) and quoted names (`"My""Name"`) are
//! unescaped here. Where two token kinds match at one position the longest wins, as in ANTLR
//! (`12mo` is a duration, `P1D` a duration but `P1Dx` a word, `0xff` a blob). A leading `-` is
//! never part of a number: the parser folds it into the literal.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_until, take_while, take_while_m_n};
use nom::character::complete::{char, digit1, multispace1, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::{IResult, Parser};

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// An unquoted word: a keyword, an identifier, `true`/`false`, `NaN`, `Infinity`.
    Word,
    /// `"name"`, with `""` unescaped.
    Quoted(String),
    /// `'text'` (with `''` unescaped) or `$$text$$`.
    Str(String),
    Integer,
    Float,
    Duration,
    Uuid,
    /// `0x...`
    Hex,
    /// Punctuation or an operator.
    Sym,
}

/// One token: its kind, its text as written and its byte offset in the statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub offset: usize,
}

/// Text that is not a token, at a byte offset.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LexError {
    pub offset: usize,
    pub message: String,
}

type LResult<'a, T> = IResult<&'a str, T>;

const SYMBOLS: [&str; 25] = [
    "<=", ">=", "!=", "+=", "-=", "..", "(", ")", "[", "]", "{", "}", ",", ";", ".", ":", "=", "<", ">", "+",
    "-", "*", "/", "%", "?",
];

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token<'_>>, LexError> {
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        rest = skip_trivia(text, rest)?;
        let Some(first) = rest.chars().next() else { break };
        let offset = text.len() - rest.len();
        match token(rest) {
            Ok((after, kind)) => {
                let len = rest.len() - after.len();
                tokens.push(Token { kind, text: &rest[..len], offset });
                rest = after;
            }
            Err(_) => {
                let message = match first {
                    '\'' => "unterminated string literal".to_string(),
                    '"' => "unterminated quoted identifier".to_string(),
                    '$' if rest.starts_with("$$") => "unterminated $$ string literal".to_string(),
                    c => format!("unexpected character '{}'", c.escape_debug()),
                };
                return Err(LexError { offset, message });
            }
        }
    }
    Ok(tokens)
}

/// Skips whitespace and comments; fails on an unterminated `/*` comment.
fn skip_trivia<'a>(text: &'a str, mut rest: &'a str) -> Result<&'a str, LexError> {
    loop {
        let skipped: LResult<'a, &'a str> = alt((
            multispace1,
            recognize((alt((tag("--"), tag("//"))), take_till(|c| c == '\n' || c == '\r'))),
            recognize((tag("/*"), take_until("*/"), tag("*/"))),
        ))
        .parse(rest);
        match skipped {
            Ok((after, _)) => rest = after,
            Err(_) if rest.starts_with("/*") => {
                return Err(LexError {
                    offset: text.len() - rest.len(),
                    message: "unterminated comment".to_string(),
                });
            }
            Err(_) => return Ok(rest),
        }
    }
}

fn token(input: &str) -> LResult<'_, Kind> {
    alt((string, dollar_string, quoted_name, uuid, hex, duration, number, iso_alternative, word, symbol))
        .parse(input)
}

/// `'...'` with `''` standing for one quote.
fn string(input: &str) -> LResult<'_, Kind> {
    let (mut rest, _) = char('\'').parse(input)?;
    let mut value = String::new();
    loop {
        let (after, chunk) = take_till(|c| c == '\'').parse(rest)?;
        value.push_str(chunk);
        let (after, _) = char('\'').parse(after)?;
        match char::<_, nom::error::Error<&str>>('\'').parse(after) {
            Ok((after, _)) => {
                value.push('\'');
                rest = after;
            }
            Err(_) => return Ok((after, Kind::Str(value))),
        }
    }
}

/// `$$...$$`: everything up to the next `$$`, taken literally.
fn dollar_string(input: &str) -> LResult<'_, Kind> {
    let (rest, (_, body, _)) = (tag("$$"), take_until("$$"), tag("$$")).parse(input)?;
    Ok((rest, Kind::Str(body.to_string())))
}

/// `"..."` with `""` standing for one double quote.
fn quoted_name(input: &str) -> LResult<'_, Kind> {
    let (mut rest, _) = char('"').parse(input)?;
    let mut value = String::new();
    loop {
        let (after, chunk) = take_till(|c| c == '"').parse(rest)?;
        value.push_str(chunk);
        let (after, _) = char('"').parse(after)?;
        match char::<_, nom::error::Error<&str>>('"').parse(after) {
            Ok((after, _)) => {
                value.push('"');
                rest = after;
            }
            Err(_) => return Ok((after, Kind::Quoted(value))),
        }
    }
}

fn hex_run(n: usize) -> impl FnMut(&str) -> LResult<'_, &str> {
    move |i| take_while_m_n(n, n, |c: char| c.is_ascii_hexdigit()).parse(i)
}

/// `01234567-89ab-cdef-0123-456789abcdef`
fn uuid(input: &str) -> LResult<'_, Kind> {
    let (rest, _) = recognize((
        hex_run(8),
        char('-'),
        hex_run(4),
        char('-'),
        hex_run(4),
        char('-'),
        hex_run(4),
        char('-'),
        hex_run(12),
    ))
    .parse(input)?;
    Ok((rest, Kind::Uuid))
}

/// `0x` followed by any number of hex digits.
fn hex(input: &str) -> LResult<'_, Kind> {
    let (rest, _) = (char('0'), one_of("xX"), take_while(|c: char| c.is_ascii_hexdigit())).parse(input)?;
    Ok((rest, Kind::Hex))
}

/// A duration unit, longest first: `mo` before `m`, `ms` before `m`.
fn duration_unit(input: &str) -> LResult<'_, &str> {
    alt((
        tag_no_case("mo"),
        tag_no_case("ms"),
        tag_no_case("us"),
        tag_no_case("µs"),
        tag_no_case("ns"),
        tag_no_case("y"),
        tag_no_case("w"),
        tag_no_case("d"),
        tag_no_case("h"),
        tag_no_case("m"),
        tag_no_case("s"),
    ))
    .parse(input)
}

fn tag_no_case(t: &'static str) -> impl FnMut(&str) -> LResult<'_, &str> {
    move |i| nom::bytes::complete::tag_no_case(t).parse(i)
}

/// `1h30m`, `12mo`, `3d`: digits and a unit, repeated.
fn duration(input: &str) -> LResult<'_, Kind> {
    let (rest, _) =
        recognize((digit1, duration_unit, nom::multi::many0((digit1, duration_unit)))).parse(input)?;
    Ok((rest, Kind::Duration))
}

/// `42`, `1.5`, `1.`, `1e10`, `2.5E-3`.
fn number(input: &str) -> LResult<'_, Kind> {
    let (rest, (_, fraction, exponent)) = (
        digit1,
        opt((char('.'), nom::character::complete::digit0)),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    )
        .parse(input)?;
    let kind = if fraction.is_some() || exponent.is_some() { Kind::Float } else { Kind::Integer };
    Ok((rest, kind))
}

/// The ISO 8601 "alternative format" duration, `P0001-02-03T04:05:06`.
fn iso_alternative(input: &str) -> LResult<'_, Kind> {
    let digits = |n| take_while_m_n(n, n, |c: char| c.is_ascii_digit());
    let (rest, _) = (
        char('P'),
        digits(4),
        char('-'),
        digits(2),
        char('-'),
        digits(2),
        char('T'),
        digits(2),
        char(':'),
        digits(2),
        char(':'),
        digits(2),
    )
        .parse(input)?;
    Ok((rest, Kind::Duration))
}

/// A letter followed by letters, digits and underscores; an ISO 8601 duration such as `P1DT2H`
/// when the whole word has that form.
fn word(input: &str) -> LResult<'_, Kind> {
    let (rest, w) = recognize((
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(input)?;
    Ok((rest, if is_iso_duration(w) { Kind::Duration } else { Kind::Word }))
}

/// `P[nY][nM][nD][T[nH][nM][nS]]` with at least one part, or `PnW` (designators upper-case).
fn is_iso_duration(w: &str) -> bool {
    let Some(body) = w.strip_prefix('P') else { return false };
    if let Some(weeks) = body.strip_suffix('W') {
        return !weeks.is_empty() && weeks.bytes().all(|b| b.is_ascii_digit());
    }
    let (date, time) = match body.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (body, None),
    };
    let date_ok = designators(date, b"YMD");
    match time {
        None => date_ok && !date.is_empty(),
        Some(time) => date_ok && !time.is_empty() && designators(time, b"HMS"),
    }
}

/// True when `s` is a sequence of `digits letter` pairs whose letters appear in `order`.
fn designators(s: &str, order: &[u8]) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut next_allowed = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i == bytes.len() {
            return false;
        }
        match order[next_allowed..].iter().position(|&d| d == bytes[i]) {
            Some(p) => next_allowed += p + 1,
            None => return false,
        }
        i += 1;
    }
    true
}

fn symbol(input: &str) -> LResult<'_, Kind> {
    for s in SYMBOLS {
        if let Some(rest) = input.strip_prefix(s) {
            return Ok((rest, Kind::Sym));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Tag)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokenize(text).unwrap().into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn numbers_durations_and_uuids() {
        assert_eq!(
            kinds("42 1.5 1. 1e10 2.5E-3 12mo 1h30m 5ms 3µs P1D PT2H P1Y2M P2W P1Dx 0xCafe 0x"),
            vec![
                (Kind::Integer, "42"),
                (Kind::Float, "1.5"),
                (Kind::Float, "1."),
                (Kind::Float, "1e10"),
                (Kind::Float, "2.5E-3"),
                (Kind::Duration, "12mo"),
                (Kind::Duration, "1h30m"),
                (Kind::Duration, "5ms"),
                (Kind::Duration, "3µs"),
                (Kind::Duration, "P1D"),
                (Kind::Duration, "PT2H"),
                (Kind::Duration, "P1Y2M"),
                (Kind::Duration, "P2W"),
                (Kind::Word, "P1Dx"),
                (Kind::Hex, "0xCafe"),
                (Kind::Hex, "0x"),
            ]
        );
        assert_eq!(
            kinds(
                "123e4567-e89b-12d3-a456-426614174000 deadbeef-0000-0000-0000-000000000000 P0001-02-03T04:05:06"
            ),
            vec![
                (Kind::Uuid, "123e4567-e89b-12d3-a456-426614174000"),
                (Kind::Uuid, "deadbeef-0000-0000-0000-000000000000"),
                (Kind::Duration, "P0001-02-03T04:05:06"),
            ]
        );
        // Designators are case-sensitive and ordered.
        assert_eq!(
            kinds("p1d PT P1D1Y"),
            vec![(Kind::Word, "p1d"), (Kind::Word, "PT"), (Kind::Word, "P1D1Y")]
        );
    }

    #[test]
    fn strings_names_comments_and_symbols() {
        assert_eq!(
            kinds("'it''s' $$a'b$$ \"My\"\"T\" -- c\n a/* x */<=b // y\r\n-1 ?"),
            vec![
                (Kind::Str("it's".into()), "'it''s'"),
                (Kind::Str("a'b".into()), "$$a'b$$"),
                (Kind::Quoted("My\"T".into()), "\"My\"\"T\""),
                (Kind::Word, "a"),
                (Kind::Sym, "<="),
                (Kind::Word, "b"),
                (Kind::Sym, "-"),
                (Kind::Integer, "1"),
                (Kind::Sym, "?"),
            ]
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |t: &str| tokenize(t).unwrap_err();
        assert_eq!(err("a 'bc"), LexError { offset: 2, message: "unterminated string literal".into() });
        assert_eq!(err("\"ab").message, "unterminated quoted identifier");
        assert_eq!(err("$$ab").message, "unterminated $$ string literal");
        assert_eq!(err("a /* b").message, "unterminated comment");
        assert_eq!(err("a # b"), LexError { offset: 2, message: "unexpected character '#'".into() });
        assert_eq!(err("a ! b").message, "unexpected character '!'");
    }
}
