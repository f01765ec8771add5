//! When typed input is ready to run. The interactive shell reads lines until they end a
//! statement; shell commands (EXIT, PAGING, ...) run at the end of their line without a `;`.
//!
//! A statement ends at a `;` outside strings (`'...'` with `''` escapes, `$$...$$`), quoted
//! names (`"..."`), comments (`--` and `//` to the end of the line, `/* ... */`) and batches
//! (a statement opening with `BEGIN` runs to `APPLY BATCH`), as in cqlsh. The input is
//! complete when such a `;` is followed only by whitespace and comments; it then goes whole to
//! `cql::parser::split_statements`, which splits it by the same rules.

/// True for lines that are shell commands, run without a `;`.
pub fn is_shell_command(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    let first = first.trim_end_matches(';');
    matches!(first, "EXIT" | "QUIT" | "HELP" | "?" | "CONSISTENCY" | "PAGING" | "EXPAND" | "SOURCE")
}

/// True when `text` ends one or more statements and holds nothing after the last `;` but
/// whitespace and comments. An unterminated string, quoted name or block comment is not
/// complete: the `;` inside it ends nothing.
pub fn is_complete(text: &str) -> bool {
    let b = text.as_bytes();
    // Something other than whitespace and comments since the last statement ended.
    let mut open = false;
    // A statement has ended and nothing but whitespace and comments follows.
    let mut ended = false;
    let mut words = 0usize;
    let mut in_batch = false;
    let mut after_apply = false;
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        match b[i] {
            b'-' if next == Some(b'-') => i = line_end(b, i),
            b'/' if next == Some(b'/') => i = line_end(b, i),
            b'/' if next == Some(b'*') => match find(b, i + 2, b"*/") {
                Some(p) => i = p + 2,
                None => return false,
            },
            c if c.is_ascii_whitespace() => i += 1,
            b';' if !in_batch => {
                ended |= open;
                open = false;
                words = 0;
                after_apply = false;
                i += 1;
            }
            c => {
                open = true;
                ended = false;
                i = match c {
                    b'\'' | b'"' => match quoted_end(b, i) {
                        Some(end) => end,
                        None => return false,
                    },
                    b'$' if next == Some(b'$') => match find(b, i + 2, b"$$") {
                        Some(p) => p + 2,
                        None => return false,
                    },
                    c if c.is_ascii_alphabetic() => {
                        let end = b[i..]
                            .iter()
                            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                            .map_or(b.len(), |p| i + p);
                        let word = &b[i..end];
                        if words == 0 && word.eq_ignore_ascii_case(b"BEGIN") {
                            in_batch = true;
                        }
                        if in_batch && after_apply && word.eq_ignore_ascii_case(b"BATCH") {
                            in_batch = false;
                        }
                        after_apply = word.eq_ignore_ascii_case(b"APPLY");
                        words += 1;
                        end
                    }
                    _ => {
                        after_apply = false;
                        i + 1
                    }
                };
            }
        }
    }
    ended
}

/// The index of the line break ending the line that holds `i` (or the end of the text).
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..].iter().position(|&c| c == b'\n' || c == b'\r').map_or(b.len(), |p| i + p)
}

/// The first index at or after `from` where `pat` occurs.
fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(pat.len()).position(|w| w == pat).map(|p| from + p)
}

