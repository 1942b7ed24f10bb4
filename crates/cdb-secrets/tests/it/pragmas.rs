//! Inline pragmas allow one rule on one line, and only with a reason.

use cdb_secrets::{PRAGMA_MISSING_REASON, Scanner, detectors};

fn positive(id: &str) -> String {
    let d = detectors().iter().find(|d| d.id == id);
    d.map(|d| d.examples().positives[0].clone())
        .unwrap_or_default()
}

#[test]
fn markdown_pragma_allows_the_next_line() {
    let ip = positive("private-ip");
    let text = format!(
        "intro\n<!-- cdb-allow: private-ip reason: the drill's lab network -->\n{ip}\n{ip}\n"
    );
    let hits = Scanner::new().scan(&text);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].line, 4);
    assert_eq!(
        Scanner::new().scan_raw(&text).len(),
        2,
        "scan_raw ignores pragmas"
    );
}

#[test]
fn trailing_hash_pragma_allows_its_own_line() {
    let ip = positive("private-ip");
    let text = format!("{ip}  # cdb-allow: private-ip reason: lab host\n");
    assert!(Scanner::new().scan(&text).is_empty());
}

#[test]
fn pragma_for_another_rule_does_not_allow() {
    let ip = positive("private-ip");
    let text = format!("# cdb-allow: phone-number reason: wrong rule\n{ip}\n");
    let hits = Scanner::new().scan(&text);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].rule, "private-ip");
}

#[test]
fn pragma_without_reason_is_reported_and_allows_nothing() {
    let ip = positive("private-ip");
    // Built at run time so that this source file has no reasonless pragma of its own.
    let pragma = ["# cdb-", "allow: private-ip"].concat();
    let text = format!("{pragma}\n{ip}\n");
    let hits = Scanner::new().scan(&text);
    let rules: Vec<_> = hits.iter().map(|h| h.rule).collect();
    assert_eq!(rules, vec![PRAGMA_MISSING_REASON, "private-ip"]);
    assert_eq!(hits[0].line, 1);
    let empty_reason = ["<!-- cdb-", "allow: private-ip reason: -->"].concat();
    let hits = Scanner::new().scan(&format!("{empty_reason}\n{ip}\n"));
    assert_eq!(hits.len(), 2);
}

#[test]
fn several_rules_in_one_pragma() {
    let text = format!(
        "// cdb-allow: private-ip, personal-email reason: a fixture\n{} {}\n",
        positive("private-ip"),
        positive("personal-email")
    );
    assert!(Scanner::new().scan(&text).is_empty());
}
