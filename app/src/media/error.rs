//! Errors of the container parsers and writers: the file, the byte offset and what is wrong,
//! so that a user can find the damage with a hex viewer.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaError {
    pub path: PathBuf,
    /// Byte offset in the file where the problem is, when it has one.
    pub offset: Option<u64>,
    pub message: String,
}

impl MediaError {
    pub fn at(path: &Path, offset: u64, message: impl Into<String>) -> MediaError {
        MediaError {
            path: path.to_path_buf(),
            offset: Some(offset),
            message: message.into(),
        }
    }

    pub fn new(path: &Path, message: impl Into<String>) -> MediaError {
        MediaError {
            path: path.to_path_buf(),
            offset: None,
            message: message.into(),
        }
    }

    pub fn io(path: &Path, offset: u64, e: &std::io::Error) -> MediaError {
        MediaError::at(path, offset, format!("read error: {e}"))
    }
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{}: at byte {o}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for MediaError {}
