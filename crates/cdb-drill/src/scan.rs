//! The second transcript check: the workspace's secret scanner (`cdb-secrets`) over each step's
//! raw output, for values the world does not know (a pattern that looks like a real key).

/// The rule ids of every secret-looking value in `text`.
pub fn scan(text: &str) -> Vec<String> {
    let mut rules: Vec<String> = cdb_secrets::Scanner::new()
        .scan_raw(text)
        .iter()
        .map(|h| h.rule.to_owned())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}
