//! The CQL native protocol v4 codec, both directions: the server's transport splits frames,
//! decompresses and decodes [`Request`]s and encodes [`Response`]s; `tess shell` does the
//! opposite. The authority is apache/cassandra `doc/native_protocol_v4.spec`.
//!
//! - [`frame`]: header, opcodes, flags, LZ4 body compression, frame splitting.
//! - [`notation`]: the bounds-checked reader and writers of `[string]`, `[bytes]`, ….
//! - [`type_option`]: the `[option]` type descriptor.
//! - [`request`], [`response`]; RESULT kinds in [`result`], ERROR bodies in [`error_body`],
//!   EVENTs and schema changes in [`event`].
//!
//! No decoder panics: every length is checked before it is used, and failures are
//! [`crate::Error::Protocol`] naming the message and the field.

pub mod error_body;
pub mod event;
pub mod frame;
pub mod notation;
pub mod request;
pub mod response;
pub mod result;
pub mod type_option;

#[cfg(test)]
mod robustness_tests;

pub use error_body::{ErrorBody, ErrorExtra, error_code};
pub use event::{Event, SchemaChange, SchemaChangeTarget};
pub use frame::{
    Compression, Frame, FrameHeader, HEADER_LEN, MAX_BODY_LEN, MIN_COMPRESS_LEN, RESPONSE_BIT, compress_body,
    decompress_body, flags, opcode,
};
pub use notation::Reader;
pub use request::{
    BatchQuery, BatchRequest, BatchStatement, QueryParams, Request, Value, batch_kind, encode_request_frame,
    query_flags,
};
pub use response::{Response, ResponsePrefix, encode_response_frame, encode_response_frame_with_prefix};
pub use result::{
    ColumnSpec, Prepared, PreparedMetadata, ResultBody, Rows, RowsMetadata, RowsWriter, metadata_flags,
    result_kind,
};
pub use type_option::{DURATION_CLASS, decode_type, read_type, write_type};

/// The protocol version Tessera speaks.
pub const VERSION: u8 = 4;
