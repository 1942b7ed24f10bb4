//! npm access tokens.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{Classes, ends_with_token, is_placeholder, starts_with_token};

pub(crate) const TOKEN: Detector = Detector {
    id: "secret-npm-token",
    summary: "An npm access token (npm_ followed by 36 letters or digits).",
    kind: DetectorKind::Provider,
    keywords: &["npm_"],
    pattern: r"npm_[A-Za-z0-9]{36}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let body = &c.value[4..];
    let cls = Classes::of(body);
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &[])
        && !is_placeholder(body)
        && cls.digit
        && cls.letter()
}

fn examples() -> Examples {
    let token = cat(&["np", "m_", &fake_alnum(36, 60)]);
    Examples {
        positives: vec![format!("//registry.npmjs.org/:_authToken={token}")],
        negatives: vec![
            "npm_config_registry=https://registry.npmjs.org/".into(),
            "NPM_TOKEN=npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
        ],
    }
}
