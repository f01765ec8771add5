//! Any text given to the CQL parser parses or fails with an error that has a position; the
//! script splitter and the type parser take the same text without panicking, and each piece
//! the splitter returns goes through the parser too.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match cql::parser::parse_statement(text) {
        Err(cql::Error::Syntax { line, column, .. }) | Err(cql::Error::Unsupported { line, column, .. }) => {
            assert!(line >= 1 && column >= 1);
        }
        _ => {}
    }
    let _ = cql::parser::parse_type(text);
    for statement in cql::parser::split_statements(text) {
        let _ = cql::parser::parse_statement(&statement);
    }
});
