//! The detector type: one rule with its prefilter keywords, its pattern, its validator and its examples.

use std::fmt;

/// What family a detector belongs to; it decides which hit wins when two overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetectorKind {
    /// A provider's own token format (AWS, GitHub, Stripe, PEM keys, URIs with passwords...).
    Provider,
    /// A secret-looking key assigned a high-entropy literal, whatever the provider.
    Generic,
    /// Sensitive identifiers that are not credentials: e-mail addresses, phone numbers, private IPs.
    Identifier,
}

impl DetectorKind {
    /// Higher wins when hits of different kinds overlap: a provider hit is more specific than
    /// an identifier, and both are more specific than the generic assignment rule.
    pub(crate) fn priority(self) -> u8 {
        match self {
            DetectorKind::Provider => 2,
            DetectorKind::Identifier => 1,
            DetectorKind::Generic => 0,
        }
    }
}

/// How much text around a keyword the detector's pattern is run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    /// The line holding the keyword; every match on it counts.
    Line,
    /// From the start of the keyword's line, at most this many bytes; only the first match counts.
    /// PEM keys need this because their body spans several lines.
    Block(usize),
}

/// True-positive and false-positive examples of one detector, built at run time so that the
/// source text of this crate never holds a value any rule would match.
#[derive(Clone, Debug, Default)]
pub struct Examples {
    /// Texts in which the detector must find at least one hit.
    pub positives: Vec<String>,
    /// Texts in which no detector at all may find a hit.
    pub negatives: Vec<String>,
}

/// The piece of text a pattern matched, handed to the detector's validator.
#[derive(Clone, Copy)]
pub(crate) struct Candidate<'a> {
    /// The matched value (capture group `v`, or the whole match).
    pub value: &'a str,
    /// The capture group `k` when the pattern has one: the assignment key, or a URI's user.
    pub key: Option<&'a str>,
    /// The region's text before the value, used for boundary checks.
    pub before: &'a str,
    /// The region's text after the value, used for boundary checks.
    pub after: &'a str,
}

/// One rule of the registry.
pub struct Detector {
    /// Stable kebab-case id, used in pragmas, baselines and reports.
    pub id: &'static str,
    /// One sentence saying what the rule finds.
    pub summary: &'static str,
    /// The rule's family.
    pub kind: DetectorKind,
    /// Literals (ASCII, matched case-insensitively) of which one must occur before the pattern runs.
    pub(crate) keywords: &'static [&'static str],
    /// The pattern; capture group `v` is the value, `k` an optional key.
    pub(crate) pattern: &'static str,
    pub(crate) span: Span,
    /// Rejects matches the pattern cannot rule out by itself (placeholders, boundaries, entropy).
    pub(crate) validate: fn(&Candidate<'_>) -> bool,
    pub(crate) examples: fn() -> Examples,
}

impl Detector {
    /// The detector's true-positive and false-positive examples, generated afresh.
    pub fn examples(&self) -> Examples {
        (self.examples)()
    }

    /// The prefilter literals of this detector.
    pub fn keywords(&self) -> &'static [&'static str] {
        self.keywords
    }
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}
