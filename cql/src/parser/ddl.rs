//! Schema statements: USE, CREATE / ALTER / DROP KEYSPACE, CREATE / ALTER / DROP TABLE (also
//! spelled COLUMNFAMILY), TRUNCATE, and the `name = value AND ...` options they take
//! (`Parser.g`'s `properties`: a constant, an unreserved word or a `{constant: constant}` map).
//!
//! CREATE, ALTER and DROP of anything else (indexes, views, types, functions, roles, ...) go to
//! [`super::unsupported`]. COMPACT STORAGE, `CREATE TABLE ... LIKE`, column masks and
//! constraints, `ALTER TABLE ... ALTER`, `DROP ... USING TIMESTAMP` and the `IF [NOT] EXISTS`
//! forms the AST has no room for (ALTER KEYSPACE/TABLE, ADD, DROP and RENAME of columns) are
//! unsupported. A table needs exactly one PRIMARY KEY definition.

use nom::Parser;

use super::lexer::Kind;
use super::qualified_name;
use super::stream::{
    Expect, FatalKind, In, PResult, fatal_at, flag, ident, is_reserved, kw, kw_any, parens1, sym,
    unsupported, unsupported_plural,
};
use super::terms::constant;
use super::types::cql_type;
use super::unsupported::{alter_other, create_other, drop_other};
use crate::ast::{AlterTableOp, ColumnDef, CreateKeyspace, CreateTable, Literal, Order, Statement, Term};

const KEYSPACE: &[&str] = &["KEYSPACE", "SCHEMA"];
const TABLE: &[&str] = &["TABLE", "COLUMNFAMILY"];

