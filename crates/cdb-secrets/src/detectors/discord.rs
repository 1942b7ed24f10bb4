//! Discord webhook URLs.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{is_placeholder, starts_with_token};

pub(crate) const WEBHOOK: Detector = Detector {
    id: "secret-discord-webhook",
    summary: "A Discord webhook URL (discord.com/api/webhooks/ID/TOKEN).",
    kind: DetectorKind::Provider,
    keywords: &["discord"],
    pattern: r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let tail = c.value.rsplit('/').next().unwrap_or_default();
    !starts_with_token(c.after, &['-']) && !is_placeholder(tail)
}

fn examples() -> Examples {
    let url = cat(&[
        "https://discord",
        ".com/api/webhooks/",
        "100000000000000001/",
        &fake_alnum(68, 100),
    ]);
    Examples {
        positives: vec![format!("DISCORD_WEBHOOK={url}")],
        negatives: vec![
            "DISCORD_WEBHOOK=https://discord.com/api/webhooks/<id>/<token>".into(),
            "Alerts go to the #ops Discord channel.".into(),
        ],
    }
}
