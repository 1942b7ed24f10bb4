//! Google (Gmail) app passwords, the stack's `SMTP_PASSWORD`: 16 lower-case letters, printed by
//! Google in four groups of four separated by spaces.
//!
//! Sixteen lower-case letters are also an ordinary long word, so the value counts only in
//! context: assigned to a secret-like key (`SMTP_PASSWORD=…`, `password: "…"`
//! under `smtp:`, `app_password = …`), or, in the grouped form, on a line that names SMTP, Gmail
//! or an app password. A word-like value (many vowels, little entropy) is rejected.

use super::cat;
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::detectors::generic::is_secret_key;
use crate::text::{
    assigned_key, ends_with_token, is_placeholder, shannon_entropy, starts_with_token,
};

pub(crate) const APP_PASSWORD: Detector = Detector {
    id: "secret-smtp-app-password",
    summary: "A Gmail app password (16 lower-case letters, or four groups of four) assigned to an SMTP, mail or password key, or next to such a word.",
    kind: DetectorKind::Provider,
    keywords: &[
        "pass",
        "pwd",
        "smtp",
        "mail",
        "app password",
        "app-password",
    ],
    // Only the value: the key is read backwards from the text before it (`assigned_key`), so
    // the many lines holding `pass` cost one fast DFA pass each.
    pattern: r"(?-u:\b)[a-z]{4}(?: ?[a-z]{4}){3}(?-u:\b)",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

/// Words on the line that make a grouped 4x4 value an app password even without a key.
const CONTEXT: &[&str] = &[
    "smtp",
    "gmail",
    "app password",
    "app-password",
    "app_password",
    "apppassword",
    "mail password",
];

fn validate(c: &Candidate<'_>) -> bool {
    let v = c.value;
    let grouped = v.contains(' ');
    // The grouped form is exactly four groups of four; a mix such as `abcd efghijkl mnop` is text.
    if grouped && v.split(' ').any(|g| g.len() != 4) {
        return false;
    }
    let letters: String = v.chars().filter(|ch| *ch != ' ').collect();
    if ends_with_token(c.before, &['-', '.', '/'])
        || starts_with_token(c.after, &['-'])
        || is_placeholder(&letters)
    {
        return false;
    }
    // Google draws the letters at random: about three vowels in sixteen and high entropy. An
    // English word of that length has more vowels and repeats letters.
    let vowels = letters.bytes().filter(|b| b"aeiou".contains(b)).count();
    if vowels > 6 || shannon_entropy(&letters) < 3.0 {
        return false;
    }
    if let Some(key) = assigned_key(c.before) {
        let k = key.to_ascii_lowercase();
        if k.ends_with("_file") || k.ends_with("_path") {
            return false;
        }
        // A key such as `smtp_auth_mechanism` names a setting, not a secret: only a
        // password-like key (`SMTP_PASSWORD`, `mail_pass`, `app_password`) makes the value one.
        if is_secret_key(key)
            && ["pass", "pwd", "secret", "credential"]
                .iter()
                .any(|w| k.contains(w))
        {
            return true;
        }
    }
    let line = c.before.to_ascii_lowercase();
    grouped && CONTEXT.iter().any(|w| line.contains(w))
}

/// A fake app password: sixteen distinct-looking consonant-heavy letters, built at run time.
fn fake(salt: usize) -> String {
    let abc = b"bcdfghjkmnpqrstvwxz";
    (0..16)
        .map(|i| char::from(abc[(i * 7 + salt * 5 + i * i) % abc.len()]))
        .collect()
}

fn grouped(v: &str) -> String {
    [&v[..4], &v[4..8], &v[8..12], &v[12..]].join(" ")
}

fn examples() -> Examples {
    let a = fake(1);
    let b = fake(2);
    Examples {
        positives: vec![
            cat(&["SMTP_PASSWORD=", &a]),
            cat(&["SMTP_PASSWORD=\"", &grouped(&a), "\""]),
            cat(&["export SMTP_PASSWORD='", &b, "'"]),
            cat(&[
                "smtp:\n  host: smtp.gmail.com\n  password: ",
                &grouped(&b),
                "\n",
            ]),
            cat(&["  app_password: \"", &a, "\""]),
            cat(&["mail_pass: ", &b]),
            cat(&["The Gmail app password is ", &grouped(&a), " (rotate it)."]),
            cat(&["- SMTP_PASSWORD=", &grouped(&b)]),
        ],
        negatives: vec![
            "SMTP_PASSWORD=${SMTP_PASSWORD}".into(),
            "SMTP_PASSWORD_FILE: /run/secrets/smtp_password".into(),
            "smtp_password: <sixteen letters from the Google account page>".into(),
            "password: responsibilities".into(),
            "Mail the responsibilities list to the team.".into(),
            "smtp_auth_mechanism: plaintextloginxx".into(),
            "The app password has sixteen letters in four groups.".into(),
            "SMTP_PASSWORD=xxxx xxxx xxxx xxxx".into(),
            "mail: info about that ever xxxx".into(),
        ],
    }
}
