//! SARIF 2.1.0, as GitHub code scanning accepts it: stable rule ids from the registry and a fingerprint per result.

use super::Report;
use crate::finding::Severity;
use crate::rules::registry;
use serde_json::{Value, json};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A rule's readable `name`, derived from its kebab-case id (`secret-jwt` → `SecretJwt`): SARIF
/// wants `name` to be an identifier a person understands and different from the opaque `id`
/// (Microsoft's SARIF Multitool warns SARIF1001 when they are equal).
pub fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub fn render(r: &Report<'_>) -> String {
    let rules: Vec<Value> = registry()
        .iter()
        .map(|rule| {
            json!({
                "id": rule.meta.id,
                "name": pascal_case(rule.meta.id),
                "shortDescription": { "text": rule.meta.summary },
                "defaultConfiguration": { "level": level(rule.meta.severity) },
                "properties": { "tags": [rule.meta.group] }
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.path, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": f.line, "startColumn": f.column }
                    }
                }],
                "partialFingerprints": { "cdbFingerprint/v2": f.fingerprint }
            });
            if let Some(i) = registry().iter().position(|rule| rule.meta.id == f.rule) {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cdb-verify",
                "informationUri": "https://github.com/claire-de-binare",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    // A `Value`'s alternate Display is `to_string_pretty`'s text, and cannot fail (the
    // fallible call used to drop its error into an empty report).
    format!("{doc:#}\n")
}
