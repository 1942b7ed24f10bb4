//! Baselines: accepted findings keyed on rule, path and fingerprint, never on value or line.
//!
//! The format is line-oriented UTF-8 text:
//!
//! ```text
//! # cdb-secrets baseline v2
//! key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! # rule fingerprint path
//! secret-generic-assignment 0123456789abcdef0123456789abcdef docs/old-notes.md
//! ```
//!
//! Blank lines and lines starting with `#` are ignored. An optional `key` line holds the
//! fingerprint key (64 hex digits, drawn from the OS RNG by [`Baseline::create_file`]): with it,
//! fingerprints are keyed hashes of the value; without it, location fingerprints (see
//! `fingerprint.rs`). Every other line holds a rule id (lower-case kebab-case), one space, a
//! fingerprint (32 lower-case hex digits; 16 for a v1 entry), one space, and the path (relative,
//! `/`-separated, the rest of the line; it may contain spaces). Line numbers are deliberately
//! absent so that moving lines does not churn the file.
//!
//! v1 entries (16 hex digits, an unsalted hash of the value) are still matched, through
//! [`Baseline::contains_legacy`], and [`Baseline::migration_note`] says how to replace them:
//! they let anyone who reads the file test guesses of the value.

use std::collections::BTreeSet;
use std::path::Path;

use crate::fingerprint::{FINGERPRINT_HEX, FingerprintKey};
use crate::hit::legacy_fingerprint;

/// One accepted finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BaselineEntry {
    /// The detector id.
    pub rule: String,
    /// The path of the file, relative and `/`-separated.
    pub path: String,
    /// The hit's fingerprint.
    pub fingerprint: String,
}

/// A parsed baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeSet<BaselineEntry>,
    key: Option<FingerprintKey>,
}

/// Why a baseline did not parse; every variant carries the 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BaselineError {
    /// The line does not have the three fields `rule fingerprint path`.
    #[error("baseline line {line}: expected `rule fingerprint path`")]
    MissingField { line: usize },
    /// The rule id is not lower-case kebab-case.
    #[error("baseline line {line}: the rule id is not lower-case kebab-case")]
    BadRule { line: usize },
    /// The fingerprint is not 32 (or, v1, 16) lower-case hex digits.
    #[error(
        "baseline line {line}: the fingerprint is not 32 (or, in a v1 entry, 16) lower-case hex digits"
    )]
    BadFingerprint { line: usize },
    /// The `key` line is not 64 hex digits, or there are two.
    #[error("baseline line {line}: the `key` line must hold 64 hex digits, and appear once")]
    BadKey { line: usize },
    /// The path is absolute, uses `\`, or has a `..` component.
    #[error("baseline line {line}: the path must be relative and `/`-separated, without `..`")]
    BadPath { line: usize },
}

impl BaselineError {
    /// The 1-based line the error is on.
    pub fn line(&self) -> usize {
        match self {
            BaselineError::MissingField { line }
            | BaselineError::BadRule { line }
            | BaselineError::BadFingerprint { line }
            | BaselineError::BadKey { line }
            | BaselineError::BadPath { line } => *line,
        }
    }
}

