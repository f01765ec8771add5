//! ERROR bodies (spec §9): `<code:[int]><message:[string]>` then extra fields chosen by the code.
//! The transport maps Tessera's errors to these in one place; clients decode them.
//!
//! | code   | extra                                                                 |
//! |--------|-----------------------------------------------------------------------|
//! | 0x1000 | `[consistency] [int] required [int] alive`                            |
//! | 0x1100 | `[consistency] [int] received [int] block_for [string] write_type`    |
//! | 0x1200 | `[consistency] [int] received [int] block_for [byte] data_present`    |
//! | 0x1300 | `… [int] block_for [int] failures [byte] data_present`                |
//! | 0x1400 | `[string] keyspace [string] function [string list] arg_types`         |
//! | 0x1500 | `… [int] block_for [int] failures [string] write_type`                |
//! | 0x2400 | `[string] keyspace [string] table` ("" for a keyspace)                |
//! | 0x2500 | `[short bytes] id`                                                    |

use bytes::{BufMut, Bytes, BytesMut};

use super::notation::{Reader, put_consistency, put_int, put_short_bytes, put_string, put_string_list};
use crate::consistency::Consistency;
use crate::error::Result;

/// Native-protocol error codes.
pub mod error_code {
    pub const SERVER_ERROR: i32 = 0x0000;
    pub const PROTOCOL_ERROR: i32 = 0x000A;
    pub const BAD_CREDENTIALS: i32 = 0x0100;
    pub const UNAVAILABLE: i32 = 0x1000;
    pub const OVERLOADED: i32 = 0x1001;
    pub const IS_BOOTSTRAPPING: i32 = 0x1002;
    pub const TRUNCATE_ERROR: i32 = 0x1003;
    pub const WRITE_TIMEOUT: i32 = 0x1100;
    pub const READ_TIMEOUT: i32 = 0x1200;
    pub const READ_FAILURE: i32 = 0x1300;
    pub const FUNCTION_FAILURE: i32 = 0x1400;
    pub const WRITE_FAILURE: i32 = 0x1500;
    pub const SYNTAX_ERROR: i32 = 0x2000;
    pub const UNAUTHORIZED: i32 = 0x2100;
    pub const INVALID: i32 = 0x2200;
    pub const CONFIG_ERROR: i32 = 0x2300;
    pub const ALREADY_EXISTS: i32 = 0x2400;
    pub const UNPREPARED: i32 = 0x2500;
}

/// The code-specific fields after the message. It must match the code: the decoder picks the
/// variant from the code, and codes without extra fields decode to `None`.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorExtra {
    None,
    Unavailable {
        consistency: Consistency,
        required: i32,
        alive: i32,
    },
    WriteTimeout {
        consistency: Consistency,
        received: i32,
        block_for: i32,
        write_type: String,
    },
    ReadTimeout {
        consistency: Consistency,
        received: i32,
        block_for: i32,
        data_present: bool,
    },
    ReadFailure {
        consistency: Consistency,
        received: i32,
        block_for: i32,
        failures: i32,
        data_present: bool,
    },
    WriteFailure {
        consistency: Consistency,
        received: i32,
        block_for: i32,
        failures: i32,
        write_type: String,
    },
    FunctionFailure {
        keyspace: String,
        function: String,
        arg_types: Vec<String>,
    },
    /// `table` is empty when a keyspace already exists.
    AlreadyExists {
        keyspace: String,
        table: String,
    },
    Unprepared {
        id: Bytes,
    },
}

/// An ERROR response body.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    pub code: i32,
    pub message: String,
    pub extra: ErrorExtra,
}

