//! Slack API tokens and incoming-webhook URLs.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{ends_with_token, is_placeholder, starts_with_token};

pub(crate) const TOKEN: Detector = Detector {
    id: "secret-slack-token",
    summary: "A Slack token (xoxa-, xoxb-, xoxp- or xoxr-).",
    kind: DetectorKind::Provider,
    keywords: &["xoxa-", "xoxb-", "xoxp-", "xoxr-"],
    pattern: r"xox[abpr]-[0-9A-Za-z][0-9A-Za-z-]{18,}",
    span: Span::Line,
    validate: validate_token,
    examples: token_examples,
    assignment: false,
};

fn validate_token(c: &Candidate<'_>) -> bool {
    // Real tokens carry long numeric team and user ids; placeholders such as
    // `xoxb-your-bot-token` have none.
    let digits = c.value.bytes().filter(u8::is_ascii_digit).count();
    !ends_with_token(c.before, &[])
        && !starts_with_token(c.after, &['-'])
        && !is_placeholder(&c.value[5..])
        && digits >= 8
}

fn token_examples() -> Examples {
    let token = cat(&[
        "xo",
        "xb-",
        "100000000001-",
        "200000000002-",
        &fake_alnum(24, 30),
    ]);
    Examples {
        positives: vec![format!("SLACK_BOT_TOKEN={token}")],
        negatives: vec![
            "SLACK_BOT_TOKEN=xoxb-your-bot-token-goes-here".into(),
            "Bot tokens look like xoxb-… and user tokens like xoxp-….".into(),
        ],
    }
}

pub(crate) const WEBHOOK: Detector = Detector {
    id: "secret-slack-webhook",
    summary: "A Slack incoming-webhook URL (hooks.slack.com/services/T…/B…/…).",
    kind: DetectorKind::Provider,
    keywords: &["hooks.slack.com"],
    pattern: r"https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,40}",
    span: Span::Line,
    validate: validate_webhook,
    examples: webhook_examples,
    assignment: false,
};

fn validate_webhook(c: &Candidate<'_>) -> bool {
    let tail = c.value.rsplit('/').next().unwrap_or_default();
    !starts_with_token(c.after, &[]) && !is_placeholder(tail)
}

fn webhook_examples() -> Examples {
    let url = cat(&[
        "https://hooks.",
        "slack.com/services/",
        "T0FAKE000/",
        "B0FAKE000/",
        &fake_alnum(24, 31),
    ]);
    Examples {
        positives: vec![format!("SLACK_WEBHOOK_URL={url}")],
        negatives: vec![
            "webhook: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX".into(),
            "webhook: ${SLACK_WEBHOOK_URL}".into(),
        ],
    }
}
