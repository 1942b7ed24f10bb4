//! Private (RFC 1918) IPv4 addresses of real hosts.
//!
//! Loopback, `0.0.0.0`, the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24) and public addresses are not private, so they are never matched; network
//! and broadcast addresses (`.0`, `.255`) and CIDR ranges name networks, not hosts, and are
//! skipped too.

use super::cat;
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{ends_with_token, starts_with_token};

pub(crate) const PRIVATE_IP: Detector = Detector {
    id: "private-ip",
    summary: "A private IPv4 host address (10/8, 172.16/12, 192.168/16).",
    kind: DetectorKind::Identifier,
    keywords: &["10.", "172.", "192.168."],
    pattern: r"(?:10|172|192)\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    let mut octets = [0u16; 4];
    for (slot, part) in octets.iter_mut().zip(c.value.split('.')) {
        // Leading zeros make it a version or a date-like id, not an address.
        if part.len() > 1 && part.starts_with('0') {
            return false;
        }
        match part.parse::<u16>() {
            Ok(n) if n <= 255 => *slot = n,
            _ => return false,
        }
    }
    let private = octets[0] == 10
        || (octets[0] == 172 && (16..=31).contains(&octets[1]))
        || (octets[0] == 192 && octets[1] == 168);
    let next_is_number = |rest: &str| rest[1..].starts_with(|ch: char| ch.is_ascii_digit());
    let cidr_or_longer =
        (c.after.starts_with(['/', '.']) && next_is_number(c.after)) || c.after.starts_with('-');
    private
        && octets[3] != 0
        && octets[3] != 255
        && !ends_with_token(c.before, &['.', '-'])
        && !starts_with_token(c.after, &[])
        && !cidr_or_longer
}

fn examples() -> Examples {
    Examples {
        positives: vec![
            cat(&["host: 10.12", ".0.34"]),
            cat(&["ssh ops@172.20", ".1.5"]),
            cat(&["http://192.168", ".1.20:8080/"]),
        ],
        negatives: vec![
            "http://127.0.0.1:3000/d/abc and 0.0.0.0:9090".into(),
            "docs use 192.0.2.10, 198.51.100.7 and 203.0.113.9".into(),
            "subnet 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16".into(),
            "version 10.2.3.4.5 and 1.10.0.1".into(),
            "public 8.8.8.8 and 172.32.1.1".into(),
            "10. Restart the stack".into(),
        ],
    }
}
