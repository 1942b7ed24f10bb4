//! Every class of the rotation matrix gets sweep cases on both triggers (`plan::class_gaps`),
//! and a hub that takes a class's leak steps or its faults away is caught.

use cdb_docs::Trigger;
use cdb_model::plan::{self, Gap};
use std::fs;
use std::path::Path;

const RUNBOOK: &str = "Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md";
const MATRIX: &str = "Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml";

/// Copies the repository's hub (its folder only: the plan needs nothing else) into a fresh
/// directory.
fn hub_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    copy_tree(
        &crate::repo_root().join("Claire_de_Binare_Docs"),
        &dir.path().join("Claire_de_Binare_Docs"),
    );
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        }
    }
}

fn edit(root: &Path, rel: &str, f: impl FnOnce(&str) -> String) {
    let path = root.join(rel);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let new = f(&text);
    assert_ne!(new, text, "{rel}: the fixture's edit changed nothing");
    fs::write(&path, new).unwrap_or_else(|e| panic!("{rel}: {e}"));
}

fn gaps(root: &Path) -> Vec<Gap> {
    let hub = crate::load_hub(root);
    plan::matrix_gaps(&hub)
        .unwrap_or_else(|| panic!("{}: the matrix does not parse", root.display()))
}

#[test]
fn every_matrix_class_has_leak_and_routine_sweep_cases() {
    let hub = crate::load_hub(&crate::repo_root());
    let Some(matrix) = hub.matrix() else {
        panic!("{MATRIX} is missing or does not parse");
    };
    assert!(matrix.classes.len() >= 7, "the matrix lost classes");
    let gaps = plan::matrix_gaps(&hub).unwrap_or_default();
    let shown: Vec<String> = gaps.iter().map(ToString::to_string).collect();
    assert!(gaps.is_empty(), "{}", shown.join("\n"));
    // And the counts behind it: each class has cases that run on each trigger.
    let planned = plan::plan(&plan::hub_steps(&hub), None);
    for class in &matrix.classes {
        for trigger in plan::TRIGGERS {
            let n = planned
                .iter()
                .filter(|(c, p)| {
                    c.class == class.id.value
                        && c.trigger == *trigger
                        && !matches!(p, plan::Plan::Static(_))
                })
                .count();
            assert!(
                n > 0,
                "{} {}: no case runs",
                class.id.value,
                trigger.as_str()
            );
        }
    }
}

/// A runbook whose cache rotation is marked `when=routine` has no rotate step on a leak: the
/// sweep would plan no leak case for the cache, and the check says so.
#[test]
fn a_class_without_leak_steps_is_a_gap() {
    let dir = hub_copy();
    edit(dir.path(), RUNBOOK, |text| {
        text.lines()
            .map(|l| {
                if l.starts_with("```") && l.contains("class=cache phase=rotate") {
                    l.replace("phase=rotate", "phase=rotate when=routine")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    assert_eq!(
        gaps(dir.path()),
        vec![Gap {
            class: "cache".into(),
            trigger: Trigger::Leak,
            why: "it has no rotate step on this trigger (`when=`)",
        }]
    );
}

/// A class the matrix gains with no catalogue fault (here a copy of `ci` named `vault`) gets
/// no sweep case at all: the check names it on both triggers.
#[test]
fn a_class_without_faults_is_a_gap() {
    let dir = hub_copy();
    edit(dir.path(), MATRIX, |text| {
        let start = text.find("\n  - id: ci\n").map_or(text.len(), |i| i + 1);
        let end = text[start + 1..]
            .find("\n  - id: ")
            .map_or(text.len(), |i| start + 1 + i + 1);
        let vault = text[start..end].replacen("  - id: ci\n", "  - id: vault\n", 1);
        let mut out = text.to_owned();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out + &vault
    });
    let why = "no fault of the catalogue (`cdb_model::faults::CATALOGUE`) applies to it";
    assert_eq!(
        gaps(dir.path()),
        vec![
            Gap {
                class: "vault".into(),
                trigger: Trigger::Routine,
                why,
            },
            Gap {
                class: "vault".into(),
                trigger: Trigger::Leak,
                why,
            },
        ]
    );
}

/// `class_gaps` takes the class list as given: a class it names that has neither steps nor
/// faults is reported once per trigger, with the first input missing in words, and a class
/// that is fully drilled is not.
#[test]
fn gaps_name_the_first_missing_input() {
    let hub = crate::load_hub(&crate::repo_root());
    let steps = plan::hub_steps(&hub);
    let gaps = plan::class_gaps(&["database", "vault"], &steps);
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert!(gaps.iter().all(|g| g.class == "vault"), "{gaps:?}");
    assert_eq!(
        gaps[0].to_string(),
        "class `vault` has no routine sweep case: no fault of the catalogue \
         (`cdb_model::faults::CATALOGUE`) applies to it"
    );
}
