//! `tess shell`: an interactive CQL shell in the spirit of cqlsh, on Tessera's own protocol
//! client. Statements go to the node (DESCRIBE included, answered server-side); the shell's
//! own commands are CONSISTENCY, PAGING, EXPAND, SOURCE, HELP and EXIT/QUIT.
//!
//! `-e 'stmt; ...'` and `-f file` run statements and exit with status 2 if any failed (1 when
//! the node cannot be reached), as cqlsh does; so does a session read from a pipe. An EXIT
//! does not hide an earlier failure. Interactively, input accumulates until it ends a statement
//! (see `input`); history is kept in `~/.tess_history`; Tab completes keywords, keyspaces,
//! tables and columns.

mod client;
mod complete;
mod format;
mod input;

pub use client::{Client, ClientError};

use cql::Consistency;
use cql::protocol::ResultBody;
use std::io::{IsTerminal, Write};

/// How the shell was asked to run.
#[derive(Debug, Clone)]
pub struct ShellOptions {
    pub host: String,
    pub port: u16,
    pub execute: Option<String>,
    pub file: Option<std::path::PathBuf>,
    pub keyspace: Option<String>,
}

/// The shell's state.
pub struct Shell {
    client: Client,
    consistency: Consistency,
    /// Rows per page when paging; `None` when PAGING OFF.
    page_size: Option<i32>,
    expand: bool,
    keyspace: Option<String>,
    interactive: bool,
    /// Some statement or command of this session has failed (the exit status is then 2).
    failed: bool,
    out: Box<dyn Write>,
}

/// What running one statement or command did.
enum Outcome {
    Ok,
    Failed,
    Exit,
}

impl Shell {
    fn println(&mut self, s: &str) {
        let _ = writeln!(self.out, "{s}");
    }

    fn eprint(&mut self, s: &str) {
        let _ = self.out.flush();
        eprintln!("{s}");
    }

    /// Runs one statement or shell command (without its `;`), noting a failure.
    fn run(&mut self, text: &str) -> Outcome {
        let outcome = self.run_one(text);
        if let Outcome::Failed = outcome {
            self.failed = true;
        }
        outcome
    }

