//! Why an install failed.

use std::fmt;

/// Why an [`install`](super::CodeArena::install) failed. A failed install changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArenaError {
    /// The batch needs `needed` bytes of code pages, but only `limit - used` are left.
    Full {
        /// The arena's size limit in bytes.
        limit: usize,
        /// Bytes of code pages already in use.
        used: usize,
        /// Bytes of code memory the batch needs (its pieces, aligned, rounded up to the
        /// arena's unit: pages with `Protect`, 64-byte lines with `Dual`).
        needed: usize,
    },
    /// The operating system refused to map memory for code.
    Map(String),
    /// The operating system refused to change a page protection.
    Protect(String),
}

impl fmt::Display for ArenaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArenaError::Full {
                limit,
                used,
                needed,
            } => write!(
                f,
                "code arena full: the batch needs {needed} bytes of code pages, \
                 but {used} of the {limit}-byte limit are already in use"
            ),
            ArenaError::Map(e) => write!(f, "code arena: could not map memory for code: {e}"),
            ArenaError::Protect(e) => {
                write!(
                    f,
                    "code arena: could not change the protection of code pages: {e}"
                )
            }
        }
    }
}

impl std::error::Error for ArenaError {}
