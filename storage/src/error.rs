//! The storage crate's error type.
//!
//! Every error carries what an operator needs to act on it: the file and byte offset of a bad
//! checksum, the segment of a bad commit log entry, the table that was not found.

use std::path::PathBuf;

/// Result alias for the storage crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in the storage engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error, with the file it happened on when known.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checksum did not match: the data on disk is not what was written.
    #[error("corruption in {path} at offset {offset}: {reason}")]
    Corruption {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the damaged block or entry.
        offset: u64,
        /// What was found wrong.
        reason: String,
    },
    /// Bytes that do not decode (a truncated or malformed encoding), outside any file.
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// An on-disk format version this build does not read.
    #[error("unsupported format version {version} in {path}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
    /// A table id that the engine does not know.
    #[error("unknown table {0}")]
    UnknownTable(String),
    /// A table with that id already exists.
    #[error("table {0} already exists")]
    TableExists(String),
    /// A mutation larger than the commit log accepts.
    #[error("mutation of {size} bytes exceeds the maximum of {max} bytes")]
    MutationTooLarge {
        /// Encoded size of the mutation.
        size: usize,
        /// The limit (half a commit log segment).
        max: usize,
    },
    /// A previous fsync failed; the engine refuses further writes rather than risk silent loss.
    #[error("storage engine poisoned by an earlier failure: {0}")]
    Poisoned(String),
    /// Writes are refused because memtables are full and flushes are not keeping up.
    #[error("overloaded: {0}")]
    Overloaded(String),
    /// The engine is shutting down.
    #[error("storage engine is shut down")]
    Shutdown,
    /// An invalid argument or configuration value.
    #[error("invalid argument: {0}")]
    Invalid(String),
}

impl Error {
    /// Wraps an `io::Error` with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// A corruption error at `offset` of `path`.
    pub fn corruption(path: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corruption { path: path.into(), offset, reason: reason.into() }
    }
}

/// Adds a path to `io::Result`s.
pub(crate) trait IoContext<T> {
    /// Attaches `path` to the error.
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