    fn run_one(&mut self, text: &str) -> Outcome {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Outcome::Ok;
        }
        let mut words = trimmed.split_whitespace();
        let first = words.next().unwrap_or("").to_ascii_uppercase();
        let rest: Vec<&str> = words.collect();
        match first.as_str() {
            "EXIT" | "QUIT" => return Outcome::Exit,
            "HELP" | "?" => {
                self.println(HELP);
                return Outcome::Ok;
            }
            "CONSISTENCY" => return self.consistency_command(&rest),
            "PAGING" => return self.paging_command(&rest),
            "EXPAND" => {
                match rest.first().map(|s| s.to_ascii_uppercase()) {
                    None => {
                        let state = if self.expand { "ON" } else { "OFF" };
                        self.println(&format!("Expanded output is currently {state}. Use EXPAND ON/OFF."));
                    }
                    Some(s) if s == "ON" => {
                        self.expand = true;
                        self.println("Now Expanded output is enabled");
                    }
                    Some(s) if s == "OFF" => {
                        self.expand = false;
                        self.println("Disabled Expanded output.");
                    }
                    Some(s) => {
                        self.eprint(&format!("Improper EXPAND command: {s}; use EXPAND ON or EXPAND OFF"));
                        return Outcome::Failed;
                    }
                }
                return Outcome::Ok;
            }
            "SOURCE" => {
                let path = rest.join(" ");
                let path = path.trim_matches(|c| c == '\'' || c == '"');
                return match std::fs::read_to_string(path) {
                    Ok(script) => self.run_script(&script),
                    Err(e) => {
                        self.eprint(&format!("Could not open '{path}': {e}"));
                        Outcome::Failed
                    }
                };
            }
            _ => {}
        }
        self.statement(trimmed)
    }

    fn consistency_command(&mut self, rest: &[&str]) -> Outcome {
        match rest.first() {
            None => {
                let c = self.consistency;
                self.println(&format!("Current consistency level is {c}."));
                Outcome::Ok
            }
            Some(level) => match level.parse::<Consistency>() {
                Ok(c) => {
                    self.consistency = c;
                    self.println(&format!("Consistency level set to {c}."));
                    Outcome::Ok
                }
                Err(e) => {
                    self.eprint(&format!("Improper CONSISTENCY command: {e}"));
                    Outcome::Failed
                }
            },
        }
    }

    fn paging_command(&mut self, rest: &[&str]) -> Outcome {
        match rest.first().map(|s| s.to_ascii_uppercase()) {
            None => {
                let state = match self.page_size {
                    Some(n) => format!("Query paging is currently enabled. Page size: {n}"),
                    None => "Query paging is currently disabled.".to_string(),
                };
                self.println(&state);
            }
            Some(s) if s == "ON" => {
                self.page_size = Some(100);
                self.println("Now Query paging is enabled\nPage size: 100");
            }
            Some(s) if s == "OFF" => {
                self.page_size = None;
                self.println("Disabled Query paging.");
            }
            Some(s) => match s.parse::<i32>() {
                Ok(n) if n > 0 => {
                    self.page_size = Some(n);
                    self.println(&format!("Page size: {n}"));
                }
                _ => {
                    self.eprint(&format!("Improper PAGING command: {s}"));
                    return Outcome::Failed;
                }
            },
        }
        Outcome::Ok
    }

    /// Prints `rows` (with the row count when `count`); false when they cannot be shown.
    fn show(&mut self, rows: &cql::protocol::Rows, count: bool) -> bool {
        let text = if format::is_describe(rows) {
            format::describe(rows)
        } else {
            format::table(rows, self.expand, count)
        };
        match text {
            Ok(t) => {
                let _ = write!(self.out, "{t}");
                true
            }
            Err(e) => {
                self.eprint(&format!("cannot display the result: {e}"));
                false
            }
        }
    }

    fn statement(&mut self, text: &str) -> Outcome {
        let mut paging_state = None;
        // Rows shown so far, interactively: the footer counts every page, as cqlsh's does.
        let mut shown = 0u64;
        // Non-interactive runs gather every page into one table; interactive ones page.
        let mut gathered: Option<(cql::protocol::RowsMetadata, Vec<Vec<Option<bytes::Bytes>>>)> = None;
        loop {
            let page = if self.interactive { self.page_size } else { Some(5000) };
            let result = match self.client.query(text, self.consistency, page, paging_state.take()) {
                Ok(r) => r,
                Err(e) => {
                    self.eprint(&format!("{e}"));
                    return Outcome::Failed;
                }
            };
            match result {
                ResultBody::Rows(rows) => {
                    let more = rows.metadata.paging_state.clone();
                    if !self.interactive {
                        let page_rows = match rows.rows() {
                            Ok(r) => r,
                            Err(e) => {
                                self.eprint(&format!("bad rows from the node: {e}"));
                                return Outcome::Failed;
                            }
                        };
                        let g = gathered.get_or_insert_with(|| (rows.metadata.clone(), Vec::new()));
                        g.1.extend(page_rows);
                        match more {
                            Some(state) => {
                                paging_state = Some(state);
                                continue;
                            }
                            None => {
                                let (mut md, all) = gathered.take().unwrap_or_default();
                                md.paging_state = None;
                                let mut w = cql::protocol::RowsWriter::new();
                                for r in &all {
                                    for c in r {
                                        w.push_cell(c.as_deref());
                                    }
                                    w.end_row();
                                }
                                let ok = self.show(&w.finish(md), true);
                                return if ok { Outcome::Ok } else { Outcome::Failed };
                            }
                        }
                    }
                    // A page may come back empty with more to follow: fetch the next one
                    // without a stop. An empty result still draws its header.
                    let n = u64::from(rows.rows_count);
                    if (n > 0 || (more.is_none() && shown == 0)) && !self.show(&rows, false) {
                        return Outcome::Failed;
                    }
                    shown += n;
                    match more {
                        Some(state) if n == 0 => paging_state = Some(state),
                        Some(state) => {
                            let _ = self.out.flush();
                            eprint!("---MORE--- (Enter for more, q to stop) ");
                            let mut line = String::new();
                            let _ = std::io::stdin().read_line(&mut line);
                            if line.trim().eq_ignore_ascii_case("q") {
                                return Outcome::Ok;
                            }
                            paging_state = Some(state);
                        }
                        None => {
                            if !format::is_describe(&rows) {
                                let _ = write!(self.out, "{}", format::row_count(shown));
                            }
                            return Outcome::Ok;
                        }
                    }
                }
                ResultBody::SetKeyspace(ks) => {
                    self.keyspace = Some(ks);
                    return Outcome::Ok;
                }
                _ => return Outcome::Ok,
            }
        }
    }

    fn run_script(&mut self, script: &str) -> Outcome {
        let mut failed = false;
        for stmt in cql::parser::split_statements(script) {
            match self.run(&stmt) {
                Outcome::Ok => {}
                Outcome::Failed => failed = true,
                Outcome::Exit => return Outcome::Exit,
            }
        }
        if failed { Outcome::Failed } else { Outcome::Ok }
    }

    fn prompt(&self) -> String {
        match &self.keyspace {
            Some(k) => format!("tess:{k}> "),
            None => "tess> ".to_string(),
        }
    }

    fn repl(&mut self) -> i32 {
        let mut editor = match complete::editor(&self.client.address) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("cannot start the line editor: {e}");
                return 1;
            }
        };
        if let Some(h) = complete::history_path() {
            let _ = editor.load_history(&h);
        }
        complete::refresh(&mut editor, &mut self.client, self.consistency);
        let mut pending = String::new();
        loop {
            let prompt = if pending.is_empty() { self.prompt() } else { "   ... ".to_string() };
            let line = match editor.readline(&prompt) {
                Ok(l) => l,
                Err(rustyline::error::ReadlineError::Interrupted) => {
                    pending.clear();
                    continue;
                }
                Err(_) => break,
            };
            if pending.is_empty() && input::is_shell_command(&line) {
                let _ = editor.add_history_entry(line.as_str());
                if let Outcome::Exit = self.run(line.trim().trim_end_matches(';')) {
                    break;
                }
                continue;
            }
            pending.push_str(&line);
            pending.push('\n');
            if !input::is_complete(&pending) {
                continue;
            }
            let _ = editor.add_history_entry(pending.trim());
            let script = std::mem::take(&mut pending);
            let ddl = complete::changes_schema(&script);
            if let Outcome::Exit = self.run_script(&script) {
                break;
            }
            if ddl {
                complete::refresh(&mut editor, &mut self.client, self.consistency);
            }
            if let Some(ks) = &self.keyspace {
                complete::set_keyspace(&mut editor, ks);
            }
        }
        if let Some(h) = complete::history_path() {
            let _ = editor.save_history(&h);
        }
        // A person at a terminal has seen each error; a script piped in is judged like `-f`.
        if self.failed && !std::io::stdin().is_terminal() { 2 } else { 0 }
    }
}

