//! Baseline parsing, rendering and lookup.

use cdb_secrets::{Baseline, BaselineEntry, BaselineError, Scanner, detectors};

#[test]
fn round_trip() {
    let entries = vec![
        BaselineEntry {
            rule: "private-ip".into(),
            path: "docs/lab notes.md".into(),
            fingerprint: "0123456789abcdef".into(),
        },
        BaselineEntry {
            rule: "personal-email".into(),
            path: "a/b.yml".into(),
            fingerprint: "fedcba9876543210".into(),
        },
    ];
    let text = Baseline::render(&entries);
    let parsed = Baseline::parse(&text);
    let Ok(parsed) = parsed else {
        panic!("rendered baseline must parse: {parsed:?}");
    };
    assert_eq!(parsed.len(), 2);
    assert!(parsed.contains("private-ip", "docs/lab notes.md", "0123456789abcdef"));
    assert!(!parsed.contains("private-ip", "docs/other.md", "0123456789abcdef"));
    assert_eq!(
        Baseline::render(parsed.entries()),
        text,
        "rendering is canonical"
    );
}

#[test]
fn errors_carry_the_line() {
    let cases = [
        (
            "# header\n\nprivate-ip 0123456789abcdef\n",
            BaselineError::MissingField { line: 3 },
        ),
        (
            "Private-IP 0123456789abcdef a.md\n",
            BaselineError::BadRule { line: 1 },
        ),
        (
            "\nprivate-ip 0123 a.md\n",
            BaselineError::BadFingerprint { line: 2 },
        ),
        (
            "private-ip 0123456789ABCDEF a.md\n",
            BaselineError::BadFingerprint { line: 1 },
        ),
        (
            "#\n#\n#\nprivate-ip 0123456789abcdef /etc/x\n",
            BaselineError::BadPath { line: 4 },
        ),
    ];
    for (text, want) in cases {
        let got = Baseline::parse(text);
        assert_eq!(got.as_ref().err(), Some(&want), "{text:?}");
        if let Err(e) = got {
            assert!(e.to_string().contains(&format!("line {}", want.line())));
        }
    }
}

#[test]
fn hits_match_their_baseline_entry_wherever_the_line_moves() {
    let ip = detectors()
        .iter()
        .find(|d| d.id == "private-ip")
        .map(|d| d.examples().positives[0].clone());
    let ip = ip.unwrap_or_default();
    let scanner = Scanner::new();
    let a = scanner.scan(&format!("{ip}\n"));
    let b = scanner.scan(&format!("\n\n\nmoved:\n  {ip}\n"));
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
    let entry = BaselineEntry {
        rule: a[0].rule.into(),
        path: "x.md".into(),
        fingerprint: a[0].fingerprint.clone(),
    };
    let base = Baseline::parse(&Baseline::render([&entry])).unwrap_or_default();
    assert!(base.contains(b[0].rule, "x.md", &b[0].fingerprint));
    assert!(!Baseline::render([&entry]).contains(&ip));
}
