//! `cargo xtask drill` end to end through the real binary: listing, a passing drill, journals, usage errors.

use assert_cmd::Command;
use std::path::PathBuf;

/// The xtask binary, without the CI job's summary file (a test drill must not write to it).
fn xtask() -> Command {
    let mut c = Command::cargo_bin("xtask").unwrap();
    c.env_remove("GITHUB_STEP_SUMMARY");
    c
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn list_names_every_scenario_file() {
    let out = xtask()
        .args(["drill", "--list", "--root"])
        .arg(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let listed = String::from_utf8(out.stdout).unwrap();
    for entry in std::fs::read_dir(root().join("drills")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(id) = name.strip_suffix(".yaml") {
            assert!(
                listed.lines().any(|l| l.starts_with(&format!("{id}\t"))),
                "{id} not listed"
            );
        }
    }
}

#[test]
fn leak_db_passes_and_its_journal_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let journal = dir.path().join(name);
        let out = xtask()
            .args(["drill", "leak-db", "--seed", "7", "--root"])
            .arg(root())
            .arg("--journal")
            .arg(&journal)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert!(stdout.contains("VERDICT: PASS"), "{stdout}");
        std::fs::read(journal).unwrap()
    };
    let first = run("a.json");
    let second = run("b.json");
    assert_eq!(first, second, "same seed, same journal");
    let journal: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(journal["scenario"], "leak-db");
}

#[test]
fn unknown_scenario_and_missing_arguments_are_usage_errors() {
    let out = xtask()
        .args(["drill", "no-such-drill", "--root"])
        .arg(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("drills/no-such-drill.yaml"));
    let out = xtask().args(["drill"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
