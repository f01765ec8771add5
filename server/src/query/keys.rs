//! Primary keys in storage form, and what a WHERE clause says about them.
//!
//! | key | bytes in storage |
//! |---|---|
//! | partition key, one column | the column's serialized value |
//! | partition key, composite | per component: `u16` BE length, value, `0x00` (what `token()` hashes) |
//! | clustering key | per column: `cql::value::encode_comparable` (ASC or DESC as declared), concatenated |
//!
//! [`Restrictions`] splits a WHERE clause into partition-key values, a clustering prefix (and
//! a range on the next clustering column), token bounds, and the remaining filters (which
//! need ALLOW FILTERING).

use super::bind::{Bound, bind};
use crate::error::{QueryError, QueryResult};
use crate::schema::{Column, ColumnKind, Table};
use bytes::Bytes;
use cql::CqlType;
use cql::ast::{Operator, Order, Relation, RelationLhs, Term};
use cql::protocol::QueryParams;

/// Most IN combinations one statement may name.
const MAX_KEYS: usize = 65_536;

/// The storage key for partition-key values `parts` (one per partition-key column, in
/// order). Refuses what Cassandra refuses: an empty key, a component over 65535 bytes.
pub fn partition_key(parts: &[Bytes]) -> QueryResult<Bytes> {
    if let Some(p) = parts.iter().find(|p| p.len() > usize::from(u16::MAX)) {
        return Err(QueryError::Invalid(format!(
            "Key length of {} is longer than maximum of 65535",
            p.len()
        )));
    }
    if let [one] = parts {
        if one.is_empty() {
            return Err(QueryError::Invalid("Key may not be empty".into()));
        }
        return Ok(one.clone());
    }
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 3).sum());
    for p in parts {
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
        out.push(0);
    }
    Ok(Bytes::from(out))
}

