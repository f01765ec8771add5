//! Line editing for the interactive shell: history, and Tab completion of CQL keywords and of
//! the keyspaces, tables and columns read from `system_schema` (re-read after DDL).

use super::client::Client;
use cql::Consistency;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::path::PathBuf;

const KEYWORDS: &[&str] = &[
    "ADD",
    "ALLOW",
    "ALTER",
    "AND",
    "APPLY",
    "AS",
    "ASC",
    "BATCH",
    "BEGIN",
    "BY",
    "CLUSTERING",
    "COMPACT",
    "CONSISTENCY",
    "CONTAINS",
    "COUNT",
    "CREATE",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DROP",
    "EXISTS",
    "EXIT",
    "EXPAND",
    "FILTERING",
    "FROM",
    "HELP",
    "IF",
    "IN",
    "INSERT",
    "INTO",
    "JSON",
    "KEY",
    "KEYSPACE",
    "KEYSPACES",
    "LIMIT",
    "LOGGED",
    "NOT",
    "NULL",
    "ORDER",
    "PAGING",
    "PARTITION",
    "PER",
    "PRIMARY",
    "QUIT",
    "SELECT",
    "SET",
    "SOURCE",
    "STATIC",
    "TABLE",
    "TABLES",
    "TIMESTAMP",
    "TOKEN",
    "TRUNCATE",
    "TTL",
    "UNLOGGED",
    "UPDATE",
    "USE",
    "USING",
    "VALUES",
    "WHERE",
    "WITH",
    "WRITETIME",
    "ascii",
    "bigint",
    "blob",
    "boolean",
    "date",
    "decimal",
    "double",
    "float",
    "frozen",
    "inet",
    "int",
    "list",
    "map",
    "set",
    "smallint",
    "text",
    "time",
    "timestamp",
    "timeuuid",
    "tinyint",
    "tuple",
    "uuid",
    "varchar",
    "varint",
];

/// Completion state.
#[derive(Default)]
pub struct TessHelper {
    names: Vec<String>,
}

impl Completer for TessHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos].rfind(|c: char| c.is_whitespace() || "(,;=".contains(c)).map_or(0, |i| i + 1);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((start, Vec::new()));
        }
        let lower = word.to_lowercase();
        let mut out: Vec<Pair> = KEYWORDS
            .iter()
            .map(|k| k.to_string())
            .chain(self.names.iter().cloned())
            .filter(|k| k.to_lowercase().starts_with(&lower))
            .map(|k| {
                // Keep the user's case for keywords.
                let shown = if word.chars().next().is_some_and(char::is_lowercase)
                    && k.chars().all(|c| !c.is_lowercase())
                {
                    k.to_lowercase()
                } else {
                    k
                };
                Pair { display: shown.clone(), replacement: shown }
            })
            .collect();
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out.dedup_by(|a, b| a.display == b.display);
        Ok((start, out))
    }
}

impl Hinter for TessHelper {
    type Hint = String;
}
impl Highlighter for TessHelper {}
impl Validator for TessHelper {}
impl Helper for TessHelper {}

/// The line editor.
pub type TessEditor = Editor<TessHelper, DefaultHistory>;

/// A line editor for a shell connected to `_address`.
pub fn editor(_address: &str) -> rustyline::Result<TessEditor> {
    let mut e = Editor::new()?;
    e.set_helper(Some(TessHelper::default()));
    Ok(e)
}

/// `~/.tess_history`.
pub fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".tess_history"))
}

/// Re-reads keyspace, table and column names for completion.
pub fn refresh(e: &mut TessEditor, client: &mut Client, cl: Consistency) {
    let mut names = Vec::new();
    for (q, cols) in [
        ("SELECT keyspace_name FROM system_schema.keyspaces", 1),
        ("SELECT keyspace_name, table_name FROM system_schema.tables", 2),
        ("SELECT column_name FROM system_schema.columns", 1),
    ] {
        if let Ok(Some(rows)) = client.query_all(q, cl)
            && let Ok(data) = rows.rows()
        {
            for r in data {
                for c in r.iter().take(cols).flatten() {
                    names.push(String::from_utf8_lossy(c).into_owned());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    if let Some(h) = e.helper_mut() {
        h.names = names;
    }
}

/// Notes the current keyspace (nothing to do yet: names are global).
pub fn set_keyspace(_e: &mut TessEditor, _ks: &str) {}

/// True when the script may change the schema (completion names are then re-read).
pub fn changes_schema(script: &str) -> bool {
    let up = script.to_ascii_uppercase();
    ["CREATE", "ALTER", "DROP", "USE"].iter().any(|k| up.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The replacements offered for the word ending at the end of `line`, and where it starts.
    fn complete(names: &[&str], line: &str) -> (usize, Vec<String>) {
        let helper = TessHelper { names: names.iter().map(|s| s.to_string()).collect() };
        let history = DefaultHistory::new();
        let (start, pairs) = helper.complete(line, line.len(), &Context::new(&history)).unwrap();
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn completes_keywords_in_the_case_typed() {
        assert_eq!(complete(&[], "SEL"), (0, vec!["SELECT".to_string()]));
        assert_eq!(complete(&[], "sel"), (0, vec!["select".to_string()]));
        assert_eq!(complete(&[], "SELECT * FRO"), (9, vec!["FROM".to_string(), "frozen".to_string()]));
        // Types are lower case; a keyword and a type of the same name are offered once.
        assert_eq!(complete(&[], "fro").1, ["from", "frozen"]);
        assert_eq!(complete(&[], "se").1, ["select", "set"]);
        assert_eq!(complete(&[], "PER PARTITION LIM").1, ["LIMIT"]);
    }

    #[test]
    fn completes_schema_names_after_separators() {
        let names = ["ks1", "users", "user_id", "value"];
        let users = vec!["user_id".to_string(), "users".to_string()];
        assert_eq!(complete(&names, "SELECT * FROM user"), (14, users.clone()));
        assert_eq!(complete(&names, "UPDATE users SET user_id=user"), (25, users.clone()));
        assert_eq!(complete(&names, "SELECT count(user"), (13, users));
        // Keywords come too, in the case typed; duplicates are dropped.
        assert_eq!(complete(&names, "INSERT INTO users (k,val").1, ["value", "values"]);
        assert_eq!(complete(&names, "us").1, ["use", "user_id", "users", "using"]);
        // Names keep their own case, even when typed in upper case.
        assert_eq!(complete(&names, "KS").1, ["ks1"]);
    }

    #[test]
    fn offers_nothing_for_an_empty_or_unknown_word() {
        assert_eq!(complete(&["users"], "SELECT * FROM "), (14, Vec::new()));
        assert_eq!(complete(&["users"], ""), (0, Vec::new()));
        assert_eq!(complete(&["users"], "SELECT zzz").1, Vec::<String>::new());
    }

    #[test]
    fn schema_changes_are_noticed() {
        for s in [
            "CREATE TABLE t (k int PRIMARY KEY);",
            "drop keyspace ks;",
            "ALTER TABLE t ADD v int;",
            "use ks;",
        ] {
            assert!(changes_schema(s), "{s:?}");
        }
        for s in ["SELECT * FROM t;", "INSERT INTO t (k) VALUES (1);"] {
            assert!(!changes_schema(s), "{s:?}");
        }
    }
}
