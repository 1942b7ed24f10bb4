//! The one wrapper around serde-saphyr: YAML into typed data, errors with a 1-based line and column.
//!
//! The matrix and the drill scenarios both parse through [`from_str`], so both
//! get the parser's default budgets (alias bombs, depth, size are errors, not
//! hangs) and the same error shape.

use serde::de::DeserializeOwned;
use std::fmt;

pub use serde_saphyr::Spanned;

/// Why a YAML text did not parse into the wanted type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for YamlError {}

/// Parses `text` into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let mut opts = serde_saphyr::Options::default();
    opts.with_snippet = false;
    serde_saphyr::from_str_with_options::<T>(text, opts).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| {
            ((l.line() as usize).max(1), (l.column() as usize).max(1))
        });
        let message = e.to_string();
        // The library's message may carry more lines (a snippet); the first says what is wrong.
        let message = message
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .trim()
            .to_owned();
        YamlError {
            line,
            column,
            message,
        }
    })
}

/// A 1-based position of a spanned value.
pub fn pos<T>(s: &Spanned<T>) -> (usize, usize) {
    let loc = s.referenced;
    (loc.line() as usize, loc.column() as usize)
}
