//! GitLab personal, project and group access tokens.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{Classes, ends_with_token, is_placeholder, starts_with_token};

pub(crate) const TOKEN: Detector = Detector {
    id: "secret-gitlab-token",
    summary: "A GitLab access token (glpat- followed by 20 or more token characters).",
    kind: DetectorKind::Provider,
    keywords: &["glpat-"],
    pattern: r"glpat-[A-Za-z0-9_-]{20,}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let body = &c.value[6..];
    let cls = Classes::of(body);
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &['-'])
        && !is_placeholder(body)
        && cls.digit
        && cls.letter()
}

fn examples() -> Examples {
    let token = cat(&["gl", "pat-", &fake_alnum(20, 20)]);
    Examples {
        positives: vec![
            format!("GITLAB_TOKEN={token}"),
            format!("- token: '{token}'"),
        ],
        negatives: vec![
            "GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx".into(),
            "Create a glpat- token with read_api scope.".into(),
        ],
    }
}
