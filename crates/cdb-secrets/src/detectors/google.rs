//! Google API keys.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{Classes, ends_with_token, is_placeholder, starts_with_token};

pub(crate) const API_KEY: Detector = Detector {
    id: "secret-google-api-key",
    summary: "A Google API key (AIza followed by 35 token characters).",
    kind: DetectorKind::Provider,
    keywords: &["aiza"],
    pattern: r"AIza[0-9A-Za-z_-]{35}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let body = &c.value[4..];
    let cls = Classes::of(body);
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &['-'])
        && !is_placeholder(body)
        && cls.digit
        && cls.letter()
}

fn examples() -> Examples {
    let key = cat(&["AI", "za", &fake_alnum(35, 50)]);
    Examples {
        positives: vec![
            format!("GOOGLE_API_KEY={key}"),
            format!("\"apiKey\": \"{key}\""),
        ],
        negatives: vec![
            "GOOGLE_API_KEY=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
            "Browser keys start with AIza.".into(),
        ],
    }
}
