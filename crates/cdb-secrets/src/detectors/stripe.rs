//! Stripe live secret and restricted keys.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{Classes, ends_with_token, is_placeholder, starts_with_token};

pub(crate) const KEY: Detector = Detector {
    id: "secret-stripe-key",
    summary: "A Stripe live secret or restricted key (sk_live_ or rk_live_).",
    kind: DetectorKind::Provider,
    keywords: &["sk_live_", "rk_live_"],
    pattern: r"[sr]k_live_[0-9A-Za-z]{20,}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let body = &c.value[8..];
    let cls = Classes::of(body);
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &[])
        && !is_placeholder(body)
        && cls.digit
        && cls.letter()
}

fn examples() -> Examples {
    let secret = cat(&["sk", "_live_", &fake_alnum(24, 40)]);
    let restricted = cat(&["rk", "_live_", &fake_alnum(24, 41)]);
    Examples {
        positives: vec![
            format!("STRIPE_KEY={secret}"),
            format!("stripe: {{ key: \"{restricted}\" }}"),
        ],
        negatives: vec![
            "STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx".into(),
            "Live keys start with sk_live_ and must never reach a log.".into(),
        ],
    }
}
