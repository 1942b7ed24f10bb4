//! PEM private keys: the BEGIN line plus the base64 body.

use super::fake_alnum;
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::is_placeholder;

pub(crate) const PRIVATE_KEY: Detector = Detector {
    id: "secret-pem-private-key",
    summary: "A PEM private key (RSA, EC, DSA, OpenSSH, PKCS#8 or encrypted PKCS#8) with its body.",
    kind: DetectorKind::Provider,
    keywords: &["private key-----"],
    // The body lines may be indented (YAML block scalars, markdown lists), quoted with `>`,
    // behind comment markers (`#`, `//`, `--`, `;`, ` *`), or joined by literal `\n` escapes
    // inside JSON strings; `Proc-Type:`-style headers may precede them. The pattern is anchored
    // at the start of the keyword's line, so a BEGIN line without a body costs one line, not
    // the whole block: that keeps thousands of bare BEGIN lines linear.
    pattern: r"\A[^\n]*?(?P<v>-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----(?:[ \t]*(?:\r?\n|\\n)[ \t>]*(?:(?:#|//|--|;|\*)[ \t]*)?(?:[A-Za-z0-9+/=]+|[A-Za-z-]+:[^\r\n\\]*))+(?:[ \t]*(?:\r?\n|\\n)[ \t>]*(?:(?:#|//|--|;|\*)[ \t]*)?-----END [A-Z ]*PRIVATE KEY-----)?)",
    span: Span::Block(64 * 1024),
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    // A documentation sketch (`BEGIN … KEY-----` followed by `...`) has no real body; a key
    // needs at least a few lines of base64.
    let body: String = c
        .value
        .split(['\n'])
        .flat_map(|l| l.split("\\n"))
        .map(|l| {
            let l = l.trim_matches(|ch: char| ch.is_whitespace() || ch == '>');
            let l = ["#", "//", "--", ";", "*"]
                .iter()
                .find_map(|m| l.strip_prefix(m))
                .unwrap_or(l);
            l.trim()
        })
        .filter(|l| !l.contains("-----") && !l.contains(':'))
        .collect();
    body.len() >= 64
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        && !is_placeholder(&body)
}

fn key(kind: &str, body_lines: usize, salt: u64) -> String {
    let mut out = format!("-----{} {kind}PRIVATE KEY-----\n", "BEGIN");
    for i in 0..body_lines {
        out.push_str(&fake_alnum(64, salt + i as u64));
        out.push('\n');
    }
    out.push_str(&format!("-----{} {kind}PRIVATE KEY-----\n", "END"));
    out
}

fn examples() -> Examples {
    let mut positives: Vec<String> = ["RSA ", "EC ", "DSA ", "OPENSSH ", "", "ENCRYPTED "]
        .iter()
        .zip(120u64..)
        .map(|(kind, salt)| key(kind, 4, salt * 10))
        .collect();
    // A key pasted into a YAML block scalar, indented.
    let indented: String = key("", 3, 200)
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    positives.push(format!("tls:\n  key: |\n{indented}"));
    // A key inside a JSON string with escaped newlines.
    positives.push(format!(
        "{{\"private_key\": \"{}\"}}",
        key("", 3, 210).replace('\n', "\\n")
    ));
    // Keys pasted behind comment markers: shell and YAML `# `, C-like `// `, SQL `-- `, a
    // block comment's ` * `, and a commented-out key inside a YAML block scalar.
    for (i, marker) in ["# ", "// ", "-- ", " * ", "#"].iter().enumerate() {
        let commented: String = key("RSA ", 3, 300 + 10 * i as u64)
            .lines()
            .map(|l| format!("{marker}{l}\n"))
            .collect();
        positives.push(commented);
    }
    let in_scalar: String = key("", 3, 400)
        .lines()
        .map(|l| format!("    # {l}\n"))
        .collect();
    positives.push(format!("tls:\n  note: |\n{in_scalar}"));
    Examples {
        positives,
        negatives: vec![
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----".into(),
            "Look for `-----BEGIN OPENSSH PRIVATE KEY-----` in the file.".into(),
            "# -----BEGIN PRIVATE KEY-----\n# ...\n# -----END PRIVATE KEY-----".into(),
            "-----BEGIN PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\n".into(),
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----".into(),
        ],
    }
}
