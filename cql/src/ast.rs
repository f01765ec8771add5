//! The typed syntax tree [`crate::parser`] produces: one [`Statement`] per CQL statement.
//!
//! Names: an unquoted identifier is lower-cased (`MyTable` → `mytable`); a double-quoted one is
//! kept exactly (`"MyTable"` → `MyTable`, `""` inside quotes → `"`). Keywords are
//! case-insensitive. Literal values stay as written (as text for numbers) until the executor
//! knows the column's type; bind markers (`?`, `:name`) are numbered from 0 in the order they
//! appear in the statement text.

use crate::consistency::Consistency;
use crate::types::CqlType;

/// A statement with its bind-marker count.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatement {
    pub statement: Statement,
    /// Names of the bind markers in order (`None` for `?`); its length is the marker count.
    pub bind_markers: Vec<Option<String>>,
}

/// `[keyspace.]name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedName {
    pub keyspace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `USE ks`
    Use(String),
    CreateKeyspace(CreateKeyspace),
    /// `ALTER KEYSPACE ks WITH ...`
    AlterKeyspace {
        name: String,
        options: Vec<(String, Term)>,
    },
    /// `DROP KEYSPACE [IF EXISTS] ks`
    DropKeyspace {
        name: String,
        if_exists: bool,
    },
    CreateTable(CreateTable),
    AlterTable {
        table: QualifiedName,
        op: AlterTableOp,
    },
    /// `DROP TABLE [IF EXISTS] t` (also `DROP COLUMNFAMILY`)
    DropTable {
        table: QualifiedName,
        if_exists: bool,
    },
    /// `TRUNCATE [TABLE] t`
    Truncate(QualifiedName),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    Select(Select),
    Batch(Batch),
    Describe(Describe),
}

/// `CREATE KEYSPACE [IF NOT EXISTS] ks WITH replication = {...} [AND durable_writes = b]`
#[derive(Debug, Clone, PartialEq)]
pub struct CreateKeyspace {
    pub name: String,
    pub if_not_exists: bool,
    /// Option name (lower-cased) and value, in order.
    pub options: Vec<(String, Term)>,
}

/// `CREATE TABLE [IF NOT EXISTS] t (col type [STATIC] [PRIMARY KEY], ..., PRIMARY KEY (...))
/// [WITH CLUSTERING ORDER BY (c DESC, ...) AND option = value ...]`
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    pub name: QualifiedName,
    pub if_not_exists: bool,
    /// Columns in declaration order.
    pub columns: Vec<ColumnDef>,
    /// Partition key columns in key order (from `PRIMARY KEY ((a, b), c)`, `PRIMARY KEY (a, c)`
    /// or an inline `PRIMARY KEY`).
    pub partition_key: Vec<String>,
    /// Clustering columns in key order.
    pub clustering: Vec<String>,
    /// `CLUSTERING ORDER BY` entries as written.
    pub clustering_order: Vec<(String, Order)>,
    /// `WITH` options other than `CLUSTERING ORDER BY`, name lower-cased, in order.
    pub options: Vec<(String, Term)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: CqlType,
    pub is_static: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlterTableOp {
    /// `ADD col type [STATIC]` or `ADD (col type, ...)`
    Add(Vec<ColumnDef>),
    /// `DROP col` or `DROP (col, ...)`
    Drop(Vec<String>),
    /// `WITH option = value AND ...`
    With(Vec<(String, Term)>),
    /// `RENAME a TO b [AND c TO d]`
    Rename(Vec<(String, String)>),
}

