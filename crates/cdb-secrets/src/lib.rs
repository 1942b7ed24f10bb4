//! A fast scanner for secret values and sensitive identifiers in text, with redaction, inline
//! pragmas and baselines.
//!
//! # Use
//!
//! ```
//! use cdb_secrets::{Scanner, redact};
//!
//! let scanner = Scanner::new();
//! let text = "password: ${DB_PASSWORD}\n";
//! for hit in scanner.scan(text) {
//!     println!("{}:{} {} {}", hit.line, hit.column, hit.rule, redact(&text[hit.start..hit.end]));
//! }
//! assert!(scanner.scan(text).is_empty());
//! ```
//!
//! A [`Hit`] holds the byte range of the value, its line and column and a [`fingerprint`];
//! never the value. Display a value only through [`redact`].
//!
//! # How it scans
//!
//! Every [`Detector`] names a few literal keywords. One Aho-Corasick pass over the text finds
//! them all; each detector's regex then runs only on the lines holding one of its keywords (a
//! bounded block for PEM keys), and a validator rejects placeholders, references, low-entropy
//! literals and values glued to neighbouring tokens. Each detector runs on its own, so a generic
//! rule cannot shadow a specific one; when hits of different kinds overlap, the more specific
//! kind wins (provider over identifier over generic) and the other is dropped.
//!
//! # Pragmas
//!
//! A comment holding `cdb-allow: RULE-ID reason: some words` allows that rule on the next line
//! when it stands alone on its line, or on its own line when it trails code:
//!
//! ```text
//! <!-- cdb-allow: private-ip reason: the lab network of the drill -->
//! # cdb-allow: secret-generic-assignment reason: a fixture, not a credential
//! value: 1  # cdb-allow: phone-number reason: trailing form
//! ```
//!
//! Openers are `<!--`, `#` and `//`. Several rule ids may be listed, separated by commas.
//! A pragma without a reason suppresses nothing and is reported by [`Scanner::scan`] as a hit
//! of the pseudo-rule [`PRAGMA_MISSING_REASON`]. [`Scanner::scan_raw`] ignores pragmas.
//!
//! # Baselines
//!
//! See [`baseline`](crate::Baseline) and the module docs of `baseline.rs`: one
//! `rule fingerprint path` line per accepted finding, without values and without line numbers.

mod baseline;
mod detector;
mod detectors;
mod hit;
mod mask;
mod pragma;
mod scanner;
mod text;

pub use baseline::{Baseline, BaselineEntry, BaselineError};
pub use detector::{Detector, DetectorKind, Examples};
pub use detectors::detectors;
pub use hit::{Hit, fingerprint, redact};
pub use mask::{MASK, escape_controls, for_human, mask, mask_known};
pub use pragma::PRAGMA_MISSING_REASON;
pub use scanner::Scanner;

/// The detector with this id, if any.
pub fn detector(id: &str) -> Option<&'static Detector> {
    detectors().iter().find(|d| d.id == id)
}