impl Baseline {
    /// Parses the text of a baseline file.
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let mut entries = BTreeSet::new();
        let mut key = None;
        for (idx, raw) in text.lines().enumerate() {
            let line = idx + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(hex) = trimmed.strip_prefix("key ") {
                match FingerprintKey::from_hex(hex.trim()) {
                    Some(k) if key.is_none() => key = Some(k),
                    _ => return Err(BaselineError::BadKey { line }),
                }
                continue;
            }
            let mut parts = trimmed.splitn(3, ' ');
            let (Some(rule), Some(fp), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(BaselineError::MissingField { line });
            };
            let path = path.trim();
            if path.is_empty() {
                return Err(BaselineError::MissingField { line });
            }
            let rule_ok = rule.starts_with(|c: char| c.is_ascii_lowercase())
                && rule
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !rule_ok {
                return Err(BaselineError::BadRule { line });
            }
            if (fp.len() != 16 && fp.len() != FINGERPRINT_HEX)
                || !fp
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(BaselineError::BadFingerprint { line });
            }
            if path.starts_with('/') || path.contains('\\') || path.split('/').any(|c| c == "..") {
                return Err(BaselineError::BadPath { line });
            }
            entries.insert(BaselineEntry {
                rule: rule.into(),
                path: path.into(),
                fingerprint: fp.into(),
            });
        }
        Ok(Baseline { entries, key })
    }

    /// An empty baseline with a fresh key from the OS RNG.
    pub fn with_new_key() -> std::io::Result<Baseline> {
        Ok(Baseline {
            entries: BTreeSet::new(),
            key: Some(FingerprintKey::generate()?),
        })
    }

    /// Creates the baseline file at `path` with a fresh key and no entries, failing if it
    /// exists: the key is generated on first use, never replaced (that would orphan every
    /// entry). `verify` never calls this; it only reads.
    pub fn create_file(path: &Path) -> std::io::Result<Baseline> {
        use std::io::Write;
        let base = Baseline::with_new_key()?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        file.write_all(base.to_text().as_bytes())?;
        Ok(base)
    }

    /// The fingerprint key, when the file has one.
    pub fn key(&self) -> Option<&FingerprintKey> {
        self.key.as_ref()
    }

    /// Whether a v1 entry (an unsalted hash of the value) accepts this finding. `value` is the
    /// found text; it is hashed here and never stored.
    pub fn contains_legacy(&self, rule: &str, path: &str, value: &str) -> bool {
        let mut legacy = self.entries.iter().filter(|e| e.fingerprint.len() == 16);
        let Some(first) = legacy.next() else {
            return false;
        };
        let fp = legacy_fingerprint(rule, value);
        std::iter::once(first)
            .chain(legacy)
            .any(|e| e.rule == rule && e.path == path && e.fingerprint == fp)
    }

    /// How many entries still use the v1 fingerprint.
    pub fn legacy_entries(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.fingerprint.len() == 16)
            .count()
    }

    /// A one-line note when the file still holds v1 entries, saying why and how to migrate.
    pub fn migration_note(&self) -> Option<String> {
        let n = self.legacy_entries();
        (n > 0).then(|| {
            format!(
                "{n} v1 entr{} (16 hex digits: an unsalted hash of the value, which anyone who \
                 reads the file can test guesses against) still matched; replace each with the \
                 32-digit fingerprint `verify --format json` prints{}",
                if n == 1 { "y" } else { "ies" },
                if self.key.is_some() {
                    ""
                } else {
                    ", after adding a key line (`cargo run -p cdb-secrets --example baseline -- init` \
                     creates a new file with one)"
                }
            )
        })
    }

    /// The file text: the v2 header, the key line when there is a key, and the entries.
    pub fn to_text(&self) -> String {
        let mut out = String::from("# cdb-secrets baseline v2\n");
        if let Some(k) = &self.key {
            out.push_str(&format!("key {}\n", k.to_hex()));
        }
        out.push_str(
            Baseline::render(self.entries()).trim_start_matches("# cdb-secrets baseline v2\n"),
        );
        out
    }

    /// Whether the finding is accepted.
    pub fn contains(&self, rule: &str, path: &str, fingerprint: &str) -> bool {
        // BTreeSet lookups need an owned key; baselines are small, so a scan is fine and avoids
        // allocating per query.
        self.entries
            .iter()
            .any(|e| e.rule == rule && e.path == path && e.fingerprint == fingerprint)
    }

    /// Adds an entry.
    pub fn insert(&mut self, entry: BaselineEntry) {
        self.entries.insert(entry);
    }

    /// The entries, sorted.
    pub fn entries(&self) -> impl Iterator<Item = &BaselineEntry> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Renders entries in the file format, sorted and without duplicates, with the header and
    /// without a key line (see [`Baseline::to_text`] for the whole file).
    pub fn render<'a>(entries: impl IntoIterator<Item = &'a BaselineEntry>) -> String {
        let set: BTreeSet<&BaselineEntry> = entries.into_iter().collect();
        let mut out = String::from("# cdb-secrets baseline v2\n# rule fingerprint path\n");
        for e in set {
            out.push_str(&format!("{} {} {}\n", e.rule, e.fingerprint, e.path));
        }
        out
    }
}
