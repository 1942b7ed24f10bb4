//! GitHub tokens: classic, fine-grained, app, OAuth and refresh tokens.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{Classes, ends_with_token, is_placeholder, starts_with_token};

pub(crate) const TOKEN: Detector = Detector {
    id: "secret-github-token",
    summary: "A GitHub token (ghp_, gho_, ghu_, ghs_, ghr_ or github_pat_).",
    kind: DetectorKind::Provider,
    keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    pattern: r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let body = c.value.split_once('_').map_or(c.value, |(_, b)| b);
    let cls = Classes::of(body);
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &[])
        && !is_placeholder(body)
        && cls.digit
        && cls.letter()
}

fn examples() -> Examples {
    let classic = cat(&["gh", "p_", &fake_alnum(36, 10)]);
    let fine = cat(&[
        "github",
        "_pat_",
        &fake_alnum(22, 11),
        "_",
        &fake_alnum(59, 12),
    ]);
    let app = cat(&["gh", "s_", &fake_alnum(36, 13)]);
    let user = cat(&["gh", "u_", &fake_alnum(36, 14)]);
    let oauth = cat(&["gh", "o_", &fake_alnum(36, 15)]);
    let refresh = cat(&["gh", "r_", &fake_alnum(36, 16)]);
    Examples {
        positives: vec![
            format!("GH_TOKEN={classic}"),
            format!("token: {fine}"),
            format!("export GITHUB_TOKEN=\"{app}\""),
            format!("{user} {oauth} {refresh}"),
        ],
        negatives: vec![
            "token: ${{ secrets.GH_TOKEN }}".into(),
            "Tokens start with ghp_ (classic) or github_pat_ (fine-grained).".into(),
            "GH_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
        ],
    }
}
