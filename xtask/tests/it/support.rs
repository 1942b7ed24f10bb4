//! Fixture helpers: copy the minimal hub into a temp dir, edit it, run the real command.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

pub const RUNBOOK: &str = "Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md";
pub const PLAYBOOK: &str =
    "Claire_de_Binare_Docs/docs/content/security/incident-response-secrets.md";
pub const INVENTORY: &str = "Claire_de_Binare_Docs/docs/content/security/secret-inventory.md";
pub const MATRIX: &str = "Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml";
pub const SECURITY: &str = "SECURITY_ISSUES.md";

/// A copy of the workspace's `tests/fixtures/hub` in a fresh temp dir.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

impl Fixture {
    pub fn hub() -> Fixture {
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/hub");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&src, dir.path());
        Fixture { dir }
    }

    /// A copy of the workspace's Docs Hub, `SECURITY_ISSUES.md` and the stack description (`stack/`).
    pub fn kit() -> Fixture {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &root.join("Claire_de_Binare_Docs"),
            &dir.path().join("Claire_de_Binare_Docs"),
        );
        copy_dir(&root.join("stack"), &dir.path().join("stack"));
        fs::copy(root.join(SECURITY), dir.path().join(SECURITY)).unwrap();
        Fixture { dir }
    }

    pub fn empty() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    /// Replaces exactly one occurrence of `from`, so a typo in a test fails loudly.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur once in {rel}"
        );
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// 1-based line of the first line containing `needle`.
    pub fn line_of(&self, rel: &str, needle: &str) -> usize {
        self.read(rel)
            .lines()
            .position(|l| l.contains(needle))
            .unwrap()
            + 1
    }

    pub fn verify(&self, extra: &[&str]) -> Run {
        let mut cmd = Command::cargo_bin("xtask").unwrap();
        cmd.arg("verify").arg("--root").arg(self.dir.path());
        if !extra.contains(&"--today") {
            cmd.arg("--today").arg("2026-11-28");
        }
        cmd.args(extra);
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Findings as (rule, path, line), from `--format json`.
    pub fn findings(&self, extra: &[&str]) -> (i32, Vec<(String, String, usize)>) {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let run = self.verify(&args);
        let findings = run
            .stdout
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["rule"].as_str().unwrap().to_owned(),
                    v["path"].as_str().unwrap().to_owned(),
                    v["line"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        (run.code, findings)
    }

    /// Findings of one rule only.
    pub fn findings_of(&self, rule: &str) -> Vec<(String, String, usize)> {
        self.findings(&["--select", rule]).1
    }
}

/// Long enough for a debug build on a busy machine, short enough that a hang is caught.
pub const WATCHDOG: std::time::Duration = std::time::Duration::from_secs(90);

/// Runs `xtask ARGS…` under the watchdog; a run it kills has code -1.
pub fn xtask<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::cargo_bin("xtask")
        .unwrap()
        .args(args)
        .timeout(WATCHDOG)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Every file under `dir` with its bytes, sorted: compared before and after a run to prove it only read.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                out.push((e.path().display().to_string(), fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

pub fn f(rule: &str, path: &str, line: usize) -> (String, String, usize) {
    (rule.to_owned(), path.to_owned(), line)
}
