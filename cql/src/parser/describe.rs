//! DESCRIBE / DESC (`Parser.g`'s `describeStatement`), answered by the server: KEYSPACES,
//! TABLES, TYPES, FUNCTIONS, AGGREGATES, CLUSTER, [FULL] SCHEMA, [ONLY] KEYSPACE [ks],
//! TABLE t, TYPE t, or a bare `[ks.]name`. DESCRIBE of an index, view, function or aggregate,
//! and `WITH INTERNALS`, are unsupported. `TYPE`, `FUNCTION` and `AGGREGATE` need a name
//! after them: alone they are a mismatch, not the name of a table.

use super::qualified_name;
use super::stream::{In, PResult, ident, kw_any, unsupported};
use crate::ast::{Describe, Statement};

/// `DESCRIBE ...`
pub(crate) fn describe(i: In<'_>) -> PResult<'_, Statement> {
    let (i, _) = kw_any(&["DESCRIBE", "DESC"])(i)?;
    let offset = i.offset();
    // `TYPE x`, not `type.x` (a keyspace called "type"); without a name it is a mismatch.
    let kind = |k: &str| i.at_kw(k) && !i.at_sym_n(1, ".");
    let (i, d) = if i.at_kw("CLUSTER") {
        (i.skip(1), Describe::Cluster)
    } else if i.at_kw("SCHEMA") {
        (i.skip(1), Describe::Schema { full: false })
    } else if i.at_kw("FULL") && i.at_kw_n(1, "SCHEMA") {
        (i.skip(2), Describe::Schema { full: true })
    } else if i.at_kw("KEYSPACES") {
        (i.skip(1), Describe::Keyspaces)
    } else if i.at_kw("KEYSPACE") || (i.at_kw("ONLY") && i.at_kw_n(1, "KEYSPACE")) {
        let only = i.at_kw("ONLY");
        let i = i.skip(if only { 2 } else { 1 });
        match ident(i) {
            Ok((i, name)) => (i, Describe::Keyspace { name: Some(name), only }),
            Err(_) => (i, Describe::Keyspace { name: None, only }),
        }
    } else if i.at_kw("TABLES") || i.at_kw("COLUMNFAMILIES") {
        (i.skip(1), Describe::Tables)
    } else if i.at_kw("TABLE") || i.at_kw("COLUMNFAMILY") {
        let (i, t) = qualified_name(i.skip(1))?;
        (i, Describe::Table(t))
    } else if i.at_kw("INDEX") {
        return unsupported(offset, "DESCRIBE INDEX");
    } else if i.at_kw("MATERIALIZED") && i.at_kw_n(1, "VIEW") {
        return unsupported(offset, "DESCRIBE MATERIALIZED VIEW");
    } else if i.at_kw("TYPES") {
        (i.skip(1), Describe::Types)
    } else if kind("TYPE") {
        let (i, t) = qualified_name(i.skip(1))?;
        (i, Describe::Type(t))
    } else if i.at_kw("FUNCTIONS") {
        (i.skip(1), Describe::Functions)
    } else if kind("FUNCTION") {
        ident(i.skip(1))?;
        return unsupported(offset, "DESCRIBE FUNCTION");
    } else if i.at_kw("AGGREGATES") {
        (i.skip(1), Describe::Aggregates)
    } else if kind("AGGREGATE") {
        ident(i.skip(1))?;
        return unsupported(offset, "DESCRIBE AGGREGATE");
    } else {
        let (i, name) = qualified_name(i)?;
        (i, Describe::Name(name))
    };
    if i.at_kw("WITH") && i.at_kw_n(1, "INTERNALS") {
        return unsupported(i.offset(), "DESCRIBE ... WITH INTERNALS");
    }
    Ok((i, Statement::Describe(d)))
}
