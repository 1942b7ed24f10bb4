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

/// What `verify` prints for a bad baseline line, word for word as before the error was derived
/// with `thiserror`.
#[test]
fn error_messages_are_unchanged() {
    let cases = [
        (
            BaselineError::MissingField { line: 3 },
            "baseline line 3: expected `rule fingerprint path`",
        ),
        (
            BaselineError::BadRule { line: 1 },
            "baseline line 1: the rule id is not lower-case kebab-case",
        ),
        (
            BaselineError::BadFingerprint { line: 2 },
            "baseline line 2: the fingerprint is not 32 (or, in a v1 entry, 16) lower-case hex digits",
        ),
        (
            BaselineError::BadKey { line: 1 },
            "baseline line 1: the `key` line must hold 64 hex digits, and appear once",
        ),
        (
            BaselineError::BadPath { line: 4 },
            "baseline line 4: the path must be relative and `/`-separated, without `..`",
        ),
    ];
    for (e, said) in cases {
        assert_eq!(e.to_string(), said);
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

/// A fake assignment the generic rule flags, assembled at run time.
fn planted() -> (String, String) {
    let value = ["Fk8q", "Zt3Lm9", "Wx2Rv7"].concat();
    (format!("REDIS_PASSWORD={value}\n"), value)
}

#[test]
fn without_a_key_fingerprints_are_location_based_and_hold_nothing_of_the_value() {
    let (text, value) = planted();
    let other = text.replace(&value, &["Qm7x", "Lp2Nd8", "Ys4Tb1"].concat());
    let a = Scanner::new().scan(&text);
    let b = Scanner::new().scan(&other);
    assert_eq!((a.len(), b.len()), (1, 1));
    // The same place and key name give the same fingerprint whatever the value is.
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
    assert_eq!(a[0].fingerprint.len(), cdb_secrets::FINGERPRINT_HEX);
    // A second hit under the same name ranks second and differs.
    let twice = Scanner::new().scan(&format!("{text}{other}"));
    assert_eq!(twice.len(), 2);
    assert_ne!(twice[0].fingerprint, twice[1].fingerprint);
    assert_eq!(twice[0].fingerprint, a[0].fingerprint);
}

#[test]
fn with_a_key_fingerprints_are_keyed_hashes_of_the_value() {
    let (text, _) = planted();
    let k1 = Baseline::with_new_key().ok().and_then(|b| b.key().cloned());
    let k2 = Baseline::with_new_key().ok().and_then(|b| b.key().cloned());
    assert!(k1.is_some() && k1 != k2, "keys come from the OS RNG");
    let f1 = Scanner::new().with_key(k1.clone()).scan(&text);
    let f1_moved = Scanner::new()
        .with_key(k1.clone())
        .scan(&format!("\n\nmoved: 1\n{text}"));
    let f2 = Scanner::new().with_key(k2).scan(&text);
    let unkeyed = Scanner::new().scan(&text);
    assert_eq!(f1[0].fingerprint, f1_moved[0].fingerprint);
    assert_ne!(
        f1[0].fingerprint, f2[0].fingerprint,
        "another key, another fingerprint"
    );
    assert_ne!(f1[0].fingerprint, unkeyed[0].fingerprint);
    // A different value under the same key and name is a different finding.
    let other = Scanner::new()
        .with_key(k1)
        .scan(&text.replace("Fk8q", "Gm4w"));
    assert_ne!(f1[0].fingerprint, other[0].fingerprint);
}

#[test]
fn the_key_round_trips_through_the_file_and_is_created_once() {
    let dir = std::env::temp_dir().join(format!("cdb-secrets-baseline-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(".secrets-baseline");
    let _ = std::fs::remove_file(&path);
    let created = Baseline::create_file(&path);
    let Ok(created) = created else {
        panic!("create: {created:?}");
    };
    let again = Baseline::create_file(&path);
    assert_eq!(
        again.err().map(|e| e.kind()),
        Some(std::io::ErrorKind::AlreadyExists),
        "the key is never replaced"
    );
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let parsed = Baseline::parse(&text);
    assert_eq!(parsed.as_ref().ok().and_then(|b| b.key()), created.key());
    assert!(format!("{created:?}").contains("FingerprintKey(..)"));
    let _ = std::fs::remove_dir_all(&dir);
    // A malformed or repeated key line is an error naming its line.
    let key = "ab".repeat(32);
    assert_eq!(
        Baseline::parse("key 12\n").err(),
        Some(BaselineError::BadKey { line: 1 })
    );
    assert_eq!(
        Baseline::parse(&format!("key {key}\n\nkey {key}\n")).err(),
        Some(BaselineError::BadKey { line: 3 })
    );
}

#[test]
fn v1_entries_still_match_and_ask_for_migration() {
    let (text, value) = planted();
    // The v1 fingerprint: FNV-1a 64 of the rule, a 0xff separator and the value.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in ["secret-generic-assignment", value.as_str()]
        .iter()
        .enumerate()
    {
        if i > 0 {
            h ^= 0xff;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for b in part.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let v1 = format!("# cdb-secrets baseline v1\nsecret-generic-assignment {h:016x} a.env\n");
    let Ok(base) = Baseline::parse(&v1) else {
        panic!("a v1 file parses");
    };
    let hit = &Scanner::new().scan(&text)[0];
    let found = &text[hit.start..hit.end];
    assert!(base.contains_legacy(hit.rule, "a.env", found));
    assert!(!base.contains_legacy(hit.rule, "b.env", found));
    assert!(!base.contains(hit.rule, "a.env", &hit.fingerprint));
    assert_eq!(base.legacy_entries(), 1);
    let note = base.migration_note().unwrap_or_default();
    assert!(note.contains("v1") && note.contains("32-digit"), "{note}");
    assert!(
        Baseline::parse("")
            .ok()
            .and_then(|b| b.migration_note())
            .is_none()
    );
}
