//! Hits, fingerprints and redaction: how a finding is reported without ever showing its value.

use crate::text::fnv1a64;

/// One finding. It holds where the value is and a fingerprint of it, never the value itself,
/// so printing a `Hit` (or its `Debug` form) cannot leak the secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hit {
    /// The detector id (or [`crate::PRAGMA_MISSING_REASON`]).
    pub rule: &'static str,
    /// Byte offset where the value starts in the scanned text.
    pub start: usize,
    /// Byte offset just past the value's end.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column of `start`, counted in chars.
    pub column: usize,
    /// The keyed or location fingerprint (see `fingerprint.rs`): never a function of the value
    /// alone, and holding no part of it.
    pub fingerprint: String,
}

impl Hit {
    /// The display form of the value: see [`redact`]. `text` must be the scanned text.
    pub fn redacted(&self, text: &str) -> String {
        redact(text.get(self.start..self.end).unwrap_or_default())
    }
}

/// The v1 fingerprint: FNV-1a 64 of the rule id and the value, as 16 lower-case hex digits.
/// It is unsalted and fast, so a short value can be found again from it by hashing guesses;
/// it is kept only to match baseline entries written before v2, and never reported.
pub(crate) fn legacy_fingerprint(rule: &str, value: &str) -> String {
    format!("{:016x}", fnv1a64(&[rule.as_bytes(), value.as_bytes()]))
}

/// The display form of a found value: [`crate::MASK`], with neither a prefix nor the length,
/// so no output (human or machine) narrows the value down.
pub fn redact(_value: &str) -> String {
    crate::mask::MASK.to_string()
}
