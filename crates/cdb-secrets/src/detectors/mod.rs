//! The registry: every detector of the crate, one module per family, listed in one table.

mod ai;
mod aws;
mod discord;
mod email;
mod generic;
mod github;
mod gitlab;
mod google;
mod ip;
mod jwt;
mod mexc;
mod npm;
mod pem;
mod phone;
mod slack;
mod smtp;
mod stripe;
mod telegram;
mod uri;

use crate::detector::Detector;

/// The table of all detectors. Order matters only as the last tie-break between two hits of
/// the same kind on the same range, so specific rules come first.
static REGISTRY: &[Detector] = &[
    aws::ACCESS_KEY_ID,
    aws::SECRET_ACCESS_KEY,
    github::TOKEN,
    gitlab::TOKEN,
    slack::TOKEN,
    slack::WEBHOOK,
    stripe::KEY,
    google::API_KEY,
    npm::TOKEN,
    ai::ANTHROPIC_KEY,
    ai::OPENAI_KEY,
    telegram::BOT_TOKEN,
    discord::WEBHOOK,
    jwt::JWT,
    pem::PRIVATE_KEY,
    uri::PASSWORD,
    mexc::API_KEY,
    mexc::SECRET_KEY,
    smtp::APP_PASSWORD,
    generic::ASSIGNMENT,
    email::PERSONAL_EMAIL,
    phone::PHONE_NUMBER,
    ip::PRIVATE_IP,
];

/// Every detector of the crate, in registry order.
pub fn detectors() -> &'static [Detector] {
    REGISTRY
}

/// Joins pieces at run time: examples are built this way so that the source text never holds a
/// whole value that a rule would match.
pub(crate) fn cat(parts: &[&str]) -> String {
    parts.concat()
}

/// A deterministic, obviously fake, mixed-case alphanumeric string of `len` characters that
/// starts with `FAKE` (when long enough) and then looks random enough to pass entropy checks.
pub(crate) fn fake_alnum(len: usize, salt: u64) -> String {
    fake_from(
        len,
        salt,
        b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    )
}

/// Like [`fake_alnum`] but over the hexadecimal digits (lower case).
pub(crate) fn fake_hex(len: usize, salt: u64) -> String {
    fake_from(len, salt, b"0123456789abcdef")
}

fn fake_from(len: usize, salt: u64, alphabet: &[u8]) -> String {
    let prefix = if len >= 8 && alphabet.len() > 16 {
        "FAKE"
    } else {
        ""
    };
    let mut out = String::with_capacity(len);
    out.push_str(prefix);
    let mut state = salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
    while out.len() < len {
        // xorshift64*: a fixed generator, so examples are identical on every run.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let idx = usize::try_from(r >> 33).unwrap_or(0) % alphabet.len();
        out.push(char::from(alphabet[idx]));
    }
    out
}
