//! Integration tests of the drill: the shipped runbook against every scenario, broken copies of
//! it, determinism, hermeticity, malformed scenarios, secrets in outputs, timeouts and mocks.
#![allow(clippy::unwrap_used)]

mod all_run;
mod broken;
mod ci_world;
mod cli;
mod dispatch;
mod exchange;
mod hermetic;
mod interrupt;
mod jail;
mod mocks;
mod outputs;
mod overlays;
mod pgworld;
mod pictures;
mod props;
mod redis;
mod rotate;
mod scenarios;
mod shell;
mod shipped;
mod sweep;
mod tls;

use std::path::{Path, PathBuf};

/// The workspace root (where the real hub, drills and SECURITY_ISSUES.md live).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn mock_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cdb-mock"))
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A temp copy of the real hub: `Claire_de_Binare_Docs/`, `drills/`, `SECURITY_ISSUES.md`.
pub fn fixture() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let ws = workspace();
    copy_dir(
        &ws.join("Claire_de_Binare_Docs"),
        &d.path().join("Claire_de_Binare_Docs"),
    );
    copy_dir(&ws.join("drills"), &d.path().join("drills"));
    if ws.join("SECURITY_ISSUES.md").exists() {
        std::fs::copy(
            ws.join("SECURITY_ISSUES.md"),
            d.path().join("SECURITY_ISSUES.md"),
        )
        .unwrap();
    }
    d
}

pub const RUNBOOK: &str = "Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md";

/// Every process whose command line contains `marker` (but the drill itself), as `pid: cmdline`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            if c.contains(marker) && !c.contains("cdb-mock drill") {
                found.push(format!("{}: {c}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// Runs `target` (a scenario or `--all`) from `root` with `--journal j --report r`.
pub fn drill_with_outputs(target: &str, root: &Path, j: &Path, r: &Path) -> (u8, String, String) {
    drill(&[
        target,
        "--root",
        root.to_str().unwrap(),
        "--journal",
        j.to_str().unwrap(),
        "--report",
        r.to_str().unwrap(),
    ])
}

/// Inserts `body` as a pre-check step of the database class of the fixture's runbook, before
/// its second pre-check step.
pub fn add_step(root: &Path, id: &str, body: &str) {
    let p = root.join(RUNBOOK);
    let text = std::fs::read_to_string(&p).unwrap();
    let at = text
        .find("```bash {#database-pre-check-current-credential")
        .unwrap();
    let step =
        format!("```bash {{#{id} .step class=database phase=pre-check time=10s}}\n{body}\n```\n\n");
    std::fs::write(&p, format!("{}{step}{}", &text[..at], &text[at..])).unwrap();
}

/// Removes every executable step of `class` and `phase` from a markdown file of the fixture.
pub fn remove_steps(root: &Path, rel: &str, class: &str, phase: &str) -> usize {
    let p = root.join(rel);
    let text = std::fs::read_to_string(&p).unwrap();
    let mut out = String::new();
    let mut skipping = false;
    let mut removed = 0;
    for line in text.lines() {
        if !skipping
            && line.starts_with("```")
            && line.contains(".step")
            && line.contains(&format!("class={class} "))
            && line.contains(&format!("phase={phase} "))
        {
            skipping = true;
            removed += 1;
            continue;
        }
        if skipping {
            if line.starts_with("```") {
                skipping = false;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(&p, out).unwrap();
    removed
}

/// Runs the drill command line in-process: (exit code, stdout, stderr).
pub fn drill(args: &[&str]) -> (u8, String, String) {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let opts = cdb_drill::cli::parse_args(&args).unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = cdb_drill::cli::run(&opts, &mock_exe(), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// Whether `text` holds a run of at least 24 hex digits (every world value is one).
pub fn has_long_hex(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run += 1;
            if run >= 24 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Runs a tiny generated hub: `matrix` holds one class `class`, whose runbook section has one
/// pre-check step per body (each `time`), and a routine scenario `t`; returns (exit, journal).
pub fn run_tiny(
    matrix: &str,
    class: &str,
    time: &str,
    bodies: &[&str],
    extra: &[&str],
) -> (u8, serde_json::Value) {
    let d = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml",
        matrix,
    );
    let mut md = format!("# Runbook\n\n## {class}\n\n");
    for (i, b) in bodies.iter().enumerate() {
        // In the paste format (docs/step-format.md), as every shipped step: the drill runs
        // steps without `-e`, and the frame sets it.
        let id = format!("{class}-pre-check-s{i}");
        md.push_str(&format!(
            "```bash {{#{id} .step class={class} phase=pre-check time={time}}}\n( set -euo pipefail\n{b}\n); case $? in 0) echo \"PASS {id}\" ;; *) echo \"FAIL {id}: exit $?\"; false ;; esac\n```\n\n"
        ));
    }
    write(RUNBOOK, &md);
    write(
        "drills/t.yaml",
        &format!(
            "title: t\nclass: {class}\ntrigger: routine\nbriefing: b\nexpect: {{outcome: recovered}}\n"
        ),
    );
    let mut args = vec![
        "t",
        "--root",
        d.path().to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = drill(&args);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}")),
    )
}
