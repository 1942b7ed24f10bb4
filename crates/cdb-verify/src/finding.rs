//! Findings: what a rule reports, as plain data every report format renders.

use serde::Serialize;
use std::fmt;

/// How bad a finding is. Only `Error` makes `verify` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One finding. `path` is relative to the root with `/` separators; `line` and
/// `column` are 1-based (column in characters).
///
/// Findings are built only by [`crate::rules::Sink`], which passes the path
/// and message through `cdb_secrets::mask`; `non_exhaustive` keeps other
/// crates from building one around it, so no format can print a raw value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    pub rule: String,
    pub group: String,
    pub severity: Severity,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// A stable hash identifying the finding across runs (rule, path and a
    /// line-independent key), used by SARIF and baselines. Never a secret value.
    pub fingerprint: String,
    /// For a secret finding: how many characters from `column` on hold the
    /// value, so the human report can mask them in the source line it shows.
    #[serde(skip)]
    pub mask_chars: Option<usize>,
}

/// FNV-1a, 64 bit: tiny, stable across Rust versions and platforms, which a
/// fingerprint stored in GitHub code scanning needs.
pub fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.as_bytes().iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
