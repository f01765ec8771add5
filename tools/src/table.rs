//! Plain-text tables for the operator commands: columns padded to their widest cell and
//! separated by two spaces, the last column left unpadded (as nodetool prints them).

/// The rows as lines, aligned.
pub fn align(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_the_last_is_not_padded() {
        let rows =
            vec![vec!["a".to_string(), "bb".into(), "c".into()], vec!["aaa".into(), "b".into(), "cc".into()]];
        assert_eq!(align(&rows), vec!["a    bb  c", "aaa  b   cc"]);
        assert!(align(&[]).is_empty());
    }
}
