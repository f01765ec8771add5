//! The real Python `cassandra-driver` against a real node: connection and metadata, every
//! type, clustering slices and order, collections, prepared statements, batches, paging
//! through 10,000 rows, TTL and `USING TIMESTAMP`, error codes, token scans, aliases, DISTINCT,
//! PER PARTITION LIMIT, filtering, static columns, timestamped deletes and batches, element
//! deletes, `USING CONSISTENCY` and table options. The checks live in
//! `tests/python/driver_e2e.py`; each test here runs one of them against its own node.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestNode, assert_success, run_python};

fn run(test: &str) {
    let node = TestNode::start();
    let out = run_python(&node, "driver_e2e.py", &[test]);
    assert_success(&out, test);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("ok   {test}")), "{test} did not run:\n{stdout}");
}

macro_rules! driver_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(stringify!($name));
            }
        )*
    };
}

driver_tests!(
    test_connect_reads_system_tables,
    test_schema_metadata_follows_ddl,
    test_every_type_round_trips,
    test_clustering_order_and_slices,
    test_updates_deletes_and_collections,
    test_prepared_statements_and_routing,
    test_batches,
    test_paging_through_10000_rows,
    test_ttl_and_timestamps,
    test_error_codes,
    test_truncate_and_token_scans,
    test_conditional_writes,
    test_list_operations_by_index_and_value,
    test_insert_json,
    test_dropped_columns_stay_dropped,
    test_list_prepends_and_appends_in_order,
    test_statement_semantics_edge_cases,
    test_batch_statements_share_one_timestamp,
    test_prepared_statements_keep_their_keyspace,
    test_keyspace_ddl_and_options,
    test_statements_are_checked_at_prepare,
    test_batch_and_restriction_rules,
    test_system_keyspaces_described_not_written,
    test_count_serial_writes_and_key_limits,
    test_select_column_aliases,
    test_select_distinct_partition_keys_and_statics,
    test_per_partition_limit_across_pages,
    test_allow_filtering_on_regular_columns,
    test_static_columns_read_back,
    test_delete_using_timestamp,
    test_batch_using_timestamp,
    test_update_using_ttl_counts_down_and_expires,
    test_set_and_map_element_deletes,
    test_using_consistency_overrides_the_frame,
    test_compression_option_round_trips,
    test_distinct_static_only_and_frozen_rules,
    test_markers_inside_collection_and_tuple_literals,
    test_unknown_datacenter_is_accepted_with_a_warning,
);
