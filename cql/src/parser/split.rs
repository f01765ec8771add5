//! Splitting a script into statements, for `tess shell -f` and `SOURCE`.
//!
//! A `;` ends a statement unless it is inside a string (`'...'`, `$$...$$`), a quoted name, a
//! comment, or a batch (`BEGIN ... BATCH` up to `APPLY BATCH`). Each statement comes back
//! without its `;`, with leading whitespace and comments and trailing whitespace removed;
//! stretches holding only whitespace and comments are dropped. This scanner never fails: an
//! unterminated string or comment simply runs to the end of the text, for the parser to report.

/// Splits `text` into statements (see the module documentation).
pub fn split_statements(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut words = 0usize;
    let mut in_batch = false;
    let mut after_apply = false;
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        match b[i] {
            b'-' if next == Some(b'-') => i = line_end(b, i),
            b'/' if next == Some(b'/') => i = line_end(b, i),
            b'/' if next == Some(b'*') => {
                i = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
            }
            c if c.is_ascii_whitespace() => i += 1,
            b';' if !in_batch => {
                if let Some(s) = start.take() {
                    out.push(text[s..i].trim_end().to_string());
                }
                words = 0;
                after_apply = false;
                i += 1;
            }
            c => {
                start.get_or_insert(i);
                match c {
                    b'\'' | b'"' => i = quoted_end(b, i),
                    b'$' if next == Some(b'$') => i = find(b, i + 2, b"$$").map_or(b.len(), |p| p + 2),
                    c if c.is_ascii_alphabetic() => {
                        let end = b[i..]
                            .iter()
                            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                            .map_or(b.len(), |p| i + p);
                        let word = &text[i..end];
                        if words == 0 && word.eq_ignore_ascii_case("BEGIN") {
                            in_batch = true;
                        }
                        if in_batch && after_apply && word.eq_ignore_ascii_case("BATCH") {
                            in_batch = false;
                        }
                        after_apply = word.eq_ignore_ascii_case("APPLY");
                        words += 1;
                        i = end;
                    }
                    _ => {
                        after_apply = false;
                        i += 1;
                    }
                }
            }
        }
    }
    if let Some(s) = start {
        out.push(text[s..].trim_end().to_string());
    }
    out
}

/// The index just past the line that starts before `i` (the newline itself is whitespace).
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..].iter().position(|&c| c == b'\n' || c == b'\r').map_or(b.len(), |p| i + p)
}

/// The first index at or after `from` where `pat` occurs.
fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(pat.len()).position(|w| w == pat).map(|p| from + p)
}

/// The index just past the string or quoted name opening at `i` (doubled quotes escape).
fn quoted_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}
