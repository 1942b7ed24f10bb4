//! The generic rule: a secret-like key assigned a literal, high-entropy value.
//!
//! It covers YAML (`key: value`), env files (`KEY=value`), shell (`export KEY="value"`), JSON
//! (`"key": "value"`), TOML (`key = "value"`) and the same forms inside markdown. Prose such as
//! "the password is …" is deliberately not matched: only assignments are, to stay quiet on
//! documentation that talks about secrets.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::{
    Classes, entropy_threshold, is_colon_hex, is_hex, is_numberish, is_placeholder, is_uuid,
    shannon_entropy, starts_with_token,
};

pub(crate) const ASSIGNMENT: Detector = Detector {
    id: "secret-generic-assignment",
    summary: "A secret-like key (password, token, api_key, …) assigned a literal high-entropy value.",
    kind: DetectorKind::Generic,
    keywords: &[
        "pass",
        "pwd",
        "secret",
        "token",
        "auth",
        "credential",
        "api_key",
        "apikey",
        "api-key",
        "private_key",
        "privatekey",
        "private-key",
        "access_key",
        "accesskey",
        "access-key",
    ],
    pattern: r#"(?i)(?P<k>[a-z0-9_.-]*(?:pass|pwd|secret|token|auth|credential|api[_-]?key|private[_-]?key|access[_-]?key)[a-z0-9_.-]*)["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<v>[^\s"'`$/<\[{%*(&@][^\s"'`]*)"#,
    // The value may not start with a character that starts a variable, path, template or
    // mask, so that lines holding only such references fail the cheap DFA match test.
    span: Span::Line,
    validate,
    examples,
    // The pattern is `KEY SEP VALUE` with the key first: the scanner splits the match
    // itself instead of resolving capture groups, which matters on lines with many hits.
    assignment: true,
};

/// Key components that make a key secret-like on their own.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "pass",
    "secret",
    "token",
    "auth",
    "credential",
    "credentials",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "authtoken",
    "clientsecret",
];

/// Key components that, in last place, name something about a secret rather than the secret.
const META_WORDS: &[&str] = &[
    "file",
    "path",
    "ref",
    "name",
    "id",
    "env",
    "length",
    "len",
    "url",
    "uri",
    "type",
    "endpoint",
    "dir",
    "expiry",
    "expires",
    "ttl",
    "count",
    "hash",
    "header",
    "field",
    "var",
    "variable",
    "policy",
    "mode",
    "format",
    "method",
    "provider",
    "version",
    "prefix",
    "command",
    "cmd",
    "source",
    "store",
    "manager",
    "rotation",
    "age",
    "at",
    "min",
    "max",
    "enabled",
    "required",
    "hint",
    "user",
    "username",
    "host",
    "port",
    "scope",
    "scopes",
    "kind",
    "digest",
    "encryption",
    "algorithm",
    "algo",
    "cipher",
    "strength",
    "checksum",
    "sum",
    "fingerprint",
    "sha",
    "sha256",
    "plugin",
    "backend",
    "schema",
    "template",
    "label",
];

