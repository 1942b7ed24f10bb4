//! Small text helpers shared by the detectors: entropy, character classes, placeholders, boundaries.

/// Shannon entropy of the value's bytes, in bits per byte.
pub(crate) fn shannon_entropy(value: &str) -> f64 {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// The entropy a literal of this length must reach to look random. Short values cannot reach
/// high entropy at all, so the bar grows with the length and stops at 3 bits per byte.
pub(crate) fn entropy_threshold(len: usize) -> f64 {
    let len = len.max(1) as f64;
    (0.75 * len.log2()).min(3.0)
}

/// Which classes of characters a value mixes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Classes {
    pub lower: bool,
    pub upper: bool,
    pub digit: bool,
    /// Punctuation other than the identifier joiners `_`, `-` and `.`.
    pub special: bool,
}

impl Classes {
    pub(crate) fn of(value: &str) -> Classes {
        let mut c = Classes::default();
        for ch in value.chars() {
            if ch.is_ascii_lowercase() {
                c.lower = true;
            } else if ch.is_ascii_uppercase() {
                c.upper = true;
            } else if ch.is_ascii_digit() {
                c.digit = true;
            } else if !matches!(ch, '_' | '-' | '.') {
                c.special = true;
            }
        }
        c
    }

    pub(crate) fn count(self) -> usize {
        usize::from(self.lower)
            + usize::from(self.upper)
            + usize::from(self.digit)
            + usize::from(self.special)
    }

    pub(crate) fn letter(self) -> bool {
        self.lower || self.upper
    }
}

/// Whether a token character (letter, digit, `_`) or any of `extra` ends the text.
pub(crate) fn ends_with_token(before: &str, extra: &[char]) -> bool {
    before
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
}

/// Whether a token character (letter, digit, `_`) or any of `extra` starts the text.
pub(crate) fn starts_with_token(after: &str, extra: &[char]) -> bool {
    after
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
}

/// The key a value is assigned to, read backwards from the text before the value: past an
/// opening quote and blanks, an `=`, `:`, `:=` or `=>`, blanks and a closing quote, the
/// identifier (`[A-Za-z0-9_.-]`, at most 64 bytes) that ends there. `None` when the value is not
/// assigned. Reading backwards keeps detectors' patterns down to the value itself, which the
/// regex engine matches much faster than an optional key in front of it.
pub(crate) fn assigned_key(before: &str) -> Option<&str> {
    let b = before
        .trim_end_matches(['"', '\'', '`'])
        .trim_end_matches([' ', '\t']);
    let b = b
        .strip_suffix(":=")
        .or_else(|| b.strip_suffix("=>"))
        .or_else(|| b.strip_suffix('='))
        .or_else(|| b.strip_suffix(':'))?;
    let b = b
        .trim_end_matches([' ', '\t'])
        .trim_end_matches(['"', '\'']);
    let bytes = b.as_bytes();
    let mut start = bytes.len();
    while start > 0
        && bytes.len() - start < 64
        && (bytes[start - 1].is_ascii_alphanumeric() || b"_.-".contains(&bytes[start - 1]))
    {
        start -= 1;
    }
    (start < bytes.len()).then(|| &b[start..])
}

/// Words that documentation uses in place of a real value.
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "example",
    "placeholder",
    "dummy",
    "redacted",
    "xxxx",
    "your-",
    "your_",
    "yourpass",
    "yourtoken",
    "replace",
    "insert",
    "notreal",
    "not-a-real",
    "not_a_real",
    "...",
    "\u{2026}",
];

/// Whole values that are documentation words, not secrets.
const PLACEHOLDER_VALUES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "secret",
    "token",
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "test",
    "testing",
    "admin",
    "root",
    "guest",
    "postgres",
    "redis",
    "foobar",
    "value",
    "string",
    "required",
    "optional",
];

/// Prefixes of secret references (a secret's address, not its value) and file paths.
const REFERENCE_PREFIXES: &[&str] = &[
    "/",
    "./",
    "../",
    "~/",
    "file:",
    "vault:",
    "env:",
    "op://",
    "secret:",
    "secrets.",
    "arn:",
    "projects/",
    "sha256:",
    "sha384:",
    "sha512:",
    "sha1:",
    "md5:",
    "sha256-",
    "sha384-",
    "sha512-",
];