/// A value in statement text.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Literal(Literal),
    /// A bind marker: its index among the statement's markers, and its name for `:name`.
    Bind {
        index: usize,
        name: Option<String>,
    },
    /// `[a, b]` — also the parenthesised list after `IN`.
    List(Vec<Term>),
    /// `{a, b}`
    Set(Vec<Term>),
    /// `{k: v, ...}`; `{}` parses as an empty map (the executor reads it as an empty set when
    /// the column is a set).
    Map(Vec<(Term, Term)>),
    /// `(a, b)`
    Tuple(Vec<Term>),
    /// `now()`, `uuid()`, `toTimestamp(now())`, `currentTimestamp()`, ... (name lower-cased).
    Function {
        name: String,
        args: Vec<Term>,
    },
    /// `-term` applied to something other than a number literal (numbers keep their sign).
    Negate(Box<Term>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` (quotes removed, `''` unescaped) or `$$text$$`.
    String(String),
    /// An integer as written, with its sign: `-42`, `123456789012345678901234567890`.
    Integer(String),
    /// A float as written: `1.5`, `-2e10`, `NaN`, `Infinity`, `-Infinity`.
    Float(String),
    Boolean(bool),
    /// A UUID constant, as written (hyphenated hex).
    Uuid(String),
    /// `0xcafe` as bytes.
    Blob(Vec<u8>),
    /// A duration constant such as `1h30m` or `P1D`, as written.
    Duration(String),
    Null,
}

/// `USING TTL t AND TIMESTAMP ts AND CONSISTENCY level` (any subset, any order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Using {
    pub ttl: Option<Term>,
    pub timestamp: Option<Term>,
    /// Overrides the consistency the protocol frame carries.
    pub consistency: Option<Consistency>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InsertValues {
    /// `(cols) VALUES (terms)`
    Values { columns: Vec<String>, values: Vec<Term> },
    /// `JSON 'text'` (or a bind marker), with `DEFAULT NULL` / `DEFAULT UNSET`.
    Json { value: Term, default_unset: bool },
}

/// `INSERT INTO t ... [IF NOT EXISTS] [USING ...]`
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub table: QualifiedName,
    pub values: InsertValues,
    pub if_not_exists: bool,
    pub using: Using,
}

/// `UPDATE t [USING ...] SET ... WHERE ... [IF EXISTS]`
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub table: QualifiedName,
    pub using: Using,
    pub assignments: Vec<Assignment>,
    pub where_clause: Vec<Relation>,
    pub if_exists: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Assignment {
    /// `c = v`
    Set { column: String, value: Term },
    /// `c[k] = v` (map key or list index)
    SetElement { column: String, key: Term, value: Term },
    /// `c = c + v` (append to a list, add to a set or map; counters)
    Add { column: String, value: Term },
    /// `c = v + c` (prepend to a list)
    Prepend { column: String, value: Term },
    /// `c = c - v` (remove from a list, set or map keys; counters)
    Remove { column: String, value: Term },
}

/// `DELETE [targets] FROM t [USING TIMESTAMP ts] WHERE ... [IF EXISTS]`
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub table: QualifiedName,
    /// Empty: the whole row(s) or partition.
    pub targets: Vec<DeleteTarget>,
    pub using: Using,
    pub where_clause: Vec<Relation>,
    pub if_exists: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeleteTarget {
    Column(String),
    /// `m[k]` or `l[i]`
    Element {
        column: String,
        key: Term,
    },
}

/// One `WHERE` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub lhs: RelationLhs,
    pub op: Operator,
    /// For `IN`: a [`Term::List`] of values (or of tuples), or a bind marker.
    pub rhs: Term,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RelationLhs {
    Column(String),
    /// `token(a, b)`
    Token(Vec<String>),
    /// `(c1, c2)` for multi-column clustering relations.
    Tuple(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
    Neq,
    In,
    Contains,
    ContainsKey,
}

/// `SELECT [JSON] [DISTINCT] selection FROM t [WHERE ...] [ORDER BY ...]
/// [PER PARTITION LIMIT n] [LIMIT n] [ALLOW FILTERING] [USING CONSISTENCY level]`
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub table: QualifiedName,
    pub json: bool,
    pub distinct: bool,
    /// Empty for `*`.
    pub selectors: Vec<Selector>,
    pub where_clause: Vec<Relation>,
    pub order_by: Vec<(String, Order)>,
    pub per_partition_limit: Option<Term>,
    pub limit: Option<Term>,
    pub allow_filtering: bool,
    pub consistency: Option<Consistency>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub expr: SelectorExpr,
    /// `AS alias`
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectorExpr {
    Column(String),
    /// `writetime(c)`
    WriteTime(String),
    /// `ttl(c)`
    Ttl(String),
    /// `token(a, b)`
    Token(Vec<String>),
    /// `count(*)` or `count(1)`
    CountStar,
    /// Any other function call, name lower-cased: `count(c)`, `max(c)`, `totimestamp(c)`, ...
    Function {
        name: String,
        args: Vec<SelectorExpr>,
    },
    /// A literal or bind marker used as a selector argument.
    Term(Term),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    Logged,
    Unlogged,
    Counter,
}

/// `BEGIN [UNLOGGED|COUNTER] BATCH [USING ...] stmt; ... APPLY BATCH`
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub kind: BatchKind,
    pub using: Using,
    /// Only `Insert`, `Update` and `Delete`; may be empty.
    pub statements: Vec<Statement>,
}

/// `DESCRIBE` / `DESC`, answered by the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Describe {
    /// `DESCRIBE KEYSPACES`
    Keyspaces,
    /// `DESCRIBE TABLES`
    Tables,
    /// `DESCRIBE TYPES`
    Types,
    /// `DESCRIBE FUNCTIONS`
    Functions,
    /// `DESCRIBE AGGREGATES`
    Aggregates,
    /// `DESCRIBE CLUSTER`
    Cluster,
    /// `DESCRIBE [FULL] SCHEMA`
    Schema { full: bool },
    /// `DESCRIBE [ONLY] KEYSPACE [ks]` (the current keyspace when omitted)
    Keyspace { name: Option<String>, only: bool },
    /// `DESCRIBE TABLE [ks.]t` (also `COLUMNFAMILY`)
    Table(QualifiedName),
    /// `DESCRIBE TYPE [ks.]t`
    Type(QualifiedName),
    /// `DESCRIBE name` / `DESCRIBE ks.name`: a keyspace, table, ... whichever exists.
    Name(QualifiedName),
}