/// Splits a storage partition key back into its components.
pub fn split_partition_key(table: &Table, key: &[u8]) -> QueryResult<Vec<Bytes>> {
    let n = table.partition_key().count();
    if n == 1 {
        return Ok(vec![Bytes::copy_from_slice(key)]);
    }
    let bad = || {
        QueryError::Server(format!("malformed composite partition key in {}.{}", table.keyspace, table.name))
    };
    let mut out = Vec::with_capacity(n);
    let mut rest = key;
    for _ in 0..n {
        if rest.len() < 2 {
            return Err(bad());
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let part = rest.get(2..2 + len).ok_or_else(bad)?;
        out.push(Bytes::copy_from_slice(part));
        rest = rest.get(3 + len..).ok_or_else(bad)?;
    }
    Ok(out)
}

/// Encodes clustering values (a prefix of the clustering columns) in storage form.
pub fn clustering_key(table: &Table, values: &[Bytes]) -> QueryResult<Vec<u8>> {
    let mut out = Vec::new();
    for (c, v) in table.clustering().zip(values) {
        if v.len() > usize::from(u16::MAX) {
            return Err(QueryError::Invalid(format!(
                "Key length of {} is longer than maximum of 65535",
                v.len()
            )));
        }
        cql::value::encode_comparable(&c.ty, v, c.order == Order::Desc, &mut out)?;
    }
    Ok(out)
}

/// Decodes a storage clustering key into one serialized value per clustering column.
pub fn split_clustering(table: &Table, key: &[u8]) -> QueryResult<Vec<Bytes>> {
    let mut rest = key;
    let mut out = Vec::new();
    for c in table.clustering() {
        if rest.is_empty() {
            break;
        }
        out.push(Bytes::from(cql::value::decode_comparable(&c.ty, c.order == Order::Desc, &mut rest)?));
    }
    Ok(out)
}

/// One side of a range restriction: value and inclusivity.
pub type RangeBound = Option<(Bytes, bool)>;

/// A restriction on a column that is not part of the key prefix, checked row by row.
#[derive(Debug, Clone)]
pub struct Filter {
    pub column: String,
    pub op: Operator,
    /// The values compared with (several for IN).
    pub values: Vec<Bytes>,
}

/// What a WHERE clause restricts; see the module docs.
#[derive(Debug, Default)]
pub struct Restrictions {
    /// Accepted values per partition-key column, when every one is restricted by `=` or `IN`.
    pub partition: Option<Vec<Vec<Bytes>>>,
    /// Accepted values of the leading clustering columns restricted by `=` / `IN`.
    pub clustering_eq: Vec<Vec<Bytes>>,
    /// A range on the clustering column after the `=` prefix.
    pub clustering_range: Option<(RangeBound, RangeBound)>,
    /// `token(pk) > a AND token(pk) <= b`: lower and upper token bounds with inclusivity.
    pub token_lower: Option<(i64, bool)>,
    pub token_upper: Option<(i64, bool)>,
    /// Everything else.
    pub filters: Vec<Filter>,
}

fn values_of(
    term: &Term,
    ty: &CqlType,
    params: &QueryParams,
    what: &str,
    in_list: bool,
) -> QueryResult<Vec<Bytes>> {
    if !in_list {
        return Ok(vec![bind(term, ty, params)?.required(what)?]);
    }
    match term {
        Term::List(items) | Term::Tuple(items) => {
            items.iter().map(|t| bind(t, ty, params)?.required(what)).collect()
        }
        t => {
            let list_ty = CqlType::List(Box::new(ty.clone()));
            match bind(t, &list_ty, params)? {
                Bound::Value(b) => match cql::value::CqlValue::deserialize(&list_ty, &b)? {
                    cql::value::CqlValue::List(vs) => {
                        vs.iter().map(|v| Ok(Bytes::from(v.to_bytes(ty)?))).collect()
                    }
                    _ => Ok(Vec::new()),
                },
                _ => Err(QueryError::Invalid(format!("Invalid null value for IN restriction on {what}"))),
            }
        }
    }
}

fn token_value(term: &Term, params: &QueryParams) -> QueryResult<i64> {
    let b = bind(term, &CqlType::Bigint, params)?.required("token")?;
    let arr: [u8; 8] = b[..].try_into().map_err(|_| QueryError::Invalid("invalid token value".into()))?;
    Ok(i64::from_be_bytes(arr))
}

fn column<'a>(table: &'a Table, name: &str) -> QueryResult<&'a Column> {
    table.column(name).ok_or_else(|| {
        QueryError::Invalid(format!(
            "Undefined column name {name} in table {}.{}",
            table.keyspace, table.name
        ))
    })
}

