//! Library-level tests of the rules: selection, fingerprints, and that no hub makes a rule panic.

#![allow(clippy::unwrap_used)]

use cdb_docs::hub::LoadOptions;
use cdb_docs::{Hub, Layout};
use cdb_verify::{Config, Selection, check, registry};
use proptest::prelude::*;
use std::collections::HashSet;

#[test]
fn rule_ids_are_unique_kebab_case_with_summaries() {
    let mut seen = HashSet::new();
    for r in registry() {
        assert!(seen.insert(r.meta.id), "duplicate {}", r.meta.id);
        assert!(
            r.meta
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{}",
            r.meta.id
        );
        assert!(!r.meta.summary.is_empty());
        assert!(
            [
                "io",
                "links",
                "structure",
                "matrix",
                "freshness",
                "steps",
                "secrets",
                "stack"
            ]
            .contains(&r.meta.group)
        );
    }
}

#[test]
fn selection_by_id_and_group() {
    let s = Selection::new(&["links".into()], &["link-escapes-root".into()]).unwrap();
    let picked: Vec<_> = registry()
        .iter()
        .filter(|r| s.includes(r.meta))
        .map(|r| r.meta.id)
        .collect();
    // The `io` rules run whatever is selected: an unread file was checked by nothing.
    assert_eq!(
        picked,
        [
            "file-unreadable",
            "file-special",
            "link-missing-file",
            "link-missing-anchor"
        ]
    );
    let quiet = Selection::new(&["links".into()], &["io".into()]).unwrap();
    assert!(
        !registry()
            .iter()
            .any(|r| r.meta.group == "io" && quiet.includes(r.meta))
    );
    assert!(Selection::new(&["nope".into()], &[]).is_err());
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 28)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn no_hub_makes_a_rule_panic(
        runbook in "(\\PC|\n|```bash \\{#a .step class=database phase=verify\\}\n|## |\\[x\\]\\(#y\\)|Owner:){0,200}",
        matrix in "(\\PC|\n|classes:|- id: |owner: |  ){0,120}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::default();
        for (path, text) in [(&layout.runbook, &runbook), (&layout.matrix, &matrix), (&layout.playbook, &runbook), (&layout.inventory, &runbook)] {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let hub = Hub::load(dir.path(), layout, LoadOptions {
            text_files: true,
            parse_markdown: true,
        }).unwrap();
        for f in check(&hub, &Config::new(today(), Selection::default())) {
            prop_assert!(f.line >= 1 && f.column >= 1);
        }
    }
}