/// Whether a value is a documented placeholder, a template, a variable or a reference to a
/// secret stored elsewhere, rather than a literal secret.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let v = value.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
    let Some(first) = v.chars().next() else {
        return true;
    };
    // Variables, templates, format strings, masks and angle-bracket names.
    if matches!(first, '$' | '<' | '{' | '%' | '*' | '[' | '(' | '@' | '&') {
        return true;
    }
    if v.contains("${")
        || v.contains("$(")
        || v.contains("{{")
        || v.contains("%s")
        || v.contains("%(")
    {
        return true;
    }
    // A run of one repeated character is a mask (`xxxxxxxx`, `00000000`, `********`).
    if v.chars().all(|c| c == first) {
        return true;
    }
    // One case-insensitive pass for all the words, without lower-casing a copy: this runs on
    // every candidate value, and a hostile line can hold hundreds of thousands of them.
    static WORDS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(
                    PLACEHOLDER_WORDS
                        .iter()
                        .chain(&["/run/secrets", "secrets_path"]),
                )
                // Dropped on purpose: without the automaton the same words are searched below.
                .ok()
        });
    let found = match &*WORDS {
        Some(ac) => ac.is_match(v),
        None => {
            let lower = v.to_ascii_lowercase();
            PLACEHOLDER_WORDS
                .iter()
                .chain(&["/run/secrets", "secrets_path"])
                .any(|w| lower.contains(w))
        }
    };
    found
        || PLACEHOLDER_VALUES.iter().any(|p| p.eq_ignore_ascii_case(v))
        || REFERENCE_PREFIXES.iter().any(|p| {
            v.as_bytes()
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
        })
}

/// Whether the value is all hexadecimal digits.
pub(crate) fn is_hex(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether the value has the 8-4-4-4-12 shape of a UUID.
pub(crate) fn is_uuid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8usize, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && is_hex(p))
}

/// Whether the value is colon-separated hex pairs, the classic key fingerprint form.
pub(crate) fn is_colon_hex(value: &str) -> bool {
    let mut parts = 0;
    for p in value.split(':') {
        if p.len() != 2 || !is_hex(p) {
            return false;
        }
        parts += 1;
    }
    parts >= 4
}

/// Whether the value looks like a version, a date, a time or a duration: digits with separators.
pub(crate) fn is_numberish(value: &str) -> bool {
    let v = value.strip_prefix('v').unwrap_or(value);
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let letters = v.bytes().filter(u8::is_ascii_alphabetic).count();
    // Durations and sizes such as `30s`, `15m`, `10GiB`, `2024-05-01T10:00:00Z`.
    digits > 0
        && letters <= 3
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:-+/_".contains(&b))
        && v.bytes()
            .filter(u8::is_ascii_alphabetic)
            .all(|b| b"smhdwyTZKMGiBb".contains(&b))
}

/// FNV-1a 64-bit hash. It is fixed by its specification, so fingerprints stay stable across
/// Rust versions and platforms, unlike `std`'s `DefaultHasher`.
pub(crate) fn fnv1a64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator byte that never occurs in UTF-8 keeps ("ab","c") and ("a","bc") apart.
            h ^= 0xff;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_repeats_is_zero() {
        assert!(shannon_entropy("aaaa") < 1e-9);
        assert!((shannon_entropy("ab") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders() {
        for p in [
            "${PW}",
            "$PW",
            "$(cat x)",
            "<new-password>",
            "{{ pw }}",
            "%s",
            "****",
            "changeme",
            "xxxxxxxx",
            "/run/secrets/PW",
            "vault://kv/pw",
            "",
            "\"\"",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("Fake7Pass9Word2x"));
    }

    #[test]
    fn assigned_keys() {
        assert_eq!(assigned_key("SMTP_PASSWORD="), Some("SMTP_PASSWORD"));
        assert_eq!(assigned_key("  password: \""), Some("password"));
        assert_eq!(assigned_key("{\"mexc_secret\": \""), Some("mexc_secret"));
        assert_eq!(assigned_key("x := '"), Some("x"));
        assert_eq!(assigned_key("The MEXC API secret "), None);
        assert_eq!(assigned_key("= "), None);
    }

    #[test]
    fn shapes() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_colon_hex("aa:bb:cc:dd:ee"));
        assert!(is_numberish("1.2.3"));
        assert!(is_numberish("2024-05-01T10:00:00Z"));
        assert!(is_numberish("30s"));
        assert!(!is_numberish("a1b2c3d4e5"));
    }

    #[test]
    fn fnv_known_value() {
        // The FNV-1a 64 test vector for "a".
        assert_eq!(fnv1a64(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
    }
}