impl Restrictions {
    /// Analyses `relations` against `table`.
    pub fn analyse(table: &Table, relations: &[Relation], params: &QueryParams) -> QueryResult<Restrictions> {
        let mut r = Restrictions::default();
        let pk: Vec<&Column> = table.partition_key().collect();
        let ck: Vec<&Column> = table.clustering().collect();
        let mut pk_values: Vec<Option<Vec<Bytes>>> = vec![None; pk.len()];
        let mut ck_eq: Vec<Option<Vec<Bytes>>> = vec![None; ck.len()];
        let mut ck_range: Vec<(RangeBound, RangeBound)> = vec![(None, None); ck.len()];
        for rel in relations {
            match &rel.lhs {
                RelationLhs::Token(cols) => {
                    let names: Vec<&str> = pk.iter().map(|c| c.name.as_str()).collect();
                    if cols.iter().map(String::as_str).ne(names.iter().copied()) {
                        return Err(QueryError::Invalid(format!(
                            "The token function arguments must be the partition key columns in order: token({})",
                            names.join(", ")
                        )));
                    }
                    let v = token_value(&rel.rhs, params)?;
                    match rel.op {
                        Operator::Gt => r.token_lower = Some((v, false)),
                        Operator::Gte => r.token_lower = Some((v, true)),
                        Operator::Lt => r.token_upper = Some((v, false)),
                        Operator::Lte => r.token_upper = Some((v, true)),
                        Operator::Eq => {
                            r.token_lower = Some((v, true));
                            r.token_upper = Some((v, true));
                        }
                        op => return Err(QueryError::Invalid(format!("{op:?} is not supported on token()"))),
                    }
                }
                RelationLhs::Tuple(_) => {
                    return Err(QueryError::Invalid("multi-column relations are not supported yet".into()));
                }
                RelationLhs::Column(name) => {
                    let c = column(table, name)?;
                    let what = name.as_str();
                    match (c.kind, rel.op) {
                        (ColumnKind::PartitionKey, Operator::Eq | Operator::In)
                            if pk_values[c.position as usize].is_some() =>
                        {
                            return Err(QueryError::Invalid(format!(
                                "{name} cannot be restricted by more than one relation if it includes an Equal"
                            )));
                        }
                        (ColumnKind::PartitionKey, Operator::Eq | Operator::In) => {
                            pk_values[c.position as usize] =
                                Some(values_of(&rel.rhs, &c.ty, params, what, rel.op == Operator::In)?);
                        }
                        (ColumnKind::Clustering, Operator::Eq | Operator::In)
                            if ck_eq[c.position as usize].is_some()
                                || ck_range[c.position as usize] != (None, None) =>
                        {
                            return Err(QueryError::Invalid(format!(
                                "{name} cannot be restricted by more than one relation if it includes an Equal"
                            )));
                        }
                        (ColumnKind::Clustering, Operator::Eq | Operator::In) => {
                            ck_eq[c.position as usize] =
                                Some(values_of(&rel.rhs, &c.ty, params, what, rel.op == Operator::In)?);
                        }
                        (
                            ColumnKind::Clustering,
                            op @ (Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte),
                        ) => {
                            if ck_eq[c.position as usize].is_some() {
                                return Err(QueryError::Invalid(format!(
                                    "{name} cannot be restricted by both an equality and an inequality relation"
                                )));
                            }
                            let v = bind(&rel.rhs, &c.ty, params)?.required(what)?;
                            let slot = &mut ck_range[c.position as usize];
                            let taken = match op {
                                Operator::Gt | Operator::Gte => slot.0.is_some(),
                                _ => slot.1.is_some(),
                            };
                            if taken {
                                return Err(QueryError::Invalid(format!(
                                    "More than one restriction was found for the {} bound on {name}",
                                    if matches!(op, Operator::Gt | Operator::Gte) { "start" } else { "end" }
                                )));
                            }
                            match op {
                                Operator::Gt => slot.0 = Some((v, false)),
                                Operator::Gte => slot.0 = Some((v, true)),
                                Operator::Lt => slot.1 = Some((v, false)),
                                _ => slot.1 = Some((v, true)),
                            }
                        }
                        (_, op) => {
                            // CONTAINS compares elements (map values), CONTAINS KEY map keys.
                            let ty = match (op, c.ty.unfrozen()) {
                                (
                                    Operator::Contains,
                                    CqlType::List(t) | CqlType::Set(t) | CqlType::Map(_, t),
                                ) => t,
                                (Operator::ContainsKey, CqlType::Map(k, _)) => k,
                                (Operator::Contains | Operator::ContainsKey, _) => {
                                    return Err(QueryError::Invalid(format!(
                                        "Cannot use {} on non-collection column {name}",
                                        if op == Operator::Contains { "CONTAINS" } else { "CONTAINS KEY" }
                                    )));
                                }
                                _ => &c.ty,
                            };
                            let values = values_of(&rel.rhs, ty, params, what, op == Operator::In)?;
                            r.filters.push(Filter { column: name.clone(), op, values });
                        }
                    }
                }
            }
        }
        if pk_values.iter().all(Option::is_some) {
            r.partition = Some(pk_values.into_iter().flatten().collect());
        } else if pk_values.iter().any(Option::is_some) {
            // A partial partition key can only filter.
            for (c, v) in pk.iter().zip(pk_values) {
                if let Some(values) = v {
                    r.filters.push(Filter { column: c.name.clone(), op: Operator::In, values });
                }
            }
        }
        // Clustering: the `=` prefix, then at most one range, then everything else filters.
        let mut i = 0;
        while i < ck.len() {
            match ck_eq[i].take() {
                Some(v) => r.clustering_eq.push(v),
                None => break,
            }
            i += 1;
        }
        if i < ck.len() && (ck_range[i].0.is_some() || ck_range[i].1.is_some()) {
            r.clustering_range = Some(std::mem::take(&mut ck_range[i]));
            i += 1;
        }
        for j in i..ck.len() {
            if let Some(values) = ck_eq[j].take() {
                r.filters.push(Filter { column: ck[j].name.clone(), op: Operator::In, values });
            }
            let (lo, hi) = std::mem::take(&mut ck_range[j]);
            for (b, strict_op, op) in [(lo, Operator::Gt, Operator::Gte), (hi, Operator::Lt, Operator::Lte)] {
                if let Some((v, incl)) = b {
                    r.filters.push(Filter {
                        column: ck[j].name.clone(),
                        op: if incl { op } else { strict_op },
                        values: vec![v],
                    });
                }
            }
        }
        Ok(r)
    }

