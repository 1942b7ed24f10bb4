//! Telegram bot tokens.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{ends_with_token, is_placeholder, starts_with_token};

pub(crate) const BOT_TOKEN: Detector = Detector {
    id: "secret-telegram-bot-token",
    summary: "A Telegram bot token (numeric bot id, a colon, then AA and 33 token characters).",
    kind: DetectorKind::Provider,
    keywords: &[":aa"],
    pattern: r"[0-9]{8,10}:AA[0-9A-Za-z_-]{33}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &['-'])
        && !is_placeholder(&c.value[c.value.len() - 33..])
}

fn examples() -> Examples {
    let token = cat(&["1000000001", ":A", "A", &fake_alnum(33, 90)]);
    Examples {
        positives: vec![format!("TELEGRAM_BOT_TOKEN={token}")],
        negatives: vec![
            "TELEGRAM_BOT_TOKEN=123456789:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
            "at 12:AA the job runs".into(),
        ],
    }
}
