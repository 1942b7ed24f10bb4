//! Personal e-mail addresses.
//!
//! An address is personal unless its domain is reserved for documentation or testing
//! (`example.com`, `example.org`, `example.net` and their subdomains, any `*.example`, `*.test`,
//! `*.invalid`, `*.localhost`, `localhost`), or its mailbox is a role or robot one
//! (`noreply@`, `security@`, `postmaster@`, … and `git@` on code forges), or it is a GitHub
//! no-reply address. Strings shaped like addresses whose "top-level domain" is a file extension
//! (`icon@2x.png`) are not addresses at all.

use super::cat;
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{ends_with_token, starts_with_token};

pub(crate) const PERSONAL_EMAIL: Detector = Detector {
    id: "personal-email",
    summary: "An e-mail address outside the documentation domains that is not a role mailbox.",
    kind: DetectorKind::Identifier,
    keywords: &["@"],
    pattern: r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*\.)+[A-Za-z]{2,24}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

const DOC_DOMAINS: &[&str] = &["example.com", "example.org", "example.net", "localhost"];
const DOC_SUFFIXES: &[&str] = &[
    ".example",
    ".test",
    ".invalid",
    ".localhost",
    ".local",
    ".internal",
];
const ROLE_MAILBOXES: &[&str] = &[
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "notifications",
    "notification",
    "security",
    "abuse",
    "postmaster",
    "hostmaster",
    "webmaster",
    "admin",
    "root",
    "support",
    "info",
    "help",
    "privacy",
    "ops",
    "oncall",
    "alerts",
    "alertmanager",
    "grafana",
    "bot",
    "mailer-daemon",
    "git",
    "maintainers",
    "team",
    "hello",
    "contact",
];
const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "ts", "css", "rs", "md", "html",
    "json", "yml", "yaml", "toml", "txt", "lock", "sh", "py", "go", "zip", "gz",
];

fn validate(c: &Candidate<'_>) -> bool {
    let Some((local, domain)) = c.value.split_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    let local = local.to_ascii_lowercase();
    let tld = domain.rsplit('.').next().unwrap_or_default();
    let doc = DOC_DOMAINS
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
        || DOC_SUFFIXES.iter().any(|s| domain.ends_with(s));
    let role = ROLE_MAILBOXES.contains(&local.as_str())
        || local.starts_with("noreply")
        || local.starts_with("no-reply")
        || local.ends_with("[bot]")
        || domain.contains("noreply");
    !ends_with_token(c.before, &['.', '-', '+', '%', '/'])
        && !starts_with_token(c.after, &['-', '@'])
        && !doc
        && !role
        && !FILE_EXTENSIONS.contains(&tld)
        && !local.bytes().all(|b| b.is_ascii_digit())
}

fn examples() -> Examples {
    let personal = cat(&["fake.person", "@", "mailbox-provider", ".net"]);
    let personal2 = cat(&["j.doe+ops", "@", "corp-fake", ".io"]);
    Examples {
        positives: vec![format!("Contact: {personal}"), format!("<{personal2}>")],
        negatives: vec![
            "ops@example.com and alice@example.org, bob@mail.example.net".into(),
            "carol@corp.example, dave@host.test, erin@nowhere.invalid, root@localhost".into(),
            "Report issues to security@cdb-project.org; noreply@github.com sends the mails.".into(),
            "git clone git@github.com:org/repo.git".into(),
            "41898282+github-actions[bot]@users.noreply.github.com".into(),
            "![logo](img/logo@2x.png) and npm i @types/node and serde@1.0.200".into(),
        ],
    }
}
