//! Every detector finds its own positives, and nothing at all is found in any negative.

use cdb_secrets::{DetectorKind, Scanner, detectors};

#[test]
fn ids_are_unique_kebab_case_and_documented() {
    let mut seen = std::collections::HashSet::new();
    for d in detectors() {
        assert!(seen.insert(d.id), "duplicate id {}", d.id);
        assert!(
            d.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{}",
            d.id
        );
        let prefixed = d.id.starts_with("secret-");
        assert_eq!(prefixed, d.kind != DetectorKind::Identifier, "{}", d.id);
        assert!(!d.summary.is_empty());
        assert!(!d.keywords().is_empty());
    }
}

#[test]
fn every_detector_finds_its_positives_alone() {
    for d in detectors() {
        let only = Scanner::with_only(&[d.id]);
        let ex = d.examples();
        assert!(!ex.positives.is_empty(), "{} has no positives", d.id);
        assert!(!ex.negatives.is_empty(), "{} has no negatives", d.id);
        for (i, p) in ex.positives.iter().enumerate() {
            let hits = only.scan_raw(p);
            assert!(
                hits.iter().any(|h| h.rule == d.id),
                "{} missed positive #{i}",
                d.id
            );
        }
    }
}

#[test]
fn positives_survive_the_full_scanner_without_generic_doubles() {
    let all = Scanner::new();
    for d in detectors() {
        for (i, p) in d.examples().positives.iter().enumerate() {
            let hits = all.scan_raw(p);
            let own: Vec<_> = hits.iter().filter(|h| h.rule == d.id).collect();
            assert!(
                !own.is_empty(),
                "{} positive #{i} was stolen: {hits:?}",
                d.id
            );
            if d.kind != DetectorKind::Generic {
                for h in &hits {
                    let overlaps = own.iter().any(|o| h.start < o.end && o.start < h.end);
                    assert!(
                        !(overlaps && h.rule == "secret-generic-assignment"),
                        "{} positive #{i} doubled by the generic rule",
                        d.id
                    );
                }
            }
        }
    }
}

#[test]
fn no_detector_fires_on_any_negative() {
    let all = Scanner::new();
    for d in detectors() {
        for (i, n) in d.examples().negatives.iter().enumerate() {
            let hits = all.scan_raw(n);
            let rules: Vec<_> = hits.iter().map(|h| h.rule).collect();
            assert!(
                hits.is_empty(),
                "{} negative #{i} ({n:?}) hit {rules:?}",
                d.id
            );
        }
    }
}

#[test]
fn hits_point_at_the_value_with_line_and_column() {
    let all = Scanner::new();
    let uri = detectors()
        .iter()
        .find(|d| d.id == "secret-uri-password")
        .map(|d| d.examples());
    let Some(uri) = uri else {
        panic!("secret-uri-password is registered");
    };
    let text = format!("first line\n  ä {}\n", uri.positives[0]);
    let hits = all.scan_raw(&text);
    assert_eq!(hits.len(), 1, "{hits:?}");
    let h = &hits[0];
    assert_eq!(h.line, 2);
    let value = &text[h.start..h.end];
    assert!(
        !value.contains(':') && !value.contains('@'),
        "the value is the password only"
    );
    let line_start = text[..h.start].rfind('\n').map_or(0, |i| i + 1);
    assert_eq!(h.column, text[line_start..h.start].chars().count() + 1);
    assert_eq!(h.fingerprint.len(), cdb_secrets::FINGERPRINT_HEX);
    assert!(
        !format!("{h:?}").contains(value),
        "Debug must not show the value"
    );
}
