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
    /// The pattern has the shape `(?P<k>[ident]*) ["']? [ \t]* (:=|=>|=|:) [ \t]* ["']? (?P<v>…)`
    /// with the key made of `[A-Za-z0-9_.-]` only, so the scanner can split a match into key
    /// and value itself ([`split_assignment`]) rather than run the slower capture search.
    pub(crate) assignment: bool,
}

/// Splits the text of an assignment match into the key's and the value's byte ranges, trying
/// the separators in the pattern's order (`:=`, `=>`, `=`, `:`) as its leftmost-first
/// semantics would. `None` when the text does not have that shape.
pub(crate) fn split_assignment(m: &str) -> Option<((usize, usize), (usize, usize))> {
    let b = m.as_bytes();
    let key_end = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || b"_.-".contains(&c)))?;
    let mut i = key_end;
    if matches!(b.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    for sep in [&b":="[..], b"=>", b"=", b":"] {
        if !b[i..].starts_with(sep) {
            continue;
        }
        let mut j = i + sep.len();
        while matches!(b.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if matches!(b.get(j), Some(b'"' | b'\'')) {
            j += 1;
        }
        // The value must start with a character its class allows; otherwise a later separator
        // alternative is the one the regex took.
        let ok = b
            .get(j)
            .is_some_and(|c| !b" \t\r\n\"'`$/<[{%*(&@".contains(c));
        if ok {
            return Some(((0, key_end), (j, m.len())));
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::split_assignment;
    use crate::detectors::detectors;
    use proptest::prelude::*;
    use regex::Regex;

    /// For every match of an `assignment` detector's pattern in `text`, the split agrees with
    /// the capture groups the pattern defines.
    fn agrees(text: &str) -> Result<(), String> {
        for d in detectors().iter().filter(|d| d.assignment) {
            let re = Regex::new(d.pattern).map_err(|e| e.to_string())?;
            for caps in re.captures_iter(text) {
                let (Some(m), Some(k), Some(v)) = (caps.get(0), caps.name("k"), caps.name("v"))
                else {
                    return Err(format!("{}: groups missing", d.id));
                };
                let want = (
                    (k.start() - m.start(), k.end() - m.start()),
                    (v.start() - m.start(), v.end() - m.start()),
                );
                let got = split_assignment(m.as_str());
                if got != Some(want) {
                    return Err(format!(
                        "{}: {:?} split {got:?}, want {want:?}",
                        d.id,
                        m.as_str()
                    ));
                }
            }
        }
        Ok(())
    }

    #[test]
    fn split_matches_captures_on_every_example() {
        for d in detectors() {
            let ex = d.examples();
            for t in ex.positives.iter().chain(&ex.negatives) {
                assert_eq!(agrees(t), Ok(()));
            }
        }
        // Assembled at run time, so this file holds no value a rule would flag.
        let v = ["Fk8q", "Zt3Lm9"].concat();
        for t in [
            format!("password:=={v}"),
            format!("a_token' :=  \"{v}\""),
            format!("pass=>{v}"),
        ] {
            assert_eq!(agrees(&t), Ok(()));
        }
    }

    proptest! {
        #[test]
        fn split_matches_captures(
            key in "[A-Za-z0-9_.-]{0,6}(pass|token|secret|auth)[A-Za-z0-9_.-]{0,6}",
            q1 in "[\"']?", sp1 in "[ \t]{0,2}", sep in "(:=|=>|=|:)", sp2 in "[ \t]{0,2}",
            q2 in "[\"']?", value in "[ -~]{0,20}",
        ) {
            let text = format!("{key}{q1}{sp1}{sep}{sp2}{q2}{value}");
            prop_assert_eq!(agrees(&text), Ok(()));
        }
    }
}
