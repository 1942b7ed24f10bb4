//! AWS access key ids and secret access keys.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{Classes, ends_with_token, is_placeholder, starts_with_token};

pub(crate) const ACCESS_KEY_ID: Detector = Detector {
    id: "secret-aws-access-key-id",
    summary: "An AWS access key id (AKIA/ASIA/ABIA/ACCA followed by 16 upper-case letters or digits).",
    kind: DetectorKind::Provider,
    keywords: &["akia", "asia", "abia", "acca"],
    pattern: r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
    span: Span::Line,
    validate: validate_key_id,
    examples: key_id_examples,
    assignment: false,
};

fn validate_key_id(c: &Candidate<'_>) -> bool {
    // AWS's documentation keys end in EXAMPLE; they are published on purpose.
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &['-'])
        && !c.value.ends_with("EXAMPLE")
        && c.value[4..].bytes().any(|b| b.is_ascii_digit())
}

fn key_id_examples() -> Examples {
    let id = cat(&["AK", "IA", "FAKE2345", "6789WXYZ"]);
    let session = cat(&["AS", "IA", "FAKE9876", "5432ABCD"]);
    Examples {
        positives: vec![
            format!("aws_access_key_id = {id}"),
            format!("AWS_ACCESS_KEY_ID={session}"),
            format!("`{id}` was pasted in the channel"),
        ],
        negatives: vec![
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE".into(),
            "Our ASIA region is eu-central-1; AKIA prefixes mark long-term keys.".into(),
            "XAKIAABCDEFGHIJKLMNOP1".into(),
            // A key id glued to more identifier text is part of a longer name.
            cat(&[
                "aws_access_key_id: AS",
                "IA",
                "FAKE2345",
                "6789WXYZ",
                "-EXAMPLE",
            ]),
        ],
    }
}

pub(crate) const SECRET_ACCESS_KEY: Detector = Detector {
    id: "secret-aws-secret-access-key",
    summary: "An AWS secret access key (40 base64 characters) assigned to an AWS secret key name.",
    kind: DetectorKind::Provider,
    keywords: &[
        "secret_access_key",
        "secretaccesskey",
        "aws_secret",
        "secret-access-key",
    ],
    pattern: r#"(?i)(?:aws)?[_-]?secret[_-]?(?:access)?[_-]?key["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<v>[A-Za-z0-9/+]{40})"#,
    span: Span::Line,
    validate: validate_secret,
    examples: secret_examples,
    assignment: false,
};

fn validate_secret(c: &Candidate<'_>) -> bool {
    let cls = Classes::of(c.value);
    !starts_with_token(c.after, &['/', '+', '='])
        && !c.value.ends_with("EXAMPLEKEY")
        && !is_placeholder(c.value)
        && cls.lower
        && cls.upper
        && cls.digit
}

fn secret_examples() -> Examples {
    let secret = cat(&[&fake_alnum(20, 1), "/", &fake_alnum(19, 2)]);
    Examples {
        positives: vec![
            format!("aws_secret_access_key = {secret}"),
            format!("  AWS_SECRET_ACCESS_KEY: \"{secret}\""),
        ],
        negatives: vec![
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}".into(),
            "AWS_SECRET_ACCESS_KEY_FILE: /run/secrets/aws_secret_access_key".into(),
        ],
    }
}
