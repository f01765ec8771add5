//! Micro-benchmarks of the CQL front end's hot paths: parsing a statement, decoding a QUERY
//! request and an EXECUTE frame body, encoding a page of rows, and the byte-comparable key
//! encoding clustering columns go through.
//!
//! `cargo bench --bench cql`

use bytes::{Bytes, BytesMut};
use cql::CqlType;
use cql::protocol::{
    ColumnSpec, Compression, QueryParams, Request, Response, ResultBody, RowsMetadata, RowsWriter, Value,
    encode_response_frame,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    let insert = "INSERT INTO ks.users (id, name, email, age) VALUES (?, ?, ?, ?) USING TTL 3600";
    g.bench_function("insert_4_columns", |b| b.iter(|| cql::parser::parse_statement(black_box(insert))));
    let select =
        "SELECT id, name, writetime(name) FROM ks.users WHERE id = ? AND ts >= ? AND ts < ? LIMIT 100";
    g.bench_function("select_slice", |b| b.iter(|| cql::parser::parse_statement(black_box(select))));
    g.finish();
}

fn protocol(c: &mut Criterion) {
    let mut g = c.benchmark_group("protocol");
    g.throughput(Throughput::Elements(1));
    let params = QueryParams {
        values: vec![
            Value::Bytes(Bytes::from_static(&[0, 0, 0, 1])),
            Value::Bytes(Bytes::from_static(b"some name")),
            Value::Bytes(Bytes::from_static(b"someone@example.com")),
            Value::Bytes(Bytes::from_static(&[0, 0, 0, 42])),
        ],
        page_size: Some(5000),
        timestamp: Some(1_700_000_000_000_000),
        ..Default::default()
    };
    let req = Request::Execute { id: Bytes::from_static(&[7; 16]), params };
    let mut body = BytesMut::new();
    req.encode_body(&mut body);
    let body = body.freeze();
    g.bench_function("decode_execute_4_values", |b| {
        b.iter(|| Request::decode(black_box(0x0A), 0, black_box(&body)))
    });

    let columns: Vec<ColumnSpec> = ["id", "name", "email", "age"]
        .iter()
        .zip([CqlType::Int, CqlType::Text, CqlType::Text, CqlType::Int])
        .map(|(n, t)| ColumnSpec { keyspace: "ks".into(), table: "users".into(), name: n.to_string(), ty: t })
        .collect();
    g.throughput(Throughput::Elements(100));
    g.bench_function("encode_rows_page_100x4", |b| {
        let mut out = BytesMut::with_capacity(16 * 1024);
        b.iter(|| {
            let mut w = RowsWriter::new();
            for i in 0..100u32 {
                w.push_cell(Some(&i.to_be_bytes()));
                w.push_cell(Some(b"some name"));
                w.push_cell(Some(b"someone@example.com"));
                w.push_cell(Some(&42u32.to_be_bytes()));
                w.end_row();
            }
            let rows = w.finish(RowsMetadata { columns: columns.clone(), ..Default::default() });
            out.clear();
            encode_response_frame(
                4,
                1,
                &Response::Result(ResultBody::Rows(rows)),
                Compression::None,
                &mut out,
            );
            black_box(out.len())
        })
    });
    g.finish();
}

fn keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("comparable");
    g.throughput(Throughput::Elements(1));
    let int = 123_456i32.to_be_bytes();
    let text = b"a clustering key of moderate length";
    g.bench_function("encode_int", |b| {
        let mut out = Vec::with_capacity(16);
        b.iter(|| {
            out.clear();
            cql::value::encode_comparable(&CqlType::Int, black_box(&int), false, &mut out)
        })
    });
    g.bench_function("encode_text_desc", |b| {
        let mut out = Vec::with_capacity(64);
        b.iter(|| {
            out.clear();
            cql::value::encode_comparable(&CqlType::Text, black_box(text), true, &mut out)
        })
    });
    g.finish();
}

criterion_group!(benches, parse, protocol, keys);
criterion_main!(benches);