    /// Every partition key the restrictions name (the cartesian product of IN lists).
    pub fn partition_keys(&self) -> QueryResult<Vec<Bytes>> {
        let Some(parts) = &self.partition else { return Ok(Vec::new()) };
        let count = parts.iter().try_fold(1usize, |n, v| n.checked_mul(v.len().max(1)));
        if count.is_none_or(|n| n > MAX_KEYS) {
            return Err(QueryError::Invalid(format!(
                "IN restrictions name more than {MAX_KEYS} partitions; split the query"
            )));
        }
        let mut combos: Vec<Vec<Bytes>> = vec![Vec::new()];
        for values in parts {
            combos = combos
                .into_iter()
                .flat_map(|prefix| {
                    values.iter().map(move |v| {
                        let mut p = prefix.clone();
                        p.push(v.clone());
                        p
                    })
                })
                .collect();
        }
        let mut keys: Vec<Bytes> = combos.iter().map(|c| partition_key(c)).collect::<QueryResult<_>>()?;
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// The clustering slices (in storage order) the `=` prefix and range select; `None`
    /// when clustering is unrestricted.
    pub fn clustering_slices(&self, table: &Table) -> QueryResult<Option<Vec<storage::ClusteringRange>>> {
        if self.clustering_eq.is_empty() && self.clustering_range.is_none() {
            return Ok(None);
        }
        let mut prefixes: Vec<Vec<Bytes>> = vec![Vec::new()];
        for values in &self.clustering_eq {
            prefixes = prefixes
                .into_iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.push(v.clone());
                        q
                    })
                })
                .collect();
        }
        let ck: Vec<&Column> = table.clustering().collect();
        let mut out = Vec::new();
        for p in prefixes {
            let base = clustering_key(table, &p)?;
            let Some((lo, hi)) = &self.clustering_range else {
                out.push(storage::ClusteringRange::prefix(Bytes::from(base)));
                continue;
            };
            let col = ck[p.len()];
            let desc = col.order == Order::Desc;
            let enc = |v: &Bytes| -> QueryResult<Vec<u8>> {
                let mut k = base.clone();
                cql::value::encode_comparable(&col.ty, v, desc, &mut k)?;
                Ok(k)
            };
            // In storage order a DESC column's lower value bound is the upper byte bound.
            let (lo, hi) = if desc { (hi, lo) } else { (lo, hi) };
            let start = match lo {
                Some((v, incl)) => Some((enc(v)?, *incl)),
                None => None,
            };
            let end = match hi {
                Some((v, incl)) => Some((enc(v)?, *incl)),
                None => None,
            };
            let start_ref = match &start {
                Some((k, incl)) => Some((k.as_slice(), *incl)),
                None if base.is_empty() => None,
                None => Some((base.as_slice(), true)),
            };
            let end_ref = match &end {
                Some((k, incl)) => Some((k.as_slice(), *incl)),
                None if base.is_empty() => None,
                None => Some((base.as_slice(), true)),
            };
            if let Some(r) = storage::ClusteringRange::from_prefix_bounds(start_ref, end_ref) {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.start.cmp(&b.start));
        Ok(Some(out))
    }

    /// True when every clustering column is restricted by `=` / `IN` (one row per prefix).
    pub fn selects_whole_rows(&self, table: &Table) -> bool {
        self.clustering_range.is_none() && self.clustering_eq.len() == table.clustering().count()
    }
}