impl ErrorBody {
    /// An error whose code carries no extra fields.
    pub fn new(code: i32, message: impl Into<String>) -> ErrorBody {
        ErrorBody { code, message: message.into(), extra: ErrorExtra::None }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<ErrorBody> {
        use error_code as c;
        let code = r.read_int()?;
        let message = r.read_string()?;
        let extra = match code {
            c::UNAVAILABLE => ErrorExtra::Unavailable {
                consistency: r.read_consistency()?,
                required: r.read_int()?,
                alive: r.read_int()?,
            },
            c::WRITE_TIMEOUT => ErrorExtra::WriteTimeout {
                consistency: r.read_consistency()?,
                received: r.read_int()?,
                block_for: r.read_int()?,
                write_type: r.read_string()?,
            },
            c::READ_TIMEOUT => ErrorExtra::ReadTimeout {
                consistency: r.read_consistency()?,
                received: r.read_int()?,
                block_for: r.read_int()?,
                data_present: r.read_byte()? != 0,
            },
            c::READ_FAILURE => ErrorExtra::ReadFailure {
                consistency: r.read_consistency()?,
                received: r.read_int()?,
                block_for: r.read_int()?,
                failures: r.read_int()?,
                data_present: r.read_byte()? != 0,
            },
            c::WRITE_FAILURE => ErrorExtra::WriteFailure {
                consistency: r.read_consistency()?,
                received: r.read_int()?,
                block_for: r.read_int()?,
                failures: r.read_int()?,
                write_type: r.read_string()?,
            },
            c::FUNCTION_FAILURE => ErrorExtra::FunctionFailure {
                keyspace: r.read_string()?,
                function: r.read_string()?,
                arg_types: r.read_string_list()?,
            },
            c::ALREADY_EXISTS => {
                ErrorExtra::AlreadyExists { keyspace: r.read_string()?, table: r.read_string()? }
            }
            c::UNPREPARED => ErrorExtra::Unprepared { id: r.read_short_bytes()? },
            _ => ErrorExtra::None,
        };
        Ok(ErrorBody { code, message, extra })
    }

    pub(crate) fn write(&self, out: &mut BytesMut) {
        put_int(out, self.code);
        put_string(out, &self.message);
        match &self.extra {
            ErrorExtra::None => {}
            ErrorExtra::Unavailable { consistency, required, alive } => {
                put_consistency(out, *consistency);
                put_int(out, *required);
                put_int(out, *alive);
            }
            ErrorExtra::WriteTimeout { consistency, received, block_for, write_type } => {
                put_consistency(out, *consistency);
                put_int(out, *received);
                put_int(out, *block_for);
                put_string(out, write_type);
            }
            ErrorExtra::ReadTimeout { consistency, received, block_for, data_present } => {
                put_consistency(out, *consistency);
                put_int(out, *received);
                put_int(out, *block_for);
                out.put_u8(u8::from(*data_present));
            }
            ErrorExtra::ReadFailure { consistency, received, block_for, failures, data_present } => {
                put_consistency(out, *consistency);
                put_int(out, *received);
                put_int(out, *block_for);
                put_int(out, *failures);
                out.put_u8(u8::from(*data_present));
            }
            ErrorExtra::WriteFailure { consistency, received, block_for, failures, write_type } => {
                put_consistency(out, *consistency);
                put_int(out, *received);
                put_int(out, *block_for);
                put_int(out, *failures);
                put_string(out, write_type);
            }
            ErrorExtra::FunctionFailure { keyspace, function, arg_types } => {
                put_string(out, keyspace);
                put_string(out, function);
                put_string_list(out, arg_types);
            }
            ErrorExtra::AlreadyExists { keyspace, table } => {
                put_string(out, keyspace);
                put_string(out, table);
            }
            ErrorExtra::Unprepared { id } => put_short_bytes(out, id),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn golden_unavailable() {
        let body = ErrorBody {
            code: error_code::UNAVAILABLE,
            message: "no".into(),
            extra: ErrorExtra::Unavailable { consistency: Consistency::Quorum, required: 2, alive: 1 },
        };
        let mut out = BytesMut::new();
        body.write(&mut out);
        let want = [
            0x00, 0x00, 0x10, 0x00, // code
            0x00, 0x02, b'n', b'o', // message
            0x00, 0x04, // QUORUM
            0x00, 0x00, 0x00, 0x02, // required
            0x00, 0x00, 0x00, 0x01, // alive
        ];
        assert_eq!(&out[..], &want);
        assert_eq!(ErrorBody::read(&mut Reader::new(&want, "ERROR body")).unwrap(), body);
    }

    #[test]
    fn unknown_codes_have_no_extra() {
        let mut out = BytesMut::new();
        ErrorBody::new(0x7777, "odd").write(&mut out);
        out.put_slice(b"trailing");
        let back = ErrorBody::read(&mut Reader::new(&out, "ERROR body")).unwrap();
        assert_eq!(back, ErrorBody::new(0x7777, "odd"));
    }
}
