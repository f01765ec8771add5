//! Errors of the `cql` crate. The transport maps each variant to its native-protocol error
//! code in one place: `Protocol` → 0x000A, `Syntax` and `Unsupported` → 0x2000, `Invalid` →
//! 0x2200.

/// What went wrong, with what a person needs to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A malformed frame or message body.
    #[error("{0}")]
    Protocol(String),
    /// Statement text that does not parse; `line` and `column` count from 1.
    #[error("line {line}:{column} {message}")]
    Syntax { line: u32, column: u32, message: String },
    /// Valid CQL that Tessera does not support; the message names the construct.
    #[error("line {line}:{column} {message}")]
    Unsupported { line: u32, column: u32, message: String },
    /// A value that does not fit its type, or a literal of the wrong kind.
    #[error("{0}")]
    Invalid(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
