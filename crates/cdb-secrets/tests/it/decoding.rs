//! Values hidden by base64 or split with `\`-continued lines are found, within a depth limit,
//! and encoded or continued text without a secret stays quiet. Every value is built at run time.

use crate::b64;
use cdb_secrets::{Scanner, mask};

fn aws_key_id() -> String {
    ["AK", "IA", "FAKE2345", "6789WXYZ"].concat()
}

fn password_line() -> String {
    ["REDIS_PASS", "WORD=Fk8q", "Zt3Lm9Wx2Rv7"].concat()
}

fn rules(text: &str) -> Vec<&'static str> {
    Scanner::new()
        .scan_raw(text)
        .iter()
        .map(|h| h.rule)
        .collect()
}

#[test]
fn base64_wrapped_values_are_found_on_the_whole_run() {
    let key = aws_key_id();
    for (name, inner) in [
        ("key id", format!("aws_access_key_id = {key}")),
        ("assignment", password_line()),
    ] {
        for url in [false, true] {
            let enc = b64(inner.as_bytes(), url, !url);
            let text = format!("data:\n  blob: {enc}\n");
            let hits = Scanner::new().scan_raw(&text);
            let run_start = text.find(&enc).unwrap_or_default();
            assert!(
                hits.iter()
                    .any(|h| h.start == run_start && h.end == run_start + enc.len()),
                "{name} (url {url}) in base64 not found: {hits:?}"
            );
            assert!(!mask(&text).contains(&enc), "{name} base64 run not masked");
        }
    }
}

#[test]
fn base64_is_decoded_twice_but_not_three_times() {
    let inner = format!("aws_access_key_id = {}", aws_key_id());
    let twice = b64(b64(inner.as_bytes(), false, true).as_bytes(), false, true);
    assert!(
        !rules(&format!("x: {twice}\n")).is_empty(),
        "two layers missed"
    );
    let thrice = b64(twice.as_bytes(), false, true);
    // The third layer is past the depth limit; the outer run itself is not a secret shape.
    let found = rules(&format!("note {thrice} end\n"));
    assert!(!found.contains(&"secret-aws-access-key-id"), "{found:?}");
}

#[test]
fn base64_of_binary_or_prose_is_quiet() {
    // Binary-looking content: a digest-sized run of bytes decodes to control bytes.
    let binary: Vec<u8> = (0u8..48)
        .map(|b| b.wrapping_mul(37).wrapping_add(3))
        .collect();
    let prose = b64(b"the stack restarts cleanly after the drill", false, true);
    for text in [
        format!("integrity: sha512-{}\n", b64(&binary, false, true)),
        format!("blob: {}\n", b64(&binary, false, true)),
        format!("encoded note: {prose}\n"),
        "Claire_de_Binare_Docs/runbooks/rotation-runbook-for-redis.md\n".into(),
        "ThisIsAVeryLongIdentifierNameWithoutAnySecretInIt\n".into(),
    ] {
        assert!(rules(&text).is_empty(), "{text:?}: {:?}", rules(&text));
    }
}

#[test]
fn continued_lines_are_joined_and_reported_where_the_value_starts() {
    let hex: String = (0..64)
        .map(|i| char::from(b"0123456789abcdef"[(i * 7 + i / 3) % 16]))
        .collect();
    let cases = [
        (
            format!("export MEXC_API_SECRET={}\\\n{}\n", &hex[..30], &hex[30..]),
            "secret-mexc-secret-key",
        ),
        (
            ["REDIS_PASS", "WORD=Fk8qZt\\\n3Lm9Wx2Rv7\n"].concat(),
            "secret-generic-assignment",
        ),
        (
            ["x\r\nREDIS_PASS", "WORD=Fk8qZt\\\r\n3Lm9\\\nWx2Rv7\r\n"].concat(),
            "secret-generic-assignment",
        ),
    ];
    for (text, rule) in cases {
        let hits = Scanner::new().scan_raw(&text);
        let own: Vec<_> = hits.iter().filter(|h| h.rule == rule).collect();
        assert_eq!(own.len(), 1, "{text:?}: {hits:?}");
        let h = own[0];
        let eq = text.find('=').unwrap_or_default();
        assert_eq!(h.start, eq + 1, "{text:?}");
        assert!(
            text[h.start..h.end].contains('\\'),
            "the hit spans the break: {text:?}"
        );
        let masked = mask(&text);
        assert!(
            !masked.contains("3Lm9") && !masked.contains(&hex[40..]),
            "{masked:?}"
        );
    }
}

#[test]
fn continued_commands_without_secrets_are_quiet() {
    let text = "docker run --rm \\\n  -e REDIS_PASSWORD_FILE=/run/secrets/REDIS_PASSWORD \\\n  -e PGPASSWORD=\"$PGPASSWORD\" \\\n  redis:7.2 redis-cli PING\n";
    assert!(rules(text).is_empty(), "{:?}", rules(text));
}
