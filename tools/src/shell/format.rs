//! Result display: aligned tables as cqlsh draws them (headers left-aligned, values
//! right-aligned, a `(N rows)` footer), `EXPAND ON` records, and DESCRIBE output (each `create_statement` followed by a
//! blank line; listings as names).

use cql::CqlType;
use cql::protocol::Rows;
use cql::value::CqlValue;

/// A cell as text.
pub fn cell_text(ty: &CqlType, cell: Option<&[u8]>) -> String {
    match cell {
        None => "null".to_string(),
        Some(b) => match CqlValue::deserialize(ty, b) {
            Ok(v) => v.display(),
            Err(_) => format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        },
    }
}

/// True when the rows are a DESCRIBE result (table `system.describe`).
pub fn is_describe(rows: &Rows) -> bool {
    rows.metadata.columns.first().is_some_and(|c| c.keyspace == "system" && c.table == "describe")
}

/// DESCRIBE output.
pub fn describe(rows: &Rows) -> cql::Result<String> {
    let names: Vec<&str> = rows.metadata.columns.iter().map(|c| c.name.as_str()).collect();
    let data = rows.rows()?;
    let text = |r: &Vec<Option<bytes::Bytes>>, i: usize| {
        r.get(i).and_then(|c| c.as_ref()).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
    };
    let mut out = String::new();
    if let Some(stmt) = names.iter().position(|n| *n == "create_statement") {
        for r in &data {
            out.push('\n');
            out.push_str(&text(r, stmt));
            out.push('\n');
        }
        out.push('\n');
        return Ok(out);
    }
    let Some(name) = names.iter().position(|n| *n == "name") else {
        return table(rows, false, false);
    };
    let items: Vec<String> = data.iter().map(|r| text(r, name)).collect();
    out.push('\n');
    out.push_str(&items.join("  "));
    out.push_str("\n\n");
    Ok(out)
}

/// Rows as an aligned table (or records when `expand`), with the row count when `count`.
pub fn table(rows: &Rows, expand: bool, count: bool) -> cql::Result<String> {
    let cols = &rows.metadata.columns;
    let data = rows.rows()?;
    let cells: Vec<Vec<String>> = data
        .iter()
        .map(|r| {
            cols.iter()
                .enumerate()
                .map(|(i, c)| cell_text(&c.ty, r.get(i).and_then(|x| x.as_deref())))
                .collect()
        })
        .collect();
    let mut out = String::new();
    if expand {
        let width = cols.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
        for (n, r) in cells.iter().enumerate() {
            out.push_str(&format!("\n@ Row {}\n", n + 1));
            out.push_str(&format!("-{}-+-------\n", "-".repeat(width)));
            for (c, v) in cols.iter().zip(r) {
                out.push_str(&format!(" {:>width$} | {}\n", c.name, v));
            }
        }
    } else if !cols.is_empty() {
        let widths: Vec<usize> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                cells.iter().map(|r| r[i].chars().count()).chain([c.name.chars().count()]).max().unwrap_or(0)
            })
            .collect();
        let pad = |s: &str, w: usize, right: bool| {
            let n = s.chars().count();
            let fill = " ".repeat(w.saturating_sub(n));
            if right { format!("{fill}{s}") } else { format!("{s}{fill}") }
        };
        out.push('\n');
        let header: Vec<String> =
            cols.iter().zip(&widths).map(|(c, w)| format!(" {} ", pad(&c.name, *w, false))).collect();
        out.push_str(header.join("|").trim_end());
        out.push('\n');
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
        out.push_str(&rule.join("+"));
        out.push('\n');
        for r in &cells {
            let line: Vec<String> = r
                .iter()
                .zip(cols.iter().zip(&widths))
                .map(|(v, (_, w))| format!(" {} ", pad(v, *w, true)))
                .collect();
            out.push_str(line.join("|").trim_end());
            out.push('\n');
        }
    }
    if count {
        out.push_str(&row_count(data.len() as u64));
    }
    Ok(out)
}

/// The footer under a result: `(N rows)` after a blank line.
pub fn row_count(n: u64) -> String {
    format!("\n({n} rows)\n")
}
