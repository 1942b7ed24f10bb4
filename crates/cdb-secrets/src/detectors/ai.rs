//! OpenAI-style and Anthropic-style API keys.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{Classes, ends_with_token, is_placeholder, starts_with_token};

pub(crate) const ANTHROPIC_KEY: Detector = Detector {
    id: "secret-anthropic-api-key",
    summary: "An Anthropic-style API key (sk-ant-…).",
    kind: DetectorKind::Provider,
    keywords: &["sk-ant-"],
    pattern: r"sk-ant-[a-z0-9]{2,12}-[A-Za-z0-9_-]{40,}",
    span: Span::Line,
    validate: validate_anthropic,
    examples: anthropic_examples,
    assignment: false,
};

fn validate_anthropic(c: &Candidate<'_>) -> bool {
    let body = &c.value[7..];
    let cls = Classes::of(body);
    !ends_with_token(c.before, &['-'])
        && !starts_with_token(c.after, &['-'])
        && !is_placeholder(body)
        && cls.digit
        && cls.upper
        && cls.lower
}

fn anthropic_examples() -> Examples {
    let key = cat(&["sk-", "ant-", "api03-", &fake_alnum(93, 70), "AA"]);
    Examples {
        positives: vec![format!("ANTHROPIC_API_KEY={key}")],
        negatives: vec![
            "ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                .into(),
            "Keys begin with sk-ant- and are shown once.".into(),
        ],
    }
}

pub(crate) const OPENAI_KEY: Detector = Detector {
    id: "secret-openai-api-key",
    summary: "An OpenAI-style API key (sk-… or sk-proj-…), not an Anthropic one.",
    kind: DetectorKind::Provider,
    keywords: &["sk-"],
    pattern: r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
    span: Span::Line,
    validate: validate_openai,
    examples: openai_examples,
    assignment: false,
};

fn validate_openai(c: &Candidate<'_>) -> bool {
    let cls = Classes::of(&c.value[3..]);
    // `ask-`, `task-` and `risk-` are words, not keys: the prefix must start a token.
    !ends_with_token(c.before, &['-'])
        && !starts_with_token(c.after, &['-'])
        && !c.value.starts_with("sk-ant-")
        && !is_placeholder(&c.value[3..])
        && cls.digit
        && cls.upper
        && cls.lower
}

fn openai_examples() -> Examples {
    let legacy = cat(&["sk", "-", &fake_alnum(48, 80)]);
    let project = cat(&[
        "sk",
        "-proj-",
        &fake_alnum(40, 81),
        "_",
        &fake_alnum(40, 82),
    ]);
    Examples {
        positives: vec![
            format!("OPENAI_API_KEY={legacy}"),
            format!("api_key = \"{project}\""),
        ],
        negatives: vec![
            "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
            "see the disk-usage-report-for-january-2025 and task-runner-configuration".into(),
            "OPENAI_API_KEY=sk-your-key-here-0000000000".into(),
        ],
    }
}
