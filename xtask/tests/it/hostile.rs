//! Hostile and mistaken input for `verify`, `review` and the drill's scenario loader: FIFOs and
//! symlinks to devices, names that are not UTF-8, fake values planted where rules quote text,
//! control characters, a zero cadence. Every command runs under a watchdog, so a regression
//! that hangs fails the test instead of stalling the suite.

use crate::support::{Fixture, MATRIX, RUNBOOK, Run, xtask};
// Only the Unix-only cases below (FIFOs, device links, non-UTF-8 names) use these; the file
// also builds for Windows, where `.ci/run` checks it.
#[cfg(target_os = "linux")]
use std::ffi::OsStr;
#[cfg(unix)]
use std::path::Path;

fn verify(fx: &Fixture, extra: &[&str]) -> Run {
    let root = fx.dir.path().to_string_lossy().into_owned();
    let mut args = vec!["verify", "--root", &root, "--today", "2026-11-28"];
    args.extend_from_slice(extra);
    xtask(args)
}

fn review(fx: &Fixture, extra: &[&str]) -> Run {
    let root = fx.dir.path().to_string_lossy().into_owned();
    let mut args = vec!["review", "--root", &root, "--today", "2026-11-28"];
    args.extend_from_slice(extra);
    xtask(args)
}

/// (rule, path, severity) of every JSON finding.
fn json_findings(run: &Run) -> Vec<(String, String, String)> {
    run.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["rule"].as_str().unwrap().to_owned(),
                v["path"].as_str().unwrap().to_owned(),
                v["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Makes a FIFO with the system's `mkfifo`; `false` when there is none (the test then skips).
#[cfg(unix)]
fn mkfifo(path: &Path) -> bool {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(unix)]
fn symlink_to_dev_zero(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
}

/// Puts a FIFO (or a symlink to /dev/zero) at `path`; `false` when no FIFO can be made.
#[cfg(unix)]
fn plant(path: &Path, fifo: bool) -> bool {
    if fifo {
        return mkfifo(path);
    }
    symlink_to_dev_zero(path);
    true
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_tree_is_a_note_and_never_opened() {
    let fx = Fixture::hub();
    if !mkfifo(&fx.path("notes/pipe.md")) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let run = verify(&fx, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        json_findings(&run).contains(&(
            "file-special".into(),
            "notes/pipe.md".into(),
            "note".into()
        )),
        "{}",
        run.stdout
    );
    let human = verify(&fx, &[]);
    assert!(
        human.stdout.contains("a FIFO, not a regular file"),
        "{}",
        human.stdout
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_or_dev_zero_as_verifyignore_is_an_error_naming_it() {
    for fifo in [true, false] {
        let fx = Fixture::hub();
        let at = fx.path(".verifyignore");
        if !plant(&at, fifo) {
            return;
        }
        let run = verify(&fx, &["--format", "json"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            json_findings(&run).contains(&(
                "file-unreadable".into(),
                ".verifyignore".into(),
                "error".into()
            )),
            "{}",
            run.stdout
        );
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_or_dev_zero_as_secrets_baseline_exits_2_naming_it() {
    for fifo in [true, false] {
        let fx = Fixture::hub();
        let at = fx.path(".secrets-baseline");
        if !plant(&at, fifo) {
            return;
        }
        let run = verify(&fx, &[]);
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(".secrets-baseline"), "{}", run.stderr);
        let why = if fifo { "FIFO" } else { "outside the root" };
        assert!(run.stderr.contains(why), "{}", run.stderr);
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_to_dev_zero_in_the_tree_is_refused() {
    let fx = Fixture::hub();
    symlink_to_dev_zero(&fx.path("notes/zero.md"));
    let run = verify(&fx, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        json_findings(&run).contains(&(
            "file-unreadable".into(),
            "notes/zero.md".into(),
            "error".into()
        )),
        "{}",
        run.stdout
    );
}

#[cfg(unix)]
#[test]
fn review_with_a_fifo_or_dev_zero_matrix_exits_2_naming_it() {
    for fifo in [true, false] {
        let fx = Fixture::hub();
        let at = fx.path(MATRIX);
        std::fs::remove_file(&at).unwrap();
        if !plant(&at, fifo) {
            return;
        }
        let run = review(&fx, &[]);
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("secret-rotation-matrix.yaml"),
            "{}",
            run.stderr
        );
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_or_dev_zero_scenario_exits_2_naming_it() {
    for (id, fifo) in [("pipe", true), ("zero", false)] {
        let fx = Fixture::hub();
        let at = fx.path(&format!("drills/{id}.yaml"));
        if !plant(&at, fifo) {
            return;
        }
        let root = fx.dir.path().to_string_lossy().into_owned();
        let run = xtask(["drill", id, "--root", &root]);
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains(&format!("drills/{id}.yaml")), "{all}");
    }
}

/// A fake AWS access key id, from the detector's own examples (built at run time).
#[cfg(target_os = "linux")]
fn fake_aws_key_id() -> String {
    let d = cdb_secrets::detectors()
        .iter()
        .find(|d| d.id == "secret-aws-access-key-id")
        .unwrap();
    let example = &d.examples().positives[0];
    let hit = cdb_secrets::Scanner::new().scan_raw(example)[0].clone();
    example[hit.start..hit.end].to_owned()
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_whose_name_is_not_utf8_is_scanned_and_shown_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fixture::hub();
    let key = fake_aws_key_id();
    let name = OsStr::from_bytes(b"leak-\xff\xfe.md");
    std::fs::create_dir_all(fx.path("notes")).unwrap();
    std::fs::write(
        fx.path("notes").join(name),
        format!("# Leak\n\naws_access_key_id = {key}\n"),
    )
    .unwrap();
    let run = verify(&fx, &["--select", "secrets", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        json_findings(&run).contains(&(
            "secret-aws-access-key-id".into(),
            "notes/leak-\u{fffd}\u{fffd}.md".into(),
            "error".into()
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(&key));
}

#[test]
fn a_zero_cadence_is_an_error_naming_file_and_line() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "cadence: 90d\n    scope: [cdb_postgres",
        "cadence: 0d\n    scope: [cdb_postgres",
    );
    let line = fx.line_of(MATRIX, "cadence: 0d");
    let run = verify(&fx, &["--select", "matrix-value", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let v: serde_json::Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(v["rule"], "matrix-value");
    assert_eq!(v["path"], MATRIX);
    assert_eq!(v["line"].as_u64(), Some(line as u64));
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("shorter than a day")
    );
    let run = review(&fx, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!("{MATRIX}:{line}:")),
        "{}",
        run.stderr
    );
}

#[test]
fn select_links_still_reports_a_file_over_the_size_limit() {
    let fx = Fixture::hub();
    let big = "a".repeat(cdb_docs::fsio::MAX_FILE_BYTES as usize + 1);
    fx.write("notes/huge.md", &big);
    let run = verify(&fx, &["--select", "links", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        json_findings(&run),
        vec![(
            "file-unreadable".into(),
            "notes/huge.md".into(),
            "error".into()
        )]
    );
}

/// Standard base64 with padding: the form a leaked value most often takes.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The value in positive example `n` of a detector (built at run time, obviously fake);
/// provider tokens are flagged wherever they stand alone.
fn fake_value(detector: &str, n: usize) -> String {
    let d = cdb_secrets::detectors()
        .iter()
        .find(|d| d.id == detector)
        .unwrap();
    let example = &d.examples().positives[n];
    let hit = cdb_secrets::Scanner::new().scan_raw(example)[0].clone();
    example[hit.start..hit.end].to_owned()
}

fn fake_token(n: usize) -> String {
    fake_value("secret-github-token", n)
}

#[test]
fn no_rule_format_or_review_error_prints_a_planted_value() {
    let fx = Fixture::hub();
    let v = fake_token(0);
    // A step id of its own: a block's id is an anchor, which would satisfy the `#v` link.
    let id = fake_value("secret-slack-token", 0);
    // Each line puts the value where one rule quotes the text: link targets, fragments,
    // step ids and classes, matrix owners, runbook references and file names.
    let planted = [
        format!("See [a]({v}.md)."),
        format!("See [b](#{v})."),
        format!("See [c](../../../../../../{v})."),
        format!("```bash {{#planted-step .step class={v} phase=rotate}}\ntrue\n```"),
        format!("```bash {{#{id} .step class=database phase=verify}}\ntrue\n```"),
    ];
    for line in &planted {
        assert!(
            !cdb_secrets::mask(line).contains(&v) && !cdb_secrets::mask(line).contains(&id),
            "the scanner must flag the value in `{line}`"
        );
    }
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        &format!("## Quarterly review\n\n{}\n", planted.join("\n\n")),
    );
    fx.edit(
        MATRIX,
        "runbook: docs/content/security/secret-rotation-runbook.md#cache",
        &format!("runbook: docs/content/security/secret-rotation-runbook.md#{v}"),
    );
    fx.write(&format!("notes/{v}.md"), "# Note\n\nSee [x](nowhere.md).\n");
    // The matrix: an owner, a cadence and a class id, each quoted by its rule.
    let (owner, cadence, class) = (
        fake_token(2),
        fake_token(3),
        fake_value("secret-gitlab-token", 0),
    );
    fx.edit(
        MATRIX,
        "\n    owner: owner-operator\n    backup_owner: session-lead",
        &format!("\n    owner: {owner}\n    backup_owner: session-lead"),
    );
    fx.edit(
        MATRIX,
        "cadence: 90d\n    scope: [cdb_redis",
        &format!("cadence: {cadence}\n    scope: [cdb_redis"),
    );
    fx.edit(MATRIX, "- id: cache", &format!("- id: {class}"));
    let mut forms = Vec::new();
    for value in [&v, &id, &owner, &cadence, &class] {
        forms.push(value.clone());
        forms.push(base64(value.as_bytes()));
        forms.push(base64(format!("{value}\n").as_bytes()));
    }
    for format in ["human", "json", "sarif", "github"] {
        let run = verify(&fx, &["--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        // The planted positions were reported, so the test exercises what it claims to.
        for rule in [
            "link-missing-file",
            "link-missing-anchor",
            "link-escapes-root",
            "step-unknown-class",
            "step-format",
            "matrix-runbook",
            "matrix-owner",
            "matrix-value",
            "runbook-class-section",
        ] {
            assert!(
                run.stdout.contains(rule),
                "{format}: no {rule} in\n{}",
                run.stdout
            );
        }
        for form in &forms {
            assert!(
                !run.stdout.contains(form.as_str()),
                "{format} printed a planted value:\n{}",
                run.stdout
            );
            assert!(
                !run.stderr.contains(form.as_str()),
                "{format} printed a planted value"
            );
        }
    }
    // `review`: an owner missing from the owners table is an error that quotes it.
    let owner = fake_token(1);
    fx.edit(
        MATRIX,
        "\n    owner: session-lead",
        &format!("\n    owner: {owner}"),
    );
    let run = review(&fx, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("owners table"), "{}", run.stderr);
    for form in [owner.clone(), base64(owner.as_bytes())] {
        assert!(
            !run.stderr.contains(&form) && !run.stdout.contains(&form),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn control_characters_cannot_forge_a_clean_summary() {
    let fx = Fixture::hub();
    // A percent-decoded link target carrying CR, LF, ESC and a fake summary line.
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        "## Quarterly review\n\nSee [x](gone%0D%0Averify:%200%20errors%1B%5B2K.md).\n",
    );
    for format in ["human", "github"] {
        let run = verify(&fx, &["--format", format]);
        assert_eq!(run.code, 1);
        assert!(
            !run.stdout.contains('\x1b') && !run.stdout.contains('\r'),
            "{format}: {:?}",
            run.stdout
        );
        assert!(
            !run.stdout
                .lines()
                .any(|l| l.starts_with("verify: 0 errors")),
            "{format}: {}",
            run.stdout
        );
    }
    // The same in `review`: a class title that tries to move the cursor.
    fx.edit(
        MATRIX,
        "title: Cache",
        "title: \"Cache\\e[2K\\rverify: 0 errors\"",
    );
    let run = review(&fx, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stdout.contains('\x1b') && !run.stdout.contains('\r'),
        "{:?}",
        run.stdout
    );
}

#[test]
fn a_hostile_step_is_reported_by_each_confinement_rule() {
    let fx = Fixture::hub();
    let lines = [
        "/usr/bin/curl -fsS http://127.0.0.1:8000/health",
        "exec 3<>/dev/tcp/127.0.0.1/80",
        "cat \"/proc/$PPID/environ\" > \"$SECRETS_PATH/env\"",
        "setsid sleep 600",
        "sleep 600 &",
        "rm -rf \"$HOME/../..\"",
    ];
    fx.edit(
        RUNBOOK,
        "## Cache\n",
        &format!(
            "```bash {{#database-verify-hostile .step class=database phase=verify}}\n{}\n```\n\n## Cache\n",
            lines.join("\n")
        ),
    );
    let line = |needle: &str| fx.line_of(RUNBOOK, needle);
    let (code, mut got) = fx.findings(&["--select", "steps"]);
    assert_eq!(code, 1);
    got.sort();
    let mut want = vec![
        crate::support::f("step-absolute-program", RUNBOOK, line("/usr/bin/curl")),
        crate::support::f("step-raw-socket", RUNBOOK, line("/dev/tcp")),
        crate::support::f("step-write-outside", RUNBOOK, line("/dev/tcp")),
        crate::support::f("step-proc", RUNBOOK, line("/proc/")),
        crate::support::f("step-background", RUNBOOK, line("setsid")),
        crate::support::f("step-background", RUNBOOK, line("sleep 600 &")),
        crate::support::f("step-write-outside", RUNBOOK, line("$HOME")),
    ];
    want.sort();
    // `step-unexercised` may also name the new step: no drill runs it; `step-verdict` names
    // its missing subshell and verdict line (tested on its own in verify.rs).
    got.retain(|f| f.0 != "step-unexercised" && f.0 != "step-verdict");
    assert_eq!(got, want);
}

#[test]
fn thousands_of_findings_on_one_line_stay_small_and_capped() {
    let fx = Fixture::hub();
    let links: String = (0..3_000).map(|i| format!("[l](gone-{i}.md) ")).collect();
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        &format!("## Quarterly review\n\n{links}\n"),
    );
    let run = verify(&fx, &["--select", "link-missing-file", "--format", "json"]);
    assert_eq!(run.code, 1);
    let found = json_findings(&run);
    // 100 listed, then one finding that says how many more there are.
    assert_eq!(found.len(), cdb_verify::MAX_PER_FILE_AND_RULE + 1);
    assert!(
        run.stdout
            .contains("2900 more `link-missing-file` findings"),
        "{}",
        run.stdout.lines().last().unwrap_or("")
    );
    let human = verify(&fx, &["--select", "link-missing-file"]);
    // Each finding shows a window of the 60 KB line, not the line itself (170 MB before).
    assert!(human.stdout.len() < 60_000, "{} bytes", human.stdout.len());
    assert!(human.stdout.lines().all(|l| l.chars().count() < 200));
}
