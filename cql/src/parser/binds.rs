//! Bind-marker numbering. The grammar gives each marker its token index as `index`; once a
//! statement has parsed, [`renumber`] walks every term in it (batch members included), sorts the
//! markers by that index and rewrites them as 0, 1, 2, ... in the order they appear in the text.
//! It returns the markers' names in that order, which is `ParsedStatement::bind_markers`.

use crate::ast::{
    AlterTableOp, Assignment, DeleteTarget, InsertValues, Relation, SelectorExpr, Statement, Term, Using,
};

/// Renumbers the markers of `stmt` from 0 in text order; returns their names in that order.
pub(crate) fn renumber(stmt: &mut Statement) -> Vec<Option<String>> {
    let mut found: Vec<(usize, Option<String>)> = Vec::new();
    for_each_term(stmt, &mut |t| {
        if let Term::Bind { index, name } = t {
            found.push((*index, name.clone()));
        }
    });
    found.sort_by_key(|(pos, _)| *pos);
    found.dedup_by_key(|(pos, _)| *pos);
    let positions: Vec<usize> = found.iter().map(|(pos, _)| *pos).collect();
    for_each_term(stmt, &mut |t| {
        if let Term::Bind { index, .. } = t
            && let Ok(n) = positions.binary_search(index)
        {
            *index = n;
        }
    });
    found.into_iter().map(|(_, name)| name).collect()
}

/// Calls `f` on every term of the statement, nested terms included.
fn for_each_term(stmt: &mut Statement, f: &mut dyn FnMut(&mut Term)) {
    match stmt {
        Statement::CreateKeyspace(c) => options(&mut c.options, f),
        Statement::AlterKeyspace { options: o, .. } => options(o, f),
        Statement::CreateTable(c) => options(&mut c.options, f),
        Statement::AlterTable { op: AlterTableOp::With(o), .. } => options(o, f),
        Statement::Insert(ins) => {
            match &mut ins.values {
                InsertValues::Values { values, .. } => values.iter_mut().for_each(|t| term(t, f)),
                InsertValues::Json { value, .. } => term(value, f),
            }
            using(&mut ins.using, f);
        }
        Statement::Update(u) => {
            using(&mut u.using, f);
            for a in &mut u.assignments {
                match a {
                    Assignment::SetElement { key, value, .. } => {
                        term(key, f);
                        term(value, f);
                    }
                    Assignment::Set { value, .. }
                    | Assignment::Add { value, .. }
                    | Assignment::Prepend { value, .. }
                    | Assignment::Remove { value, .. } => term(value, f),
                }
            }
            relations(&mut u.where_clause, f);
        }
        Statement::Delete(d) => {
            for target in &mut d.targets {
                if let DeleteTarget::Element { key, .. } = target {
                    term(key, f);
                }
            }
            using(&mut d.using, f);
            relations(&mut d.where_clause, f);
        }
        Statement::Select(s) => {
            s.selectors.iter_mut().for_each(|sel| selector(&mut sel.expr, f));
            relations(&mut s.where_clause, f);
            s.per_partition_limit.iter_mut().for_each(|t| term(t, f));
            s.limit.iter_mut().for_each(|t| term(t, f));
        }
        Statement::Batch(b) => {
            using(&mut b.using, f);
            b.statements.iter_mut().for_each(|s| for_each_term(s, f));
        }
        Statement::Use(_)
        | Statement::DropKeyspace { .. }
        | Statement::AlterTable { .. }
        | Statement::DropTable { .. }
        | Statement::Truncate(_)
        | Statement::Describe(_) => {}
    }
}

fn term(t: &mut Term, f: &mut dyn FnMut(&mut Term)) {
    f(t);
    match t {
        Term::List(items) | Term::Set(items) | Term::Tuple(items) => {
            items.iter_mut().for_each(|t| term(t, f))
        }
        Term::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            term(k, f);
            term(v, f);
        }),
        Term::Function { args, .. } => args.iter_mut().for_each(|t| term(t, f)),
        Term::Negate(inner) => term(inner, f),
        Term::Literal(_) | Term::Bind { .. } => {}
    }
}

fn options(opts: &mut [(String, Term)], f: &mut dyn FnMut(&mut Term)) {
    opts.iter_mut().for_each(|(_, t)| term(t, f));
}

fn using(u: &mut Using, f: &mut dyn FnMut(&mut Term)) {
    u.ttl.iter_mut().for_each(|t| term(t, f));
    u.timestamp.iter_mut().for_each(|t| term(t, f));
}

fn relations(rels: &mut [Relation], f: &mut dyn FnMut(&mut Term)) {
    rels.iter_mut().for_each(|r| term(&mut r.rhs, f));
}

fn selector(s: &mut SelectorExpr, f: &mut dyn FnMut(&mut Term)) {
    match s {
        SelectorExpr::Term(t) => term(t, f),
        SelectorExpr::Function { args, .. } => args.iter_mut().for_each(|a| selector(a, f)),
        SelectorExpr::Column(_)
        | SelectorExpr::WriteTime(_)
        | SelectorExpr::Ttl(_)
        | SelectorExpr::Token(_)
        | SelectorExpr::CountStar => {}
    }
}
