//! MEXC exchange API access keys and secret keys.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{
    Classes, ends_with_token, entropy_threshold, is_placeholder, shannon_entropy, starts_with_token,
};

pub(crate) const API_KEY: Detector = Detector {
    id: "secret-mexc-api-key",
    summary: "A MEXC API access key (mx0v followed by about 32 letters or digits).",
    kind: DetectorKind::Provider,
    keywords: &["mx0v"],
    pattern: r"mx0v[A-Za-z0-9]{16,}",
    span: Span::Line,
    validate: validate_api_key,
    examples: api_key_examples,
};

fn validate_api_key(c: &Candidate<'_>) -> bool {
    let body = &c.value[4..];
    let cls = Classes::of(body);
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &[])
        && !is_placeholder(body)
        && cls.digit
        && cls.letter()
}

fn api_key_examples() -> Examples {
    let key = cat(&["mx", "0v", &fake_alnum(28, 140)]);
    Examples {
        positives: vec![
            format!("MEXC_API_KEY={key}"),
            format!("access_key: \"{key}\""),
        ],
        negatives: vec![
            "MEXC_API_KEY=mx0vxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
            "MEXC access keys start with mx0v.".into(),
        ],
    }
}

pub(crate) const SECRET_KEY: Detector = Detector {
    id: "secret-mexc-secret-key",
    summary: "A MEXC API secret: 32 letters or digits assigned to a key naming MEXC and a secret.",
    kind: DetectorKind::Provider,
    keywords: &["mexc"],
    pattern: r#"(?i)(?P<k>[a-z0-9_.-]*mexc[a-z0-9_.-]*)["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<v>[A-Za-z0-9]{32})"#,
    span: Span::Line,
    validate: validate_secret,
    examples: secret_examples,
};

fn validate_secret(c: &Candidate<'_>) -> bool {
    let key = c.key.unwrap_or_default().to_ascii_lowercase();
    let cls = Classes::of(c.value);
    (key.contains("secret") || key.ends_with("sk"))
        && !key.ends_with("_file")
        && !starts_with_token(c.after, &[])
        && !is_placeholder(c.value)
        && cls.digit
        && cls.letter()
        && shannon_entropy(c.value) >= entropy_threshold(c.value.len())
}

fn secret_examples() -> Examples {
    let secret = crate::detectors::fake_hex(32, 150);
    let mixed = fake_alnum(32, 151);
    Examples {
        positives: vec![
            cat(&["MEXC_API_SECRET=", &secret]),
            cat(&["mexc_secret_key: \"", &mixed, "\""]),
        ],
        negatives: vec![
            "MEXC_API_SECRET=${MEXC_API_SECRET}".into(),
            "MEXC_API_SECRET_FILE=/run/secrets/MEXC_API_SECRET".into(),
            "mexc_secret: <32 hex characters from the MEXC console>".into(),
        ],
    }
}
