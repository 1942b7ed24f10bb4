//! `cdb-lab-tool rotate <class> --world baseline --yes` (rotate_lab.rs): the guided rotation's
//! steps run against real PostgreSQL and Redis and stand-in consumers, end to end, and take the
//! path of the drill engine over the same fault-free world.

use std::path::{Path, PathBuf};

fn ws() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// (step id, passed) of every `step` record of a rotation journal (JSON lines).
fn journal_steps(text: &str) -> Vec<(String, bool)> {
    text.lines()
        .filter(|l| l.starts_with("{\"type\":\"step\""))
        .map(|l| {
            let id = l
                .split("\"id\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap()
                .to_owned();
            (id, l.contains("\"passed\":true"))
        })
        .collect()
}

/// (step id, passed) of the drill engine (in the mock world) over scenario `world`, or over the
/// fault-free world of `class` (routine) for `baseline`.
fn engine_steps(root: &Path, class: &str, world: &str) -> Vec<(String, bool)> {
    let hub = cdb_docs::Hub::load(
        root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .unwrap();
    let yaml = format!(
        "title: baseline\nclass: {class}\ntrigger: routine\nbriefing: fault-free\nexpect:\n  outcome: recovered\n"
    );
    let sc = if world == "baseline" {
        cdb_model::scenario::parse(&yaml, "(test) baseline")
            .unwrap()
            .typed()
            .unwrap()
    } else {
        cdb_model::scenario::load(root, world)
            .unwrap()
            .typed()
            .unwrap()
    };
    let cfg = cdb_drill::Config {
        root: root.to_path_buf(),
        seed: 1,
        step_timeout: std::time::Duration::from_secs(60),
        mock_exe: PathBuf::from(env!("CARGO_BIN_EXE_cdb-lab-tool")),
    };
    let j = cdb_drill::engine::run_scenario(&cfg, &hub, &sc).unwrap();
    j.events
        .iter()
        .filter_map(|e| match e {
            cdb_drill::journal::Event::Step(s) => Some((s.id.clone(), s.status.passed())),
            _ => None,
        })
        .collect()
}

fn rotate_in_the_lab(class: &str, world: &str) {
    let _one = crate::one_real_stack_at_a_time();
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    copy_dir(
        &ws().join("Claire_de_Binare_Docs"),
        &root.join("Claire_de_Binare_Docs"),
    );
    copy_dir(&ws().join("drills"), &root.join("drills"));
    let home = d.path().join("home");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cdb-lab-tool"));
    cmd.args(["rotate", class, "--world", world, "--yes", "--root"])
        .arg(&root);
    if world.starts_with("leak-") {
        cmd.arg("--leak");
    }
    let out = cmd
        .env("CDB_ROTATE_HOME", &home)
        .env("CDB_ROTATE_STEP_TIMEOUT", "60")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    let se = String::from_utf8_lossy(&out.stderr).into_owned();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if so.starts_with("skipped:") && !ci {
        eprintln!("{so}");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{so}\n{se}");
    assert!(
        so.contains("against the lab (real PostgreSQL and Redis"),
        "{so}"
    );
    assert!(so.contains("ROTATION PASSED: recovered"), "{so}");
    let journal = std::fs::read_dir(&home)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    let steps = journal_steps(&std::fs::read_to_string(journal).unwrap());
    assert!(steps.iter().any(|s| s.0.contains("-revoke-")), "{steps:?}");
    assert_eq!(steps, engine_steps(&root, class, world));
}

#[test]
#[ignore = "slow tier: a whole rotation on real servers (README, Two commands)"]
fn rotate_database_runs_end_to_end_against_the_real_servers() {
    rotate_in_the_lab("database", "baseline");
}

#[test]
#[ignore = "slow tier: a whole rotation on real servers (README, Two commands)"]
fn rotate_cache_runs_end_to_end_against_the_real_servers() {
    rotate_in_the_lab("cache", "baseline");
}

/// The leak with a straggler: on the real servers too, the straggler check fails, the leak
/// rollback rolls forward and the rotation recovers, step for step as the mock drill.
#[test]
#[ignore = "slow tier: a whole rotation on real servers (README, Two commands)"]
fn rotate_database_leak_in_the_lab_takes_the_path_of_drill_leak_db() {
    rotate_in_the_lab("database", "leak-db");
}