/// `USE ks`
pub(crate) fn use_statement(i: In<'_>) -> PResult<'_, Statement> {
    let (i, (_, ks)) = (kw("USE"), ident).parse(i)?;
    Ok((i, Statement::Use(ks)))
}

/// `TRUNCATE [TABLE] t`
pub(crate) fn truncate(i: In<'_>) -> PResult<'_, Statement> {
    let (i, _) = kw("TRUNCATE")(i)?;
    let i = if TABLE.iter().any(|k| i.at_kw(k)) { i.skip(1) } else { i };
    let (i, table) = qualified_name(i)?;
    Ok((i, Statement::Truncate(table)))
}

/// `CREATE KEYSPACE ...`, `CREATE TABLE ...`, or an unsupported CREATE.
pub(crate) fn create(i: In<'_>) -> PResult<'_, Statement> {
    let start = i.offset();
    let (i, _) = kw("CREATE")(i)?;
    if KEYSPACE.iter().any(|k| i.at_kw(k)) {
        create_keyspace(i.skip(1))
    } else if TABLE.iter().any(|k| i.at_kw(k)) {
        create_table(i.skip(1))
    } else {
        create_other(i, start)
    }
}

/// `ALTER KEYSPACE ...`, `ALTER TABLE ...`, or an unsupported ALTER.
pub(crate) fn alter(i: In<'_>) -> PResult<'_, Statement> {
    let start = i.offset();
    let (i, _) = kw("ALTER")(i)?;
    if KEYSPACE.iter().any(|k| i.at_kw(k)) {
        alter_keyspace(i.skip(1))
    } else if TABLE.iter().any(|k| i.at_kw(k)) {
        alter_table(i.skip(1))
    } else {
        alter_other(i, start)
    }
}

/// `DROP KEYSPACE [IF EXISTS] ks`, `DROP TABLE [IF EXISTS] t`, or an unsupported DROP.
pub(crate) fn drop(i: In<'_>) -> PResult<'_, Statement> {
    let start = i.offset();
    let (i, _) = kw("DROP")(i)?;
    if KEYSPACE.iter().any(|k| i.at_kw(k)) {
        let (i, if_exists) = flag(&["IF", "EXISTS"])(i.skip(1))?;
        let (i, name) = ident(i)?;
        Ok((i, Statement::DropKeyspace { name, if_exists }))
    } else if TABLE.iter().any(|k| i.at_kw(k)) {
        let (i, if_exists) = flag(&["IF", "EXISTS"])(i.skip(1))?;
        let (i, table) = qualified_name(i)?;
        Ok((i, Statement::DropTable { table, if_exists }))
    } else {
        drop_other(i, start)
    }
}

/// After `CREATE KEYSPACE`: `[IF NOT EXISTS] ks WITH options`.
fn create_keyspace(i: In<'_>) -> PResult<'_, Statement> {
    let (i, if_not_exists) = flag(&["IF", "NOT", "EXISTS"])(i)?;
    let (i, (name, _, options)) = (ident, kw("WITH"), properties).parse(i)?;
    Ok((i, Statement::CreateKeyspace(CreateKeyspace { name, if_not_exists, options })))
}

/// After `ALTER KEYSPACE`: `ks WITH options`.
fn alter_keyspace(i: In<'_>) -> PResult<'_, Statement> {
    if_exists_unsupported(i, i.offset(), &["IF", "EXISTS"], "ALTER KEYSPACE IF EXISTS")?;
    let (i, (name, _, options)) = (ident, kw("WITH"), properties).parse(i)?;
    Ok((i, Statement::AlterKeyspace { name, options }))
}

/// `name = value AND name = value ...`
fn properties(i: In<'_>) -> PResult<'_, Vec<(String, Term)>> {
    let (mut i, first) = property(i)?;
    let mut props = vec![first];
    while i.at_kw("AND") {
        let (j, p) = property(i.skip(1))?;
        props.push(p);
        i = j;
    }
    Ok((i, props))
}

/// `name = constant | word | {constant: constant, ...}`
fn property(i: In<'_>) -> PResult<'_, (String, Term)> {
    let (i, (name, _)) = (ident, sym("=")).parse(i)?;
    if i.at_sym("{") {
        let (mut i, _) = sym("{")(i)?;
        let mut entries = Vec::new();
        if !i.at_sym("}") {
            loop {
                let (j, (k, _, v)) = (constant, sym(":"), constant).parse(i)?;
                entries.push((Term::Literal(k), Term::Literal(v)));
                i = j;
                if !i.at_sym(",") {
                    break;
                }
                i = i.skip(1);
            }
        }
        let (i, _) = sym("}")(i)?;
        return Ok((i, (name, Term::Map(entries))));
    }
    match i.peek() {
        Some(t) if t.kind == Kind::Word && !is_reserved(t.text) => {
            Ok((i.skip(1), (name, Term::Literal(Literal::String(t.text.to_string())))))
        }
        _ => constant(i).map(|(i, c)| (i, (name, Term::Literal(c)))),
    }
}

/// One element of a table definition.
enum Element {
    Column { def: ColumnDef, primary_key: bool },
    PrimaryKey { partition: Vec<String>, clustering: Vec<String> },
}

/// After `CREATE TABLE`: `[IF NOT EXISTS] t (elements) [WITH ...]`.
fn create_table(i: In<'_>) -> PResult<'_, Statement> {
    let (i, if_not_exists) = flag(&["IF", "NOT", "EXISTS"])(i)?;
    let (i, name) = qualified_name(i)?;
    if i.at_kw("LIKE") {
        return unsupported(i.offset(), "CREATE TABLE ... LIKE");
    }
    let (mut i, _) = sym("(")(i)?;
    let mut elements = Vec::new();
    loop {
        let offset = i.offset();
        let (j, e) = element(i)?;
        elements.push((offset, e));
        i = j;
        if !i.at_sym(",") {
            break;
        }
        i = i.skip(1);
        if i.at_sym(")") {
            break;
        }
    }
    let (i, _) = sym(")")(i)?;
    let mut table = CreateTable {
        name,
        if_not_exists,
        columns: Vec::new(),
        partition_key: Vec::new(),
        clustering: Vec::new(),
        clustering_order: Vec::new(),
        options: Vec::new(),
    };
    let mut key_defined = false;
    for (offset, e) in elements {
        let (partition, clustering) = match e {
            Element::Column { def, primary_key } => {
                let key = primary_key.then(|| vec![def.name.clone()]);
                table.columns.push(def);
                match key {
                    Some(key) => (key, Vec::new()),
                    None => continue,
                }
            }
            Element::PrimaryKey { partition, clustering } => (partition, clustering),
        };
        if key_defined {
            return fatal_at(
                offset,
                FatalKind::Invalid,
                "Multiple PRIMARY KEYs specified (exactly one required)",
            );
        }
        key_defined = true;
        table.partition_key = partition;
        table.clustering = clustering;
    }
    if !key_defined {
        let message =
            format!("No PRIMARY KEY specified for table '{}' (exactly one required)", table.name.name);
        return fatal_at(i.offset(), FatalKind::Invalid, message);
    }
    let i = if i.at_kw("WITH") {
        let (mut i, _) = kw("WITH")(i)?;
        loop {
            i = table_property(i, &mut table)?.0;
            if !i.at_kw("AND") {
                break i;
            }
            i = i.skip(1);
        }
    } else {
        i
    };
    Ok((i, Statement::CreateTable(table)))
}

/// `PRIMARY KEY (...)` or `col type [STATIC] [PRIMARY KEY]`.
fn element(i: In<'_>) -> PResult<'_, Element> {
    if i.at_kw("PRIMARY") {
        let (i, _) = (kw("PRIMARY"), kw("KEY"), sym("(")).parse(i)?;
        let (i, partition) =
            if i.at_sym("(") { parens1(ident).parse(i)? } else { ident(i).map(|(i, c)| (i, vec![c]))? };
        let (mut i, mut clustering) = (i, Vec::new());
        while i.at_sym(",") {
            let (j, c) = ident(i.skip(1))?;
            clustering.push(c);
            i = j;
        }
        let (i, _) = sym(")")(i)?;
        return Ok((i, Element::PrimaryKey { partition, clustering }));
    }
    let (i, def) = column_def(i)?;
    let (i, primary_key) = flag(&["PRIMARY", "KEY"])(i)?;
    Ok((i, Element::Column { def, primary_key }))
}

/// `col type [STATIC]`; masks and constraints are unsupported.
fn column_def(i: In<'_>) -> PResult<'_, ColumnDef> {
    let (i, (name, ty)) = (ident, cql_type).parse(i)?;
    let (i, is_static) = flag(&["STATIC"])(i)?;
    if i.at_kw("MASKED") {
        return unsupported(i.offset(), "column masking (MASKED WITH)");
    }
    if i.at_kw("CHECK") {
        return unsupported_plural(i.offset(), "column constraints (CHECK)");
    }
    Ok((i, ColumnDef { name, ty, is_static }))
}

/// One `WITH` item of CREATE TABLE, added to `table`.
fn table_property<'a>(i: In<'a>, table: &mut CreateTable) -> PResult<'a, ()> {
    if i.at_kw("COMPACT") && i.at_kw_n(1, "STORAGE") {
        return unsupported(i.offset(), "COMPACT STORAGE");
    }
    if i.at_kw("CLUSTERING") && i.at_kw_n(1, "ORDER") {
        let (i, _) = (kw("CLUSTERING"), kw("ORDER"), kw("BY")).parse(i)?;
        let (i, order) = parens1(|j| {
            let (j, column) = ident(j)?;
            let (j, dir) = kw_any(&["ASC", "DESC"])(j)?;
            let order = if dir.text.eq_ignore_ascii_case("DESC") { Order::Desc } else { Order::Asc };
            Ok((j, (column, order)))
        })
        .parse(i)?;
        table.clustering_order.extend(order);
        return Ok((i, ()));
    }
    let (i, p) = property(i)?;
    table.options.push(p);
    Ok((i, ()))
}

/// After `ALTER TABLE`: `t ADD ... | DROP ... | RENAME ... | WITH ...`.
fn alter_table(i: In<'_>) -> PResult<'_, Statement> {
    if_exists_unsupported(i, i.offset(), &["IF", "EXISTS"], "ALTER TABLE IF EXISTS")?;
    let (i, table) = qualified_name(i)?;
    let offset = i.offset();
    let (i, op) = if i.at_kw("ADD") {
        let i = i.skip(1);
        if_exists_unsupported(i, offset, &["IF", "NOT", "EXISTS"], "ALTER TABLE ADD IF NOT EXISTS")?;
        if i.at_sym("(") {
            let (i, defs) = parens1(column_def).parse(i)?;
            (i, AlterTableOp::Add(defs))
        } else {
            let (i, def) = column_def(i)?;
            (i, AlterTableOp::Add(vec![def]))
        }
    } else if i.at_kw("DROP") {
        if i.at_kw_n(1, "COMPACT") && i.at_kw_n(2, "STORAGE") {
            return unsupported(offset, "DROP COMPACT STORAGE");
        }
        let i = i.skip(1);
        if_exists_unsupported(i, offset, &["IF", "EXISTS"], "ALTER TABLE DROP IF EXISTS")?;
        let (i, columns) =
            if i.at_sym("(") { parens1(ident).parse(i)? } else { ident(i).map(|(i, c)| (i, vec![c]))? };
        if i.at_kw("USING") {
            return unsupported(i.offset(), "ALTER TABLE DROP ... USING TIMESTAMP");
        }
        (i, AlterTableOp::Drop(columns))
    } else if i.at_kw("RENAME") {
        let i = i.skip(1);
        if_exists_unsupported(i, offset, &["IF", "EXISTS"], "ALTER TABLE RENAME IF EXISTS")?;
        let rename = |j| (ident, kw("TO"), ident).map(|(from, _, to)| (from, to)).parse(j);
        let (mut i, first) = rename(i)?;
        let mut renames = vec![first];
        while i.at_kw("AND") {
            let (j, r) = rename(i.skip(1))?;
            renames.push(r);
            i = j;
        }
        (i, AlterTableOp::Rename(renames))
    } else if i.at_kw("WITH") {
        let (i, options) = properties(i.skip(1))?;
        (i, AlterTableOp::With(options))
    } else if i.at_kw("ALTER") {
        return unsupported(offset, "ALTER TABLE ... ALTER (changing a column's type or mask)");
    } else {
        return i.fail_any(&["ADD", "DROP", "RENAME", "WITH"].map(Expect::Token));
    };
    Ok((i, Statement::AlterTable { table, op }))
}

/// At `IF`: rejects the whole `words` (`IF [NOT] EXISTS`) as the unsupported `what`, reported
/// at byte `start`, or fails at the first word that differs (`IF` is reserved, so nothing
/// else can start with it). Elsewhere it does nothing.
fn if_exists_unsupported<'a>(
    i: In<'a>,
    start: usize,
    words: &'static [&'static str],
    what: &str,
) -> PResult<'a, ()> {
    if !i.at_kw("IF") {
        return Ok((i, ()));
    }
    let mut j = i;
    for w in words {
        j = kw(w)(j)?.0;
    }
    unsupported(start, what)
}
