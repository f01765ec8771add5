//! Errors a request can end in, one variant per native-protocol error the server sends. The
//! transport turns each into its error code and body in one place
//! (`transport::error_response`).

use bytes::Bytes;
use cql::Consistency;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// 0x2000: the statement does not parse.
    #[error("{0}")]
    Syntax(String),
    /// 0x2200: the statement is wrong for the schema or the values, or uses CQL Tessera does
    /// not support.
    #[error("{0}")]
    Invalid(String),
    /// 0x2100: the request touches what no client may change (the system keyspaces).
    #[error("{0}")]
    Unauthorized(String),
    /// 0x2300: a bad keyspace or table configuration.
    #[error("{0}")]
    Config(String),
    /// 0x2400: the keyspace or table exists (`table` empty for a keyspace).
    #[error("{message}")]
    AlreadyExists { keyspace: String, table: String, message: String },
    /// 0x2500: no prepared statement with this id.
    #[error("prepared statement {} not found", hex(.0))]
    Unprepared(Bytes),
    /// 0x1000: not enough live replicas for the consistency level.
    #[error("Cannot achieve consistency level {consistency}: {required} replicas required, {alive} alive")]
    Unavailable { consistency: Consistency, required: i32, alive: i32 },
    /// 0x1100: replicas did not acknowledge a write in time.
    #[error(
        "Operation timed out - received only {received} responses (write type {write_type}, consistency {consistency}, {block_for} required)"
    )]
    WriteTimeout { consistency: Consistency, received: i32, block_for: i32, write_type: WriteType },
    /// 0x1200: replicas did not answer a read in time.
    #[error("Operation timed out - received only {received} responses (consistency {consistency}, {block_for} required, data {})", if *data_present { "present" } else { "absent" })]
    ReadTimeout { consistency: Consistency, received: i32, block_for: i32, data_present: bool },
    /// 0x1003: a TRUNCATE did not complete on every node.
    #[error("{0}")]
    Truncate(String),
    /// 0x1001: the node is shedding load.
    #[error("{0}")]
    Overloaded(String),
    /// 0x000A: a malformed request.
    #[error("{0}")]
    Protocol(String),
    /// 0x0000: a bug or an I/O failure on the node.
    #[error("{0}")]
    Server(String),
}

/// What kind of write timed out, as the protocol names it (drivers accept only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteType {
    Simple,
    Batch,
    UnloggedBatch,
    Cas,
}

impl WriteType {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteType::Simple => "SIMPLE",
            WriteType::Batch => "BATCH",
            WriteType::UnloggedBatch => "UNLOGGED_BATCH",
            WriteType::Cas => "CAS",
        }
    }
}

impl std::fmt::Display for WriteType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hex(b: &Bytes) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl From<cql::Error> for QueryError {
    fn from(e: cql::Error) -> Self {
        match e {
            cql::Error::Protocol(m) => QueryError::Protocol(m),
            e @ cql::Error::Syntax { .. } => QueryError::Syntax(e.to_string()),
            // Valid CQL that Tessera does not implement: a request Cassandra would accept is
            // refused as invalid (0x2200), which is also what cqlsh prints in full.
            e @ cql::Error::Unsupported { .. } => QueryError::Invalid(e.to_string()),
            cql::Error::Invalid(m) => QueryError::Invalid(m),
        }
    }
}

impl From<storage::Error> for QueryError {
    fn from(e: storage::Error) -> Self {
        match e {
            storage::Error::Overloaded(m) => QueryError::Overloaded(m),
            e => QueryError::Server(e.to_string()),
        }
    }
}

impl From<anyhow::Error> for QueryError {
    fn from(e: anyhow::Error) -> Self {
        QueryError::Server(format!("{e:#}"))
    }
}

/// `Result` with [`QueryError`].
pub type QueryResult<T> = std::result::Result<T, QueryError>;
