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
    /// [`fingerprint`] of the rule and the value.
    pub fingerprint: String,
}

impl Hit {
    /// The display form of the value: see [`redact`]. `text` must be the scanned text.
    pub fn redacted(&self, text: &str) -> String {
        redact(text.get(self.start..self.end).unwrap_or_default())
    }
}

/// A stable fingerprint of a finding: FNV-1a 64 of the rule id and the value, as 16 lower-case
/// hex digits. It identifies a finding in a baseline without storing the value. It is not a
/// cryptographic hash: a short, guessable value can be found again from it by trying guesses,
/// which is why baselines are meant for accepted false positives and test fixtures, never for
/// real secrets (those are rotated and removed, not baselined).
pub fn fingerprint(rule: &str, value: &str) -> String {
    format!("{:016x}", fnv1a64(&[rule.as_bytes(), value.as_bytes()]))
}

/// The display form of a found value: at most its first 4 chars (none when it is shorter than
/// 12 chars, so that short secrets are not a third revealed), a fixed mask and the length in
/// chars, e.g. `AKIA…[REDACTED, 20 chars]`.
pub fn redact(value: &str) -> String {
    let len = value.chars().count();
    let shown: String = if len >= 12 {
        value.chars().take(4).collect()
    } else {
        String::new()
    };
    format!("{shown}\u{2026}[REDACTED, {len} chars]")
}
