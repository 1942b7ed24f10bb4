//! MEXC exchange API access keys and secret keys.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{
    Classes, assigned_key, ends_with_token, entropy_threshold, is_placeholder, shannon_entropy,
    starts_with_token,
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
    assignment: false,
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
    summary: "A MEXC API secret: 32 to 64 hex digits (or 32 letters and digits) on a line naming MEXC and a secret or key, assigned or not.",
    kind: DetectorKind::Provider,
    keywords: &["mexc"],
    // The key is optional: `MEXC_API_SECRET=…`, `mexc: { secret: … }` and prose such as
    // "the MEXC API secret 3f…" all count, as long as the line names MEXC and a secret or key.
    pattern: r"(?-u:\b)(?:[0-9a-fA-F]{32,64}|[A-Za-z0-9]{32})(?-u:\b)",
    span: Span::Line,
    validate: validate_secret,
    examples: secret_examples,
    assignment: false,
};

fn validate_secret(c: &Candidate<'_>) -> bool {
    let key = assigned_key(c.before)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let line = c.before.to_ascii_lowercase();
    let v = c.value;
    let cls = Classes::of(v);
    let names_secret = |s: &str| s.contains("secret") || s.contains("key") || s.ends_with("sk");
    let context = (key.contains("mexc") && names_secret(&key))
        || (line.contains("mexc") && (names_secret(&key) || names_secret(&line)));
    // A value glued to more token text is part of something longer (a 40-hex id inside a
    // path, a digest after `sha256:`).
    context
        && !key.ends_with("_file")
        && !key.ends_with("_path")
        && !ends_with_token(c.before, &['-', ':', '/', '.'])
        && !starts_with_token(c.after, &['-', '/', '.'])
        && !is_placeholder(v)
        && cls.digit
        && cls.letter()
        && shannon_entropy(v) >= entropy_threshold(v.len().min(32))
}

fn secret_examples() -> Examples {
    let secret = crate::detectors::fake_hex(32, 150);
    let long = crate::detectors::fake_hex(64, 152);
    let mixed = fake_alnum(32, 151);
    Examples {
        positives: vec![
            cat(&["MEXC_API_SECRET=", &secret]),
            cat(&["mexc_secret_key: \"", &mixed, "\""]),
            cat(&["MEXC_API_SECRET=", &long]),
            cat(&["export MEXC_SECRET_KEY='", &long, "'"]),
            cat(&["The MEXC API secret ", &long, " leaked in the chat."]),
            cat(&["mexc: { api_secret: ", &long, " }"]),
            cat(&["MEXC api secret = ", &secret]),
        ],
        negatives: vec![
            "MEXC_API_SECRET=${MEXC_API_SECRET}".into(),
            "MEXC_API_SECRET_FILE=/run/secrets/MEXC_API_SECRET".into(),
            "mexc_secret: <32 hex characters from the MEXC console>".into(),
            cat(&[
                "MEXC secret rotated in commit ",
                &crate::detectors::fake_hex(40, 153),
                "-fix",
            ]),
            cat(&["mexc image digest sha256:", &long]),
            cat(&["The MEXC client lives in src/", &long, "/main.rs"]),
            cat(&["mexc build ", &long]),
        ],
    }
}
