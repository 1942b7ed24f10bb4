//! `cargo xtask rotate <class> --dry-run`: the plan of a rotation from the kit's own hub and
//! matrix, in the drill engine's phase order (`cdb_model::procedure`), and nothing written.

use crate::support::{Fixture, snapshot, xtask};

fn rotate(fx: &Fixture, args: &[&str]) -> crate::support::Run {
    let mut all = vec![
        "rotate".as_ref(),
        "--root".as_ref(),
        fx.dir.path().as_os_str(),
    ];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    xtask(all)
}

/// The step ids of `class` in `phase` that apply to `trigger`, from the fixture's hub.
fn step_ids(
    fx: &Fixture,
    class: &str,
    phase: &str,
    trigger: cdb_docs::step::Trigger,
) -> Vec<String> {
    let hub = cdb_docs::Hub::load(
        fx.dir.path(),
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .unwrap();
    hub.docs
        .iter()
        .flat_map(|d| d.steps.iter())
        .filter(|s| s.class == class && s.phase.as_str() == phase && s.when.applies_to(trigger))
        .map(|s| s.id.clone())
        .collect()
}

#[test]
fn a_leak_plan_lists_every_step_in_the_engines_order_with_approvals_and_budget() {
    let fx = Fixture::kit();
    let before = snapshot(fx.dir.path());
    let run = rotate(&fx, &["database", "--leak", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("ROTATION PLAN: database · leak"), "{out}");
    assert!(
        out.contains("approvals (emergency): incident-commander"),
        "{out}"
    );
    assert!(
        out.contains("recovery-time budget (matrix `rto`): 30m"),
        "{out}"
    );
    // The main line in the procedure's order, each phase's steps under it.
    let mut last = 0;
    for phase in ["contain", "pre-check", "rotate", "verify", "revoke"] {
        let header = format!("\n  {phase} — ");
        let at = out
            .find(&header)
            .unwrap_or_else(|| panic!("no {phase} phase:\n{out}"));
        assert!(at > last, "{phase} is out of order:\n{out}");
        last = at;
        let ids = step_ids(&fx, "database", phase, cdb_docs::step::Trigger::Leak);
        assert!(!ids.is_empty(), "{phase}");
        for id in ids {
            assert!(out.contains(&format!("] {id} (")), "{id} missing:\n{out}");
        }
    }
    // A leak rolls forward and revokes again after a failed verify.
    assert!(
        out.contains(
            "If a verify step fails: rollback → verify → revoke → communicate → post-check"
        ),
        "{out}"
    );
    // Read-only phases run without asking; steps that change something ask.
    assert!(
        out.contains("[looks ] database-verify-new-credential"),
        "{out}"
    );
    assert!(out.contains("[asks  ] database-rotate-alter-role"), "{out}");
    assert_eq!(snapshot(fx.dir.path()), before, "a dry run wrote something");
}

#[test]
fn a_routine_plan_has_no_containment_and_its_own_approvals() {
    let fx = Fixture::kit();
    let run = rotate(&fx, &["exchange", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("\n  contain — "), "{}", run.stdout);
    assert!(
        run.stdout.contains("approvals (routine): "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("MEXC console access"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("If a verify step fails: rollback → verify → communicate → post-check"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_secrets_path_or_with_an_unknown_class_it_refuses_with_exit_2() {
    let fx = Fixture::kit();
    let home = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("xtask")
        .unwrap()
        .args(["rotate", "database", "--root"])
        .arg(fx.dir.path())
        .env_remove("SECRETS_PATH")
        .env("CDB_ROTATE_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SECRETS_PATH is not set"), "{err}");
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
    let run = rotate(&fx, &["no-such-class", "--dry-run"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`no-such-class` is not a class") && run.stderr.contains("database"),
        "{}",
        run.stderr
    );
}

/// The real-stack executor end to end: `cargo xtask rotate database --yes` on the fixture hub,
/// its steps run by bash with a stand-in `curl` first on PATH (the fixture's health checks call
/// it), in the given Compose folder, with SECRETS_PATH set. The stand-in prints the password
/// file, as a careless tool might: the terminal and the journal show it redacted.
#[cfg(unix)]
#[test]
fn the_real_stack_executor_runs_the_steps_with_bash_and_redacts_what_they_print() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::hub();
    let d = tempfile::tempdir().unwrap();
    let (bin, secrets, compose, home) = (
        d.path().join("bin"),
        d.path().join("secrets"),
        d.path().join("compose"),
        d.path().join("home"),
    );
    for p in [&bin, &secrets, &compose] {
        std::fs::create_dir_all(p).unwrap();
    }
    let value = "Zq8-real-stack-pw-4c1d9e7a2b";
    std::fs::write(secrets.join("POSTGRES_PASSWORD"), value).unwrap();
    std::fs::write(compose.join("compose.blue.yml"), "services: {}\n").unwrap();
    // With FAIL_VERIFY in the Compose folder (where steps run), every call after the first
    // fails: the pre-check passes, Verify does not.
    let curl = bin.join("curl");
    std::fs::write(
        &curl,
        "#!/bin/sh\necho \"pw=$(cat \"$SECRETS_PATH/POSTGRES_PASSWORD\") cwd=$(pwd)\"\necho x >> calls\n[ ! -e FAIL_VERIFY ] || [ \"$(wc -l < calls)\" -lt 2 ]\n",
    )
    .unwrap();
    std::fs::set_permissions(&curl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let go = || {
        assert_cmd::Command::cargo_bin("xtask")
            .unwrap()
            .args(["rotate", "database", "--yes", "--root"])
            .arg(fx.dir.path())
            .arg("--compose")
            .arg(&compose)
            .env("PATH", &path)
            .env("SECRETS_PATH", &secrets)
            .env("CDB_ROTATE_HOME", &home)
            .output()
            .unwrap()
    };
    let out = go();
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{so}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        so.contains(&format!("pw=[REDACTED] cwd={}", compose.display())),
        "{so}"
    );
    assert!(so.contains("PASS database-verify-health"), "{so}");
    assert!(so.contains("ROTATION PASSED: recovered"), "{so}");
    let journals: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(journals.len(), 1);
    let j = std::fs::read_to_string(journals[0].path()).unwrap();
    assert!(!so.contains(value) && !j.contains(value));
    assert!(
        j.contains(
            "\"id\":\"database-rotate-role\",\"phase\":\"rotate\",\"decision\":\"yes-flag\""
        ),
        "{j}"
    );
    // The matrix's last_rotated was set (--yes), in place.
    assert!(fx.read(crate::support::MATRIX).contains("last_rotated: 20"));
    // The journal on demand as the incident timeline.
    let tl = assert_cmd::Command::cargo_bin("xtask")
        .unwrap()
        .args(["rotate", "database", "--timeline"])
        .env("CDB_ROTATE_HOME", &home)
        .output()
        .unwrap();
    let tl = String::from_utf8_lossy(&tl.stdout).into_owned();
    assert!(
        tl.contains("| `database-rotate-role` | PASS database-rotate-role | yes-flag |"),
        "{tl}"
    );
    assert!(!tl.contains(value));

    // Verify fails: the routine rollback runs, verify again fails, the rotation escalates (exit 1).
    std::fs::write(compose.join("FAIL_VERIFY"), "").unwrap();
    std::fs::remove_file(compose.join("calls")).unwrap();
    let out = go();
    let so = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{so}");
    assert!(so.contains("passed database-rollback-role"), "{so}");
    assert!(so.contains("ROTATION FAILED: escalated"), "{so}");
}
