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
    fn redact_shows_at_most_four_chars(value in any::<String>()) {
        let out = redact(&value);
        let n = value.chars().count();
        let shown: String = if n >= 12 { value.chars().take(4).collect() } else { String::new() };
        prop_assert_eq!(out, format!("{shown}\u{2026}[REDACTED, {n} chars]"));
    }
}