/// Splits a key into lower-case components at `_`, `-`, `.` and camelCase boundaries.
fn components(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in key.chars() {
        if matches!(ch, '_' | '-' | '.') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        cur.push(ch.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a key names a secret: one of its components is a secret word (or ends with one,
/// like `dbpassword`), and its last component does not say it is only metadata about one.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let comps = components(key);
    let Some(last) = comps.last() else {
        return false;
    };
    if META_WORDS.contains(&last.as_str()) {
        return false;
    }
    let pairs = comps.windows(2).any(|w| {
        matches!(
            (w[0].as_str(), w[1].as_str()),
            (
                "api" | "private" | "access" | "secret" | "signing" | "encryption",
                "key"
            )
        )
    });
    pairs
        || comps.iter().any(|c| {
            SECRET_WORDS.contains(&c.as_str())
                || ["password", "passwd", "secret", "token", "apikey"]
                    .iter()
                    .any(|w| c.ends_with(w))
        })
}

/// Whether a literal looks like a secret: long enough, letters and digits mixed, random enough,
/// and not one of the shapes that are ids or checksums rather than credentials.
pub(crate) fn is_secret_value(v: &str) -> bool {
    let len = v.chars().count();
    if len < 8 || is_placeholder(v) || is_numberish(v) || is_uuid(v) || is_colon_hex(v) {
        return false;
    }
    // A 40-digit hex string is a git commit id far more often than a secret.
    if len == 40 && is_hex(v) {
        return false;
    }
    // A value with a call, an index or a path in it is code or a reference, not a literal.
    if v.contains("://")
        || v.contains('(')
        || v.contains("::")
        || v.contains('<')
        || v.contains('>')
    {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if [
        ".txt", ".pem", ".key", ".json", ".yaml", ".yml", ".env", ".toml", ".conf",
    ]
    .iter()
    .any(|e| lower.ends_with(e))
    {
        return false;
    }
    // Words and numbers joined by separators (`scram-sha-256`, `aes-256-gcm`, `us-east-1`,
    // `redis-password-v2`) are setting names and ids; a random secret mixes letters and digits
    // inside its segments.
    let word_like = v.split(['-', '_', '.']).all(|seg| {
        let s = seg
            .strip_prefix('v')
            .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
            .map_or(seg, |_| "");
        s.bytes().all(|b| b.is_ascii_alphabetic()) || s.bytes().all(|b| b.is_ascii_digit())
    });
    if word_like {
        return false;
    }
    let cls = Classes::of(v);
    cls.digit && cls.letter() && cls.count() >= 2 && shannon_entropy(v) >= entropy_threshold(len)
}

fn validate(c: &Candidate<'_>) -> bool {
    // Values end at a separator: strip trailing punctuation that ends a statement.
    let v = c.value.trim_end_matches([',', ';', ')', '}', ']']);
    c.key.is_some_and(is_secret_key) && is_secret_value(v) && !starts_with_token(c.after, &[])
}

fn examples() -> Examples {
    let pw = fake_alnum(20, 160);
    let short = cat(&["Hunt", "er2", "xyz9"]);
    Examples {
        positives: vec![
            cat(&["password: ", &pw]),
            cat(&["REDIS_PASSWORD=", &pw]),
            cat(&["export DB_PASS=\"", &pw, "\""]),
            cat(&["{\"client_secret\": \"", &pw, "\"}"]),
            cat(&["api_key = \"", &pw, "\""]),
            cat(&["  apiKey: '", &short, "'"]),
            cat(&["GRAFANA_ADMIN_PASSWORD=", &short]),
        ],
        negatives: vec![
            "password: \"\"".into(),
            "password: null".into(),
            "token: ${{ secrets.GH_TOKEN }}".into(),
            "POSTGRES_PASSWORD_FILE: /run/secrets/POSTGRES_PASSWORD".into(),
            "Rotate the REDIS_PASSWORD before the drill.".into(),
            "REDIS_PASSWORD=$(cat \"$SECRETS_PATH/REDIS_PASSWORD\")".into(),
            "export PGPASSWORD=\"$PGPASSWORD\"".into(),
            "password: <new-password>".into(),
            "password: changeme".into(),
            "api_key: \"{{ vault_api_key }}\"".into(),
            "password = \"%s\"".into(),
            "secret: \"****\"".into(),
            "token_ttl: 3600s".into(),
            "auth_commit: 4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
            "credentials_id: 123e4567-e89b-12d3-a456-426614174000".into(),
            "let token = self.read_token(&path)?;".into(),
            "password_min_length: 24".into(),
            "secret_ref: vault://kv/cdb/redis_password".into(),
            "secrets: inherit".into(),
            "auth_version: 2.4.1".into(),
            "password_encryption = scram-sha-256".into(),
            "secret: cdb-redis-password-v2".into(),
            "auth_method: scram-sha-256".into(),
            "secretKeyRef: { name: redis-auth, key: password }".into(),
            "GF_SECURITY_ADMIN_PASSWORD__FILE: /run/secrets/grafana_admin_password".into(),
            "Authorization: Basic <base64 of user:password>".into(),
            "export NEW_PW=$(openssl rand -base64 32)".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for k in [
            "password",
            "REDIS_PASSWORD",
            "apiKey",
            "client_secret",
            "DB_PASS",
            "dbpassword",
            "auth",
            "x-api-key",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "POSTGRES_PASSWORD_FILE",
            "author",
            "token_ttl",
            "password_min_length",
            "keyId",
            "bypass",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