/// The index just past the string or quoted name opening at `i` (a doubled quote escapes),
/// or `None` when it is not closed.
fn quoted_end(b: &[u8], i: usize) -> Option<usize> {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_commands_run_without_a_semicolon() {
        for line in ["PAGING 2", "paging", "  EXIT;", "quit", "Consistency QUORUM", "EXPAND ON", "HELP", "?"]
        {
            assert!(is_shell_command(line), "{line:?}");
        }
        assert!(is_shell_command("SOURCE '/tmp/x.cql'"));
        for line in ["SELECT * FROM t", "", "DESCRIBE TABLES", "EXPANDED", "USE ks"] {
            assert!(!is_shell_command(line), "{line:?}");
        }
    }

    #[test]
    fn a_statement_is_complete_at_a_semicolon_outside_quotes() {
        assert!(is_complete("SELECT * FROM t;"));
        assert!(is_complete("SELECT *\nFROM t;\n  "));
        assert!(is_complete("INSERT INTO t (k, v) VALUES (1, 'it''s; fine');"));
        assert!(!is_complete("SELECT * FROM t"));
        assert!(!is_complete("INSERT INTO t (k, v) VALUES (1, 'open;"));
        assert!(!is_complete(";"));
        assert!(!is_complete("-- only a comment;\n"));
    }

    #[test]
    fn a_batch_over_several_lines_is_one_statement() {
        let batch = "BEGIN BATCH\nINSERT INTO t (k) VALUES (1);\nINSERT INTO t (k) VALUES (2);\n";
        assert!(!is_complete(batch));
        assert!(!is_complete(&format!("{batch}APPLY\n")));
        assert!(is_complete(&format!("{batch}APPLY BATCH;\n")));
        assert!(is_complete(&format!("{batch}apply /* end */ batch ;")));
        for head in ["begin unlogged batch", "BEGIN COUNTER BATCH", "Begin Batch USING TIMESTAMP 5"] {
            assert!(!is_complete(&format!("{head} UPDATE t SET c = c + 1 WHERE k = 1;")), "{head}");
            assert!(
                is_complete(&format!("{head} UPDATE t SET c = c + 1 WHERE k = 1; APPLY BATCH;")),
                "{head}"
            );
        }
        // The words count only outside strings and comments.
        assert!(!is_complete(&format!("{batch}INSERT INTO t (k, v) VALUES (3, 'APPLY BATCH');")));
        assert!(!is_complete(&format!("{batch}-- APPLY BATCH;\n")));
        assert!(!is_complete(&format!("{batch}/* APPLY BATCH; */")));
        assert!(is_complete("SELECT 'BEGIN BATCH' FROM t;"));
        assert!(is_complete("-- BEGIN BATCH\nSELECT * FROM t;"));
        // A statement after the batch is ended by its own `;`.
        assert!(!is_complete(&format!("{batch}APPLY BATCH; SELECT * FROM t")));
        assert!(is_complete(&format!("{batch}APPLY BATCH; SELECT * FROM t;")));
    }

    #[test]
    fn quotes_in_comments_do_not_open_strings() {
        assert!(is_complete("-- don't forget\nSELECT * FROM t;"));
        assert!(is_complete("// it's\nSELECT * FROM t;"));
        assert!(is_complete("/* it's */ SELECT * FROM t;"));
        assert!(is_complete("SELECT * /* it's\nstill a comment */ FROM t;"));
        assert!(!is_complete("/* it's; open"));
        assert!(!is_complete("SELECT * FROM t; /* open"));
    }

    #[test]
    fn strings_and_quoted_names_hide_semicolons() {
        assert!(!is_complete("INSERT INTO t (k, v) VALUES (1, 'a;')"));
        assert!(!is_complete("INSERT INTO t (k, v) VALUES (1, 'it''s;"));
        assert!(is_complete("INSERT INTO t (k, v) VALUES (1, 'don''t -- or /*');"));
        assert!(is_complete("SELECT \"it's\" FROM t;"));
        assert!(!is_complete("SELECT \"a;b"));
        assert!(is_complete("SELECT \"a;\"\"b\" FROM t;"));
        assert!(is_complete("INSERT INTO t (k, v) VALUES (1, $$it's; -- fine$$);"));
        assert!(!is_complete("INSERT INTO t (k, v) VALUES (1, $$it's; open"));
    }

    #[test]
    fn a_comment_after_the_semicolon_ends_the_statement() {
        assert!(is_complete("SELECT * FROM t; -- note\n"));
        assert!(is_complete("SELECT * FROM t; -- note"));
        assert!(is_complete("SELECT * FROM t; // note\n"));
        assert!(is_complete("SELECT * FROM t; /* note */  \n"));
        assert!(is_complete("SELECT * FROM t;-- it's"));
        assert!(!is_complete("SELECT * FROM t; -- note\nSELECT"));
    }

    #[test]
    fn several_statements_on_a_line_are_complete_together() {
        assert!(is_complete("SELECT * FROM t; SELECT * FROM u;"));
        assert!(is_complete("SELECT * FROM t;SELECT * FROM u;;"));
        assert!(!is_complete("SELECT * FROM t; SELECT * FROM u"));
    }
}
