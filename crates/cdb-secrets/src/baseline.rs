//! Baselines: accepted findings keyed on rule, path and fingerprint, never on value or line.
//!
//! The format is line-oriented UTF-8 text:
//!
//! ```text
//! # cdb-secrets baseline v1
//! # rule fingerprint path
//! secret-generic-assignment 0123456789abcdef docs/old-notes.md
//! ```
//!
//! Blank lines and lines starting with `#` are ignored. Every other line holds a rule id
//! (lower-case kebab-case), one space, a fingerprint (16 lower-case hex digits), one space, and
//! the path (relative, `/`-separated, the rest of the line; it may contain spaces). Line numbers
//! are deliberately absent so that moving lines does not churn the file.

use std::collections::BTreeSet;
use std::fmt;

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
}

/// Why a baseline did not parse; every variant carries the 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaselineError {
    /// The line does not have the three fields `rule fingerprint path`.
    MissingField { line: usize },
    /// The rule id is not lower-case kebab-case.
    BadRule { line: usize },
    /// The fingerprint is not 16 lower-case hex digits.
    BadFingerprint { line: usize },
    /// The path is absolute, uses `\`, or has a `..` component.
    BadPath { line: usize },
}

impl BaselineError {
    /// The 1-based line the error is on.
    pub fn line(&self) -> usize {
        match self {
            BaselineError::MissingField { line }
            | BaselineError::BadRule { line }
            | BaselineError::BadFingerprint { line }
            | BaselineError::BadPath { line } => *line,
        }
    }
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            BaselineError::MissingField { .. } => "expected `rule fingerprint path`",
            BaselineError::BadRule { .. } => "the rule id is not lower-case kebab-case",
            BaselineError::BadFingerprint { .. } => {
                "the fingerprint is not 16 lower-case hex digits"
            }
            BaselineError::BadPath { .. } => {
                "the path must be relative and `/`-separated, without `..`"
            }
        };
        write!(f, "baseline line {}: {what}", self.line())
    }
}

impl std::error::Error for BaselineError {}

impl Baseline {
    /// Parses the text of a baseline file.
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let mut entries = BTreeSet::new();
        for (idx, raw) in text.lines().enumerate() {
            let line = idx + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
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
            if fp.len() != 16
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
        Ok(Baseline { entries })
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

    /// Renders entries in the file format, sorted and without duplicates, with the header.
    pub fn render<'a>(entries: impl IntoIterator<Item = &'a BaselineEntry>) -> String {
        let set: BTreeSet<&BaselineEntry> = entries.into_iter().collect();
        let mut out = String::from("# cdb-secrets baseline v1\n# rule fingerprint path\n");
        for e in set {
            out.push_str(&format!("{} {} {}\n", e.rule, e.fingerprint, e.path));
        }
        out
    }
}
