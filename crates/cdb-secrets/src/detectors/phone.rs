//! Phone numbers: international `+CC …` forms and North American `(NNN) NNN-NNNN`.
//!
//! Plain digit runs are not matched: versions, dates, ports, durations and ids look too much
//! like them. A number needs a leading `+` and 9 to 15 digits, or the parenthesised area code.

use super::cat;
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{ends_with_token, starts_with_token};

pub(crate) const PHONE_NUMBER: Detector = Detector {
    id: "phone-number",
    summary: "A phone number in international (+CC …) or North American ((NNN) NNN-NNNN) form.",
    kind: DetectorKind::Identifier,
    keywords: &[
        "+1", "+2", "+3", "+4", "+5", "+6", "+7", "+8", "+9", "(2", "(3", "(4", "(5", "(6", "(7",
        "(8", "(9",
    ],
    pattern: r"\+[1-9][0-9]{0,3}(?:[ .-]?\(?[0-9]{1,5}\)?){1,6}|\([2-9][0-9]{2}\) ?[0-9]{3}[-. ][0-9]{4}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let digits = c.value.bytes().filter(u8::is_ascii_digit).count();
    let after_bad = starts_with_token(c.after, &[':', '+'])
        || (c.after.starts_with(['.', '-', '/', ','])
            && c.after[1..].starts_with(|ch: char| ch.is_ascii_digit()));
    let before_bad = ends_with_token(c.before, &['+', '.', '-', '/', ':', '=', '^', '~', '*']);
    let balanced = c.value.matches('(').count() == c.value.matches(')').count();
    // Separators inside a number are one kind only; `+1.2-3` is arithmetic or a version.
    let seps: Vec<char> = c
        .value
        .chars()
        .filter(|ch| matches!(ch, '.' | '-'))
        .collect();
    let mixed =
        seps.windows(2).any(|w| w[0] != w[1]) || (c.value.contains('.') && c.value.contains(' '));
    (9..=15).contains(&digits) && !after_bad && !before_bad && balanced && !mixed
}

fn examples() -> Examples {
    Examples {
        positives: vec![
            cat(&["On call: +49 30 ", "0000 1234"]),
            cat(&["call (555) ", "010-", "0199 now"]),
            cat(&["tel: +1 555 ", "010 0199"]),
            cat(&["+44 20 ", "7946 0000"]),
        ],
        negatives: vec![
            "version 1.2.3+20130313144700 and 2.0.0-rc.1+build.5".into(),
            "2024-05-01T10:00:00+01:00 and +0000 and UTC+2".into(),
            "ports 127.0.0.1:3000 and 10:30, +30s, +1d, 1+2=3".into(),
            "(2024) summary, f(2) + g(3), (5 minutes)".into(),
            "0x1234ABCD and +12.5% growth".into(),
            "diff: +1234 -56 lines".into(),
        ],
    }
}
