//! JSON lines: one object per finding.

use super::Report;

pub fn render(r: &Report<'_>) -> String {
    let mut out = String::new();
    for f in r.findings {
        // Serialising a plain struct of strings and numbers cannot fail.
        out.push_str(&serde_json::to_string(f).unwrap_or_default());
        out.push('\n');
    }
    out
}
