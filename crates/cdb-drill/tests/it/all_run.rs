//! One run of `drill --all` over the shipped hub, shared by the tests that check what such a run
//! does: every scenario passes, no decoy tool on the caller's PATH runs and the caller's HOME
//! stays untouched, no secret value reaches any output, and every report has its gantt.
//!
//! The four checks once ran `--all` each (about 9 s apiece); they look at different things of
//! the same run, so one run serves them all. It goes through the binary, as a user runs it,
//! with decoys first on `PATH` and `HOME` pointing at an empty dir.

use std::path::PathBuf;
use std::sync::OnceLock;

/// What the shared run printed and wrote.
pub struct AllRun {
    /// The fixture the run read (a copy of the shipped hub), under Cargo's test temp dir.
    pub root: PathBuf,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// `--journal`: one JSON journal per scenario.
    pub journals: PathBuf,
    /// `--report`: one markdown report per scenario.
    pub reports: PathBuf,
    /// What the decoys recorded (empty when none ran).
    pub decoy_record: String,
    /// The entries the run left in its `HOME`.
    pub home_entries: Vec<String>,
}

/// The decoys: every tool a runbook step calls, which the drill must take from its mocks.
pub const DECOYS: &[&str] = &[
    "docker",
    "psql",
    "redis-cli",
    "curl",
    "gh",
    "openssl",
    "grafana-cli",
    "grafana",
];

/// The shared run, made on first use. Its files live in Cargo's temp dir for integration
/// tests (`CARGO_TARGET_TMPDIR`, inside `target/`), in a folder of this process's own: a static
/// is never dropped, so a `tempfile` dir would be left in the system temp dir, and two test
/// processes at once (two `cargo test`s, or a runner with a process per test) must not remove
/// each other's run. Folders of processes that have ended are removed here.
pub fn all_run() -> &'static AllRun {
    static RUN: OnceLock<AllRun> = OnceLock::new();
    RUN.get_or_init(run)
}

const PREFIX: &str = "cdb-drill-all-run-";

fn run() -> AllRun {
    use std::os::unix::fs::PermissionsExt;
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let gone = name
            .strip_prefix(PREFIX)
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if gone {
            // Another process's leftover; one that cannot be removed now is tried next time.
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let base = tmp.join(format!("{PREFIX}{}", std::process::id()));
    if base.exists() {
        std::fs::remove_dir_all(&base).unwrap();
    }
    let (root, decoys, home) = (base.join("hub"), base.join("decoys"), base.join("home"));
    let fixture = crate::fixture();
    crate::copy_dir(fixture.path(), &root);
    std::fs::create_dir_all(&decoys).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let record = decoys.join("record");
    std::fs::write(&record, "").unwrap();
    for tool in DECOYS {
        let p = decoys.join(tool);
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\n", record.display()),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        decoys.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (journals, reports) = (base.join("journals"), base.join("reports"));
    let out = std::process::Command::new(crate::mock_exe())
        .arg("drill")
        .arg("--all")
        .arg("--root")
        .arg(&root)
        .arg("--journal")
        .arg(&journals)
        .arg("--report")
        .arg(&reports)
        .env("PATH", path)
        .env("HOME", &home)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    AllRun {
        root,
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        journals,
        reports,
        decoy_record: std::fs::read_to_string(&record).unwrap(),
        home_entries: std::fs::read_dir(&home)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
    }
}