const HELP: &str = "\
Statements are sent to the node; end them with ';'.
Shell commands:
  CONSISTENCY [level]    show or set the consistency level (default ONE)
  PAGING [ON|OFF|n]      show, enable, disable paging or set the page size
  EXPAND [ON|OFF]        one line per column instead of a table
  SOURCE 'file'          run the statements in a file
  DESCRIBE ...           KEYSPACES, TABLES, KEYSPACE ks, TABLE t, CLUSTER, SCHEMA
  EXIT | QUIT            leave";

/// Runs the shell; returns the process exit status.
pub fn run(opts: ShellOptions) -> i32 {
    let client = match Client::connect(&opts.host, opts.port) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Connection error: {e}");
            return 1;
        }
    };
    let interactive = opts.execute.is_none() && opts.file.is_none();
    let mut shell = Shell {
        client,
        consistency: Consistency::One,
        page_size: Some(100),
        expand: false,
        keyspace: None,
        interactive,
        failed: false,
        out: Box::new(std::io::stdout()),
    };
    if let Some(ks) = &opts.keyspace
        && let Outcome::Failed = shell.run(&format!("USE \"{}\"", ks.replace('"', "\"\"")))
    {
        return 2;
    }
    let script = match (&opts.execute, &opts.file) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(f)) => match std::fs::read_to_string(f) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("Could not open '{}': {e}", f.display());
                return 2;
            }
        },
        (None, None) => None,
    };
    match script {
        Some(s) => {
            // An EXIT ends the script, but a failure before it still counts.
            shell.run_script(&s);
            if shell.failed { 2 } else { 0 }
        }
        None => shell.repl(),
    }
}
