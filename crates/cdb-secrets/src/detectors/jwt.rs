//! JSON Web Tokens (three base64url parts, the first two JSON objects).

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{ends_with_token, starts_with_token};

pub(crate) const JWT: Detector = Detector {
    id: "secret-jwt",
    summary: "A JSON Web Token (eyJ….eyJ….signature).",
    kind: DetectorKind::Provider,
    keywords: &["eyj"],
    pattern: r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    !ends_with_token(c.before, &['-', '.']) && !starts_with_token(c.after, &['-', '.'])
}

fn examples() -> Examples {
    // The header is {"alg":"HS256","typ":"JWT"} and the payload {"sub":"FAKE"}.
    let token = cat(&[
        "ey",
        "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        ".",
        "ey",
        "JzdWIiOiJGQUtFIn0",
        ".",
        &fake_alnum(43, 110),
    ]);
    Examples {
        positives: vec![format!("Authorization: Bearer {token}")],
        negatives: vec![
            "Authorization: Bearer <jwt>".into(),
            "A JWT starts with eyJ because every header is a JSON object.".into(),
            "eyJhbGciOiJIUzI1NiJ9.eyJ....".into(),
        ],
    }
}
