//! Properties: no panics, offsets on char boundaries, redaction shows at most 4 chars.

use cdb_secrets::{Scanner, redact};
use proptest::prelude::*;
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(Scanner::new)
}

/// Strings biased towards the keywords and shapes the detectors look for.
fn texty() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "password",
        ": ",
        "=",
        "\"",
        "'",
        "\n",
        " ",
        "#",
        "<!--",
        "-->",
        "cdb-allow:",
        "reason:",
        "@",
        ".",
        "+4",
        "(55",
        "10.",
        "192.168.",
        "sk-",
        "ghp_",
        "eyJ",
        "-----BEGIN ",
        "PRIVATE KEY-----",
        "postgres://",
        ":",
        "mx0v",
        "AKIA",
        "ä",
        "€",
        "\u{1F600}",
        "Ab3",
        "9z",
        "_",
        "-",
        "/",
        "\\n",
    ]);
    prop::collection::vec(
        prop_oneof![
            atoms.prop_map(String::from),
            "[a-zA-Z0-9]{1,12}",
            any::<char>().prop_map(String::from)
        ],
        0..80,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scanning_never_panics_and_offsets_are_sound(text in prop_oneof![texty(), any::<String>()]) {
        for hits in [scanner().scan(&text), scanner().scan_raw(&text)] {
            for h in hits {
                prop_assert!(h.start < h.end && h.end <= text.len());
                prop_assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
                prop_assert!(h.line >= 1 && h.column >= 1);
                let line = text[..h.start].matches('\n').count() + 1;
                prop_assert_eq!(h.line, line);
            }
        }
    }

    #[test]
    fn redact_shows_no_part_and_no_length_of_the_value(value in any::<String>()) {
        prop_assert_eq!(redact(&value), cdb_secrets::MASK);
    }

    #[test]
    fn fingerprints_hold_no_part_of_the_value(pw in "[A-Za-z][A-Za-z0-9]{11,30}[0-9]") {
        let text = format!("REDIS_PASSWORD={pw}\n");
        for h in scanner().scan_raw(&text) {
            prop_assert_eq!(h.fingerprint.len(), cdb_secrets::FINGERPRINT_HEX);
            prop_assert!(!h.fingerprint.contains(&pw[..4].to_ascii_lowercase()));
        }
    }
}
