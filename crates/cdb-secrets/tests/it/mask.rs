//! The one redaction point: `mask`, `mask_known`, `escape_controls` and `for_human`, with fakes
//! built at run time.

use std::borrow::Cow;

use cdb_secrets::{MASK, Scanner, detectors, escape_controls, for_human, mask, mask_known};
use proptest::prelude::*;

/// A fake that the generic rule flags: letters and digits, long and random enough.
fn fake(salt: u32) -> String {
    let mut s = String::from("Fk");
    let mut x = salt.wrapping_mul(2_654_435_761) | 1;
    let abc = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for _ in 0..18 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s.push(char::from(abc[(x as usize) % abc.len()]));
    }
    s.push('7');
    s
}

fn b64(bytes: &[u8], url: bool) -> String {
    let abc: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(char::from(abc[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn mask_borrows_clean_text() {
    let text = "password: ${DB_PASSWORD}\nAll is well.\n";
    assert!(matches!(mask(text), Cow::Borrowed(_)));
    assert!(matches!(escape_controls(text), Cow::Borrowed(_)));
    assert!(matches!(for_human(text), Cow::Borrowed(_)));
    assert!(matches!(mask_known(text, &[]), Cow::Borrowed(_)));
}

#[test]
fn mask_hides_every_detector_positive() {
    for d in detectors() {
        for (i, p) in d.examples().positives.iter().enumerate() {
            let masked = mask(p);
            assert!(masked.contains(MASK), "{} positive #{i} not masked", d.id);
            for h in Scanner::new().scan_raw(p) {
                let value = &p[h.start..h.end];
                assert!(
                    !masked.contains(value),
                    "{} positive #{i} still holds the value",
                    d.id
                );
            }
            assert!(
                Scanner::new().scan_raw(&masked).is_empty(),
                "{} positive #{i} still flagged after masking",
                d.id
            );
            // Masking is idempotent.
            assert_eq!(mask(&masked), masked);
        }
    }
}

#[test]
fn mask_keeps_the_surrounding_text() {
    let pw = fake(1);
    let text = format!("before\nREDIS_PASSWORD={pw}\nafter\n");
    assert_eq!(
        mask(&text),
        format!("before\nREDIS_PASSWORD={MASK}\nafter\n")
    );
}

#[test]
fn mask_known_hides_value_and_encoded_forms() {
    let pw = fake(2);
    let reversed: String = pw.chars().rev().collect();
    let hex: String = pw.bytes().map(|b| format!("{b:02x}")).collect();
    let with_newline = format!("{pw}\n");
    let forms = [
        pw.clone(),
        reversed,
        hex.clone(),
        hex.to_ascii_uppercase(),
        b64(pw.as_bytes(), false),
        b64(pw.as_bytes(), false).trim_end_matches('=').to_string(),
        b64(pw.as_bytes(), true),
        b64(pw.as_bytes(), true).trim_end_matches('=').to_string(),
        // `echo "$PW" | base64` encodes the trailing newline too.
        b64(with_newline.as_bytes(), false),
        // The value in two halves, on two lines.
        format!("{}\n{}", &pw[..10], &pw[10..]),
    ];
    for form in forms {
        let text = format!("step printed: {form} done");
        let out = mask_known(&text, &[&pw]);
        assert!(out.contains(MASK), "{form:?} not masked");
        for piece in form.split('\n') {
            assert!(!out.contains(piece), "{piece:?} survived in {out:?}");
        }
        assert!(out.starts_with("step printed: ") && out.ends_with(" done"));
    }
}

#[test]
fn mask_known_ignores_short_values_and_keeps_other_text() {
    let text = "redis1 is up; the value abcde is short";
    assert!(matches!(
        mask_known(text, &["", "abcde", "zzzzzz"]),
        Cow::Borrowed(_)
    ));
    let out = mask_known("user=redis1 ok", &["redis1"]);
    assert_eq!(out, format!("user={MASK} ok"));
}

#[test]
fn mask_known_also_masks_what_the_scanner_flags() {
    let other = fake(3);
    let text = format!("API_TOKEN={other}\n");
    let out = mask_known(&text, &["unrelated-value"]);
    assert!(!out.contains(&other));
}

#[test]
fn escape_controls_escapes_cursor_moves_and_bidi() {
    let esc = char::from(0x1b);
    let text = format!("a{esc}[2K\rverify: 0 errors\u{202e}x\u{2066}\u{85}\u{7f}\tok\n");
    let out = escape_controls(&text);
    assert_eq!(
        out,
        "a\\u{1b}[2K\\u{d}verify: 0 errors\\u{202e}x\\u{2066}\\u{85}\\u{7f}\tok\n"
    );
    assert!(
        !out.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    );
}

#[test]
fn for_human_masks_and_escapes() {
    let pw = fake(4);
    let text = format!("password: {pw}\r\u{1b}[1A");
    let out = for_human(&text);
    assert!(!out.contains(&pw));
    assert!(out.contains(MASK));
    assert!(out.contains("\\u{d}\\u{1b}[1A"));
}

proptest! {
    #[test]
    fn escape_controls_leaves_no_control_char(s in any::<String>()) {
        let out = escape_controls(&s);
        let bad = |c: char| {
            let u = u32::from(c);
            (c.is_control() && c != '\n' && c != '\t')
                || (0x202a..=0x202e).contains(&u)
                || (0x2066..=0x2069).contains(&u)
        };
        prop_assert!(!out.chars().any(bad), "a control char survived");
        if !s.chars().any(bad) {
            prop_assert_eq!(out.as_ref(), s.as_str());
        }
    }

    #[test]
    fn mask_known_hides_any_planted_value(
        pre in "[ -~]{0,40}",
        post in "[ -~]{0,40}",
        pw in "[A-Za-z0-9]{8,24}",
    ) {
        let text = format!("{pre}{pw}{post}");
        let out = mask_known(&text, &[&pw]);
        prop_assert!(!out.contains(&pw));
    }
}
