//! The second transcript check: the workspace's secret scanner (`cdb-secrets`) over each step's
//! raw output, for values the world does not know (a pattern that looks like a real key).

use std::sync::OnceLock;

/// Built once per process: compiling the detectors costs more than scanning a step's output.
fn scanner() -> &'static cdb_secrets::Scanner {
    static S: OnceLock<cdb_secrets::Scanner> = OnceLock::new();
    S.get_or_init(cdb_secrets::Scanner::new)
}

/// The rule ids of every secret-looking value in `text`.
pub fn scan(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut rules: Vec<String> = scanner()
        .scan_raw(text)
        .iter()
        .map(|h| h.rule.to_owned())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}
